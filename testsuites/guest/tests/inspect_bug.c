/* inspect_bug.c: the guest debugged in docs/inspect.md, "Walk-through:
 * finding a bug with gdb and the monitor", and the target of the gdbstub
 * and monitor tests. A ring of eight slots takes ten values; the magic
 * word stored after the slots must survive, and does not: ring_push wraps
 * one slot too late (the off-by-one the walk-through finds with a
 * watchpoint). The check "magic word intact" fails on purpose, on every
 * engine; the harness expects exactly that failure.
 * engines: vanderpool qemu bochs
 * expect-fail: magic word intact
 */
#include "vp.h"

#define RING_SLOTS 8
#define RING_MAGIC 0x600df00du

struct ring {
    uint32_t slot[RING_SLOTS];
    uint32_t magic;     /* guards the end of slot[] */
    uint32_t head;      /* the next slot to write */
    uint32_t pushes;
};

struct ring ring = {.magic = RING_MAGIC};

/* Stores v in the next slot, wrapping at the end of the ring. The bug:
 * the wrap test should be `>=`. */
__attribute__((noinline)) void ring_push(uint32_t v)
{
    uint32_t *slots = ring.slot;
    if (ring.head > RING_SLOTS)
        ring.head = 0;
    slots[ring.head++] = v;
    ring.pushes++;
}

void test_main(void)
{
    for (uint32_t i = 0; i < 10; i++)
        ring_push(0x1000 + i);
    report_eq("ten values pushed", ring.pushes, 10);
    report_msg("magic word intact", ring.magic == RING_MAGIC,
               "magic is %#x, want %#x", ring.magic, RING_MAGIC);
}
