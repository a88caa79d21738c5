/* dev_pic.c: the 8259A pair: IMR read-back, IRR showing masked requests,
 * the poll command, fully nested priority between IRQ0 (8254) and IRQ8
 * (RTC, through the cascade), specific rotation changing that order,
 * specific EOI and automatic EOI.
 * engines: vanderpool qemu
 * (Not bochs: its poll command answers 0 with the request pending.)
 *
 * Intel 8259A datasheet: "Initialization Command Words" (ICW4 AEOI),
 * "Operation Command Words" (OCW1 mask, OCW2 EOI and rotation, OCW3
 * register read and poll), "Fully Nested Mode", "Specific Rotation",
 * "Poll Command", "Cascade Mode".
 */
#include "dev_lib.h"

/* IRQ0 high and staying high: 8254 channel 0 mode 0 past its count. */
static void irq0_raise(void)
{
    outb(0x43, 0x30);
    outb(0x40, 100);
    outb(0x40, 0);
}

/* IRQ0 low: a mode 0 control word drops OUT. */
static void irq0_lower(void)
{
    outb(0x43, 0x30);
}

/* IRQ8 high until register C is read: the RTC periodic flag. */
static void irq8_raise(void)
{
    cmos_write(0x0A, 0x23); /* 8192 Hz */
    cmos_write(0x0B, (cmos_read(0x0B) & 0x07) | 0x40);
    (void)cmos_read(0x0C);
}

static void irq8_lower(void)
{
    cmos_write(0x0B, cmos_read(0x0B) & 0x07);
    cmos_write(0x0A, 0x26);
    (void)cmos_read(0x0C);
}

static bool wait_irr(uint16_t base, uint8_t bits)
{
    for (uint64_t i = 0; i < SPIN_LONG; i++)
        if ((pic_irr(base) & bits) == bits)
            return true;
    return false;
}

static volatile int order[4], norder;
static volatile uint8_t isr_seen[2];
static volatile bool specific_eoi;

static void handler(struct intr_frame *f)
{
    int irq = (int)f->vector - PIC_VEC0;
    if (norder < 4)
        order[norder] = (int)f->vector;
    isr_seen[irq >= 8] = pic_isr(irq >= 8 ? PIC_SLAVE : PIC_MASTER);
    norder++;
    if (irq == 0)
        irq0_lower();
    else
        irq8_lower();
    if (specific_eoi) {
        if (irq >= 8)
            outb(PIC_SLAVE, 0x60 | (irq & 7));
        outb(PIC_MASTER, (uint8_t)(0x60 | (irq >= 8 ? 2 : irq)));
    } else {
        pic_eoi(irq);
    }
}

/* Both requests pending while masked, then unmasked with IF=1: returns
 * how many interrupts came; their vectors are in order[]. */
static int race(void)
{
    norder = 0;
    outb(PIC_MASTER + 1, 0xFF);
    outb(PIC_SLAVE + 1, 0xFF);
    irq0_raise();
    irq8_raise();
    bool pending = wait_irr(PIC_MASTER, 0x01) && wait_irr(PIC_SLAVE, 0x01);
    if (!pending)
        return -1;
    outb(PIC_SLAVE + 1, 0xFE);
    outb(PIC_MASTER + 1, 0xFA);
    irq_enable();
    for (uint64_t i = 0; i < SPIN_LONG && norder < 2; i++)
        pause();
    irq_disable();
    outb(PIC_MASTER + 1, 0xFB);
    outb(PIC_SLAVE + 1, 0xFF);
    return norder;
}

void test_main(void)
{
    pic_init();
    set_intr_handler(PIC_VEC0 + 0, handler);
    set_intr_handler(PIC_VEC0 + 8, handler);

    outb(PIC_MASTER + 1, 0xA5);
    outb(PIC_SLAVE + 1, 0x5A);
    report_eq("master IMR", inb(PIC_MASTER + 1), 0xA5);
    report_eq("slave IMR", inb(PIC_SLAVE + 1), 0x5A);
    outb(PIC_MASTER + 1, 0xFF);
    outb(PIC_SLAVE + 1, 0xFF);

    /* A masked request shows in IRR, not in ISR. */
    irq0_raise();
    report("IRR shows masked IRQ0", wait_irr(PIC_MASTER, 0x01));
    report_eq("ISR empty", pic_isr(PIC_MASTER), 0);

    /* Poll: the next read acknowledges and returns 0x80 | level. */
    outb(PIC_MASTER + 1, 0xFE);
    outb(PIC_MASTER, 0x0C);
    report_eq("poll returns IR0", inb(PIC_MASTER), 0x80);
    report_eq("poll set ISR", pic_isr(PIC_MASTER), 0x01);
    outb(PIC_MASTER, 0x20);
    report_eq("EOI cleared ISR", pic_isr(PIC_MASTER), 0x00);
    outb(PIC_MASTER + 1, 0xFF);
    irq0_lower();
    /* An INTR the CPU saw before the poll may still arrive: as the
     * default IR7, counted by dev_lib's handler. */
    irq_enable();
    delay(1000);
    irq_disable();

    int n = race();
    report_msg("two interrupts", n == 2, "%d", n);
    report_msg("IRQ0 before IRQ8 (fully nested)",
               n == 2 && order[0] == 0x20 && order[1] == 0x28, "%#x then %#x",
               order[0], order[1]);
    report_eq("IRQ0 handler: master ISR", isr_seen[0], 0x01);
    report_eq("IRQ8 handler: slave ISR", isr_seen[1], 0x01);

    outb(PIC_MASTER, 0xC0 | 1); /* IR1 lowest: IR2 (the cascade) highest */
    n = race();
    report_msg("IRQ8 first after rotation",
               n == 2 && order[0] == 0x28 && order[1] == 0x20, "%#x then %#x",
               order[0], order[1]);
    outb(PIC_MASTER, 0xC7); /* back to IR0 highest */

    specific_eoi = true;
    n = race();
    report_msg("specific EOI", n == 2 && pic_isr(PIC_MASTER) == 0 &&
               pic_isr(PIC_SLAVE) == 0, "%d interrupts", n);
    specific_eoi = false;

    /* Automatic EOI on the master: nothing in service in the handler. */
    outb(PIC_MASTER, 0x11);
    outb(PIC_MASTER + 1, PIC_VEC0);
    outb(PIC_MASTER + 1, 0x04);
    outb(PIC_MASTER + 1, 0x03);
    n = race();
    report_msg("AEOI: interrupts", n == 2, "%d", n);
    report_eq("AEOI: IRQ0 not in service", isr_seen[0], 0x00);
    report_eq("AEOI: cascade not in service", pic_isr(PIC_MASTER), 0x00);
    report_msg("no stray default IR7/IR15", dev_spurious <= 1, "%d",
               dev_spurious);
    pic_quiet();
}
