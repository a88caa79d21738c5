/* dev_lib.h: helpers shared by the dev_*.c guest tests (not a test): the
 * 8259A pair programmed as PC software does, vectors 0x20-0x2F.
 * Intel 8259A datasheet, "Initialization Command Words" and "Operation
 * Command Words". Interrupts reach the CPU as ExtINT through the local
 * APIC's LINT0 (virtual wire), as the firmware (or Vanderpool's direct
 * boot) leaves it. */
#ifndef DEV_LIB_H
#define DEV_LIB_H

#include "vp.h"

#define PIC_MASTER 0x20
#define PIC_SLAVE 0xA0
#define PIC_VEC0 0x20 /* IRQ0-7 -> 0x20-0x27, IRQ8-15 -> 0x28-0x2F */

static volatile int dev_spurious;

static void dev_spurious_handler(struct intr_frame *f)
{
    /* A default IR7/IR15 sets no ISR bit; IR15 still needs the master's
     * EOI for the cascade. */
    if (f->vector == PIC_VEC0 + 15)
        outb(PIC_MASTER, 0x20);
    dev_spurious++;
}

/* ICW1-ICW4 on both chips: edge, cascade on IR2, 8086 mode; everything
 * masked except the cascade input. */
static inline void pic_init(void)
{
    outb(PIC_MASTER, 0x11);
    outb(PIC_MASTER + 1, PIC_VEC0);
    outb(PIC_MASTER + 1, 0x04);
    outb(PIC_MASTER + 1, 0x01);
    outb(PIC_SLAVE, 0x11);
    outb(PIC_SLAVE + 1, PIC_VEC0 + 8);
    outb(PIC_SLAVE + 1, 0x02);
    outb(PIC_SLAVE + 1, 0x01);
    outb(PIC_MASTER + 1, 0xFB);
    outb(PIC_SLAVE + 1, 0xFF);
    set_intr_handler(PIC_VEC0 + 7, dev_spurious_handler);
    set_intr_handler(PIC_VEC0 + 15, dev_spurious_handler);
}

static inline void pic_unmask(int irq)
{
    uint16_t port = irq < 8 ? PIC_MASTER + 1 : PIC_SLAVE + 1;
    outb(port, inb(port) & (uint8_t)~(1u << (irq & 7)));
}

static inline void pic_mask(int irq)
{
    uint16_t port = irq < 8 ? PIC_MASTER + 1 : PIC_SLAVE + 1;
    outb(port, inb(port) | (uint8_t)(1u << (irq & 7)));
}

/* Non-specific EOI to the chips that serve `irq`. */
static inline void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC_SLAVE, 0x20);
    outb(PIC_MASTER, 0x20);
}

/* OCW3 reads: in-service and request registers. */
static inline uint8_t pic_isr(uint16_t base)
{
    outb(base, 0x0B);
    return inb(base);
}

static inline uint8_t pic_irr(uint16_t base)
{
    outb(base, 0x0A);
    return inb(base);
}

/* Everything masked again, interrupts off: leave the machine quiet. */
static inline void pic_quiet(void)
{
    irq_disable();
    outb(PIC_MASTER + 1, 0xFF);
    outb(PIC_SLAVE + 1, 0xFF);
}

/* Halts with interrupts on until *flag reaches `want` or `tries` halts
 * passed; an engine with no interrupt coming would hang in HLT, so a
 * timer (PIT or RTC) the test armed must be the source. */
static inline bool halt_until(volatile int *flag, int want, int tries)
{
    for (int i = 0; i < tries && *flag < want; i++) {
        safe_halt();
        irq_disable();
    }
    return *flag >= want;
}

#endif
