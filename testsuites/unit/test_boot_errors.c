/* Images the loaders must refuse: each case fails vp_boot_load with one
 * line that names the file and the problem. Then a robustness sweep: every
 * truncation and many corruptions of valid images load or fail cleanly
 * (run under `make asan` to catch any out-of-bounds read). */
#include "testsuites/unit/test_boot_images.h"

/* A valid Multiboot 1 ELF32 kernel (the base many cases break). */
static void good_mb1(img *im)
{
    elf32_header(im, 3, 0x100010, 1);
    elf32_phdr(im, 0, T_PT_LOAD, 0x100, 0x100000, 0x100000, 0x100, 0x200);
    img_pattern(im, 0x100, 0x100, 1);
    mb1_header(im, 0x100, 0);
}

static void good_mb2(img *im)
{
    elf64_header(im, 62, 0x100010, 1);
    elf64_phdr(im, 0, T_PT_LOAD, 0x100, 0x100000, 0x100000, 0x100, 0x100);
    img_pattern(im, 0x100, 0x100, 2);
    mb2h h = mb2_begin(im, 0x100);
    mb2_end(&h);
}

static void good_elf64(img *im)
{
    elf64_header(im, 62, 0x200000, 1);
    elf64_phdr(im, 0, T_PT_LOAD, 0x100, 0x200000, 0x200000, 0x80, 0x1000);
    img_pattern(im, 0x100, 0x80, 3);
}

/* ---- the broken images ---------------------------------------------- */

