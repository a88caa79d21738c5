/* dev_uart.c: the 16550A at COM2 (0x2F8): divisor latch, scratch, IER
 * and LCR read-back, FIFO identification bits, loopback data and modem
 * lines, receive FIFO order and overrun, and the THR-empty interrupt on
 * IRQ3 through the 8259A (vector 0x23). COM1 carries the report lines and
 * is left alone.
 * engines: vanderpool qemu bochs
 * qemu-args: -serial null
 * bochsrc: com2: enabled=1, mode=null
 *
 * PC16550D datasheet: "Line Control Register" (DLAB), "Interrupt Enable
 * Register", "Interrupt Identification Register" (Table IV), "FIFO
 * Control Register", "Modem Control Register" (loopback: RTS->CTS,
 * DTR->DSR, OUT1->RI, OUT2->DCD), "Line Status Register" (DR, OE, THRE,
 * TEMT). The IRQ leaves the card only with MCR.OUT2 set.
 */
#include "dev_lib.h"

#define COM2 0x2F8
enum { THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* Every LSR value read, ORed: reading LSR clears OE, so a poll loop must
 * not lose it. */
static uint8_t lsr_seen;

static bool lsr_has(uint8_t bits)
{
    for (int i = 0; i < 1000000; i++) {
        uint8_t v = inb(COM2 + LSR);
        lsr_seen |= v;
        if ((v & bits) == bits)
            return true;
        pause();
    }
    return false;
}

static void test_registers(void)
{
    outb(COM2 + SCR, 0x5A);
    report_eq("scratch 5a", inb(COM2 + SCR), 0x5A);
    outb(COM2 + SCR, 0xA5);
    report_eq("scratch a5", inb(COM2 + SCR), 0xA5);

    outb(COM2 + LCR, 0x83);
    outb(COM2 + THR, 0x0C);
    outb(COM2 + IER, 0x00);
    report_eq("DLL", inb(COM2 + THR), 0x0C);
    report_eq("DLM", inb(COM2 + IER), 0x00);
    report_eq("LCR with DLAB", inb(COM2 + LCR), 0x83);
    outb(COM2 + LCR, 0x83);
    outb(COM2 + THR, 0x01); /* 115200 baud */
    outb(COM2 + LCR, 0x03);
    report_eq("LCR 8N1", inb(COM2 + LCR), 0x03);

    outb(COM2 + IER, 0x0D);
    report_eq("IER read-back", inb(COM2 + IER), 0x0D);
    outb(COM2 + IER, 0x00);

    outb(COM2 + IIR, 0x00); /* FIFOs off */
    report_eq("IIR idle, no FIFO", inb(COM2 + IIR), 0x01);
    outb(COM2 + IIR, 0x07); /* on and cleared */
    report_eq("IIR idle, FIFO", inb(COM2 + IIR), 0xC1);
    report("LSR THRE and TEMT", lsr_has(0x60));
}

static void test_loopback(void)
{
    static const struct { uint8_t mcr, msr; const char *name; } lines[] = {
        {0x11, 0x20, "DTR->DSR"}, {0x12, 0x10, "RTS->CTS"},
        {0x14, 0x40, "OUT1->RI"}, {0x18, 0x80, "OUT2->DCD"},
        {0x1F, 0xF0, "all lines"}, {0x10, 0x00, "no lines"}};
    for (unsigned i = 0; i < ARRAY_SIZE(lines); i++) {
        outb(COM2 + MCR, lines[i].mcr);
        reportf((inb(COM2 + MSR) & 0xF0) == lines[i].msr, "loopback %s",
                lines[i].name);
    }
    report_eq("MCR read-back", inb(COM2 + MCR), 0x10);

    outb(COM2 + IIR, 0x00);
    outb(COM2 + THR, 'Z');
    report("loopback DR", lsr_has(0x01));
    report_eq("loopback byte", inb(COM2 + THR), 'Z');
    report_eq("DR cleared", inb(COM2 + LSR) & 0x01, 0);

    /* 16-byte receive FIFO keeps order; the 17th byte overruns. */
    outb(COM2 + IIR, 0x07);
    lsr_seen = 0;
    for (int i = 0; i < 17; i++) {
        lsr_has(0x20);
        outb(COM2 + THR, (uint8_t)(0x40 + i));
    }
    /* On engines that shift at the baud rate the last byte lands a while
     * after the write: wait for the transmitter to empty. */
    report("transmitter empty", lsr_has(0x40));
    lsr_seen |= inb(COM2 + LSR);
    report_eq("FIFO overrun: DR and OE", lsr_seen & 0x03, 0x03);
    report_eq("OE cleared by reading LSR", inb(COM2 + LSR) & 0x02, 0);
    bool order = true;
    for (int i = 0; i < 16; i++)
        order &= inb(COM2 + THR) == 0x40 + i;
    report("FIFO order", order);
    report_eq("FIFO drained", inb(COM2 + LSR) & 0x01, 0);
    outb(COM2 + IIR, 0x00);
    outb(COM2 + MCR, 0x00);
    (void)inb(COM2 + MSR);
}

static volatile int thre_irqs;
static volatile uint8_t thre_iir, thre_isr;

static void com2_handler(struct intr_frame *f)
{
    (void)f;
    thre_isr = pic_isr(PIC_MASTER);
    thre_iir = inb(COM2 + IIR); /* clears the THRE interrupt */
    outb(COM2 + IER, 0x00);
    thre_irqs++;
    pic_eoi(3);
}

static void test_thre_interrupt(void)
{
    pic_init();
    set_intr_handler(PIC_VEC0 + 3, com2_handler);
    outb(COM2 + IIR, 0x00);
    outb(COM2 + MCR, 0x08); /* OUT2: IRQ enabled, not loopback */
    (void)inb(COM2 + IIR);
    lsr_has(0x60);
    pic_unmask(3);
    irq_enable();
    /* Enabling ETBEI while THR is empty raises the interrupt at once. */
    outb(COM2 + IER, 0x02);
    bool got = wait_for(&thre_irqs, SPIN_LONG);
    irq_disable();
    report("THRE interrupt on IRQ3", got);
    report_eq("IIR in handler: THRE", thre_iir, 0x02);
    report_eq("8259 ISR in handler: IR3", thre_isr, 0x08);
    report_eq("ISR after EOI", pic_isr(PIC_MASTER), 0x00);
    report_eq("one interrupt", thre_irqs, 1);
    report_eq("IIR after", inb(COM2 + IIR), 0x01);
    pic_quiet();
    outb(COM2 + MCR, 0x00);
    set_intr_handler(PIC_VEC0 + 3, NULL);
}

void test_main(void)
{
    test_registers();
    test_loopback();
    test_thre_interrupt();
}
