/* Builders for boot images in memory (ELF32/ELF64 executables, Multiboot 1
 * and 2 headers, flat binaries) and helpers to load them into a unit-test
 * machine and read back what landed in guest RAM. Shared by the
 * test_boot_*.c suites; header-only so each suite stays one binary. */
#ifndef VP_TEST_BOOT_IMAGES_H
#define VP_TEST_BOOT_IMAGES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/boot/boot.h"
#include "emu/cpu/cpu.h"
#include "testsuites/unit/lib/unit.h"

/* ---- a growable byte image ------------------------------------------ */

typedef struct img {
    uint8_t *d;
    size_t len, cap;
} img;

static void img_grow(img *im, size_t n)
{
    if (n > im->cap) {
        size_t c = im->cap ? im->cap : 256;
        while (c < n)
            c *= 2;
        im->d = realloc(im->d, c);
        ck_assert_ptr_nonnull(im->d);
        memset(im->d + im->cap, 0, c - im->cap);
        im->cap = c;
    }
    if (n > im->len)
        im->len = n;
}

static VP_UNUSED void img_put(img *im, size_t off, const void *p, size_t n)
{
    if (n == 0)
        return;
    img_grow(im, off + n);
    memcpy(im->d + off, p, n);
}

static VP_UNUSED void img_u8(img *im, size_t off, uint8_t v)
{
    img_grow(im, off + 1);
    im->d[off] = v;
}

static VP_UNUSED void img_u16(img *im, size_t off, uint16_t v)
{
    img_grow(im, off + 2);
    for (int i = 0; i < 2; i++)
        im->d[off + i] = (uint8_t)(v >> (8 * i));
}

static VP_UNUSED void img_u32(img *im, size_t off, uint32_t v)
{
    img_grow(im, off + 4);
    for (int i = 0; i < 4; i++)
        im->d[off + i] = (uint8_t)(v >> (8 * i));
}

static VP_UNUSED void img_u64(img *im, size_t off, uint64_t v)
{
    img_grow(im, off + 8);
    for (int i = 0; i < 8; i++)
        im->d[off + i] = (uint8_t)(v >> (8 * i));
}

