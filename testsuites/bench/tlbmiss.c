/* tlbmiss.c: a pointer chase through 16384 virtual pages of 4 KiB, each
 * load on a different page, in an order that reuses a page only after all
 * 16384 have been visited: every load misses any TLB with fewer entries
 * (Vanderpool's 256-entry direct-mapped software TLB, Bochs's 2048-entry
 * one, a real CPU's STLB) and costs a full 4-level page walk. One iteration: 4 instructions.
 *
 * What it measures is the engine's TLB miss and page walk, not the host's
 * memory: the 16384 pages are aliases of 64 physical frames (256 KiB),
 * so the data and the page tables (128 KiB) stay in the host's caches and
 * its own TLB. memchase.c is the same chase over 64 MiB of distinct
 * pages, bound by host memory latency (docs/bench.md).
 *
 * The region is virtual 1 GiB..1 GiB+64 MiB (unused by the runtime's
 * identity map, which is split here: its 2 MiB entries there are replaced
 * by 32 page tables) onto physical 128 MiB..128 MiB+256 KiB (free: the
 * image and the page allocator stay far below). Needs 129 MiB of RAM (256
 * by default).
 */
#include "bench.h"

#define PAGES 16384u              /* virtual pages */
#define FRAMES 64u                /* physical frames behind them */
#define PASSES 384u
#define VBASE 0x40000000ull      /* 1 GiB */
#define PBASE (128ull << 20)
#define WANT 0x0018bfffbd000000ull /* the checksum every engine computes */

#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* A full-period LCG mod 2^14 (Hull-Dobell: c odd, a-1 divisible by 4):
 * also full period mod every smaller power of two, so a direct-mapped TLB
 * of 256 or 2048 entries sees each index reused only after as many loads, by a
 * different page each time. */
static inline uint32_t next_page(uint32_t p) { return (p * 5u + 0x2D5Bu) & (PAGES - 1); }

/* Page p maps frame p % FRAMES; the PAGES / FRAMES = 256 pages sharing a
 * frame keep their pointers 16 bytes apart, at (p / FRAMES) * 16. */
static inline uint64_t slot(uint32_t p) { return VBASE + (uint64_t)p * 4096 + (p / FRAMES) * 16u; }

void test_main(void)
{
    const struct multiboot_info *mbi = multiboot();
    if (mbi && (mbi->flags & MBI_MEM) && mbi->mem_upper < (128u << 10))
        report_abort("memory", "needs 129 MiB of RAM, found %u KiB above 1 MiB", mbi->mem_upper);

    /* The page directory for 1 GiB..2 GiB, found through the runtime's map. */
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(vp_pml4[0] & PTE_ADDR);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[1] & PTE_ADDR);
    for (unsigned k = 0; k < PAGES / 512; k++) {
        uint64_t *pt = alloc_page();
        for (unsigned e = 0; e < 512; e++)
            pt[e] = (PBASE + (uint64_t)((k * 512 + e) % FRAMES) * 4096) | PTE_P | PTE_RW;
        pd[k] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_RW;
    }
    write_cr3(read_cr3());

    /* Each page holds the address of the next one (a store per page). */
    uint32_t p = 0;
    for (unsigned k = 0; k < PAGES; k++) {
        uint32_t q = next_page(p);
        *(volatile uint64_t *)(uintptr_t)slot(p) = slot(q);
        p = q;
    }

    uint64_t ptr = slot(0), sum = 0, n = (uint64_t)PAGES * PASSES;
    __asm__ volatile(
        "1:\n\t"
        "mov (%[p]), %[p]\n\t"
        "add %[p], %[s]\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [p] "+r"(ptr), [s] "+r"(sum), [n] "+r"(n)
        :
        : "cc", "memory");
    bench_done("tlbmiss", sum ^ ptr, WANT, (uint64_t)PAGES * PASSES);
}
