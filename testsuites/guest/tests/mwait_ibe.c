/* mwait_ibe.c: MWAIT with ECX[0] = 1 (interrupts as break events, when
 * CPUID.05H:ECX[1] says so): an interrupt ends MWAIT under IF = 0 and
 * stays pending until STI.
 * engines: vanderpool bochs
 * bochsrc: cpu: model=corei7_skylake_x
 *
 * SDM Vol 2B, "MWAIT", "MWAIT for Power Management". QEMU's TCG reports
 * the extension but raises #GP for ECX = 1, so Bochs is the reference.
 * A wake-up Vanderpool missed hangs the test until the harness's timeout.
 */
#include "mwait_lib.h"

void test_main(void)
{
    if (!mwait_setup())
        return;
    if ((cpuid(5).c & 3) != 3) {
        report_skip("MWAIT ends on a masked interrupt (ECX[0])",
                    "CPUID.05H:ECX[1:0] (extensions, interrupt break-event) not 3");
        return;
    }
    ticks = 0;
    timer_oneshot(2000000);
    uint64_t n = 0;
    for (; n < SPIN_LONG && !lapic_vec(LAPIC_IRR, TIMER_VEC); n++) {
        monitor(line, 0);
        mwait(0, 1);
    }
    bool pending = lapic_vec(LAPIC_IRR, TIMER_VEC);
    report_msg("MWAIT ends on a masked interrupt (ECX[0]); not delivered",
               pending && ticks == 0, "IRR %d, %d ticks after %llu waits",
               pending, ticks, (unsigned long long)n);
    irq_enable();
    delay(1000);
    irq_disable();
    report_eq("the interrupt is taken after STI", (uint64_t)ticks, 1);
    mwait_done();
}
