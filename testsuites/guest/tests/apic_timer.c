/* apic_timer.c: the local APIC timer in one-shot, periodic and TSC-deadline
 * modes: counting, the interrupt through the LVT timer entry, reload,
 * stop, masking, and the TSC-deadline MSR (only where CPUID.01H:ECX[24]
 * advertises it; QEMU's TCG does not).
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "APIC Timer" and "TSC-Deadline Mode".
 */
#include "apic_lib.h"

#define TIMER_VEC 0x40

static volatile int ticks;
static volatile uint64_t tick_tsc;

static void timer_handler(struct intr_frame *f)
{
    (void)f;
    tick_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

/* Takes whatever is pending now, with interrupts briefly enabled. */
static void settle(void)
{
    irq_enable();
    delay(1000);
    irq_disable();
}

static void oneshot(void)
{
    ticks = 0;
    lapic_write(LAPIC_TDCR, 0xB); /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, TIMER_VEC);
    const uint32_t init = 3000000;
    lapic_write(LAPIC_TMICT, init);
    uint32_t c1 = lapic_read(LAPIC_TMCCT);
    uint32_t c2 = lapic_read(LAPIC_TMCCT);
    report_eq("oneshot initial count reads back", lapic_read(LAPIC_TMICT), init);
    report_msg("oneshot counts down", c1 <= init && c2 < c1 && c2 > 0,
               "init %u, then %u, %u", init, c1, c2);
    report("oneshot not before zero", ticks == 0);
    irq_enable();
    bool got = wait_for(&ticks, SPIN_LONG);
    irq_disable();
    report("oneshot fires", got);
    report_eq("oneshot current count is 0 after expiry", lapic_read(LAPIC_TMCCT), 0);
    irq_enable();
    delay(200000);
    irq_disable();
    report_eq("oneshot fires once", (uint64_t)ticks, 1);
    report_eq("oneshot current count stays 0", lapic_read(LAPIC_TMCCT), 0);
}

static void periodic(void)
{
    ticks = 0;
    const uint32_t init = 300000;
    lapic_write(LAPIC_TDCR, 0xB);
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
    lapic_write(LAPIC_TMICT, init);
    irq_enable();
    bool got = wait_count(&ticks, 5, SPIN_LONG);
    irq_disable();
    report_msg("periodic fires repeatedly", got, "%d interrupts", ticks);
    uint32_t cur = lapic_read(LAPIC_TMCCT);
    report_msg("periodic reloads the count", cur > 0 && cur <= init, "current %u", cur);
    /* A write of 0 to the initial count stops it. */
    lapic_write(LAPIC_TMICT, 0);
    report_eq("periodic stopped: current count 0", lapic_read(LAPIC_TMCCT), 0);
    settle();
    int n = ticks;
    irq_enable();
    delay(400000);
    irq_disable();
    report_eq("periodic stopped: no more interrupts", (uint64_t)(ticks - n), 0);
}

static void masked(void)
{
    ticks = 0;
    lapic_write(LAPIC_TDCR, 0xB);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | TIMER_VEC);
    lapic_write(LAPIC_TMICT, 100000);
    irq_enable();
    delay(400000);
    irq_disable();
    report_eq("masked timer raises nothing", (uint64_t)ticks, 0);
    uint32_t a = lapic_read(LAPIC_TMCCT);
    delay(1000);
    uint32_t b = lapic_read(LAPIC_TMCCT);
    report_msg("masked timer keeps counting", a != b && a > 0 && b > 0, "%u then %u", a, b);
    /* Unmasked: interrupts resume. */
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
    irq_enable();
    bool got = wait_count(&ticks, 2, SPIN_LONG);
    irq_disable();
    report("unmasked timer fires", got);
    lapic_write(LAPIC_TMICT, 0);
    settle();
}

static void divide(void)
{
    /* Divide configuration: bits 3 and 1:0; bit 2 is reserved. */
    lapic_write(LAPIC_TDCR, 0xA);
    report_eq("divide configuration reads back", lapic_read(LAPIC_TDCR) & 0xB, 0xA);
    /* Divide by 128 counts slower than divide by 1 over the same code
     * (smallest of three windows at /128, largest of three at /1, so a
     * host hiccup under an emulator cannot flip the result). */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    uint32_t d128 = 0xFFFFFFFFu, d1 = 0;
    for (int i = 0; i < 3; i++) {
        lapic_write(LAPIC_TDCR, 0xA);
        lapic_write(LAPIC_TMICT, 0xFFFFFFFFu);
        uint32_t s = lapic_read(LAPIC_TMCCT);
        delay(20000);
        uint32_t d = s - lapic_read(LAPIC_TMCCT);
        if (d < d128)
            d128 = d;
        lapic_write(LAPIC_TDCR, 0xB);
        lapic_write(LAPIC_TMICT, 0xFFFFFFFFu);
        s = lapic_read(LAPIC_TMCCT);
        delay(20000);
        d = s - lapic_read(LAPIC_TMCCT);
        if (d > d1)
            d1 = d;
    }
    report_msg("divide by 128 is slower than by 1", d1 > d128 * 8,
               "decrements %u (/1) vs %u (/128)", d1, d128);
    lapic_write(LAPIC_TMICT, 0);
}

static void tsc_deadline(void)
{
    if (!(cpuid(1).c & BIT(24))) {
        report_skip("tsc-deadline", "CPUID.01H:ECX.TSC_Deadline is 0");
        return;
    }
    ticks = 0;
    lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
    report_eq("tsc-deadline mode reads back", lapic_read(LAPIC_LVT_TIMER),
              LVT_TSC_DEADLINE | TIMER_VEC);
    /* "writes to the initial-count register are ignored; and
     * current-count register always reads 0". */
    lapic_write(LAPIC_TMICT, 1000);
    report_eq("tsc-deadline: current count reads 0", lapic_read(LAPIC_TMCCT), 0);
    uint64_t deadline = rdtsc() + 2000000;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    report_eq("tsc-deadline MSR reads back", rdmsr(MSR_TSC_DEADLINE), deadline);
    irq_enable();
    bool got = wait_for(&ticks, SPIN_LONG);
    irq_disable();
    report("tsc-deadline fires", got);
    report_msg("tsc-deadline not before the deadline", tick_tsc >= deadline,
               "interrupt at TSC %llu, deadline %llu", (unsigned long long)tick_tsc,
               (unsigned long long)deadline);
    report_eq("tsc-deadline MSR cleared after firing", rdmsr(MSR_TSC_DEADLINE), 0);
    /* A deadline in the past fires at once. */
    ticks = 0;
    wrmsr(MSR_TSC_DEADLINE, 1);
    irq_enable();
    got = wait_for(&ticks, 100000);
    irq_disable();
    report("tsc-deadline in the past fires", got);
    /* Writing 0 disarms. */
    ticks = 0;
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
    wrmsr(MSR_TSC_DEADLINE, 0);
    irq_enable();
    delay(400000);
    irq_disable();
    report_eq("tsc-deadline write of 0 disarms", (uint64_t)ticks, 0);
    /* Leaving TSC-deadline mode disarms too. */
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
    lapic_write(LAPIC_LVT_TIMER, TIMER_VEC);
    irq_enable();
    delay(400000);
    irq_disable();
    report_eq("mode change disarms the deadline", (uint64_t)ticks, 0);
}

void test_main(void)
{
    apic_setup();
    set_intr_handler(TIMER_VEC, timer_handler);
    oneshot();
    periodic();
    masked();
    divide();
    tsc_deadline();
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TMICT, 0);
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}
