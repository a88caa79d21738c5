/* apic_ioapic.c: interrupts routed through the I/O APIC: the PIT (ISA IRQ0,
 * which PC firmware reports on pin 2 by an interrupt source override) and
 * the RTC periodic interrupt (IRQ8, pin 8), in physical and logical
 * destination mode; masking a redirection entry; the ISR while in
 * service; the identification registers.
 * engines: vanderpool qemu bochs
 *
 * 82093AA I/O APIC datasheet ("I/O Redirection Table Registers",
 * "IOAPICVER"); SDM Vol 3A, "Logical Destination Mode"; ACPI "Interrupt
 * Source Override Structure" for IRQ0 -> GSI 2.
 */
#include "apic_lib.h"

#define PIT_VEC 0x50
#define RTC_VEC 0x58

static volatile int pit_count, rtc_count;
static volatile bool pit_isr_seen;

static void pit_handler(struct intr_frame *f)
{
    (void)f;
    pit_isr_seen = lapic_vec(LAPIC_ISR, PIT_VEC);
    pit_count++;
    lapic_eoi();
}

static void rtc_handler(struct intr_frame *f)
{
    (void)f;
    (void)cmos_read(0x0C); /* acknowledge: the RTC drops IRQ8 */
    rtc_count++;
    lapic_eoi();
}

/* PIT channel 0, mode 2 (rate generator), about 1 kHz. */
static void pit_start(void)
{
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xFF);
    outb(0x40, 1193 >> 8);
}

/* Channel 0 back to a one-shot that never ends: mode 0, count 0 (65536)
 * fires once after 55 ms; with the entry masked nothing is delivered. */
static void pit_stop(void)
{
    outb(0x43, 0x30);
    outb(0x40, 0);
    outb(0x40, 0);
}

static void identification(void)
{
    uint32_t ver = ioapic_read(0x01);
    uint32_t version = ver & 0xFF, max = (ver >> 16) & 0xFF;
    report_msg("ioapic version", version == 0x11 || version == 0x20,
               "IOAPICVER %#x", ver);
    report_msg("ioapic has at least 24 pins", max >= 23, "max redirection entry %u", max);
    /* Redirection entries keep what software writes (bits 14 and 12
     * are read-only status). Pin 13 is unused on PCs. */
    ioapic_write(0x10 + 26, RTE_MASKED | RTE_LEVEL | BIT(13) | ICR_LOGICAL | 0xE5);
    ioapic_write(0x11 + 26, 0x5A000000u);
    report_eq("redirection entry low reads back", ioapic_read(0x10 + 26),
              RTE_MASKED | RTE_LEVEL | BIT(13) | ICR_LOGICAL | 0xE5);
    report_eq("redirection entry high reads back", ioapic_read(0x11 + 26), 0x5A000000u);
    ioapic_mask(13);
    ioapic_write(0x11 + 26, 0);
}

/* PIT interrupts that still arrive in a long window, after a short one
 * that lets a delivery already on its way land. */
static int late_pit_interrupts(void)
{
    irq_enable();
    delay(2000);
    irq_disable();
    int n = pit_count;
    irq_enable();
    delay(2000000);
    irq_disable();
    return pit_count - n;
}

static void pit_physical(void)
{
    pit_count = 0;
    ioapic_route(2, PIT_VEC, (uint8_t)lapic_id());
    pit_start();
    irq_enable();
    bool got = wait_count(&pit_count, 3, SPIN_LONG);
    irq_disable();
    report_msg("pit irq0 through pin 2", got, "%d interrupts", pit_count);
    report("isr set in the handler", pit_isr_seen);
    /* Masking the entry stops delivery. */
    ioapic_mask(2);
    report_eq("masked entry delivers nothing", (uint64_t)late_pit_interrupts(), 0);
}

static void pit_logical(void)
{
    /* Flat model; our logical ID bit 2. */
    lapic_write(LAPIC_DFR, 0xFFFFFFFFu);
    lapic_write(LAPIC_LDR, 0x04u << 24);
    pit_count = 0;
    ioapic_route(2, ICR_LOGICAL | PIT_VEC, 0x04);
    irq_enable();
    bool got = wait_count(&pit_count, 2, SPIN_LONG);
    irq_disable();
    report("pit through a logical destination", got);
    /* A logical destination naming nobody. */
    ioapic_route(2, ICR_LOGICAL | PIT_VEC, 0x10);
    report_eq("logical destination with no match", (uint64_t)late_pit_interrupts(), 0);
    ioapic_mask(2);
    lapic_write(LAPIC_LDR, 0);
}

static void rtc(void)
{
    rtc_count = 0;
    (void)cmos_read(0x0C);
    ioapic_route(8, RTC_VEC, (uint8_t)lapic_id());
    uint8_t a = cmos_read(0x0A), b = cmos_read(0x0B);
    cmos_write(0x0A, (uint8_t)((a & 0xF0) | 0x06)); /* 1024 Hz */
    cmos_write(0x0B, (uint8_t)(b | 0x40));          /* periodic interrupt */
    irq_enable();
    bool got = wait_count(&rtc_count, 3, SPIN_LONG);
    irq_disable();
    cmos_write(0x0B, b & (uint8_t)~0x40);
    cmos_write(0x0A, a);
    (void)cmos_read(0x0C);
    ioapic_mask(8);
    report_msg("rtc irq8 through pin 8", got, "%d interrupts", rtc_count);
}

void test_main(void)
{
    apic_setup();
    set_intr_handler(PIT_VEC, pit_handler);
    set_intr_handler(RTC_VEC, rtc_handler);
    identification();
    pit_physical();
    pit_logical();
    pit_stop();
    rtc();
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}
