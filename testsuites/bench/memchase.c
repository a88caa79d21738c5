/* memchase.c: chase.h's pointer chase over 64 MiB of distinct pages
 * (physical 128..192 MiB): every load misses the TLB and costs a full
 * 4-level page walk, and also misses the host's caches and its own TLB.
 *
 * A reference, not one of the benchmarks the 4x goal is held to: its
 * time is mostly the host's memory latency, which host/memchase_native.c
 * measures with the same pages, order and offsets (docs/bench.md). It was
 * the tlbmiss benchmark until the fourth session.
 */
#include "chase.h"

#define WANT 0x0018bfffbe800000ull /* the checksum every engine computes */

/* Offsets spread over the page, 8-byte aligned. */
static uint32_t slot_off(uint32_t p) { return (p * 328u) & 0xFF8u; }

void test_main(void)
{
    chase("memchase", CHASE_PAGES, slot_off, WANT);
}