static void e_empty(img *im) { (void)im; }
static void e_text(img *im) { img_put(im, 0, "#!/bin/sh\necho hi\n", 18); }
static void e_elf_short(img *im)
{
    good_elf64(im);
    im->len = 20;
}
static void e_elf_hdr_cut(img *im)
{
    good_elf64(im);
    im->len = 40;
}
static void e_bad_class(img *im)
{
    good_elf64(im);
    im->d[4] = 7;
}
static void e_big_endian(img *im)
{
    good_elf64(im);
    im->d[5] = 2;
}
static void e_bad_version(img *im)
{
    good_elf64(im);
    img_u32(im, 20, 5);
}
static void e_arm32(img *im)
{
    elf32_header(im, 40, 0x8000, 1);
    elf32_phdr(im, 0, T_PT_LOAD, 0x100, 0x8000, 0x8000, 0x10, 0x10);
    img_pattern(im, 0x100, 0x10, 4);
}
static void e_aarch64(img *im)
{
    good_elf64(im);
    img_u16(im, 18, 183);
}
static void e_riscv_mb1(img *im)
{
    good_mb1(im);
    img_u16(im, 18, 243);
}
static void e_pie(img *im)
{
    good_elf64(im);
    img_u16(im, 16, 3);
}
static void e_relocatable(img *im)
{
    good_elf64(im);
    img_u16(im, 16, 1);
}
static void e_no_phdrs(img *im)
{
    good_elf64(im);
    img_u16(im, 56, 0);
}
static void e_phnum_xnum(img *im)
{
    good_elf64(im);
    img_u16(im, 56, 0xffff);
}
static void e_phentsize(img *im)
{
    good_elf64(im);
    img_u16(im, 54, 20);
}
static void e_phdrs_past_eof(img *im)
{
    good_elf64(im);
    img_u64(im, 32, 0xfffffffffffffff0ull);
}
static void e_phdrs_cut(img *im)
{
    good_elf64(im);
    img_u16(im, 56, 40);
}
static void e_seg_past_eof(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 32, 0x10000);            /* p_filesz */
    img_u64(im, 64 + 40, 0x10000);
}
static void e_seg_offset_huge(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 8, 0xffffffffffffff00ull); /* p_offset */
}
static void e_filesz_gt_memsz(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 40, 0x10);
}
static void e_seg_hole(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0x9f800);             /* paddr: into 640K-1M */
}
static void e_seg_rom(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0xf0000);
}
static void e_seg_beyond_ram(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0x4000000);           /* 64 MiB, RAM is 32 */
}
static void e_seg_straddles_end(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0x1fff800);           /* runs past 32 MiB */
}
static void e_seg_mmio(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0xfec00000);
}
static void e_seg_above_4g(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0x100000000ull);
}
static void e_seg_wraps(img *im)
{
    good_elf64(im);
    img_u64(im, 64 + 24, 0xfffffffffffff000ull);
    img_u64(im, 64 + 40, 0x2000);
}
static void e_entry_outside(img *im)
{
    good_elf64(im);
    img_u64(im, 24, 0x900000);
}
static void e_no_load(img *im)
{
    good_elf64(im);
    img_u32(im, 64, T_PT_NOTE);
}
static void e_elf32_plain(img *im)
{
    good_mb1(im);
    memset(im->d + 0x100, 0, 12);              /* drop the header */
}
static void e_mb1_checksum(img *im)
{
    good_mb1(im);
    img_u32(im, 0x108, 0x12345678);
}
static void e_mb1_unknown_flag(img *im)
{
    good_mb1(im);
    mb1_header(im, 0x100, 1u << 5);
}
static void e_mb1_not_elf(img *im)
{
    img_pattern(im, 0, 0x100, 9);
    mb1_header(im, 0x40, 0);
}
static void e_mb1_elf64(img *im)
{
    good_elf64(im);
    mb1_header(im, 0x100, 0);
}
static void e_mb1_beyond_window(img *im)
{
    img_pattern(im, 0, 0x2100, 9);
    mb1_header(im, 8192, 0x10000);
    mb1_addr(im, 8192, 0x102000, 0x100000, 0, 0, 0x100000);
}
static void e_mb1_cut(img *im)
{
    img_pattern(im, 0, 0x20, 9);
    img_u32(im, 0x20, MB1_MAGIC);
    img_u32(im, 0x24, 0);
}
static void kludge(img *im, uint32_t hdr, uint32_t load, uint32_t end,
                   uint32_t bss, uint32_t entry)
{
    img_pattern(im, 0, 0x400, 9);
    mb1_header(im, 0x40, 0x10000);
    mb1_addr(im, 0x40, hdr, load, end, bss, entry);
}
static void e_k_load_above(img *im)
{
    kludge(im, 0x100040, 0x100080, 0, 0, 0x100080);
}
static void e_k_before_file(img *im)
{
    kludge(im, 0x100040, 0x0ff000, 0, 0, 0x100000);
}
static void e_k_end_below(img *im)
{
    kludge(im, 0x100040, 0x100000, 0xff000, 0, 0x100000);
}
static void e_k_end_past_file(img *im)
{
    kludge(im, 0x100040, 0x100000, 0x108000, 0, 0x100000);
}
static void e_k_bss_below(img *im)
{
    kludge(im, 0x100040, 0x100000, 0x100400, 0x100200, 0x100000);
}
static void e_k_entry_outside(img *im)
{
    kludge(im, 0x100040, 0x100000, 0x100400, 0x101000, 0x200000);
}
static void e_k_hole(img *im)
{
    kludge(im, 0x9ff40, 0x9ff00, 0, 0, 0x9ff00);
}
static void e_k_fields_cut(img *im)
{
    img_pattern(im, 0, 0x58, 9);
    mb1_header(im, 0x40, 0x10000);
    im->len = 0x58;
}
static void e_mb2_checksum(img *im)
{
    good_mb2(im);
    img_u32(im, 0x10c, 1);
}
static void e_mb2_mips(img *im)
{
    good_mb2(im);
    img_u32(im, 0x104, 4);
    img_u32(im, 0x10c, (uint32_t)-(MB2_MAGIC + 4 + 24));
}
static void e_mb2_arch(img *im)
{
    good_mb2(im);
    img_u32(im, 0x104, 9);
    img_u32(im, 0x10c, (uint32_t)-(MB2_MAGIC + 9 + 24));
}
static void e_mb2_len_past_eof(img *im)
{
    good_mb2(im);
    img_u32(im, 0x108, 0x100000);
    img_u32(im, 0x10c, (uint32_t)-(MB2_MAGIC + 0x100000));
}
static void e_mb2_len_small(img *im)
{
    good_mb2(im);
    img_u32(im, 0x108, 16);
    img_u32(im, 0x10c, (uint32_t)-(MB2_MAGIC + 16));
}
static void mb2_with(img *im, uint16_t type, uint16_t flags,
                     const uint32_t *w, int n)
{
    elf64_header(im, 62, 0x100010, 1);
    elf64_phdr(im, 0, T_PT_LOAD, 0x100, 0x100000, 0x100000, 0x100, 0x100);
    img_pattern(im, 0x100, 0x100, 2);
    mb2h h = mb2_begin(im, 0x100);
    mb2_tag(&h, type, flags, w, n);
    mb2_end(&h);
}
static void e_mb2_no_end(img *im)
{
    good_mb2(im);
    /* Replace the end tag by an optional unknown tag of the same size. */
    img_u16(im, 0x110, 50);
    img_u16(im, 0x112, 1);
}
static void e_mb2_tag_overflow(img *im)
{
    static const uint32_t w[] = {0};
    mb2_with(im, 3, 0, w, 1);
    img_u32(im, 0x114, 0x1000);                /* size past the header */
}
static void e_mb2_tag_short(img *im)
{
    static const uint32_t w[] = {0};
    mb2_with(im, 2, 0, w, 1);                  /* address tag, 12 bytes */
}
static void e_mb2_request(img *im)
{
    static const uint32_t w[] = {4, 6, 99};
    mb2_with(im, 1, 0, w, 3);
}
static void e_mb2_efi_bs(img *im) { mb2_with(im, 7, 0, NULL, 0); }
static void e_mb2_efi64(img *im)
{
    static const uint32_t w[] = {0x100010};
    mb2_with(im, 9, 0, w, 1);
}
static void e_mb2_unknown_tag(img *im)
{
    static const uint32_t w[] = {1};
    mb2_with(im, 42, 0, w, 1);
}
static void e_mb2_console(img *im)
{
    static const uint32_t w[] = {3};
    mb2_with(im, 4, 0, w, 1);
}
static void e_mb2_reloc(img *im)
{
    static const uint32_t w[] = {0x1000000, 0x2000000, 0x1000, 0};
    mb2_with(im, 10, 0, w, 4);
}
static void e_mb2_addr_no_entry(img *im)
{
    img_pattern(im, 0, 0x200, 5);
    mb2h h = mb2_begin(im, 0x40);
    uint32_t a[] = {0x100040, 0x100000, 0, 0};
    mb2_tag(&h, 2, 0, a, 4);
    mb2_end(&h);
}
static void e_mb2_not_elf(img *im)
{
    img_pattern(im, 0, 0x200, 5);
    mb2h h = mb2_begin(im, 0x40);
    mb2_end(&h);
}
static void e_mb2_beyond_window(img *im)
{
    img_pattern(im, 0, 0x8100, 5);
    mb2h h = mb2_begin(im, 0x7ff8);
    mb2_end(&h);
}

