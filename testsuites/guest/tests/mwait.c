/* mwait.c: MONITOR/MWAIT. CPUID leaf 05H; MWAIT ended by an interrupt
 * (IF = 1, delivered after MWAIT) and by a store to the monitored line
 * made between MONITOR and MWAIT; MWAIT without MONITOR does not wait;
 * #GP(0) for reserved ECX bits of both. mwait_ibe.c has interrupts as
 * break events under IF = 0.
 * engines: vanderpool qemu
 * qemu-args: -cpu max -smp 2
 *
 * SDM Vol 2B, "MONITOR", "MWAIT"; Vol 3A, "MONITOR/MWAIT Instruction".
 * MWAIT may end early for any reason: QEMU's TCG ends it at once when it
 * has more than one CPU, Vanderpool waits for the event (its unit tests
 * check that it does), so here a wake-up Vanderpool missed hangs the test
 * until the harness's timeout, and every wait is also bounded by a count.
 * Bochs does not end MWAIT for a store by the waiting CPU itself.
 */
#include "mwait_lib.h"

/* The idle loop of an OS: MONITOR, re-check, MWAIT; an interrupt ends it. */
static void wake_by_interrupt(void)
{
    ticks = 0;
    timer_oneshot(2000000);
    irq_enable();
    uint64_t n = 0;
    for (; n < SPIN_LONG && !ticks; n++) {
        monitor(line, 0);
        if (!ticks)
            mwait(0, 0);
    }
    irq_disable();
    report_msg("MWAIT ends on an interrupt, taken after it", ticks == 1,
               "%d ticks after %llu waits", ticks, (unsigned long long)n);
}

/* A store to the line after MONITOR: MWAIT does not wait (IF = 0, no
 * interrupt to end it otherwise). */
static void store_before_mwait(void)
{
    monitor(line, 0);
    line[3]++;
    mwait(0, 0);
    report("a store between MONITOR and MWAIT ends MWAIT at once", true);
}

/* MWAIT after a wait ended, without a new MONITOR: nothing is armed. */
static void no_monitor(void)
{
    mwait(0, 0);
    report("MWAIT with nothing armed does not wait", true);
}

static void do_monitor_ecx(void *arg)
{
    (void)arg;
    monitor(line, 1);
}

static void do_mwait_ecx(void *arg)
{
    (void)arg;
    mwait(0, 2);
}

static void reserved_ecx(void)
{
    int v = run_catching(do_monitor_ecx, NULL);
    report_msg("MONITOR with ECX = 1: #GP(0)",
               v == GP_VECTOR && last_exception.error_code == 0,
               "vector %d error %#llx", v,
               (unsigned long long)last_exception.error_code);
    v = run_catching(do_mwait_ecx, NULL);
    report_msg("MWAIT with ECX[1] set: #GP(0)",
               v == GP_VECTOR && last_exception.error_code == 0,
               "vector %d error %#llx", v,
               (unsigned long long)last_exception.error_code);
}

void test_main(void)
{
    if (!mwait_setup())
        return;
    struct cpuid_regs l5 = cpuid(5);
    report_msg("CPUID.05H: smallest line no larger than the largest",
               (l5.a & 0xFFFF) <= (l5.b & 0xFFFF), "EAX %#x EBX %#x", l5.a, l5.b);
    wake_by_interrupt();
    store_before_mwait();
    no_monitor();
    reserved_ecx();
    mwait_done();
}
