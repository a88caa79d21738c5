/* bench.h: what every benchmark guest shares (testsuites/bench/common.c).
 *
 * A benchmark is a guest like the tests in testsuites/guest/tests: it links
 * with the same runtime, boots the same way on Vanderpool, QEMU and Bochs,
 * and defines test_main(). test_main does a fixed amount of work, then
 * calls bench_done() with a checksum of what it computed and WANT, the
 * checksum QEMU, Bochs and Vanderpool agree on (change the work, and the
 * FAIL line on a reference engine shows the new value). See docs/bench.md.
 */
#ifndef VP_BENCH_H
#define VP_BENCH_H

#include "vp.h"

/* Prints "BENCH <name> checksum=<16 hex digits> units=<n>" and a PASS or
 * FAIL line for the checksum, then ends the run. With "bench-halt" on the
 * Multiboot command line the run ends with CLI;HLT (the summary printed
 * first) instead of isa-debug-exit: that is how the runner makes
 * Vanderpool print its instruction count when it has no --stats-json. */
VP_NORETURN void bench_done(const char *name, uint64_t checksum, uint64_t want,
                            uint64_t units);

/* A small, fast, deterministic generator (xorshift64). */
static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Keeps the compiler from folding a value away. */
#define BENCH_KEEP(v) __asm__ volatile("" : "+r"(v))

#endif