/* Fills [off, off+n) with a recognizable pattern seeded by `seed`. */
static VP_UNUSED void img_pattern(img *im, size_t off, size_t n, uint8_t seed)
{
    img_grow(im, off + n);
    for (size_t i = 0; i < n; i++)
        im->d[off + i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static VP_UNUSED void img_free(img *im)
{
    free(im->d);
    memset(im, 0, sizeof(*im));
}

/* ---- ELF ------------------------------------------------------------ */

enum { T_PT_LOAD = 1, T_PT_NOTE = 4 };

/* ELF32 executable header with `nph` program headers right after it. */
static VP_UNUSED void elf32_header(img *im, uint16_t machine, uint32_t entry,
                                   int nph)
{
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    img_put(im, 0, ident, 16);
    img_u16(im, 16, 2);          /* ET_EXEC */
    img_u16(im, 18, machine);
    img_u32(im, 20, 1);
    img_u32(im, 24, entry);
    img_u32(im, 28, 52);         /* e_phoff */
    img_u16(im, 40, 52);         /* e_ehsize */
    img_u16(im, 42, 32);         /* e_phentsize */
    img_u16(im, 44, (uint16_t)nph);
    img_grow(im, 52 + 32 * (size_t)nph);
}

static VP_UNUSED void elf32_phdr(img *im, int i, uint32_t type, uint32_t off,
                                 uint32_t vaddr, uint32_t paddr,
                                 uint32_t filesz, uint32_t memsz)
{
    size_t p = 52 + 32 * (size_t)i;
    img_u32(im, p, type);
    img_u32(im, p + 4, off);
    img_u32(im, p + 8, vaddr);
    img_u32(im, p + 12, paddr);
    img_u32(im, p + 16, filesz);
    img_u32(im, p + 20, memsz);
    img_u32(im, p + 24, 5);
    img_u32(im, p + 28, 0x1000);
}

static VP_UNUSED void elf64_header(img *im, uint16_t machine, uint64_t entry,
                                   int nph)
{
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    img_put(im, 0, ident, 16);
    img_u16(im, 16, 2);
    img_u16(im, 18, machine);
    img_u32(im, 20, 1);
    img_u64(im, 24, entry);
    img_u64(im, 32, 64);         /* e_phoff */
    img_u16(im, 52, 64);
    img_u16(im, 54, 56);
    img_u16(im, 56, (uint16_t)nph);
    img_grow(im, 64 + 56 * (size_t)nph);
}

static VP_UNUSED void elf64_phdr(img *im, int i, uint32_t type, uint64_t off,
                                 uint64_t vaddr, uint64_t paddr,
                                 uint64_t filesz, uint64_t memsz)
{
    size_t p = 64 + 56 * (size_t)i;
    img_u32(im, p, type);
    img_u32(im, p + 4, 5);
    img_u64(im, p + 8, off);
    img_u64(im, p + 16, vaddr);
    img_u64(im, p + 24, paddr);
    img_u64(im, p + 32, filesz);
    img_u64(im, p + 40, memsz);
    img_u64(im, p + 48, 0x1000);
}

/* ---- Multiboot headers ---------------------------------------------- */

#define MB1_MAGIC 0x1BADB002u
#define MB1_BOOT 0x2BADB002u
#define MB2_MAGIC 0xE85250D6u
#define MB2_BOOT 0x36D76289u

static VP_UNUSED void mb1_header(img *im, size_t off, uint32_t flags)
{
    img_u32(im, off, MB1_MAGIC);
    img_u32(im, off + 4, flags);
    img_u32(im, off + 8, (uint32_t)-(MB1_MAGIC + flags));
}

static VP_UNUSED void mb1_addr(img *im, size_t off, uint32_t header_addr,
                               uint32_t load_addr, uint32_t load_end,
                               uint32_t bss_end, uint32_t entry)
{
    img_u32(im, off + 12, header_addr);
    img_u32(im, off + 16, load_addr);
    img_u32(im, off + 20, load_end);
    img_u32(im, off + 24, bss_end);
    img_u32(im, off + 28, entry);
}

/* Multiboot 2 header under construction at `off`: add tags, then close. */
typedef struct mb2h {
    img *im;
    size_t off, pos;
} mb2h;

static VP_UNUSED mb2h mb2_begin(img *im, size_t off)
{
    mb2h h = {im, off, off + 16};
    img_u32(im, off, MB2_MAGIC);
    img_u32(im, off + 4, 0);     /* i386 */
    return h;
}

/* A tag with `n` 32-bit payload words. */
static VP_UNUSED void mb2_tag(mb2h *h, uint16_t type, uint16_t flags,
                              const uint32_t *words, int n)
{
    uint32_t size = 8 + 4 * (uint32_t)n;
    img_u16(h->im, h->pos, type);
    img_u16(h->im, h->pos + 2, flags);
    img_u32(h->im, h->pos + 4, size);
    for (int i = 0; i < n; i++)
        img_u32(h->im, h->pos + 8 + 4 * (size_t)i, words[i]);
    h->pos += (size + 7) & ~7u;
    img_grow(h->im, h->pos);
}

/* Adds the end tag and fixes the length and checksum. */
static VP_UNUSED void mb2_end(mb2h *h)
{
    mb2_tag(h, 0, 0, NULL, 0);
    uint32_t len = (uint32_t)(h->pos - h->off);
    img_u32(h->im, h->off + 8, len);
    img_u32(h->im, h->off + 12, (uint32_t)-(MB2_MAGIC + 0 + len));
}

/* ---- files and machines --------------------------------------------- */

/* Writes the image to a fresh temporary file; returns its path (static
 * storage per slot, so a test can hold a few at once). */
static VP_UNUSED const char *img_file(const img *im, int slot)
{
    static char paths[8][64];
    char *p = paths[slot & 7];
    if (p[0])
        unlink(p);
    snprintf(p, 64, "/tmp/vp_boot_test_%d_%d_XXXXXX", (int)getpid(), slot);
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    if (im->len)
        ck_assert_int_eq(write(fd, im->d, im->len), (ssize_t)im->len);
    close(fd);
    return p;
}

static VP_UNUSED void file_remove(const char *p)
{
    unlink(p);
}

/* Loads `path` into m with the given command line; returns the result of
 * vp_boot_load and leaves the message in *err. */
static VP_UNUSED int boot_file(vp_machine *m, const char *path,
                               const char *cmdline, vp_error *err)
{
    memset(err, 0, sizeof(*err));
    m->cfg.kernel = path;
    m->cfg.cmdline = cmdline;
    return vp_boot_load(m, err);
}

static VP_UNUSED void boot_ok(vp_machine *m, const char *path,
                              const char *cmdline)
{
    vp_error err;
    int r = boot_file(m, path, cmdline, &err);
    ck_assert_msg(r == 0, "vp_boot_load failed: %s", err.msg);
}

/* Boots `im` from a temporary file (boot_ok), which is gone again when it
 * returns. */
static VP_UNUSED void boot_img(vp_machine *m, const img *im,
                               const char *cmdline)
{
    const char *path = img_file(im, 0);
    boot_ok(m, path, cmdline);
    file_remove(path);
}

static VP_UNUSED uint32_t g32(vp_machine *m, uint64_t a)
{
    return (uint32_t)vp_phys_read_n(&m->mem, a, 4);
}

static VP_UNUSED uint64_t g64(vp_machine *m, uint64_t a)
{
    return vp_phys_read_n(&m->mem, a, 8);
}

static VP_UNUSED uint16_t g16(vp_machine *m, uint64_t a)
{
    return (uint16_t)vp_phys_read_n(&m->mem, a, 2);
}

/* Reads a NUL-terminated guest string (at most n-1 bytes). */
static VP_UNUSED const char *gstr(vp_machine *m, uint64_t a)
{
    static char buf[4][1024];
    static int k;
    char *s = buf[k++ & 3];
    vp_phys_read(&m->mem, a, s, sizeof(buf[0]) - 1);
    s[sizeof(buf[0]) - 1] = 0;
    return s;
}

static VP_UNUSED bool guest_eq(vp_machine *m, uint64_t a, const uint8_t *want,
                               size_t n)
{
    uint8_t *got = malloc(n ? n : 1);
    vp_phys_read(&m->mem, a, got, n);
    bool eq = !memcmp(got, want, n);
    free(got);
    return eq;
}

static VP_UNUSED bool guest_all(vp_machine *m, uint64_t a, uint8_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        vp_phys_read(&m->mem, a + i, &b, 1);
        if (b != v)
            return false;
    }
    return true;
}

#endif
