/* Multiboot 2 loading: header tags (Multiboot2 Specification 2.0, "OS
 * image format"), ELF32/ELF64 and the address tag, and the information
 * tags ("Boot information format"). */
#include "testsuites/unit/test_boot_images.h"

#define RAM_MB 128

/* ELF64 kernel at 1 MiB with a Multiboot 2 header at file offset 0x1000
 * (start of its only segment); `tags` adds header tags before the end. */
typedef void (*add_tags_fn)(mb2h *h);

static void make_mb2_elf64(img *im, add_tags_fn tags)
{
    elf64_header(im, 62, 0x100100, 1);
    elf64_phdr(im, 0, T_PT_LOAD, 0x1000, 0x100000, 0x100000, 0x400, 0x1000);
    img_pattern(im, 0x1000, 0x400, 0x31);
    mb2h h = mb2_begin(im, 0x1000);
    if (tags)
        tags(&h);
    mb2_end(&h);
}

/* Address of the k-th information tag of `type`, or 0. */
static uint32_t find_tag(vp_machine *m, uint32_t mbi, uint32_t type, int k)
{
    uint32_t total = g32(m, mbi);
    for (uint32_t t = mbi + 8; t + 8 <= mbi + total;) {
        uint32_t ty = g32(m, t), size = g32(m, t + 4);
        ck_assert_uint_eq(t & 7, 0);
        ck_assert_uint_ge(size, 8);
        if (ty == type && k-- == 0)
            return t;
        if (ty == 0)
            break;
        t += (size + 7) & ~7u;
    }
    return 0;
}

static void req_basic(mb2h *h)
{
    static const uint32_t want[] = {1, 2, 3, 4, 6};
    mb2_tag(h, 1, 0, want, 5);
}

START_TEST(elf64_and_information_tags)
{
    vp_machine *m = unit_machine(RAM_MB);
    img im = {0};
    make_mb2_elf64(&im, req_basic);
    const char *path = img_file(&im, 0);
    img mod = {0};
    img_pattern(&mod, 0, 9000, 0x17);
    const char *mp = img_file(&mod, 1);
    m->cfg.modules[0] = (vp_module_spec){mp, "initrd args"};
    m->cfg.nmodules = 1;
    boot_ok(m, path, "hello world");

    vp_cpu *c = m->cpus[0];
    ck_assert_uint_eq(c->gpr[R_AX], MB2_BOOT);
    ck_assert_uint_eq(c->rip, 0x100100);
    ck_assert(guest_eq(m, 0x100000, im.d + 0x1000, 0x400));
    ck_assert(guest_all(m, 0x100400, 0, 0xc00));
    uint32_t mbi = (uint32_t)c->gpr[R_BX];
    ck_assert_uint_eq(mbi & 7, 0);
    ck_assert_uint_eq(mbi, 0x10000);
    uint32_t total = g32(m, mbi);
    ck_assert_uint_eq(g32(m, mbi + 4), 0);

    uint32_t t = find_tag(m, mbi, 1, 0);
    ck_assert_uint_ne(t, 0);
    ck_assert_str_eq(gstr(m, t + 8), "hello world");
    ck_assert_uint_eq(g32(m, t + 4), 8 + strlen("hello world") + 1);

    t = find_tag(m, mbi, 2, 0);
    ck_assert_uint_ne(t, 0);
    ck_assert(!strncmp(gstr(m, t + 8), "Vanderpool ", 11));

    t = find_tag(m, mbi, 3, 0);
    ck_assert_uint_ne(t, 0);
    uint32_t ms = g32(m, t + 8), me = g32(m, t + 12);
    ck_assert_uint_eq(ms & 0xfff, 0);
    ck_assert_uint_ge(ms, 0x101000);
    ck_assert_uint_eq(me - ms, 9000);
    ck_assert(guest_eq(m, ms, mod.d, 9000));
    ck_assert_str_eq(gstr(m, t + 16), "initrd args");
    ck_assert_uint_eq(find_tag(m, mbi, 3, 1), 0);

    t = find_tag(m, mbi, 4, 0);
    ck_assert_uint_ne(t, 0);
    ck_assert_uint_eq(g32(m, t + 4), 16);
    ck_assert_uint_eq(g32(m, t + 8), 640);
    ck_assert_uint_eq(g32(m, t + 12), (RAM_MB - 1) * 1024);

    t = find_tag(m, mbi, 6, 0);
    ck_assert_uint_ne(t, 0);
    uint32_t size = g32(m, t + 4);
    ck_assert_uint_eq(g32(m, t + 8), 24);
    ck_assert_uint_eq(g32(m, t + 12), 0);
    ck_assert_uint_eq((size - 16) % 24, 0);
    int ram = 0;
    uint64_t prev_end = 0;
    for (uint32_t e = t + 16; e < t + size; e += 24) {
        uint64_t base = g64(m, e), len = g64(m, e + 8);
        uint32_t type = g32(m, e + 16);
        ck_assert_uint_eq(g32(m, e + 20), 0);
        ck_assert_uint_ge(base, prev_end);
        prev_end = base + len;
        if (type == 1) {
            ram++;
            if (base == 0)
                ck_assert_uint_eq(len, 0xa0000);
            else
                ck_assert(base == 0x100000 &&
                          len == (uint64_t)(RAM_MB - 1) << 20);
        }
    }
    ck_assert_int_eq(ram, 2);

    t = find_tag(m, mbi, 21, 0);
    ck_assert_uint_ne(t, 0);
    ck_assert_uint_eq(g32(m, t + 8), 0x100000);

    t = find_tag(m, mbi, 0, 0);
    ck_assert_uint_ne(t, 0);
    ck_assert_uint_eq(g32(m, t + 4), 8);
    ck_assert_uint_eq(t + 8 - mbi, total);

    img_free(&im);
    img_free(&mod);
    file_remove(path);
    file_remove(mp);
    vp_machine_destroy(m);
}
END_TEST

