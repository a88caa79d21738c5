/* tlbmiss.c: the TLB miss and the page walk. chase.h's pointer chase,
 * every load on a different one of 16384 virtual pages (a TLB miss and a
 * full 4-level walk), with the pages aliases of 64 physical frames
 * (256 KiB): the data and the page tables (128 KiB) stay in the host's
 * caches and its own TLB, so the time is the engine's, not the host
 * memory's. memchase.c is the same chase over 64 MiB of distinct pages,
 * bound by host memory latency (docs/bench.md).
 */
#include "chase.h"

#define FRAMES 64u
#define WANT 0x0018bfffbd000000ull /* the checksum every engine computes */

/* The 256 pages sharing a frame keep their pointers 16 bytes apart. */
static uint32_t slot_off(uint32_t p) { return (p / FRAMES) * 16u; }

void test_main(void)
{
    chase("tlbmiss", FRAMES, slot_off, WANT);
}
