/* memchase_native.c: the pointer chase of memchase.c run natively on the
 * host (not a guest): 16384 pages of 4 KiB, the same page order and
 * offsets, 384 passes. It prints the nanoseconds per load, the floor that
 * host memory (faulting in 64 MiB, then TLB misses and cache misses on
 * it) sets for any engine whose guest RAM is host memory in 4 KiB pages,
 * and that memchase's ratios are read against (docs/bench.md). With an
 * argument "thp" the region is advised for transparent huge pages.
 *
 *   make bench (builds build/bench/memchase_native and runs it)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGES 16384u
#define PASSES 384u

static inline uint32_t next_page(uint32_t p) { return (p * 5u + 0x2D5Bu) & (PAGES - 1); }
static inline uint64_t slot(uint32_t p) { return (uint64_t)p * 4096 + ((p * 328u) & 0xFF8u); }

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int thp = argc > 1 && strcmp(argv[1], "thp") == 0;
    size_t size = (size_t)PAGES * 4096, align = 2u << 20;
    uint8_t *raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uint8_t *m = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (thp)
        madvise(m, size, MADV_HUGEPAGE);
    /* Timed from the first touch, as the engines' workload time includes
     * the faults that bring in the guest's 64 MiB. */
    double t0 = cpu_seconds();
    uint32_t p = 0;
    for (unsigned k = 0; k < PAGES; k++) {
        uint32_t q = next_page(p);
        *(uint64_t *)(m + slot(p)) = (uint64_t)(uintptr_t)(m + slot(q));
        p = q;
    }
    uint64_t ptr = (uint64_t)(uintptr_t)(m + slot(0)), sum = 0;
    uint64_t n = (uint64_t)PAGES * PASSES;
    for (uint64_t i = 0; i < n; i++) {
        ptr = *(volatile uint64_t *)(uintptr_t)ptr;
        sum += ptr;
    }
    double t = cpu_seconds() - t0;
    printf("memchase native (%s pages): %.3f s CPU for %llu loads, %.1f ns per load "
           "(check %llx)\n", thp ? "huge" : "4 KiB", t, (unsigned long long)n,
           t / (double)n * 1e9, (unsigned long long)(sum - (uint64_t)(uintptr_t)m * n));
    return 0;
}