static void entry_tag(mb2h *h)
{
    static const uint32_t e[] = {0x100180};
    mb2_tag(h, 3, 0, e, 1);
}

START_TEST(entry_address_tag_overrides_elf)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb2_elf64(&im, entry_tag);
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->rip, 0x100180);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(elf32_image)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    elf32_header(&im, 3, 0x200010, 1);
    elf32_phdr(&im, 0, T_PT_LOAD, 0x800, 0x200000, 0x200000, 0x100, 0x100);
    img_pattern(&im, 0x800, 0x100, 0x44);
    mb2h h = mb2_begin(&im, 0x800);
    mb2_end(&h);
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->gpr[R_AX], MB2_BOOT);
    ck_assert_uint_eq(m->cpus[0]->rip, 0x200010);
    ck_assert(guest_eq(m, 0x200000, im.d + 0x800, 0x100));
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(address_tag_flat_binary)
{
    /* load_addr = -1: "the file must be loaded from its beginning", so the
     * header (file offset 0x40) lands at header_addr. */
    vp_machine *m = unit_machine(32);
    img im = {0};
    img_pattern(&im, 0, 0x600, 0x71);
    mb2h h = mb2_begin(&im, 0x40);
    uint32_t addr[] = {0x180040, 0xffffffff, 0x180600, 0x182000};
    mb2_tag(&h, 2, 0, addr, 4);
    uint32_t entry[] = {0x180100};
    mb2_tag(&h, 3, 0, entry, 1);
    mb2_end(&h);
    img_pattern(&im, h.pos, 0x600 - h.pos, 0x19);
    boot_img(m, &im, NULL);
    ck_assert(guest_eq(m, 0x180000, im.d, 0x600));
    ck_assert(guest_all(m, 0x180600, 0, 0x1a00));
    ck_assert_uint_eq(m->cpus[0]->rip, 0x180100);
    ck_assert_uint_eq(m->cpus[0]->gpr[R_AX], MB2_BOOT);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

static void known_but_unavailable(mb2h *h)
{
    /* Framebuffer (8), EFI memory map (17), ACPI (14): the specification
     * defines them, Vanderpool has nothing to put in them. */
    static const uint32_t want[] = {8, 17, 14};
    mb2_tag(h, 1, 0, want, 3);
    static const uint32_t fb[] = {1024, 768, 32};
    mb2_tag(h, 5, 0, fb, 3);
    mb2_tag(h, 6, 0, NULL, 0);                 /* module alignment */
    static const uint32_t cons[] = {2};        /* EGA text supported */
    mb2_tag(h, 4, 0, cons, 1);
}

START_TEST(known_requests_without_information)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb2_elf64(&im, known_but_unavailable);
    boot_img(m, &im, NULL);
    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_BX];
    ck_assert_uint_eq(find_tag(m, mbi, 8, 0), 0);
    ck_assert_uint_eq(find_tag(m, mbi, 17, 0), 0);
    ck_assert_uint_ne(find_tag(m, mbi, 6, 0), 0);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

static void optional_unknowns(mb2h *h)
{
    static const uint32_t want[] = {4, 99};
    mb2_tag(h, 1, 1, want, 2);                 /* optional request */
    static const uint32_t x[] = {1, 2};
    mb2_tag(h, 77, 1, x, 2);                   /* optional unknown tag */
    mb2_tag(h, 7, 1, NULL, 0);                 /* optional EFI BS */
    static const uint32_t e[] = {0x100100};
    mb2_tag(h, 9, 1, e, 1);                    /* optional EFI amd64 */
    static const uint32_t cons[] = {1};
    mb2_tag(h, 4, 1, cons, 1);                 /* optional console */
}

START_TEST(optional_tags_are_ignored)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb2_elf64(&im, optional_unknowns);
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->gpr[R_AX], MB2_BOOT);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

static void reloc_ok(mb2h *h)
{
    static const uint32_t r[] = {0x100000, 0x1000000, 0x1000, 0};
    mb2_tag(h, 10, 0, r, 4);
}

START_TEST(relocatable_within_range)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb2_elf64(&im, reloc_ok);
    boot_img(m, &im, NULL);
    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_BX];
    uint32_t t = find_tag(m, mbi, 21, 0);
    ck_assert_uint_eq(g32(m, t + 8), 0x100000);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(both_headers_prefer_mb2)
{
    vp_machine *m = unit_machine(32);
    img im = {0};
    make_mb2_elf64(&im, NULL);
    /* A Multiboot 1 header too, with the address fields Multiboot 1 needs
     * for an ELF64 file. */
    mb1_header(&im, 0x1020, 0x10000);
    mb1_addr(&im, 0x1020, 0x100020, 0x100000, 0x100400, 0, 0x100100);
    boot_img(m, &im, NULL);
    ck_assert_uint_eq(m->cpus[0]->gpr[R_AX], MB2_BOOT);
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

static Suite *boot_mb2_suite(void)
{
    Suite *s = suite_create("boot_mb2");
    TCase *tc = tcase_create("multiboot2");
    tcase_add_test(tc, elf64_and_information_tags);
    tcase_add_test(tc, entry_address_tag_overrides_elf);
    tcase_add_test(tc, elf32_image);
    tcase_add_test(tc, address_tag_flat_binary);
    tcase_add_test(tc, known_requests_without_information);
    tcase_add_test(tc, optional_tags_are_ignored);
    tcase_add_test(tc, relocatable_within_range);
    tcase_add_test(tc, both_headers_prefer_mb2);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(boot_mb2_suite)
