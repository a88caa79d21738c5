/* MC146818 RTC/CMOS through ports 0x70/0x71 on machine time: time and
 * date in BCD and binary, 12/24 hours, setting the clock, registers A-D,
 * periodic/update/alarm interrupts and their flags, divider reset, and
 * the PC's CMOS memory-size bytes for several RAM sizes (MC146818A
 * datasheet; IBM PC/AT CMOS layout). */
#include "testsuites/unit/lib/unit.h"

#include "emu/dev/platform.h"

#define NS 1000000000ull

static vp_machine *m;
static int irq8;
static unsigned irq8_edges;

static void record(void *opaque, int irq, int level)
{
    (void)opaque;
    if (irq != 8)
        return;
    if (level && !irq8)
        irq8_edges++;
    irq8 = level;
}

static void attach(vp_machine *mm)
{
    m = mm;
    irq8 = 0;
    irq8_edges = 0;
    vp_machine_add_isa_irq_sink(m, record, NULL);
}

static void setup(void)
{
    attach(unit_machine(16));
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static uint8_t cmos(uint8_t idx)
{
    vp_ioport_write(&m->io, 0x70, idx, 1);
    return (uint8_t)vp_ioport_read(&m->io, 0x71, 1);
}

static void cmos_set(uint8_t idx, uint8_t v)
{
    vp_ioport_write(&m->io, 0x70, idx, 1);
    vp_ioport_write(&m->io, 0x71, v, 1);
}

typedef struct { uint8_t idx, want; } reg_want;

static void check_regs(const reg_want *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(cmos(w[i].idx) == w[i].want,
                      "CMOS %#x: got %#x want %#x", w[i].idx,
                      cmos(w[i].idx), w[i].want);
}

START_TEST(test_default_epoch)
{
    /* 2026-01-01 00:00:00 UTC, a Thursday (day 5, Sunday = 1), BCD, 24h. */
    static const reg_want w[] = {
        {0x00, 0x00}, {0x02, 0x00}, {0x04, 0x00}, {0x06, 0x05},
        {0x07, 0x01}, {0x08, 0x01}, {0x09, 0x26}, {0x32, 0x20},
        {0x0a, 0x26}, {0x0b, 0x02}, {0x0d, 0x80}};
    check_regs(w, VP_ARRAY_SIZE(w));
}
END_TEST

START_TEST(test_time_advances)
{
    unit_run_to_ns(m, 3661 * NS + NS / 2);
    static const reg_want w1[] = {{0x00, 0x01}, {0x02, 0x01}, {0x04, 0x01}};
    check_regs(w1, VP_ARRAY_SIZE(w1));
    /* 59 days on: 2026 is not a leap year, so March 1st, a Sunday. */
    unit_run_to_ns(m, 59ull * 86400 * NS + 10 * NS);
    static const reg_want w2[] = {{0x07, 0x01}, {0x08, 0x03}, {0x09, 0x26},
                                  {0x06, 0x01}, {0x00, 0x10}};
    check_regs(w2, VP_ARRAY_SIZE(w2));
}
END_TEST

START_TEST(test_binary_and_12h)
{
    unit_run_to_ns(m, (13 * 3600 + 5 * 60 + 9) * NS);
    cmos_set(0x0b, 0x06); /* binary, 24h */
    static const reg_want w1[] = {{0x04, 13}, {0x02, 5}, {0x00, 9},
                                  {0x09, 26}, {0x32, 20}};
    check_regs(w1, VP_ARRAY_SIZE(w1));
    cmos_set(0x0b, 0x04); /* binary, 12h: 1 PM */
    ck_assert_uint_eq(cmos(0x04), 0x81);
    cmos_set(0x0b, 0x00); /* BCD, 12h */
    ck_assert_uint_eq(cmos(0x04), 0x81);
    unit_run_to_ns(m, (24 * 3600 + 30 * 60) * NS); /* 00:30 is 12 AM */
    ck_assert_uint_eq(cmos(0x04), 0x12);
    unit_run_to_ns(m, (24 * 3600 + 23 * 3600) * NS); /* 23:00 is 11 PM */
    ck_assert_uint_eq(cmos(0x04), 0x91);
}
END_TEST

START_TEST(test_epoch_config)
{
    vp_machine_destroy(m);
    vp_config cfg = {0};
    vp_error err;
    cfg.ram_size = 16 << 20;
    cfg.ncpus = 1;
    cfg.rtc_epoch = 951827696; /* 2000-02-29 12:34:56 UTC, a Tuesday */
    vp_machine *mm = vp_machine_create(&cfg, NULL, &err);
    ck_assert_ptr_nonnull(mm);
    attach(mm);
    static const reg_want w[] = {
        {0x00, 0x56}, {0x02, 0x34}, {0x04, 0x12}, {0x06, 0x03},
        {0x07, 0x29}, {0x08, 0x02}, {0x09, 0x00}, {0x32, 0x20}};
    check_regs(w, VP_ARRAY_SIZE(w));
    unit_run_to_ns(m, (11 * 3600 + 25 * 60 + 4) * NS); /* to March 1st 00:00 */
    static const reg_want w2[] = {{0x07, 0x01}, {0x08, 0x03}, {0x04, 0x00},
                                  {0x06, 0x04}};
    check_regs(w2, VP_ARRAY_SIZE(w2));
}
END_TEST

START_TEST(test_set_time)
{
    cmos_set(0x0b, 0x82); /* SET: updates stop */
    static const reg_want set[] = {
        {0x32, 0x19}, {0x09, 0x99}, {0x08, 0x12}, {0x07, 0x31},
        {0x04, 0x23}, {0x02, 0x59}, {0x00, 0x58}, {0x06, 0x06}};
    for (size_t i = 0; i < VP_ARRAY_SIZE(set); i++)
        cmos_set(set[i].idx, set[i].want);
    check_regs(set, VP_ARRAY_SIZE(set));
    unit_run_to_ns(m, 5 * NS);
    ck_assert_uint_eq(cmos(0x00), 0x58);
    cmos_set(0x0b, 0x02);
    unit_run_to_ns(m, 7 * NS);
    /* 1999-12-31 23:59:58 + 2 s; the day-of-week counter steps too. */
    static const reg_want w[] = {
        {0x32, 0x20}, {0x09, 0x00}, {0x08, 0x01}, {0x07, 0x01},
        {0x04, 0x00}, {0x02, 0x00}, {0x00, 0x00}, {0x06, 0x07}};
    check_regs(w, VP_ARRAY_SIZE(w));
}
END_TEST

START_TEST(test_set_clears_uie)
{
    cmos_set(0x0b, 0x12);
    ck_assert_uint_eq(cmos(0x0b), 0x12);
    cmos_set(0x0b, 0x92);
    ck_assert_uint_eq(cmos(0x0b), 0x82);
}
END_TEST

/* Runs one second with a handler that reads register C on every IRQ8. */
static unsigned count_irqs_one_second(void)
{
    uint64_t end = vp_clock_now(&m->clock) + NS;
    unsigned n = 0;
    for (;;) {
        uint64_t d = vp_clock_next_deadline(&m->clock);
        if (d > end)
            break;
        vp_clock_skip_to(&m->clock, d);
        vp_clock_run_timers(&m->clock);
        if (irq8) {
            n++;
            uint8_t c = cmos(0x0c);
            ck_assert_uint_eq(c & 0xc0, 0xc0);
            ck_assert_int_eq(irq8, 0);
        }
    }
    return n;
}

START_TEST(test_periodic_rates)
{
    /* Table 4, 32.768 kHz time base. */
    static const struct { uint8_t rs; unsigned hz; } t[] = {
        {1, 256}, {2, 128}, {3, 8192}, {6, 1024}, {10, 64}, {15, 2}};
    for (size_t i = 0; i < VP_ARRAY_SIZE(t); i++) {
        cmos_set(0x0a, (uint8_t)(0x20 | t[i].rs));
        cmos_set(0x0b, 0x42); /* PIE */
        (void)cmos(0x0c);
        unsigned n = count_irqs_one_second();
        ck_assert_msg(n == t[i].hz, "RS=%u: %u interrupts, want %u", t[i].rs,
                      n, t[i].hz);
        cmos_set(0x0b, 0x02);
    }
    /* RS = 0: none. */
    cmos_set(0x0a, 0x20);
    cmos_set(0x0b, 0x42);
    (void)cmos(0x0c);
    ck_assert_uint_eq(count_irqs_one_second(), 0);
}
END_TEST

START_TEST(test_reg_c_clears)
{
    /* PF is set whatever PIE says; IRQF only when enabled. */
    unit_run_to_ns(m, NS / 100);
    ck_assert_uint_eq(cmos(0x0c), 0x40);
    ck_assert_uint_eq(cmos(0x0c), 0x00);
    ck_assert_int_eq(irq8, 0);
    cmos_set(0x0b, 0x42);
    unit_run_to_ns(m, NS / 50);
    ck_assert_int_eq(irq8, 1);
    ck_assert_uint_eq(irq8_edges, 1);
    /* Without a read of C the line stays high: no new edge. */
    unit_run_to_ns(m, NS / 25);
    ck_assert_uint_eq(irq8_edges, 1);
    ck_assert_uint_eq(cmos(0x0c), 0xc0);
    ck_assert_int_eq(irq8, 0);
    ck_assert_uint_eq(cmos(0x0c), 0x00);
}
END_TEST

START_TEST(test_update_interrupt)
{
    cmos_set(0x0a, 0x20); /* no periodic flag to muddle C */
    cmos_set(0x0b, 0x12); /* UIE */
    unit_run_to_ns(m, NS - 1);
    ck_assert_int_eq(irq8, 0);
    unit_run_to_ns(m, NS);
    ck_assert_int_eq(irq8, 1);
    ck_assert_uint_eq(cmos(0x0c), 0x90);
    ck_assert_uint_eq(cmos(0x00), 0x01);
}
END_TEST

START_TEST(test_alarm)
{
    cmos_set(0x0a, 0x20);
    cmos_set(0x01, 0x05);
    cmos_set(0x03, 0x00);
    cmos_set(0x05, 0x00);
    cmos_set(0x0b, 0x22); /* AIE */
    unit_run_to_ns(m, 4 * NS + NS / 2);
    ck_assert_int_eq(irq8, 0);
    ck_assert_uint_eq(cmos(0x0c), 0x10); /* updates happened, no alarm */
    unit_run_to_ns(m, 5 * NS);
    ck_assert_int_eq(irq8, 1);
    ck_assert_uint_eq(cmos(0x0c), 0xb0);
    /* Don't-care codes in all three bytes: every second. */
    cmos_set(0x01, 0xc0);
    cmos_set(0x03, 0xff);
    cmos_set(0x05, 0xc5);
    unit_run_to_ns(m, 6 * NS);
    ck_assert_int_eq(irq8, 1);
    ck_assert_uint_eq(cmos(0x0c), 0xb0);
    /* An hour byte no time can match never fires. */
    cmos_set(0x05, 0x24);
    unit_run_to_ns(m, 100 * NS);
    ck_assert_int_eq(irq8, 0);
    ck_assert_uint_eq(cmos(0x0c), 0x10);
}
END_TEST

START_TEST(test_alarm_polled)
{
    /* AF is kept up to date without AIE, for software that polls C. */
    cmos_set(0x01, 0x30);
    cmos_set(0x03, 0x01);
    cmos_set(0x05, 0x00);
    unit_run_to_ns(m, 60 * NS);
    ck_assert_uint_eq(cmos(0x0c) & 0x20, 0);
    unit_run_to_ns(m, 2 * 3600 * NS);
    ck_assert_uint_eq(cmos(0x0c) & 0x20, 0x20);
}
END_TEST

START_TEST(test_uip)
{
    unit_run_to_ns(m, NS - 300000);
    ck_assert_uint_eq(cmos(0x0a) & 0x80, 0);
    unit_run_to_ns(m, NS - 200000);
    ck_assert_uint_eq(cmos(0x0a) & 0x80, 0x80);
    ck_assert_uint_eq(cmos(0x00), 0x00);
    unit_run_to_ns(m, NS);
    ck_assert_uint_eq(cmos(0x0a) & 0x80, 0);
    ck_assert_uint_eq(cmos(0x00), 0x01);
    /* SET stops updates: no UIP. */
    cmos_set(0x0b, 0x82);
    unit_run_to_ns(m, 2 * NS - 100000);
    ck_assert_uint_eq(cmos(0x0a) & 0x80, 0);
}
END_TEST

START_TEST(test_divider_reset)
{
    unit_run_to_ns(m, 10 * NS + NS / 5);
    cmos_set(0x0a, 0x76); /* divider chain reset */
    unit_run_to_ns(m, 20 * NS);
    ck_assert_uint_eq(cmos(0x00), 0x10);
    cmos_set(0x0a, 0x26); /* first update half a second later */
    unit_run_to_ns(m, 20 * NS + NS / 2 - 1000);
    ck_assert_uint_eq(cmos(0x00), 0x10);
    unit_run_to_ns(m, 20 * NS + NS / 2);
    ck_assert_uint_eq(cmos(0x00), 0x11);
    unit_run_to_ns(m, 21 * NS + NS / 2);
    ck_assert_uint_eq(cmos(0x00), 0x12);
}
END_TEST

START_TEST(test_ram_and_index)
{
    cmos_set(0x40, 0xa5);
    cmos_set(0x7f, 0x5a);
    ck_assert_uint_eq(cmos(0x40), 0xa5);
    ck_assert_uint_eq(cmos(0x7f), 0x5a);
    /* Bit 7 of the index port is the NMI mask, not an address bit. */
    ck_assert_uint_eq(cmos(0xc0), 0xa5);
    ck_assert_uint_eq(vp_ioport_read(&m->io, 0x70, 1), 0xff);
    /* C and D are read-only. */
    cmos_set(0x0d, 0x00);
    ck_assert_uint_eq(cmos(0x0d), 0x80);
}
END_TEST

START_TEST(test_cmos_memory_sizes)
{
    static const struct {
        unsigned mb;
        unsigned ext, above16, above4g;
    } t[] = {
        {16, 15360, 0, 0},
        {64, 64512, 768, 0},
        {128, 0xffff, 1792, 0},
        {4096, 0xffff, 48896, 16384},
    };
    for (size_t i = 0; i < VP_ARRAY_SIZE(t); i++) {
        vp_machine_destroy(m);
        attach(unit_machine(t[i].mb));
        ck_assert_uint_eq(cmos(0x15) | cmos(0x16) << 8, 640);
        ck_assert_uint_eq(cmos(0x17) | cmos(0x18) << 8, t[i].ext);
        ck_assert_uint_eq(cmos(0x30) | cmos(0x31) << 8, t[i].ext);
        ck_assert_uint_eq(cmos(0x34) | cmos(0x35) << 8, t[i].above16);
        ck_assert_uint_eq(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16,
                          t[i].above4g);
        ck_assert_uint_eq(cmos(0x5f), 0); /* CPUs - 1 */
        unsigned sum = 0;
        for (uint8_t r = 0x10; r <= 0x2d; r++)
            sum += cmos(r);
        ck_assert_uint_eq(cmos(0x2e) << 8 | cmos(0x2f), sum);
    }
}
END_TEST

START_TEST(test_reset_keeps_time)
{
    cmos_set(0x40, 0x77);
    cmos_set(0x0b, 0x72); /* PIE AIE UIE */
    unit_run_to_ns(m, 3 * NS + 1000);
    ck_assert_int_eq(irq8, 1);
    vp_platform_reset(m);
    ck_assert_int_eq(irq8, 0);
    ck_assert_uint_eq(cmos(0x0b), 0x02);
    ck_assert_uint_eq(cmos(0x0c), 0x00);
    ck_assert_uint_eq(cmos(0x00), 0x03);
    ck_assert_uint_eq(cmos(0x40), 0x77);
    /* No interrupt is enabled: no timer is left running. */
    ck_assert_uint_eq(vp_clock_next_deadline(&m->clock), UINT64_MAX);
}
END_TEST

START_TEST(test_fuzz)
{
    uint32_t x = 4242;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        switch (r % 4) {
        case 0:
            vp_ioport_write(&m->io, 0x70, (r >> 3) & 0xff, 1);
            break;
        case 1:
            vp_ioport_write(&m->io, 0x71, (r >> 11) & 0xff, 1);
            break;
        case 2:
            (void)vp_ioport_read(&m->io, 0x71, 1);
            break;
        default:
            unit_run_to_ns(m, vp_clock_now(&m->clock) + (r >> 4) % 50000000);
            break;
        }
    }
    for (uint8_t i = 0; i < 0x0e; i++)
        (void)cmos(i);
}
END_TEST

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("dev_rtc");
    TCase *tc = tcase_create("rtc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_default_epoch);
    tcase_add_test(tc, test_time_advances);
    tcase_add_test(tc, test_binary_and_12h);
    tcase_add_test(tc, test_epoch_config);
    tcase_add_test(tc, test_set_time);
    tcase_add_test(tc, test_set_clears_uie);
    tcase_add_test(tc, test_periodic_rates);
    tcase_add_test(tc, test_reg_c_clears);
    tcase_add_test(tc, test_update_interrupt);
    tcase_add_test(tc, test_alarm);
    tcase_add_test(tc, test_alarm_polled);
    tcase_add_test(tc, test_uip);
    tcase_add_test(tc, test_divider_reset);
    tcase_add_test(tc, test_ram_and_index);
    tcase_add_test(tc, test_cmos_memory_sizes);
    tcase_add_test(tc, test_reset_keeps_time);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(rtc_suite)
