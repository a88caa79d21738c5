/* Plain ELF64 boot (no Multiboot header): segments at their physical
 * addresses, entry in 64-bit long mode with the first 4 GiB
 * identity-mapped, RSP/RDI/RSI as docs/usage.md documents. */
#include "testsuites/unit/test_boot_images.h"

static void make_elf64(img *im, uint64_t paddr, uint64_t filesz,
                       uint64_t memsz, uint64_t entry)
{
    elf64_header(im, 62, entry, 2);
    /* A PT_NOTE first: only PT_LOAD segments are loaded. */
    elf64_phdr(im, 0, T_PT_NOTE, 0x100, 0, 0x3000000, 0x10, 0x10);
    elf64_phdr(im, 1, T_PT_LOAD, 0x1000, paddr, paddr, filesz, memsz);
    img_pattern(im, 0x1000, filesz, 0x2b);
}

START_TEST(entry_state)
{
    vp_machine *m = unit_machine(64);
    img im = {0};
    make_elf64(&im, 0x200000, 0x300, 0x2000, 0x200040);
    boot_img(m, &im, "elf64 args");
    vp_cpu *c = m->cpus[0];
    ck_assert_uint_eq(c->rip, 0x200040);
    ck_assert(guest_eq(m, 0x200000, im.d + 0x1000, 0x300));
    ck_assert(guest_all(m, 0x200300, 0, 0x1d00));
    ck_assert(guest_all(m, 0x3000000, 0, 0x10));
    /* Stack top 0x80000 with a zero return address below it. */
    ck_assert_uint_eq(c->gpr[R_SP], 0x7fff8);
    ck_assert_uint_eq(g64(m, 0x7fff8), 0);
    /* Page tables at 0x1000, long mode on. */
    ck_assert_uint_eq(c->cr3 & ~0xfffull, 0x1000);
    ck_assert(c->efer & EFER_LMA);
    ck_assert(c->cr0 & CR0_PG);
    ck_assert_uint_eq(g64(m, 0x1000) & 1, 1);
    /* RDI = RBX = Multiboot 2 information, RSI = RAX = its magic. */
    ck_assert_uint_eq(c->gpr[R_DI], 0x10000);
    ck_assert_uint_eq(c->gpr[R_BX], 0x10000);
    ck_assert_uint_eq(c->gpr[R_SI], MB2_BOOT);
    ck_assert_uint_eq(c->gpr[R_AX], MB2_BOOT);
    uint32_t mbi = 0x10000;
    uint32_t total = g32(m, mbi);
    ck_assert_uint_gt(total, 16);
    /* First tag: command line. */
    ck_assert_uint_eq(g32(m, mbi + 8), 1);
    ck_assert_str_eq(gstr(m, mbi + 16), "elf64 args");
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(low_image_moves_boot_data)
{
    /* The image covers [0x1000, 0x90000): page tables, stack and
     * information go where the image is not. */
    vp_machine *m = unit_machine(64);
    img im = {0};
    make_elf64(&im, 0x1000, 0x1000, 0x8f000, 0x1000);
    boot_img(m, &im, NULL);
    vp_cpu *c = m->cpus[0];
    uint64_t pt = c->cr3 & ~0xfffull, sp = c->gpr[R_SP], mbi = c->gpr[R_DI];
    ck_assert(pt >= 0x90000);
    ck_assert(sp > 0x90000);
    ck_assert(mbi >= 0x90000);
    ck_assert(pt + 0x7000 <= mbi || mbi + g32(m, mbi) <= pt);
    ck_assert(guest_eq(m, 0x1000, im.d + 0x1000, 0x1000));
    ck_assert(guest_all(m, 0x2000, 0, 0x8e000));
    img_free(&im);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(modules_are_listed)
{
    vp_machine *m = unit_machine(64);
    img im = {0};
    make_elf64(&im, 0x200000, 0x100, 0x100, 0x200000);
    const char *path = img_file(&im, 0);
    img mod = {0};
    img_pattern(&mod, 0, 100, 0x55);
    const char *mp = img_file(&mod, 1);
    m->cfg.modules[0] = (vp_module_spec){mp, "m0"};
    m->cfg.nmodules = 1;
    boot_ok(m, path, NULL);
    uint32_t mbi = (uint32_t)m->cpus[0]->gpr[R_DI];
    bool found = false;
    for (uint32_t t = mbi + 8; t < mbi + g32(m, mbi);
         t += (g32(m, t + 4) + 7) & ~7u) {
        if (g32(m, t) == 0)
            break;
        if (g32(m, t) == 3) {
            uint32_t s = g32(m, t + 8);
            ck_assert_uint_eq(g32(m, t + 12) - s, 100);
            ck_assert(guest_eq(m, s, mod.d, 100));
            ck_assert_str_eq(gstr(m, t + 16), "m0");
            found = true;
        }
    }
    ck_assert(found);
    img_free(&im);
    img_free(&mod);
    file_remove(path);
    file_remove(mp);
    vp_machine_destroy(m);
}
END_TEST

static Suite *boot_elf64_suite(void)
{
    Suite *s = suite_create("boot_elf64");
    TCase *tc = tcase_create("elf64");
    tcase_add_test(tc, entry_state);
    tcase_add_test(tc, low_image_moves_boot_data);
    tcase_add_test(tc, modules_are_listed);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(boot_elf64_suite)
