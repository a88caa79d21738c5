/* fw_cfg through ports 0x510/0x511: signature, ID, RAM size, CPU counts,
 * IRQ0 override, command line, the file directory and etc/e820 for
 * several RAM sizes, access widths (QEMU docs/specs/fw_cfg). */
#include <string.h>

#include "testsuites/unit/lib/unit.h"

#include "emu/dev/fwcfg.h"
#include "emu/dev/platform.h"

static vp_machine *m;

static void setup(void)
{
    m = unit_machine(64);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static void sel(uint16_t key)
{
    vp_ioport_write(&m->io, 0x510, key, 2);
}

static uint8_t rd(void)
{
    return (uint8_t)vp_ioport_read(&m->io, 0x511, 1);
}

static uint64_t rd_le(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)rd() << (8 * i);
    return v;
}

static uint64_t rd_be(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | rd();
    return v;
}

typedef struct { uint32_t size; uint16_t key; char name[57]; } dirent_t;

static int read_dir(dirent_t *d, int max)
{
    sel(0x19);
    int n = (int)rd_be(4);
    for (int i = 0; i < n; i++) {
        dirent_t e;
        e.size = (uint32_t)rd_be(4);
        e.key = (uint16_t)rd_be(2);
        (void)rd_be(2);
        for (int k = 0; k < 56; k++)
            e.name[k] = (char)rd();
        e.name[56] = 0;
        if (i < max)
            d[i] = e;
    }
    return n;
}

static const dirent_t *find(const dirent_t *d, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(d[i].name, name))
            return &d[i];
    return NULL;
}

START_TEST(test_signature_and_id)
{
    sel(0x0000);
    char sig[5] = {0};
    for (int i = 0; i < 4; i++)
        sig[i] = (char)rd();
    ck_assert_str_eq(sig, "QEMU");
    ck_assert_uint_eq(rd(), 0); /* past the end */
    sel(0x0001);
    ck_assert_uint_eq(rd_le(4), 1); /* traditional interface, no DMA */
    sel(0x8002);
    ck_assert_uint_eq(rd_le(4), 1); /* IRQ0 on I/O APIC pin 2 */
    sel(0x0002);
    ck_assert_uint_eq(rd_le(8) | rd_le(8), 0); /* UUID */
}
END_TEST

START_TEST(test_ram_and_cpus)
{
    static const unsigned mbs[] = {16, 64, 4096};
    for (size_t i = 0; i < VP_ARRAY_SIZE(mbs); i++) {
        vp_machine_destroy(m);
        m = unit_machine(mbs[i]);
        sel(0x0003);
        ck_assert_uint_eq(rd_le(8), (uint64_t)mbs[i] << 20);
        sel(0x0005);
        ck_assert_uint_eq(rd_le(2), 1);
        sel(0x000f);
        ck_assert_uint_eq(rd_le(2), 1);
    }
}
END_TEST

START_TEST(test_cpu_count)
{
    vp_machine_destroy(m);
    vp_config cfg = {0};
    vp_error err;
    cfg.ram_size = 16 << 20;
    cfg.ncpus = 3;
    m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_ptr_nonnull(m);
    sel(0x0005);
    ck_assert_uint_eq(rd_le(2), 3);
    sel(0x000f);
    ck_assert_uint_eq(rd_le(2), 3);
}
END_TEST

static void check_e820(const uint64_t (*want)[2], int nwant)
{
    dirent_t d[8];
    int n = read_dir(d, 8);
    ck_assert_int_ge(n, 1);
    const dirent_t *e = find(d, n < 8 ? n : 8, "etc/e820");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->size, 20u * (unsigned)nwant);
    sel(e->key);
    for (int i = 0; i < nwant; i++) {
        ck_assert_uint_eq(rd_le(8), want[i][0]);
        ck_assert_uint_eq(rd_le(8), want[i][1]);
        ck_assert_uint_eq(rd_le(4), 1); /* E820_RAM */
    }
    ck_assert_uint_eq(rd(), 0);
}

START_TEST(test_e820_64m)
{
    static const uint64_t want[][2] = {{0, 0xa0000},
                                       {0x100000, (64 << 20) - 0x100000}};
    check_e820(want, 2);
}
END_TEST

START_TEST(test_e820_above_4g)
{
    vp_machine_destroy(m);
    m = unit_machine(4096);
    static const uint64_t want[][2] = {{0, 0xa0000},
                                       {0x100000, 0xc0000000 - 0x100000},
                                       {0x100000000ull, 1ull << 30}};
    check_e820(want, 3);
}
END_TEST

