/* Multiboot 1 (Multiboot Specification version 0.6.96): the OS image
 * header, loading (ELF32 or the address fields), and the Multiboot
 * information structure. Section titles quoted are the specification's. */
#include "emu/boot/loader.h"

#include "emu/cpu/cpu.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB1_SEARCH 8192u

/* Header flags ("The magic fields of Multiboot header"). Bits 0-15 are
 * requirements: a loader that does not understand one must refuse. */
#define MB1_PAGE_ALIGN VP_BIT(0)
#define MB1_MEMORY_INFO VP_BIT(1)
#define MB1_VIDEO_MODE VP_BIT(2)
#define MB1_AOUT_KLUDGE VP_BIT(16)
#define MB1_KNOWN_REQUIRED (MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_VIDEO_MODE)

/* Information flags and offsets ("Boot information format"). */
enum {
    MBI_MEMORY = 1 << 0, MBI_CMDLINE = 1 << 2, MBI_MODS = 1 << 3,
    MBI_MMAP = 1 << 6, MBI_LOADER_NAME = 1 << 9,
};
enum {
    MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE_P = 16,
    MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44,
    MBI_MMAP_ADDR = 48, MBI_LOADER_NAME_P = 64, MBI_SIZE = 116,
};
#define MB1_MOD_SIZE 16
#define MB1_MMAP_ENTRY 24   /* size field + 20 bytes */

int vp_mb1_find(const vp_boot_file *f, uint64_t *off, vp_error *err)
{
    /* "The Multiboot header must be contained completely within the first
     * 8192 bytes of the OS image, and must be longword (32-bit) aligned." */
    int bad = 0;
    for (uint64_t o = 0; o + 4 <= f->size && o + 4 <= MB1_SEARCH; o += 4) {
        const uint8_t *d = f->data + o;
        if (vp_le32(d) != MB1_HEADER_MAGIC)
            continue;
        if (o + 12 > f->size || o + 12 > MB1_SEARCH) {
            if (!bad++)
                vp_fail(err, "%s: Multiboot header at offset %#llx is %s",
                        f->path, (unsigned long long)o,
                        o + 12 > f->size ? "truncated"
                                         : "not within the first 8192 bytes");
            continue;
        }
        uint32_t sum = vp_le32(d) + vp_le32(d + 4) + vp_le32(d + 8);
        if (sum != 0) {
            if (!bad++)
                vp_fail(err, "%s: Multiboot header at offset %#llx has a bad "
                        "checksum (magic + flags + checksum = %#x, must be "
                        "0)", f->path, (unsigned long long)o, sum);
            continue;
        }
        *off = o;
        return 1;
    }
    return bad ? -1 : 0;
}

static int build_info(vp_boot *b, uint64_t *addr)
{
    vp_machine *m = b->m;
    vp_blob bl = {0};
    size_t info = vp_blob_put(&bl, NULL, MBI_SIZE, 8);
    vp_blob_set32(&bl, info + MBI_FLAGS,
                  MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP |
                      MBI_LOADER_NAME);
    vp_blob_set32(&bl, info + MBI_MEM_LOWER, vp_boot_mem_lower(b));
    vp_blob_set32(&bl, info + MBI_MEM_UPPER, vp_boot_mem_upper(b));

    size_t s = vp_blob_str(&bl, m->cfg.cmdline ? m->cfg.cmdline : "");
    vp_blob_ptr(&bl, info + MBI_CMDLINE_P, s);
    s = vp_blob_str(&bl, VP_BOOT_LOADER_NAME);
    vp_blob_ptr(&bl, info + MBI_LOADER_NAME_P, s);

    vp_blob_set32(&bl, info + MBI_MODS_COUNT, (uint32_t)b->nmods);
    if (b->nmods) {
        size_t mods = vp_blob_put(&bl, NULL, (size_t)b->nmods * MB1_MOD_SIZE,
                                  8);
        vp_blob_ptr(&bl, info + MBI_MODS_ADDR, mods);
        for (int i = 0; i < b->nmods; i++) {
            size_t e = mods + (size_t)i * MB1_MOD_SIZE;
            vp_blob_set32(&bl, e, (uint32_t)b->mods[i].start);
            vp_blob_set32(&bl, e + 4, (uint32_t)b->mods[i].end);
            size_t str = vp_blob_str(&bl, b->mods[i].cmdline);
            vp_blob_ptr(&bl, e + 8, str);
        }
    }

    vp_boot_mmap mm[VP_BOOT_MMAP_MAX];
    int n = vp_boot_memory_map(b, mm, VP_BOOT_MMAP_MAX);
    size_t map = vp_blob_put(&bl, NULL, (size_t)n * MB1_MMAP_ENTRY, 8);
    for (int i = 0; i < n; i++) {
        size_t e = map + (size_t)i * MB1_MMAP_ENTRY;
        /* "size is the size of the associated structure in bytes" (not
         * counting the size field itself). */
        vp_blob_set32(&bl, e, MB1_MMAP_ENTRY - 4);
        vp_blob_set64(&bl, e + 4, mm[i].base);
        vp_blob_set64(&bl, e + 12, mm[i].len);
        vp_blob_set32(&bl, e + 20, mm[i].type);
    }
    vp_blob_set32(&bl, info + MBI_MMAP_LENGTH, (uint32_t)n * MB1_MMAP_ENTRY);
    vp_blob_ptr(&bl, info + MBI_MMAP_ADDR, map);

    int r = vp_blob_commit(b, &bl, "Multiboot information", addr);
    vp_blob_free(&bl);
    return r;
}

