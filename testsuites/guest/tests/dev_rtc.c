/* dev_rtc.c: the MC146818 RTC and CMOS: valid BCD time and date read with
 * the UIP protocol, registers A and D, binary mode, the periodic interrupt
 * on IRQ8 through the cascaded 8259A (vector 0x28) and its rate against
 * the 8254, register C cleared by reading, update-ended and alarm
 * interrupts, and the memory-size bytes checked against the Multiboot
 * memory information.
 * engines: vanderpool qemu bochs
 * mem: 256
 *
 * Motorola MC146818A datasheet: "Time, Calendar and Alarm Locations",
 * "Update Cycle" (UIP), "Register A" (DV, RS, Table 4 rates), "Register
 * B" (PIE, AIE, UIE, DM, 24/12), "Register C" (IRQF, PF, AF, UF),
 * "Register D" (VRT). CMOS bytes 0x15-0x18, 0x30-0x31, 0x34-0x35,
 * 0x5B-0x5D and the 0x10-0x2D checksum at 0x2E/0x2F: IBM PC/AT layout.
 */
#include "dev_lib.h"

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0x0F);
}

static bool bcd_ok(uint8_t v, unsigned max)
{
    return (v & 0x0F) <= 9 && (v >> 4) <= 9 && from_bcd(v) <= max;
}

static bool wait_not_uip(void)
{
    for (uint64_t i = 0; i < SPIN_LONG; i++)
        if (!(cmos_read(0x0A) & 0x80))
            return true;
    return false;
}

static void test_registers(void)
{
    report_eq("register D: VRT", cmos_read(0x0D), 0x80);
    report_eq("register A: 32.768 kHz time base", cmos_read(0x0A) & 0x70, 0x20);
    report_eq("register B: 24-hour BCD", cmos_read(0x0B) & 0x86, 0x02);
    report("UIP clears", wait_not_uip());
    uint8_t s = cmos_read(0x00), mi = cmos_read(0x02), h = cmos_read(0x04);
    uint8_t wd = cmos_read(0x06), d = cmos_read(0x07), mo = cmos_read(0x08), y = cmos_read(0x09);
    uint8_t c = cmos_read(0x32);
    printf("RTC: %02x%02x-%02x-%02x %02x:%02x:%02x (day %x)\n", c, y, mo, d,
           h, mi, s, wd);
    report("seconds BCD", bcd_ok(s, 59));
    report("minutes BCD", bcd_ok(mi, 59));
    report("hours BCD", bcd_ok(h, 23));
    report("weekday 1-7", wd >= 1 && wd <= 7);
    report("day BCD", bcd_ok(d, 31) && d != 0);
    report("month BCD", bcd_ok(mo, 12) && mo != 0);
    report("year BCD", bcd_ok(y, 99));
    report("century 20", c == 0x20);

    /* Binary mode: the same registers, plain numbers. */
    uint8_t b = cmos_read(0x0B);
    wait_not_uip();
    cmos_write(0x0B, b | 0x04);
    uint8_t bin = cmos_read(0x09), bh = cmos_read(0x04);
    cmos_write(0x0B, b);
    report_msg("binary year", bin == from_bcd(cmos_read(0x09)), "%u", bin);
    report_msg("binary hours", bh < 24, "%u", bh);

    /* The NMI mask bit of the index port is not an address bit. */
    cmos_write(0x48, 0x5A);
    outb(0x70, 0x80 | 0x48);
    uint8_t v = inb(0x71);
    outb(0x70, 0x48);
    report_eq("CMOS RAM with NMI mask bit", v, 0x5A);
}

static void test_cmos_memory(void)
{
    report_eq("base memory 640 KiB", cmos_read(0x15) | cmos_read(0x16) << 8, 640);
    const struct multiboot_info *mb = multiboot();
    if (!mb || !(mb->flags & MBI_MEM)) {
        report_skip("extended memory", "no Multiboot memory information");
        return;
    }
    uint32_t upper = mb->mem_upper; /* KiB above 1 MiB */
    /* The 16-bit KiB count saturates: at 0xFFFF on QEMU and Vanderpool,
     * at 0xFC00 (64 MiB in all) on Bochs. */
    uint32_t ext17 = cmos_read(0x17) | cmos_read(0x18) << 8;
    uint32_t ext30 = cmos_read(0x30) | cmos_read(0x31) << 8;
    bool capped = upper >= 0xFC00;
    report_msg("extended memory 0x17", capped ? ext17 == 0xFFFF || ext17 == 0xFC00
                                              : ext17 == upper,
               "%#x KiB, Multiboot says %#x", ext17, upper);
    report_eq("extended memory 0x30", ext30, ext17);
    /* CMOS counts the RAM below 4 GiB; the loader's figure may leave out
     * what the firmware reserved at the top (QEMU: 128 KiB). */
    uint64_t cmos_end = ((uint64_t)(cmos_read(0x34) | cmos_read(0x35) << 8) << 16) +
                        (16u << 20);
    uint64_t mb_end = ((uint64_t)upper << 10) + (1u << 20);
    report_msg("memory above 16 MiB", cmos_end >= mb_end &&
               cmos_end - mb_end < (1u << 20),
               "CMOS says RAM ends at %#llx, Multiboot at %#llx",
               (unsigned long long)cmos_end, (unsigned long long)mb_end);
    report_eq("no memory above 4 GiB", cmos_read(0x5B) | cmos_read(0x5C) | cmos_read(0x5D), 0);
    /* (The 0x2E/0x2F checksum is not checked: QEMU leaves it 0.) */
}

