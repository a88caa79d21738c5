/* What every boot protocol shares: reading files, claiming and allocating
 * guest memory, loading modules, the memory map, and the builder for the
 * boot-information blocks. */
#include "emu/boot/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- files ---------------------------------------------------------- */

int vp_boot_read_file(const char *path, const char *what, uint64_t limit,
                      vp_boot_file *f, vp_error *err)
{
    const char *sep = what[0] ? " " : "";
    memset(f, 0, sizeof(*f));
    f->path = path;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return vp_fail(err, "%s: cannot open%s%s: %s", path, sep, what,
                       strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return vp_fail(err, "%s: cannot read%s%s: is a directory", path, sep,
                       what);
    }
    size_t cap = 0;
    for (;;) {
        if (f->size == cap) {
            size_t ncap = cap ? cap * 2 : 64 * 1024;
            if (S_ISREG(st.st_mode) && cap == 0 && st.st_size > 0 &&
                (uint64_t)st.st_size < limit)
                ncap = (size_t)st.st_size + 1;
            uint8_t *n = realloc(f->data, ncap);
            if (!n) {
                fclose(fp);
                vp_boot_file_free(f);
                return vp_fail(err, "%s: out of memory reading%s%s", path,
                               sep, what);
            }
            f->data = n;
            cap = ncap;
        }
        size_t got = fread(f->data + f->size, 1, cap - f->size, fp);
        f->size += got;
        if (f->size > limit) {
            fclose(fp);
            vp_boot_file_free(f);
            return vp_fail(err, "%s: %s%sis too large (more than %llu "
                           "bytes)", path, what, sep,
                           (unsigned long long)limit);
        }
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    int e = errno;
    fclose(fp);
    if (bad) {
        vp_boot_file_free(f);
        return vp_fail(err, "%s: cannot read%s%s: %s", path, sep, what,
                       strerror(e));
    }
    f->path = path;
    return 0;
}

void vp_boot_file_free(vp_boot_file *f)
{
    free(f->data);
    f->data = NULL;
    f->size = 0;
}

/* ---- guest memory --------------------------------------------------- */

static int add_used(vp_boot *b, uint64_t base, uint64_t end)
{
    if (b->nused == b->capused) {
        int ncap = b->capused ? b->capused * 2 : 16;
        vp_boot_range *n = realloc(b->used, (size_t)ncap * sizeof(*n));
        if (!n)
            return vp_fail(b->err, "%s: out of memory", vp_boot_path(b));
        b->used = n;
        b->capused = ncap;
    }
    b->used[b->nused++] = (vp_boot_range){base, end};
    return 0;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

int vp_boot_claim(vp_boot *b, uint64_t gpa, uint64_t len, const char *what)
{
    const vp_physmem *pm = &b->m->mem;
    const char *p = vp_boot_path(b);
    if (len == 0)
        return 0;
    uint64_t end = gpa + len;
    unsigned long long lo = gpa, hi = end - 1;
    unsigned long long mib = pm->ram_size / VP_MIB;
    if (end < gpa)
        return vp_fail(b->err, "%s: %s at %#llx (%llu bytes) wraps around "
                       "the address space", p, what, lo,
                       (unsigned long long)len);
    if (overlaps(gpa, end, VP_LOW_HOLE_START, VP_ROM_END))
        return vp_fail(b->err, "%s: %s at %#llx-%#llx overlaps the legacy "
                       "hole 0xa0000-0xfffff (640 KiB to 1 MiB)", p, what, lo,
                       hi);
    if (pm->low_size < VP_MMIO_WINDOW &&
        overlaps(gpa, end, pm->low_size, VP_MMIO_WINDOW))
        return vp_fail(b->err, "%s: %s at %#llx-%#llx lies beyond the end "
                       "of RAM (%llu MiB)", p, what, lo, hi, mib);
    if (overlaps(gpa, end, VP_MMIO_WINDOW, VP_HIGH_RAM_START))
        return vp_fail(b->err, "%s: %s at %#llx-%#llx overlaps the MMIO "
                       "window 0xc0000000-0xffffffff", p, what, lo, hi);
    if (end > VP_HIGH_RAM_START + pm->high_size)
        return vp_fail(b->err, "%s: %s at %#llx-%#llx lies beyond the end "
                       "of RAM (%llu MiB)", p, what, lo, hi, mib);
    if (!vp_phys_is_ram(pm, gpa, len))
        return vp_fail(b->err, "%s: %s at %#llx-%#llx is not RAM", p, what,
                       lo, hi);
    return add_used(b, gpa, end);
}

int vp_boot_load_bytes(vp_boot *b, uint64_t gpa, const uint8_t *data,
                       uint64_t filesz, uint64_t memsz, const char *what)
{
    if (vp_boot_claim(b, gpa, memsz, what) < 0)
        return -1;
    if (filesz && vp_phys_load(&b->m->mem, gpa, data, filesz) < 0)
        return vp_fail(b->err, "%s: %s: cannot write guest memory",
                       vp_boot_path(b), what);
    /* RAM is not necessarily zero here (a reset reloads the image). */
    static const uint8_t zero[4096];
    for (uint64_t a = gpa + filesz; a < gpa + memsz;) {
        uint64_t n = gpa + memsz - a;
        if (n > sizeof(zero))
            n = sizeof(zero);
        if (vp_phys_load(&b->m->mem, a, zero, n) < 0)
            return vp_fail(b->err, "%s: %s: cannot write guest memory",
                           vp_boot_path(b), what);
        a += n;
    }
    if (memsz && (!b->have_image || gpa < b->image_lo))
        b->image_lo = gpa;
    if (memsz && (!b->have_image || gpa + memsz > b->image_hi))
        b->image_hi = gpa + memsz;
    if (memsz)
        b->have_image = true;
    return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int vp_boot_alloc(vp_boot *b, uint64_t size, uint64_t align, uint64_t floor,
                  uint64_t ceil, uint64_t *out)
{
    vp_ram_range r[4];
    int n = vp_phys_ram_ranges(&b->m->mem, r, 4);
    if (size == 0)
        size = 1;
    for (int i = 0; i < n; i++) {
        uint64_t lim = r[i].base + r[i].size;
        if (lim > ceil)
            lim = ceil;
        uint64_t a = align_up(r[i].base > floor ? r[i].base : floor, align);
        while (a < lim && size <= lim - a) {
            bool clash = false;
            for (int j = 0; j < b->nused; j++) {
                if (overlaps(a, a + size, b->used[j].base, b->used[j].end)) {
                    a = align_up(b->used[j].end, align);
                    clash = true;
                    break;
                }
            }
            if (!clash) {
                if (add_used(b, a, a + size) < 0)
                    return -1;
                *out = a;
                return 0;
            }
        }
    }
    return -1;
}

/* ---- modules -------------------------------------------------------- */

int vp_boot_load_modules(vp_boot *b)
{
    vp_machine *m = b->m;
    uint64_t floor = align_up(b->image_hi, VP_PAGE_SIZE);
    if (floor < VP_ROM_END)
        floor = VP_ROM_END;
    b->nmods = 0;
    for (int i = 0; i < m->cfg.nmodules && i < VP_MAX_MODULES; i++) {
        const vp_module_spec *ms = &m->cfg.modules[i];
        vp_boot_file f;
        if (vp_boot_read_file(ms->path, "module", m->mem.ram_size, &f,
                              b->err) < 0)
            return -1;
        uint64_t at;
        uint64_t room = align_up(f.size ? f.size : 1, VP_PAGE_SIZE);
        if (vp_boot_alloc(b, room, VP_PAGE_SIZE, floor, VP_4GIB, &at) < 0) {
            size_t size = f.size;
            vp_boot_file_free(&f);
            return vp_fail(b->err, "%s: no room for the module (%zu bytes) in "
                           "guest RAM below 4 GiB (RAM is %llu MiB)", ms->path,
                           size,
                           (unsigned long long)(m->mem.ram_size / VP_MIB));
        }
        if (f.size && vp_phys_load(&m->mem, at, f.data, f.size) < 0) {
            vp_boot_file_free(&f);
            return vp_fail(b->err, "%s: cannot write the module to guest "
                           "memory", ms->path);
        }
        uint64_t size = f.size;
        vp_boot_file_free(&f);
        vp_boot_module *bm = &b->mods[b->nmods++];
        bm->start = at;
        bm->end = at + size;
        bm->cmdline = ms->cmdline ? ms->cmdline : "";
        VP_TRACE(&m->trace, BOOT, "module %d %s at %#llx-%#llx cmdline \"%s\"",
                 i, ms->path, (unsigned long long)bm->start,
                 (unsigned long long)bm->end, bm->cmdline);
    }
    return 0;
}

/* ---- memory map ----------------------------------------------------- */

static int mmap_add(vp_boot_mmap *out, int n, int max, uint64_t base,
                    uint64_t len, uint32_t type)
{
    if (n < max && len)
        out[n++] = (vp_boot_mmap){base, len, type};
    return n;
}

int vp_boot_memory_map(vp_boot *b, vp_boot_mmap *out, int max)
{
    const vp_physmem *pm = &b->m->mem;
    vp_ram_range r[4];
    int nr = vp_phys_ram_ranges(pm, r, 4);
    int n = 0;
    for (int i = 0; i < nr; i++)
        n = mmap_add(out, n, max, r[i].base, r[i].size, VP_MMAP_RAM);
    /* Option ROM and BIOS area. */
    n = mmap_add(out, n, max, VP_ROM_START, VP_ROM_END - VP_ROM_START,
                 VP_MMAP_RESERVED);
    /* Device MMIO (I/O APIC, local APIC, ...), as firmware reports it. */
    for (int i = 0; i < pm->nmmio; i++)
        n = mmap_add(out, n, max, pm->mmio[i].base, pm->mmio[i].size,
                     VP_MMAP_RESERVED);
    /* Sort by address and merge adjacent reserved ranges. */
    for (int i = 1; i < n; i++) {
        vp_boot_mmap t = out[i];
        int j = i;
        for (; j > 0 && out[j - 1].base > t.base; j--)
            out[j] = out[j - 1];
        out[j] = t;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k && out[k - 1].type == out[i].type &&
            out[k - 1].type == VP_MMAP_RESERVED &&
            out[k - 1].base + out[k - 1].len >= out[i].base) {
            uint64_t end = out[i].base + out[i].len;
            if (end > out[k - 1].base + out[k - 1].len)
                out[k - 1].len = end - out[k - 1].base;
            continue;
        }
        out[k++] = out[i];
    }
    return k;
}

uint32_t vp_boot_mem_lower(const vp_boot *b)
{
    (void)b;
    return (uint32_t)(VP_LOW_HOLE_START / VP_KIB);
}

uint32_t vp_boot_mem_upper(const vp_boot *b)
{
    return (uint32_t)((b->m->mem.low_size - VP_ROM_END) / VP_KIB);
}

/* ---- boot-information builder --------------------------------------- */

static bool blob_reserve(vp_blob *bl, size_t n)
{
    if (bl->oom)
        return false;
    if (bl->len + n <= bl->cap)
        return true;
    size_t ncap = bl->cap ? bl->cap : 4096;
    while (ncap < bl->len + n)
        ncap *= 2;
    uint8_t *p = realloc(bl->buf, ncap);
    if (!p) {
        bl->oom = true;
        return false;
    }
    memset(p + bl->cap, 0, ncap - bl->cap);
    bl->buf = p;
    bl->cap = ncap;
    return true;
}

size_t vp_blob_put(vp_blob *bl, const void *data, size_t n, size_t align)
{
    size_t off = (bl->len + align - 1) & ~(align - 1);
    if (!blob_reserve(bl, off - bl->len + n))
        return 0;
    memset(bl->buf + bl->len, 0, off - bl->len);
    if (data)
        memcpy(bl->buf + off, data, n);
    else
        memset(bl->buf + off, 0, n);
    bl->len = off + n;
    return off;
}

size_t vp_blob_str(vp_blob *bl, const char *s)
{
    return vp_blob_put(bl, s, strlen(s) + 1, 1);
}

void vp_blob_set32(vp_blob *bl, size_t off, uint32_t v)
{
    if (!bl->oom && off + 4 <= bl->len)
        vp_put_le32(bl->buf + off, v);
}

void vp_blob_set64(vp_blob *bl, size_t off, uint64_t v)
{
    if (!bl->oom && off + 8 <= bl->len)
        vp_put_le64(bl->buf + off, v);
}

void vp_blob_ptr(vp_blob *bl, size_t off, size_t target)
{
    if (bl->oom)
        return;
    if (bl->nfix == bl->capfix) {
        size_t ncap = bl->capfix ? bl->capfix * 2 : 16;
        size_t *p = realloc(bl->fix, ncap * sizeof(*p));
        if (!p) {
            bl->oom = true;
            return;
        }
        bl->fix = p;
        bl->capfix = ncap;
    }
    bl->fix[bl->nfix++] = off;
    vp_blob_set32(bl, off, (uint32_t)target);
}

int vp_blob_commit(vp_boot *b, vp_blob *bl, const char *what, uint64_t *addr)
{
    if (bl->oom)
        return vp_fail(b->err, "%s: out of memory building the %s",
                       vp_boot_path(b), what);
    uint64_t at;
    uint64_t size = align_up(bl->len ? bl->len : 8, 8);
    if (vp_boot_alloc(b, size, 8, VP_BOOT_INFO_FLOOR, VP_BOOT_LOW_CEIL,
                      &at) < 0 &&
        vp_boot_alloc(b, size, 8, VP_ROM_END, VP_4GIB, &at) < 0)
        return vp_fail(b->err, "%s: no room for the %s (%zu bytes) in guest "
                       "RAM below 4 GiB", vp_boot_path(b), what, bl->len);
    for (size_t i = 0; i < bl->nfix; i++) {
        uint8_t *p = bl->buf + bl->fix[i];
        vp_put_le32(p, (uint32_t)(vp_le32(p) + at));
    }
    if (vp_phys_load(&b->m->mem, at, bl->buf, bl->len) < 0)
        return vp_fail(b->err, "%s: cannot write the %s to guest memory",
                       vp_boot_path(b), what);
    VP_TRACE(&b->m->trace, BOOT, "%s at %#llx-%#llx", what,
             (unsigned long long)at, (unsigned long long)(at + bl->len));
    *addr = at;
    return 0;
}

void vp_blob_free(vp_blob *bl)
{
    free(bl->buf);
    free(bl->fix);
    memset(bl, 0, sizeof(*bl));
}
