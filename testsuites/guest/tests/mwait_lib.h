/* mwait_lib.h: helpers shared by the mwait*.c guest tests (not a test). */
#ifndef MWAIT_LIB_H
#define MWAIT_LIB_H

#include "apic_lib.h"

#define TIMER_VEC 0x41

static volatile int ticks;
/* Its own 64-byte line: the monitored one. */
static volatile uint64_t line[8] __attribute__((aligned(64)));

static void timer_handler(struct intr_frame *f)
{
    (void)f;
    ticks++;
    lapic_eoi();
}

static inline void monitor(const volatile void *p, uint64_t ecx)
{
    __asm__ volatile("monitor" ::"a"(p), "c"(ecx), "d"(0) : "memory");
}

static inline void mwait(uint32_t hint, uint64_t ecx)
{
    __asm__ volatile("mwait" ::"a"(hint), "c"(ecx) : "memory");
}

static inline void timer_oneshot(uint32_t count)
{
    lapic_write(LAPIC_TDCR, 0xB); /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, TIMER_VEC);
    lapic_write(LAPIC_TMICT, count);
}

/* CPUID.01H:ECX.MONITOR, or the test is skipped. Sets up the local APIC
 * and the timer handler. */
static inline bool mwait_setup(void)
{
    if (!(cpuid(1).c & BIT(3))) {
        report_skip("monitor/mwait", "CPUID.01H:ECX.MONITOR is 0");
        return false;
    }
    apic_setup();
    set_intr_handler(TIMER_VEC, timer_handler);
    return true;
}

static inline void mwait_done(void)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TMICT, 0);
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}

#endif