START_TEST(test_cmdline)
{
    sel(0x0014);
    ck_assert_uint_eq(rd_le(4), 0); /* no command line: no item */
    vp_machine_destroy(m);
    vp_config cfg = {0};
    vp_error err;
    cfg.ram_size = 16 << 20;
    cfg.ncpus = 1;
    cfg.cmdline = "console=ttyS0 quiet";
    m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_ptr_nonnull(m);
    sel(0x0014);
    ck_assert_uint_eq(rd_le(4), strlen(cfg.cmdline) + 1);
    sel(0x0015);
    char buf[32];
    for (size_t i = 0; i <= strlen(cfg.cmdline); i++)
        buf[i] = (char)rd();
    ck_assert_str_eq(buf, cfg.cmdline);
}
END_TEST

START_TEST(test_access_widths)
{
    sel(0x0000);
    /* A byte read of the selector port reads data too (QEMU's combined
     * x86 port); a 16-bit read is not a valid access. */
    ck_assert_uint_eq(vp_ioport_read(&m->io, 0x510, 1), 'Q');
    ck_assert_uint_eq(vp_ioport_read(&m->io, 0x510, 2), 0xffff);
    ck_assert_uint_eq(rd(), 'E');
    /* A byte write is a data write, ignored: the selection stays. */
    vp_ioport_write(&m->io, 0x510, 0x01, 1);
    vp_ioport_write(&m->io, 0x511, 0x01, 1);
    ck_assert_uint_eq(rd(), 'M');
    /* Unknown keys read 0; the write-channel bit still selects. */
    sel(0x1234);
    ck_assert_uint_eq(rd_le(4), 0);
    sel(0x4000);
    ck_assert_uint_eq(rd(), 'Q');
    /* Reselecting starts over. */
    sel(0x0000);
    ck_assert_uint_eq(rd(), 'Q');
}
END_TEST

START_TEST(test_add_file_sorted)
{
    ck_assert_int_eq(vp_fwcfg_add_file(m->fwcfg, "etc/zzz", "zz", 2), 0);
    ck_assert_int_eq(vp_fwcfg_add_file(m->fwcfg, "bootorder", "b", 1), 0);
    ck_assert_int_eq(vp_fwcfg_add_file(m->fwcfg, "bootorder", "B!", 2), 0);
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[79] = 0;
    ck_assert_int_eq(vp_fwcfg_add_file(m->fwcfg, longname, "", 0), -1);
    dirent_t d[8];
    int n = read_dir(d, 8);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(d[0].name, "bootorder");
    ck_assert_str_eq(d[1].name, "etc/e820");
    ck_assert_str_eq(d[2].name, "etc/zzz");
    for (int i = 0; i < n; i++)
        ck_assert_uint_eq(d[i].key, 0x20 + i);
    ck_assert_uint_eq(d[0].size, 2);
    sel(d[0].key);
    ck_assert_uint_eq(rd(), 'B');
    ck_assert_uint_eq(rd(), '!');
}
END_TEST

START_TEST(test_reset_selects_signature)
{
    sel(0x0003);
    (void)rd();
    vp_platform_reset(m);
    ck_assert_uint_eq(rd(), 'Q');
}
END_TEST

START_TEST(test_fuzz)
{
    uint32_t x = 31337;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        unsigned size = 1u << ((r >> 2) % 3);
        uint16_t port = (uint16_t)(0x510 + ((r >> 4) & 1));
        if (r & 1)
            vp_ioport_write(&m->io, port, r >> 5, size);
        else
            (void)vp_ioport_read(&m->io, port, size);
    }
}
END_TEST

static Suite *fwcfg_suite(void)
{
    Suite *s = suite_create("dev_fwcfg");
    TCase *tc = tcase_create("fwcfg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_signature_and_id);
    tcase_add_test(tc, test_ram_and_cpus);
    tcase_add_test(tc, test_cpu_count);
    tcase_add_test(tc, test_e820_64m);
    tcase_add_test(tc, test_e820_above_4g);
    tcase_add_test(tc, test_cmdline);
    tcase_add_test(tc, test_access_widths);
    tcase_add_test(tc, test_add_file_sorted);
    tcase_add_test(tc, test_reset_selects_signature);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(fwcfg_suite)
