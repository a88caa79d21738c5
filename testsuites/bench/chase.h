/* chase.h: the pointer chase of tlbmiss.c and memchase.c. 16384 virtual
 * pages of 4 KiB at virtual 1 GiB (unused by the runtime's identity map,
 * which is split here: its 2 MiB entries there are replaced by 32 page
 * tables), backed by `frames` physical frames from 128 MiB up (free: the
 * image and the page allocator stay far below), page p by frame
 * p % frames. Each page holds the address of the next one in an order
 * that reuses a page only after all 16384 have been visited, so every
 * load misses any TLB with fewer entries and costs a full 4-level page
 * walk. One iteration: 4 instructions (`mov (p),p; add; dec; jnz`),
 * 384 passes over the pages.
 */
#ifndef VP_BENCH_CHASE_H
#define VP_BENCH_CHASE_H

#include "bench.h"

#define CHASE_PAGES 16384u
#define CHASE_PASSES 384u
#define CHASE_VBASE 0x40000000ull      /* 1 GiB */
#define CHASE_PBASE (128ull << 20)

/* A full-period LCG mod 2^14 (Hull-Dobell: c odd, a-1 divisible by 4):
 * also full period mod every smaller power of two, so a direct-mapped TLB
 * of 256 entries (Vanderpool's) or 2048 (Bochs's data TLB) sees each
 * index reused only after as many loads, by a different page each time. */
static inline uint32_t chase_next(uint32_t p) { return (p * 5u + 0x2D5Bu) & (CHASE_PAGES - 1); }

/* Runs the chase; slot_off(p) is the offset of page p's pointer in it
 * (distinct among the pages sharing a frame). Ends the run. */
static inline VP_NORETURN void chase(const char *name, unsigned frames,
                                     uint32_t (*slot_off)(uint32_t),
                                     uint64_t want)
{
    uint32_t need_kib = (uint32_t)((CHASE_PBASE >> 10) + frames * 4u - 1024);
    const struct multiboot_info *mbi = multiboot();
    if (mbi && (mbi->flags & MBI_MEM) && mbi->mem_upper < need_kib)
        report_abort("memory", "needs %u KiB of RAM above 1 MiB, found %u KiB",
                     need_kib, mbi->mem_upper);

    /* The page directory for 1 GiB..2 GiB, found through the runtime's map. */
    const uint64_t present_rw = 3, addr = 0x000FFFFFFFFFF000ull;
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(vp_pml4[0] & addr);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[1] & addr);
    for (unsigned k = 0; k < CHASE_PAGES / 512; k++) {
        uint64_t *pt = alloc_page();
        for (unsigned e = 0; e < 512; e++)
            pt[e] = (CHASE_PBASE + (uint64_t)((k * 512 + e) % frames) * 4096) | present_rw;
        pd[k] = (uint64_t)(uintptr_t)pt | present_rw;
    }
    write_cr3(read_cr3());

    /* Each page holds the address of the next one (a store per page). */
    uint32_t p = 0;
    for (unsigned k = 0; k < CHASE_PAGES; k++) {
        uint32_t q = chase_next(p);
        *(volatile uint64_t *)(uintptr_t)(CHASE_VBASE + (uint64_t)p * 4096 + slot_off(p)) =
            CHASE_VBASE + (uint64_t)q * 4096 + slot_off(q);
        p = q;
    }

    uint64_t ptr = CHASE_VBASE + slot_off(0), sum = 0;
    uint64_t n = (uint64_t)CHASE_PAGES * CHASE_PASSES;
    __asm__ volatile(
        "1:\n\t"
        "mov (%[p]), %[p]\n\t"
        "add %[p], %[s]\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [p] "+r"(ptr), [s] "+r"(sum), [n] "+r"(n)
        :
        : "cc", "memory");
    bench_done(name, sum ^ ptr, want, (uint64_t)CHASE_PAGES * CHASE_PASSES);
}

#endif