typedef struct err_case {
    const char *name;
    void (*build)(img *im);
    const char *want;       /* substring of the message */
    unsigned mem_mb;
} err_case;

static const err_case cases[] = {
    {"empty file", e_empty, "empty file", 32},
    {"not an image", e_text, "not a bootable image", 32},
    {"ELF ident only", e_elf_short, "truncated ELF header", 32},
    {"ELF header cut", e_elf_hdr_cut, "truncated ELF header", 32},
    {"bad class", e_bad_class, "invalid class", 32},
    {"big-endian", e_big_endian, "big-endian", 32},
    {"bad e_version", e_bad_version, "e_version", 32},
    {"ARM ELF32", e_arm32, "another machine: ARM", 32},
    {"AArch64 ELF64", e_aarch64, "another machine: AArch64", 32},
    {"RISC-V with MB1 header", e_riscv_mb1, "another machine: RISC-V", 32},
    {"PIE", e_pie, "not an ELF executable", 32},
    {"object file", e_relocatable, "relocatable object", 32},
    {"no program headers", e_no_phdrs, "no program headers", 32},
    {"PN_XNUM", e_phnum_xnum, "too many program headers", 32},
    {"small e_phentsize", e_phentsize, "e_phentsize", 32},
    {"phoff past EOF", e_phdrs_past_eof, "program headers", 32},
    {"phdr table cut", e_phdrs_cut, "program headers", 32},
    {"segment past EOF", e_seg_past_eof, "truncated ELF: segment 0", 32},
    {"huge p_offset", e_seg_offset_huge, "truncated ELF: segment 0", 32},
    {"filesz > memsz", e_filesz_gt_memsz, "p_filesz", 32},
    {"segment in 640K hole", e_seg_hole, "legacy hole", 32},
    {"segment in ROM", e_seg_rom, "legacy hole", 32},
    {"segment beyond RAM", e_seg_beyond_ram, "beyond the end of RAM", 32},
    {"segment straddles RAM end", e_seg_straddles_end,
     "beyond the end of RAM", 32},
    {"segment in MMIO window", e_seg_mmio, "MMIO window", 32},
    {"segment above 4 GiB", e_seg_above_4g, "does not fit below", 32},
    {"segment wraps", e_seg_wraps, "does not fit below", 32},
    {"entry outside segments", e_entry_outside, "entry point", 32},
    {"no PT_LOAD", e_no_load, "no loadable", 32},
    {"ELF32 without header", e_elf32_plain, "without a Multiboot header",
     32},
    {"MB1 bad checksum", e_mb1_checksum, "bad checksum", 32},
    {"MB1 unknown required flag", e_mb1_unknown_flag,
     "unknown required bits 0x20", 32},
    {"MB1 not ELF, no fields", e_mb1_not_elf, "not ELF", 32},
    {"MB1 ELF64 without fields", e_mb1_elf64, "ELF64 Multiboot 1", 32},
    {"MB1 header beyond 8 KiB", e_mb1_beyond_window, "not a bootable image",
     32},
    {"MB1 header cut", e_mb1_cut, "truncated", 32},
    {"kludge load_addr above header", e_k_load_above, "above header_addr",
     32},
    {"kludge before file", e_k_before_file, "before the beginning", 32},
    {"kludge end below load", e_k_end_below, "load_end_addr", 32},
    {"kludge end past file", e_k_end_past_file, "truncated image", 32},
    {"kludge bss below data", e_k_bss_below, "bss_end_addr", 32},
    {"kludge entry outside", e_k_entry_outside, "entry address", 32},
    {"kludge into hole", e_k_hole, "legacy hole", 32},
    {"kludge fields cut", e_k_fields_cut, "address fields", 32},
    {"MB2 bad checksum", e_mb2_checksum, "bad checksum", 32},
    {"MB2 MIPS", e_mb2_mips, "MIPS", 32},
    {"MB2 unknown arch", e_mb2_arch, "unknown architecture 9", 32},
    {"MB2 length past EOF", e_mb2_len_past_eof, "past the end of the file",
     32},
    {"MB2 length too small", e_mb2_len_small, "too small", 32},
    {"MB2 no end tag", e_mb2_no_end, "no end tag", 32},
    {"MB2 tag overflows", e_mb2_tag_overflow, "malformed entry address tag",
     32},
    {"MB2 address tag short", e_mb2_tag_short, "malformed address tag", 32},
    {"MB2 unknown request", e_mb2_request, "information tag type 99", 32},
    {"MB2 EFI boot services", e_mb2_efi_bs, "EFI boot services", 32},
    {"MB2 EFI amd64 entry", e_mb2_efi64, "EFI amd64 entry", 32},
    {"MB2 unknown tag", e_mb2_unknown_tag, "type 42", 32},
    {"MB2 console required", e_mb2_console, "console", 32},
    {"MB2 relocation needed", e_mb2_reloc, "relocatable", 32},
    {"MB2 address without entry", e_mb2_addr_no_entry,
     "no entry address tag", 32},
    {"MB2 not ELF, no address", e_mb2_not_elf, "not ELF", 32},
    {"MB2 header beyond 32 KiB", e_mb2_beyond_window,
     "not within the first 32768 bytes", 32},
};

