/* Run statistics of one vCPU: plain counters the hot paths bump with a
 * single increment, kept in vp_cpu so that a snapshot carries them. The
 * frontend sums them over the CPUs and prints them (frontend/stats.c). */
#ifndef VP_BASE_STATS_H
#define VP_BASE_STATS_H

#include "emu/base/compiler.h"

/* Kinds of TLB access, in the order of the TLB's arrays (cpu.h TLB_*). */
enum { VP_STAT_TLB_READ, VP_STAT_TLB_WRITE, VP_STAT_TLB_EXEC,
       VP_STAT_TLB_KINDS };

typedef struct vp_cpu_stats {
    /* Decoded-block cache (exec.c): a hit runs a cached block, a miss
     * decodes one. A chained hit reaches the block through its
     * predecessor's link, without the cache lookup or the fetch TLB
     * lookup (the link's TLB epoch vouches for the translation). */
    uint64_t dcache_hits, dcache_misses, dcache_chained;
    /* Software TLB (tlb.c, and the fetch in exec.c), per access kind: a
     * hit is served from an entry; a miss walks the page tables (or the
     * access could not use the TLB: page-crossing, MMIO, code pages for
     * writes); a fill is a miss that entered a translation. */
    uint64_t tlb_hits[VP_STAT_TLB_KINDS];
    uint64_t tlb_misses[VP_STAT_TLB_KINDS];
    uint64_t tlb_fills[VP_STAT_TLB_KINDS];
    /* Events delivered, by vector: exceptions raised by instructions
     * (faults, traps, INT3, INTO, INT1), external interrupts and NMIs, and
     * software interrupts (INT n). */
    uint64_t exceptions[32];
    uint64_t interrupts[256];
    uint64_t soft_interrupts[256];
} vp_cpu_stats;

static inline void vp_stats_add_n(uint64_t *d, const uint64_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] += s[i];
}

static inline void vp_stats_add(vp_cpu_stats *dst, const vp_cpu_stats *src)
{
    dst->dcache_hits += src->dcache_hits;
    dst->dcache_misses += src->dcache_misses;
    dst->dcache_chained += src->dcache_chained;
    vp_stats_add_n(dst->tlb_hits, src->tlb_hits, VP_STAT_TLB_KINDS);
    vp_stats_add_n(dst->tlb_misses, src->tlb_misses, VP_STAT_TLB_KINDS);
    vp_stats_add_n(dst->tlb_fills, src->tlb_fills, VP_STAT_TLB_KINDS);
    vp_stats_add_n(dst->exceptions, src->exceptions, 32);
    vp_stats_add_n(dst->interrupts, src->interrupts, 256);
    vp_stats_add_n(dst->soft_interrupts, src->soft_interrupts, 256);
}

#endif
