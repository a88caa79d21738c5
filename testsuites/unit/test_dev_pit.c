/* 8254 PIT and port 61h through the ports, on machine time: every mode,
 * the N+1 load rule, latch and read-back, access modes, BCD, gates,
 * IRQ0 edges (Intel 82C54 datasheet; PIIX4 port 61h).
 *
 * Tick j is the j-th 1.193182 MHz clock edge since machine time 0. A count
 * written at tick k is loaded on tick k+1 and decremented from k+2 on. */
#include "testsuites/unit/lib/unit.h"

#include "emu/dev/platform.h"

#define PIT_HZ 1193182ull

static vp_machine *m;
static unit_irqs irq;

static void setup(void)
{
    m = unit_machine(16);
    unit_watch_irqs(m, &irq);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)vp_ioport_read(&m->io, port, 1);
}

static void outb(uint16_t port, uint8_t v)
{
    vp_ioport_write(&m->io, port, v, 1);
}

/* First ns of machine time at which tick j has happened. */
static uint64_t tick_ns(uint64_t j)
{
    return (j * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void at_tick(uint64_t j)
{
    unit_run_to_ns(m, tick_ns(j));
}

static void write16(int ch, uint16_t v)
{
    outb((uint16_t)(0x40 + ch), (uint8_t)v);
    outb((uint16_t)(0x40 + ch), (uint8_t)(v >> 8));
}

static uint16_t latch_read(int ch)
{
    outb(0x43, (uint8_t)(ch << 6)); /* counter latch command */
    uint16_t lo = inb((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | inb((uint16_t)(0x40 + ch)) << 8);
}

static uint8_t status(int ch)
{
    outb(0x43, (uint8_t)(0xe0 | (2 << ch))); /* read-back, status only */
    return inb((uint16_t)(0x40 + ch));
}

static bool out2(void)
{
    return inb(0x61) & 0x20;
}

START_TEST(test_mode2_load_rule)
{
    outb(0x43, 0x34); /* ch0, LSB/MSB, mode 2, binary */
    write16(0, 1000);
    at_tick(101);     /* loaded on tick 1, 100 decrements since */
    ck_assert_uint_eq(latch_read(0), 900);
    at_tick(1000);    /* CE = 1: OUT low for this one clock */
    ck_assert_uint_eq(latch_read(0), 1);
    ck_assert_uint_eq(status(0) & 0x80, 0);
    at_tick(1001);    /* reloaded */
    ck_assert_uint_eq(latch_read(0), 1000);
    ck_assert_uint_eq(status(0) & 0x80, 0x80);
}
END_TEST

START_TEST(test_mode2_irq0_rate)
{
    outb(0x43, 0x34);
    write16(0, 11932);
    /* The control word set OUT high: one rising edge already. */
    ck_assert_uint_eq(irq.edges[0], 1);
    irq.edges[0] = 0;
    unit_run_to_ns(m, 1000000000ull);
    /* Rising edges at ticks 1 + k*11932, k >= 1, up to tick 1193182. */
    ck_assert_uint_eq(irq.edges[0], 99);
}
END_TEST

START_TEST(test_mode3_square_wave)
{
    outb(0x61, 0x01); /* gate channel 2 on */
    outb(0x43, 0xb6); /* ch2, LSB/MSB, mode 3 */
    write16(2, 100);
    static const struct { uint64_t tick; bool out; uint16_t count; } v[] = {
        {11, true, 80}, {50, true, 2}, {51, false, 100}, {61, false, 80},
        {101, true, 100}, {151, false, 100}, {201, true, 100}};
    for (size_t i = 0; i < VP_ARRAY_SIZE(v); i++) {
        at_tick(v[i].tick);
        ck_assert_msg(out2() == v[i].out, "tick %llu",
                      (unsigned long long)v[i].tick);
        ck_assert_uint_eq(latch_read(2), v[i].count);
    }
}
END_TEST

START_TEST(test_mode3_odd_count)
{
    /* Odd N: high (N+1)/2 clocks, low (N-1)/2 clocks. */
    outb(0x61, 0x01);
    outb(0x43, 0xb6);
    write16(2, 5);
    static const bool want[10] = {1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
    for (int d = 0; d < 10; d++) {
        at_tick(1 + (uint64_t)d);
        ck_assert_msg(out2() == want[d], "d=%d", d);
    }
}
END_TEST

START_TEST(test_mode3_irq0)
{
    outb(0x43, 0x36);
    write16(0, 0); /* 0 = 65536: 18.2 Hz */
    irq.edges[0] = 0;
    unit_run_to_ns(m, 1000000000ull);
    /* Rising edges at ticks 1 + k*65536: k = 1..18. */
    ck_assert_uint_eq(irq.edges[0], 18);
}
END_TEST

START_TEST(test_mode0_terminal_count)
{
    outb(0x43, 0x30); /* ch0, LSB/MSB, mode 0 */
    /* Control word: OUT low, NULL COUNT until a count is loaded. */
    ck_assert_uint_eq(status(0), 0x70);
    write16(0, 100);
    ck_assert_uint_eq(status(0), 0x70); /* not loaded before tick 1 */
    at_tick(2);
    ck_assert_uint_eq(status(0), 0x30);
    at_tick(100);
    ck_assert_uint_eq(irq.level[0], 0);
    at_tick(101); /* N + 1 clocks after the write */
    ck_assert_uint_eq(irq.level[0], 1);
    ck_assert_uint_eq(irq.edges[0], 1);
    ck_assert_uint_eq(status(0), 0xb0);
    /* The counter wraps and keeps counting; OUT stays high. */
    at_tick(103);
    ck_assert_uint_eq(latch_read(0), 0xfffe);
    at_tick(100000);
    ck_assert_uint_eq(irq.edges[0], 1);
    /* A new count drops OUT again. */
    write16(0, 10);
    ck_assert_uint_eq(irq.level[0], 0);
}
END_TEST

START_TEST(test_latch)
{
    outb(0x43, 0x34);
    write16(0, 5000);
    at_tick(101);
    outb(0x43, 0x00);
    at_tick(500);
    outb(0x43, 0x00); /* ignored: the first latch is not read yet */
    uint16_t lo = inb(0x40);
    ck_assert_uint_eq((uint16_t)(lo | inb(0x40) << 8), 4900);
    /* Unlatched reads follow the counter. */
    lo = inb(0x40);
    ck_assert_uint_eq((uint16_t)(lo | inb(0x40) << 8), 4501);
}
END_TEST

START_TEST(test_readback)
{
    outb(0x43, 0x34);
    write16(0, 300);
    outb(0x43, 0xb4); /* ch2 mode 2 too */
    write16(2, 7000);
    at_tick(201);
    /* Read-back count and status of channels 0 and 2. */
    outb(0x43, 0xc0 | 0x08 | 0x02);
    /* Status first (OUT high, count loaded, LSB/MSB, mode 2), then the
     * count. */
    ck_assert_uint_eq(inb(0x40), 0xb4);
    uint16_t lo = inb(0x40);
    ck_assert_uint_eq((uint16_t)(lo | inb(0x40) << 8), 100);
    /* Channel 2's gate is low: OUT high, the count waits (NULL COUNT). */
    ck_assert_uint_eq(inb(0x42), 0xf4);
    lo = inb(0x42);
    /* Gate 2 is low: mode 2 never started, the count register reads. */
    ck_assert_uint_eq((uint16_t)(lo | inb(0x42) << 8), 7000);
    ck_assert_uint_eq(inb(0x43), 0xff); /* control register: write-only */
}
END_TEST

START_TEST(test_access_modes)
{
    outb(0x43, 0x14); /* ch0, LSB only, mode 2 */
    outb(0x40, 0x80);
    at_tick(33);
    ck_assert_uint_eq(inb(0x40), 0x80 - 32);
    ck_assert_uint_eq(inb(0x40), 0x80 - 32); /* no byte toggle */
    outb(0x43, 0x24); /* ch0, MSB only, mode 2 */
    outb(0x40, 0x02);
    /* The load happens on the next clock; one more tick, one decrement. */
    at_tick(35);
    ck_assert_uint_eq(inb(0x40), 0x01); /* 0x200 - 1 = 0x1ff */
    ck_assert_uint_eq(status(0), 0x24 | 0x80);
}
END_TEST

START_TEST(test_bcd)
{
    outb(0x43, 0x35); /* ch0, LSB/MSB, mode 2, BCD */
    write16(0, 0x1000);
    at_tick(101);
    ck_assert_uint_eq(latch_read(0), 0x0900);
    at_tick(1 + 999);
    ck_assert_uint_eq(latch_read(0), 0x0001);
    at_tick(1 + 1000 + 1);
    ck_assert_uint_eq(latch_read(0), 0x0999);
    /* BCD count 0 is 10000. */
    outb(0x43, 0x31); /* mode 0 BCD */
    write16(0, 0);
    uint64_t now = vp_clock_now(&m->clock) * PIT_HZ / 1000000000ull;
    at_tick(now + 2);
    ck_assert_uint_eq(latch_read(0), 0x9999);
}
END_TEST

START_TEST(test_mode1_gate_trigger)
{
    outb(0x43, 0xb2); /* ch2, mode 1 */
    write16(2, 50);
    ck_assert(out2());
    at_tick(40);
    ck_assert(out2()); /* no trigger yet */
    outb(0x61, 0x01); /* trigger at tick 40: load on 41 */
    ck_assert(out2());
    at_tick(41);
    ck_assert(!out2());
    at_tick(90);
    ck_assert(!out2());
    at_tick(91);
    ck_assert(out2());
    /* Retrigger restarts the one-shot. */
    outb(0x61, 0x00);
    at_tick(100);
    outb(0x61, 0x01);
    at_tick(150);
    ck_assert(!out2());
    at_tick(151);
    ck_assert(out2());
}
END_TEST

START_TEST(test_mode4_strobe)
{
    outb(0x43, 0x38); /* ch0 mode 4 */
    write16(0, 20);
    ck_assert_uint_eq(irq.level[0], 1);
    irq.edges[0] = 0;
    at_tick(20);
    ck_assert_uint_eq(irq.level[0], 1);
    at_tick(21); /* CE reaches 0: OUT low for one clock */
    ck_assert_uint_eq(irq.level[0], 0);
    at_tick(22);
    ck_assert_uint_eq(irq.level[0], 1);
    ck_assert_uint_eq(irq.edges[0], 1);
    at_tick(200000); /* no reload, no second strobe */
    ck_assert_uint_eq(irq.edges[0], 1);
}
END_TEST

START_TEST(test_mode5_hw_strobe)
{
    outb(0x43, 0xba); /* ch2 mode 5 */
    write16(2, 20);
    at_tick(5);
    outb(0x61, 0x01); /* trigger: load on tick 6 */
    at_tick(25);
    ck_assert(out2());
    at_tick(26);
    ck_assert(!out2());
    at_tick(27);
    ck_assert(out2());
}
END_TEST

START_TEST(test_mode0_gate_pauses)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb0); /* ch2 mode 0 */
    write16(2, 100);
    at_tick(31);
    outb(0x61, 0x00); /* 30 decrements done */
    at_tick(200);
    ck_assert_uint_eq(latch_read(2), 70);
    ck_assert(!out2());
    outb(0x61, 0x01);
    at_tick(269);
    ck_assert(!out2());
    at_tick(270);
    ck_assert(out2());
}
END_TEST

START_TEST(test_mode2_gate_low_forces_high)
{
    outb(0x61, 0x01);
    outb(0x43, 0xb4); /* ch2 mode 2 */
    write16(2, 10);
    at_tick(10); /* d = 9: the low clock */
    ck_assert(!out2());
    outb(0x61, 0x00);
    ck_assert(out2()); /* GATE low: OUT high at once */
    at_tick(50);
    ck_assert(out2());
    outb(0x61, 0x01); /* reload on tick 51 */
    at_tick(51 + 9);
    ck_assert(!out2());
}
END_TEST

START_TEST(test_mode2_new_count_at_period_end)
{
    outb(0x43, 0x34);
    write16(0, 100);
    at_tick(51);
    write16(0, 10); /* current period goes on to its end at tick 101 */
    ck_assert_uint_eq(status(0) & 0x40, 0x40); /* NULL COUNT until then */
    at_tick(100);
    ck_assert_uint_eq(latch_read(0), 1);
    at_tick(101);
    ck_assert_uint_eq(latch_read(0), 10);
    ck_assert_uint_eq(status(0) & 0x40, 0);
    at_tick(105);
    ck_assert_uint_eq(latch_read(0), 6);
}
END_TEST

START_TEST(test_port61)
{
    outb(0x61, 0xff);
    ck_assert_uint_eq(inb(0x61) & 0xcf, 0x0f); /* bits 3-0 R/W, 7-6 zero */
    outb(0x61, 0x00);
    /* Refresh toggle: flips every 18 clocks (15.085 us). */
    at_tick(1);
    uint8_t a = inb(0x61) & 0x10;
    at_tick(19);
    uint8_t b = inb(0x61) & 0x10;
    at_tick(37);
    uint8_t c = inb(0x61) & 0x10;
    ck_assert_uint_ne(a, b);
    ck_assert_uint_eq(a, c);
}
END_TEST

START_TEST(test_reset_stops_irq0)
{
    outb(0x43, 0x34);
    write16(0, 100);
    at_tick(1000);
    ck_assert_uint_gt(irq.edges[0], 5);
    vp_platform_reset(m);
    ck_assert_uint_eq(irq.level[0], 0);
    irq.edges[0] = 0;
    at_tick(100000);
    ck_assert_uint_eq(irq.edges[0], 0);
    ck_assert_uint_eq(inb(0x61) & 0x0f, 0);
}
END_TEST

START_TEST(test_fuzz)
{
    static const uint16_t ports[] = {0x40, 0x41, 0x42, 0x43, 0x61};
    uint32_t x = 777;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        switch (r % 4) {
        case 0:
        case 1:
            outb(ports[(r >> 3) % 5], (uint8_t)(r >> 11));
            break;
        case 2:
            (void)inb(ports[(r >> 3) % 5]);
            break;
        default:
            unit_run_to_ns(m, vp_clock_now(&m->clock) + (r >> 10) % 20000);
            break;
        }
    }
    /* Time still runs and the timer list stays sane. */
    uint64_t t = vp_clock_now(&m->clock);
    unit_run_to_ns(m, t + 1000000);
    ck_assert_uint_ge(vp_clock_now(&m->clock), t + 1000000);
}
END_TEST

static Suite *pit_suite(void)
{
    Suite *s = suite_create("dev_pit");
    TCase *tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode2_load_rule);
    tcase_add_test(tc, test_mode2_irq0_rate);
    tcase_add_test(tc, test_mode3_square_wave);
    tcase_add_test(tc, test_mode3_odd_count);
    tcase_add_test(tc, test_mode3_irq0);
    tcase_add_test(tc, test_mode0_terminal_count);
    tcase_add_test(tc, test_latch);
    tcase_add_test(tc, test_readback);
    tcase_add_test(tc, test_access_modes);
    tcase_add_test(tc, test_bcd);
    tcase_add_test(tc, test_mode1_gate_trigger);
    tcase_add_test(tc, test_mode4_strobe);
    tcase_add_test(tc, test_mode5_hw_strobe);
    tcase_add_test(tc, test_mode0_gate_pauses);
    tcase_add_test(tc, test_mode2_gate_low_forces_high);
    tcase_add_test(tc, test_mode2_new_count_at_period_end);
    tcase_add_test(tc, test_port61);
    tcase_add_test(tc, test_reset_stops_irq0);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(pit_suite)
