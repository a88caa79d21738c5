/* dev_pit.c: the 8254 counts: channel 2 (gated by port 61h) in modes 0
 * and 3 seen through the counter, the read-back status and port 61h
 * bit 5, the counter latch holding its value, the refresh toggle, and
 * channel 0 driving IRQ0 through the 8259A (vector 0x20) periodically in
 * mode 2 and once in mode 0.
 * engines: vanderpool qemu bochs
 *
 * Intel 82C54 datasheet: "Control Word Register", "Counter Latch
 * Command", "Read-Back Command" (status byte: OUT, NULL COUNT, RW, mode,
 * BCD), "Mode 0: Interrupt on Terminal Count", "Mode 2: Rate Generator",
 * "Mode 3: Square Wave Mode". PIIX4 "NMI Status and Control Register"
 * (port 61h: bit 0 timer 2 gate, bit 4 refresh toggle, bit 5 OUT2).
 */
#include "dev_lib.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORTB 0x61

static void write_count(uint16_t port, uint16_t v)
{
    outb(port, (uint8_t)v);
    outb(port, (uint8_t)(v >> 8));
}

static uint16_t read_count(uint16_t port)
{
    uint16_t lo = inb(port);
    return (uint16_t)(lo | inb(port) << 8);
}

static uint16_t latch(int ch)
{
    outb(PIT_CMD, (uint8_t)(ch << 6));
    return read_count((uint16_t)(PIT_CH0 + ch));
}

static uint8_t status(int ch)
{
    outb(PIT_CMD, (uint8_t)(0xE0 | (2 << ch)));
    return inb((uint16_t)(PIT_CH0 + ch));
}

static bool out2(void)
{
    return inb(PORTB) & 0x20;
}

/* Gate of channel 2 on, speaker off. */
static void gate2(bool on)
{
    outb(PORTB, (uint8_t)((inb(PORTB) & 0x0C) | (on ? 0x01 : 0x00)));
}

static void test_mode0_channel2(void)
{
    gate2(true);
    outb(PIT_CMD, 0xB0); /* ch2, LSB/MSB, mode 0, binary */
    report_eq("status after control word", status(2) & 0x3F, 0x30);
    report("mode 0: OUT low after control word", !out2());
    write_count(PIT_CH2, 2000); /* about 1.7 ms */
    uint16_t a = latch(2), b = a;
    for (uint64_t i = 0; i < SPIN_LONG && b == a; i++)
        b = latch(2);
    report_msg("counts down", b < a && a <= 2000, "%u then %u", a, b);
    report("OUT low while counting", !out2());
    bool high = false;
    for (uint64_t i = 0; i < SPIN_LONG && !high; i++)
        high = out2();
    report("OUT high at terminal count", high);
    report_eq("status: OUT high, count loaded", status(2), 0xB0);
}

static void test_latch_holds(void)
{
    /* Channel 0 in mode 2 as a clock (IRQ0 masked at the 8259A). */
    outb(PIC_MASTER + 1, 0xFF);
    outb(PIT_CMD, 0x34);
    write_count(PIT_CH0, 0);
    gate2(true);
    outb(PIT_CMD, 0xB0);
    write_count(PIT_CH2, 0xFFFF);
    for (int i = 0; i < 1000 && status(2) & 0x40; i++)
        pause(); /* until the count is loaded */
    outb(PIT_CMD, 0x80); /* latch channel 2 */
    uint16_t t0 = latch(0), t1 = t0;
    for (uint64_t i = 0; i < SPIN_LONG && (uint16_t)(t0 - t1) < 500; i++)
        t1 = latch(0);
    uint16_t held = read_count(PIT_CH2);
    uint16_t now = latch(2);
    report_msg("latch holds the count", (uint16_t)(held - now) >= 400,
               "latched %u, now %u, %u clocks passed", held, now,
               (uint16_t)(t0 - t1));
    /* A second latch before reading is ignored. */
    outb(PIT_CMD, 0x80);
    t0 = latch(0);
    for (uint64_t i = 0; i < SPIN_LONG && (uint16_t)(t0 - latch(0)) < 4; i++)
        pause();
    outb(PIT_CMD, 0x80);
    uint16_t first = read_count(PIT_CH2);
    report_msg("second latch ignored", first != latch(2), "%u", first);
}

static void test_mode3_channel2(void)
{
    gate2(true);
    outb(PIT_CMD, 0xB6); /* ch2, mode 3 */
    write_count(PIT_CH2, 200);
    int changes = 0;
    bool last = out2();
    for (uint64_t i = 0; i < SPIN_LONG && changes < 8; i++) {
        bool o = out2();
        changes += o != last;
        last = o;
    }
    report_msg("square wave on OUT2", changes >= 8, "%d changes", changes);
    /* Counting by two: the value read is even. */
    bool even = true;
    for (int i = 0; i < 50; i++)
        even &= (latch(2) & 1) == 0;
    report("mode 3 counts by two (even count)", even);
    /* (GATE low forcing OUT high in mode 3 is not checked here: QEMU keeps
     * the square wave going; the unit tests cover it.) */
    report_eq("status mode 3", status(2) & 0x3F, 0x36);
    gate2(false);
}

static void test_refresh_toggle(void)
{
    uint8_t first = inb(PORTB) & 0x10;
    bool toggled = false;
    for (int i = 0; i < 1000000 && !toggled; i++)
        toggled = (inb(PORTB) & 0x10) != first;
    report("port 61h refresh bit toggles", toggled);
}

static volatile int ticks;
static volatile uint8_t tick_isr;

static void irq0_handler(struct intr_frame *f)
{
    (void)f;
    tick_isr |= pic_isr(PIC_MASTER);
    ticks++;
    pic_eoi(0);
}

static void test_irq0(void)
{
    pic_init();
    set_intr_handler(PIC_VEC0 + 0, irq0_handler);
    outb(PIT_CMD, 0x34); /* ch0 mode 2 */
    write_count(PIT_CH0, 1193); /* 1 kHz */
    pic_unmask(0);
    bool got = halt_until(&ticks, 20, 1000);
    report_msg("IRQ0 in mode 2", got, "%d interrupts", ticks);
    report_eq("IRQ0 in service in its handler", tick_isr & 0x01, 0x01);

    /* Mode 0: one interrupt at terminal count, then none. A request the
     * mode 2 period left pending is taken first; then the one-shot starts
     * over from a fresh count. */
    outb(PIT_CMD, 0x30);
    write_count(PIT_CH0, 1193);
    irq_enable();
    delay(1000);
    irq_disable();
    ticks = 0;
    write_count(PIT_CH0, 1193);
    got = halt_until(&ticks, 1, 100);
    report("IRQ0 in mode 0", got);
    irq_enable();
    delay(SPIN_LONG / 20);
    irq_disable();
    report_eq("mode 0 interrupts once", ticks, 1);
    pic_quiet();
    set_intr_handler(PIC_VEC0 + 0, NULL);
}

void test_main(void)
{
    test_mode0_channel2();
    test_latch_holds();
    test_mode3_channel2();
    test_refresh_toggle();
    test_irq0();
}
