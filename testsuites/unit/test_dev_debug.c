/* Port 0xE9 debug console and the isa-debug-exit device at 0xF4: bytes
 * to the chardev, readback 0xE9, stop codes (value << 1) | 1 for every
 * access width and port of the device. */
#include "testsuites/unit/lib/unit.h"

static vp_machine *m;
static uint8_t con[64];
static size_t ncon;

static void capture(void *opaque, const uint8_t *buf, size_t n)
{
    (void)opaque;
    for (size_t i = 0; i < n && ncon < sizeof(con); i++)
        con[ncon++] = buf[i];
}

static void setup(void)
{
    m = unit_machine(16);
    ncon = 0;
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

START_TEST(test_debugcon)
{
    vp_ioport_write(&m->io, 0xe9, 'o', 1); /* no chardev: discarded */
    m->cfg.debugcon.write = capture;
    vp_ioport_write(&m->io, 0xe9, 'o', 1);
    vp_ioport_write(&m->io, 0xe9, 'k', 1);
    ck_assert_uint_eq(ncon, 2);
    ck_assert_mem_eq(con, "ok", 2);
    ck_assert_uint_eq(vp_ioport_read(&m->io, 0xe9, 1), 0xe9);
    ck_assert_int_eq(m->stop, VP_STOP_NONE);
}
END_TEST

static const struct {
    uint16_t port;
    unsigned size;
    uint32_t value;
    int code;
} exits[] = {
    {0xf4, 1, 0x00, 1},       {0xf4, 1, 0x01, 3},
    {0xf4, 1, 0x7f, 0xff},    {0xf4, 2, 0x1234, 0x2469},
    {0xf4, 4, 0x10, 0x21},    {0xf5, 1, 0x02, 5},
    {0xf7, 1, 0x03, 7},
    /* Bit 31 of (value << 1) | 1 does not fit an int status: dropped. */
    {0xf4, 4, 0x40000000, 1}, {0xf4, 4, 0x3fffffff, 0x7fffffff},
};

START_TEST(test_debug_exit)
{
    vp_ioport_write(&m->io, exits[_i].port, exits[_i].value,
                    exits[_i].size);
    ck_assert_int_eq(m->stop, VP_STOP_DEBUG_EXIT);
    ck_assert_int_eq(m->exit_code, exits[_i].code);
}
END_TEST

START_TEST(test_debug_exit_read_and_first_wins)
{
    ck_assert_uint_eq(vp_ioport_read(&m->io, 0xf4, 1), 0);
    ck_assert_int_eq(m->stop, VP_STOP_NONE);
    vp_ioport_write(&m->io, 0xf4, 2, 1);
    vp_ioport_write(&m->io, 0xf4, 9, 1);
    ck_assert_int_eq(m->exit_code, 5);
}
END_TEST

static Suite *debug_suite(void)
{
    Suite *s = suite_create("dev_debug");
    TCase *tc = tcase_create("debug");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_debugcon);
    tcase_add_loop_test(tc, test_debug_exit, 0, (int)VP_ARRAY_SIZE(exits));
    tcase_add_test(tc, test_debug_exit_read_and_first_wins);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(debug_suite)
