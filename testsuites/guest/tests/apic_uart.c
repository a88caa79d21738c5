/* apic_uart.c: the COM1 16550 interrupt (ISA IRQ4) through I/O APIC pin 4,
 * edge-triggered, with the THR-empty source identified in IIR. The
 * level-triggered variant (remote IRR, redelivery after EOI) is
 * apic_uart_level.c.
 * engines: vanderpool qemu bochs
 */
#include "apic_uart.h"

static void edge(void)
{
    uart_arm(0, 1);
    irq_enable();
    bool got = wait_for(&count, SPIN_LONG);
    delay(20000);
    irq_disable();
    int n = count;
    uint8_t iir = iir_seen;
    bool tmr = tmr_seen;
    uart_quiet();
    report("uart irq4 through pin 4", got);
    report_eq("one interrupt", (uint64_t)n, 1);
    report_eq("IIR names THR empty", iir & 0x0F, 0x02);
    report("edge-triggered: TMR clear", !tmr);
}

void test_main(void)
{
    apic_setup();
    set_intr_handler(UART_VEC, uart_handler);
    edge();
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}