/* The message: one line, starting with the file name. */
static void check_message(const char *msg, const char *path, const char *want,
                          const char *name)
{
    ck_assert_msg(strncmp(msg, path, strlen(path)) == 0 &&
                      msg[strlen(path)] == ':',
                  "%s: message does not start with the file: %s", name, msg);
    ck_assert_msg(!strchr(msg, '\n'), "%s: message has a newline: %s", name,
                  msg);
    ck_assert_msg(strstr(msg, want), "%s: message '%s' lacks '%s'", name, msg,
                  want);
}

START_TEST(malformed_images)
{
    const err_case *ec = &cases[_i];
    vp_machine *m = unit_machine(ec->mem_mb);
    img im = {0};
    ec->build(&im);
    const char *path = img_file(&im, 0);
    vp_error err;
    int r = boot_file(m, path, NULL, &err);
    ck_assert_msg(r == -1, "%s: loaded", ec->name);
    check_message(err.msg, path, ec->want, ec->name);
    img_free(&im);
    file_remove(path);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(missing_kernel)
{
    vp_machine *m = unit_machine(32);
    vp_error err;
    const char *path = "/nonexistent/vp-kernel.elf";
    ck_assert_int_eq(boot_file(m, path, NULL, &err), -1);
    check_message(err.msg, path, "cannot open: No such file", "missing");
    ck_assert_int_eq(boot_file(m, "/tmp", NULL, &err), -1);
    check_message(err.msg, "/tmp", "is a directory", "directory");
    vp_machine_destroy(m);
}
END_TEST

START_TEST(module_errors)
{
    vp_machine *m = unit_machine(4);
    img im = {0};
    good_mb1(&im);
    const char *path = img_file(&im, 0);
    vp_error err;

    m->cfg.modules[0] = (vp_module_spec){"/nonexistent/mod.bin", "x"};
    m->cfg.nmodules = 1;
    ck_assert_int_eq(boot_file(m, path, NULL, &err), -1);
    check_message(err.msg, "/nonexistent/mod.bin",
                  "cannot open module: No such file", "missing module");

    m->cfg.modules[0] = (vp_module_spec){"/tmp", NULL};
    ck_assert_int_eq(boot_file(m, path, NULL, &err), -1);
    check_message(err.msg, "/tmp", "is a directory", "module directory");

    /* 4 MiB of RAM: 3 MiB above 1 MiB, the kernel takes some. */
    img big = {0};
    img_pattern(&big, 0, 3 << 20, 1);
    const char *bp = img_file(&big, 1);
    m->cfg.modules[0] = (vp_module_spec){bp, NULL};
    ck_assert_int_eq(boot_file(m, path, NULL, &err), -1);
    check_message(err.msg, bp, "no room for the module", "module too big");

    /* An empty module is fine: start == end. */
    img none = {0};
    const char *np = img_file(&none, 2);
    m->cfg.modules[0] = (vp_module_spec){np, NULL};
    ck_assert_msg(boot_file(m, path, NULL, &err) == 0, "%s", err.msg);
    uint32_t mods = g32(m, (uint32_t)m->cpus[0]->gpr[R_BX] + 24);
    ck_assert_uint_eq(g32(m, mods), g32(m, mods + 4));

    img_free(&im);
    img_free(&big);
    file_remove(path);
    file_remove(bp);
    file_remove(np);
    vp_machine_destroy(m);
}
END_TEST

/* Every prefix of a valid image, and deterministic byte corruptions of
 * its headers: load or fail with a message, never crash or read out of
 * bounds. */
static void sweep(void (*good)(img *im), uint32_t seed)
{
    vp_machine *m = unit_machine(32);
    img base = {0};
    good(&base);
    vp_error err;
    int failures = 0;
    for (size_t n = 0; n <= base.len; n++) {
        img cut = {0};
        img_put(&cut, 0, base.d, n);
        cut.len = n;
        const char *path = img_file(&cut, 0);
        int r = boot_file(m, path, NULL, &err);
        if (r < 0) {
            failures++;
            check_message(err.msg, path, "", "truncated");
        }
        img_free(&cut);
        file_remove(path);
    }
    /* Fewer bytes than the whole image cannot all load. */
    ck_assert_int_ge(failures, (int)base.len / 2);
    uint32_t x = seed;
    for (int k = 0; k < 3000; k++) {
        img bad = {0};
        img_put(&bad, 0, base.d, base.len);
        for (int j = 0; j < 3; j++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % 0x140;     /* ELF and Multiboot headers */
            x = x * 1103515245u + 12345u;
            bad.d[at] = (uint8_t)(x >> 16);
        }
        const char *path = img_file(&bad, 0);
        if (boot_file(m, path, NULL, &err) < 0)
            check_message(err.msg, path, "", "corrupted");
        img_free(&bad);
        file_remove(path);
    }
    img_free(&base);
    vp_machine_destroy(m);
}

START_TEST(robust_mb1) { sweep(good_mb1, 1); }
END_TEST
START_TEST(robust_mb2) { sweep(good_mb2, 2); }
END_TEST
START_TEST(robust_elf64) { sweep(good_elf64, 3); }
END_TEST

static Suite *boot_errors_suite(void)
{
    Suite *s = suite_create("boot_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_loop_test(tc, malformed_images, 0, (int)VP_ARRAY_SIZE(cases));
    tcase_add_test(tc, missing_kernel);
    tcase_add_test(tc, module_errors);
    suite_add_tcase(s, tc);
    TCase *rb = tcase_create("robustness");
    tcase_set_timeout(rb, 60);
    tcase_add_test(rb, robust_mb1);
    tcase_add_test(rb, robust_mb2);
    tcase_add_test(rb, robust_elf64);
    suite_add_tcase(s, rb);
    return s;
}

VP_UNIT_MAIN(boot_errors_suite)
