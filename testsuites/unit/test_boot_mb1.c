/* Multiboot 1 loading: ELF32 by program headers, the address fields
 * (a.out kludge) for flat binaries and ELF64 files, modules, and the
 * information structure byte by byte (Multiboot Specification 0.6.96,
 * "Boot information format"). */
#include "testsuites/unit/test_boot_images.h"

#define RAM_MB 256

/* An ELF32 Multiboot kernel: header in the first segment at 1 MiB, a data
 * segment with BSS at 2 MiB, entry at 1 MiB + 0x40. */
static void make_mb1_elf32(img *im, uint32_t flags)
{
    elf32_header(im, 3, 0x100040, 2);
    elf32_phdr(im, 0, T_PT_LOAD, 0x1000, 0x100000, 0x100000, 0x200, 0x200);
    elf32_phdr(im, 1, T_PT_LOAD, 0x1200, 0x200000, 0x200000, 0x10, 0x3000);
    img_pattern(im, 0x1000, 0x200, 0x11);
    mb1_header(im, 0x1000, flags);
    img_pattern(im, 0x1200, 0x10, 0x77);
}

START_TEST(elf32_segments_and_entry)
{
    vp_machine *m = unit_machine(RAM_MB);
    img im = {0};
    make_mb1_elf32(&im, 0x3);
    const char *path = img_file(&im, 0);
    /* BSS must be zeroed even over old contents (a reset reloads). */
    uint8_t junk[0x3000];
    memset(junk, 0xaa, sizeof(junk));
    vp_phys_write(&m->mem, 0x200000, junk, sizeof(junk));

    boot_ok(m, path, "console=ttyS0 quiet");
    vp_cpu *c = m->cpus[0];
    ck_assert_uint_eq(c->gpr[R_AX], MB1_BOOT);
    ck_assert_uint_eq(c->rip, 0x100040);
    ck_assert(guest_eq(m, 0x100000, im.d + 0x1000, 0x200));
    ck_assert(guest_eq(m, 0x200000, im.d + 0x1200, 0x10));
    ck_assert(guest_all(m, 0x200010, 0, 0x3000 - 0x10));
    /* The information structure sits at 64 KiB (docs/usage.md). */
    ck_assert_uint_eq(c->gpr[R_BX], 0x10000);
    img_free(&im);
    file_remove(path);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(elf32_entry_virtual_to_physical)
{
    /* A higher-half kernel: linked at 0xC0100000, loaded at 1 MiB; the
     * CPU starts with paging off, so the entry must become physical. */
    vp_machine *m = unit_machine(64);
    img im = {0};
    elf32_header(&im, 3, 0xC0100020, 1);
    elf32_phdr(&im, 0, T_PT_LOAD, 0x1000, 0xC0100000, 0x100000, 0x100,
               0x100);
    img_pattern(&im, 0x1000, 0x100, 3);
    mb1_header(&im, 0x1000, 0);
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->rip, 0x100020);
    ck_assert(guest_eq(m, 0x100000, im.d + 0x1000, 0x100));
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(info_structure)
{
    vp_machine *m = unit_machine(RAM_MB);
    img im = {0};
    make_mb1_elf32(&im, 0x3);
    const char *path = img_file(&im, 0);
    img mod1 = {0}, mod2 = {0};
    img_pattern(&mod1, 0, 5000, 0x42);
    img_pattern(&mod2, 0, 3, 0x99);
    const char *p1 = img_file(&mod1, 1), *p2 = img_file(&mod2, 2);
    m->cfg.modules[0] = (vp_module_spec){p1, "first arg=1"};
    m->cfg.modules[1] = (vp_module_spec){p2, NULL};
    m->cfg.nmodules = 2;
    boot_ok(m, path, "root=/dev/vda");

    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_BX];
    uint32_t flags = g32(m, mbi);
    /* mem (0), cmdline (2), mods (3), mmap (6), boot_loader_name (9). */
    ck_assert_uint_eq(flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) |
                                 (1u << 9));
    ck_assert_uint_eq(g32(m, mbi + 4), 640);
    ck_assert_uint_eq(g32(m, mbi + 8), (RAM_MB - 1) * 1024);
    ck_assert_str_eq(gstr(m, g32(m, mbi + 16)), "root=/dev/vda");
    ck_assert(!strncmp(gstr(m, g32(m, mbi + 64)), "Vanderpool ", 11));

    /* Modules: page-aligned, above the image, contents and strings. */
    ck_assert_uint_eq(g32(m, mbi + 20), 2);
    uint32_t mods = g32(m, mbi + 24);
    uint32_t s1 = g32(m, mods), e1 = g32(m, mods + 4);
    uint32_t s2 = g32(m, mods + 16), e2 = g32(m, mods + 20);
    ck_assert_uint_eq(s1 & 0xfff, 0);
    ck_assert_uint_eq(s2 & 0xfff, 0);
    ck_assert_uint_ge(s1, 0x203000);
    ck_assert_uint_eq(e1 - s1, 5000);
    ck_assert_uint_eq(e2 - s2, 3);
    ck_assert(s2 >= e1 || e2 <= s1);
    ck_assert(guest_eq(m, s1, mod1.d, 5000));
    ck_assert(guest_eq(m, s2, mod2.d, 3));
    ck_assert_str_eq(gstr(m, g32(m, mods + 8)), "first arg=1");
    ck_assert_str_eq(gstr(m, g32(m, mods + 24)), "");
    ck_assert_uint_eq(g32(m, mods + 12), 0);

    /* Memory map: size-prefixed entries, sorted, RAM exactly as built. */
    uint32_t len = g32(m, mbi + 44), map = g32(m, mbi + 48);
    ck_assert_uint_eq(len % 24, 0);
    ck_assert_uint_ge(len / 24, 3);
    bool low = false, high = false, rom = false;
    uint64_t prev_end = 0;
    for (uint32_t a = map; a < map + len; a += g32(m, a) + 4) {
        ck_assert_uint_eq(g32(m, a), 20);
        uint64_t base = g64(m, a + 4), l = g64(m, a + 12);
        uint32_t type = g32(m, a + 20);
        ck_assert_uint_ge(base, prev_end);
        prev_end = base + l;
        if (type == 1) {
            ck_assert(base == 0 || base == 0x100000);
            if (base == 0) {
                ck_assert_uint_eq(l, 0xa0000);
                low = true;
            } else {
                ck_assert_uint_eq(l, (uint64_t)(RAM_MB - 1) << 20);
                high = true;
            }
        } else {
            ck_assert_uint_eq(type, 2);
            if (base == 0xc0000 && l == 0x40000)
                rom = true;
        }
    }
    ck_assert(low && high && rom);

    /* Nothing the loader wrote overlaps the image or the modules. */
    ck_assert(mbi + 116 <= 0x100000);
    ck_assert(guest_eq(m, 0x100000, im.d + 0x1000, 0x200));
    img_free(&im);
    img_free(&mod1);
    img_free(&mod2);
    file_remove(path);
    file_remove(p1);
    file_remove(p2);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(no_cmdline_gives_empty_string)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb1_elf32(&im, 0);
    boot_img(m, &im, NULL);
    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_BX];
    ck_assert_str_eq(gstr(m, g32(m, mbi + 16)), "");
    ck_assert_uint_eq(g32(m, mbi + 20), 0);
    ck_assert_uint_eq(g32(m, mbi + 8), 31 * 1024);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(video_mode_request_is_accepted)
{
    /* Flag bit 2 asks for a video mode; with no framebuffer the kernel
     * boots in text mode and the info has no video fields (bits 11/12). */
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb1_elf32(&im, 0x7);
    img_u32(&im, 0x1000 + 32, 0);
    img_u32(&im, 0x1000 + 36, 1024);
    img_u32(&im, 0x1000 + 40, 768);
    img_u32(&im, 0x1000 + 44, 32);
    boot_img(m, &im, NULL);
    uint32_t flags = g32(m, (uint32_t)m->cpus[0]->gpr[R_BX]);
    ck_assert_uint_eq(flags & ((1u << 11) | (1u << 12)), 0);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(aout_kludge_flat_binary)
{
    /* A flat binary: header at file offset 0x20, loaded from the start of
     * the file at 1 MiB, BSS to load_end + 0x1800. */
    vp_machine *m = unit_machine(32);
    img im = {0};
    img_pattern(&im, 0, 0x300, 0x5a);
    mb1_header(&im, 0x20, 0x10003);
    mb1_addr(&im, 0x20, 0x100020, 0x100000, 0x100300, 0x101b00, 0x100080);
    uint8_t junk[0x1800];
    memset(junk, 0xcc, sizeof(junk));
    vp_phys_write(&m->mem, 0x100300, junk, sizeof(junk));
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->rip, 0x100080);
    ck_assert_uint_eq(m->cpus[0]->gpr[R_AX], MB1_BOOT);
    ck_assert(guest_eq(m, 0x100000, im.d, 0x300));
    ck_assert(guest_all(m, 0x100300, 0, 0x1800));
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(aout_kludge_offset_and_whole_file)
{
    /* Header at file offset 0x1000 with header_addr - load_addr = 0x800:
     * loading starts at file offset 0x800; load_end_addr 0 means "to the
     * end of the file". */
    vp_machine *m = unit_machine(32);
    img im = {0};
    img_pattern(&im, 0, 0x1400, 0x21);
    mb1_header(&im, 0x1000, 0x10000);
    mb1_addr(&im, 0x1000, 0x300800, 0x300000, 0, 0, 0x300900);
    boot_img(m, &im, NULL);
    ck_assert(guest_eq(m, 0x300000, im.d + 0x800, 0x1400 - 0x800));
    ck_assert_uint_eq(m->cpus[0]->rip, 0x300900);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(elf64_through_address_fields)
{
    /* An ELF64 file is loaded by the address fields, not by its program
     * headers (which here point elsewhere on purpose). */
    vp_machine *m = unit_machine(32);
    img im = {0};
    elf64_header(&im, 62, 0x400000, 1);
    elf64_phdr(&im, 0, T_PT_LOAD, 0, 0x400000, 0x400000, 0x800, 0x800);
    img_pattern(&im, 0x100, 0x700, 0x3c);
    mb1_header(&im, 0x100, 0x10000);
    mb1_addr(&im, 0x100, 0x180100, 0x180000, 0x180800, 0x181000, 0x180200);
    boot_img(m, &im, NULL);
    ck_assert(guest_eq(m, 0x180000, im.d, 0x800));
    ck_assert(guest_all(m, 0x180800, 0, 0x800));
    ck_assert(guest_all(m, 0x400000, 0, 0x100));
    ck_assert_uint_eq(m->cpus[0]->rip, 0x180200);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(info_avoids_low_image)
{
    /* A kernel loaded at 64 KiB pushes the information structure
     * elsewhere: it must not overlap any loaded byte. */
    vp_machine *m = unit_machine(32);
    img im = {0};
    img_pattern(&im, 0, 0x2000, 0x61);
    mb1_header(&im, 0, 0x10000);
    mb1_addr(&im, 0, 0x10000, 0x10000, 0x12000, 0x20000, 0x10010);
    boot_img(m, &im, "x");
    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_BX];
    ck_assert(mbi + 116 <= 0x10000 || mbi >= 0x20000);
    ck_assert(guest_eq(m, 0x10000, im.d, 0x2000));
    ck_assert(guest_all(m, 0x12000, 0, 0xe000));
    ck_assert_str_eq(gstr(m, g32(m, mbi + 16)), "x");
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(reload_is_repeatable)
{
    /* A platform reset loads the image again into the same machine. */
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb1_elf32(&im, 0);
    const char *path = img_file(&im, 0);
    boot_ok(m, path, "a");
    uint64_t bx = m->cpus[0]->gpr[R_BX];
    boot_ok(m, path, "a");
    ck_assert_uint_eq(m->cpus[0]->gpr[R_BX], bx);
    img_free(&im);
    file_remove(path);
    vp_machine_destroy(m);
}
END_TEST

static Suite *boot_mb1_suite(void)
{
    Suite *s = suite_create("boot_mb1");
    TCase *tc = tcase_create("multiboot1");
    tcase_add_test(tc, elf32_segments_and_entry);
    tcase_add_test(tc, elf32_entry_virtual_to_physical);
    tcase_add_test(tc, info_structure);
    tcase_add_test(tc, no_cmdline_gives_empty_string);
    tcase_add_test(tc, video_mode_request_is_accepted);
    tcase_add_test(tc, aout_kludge_flat_binary);
    tcase_add_test(tc, aout_kludge_offset_and_whole_file);
    tcase_add_test(tc, elf64_through_address_fields);
    tcase_add_test(tc, info_avoids_low_image);
    tcase_add_test(tc, reload_is_repeatable);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(boot_mb1_suite)
