/* apic_uart_level.c: the COM1 16550 interrupt (ISA IRQ4) through I/O APIC
 * pin 4, level-triggered: remote IRR set while the local APIC has the
 * vector in service, TMR set for a level interrupt, and an EOI while the
 * UART still asserts its line delivering the interrupt again (82093AA
 * datasheet, "Remote IRR"; SDM Vol 3A, "Signaling Interrupt Servicing
 * Completion").
 * engines: vanderpool qemu
 *
 * Not Bochs (2.7): its I/O APIC keeps no remote IRR (receive_eoi does
 * nothing), so a level-triggered pin is not re-sampled at EOI.
 */
#include "apic_uart.h"

static void level(void)
{
    uart_arm(RTE_LEVEL, 2); /* the first handler leaves the UART asserting */
    irq_enable();
    bool got = wait_count(&count, 2, SPIN_LONG);
    delay(20000);
    irq_disable();
    int n = count;
    bool rirr = remote_irr_seen, tmr = tmr_seen;
    bool rirr_after = ioapic_read(0x10 + 8) & RTE_REMOTE_IRR;
    uint8_t iir = iir_seen;
    uart_quiet();
    report("level: delivered again after EOI while asserted", got);
    report_eq("level: exactly two interrupts", (uint64_t)n, 2);
    report("level: remote IRR set while in service", rirr);
    report("level: TMR set", tmr);
    report("level: remote IRR clear after the last EOI", !rirr_after);
    report_eq("level: IIR names THR empty", iir & 0x0F, 0x02);
}

void test_main(void)
{
    apic_setup();
    set_intr_handler(UART_VEC, uart_handler);
    level();
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}
