/* Reset and A20: port 0xCF9 (ICH RST_CNT), port 0x92 (PIIX4 port 92h),
 * and the 8042 (status, command byte, self test, output port, pulse
 * reset, A20 commands); A20 masking seen through guest memory. */
#include "testsuites/unit/lib/unit.h"

#include "emu/dev/platform.h"

static vp_machine *m;
static int irq1;

static void record(void *opaque, int irq, int level)
{
    (void)opaque;
    if (irq == 1)
        irq1 = level;
}

static void setup(void)
{
    m = unit_machine(16);
    irq1 = 0;
    vp_machine_add_isa_irq_sink(m, record, NULL);
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

static void kbc_cmd(uint8_t c)
{
    outb(0x64, c);
}

static bool a20_on(void)
{
    /* Write through 1 MiB + x and look at x. */
    uint8_t a = 0x11, b = 0x22, got;
    vp_phys_write(&m->mem, 0x1000, &a, 1);
    vp_phys_write(&m->mem, 0x101000, &b, 1);
    vp_phys_read(&m->mem, 0x1000, &got, 1);
    return got == 0x11;
}

START_TEST(test_cf9)
{
    ck_assert_uint_eq(inb(0xcf9), 0);
    outb(0xcf9, 0x02); /* hard reset selected, not started */
    ck_assert(!m->reset_requested);
    ck_assert_uint_eq(inb(0xcf9), 0x02);
    outb(0xcf9, 0x06); /* RST_CPU 0 -> 1 */
    ck_assert(m->reset_requested);
    ck_assert_uint_eq(inb(0xcf9), 0x06);
    m->reset_requested = false;
    outb(0xcf9, 0x06); /* no transition */
    ck_assert(!m->reset_requested);
    outb(0xcf9, 0x00);
    outb(0xcf9, 0x04); /* soft reset: performed as a platform reset */
    ck_assert(m->reset_requested);
    vp_platform_reset(m);
    ck_assert_uint_eq(inb(0xcf9), 0);
}
END_TEST

START_TEST(test_port92_a20)
{
    ck_assert(a20_on()); /* the 8042's A20 line powers on enabled */
    ck_assert_uint_eq(inb(0x92), 0x00);
    /* Disable through the 8042 output port (D1h): bit 0 stays 1 (no reset). */
    uint32_t gen = m->a20_gen;
    kbc_cmd(0xd1);
    outb(0x60, 0x01);
    ck_assert(!m->reset_requested);
    ck_assert(!a20_on());
    ck_assert_uint_eq(m->mem.a20_mask, ~(1ull << 20));
    ck_assert_uint_ne(m->a20_gen, gen);
    /* Port 92h bit 1 is ORed in. */
    outb(0x92, 0x02);
    ck_assert(a20_on());
    ck_assert_uint_eq(inb(0x92), 0x02);
    outb(0x92, 0x00);
    ck_assert(!a20_on());
    /* DFh / DDh. */
    kbc_cmd(0xdf);
    ck_assert(a20_on());
    kbc_cmd(0xdd);
    ck_assert(!a20_on());
    /* Platform reset: A20 on again. */
    vp_platform_reset(m);
    ck_assert(a20_on());
}
END_TEST

START_TEST(test_port92_fast_reset)
{
    outb(0x92, 0x02);
    ck_assert(!m->reset_requested);
    outb(0x92, 0x03);
    ck_assert(m->reset_requested);
}
END_TEST

START_TEST(test_kbc_reset_paths)
{
    kbc_cmd(0xfe);
    ck_assert(m->reset_requested);
    m->reset_requested = false;
    kbc_cmd(0xff); /* pulses nothing */
    ck_assert(!m->reset_requested);
    kbc_cmd(0xd1);
    outb(0x60, 0x02); /* output port bit 0 low: reset */
    ck_assert(m->reset_requested);
}
END_TEST

START_TEST(test_kbc_commands)
{
    ck_assert_uint_eq(inb(0x64) & 0x01, 0); /* output buffer empty */
    kbc_cmd(0x20);
    ck_assert_uint_eq(inb(0x64) & 0x01, 1);
    ck_assert_int_eq(irq1, 1); /* command byte bit 0: IRQ1 enabled */
    ck_assert_uint_eq(inb(0x60), 0x03);
    ck_assert_uint_eq(inb(0x64) & 0x01, 0);
    ck_assert_int_eq(irq1, 0);
    /* Write the command byte: SYS flag follows bit 2, IRQ1 off. */
    kbc_cmd(0x60);
    ck_assert_uint_eq(inb(0x64) & 0x08, 0x08); /* last write: command */
    outb(0x60, 0x44);
    ck_assert_uint_eq(inb(0x64) & 0x0c, 0x04);
    kbc_cmd(0x20);
    ck_assert_int_eq(irq1, 0);
    ck_assert_uint_eq(inb(0x60), 0x44);
    kbc_cmd(0xaa);
    ck_assert_uint_eq(inb(0x60), 0x55);
    kbc_cmd(0xab);
    ck_assert_uint_eq(inb(0x60), 0x00);
    kbc_cmd(0xad);
    kbc_cmd(0x20);
    ck_assert_uint_eq(inb(0x60), 0x54);
    kbc_cmd(0xd0);
    ck_assert_uint_eq(inb(0x60), 0x03);
    kbc_cmd(0xd2);
    outb(0x60, 0x99); /* as if the keyboard sent it */
    ck_assert_uint_eq(inb(0x64) & 0x21, 0x01);
    ck_assert_uint_eq(inb(0x60), 0x99);
    /* No keyboard: a byte for it times out. */
    outb(0x60, 0xff);
    ck_assert_uint_eq(inb(0x64) & 0x40, 0x40);
}
END_TEST

START_TEST(test_fuzz)
{
    static const uint16_t ports[] = {0x60, 0x64, 0x92, 0xcf9};
    uint32_t x = 5;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        if (r & 1)
            outb(ports[(r >> 1) % 4], (uint8_t)(r >> 8));
        else
            (void)inb(ports[(r >> 1) % 4]);
        if (m->reset_requested) {
            vp_platform_reset(m);
            m->reset_requested = false;
        }
    }
}
END_TEST

static Suite *sysctl_suite(void)
{
    Suite *s = suite_create("dev_sysctl");
    TCase *tc = tcase_create("sysctl");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cf9);
    tcase_add_test(tc, test_port92_a20);
    tcase_add_test(tc, test_port92_fast_reset);
    tcase_add_test(tc, test_kbc_reset_paths);
    tcase_add_test(tc, test_kbc_commands);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(sysctl_suite)
