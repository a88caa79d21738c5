/* apic_uart.c: the COM1 16550 interrupt (ISA IRQ4) through I/O APIC pin 4,
 * edge-triggered, with the THR-empty source identified in IIR. The
 * level-triggered variant (remote IRR, redelivery after EOI) is
 * apic_uart_level.c.
 * engines: vanderpool qemu bochs
 *
 * The UART's IRQ output is enabled by MCR.OUT2 on PCs; the THR-empty
 * interrupt is raised while IER.ETBEI is set and the THR is empty, and is
 * cleared by reading IIR when it is the interrupt source.
 */
#include "apic_lib.h"

#define COM1 0x3F8
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define UART_VEC 0x64

static volatile int count;
static volatile uint8_t iir_seen;
static volatile bool remote_irr_seen, tmr_seen;
static volatile int clear_on; /* interrupt number that clears the source */

static void uart_handler(struct intr_frame *f)
{
    (void)f;
    count++;
    remote_irr_seen = ioapic_read(0x10 + 8) & RTE_REMOTE_IRR;
    tmr_seen = lapic_vec(LAPIC_TMR, UART_VEC);
    if (count >= clear_on) {
        iir_seen = inb(COM1 + UART_IIR);
        outb(COM1 + UART_IER, 0);
    }
    lapic_eoi();
}

/* Waits for the THR to drain so THRE is set before interrupts are armed. */
static void uart_idle(void)
{
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x40); i++)
        pause();
}

static void uart_quiet(void)
{
    outb(COM1 + UART_IER, 0);
    (void)inb(COM1 + UART_IIR);
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off as the runtime has it */
    ioapic_mask(4);
}

static void edge(void)
{
    count = 0;
    clear_on = 1;
    iir_seen = 0xFF;
    uart_idle();
    ioapic_route(4, UART_VEC, (uint8_t)lapic_id());
    outb(COM1 + UART_MCR, 0x0B); /* DTR, RTS, OUT2 */
    outb(COM1 + UART_IER, 0x02); /* THR empty interrupt */
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