int vp_mb1_boot(vp_boot *b, uint64_t hdr_off)
{
    const vp_boot_file *f = &b->img;
    const char *p = f->path;
    const uint8_t *h = f->data + hdr_off;
    uint32_t flags = vp_le32(h + 4);
    uint32_t unknown = flags & 0xffffu & ~(uint32_t)MB1_KNOWN_REQUIRED;
    if (unknown)
        return vp_fail(b->err, "%s: Multiboot header requires features "
                       "Vanderpool does not know (flags %#x, unknown required "
                       "bits %#x)", p, flags, unknown);
    if (flags & MB1_VIDEO_MODE) {
        /* A preference only ("the boot loader may choose a different
         * mode"): there is no framebuffer, so the image gets text mode and
         * no video information. */
        if (hdr_off + 48 <= f->size)
            VP_TRACE(&b->m->trace, BOOT,
                     "video mode %u %ux%ux%u requested: no framebuffer, "
                     "booting without video information",
                     vp_le32(h + 32), vp_le32(h + 36), vp_le32(h + 40),
                     vp_le32(h + 44));
    }

    uint64_t entry;
    if (flags & MB1_AOUT_KLUDGE) {
        if (hdr_off + 32 > f->size || hdr_off + 32 > MB1_SEARCH)
            return vp_fail(b->err, "%s: Multiboot header at offset %#llx is "
                           "truncated: the address fields (flag bit 16) need "
                           "32 bytes", p, (unsigned long long)hdr_off);
        vp_aout a = {
            .header_off = hdr_off,
            .header_addr = vp_le32(h + 12),
            .load_addr = vp_le32(h + 16),
            .load_end_addr = vp_le32(h + 20),
            .bss_end_addr = vp_le32(h + 24),
        };
        entry = vp_le32(h + 28);
        if (vp_aout_load(b, &a, entry) < 0)
            return -1;
    } else {
        if (!vp_elf_is_elf(f))
            return vp_fail(b->err, "%s: the Multiboot header has no address "
                           "fields (flag bit 16) and the image is not ELF",
                           p);
        vp_elf e;
        if (vp_elf_parse(f, &e, b->err) < 0 ||
            vp_elf_check_x86(f, &e, b->err) < 0)
            return -1;
        if (e.bits != 32)
            return vp_fail(b->err, "%s: ELF64 Multiboot 1 image without "
                           "address fields (flag bit 16): Multiboot 1 loads "
                           "ELF32 images by their program headers", p);
        if (vp_elf_load(b, &e, VP_4GIB, &entry) < 0)
            return -1;
    }
    /* Modules are always page-aligned, which satisfies flag bit 0; memory
     * information is always passed, which satisfies flag bit 1. */
    if (vp_boot_load_modules(b) < 0)
        return -1;
    uint64_t info;
    if (build_info(b, &info) < 0)
        return -1;
    VP_TRACE(&b->m->trace, BOOT, "Multiboot 1 entry %#llx, info %#llx",
             (unsigned long long)entry, (unsigned long long)info);
    /* "Machine state": EAX = magic, EBX = information structure, 32-bit
     * protected mode with flat segments, paging off. */
    vp_cpu_setup_multiboot(b->m->cpus[0], MB1_BOOT_MAGIC, (uint32_t)info,
                           (uint32_t)entry);
    return 0;
}