static volatile int rtc_irqs, pit_irqs;
static volatile uint8_t reg_c_or, reg_c_and = 0xFF;
static volatile uint8_t sec_at_irq[4];

static void rtc_handler(struct intr_frame *f)
{
    (void)f;
    uint8_t c = cmos_read(0x0C);
    reg_c_or |= c;
    reg_c_and &= c;
    if (rtc_irqs < 4)
        sec_at_irq[rtc_irqs] = cmos_read(0x00);
    rtc_irqs++;
    pic_eoi(8);
}

static void pit_handler(struct intr_frame *f)
{
    (void)f;
    pit_irqs++;
    pic_eoi(0);
}

static void reset_counts(void)
{
    rtc_irqs = 0;
    reg_c_or = 0;
    reg_c_and = 0xFF;
}

static void test_periodic(void)
{
    pic_init();
    set_intr_handler(PIC_VEC0 + 8, rtc_handler);
    set_intr_handler(PIC_VEC0 + 0, pit_handler);
    uint8_t a = cmos_read(0x0A), b = cmos_read(0x0B);
    (void)cmos_read(0x0C);
    cmos_write(0x0A, 0x26);              /* 1024 Hz */
    cmos_write(0x0B, (b & 0x07) | 0x40); /* PIE */
    reset_counts();
    pic_unmask(8);
    bool got = halt_until(&rtc_irqs, 16, 1000);
    report_msg("periodic interrupt on IRQ8", got, "%d", rtc_irqs);
    report_eq("register C: IRQF and PF", reg_c_and & 0xC0, 0xC0);

    /* Rate: 64 interrupts at 128 Hz take half a second of 8254 time. */
    cmos_write(0x0A, 0x29);
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xFF); /* 1 kHz */
    outb(0x40, 1193 >> 8);
    reset_counts();
    pit_irqs = 0;
    pic_unmask(0);
    got = halt_until(&rtc_irqs, 64, 100000);
    int pit = pit_irqs;
    pic_mask(0);
    report_msg("128 Hz against the 8254", got && pit >= 400 && pit <= 600,
               "%d PIT interrupts (1 kHz) during 64 RTC interrupts", pit);

    /* No rate: no PF; a read clears C. */
    pic_mask(8);
    cmos_write(0x0A, 0x20);
    cmos_write(0x0B, b & 0x07);
    (void)cmos_read(0x0C);
    report_eq("register C cleared by reading", cmos_read(0x0C) & 0xC0, 0);
    cmos_write(0x0A, a);
}

static void test_update_and_alarm(void)
{
    uint8_t b = cmos_read(0x0B) & 0x07;
    (void)cmos_read(0x0C);
    cmos_write(0x0B, b | 0x10); /* UIE */
    reset_counts();
    pic_unmask(8);
    bool got = halt_until(&rtc_irqs, 2, 1000);
    report("update-ended interrupts", got);
    report_eq("register C: UF", reg_c_and & 0x90, 0x90);
    unsigned s0 = from_bcd(sec_at_irq[0]), s1 = from_bcd(sec_at_irq[1]);
    report_msg("one second per update", s1 == (s0 + 1) % 60, "%u then %u",
               s0, s1);

    /* Alarm two seconds ahead, minutes and hours "don't care". */
    cmos_write(0x0B, b);
    wait_not_uip();
    unsigned target = (from_bcd(cmos_read(0x00)) + 2) % 60;
    cmos_write(0x01, (uint8_t)((target / 10) << 4 | target % 10));
    cmos_write(0x03, 0xC0);
    cmos_write(0x05, 0xC0);
    (void)cmos_read(0x0C);
    reset_counts();
    cmos_write(0x0B, b | 0x20); /* AIE */
    got = halt_until(&rtc_irqs, 1, 1000);
    report("alarm interrupt", got);
    report_eq("register C: AF", reg_c_and & 0xA0, 0xA0);
    report_msg("alarm at its second", from_bcd(sec_at_irq[0]) == target,
               "at %02x, alarm %u", sec_at_irq[0], target);
    cmos_write(0x0B, b);
    (void)cmos_read(0x0C);
    pic_quiet();
    set_intr_handler(PIC_VEC0 + 8, NULL);
    set_intr_handler(PIC_VEC0 + 0, NULL);
}

void test_main(void)
{
    test_registers();
    test_cmos_memory();
    test_periodic();
    test_update_and_alarm();
}
