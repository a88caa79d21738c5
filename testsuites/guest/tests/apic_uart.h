/* apic_uart.h: the COM1 16550 interrupt set-up shared by apic_uart.c
 * (edge-triggered) and apic_uart_level.c (level-triggered) (not a test).
 *
 * The UART's IRQ output is enabled by MCR.OUT2 on PCs; the THR-empty
 * interrupt is raised while IER.ETBEI is set and the THR is empty, and is
 * cleared by reading IIR when it is the interrupt source.
 */
#ifndef APIC_UART_H
#define APIC_UART_H

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

/* Routes ISA IRQ4 through I/O APIC pin 4 to UART_VEC with the trigger
 * mode in `rte` and enables the THR-empty interrupt; the handler clears
 * the source at interrupt number `clear`. */
static void uart_arm(uint32_t rte, int clear)
{
    count = 0;
    clear_on = clear;
    iir_seen = 0xFF;
    uart_idle();
    ioapic_route(4, rte | UART_VEC, (uint8_t)lapic_id());
    outb(COM1 + UART_MCR, 0x0B); /* DTR, RTS, OUT2 */
    outb(COM1 + UART_IER, 0x02); /* THR empty interrupt */
}

static void uart_quiet(void)
{
    outb(COM1 + UART_IER, 0);
    (void)inb(COM1 + UART_IIR);
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off as the runtime has it */
    ioapic_mask(4);
}

#endif
