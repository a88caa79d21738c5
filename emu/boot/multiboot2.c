/* Multiboot 2 (Multiboot2 Specification version 2.0): header tags,
 * loading (ELF32, ELF64 or the address tag), and the information tags.
 * Section titles quoted are the specification's. */
#include "emu/boot/loader.h"

#include "emu/cpu/cpu.h"

#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_BOOT_MAGIC 0x36D76289u
#define MB2_SEARCH 32768u
#define MB2_ARCH_I386 0u
#define MB2_ARCH_MIPS32 4u

/* Header tag types ("OS image format"). */
enum {
    HT_END = 0, HT_INFO_REQUEST = 1, HT_ADDRESS = 2, HT_ENTRY = 3,
    HT_CONSOLE = 4, HT_FRAMEBUFFER = 5, HT_MODULE_ALIGN = 6, HT_EFI_BS = 7,
    HT_ENTRY_EFI32 = 8, HT_ENTRY_EFI64 = 9, HT_RELOCATABLE = 10,
};
#define HT_OPTIONAL 1u

/* Information tag types ("Boot information"). */
enum {
    IT_END = 0, IT_CMDLINE = 1, IT_LOADER_NAME = 2, IT_MODULE = 3,
    IT_BASIC_MEMINFO = 4, IT_MMAP = 6, IT_LOAD_BASE = 21,
    IT_LAST_KNOWN = 21,
};

int vp_mb2_find(const vp_boot_file *f, uint64_t *off, vp_error *err)
{
    /* "The Multiboot2 header must be contained completely within the first
     * 32768 bytes of the OS image, and must be 64-bit aligned." */
    int bad = 0;
    for (uint64_t o = 0; o + 4 <= f->size && o + 4 <= MB2_SEARCH; o += 8) {
        const uint8_t *d = f->data + o;
        if (vp_le32(d) != MB2_HEADER_MAGIC)
            continue;
        if (o + 16 > f->size || o + 16 > MB2_SEARCH) {
            if (!bad++)
                vp_fail(err, "%s: Multiboot 2 header at offset %#llx is %s",
                        f->path, (unsigned long long)o,
                        o + 16 > f->size ? "truncated"
                                         : "not within the first 32768 bytes");
            continue;
        }
        uint32_t sum = vp_le32(d) + vp_le32(d + 4) + vp_le32(d + 8) +
                       vp_le32(d + 12);
        if (sum != 0) {
            if (!bad++)
                vp_fail(err, "%s: Multiboot 2 header at offset %#llx has a "
                        "bad checksum (magic + architecture + header_length "
                        "+ checksum = %#x, must be 0)", f->path,
                        (unsigned long long)o, sum);
            continue;
        }
        *off = o;
        return 1;
    }
    return bad ? -1 : 0;
}

/* What the header asks for. */
typedef struct mb2_req {
    bool has_addr, has_entry, has_reloc, reloc_optional;
    vp_aout addr;
    uint32_t entry;
    uint32_t reloc_min, reloc_max, reloc_align;
} mb2_req;

static const char *tag_name(unsigned t)
{
    switch (t) {
    case HT_INFO_REQUEST: return "information request";
    case HT_ADDRESS: return "address";
    case HT_ENTRY: return "entry address";
    case HT_CONSOLE: return "flags (console)";
    case HT_FRAMEBUFFER: return "framebuffer";
    case HT_MODULE_ALIGN: return "module alignment";
    case HT_EFI_BS: return "EFI boot services";
    case HT_ENTRY_EFI32: return "EFI i386 entry address";
    case HT_ENTRY_EFI64: return "EFI amd64 entry address";
    case HT_RELOCATABLE: return "relocatable";
    default: return "unknown";
    }
}

static int parse_tags(vp_boot *b, uint64_t off, uint32_t len, mb2_req *r)
{
    const vp_boot_file *f = &b->img;
    const char *p = f->path;
    uint64_t end = off + len;
    uint64_t t = off + 16;
    while (t + 8 <= end) {
        const uint8_t *d = f->data + t;
        unsigned type = vp_le16(d);
        bool optional = vp_le16(d + 2) & HT_OPTIONAL;
        uint32_t size = vp_le32(d + 4);
        static const uint32_t min_size[] = {
            [HT_END] = 8, [HT_INFO_REQUEST] = 8, [HT_ADDRESS] = 24,
            [HT_ENTRY] = 12, [HT_CONSOLE] = 12, [HT_FRAMEBUFFER] = 20,
            [HT_MODULE_ALIGN] = 8, [HT_EFI_BS] = 8, [HT_ENTRY_EFI32] = 12,
            [HT_ENTRY_EFI64] = 12, [HT_RELOCATABLE] = 24,
        };
        uint32_t need = type < VP_ARRAY_SIZE(min_size) ? min_size[type] : 8;
        if (size < need || size > end - t)
            return vp_fail(b->err, "%s: Multiboot 2 header: malformed %s tag "
                           "(type %u) at offset %#llx: size %u", p,
                           tag_name(type), type, (unsigned long long)t, size);
        switch (type) {
        case HT_END:
            return 0;
        case HT_INFO_REQUEST:
            /* "If the bootloader does not understand the meaning of the
             * requested tag it must fail with an error. However, if it
             * supports a given tag but the information conveyed by it is not
             * available the bootloader does not provide the requested
             * tag." Every tag the specification defines is understood;
             * those Vanderpool has nothing for (framebuffer, EFI, APM, ...)
             * are simply absent. */
            for (uint32_t i = 8; i + 4 <= size; i += 4) {
                uint32_t want = vp_le32(d + i);
                if (want > IT_LAST_KNOWN && !optional)
                    return vp_fail(b->err, "%s: Multiboot 2 header requests "
                                   "information tag type %u, which is not in "
                                   "the specification (the request is not "
                                   "optional)", p, want);
                VP_TRACE(&b->m->trace, BOOT, "information tag %u requested",
                         want);
            }
            break;
        case HT_ADDRESS:
            r->has_addr = true;
            r->addr.header_off = off;
            r->addr.header_addr = vp_le32(d + 8);
            r->addr.load_addr = vp_le32(d + 12);
            r->addr.load_end_addr = vp_le32(d + 16);
            r->addr.bss_end_addr = vp_le32(d + 20);
            r->addr.load_from_start = r->addr.load_addr == 0xffffffffu;
            break;
        case HT_ENTRY:
            r->has_entry = true;
            r->entry = vp_le32(d + 8);
            break;
        case HT_CONSOLE:
            /* "If this tag is present and bit 0 of console_flags is set at
             * least one of supported consoles must be present and
             * information about it must be available in mbi." There is no
             * VGA and no framebuffer to describe. */
            if ((vp_le32(d + 8) & 1) && !optional)
                return vp_fail(b->err, "%s: Multiboot 2 header requires a "
                               "console described in the boot information "
                               "(flags tag), and Vanderpool has no EGA text "
                               "or framebuffer console", p);
            break;
        case HT_FRAMEBUFFER:
            /* "only a recommended mode by the OS image": text mode it is,
             * with no framebuffer tag. */
            VP_TRACE(&b->m->trace, BOOT,
                     "framebuffer %ux%ux%u requested: none available",
                     vp_le32(d + 8), vp_le32(d + 12), vp_le32(d + 16));
            break;
        case HT_MODULE_ALIGN:
            break;   /* modules are always page-aligned */
        case HT_RELOCATABLE:
            r->has_reloc = true;
            r->reloc_optional = optional;
            r->reloc_min = vp_le32(d + 8);
            r->reloc_max = vp_le32(d + 12);
            r->reloc_align = vp_le32(d + 16);
            break;
        default:
            /* EFI tags and unknown ones: "the bootloader may ignore this
             * tag if it lacks relevant support" only when optional. */
            if (!optional)
                return vp_fail(b->err, "%s: Multiboot 2 header has a %s tag "
                               "(type %u) that is not optional; Vanderpool "
                               "boots like a BIOS PC and does not support it",
                               p, tag_name(type), type);
            break;
        }
        t += (size + 7) & ~7ull;
    }
    return vp_fail(b->err, "%s: Multiboot 2 header has no end tag", p);
}

static size_t tag_begin(vp_blob *bl, uint32_t type)
{
    size_t t = vp_blob_put(bl, NULL, 8, 8);
    vp_blob_set32(bl, t, type);
    return t;
}

static void tag_end(vp_blob *bl, size_t t)
{
    vp_blob_set32(bl, t + 4, (uint32_t)(bl->len - t));
}

int vp_mb2_build_info(vp_boot *b, uint64_t load_base, uint64_t *addr)
{
    vp_machine *m = b->m;
    vp_blob bl = {0};
    /* Fixed part: total_size, reserved. */
    vp_blob_put(&bl, NULL, 8, 8);

    size_t t = tag_begin(&bl, IT_CMDLINE);
    vp_blob_str(&bl, m->cfg.cmdline ? m->cfg.cmdline : "");
    tag_end(&bl, t);

    t = tag_begin(&bl, IT_LOADER_NAME);
    vp_blob_str(&bl, VP_BOOT_LOADER_NAME);
    tag_end(&bl, t);

    for (int i = 0; i < b->nmods; i++) {
        t = tag_begin(&bl, IT_MODULE);
        size_t f = vp_blob_put(&bl, NULL, 8, 1);
        vp_blob_set32(&bl, f, (uint32_t)b->mods[i].start);
        vp_blob_set32(&bl, f + 4, (uint32_t)b->mods[i].end);
        vp_blob_str(&bl, b->mods[i].cmdline);
        tag_end(&bl, t);
    }

    t = tag_begin(&bl, IT_BASIC_MEMINFO);
    size_t f = vp_blob_put(&bl, NULL, 8, 1);
    vp_blob_set32(&bl, f, vp_boot_mem_lower(b));
    vp_blob_set32(&bl, f + 4, vp_boot_mem_upper(b));
    tag_end(&bl, t);

    vp_boot_mmap mm[VP_BOOT_MMAP_MAX];
    int n = vp_boot_memory_map(b, mm, VP_BOOT_MMAP_MAX);
    t = tag_begin(&bl, IT_MMAP);
    f = vp_blob_put(&bl, NULL, 8 + (size_t)n * 24, 1);
    vp_blob_set32(&bl, f, 24);      /* entry_size */
    vp_blob_set32(&bl, f + 4, 0);   /* entry_version */
    for (int i = 0; i < n; i++) {
        size_t e = f + 8 + (size_t)i * 24;
        vp_blob_set64(&bl, e, mm[i].base);
        vp_blob_set64(&bl, e + 8, mm[i].len);
        vp_blob_set32(&bl, e + 16, mm[i].type);
    }
    tag_end(&bl, t);

    t = tag_begin(&bl, IT_LOAD_BASE);
    f = vp_blob_put(&bl, NULL, 4, 1);
    vp_blob_set32(&bl, f, (uint32_t)load_base);
    tag_end(&bl, t);

    t = tag_begin(&bl, IT_END);
    tag_end(&bl, t);
    vp_blob_set32(&bl, 0, (uint32_t)bl.len);

    int r = vp_blob_commit(b, &bl, "Multiboot 2 information", addr);
    vp_blob_free(&bl);
    return r;
}

int vp_mb2_boot(vp_boot *b, uint64_t hdr_off)
{
    const vp_boot_file *f = &b->img;
    const char *p = f->path;
    const uint8_t *h = f->data + hdr_off;
    uint32_t arch = vp_le32(h + 4);
    uint32_t len = vp_le32(h + 8);
    if (arch == MB2_ARCH_MIPS32)
        return vp_fail(b->err, "%s: Multiboot 2 header is for 32-bit MIPS "
                       "(architecture 4), not i386", p);
    if (arch != MB2_ARCH_I386)
        return vp_fail(b->err, "%s: Multiboot 2 header has an unknown "
                       "architecture %u", p, arch);
    if (len < 16 + 8)
        return vp_fail(b->err, "%s: Multiboot 2 header_length %u is too "
                       "small for the fixed part and the end tag", p, len);
    if (len > f->size - hdr_off)
        return vp_fail(b->err, "%s: truncated image: the Multiboot 2 header "
                       "(%u bytes at offset %#llx) extends past the end of "
                       "the file", p, len, (unsigned long long)hdr_off);
    if (hdr_off + len > MB2_SEARCH)
        return vp_fail(b->err, "%s: Multiboot 2 header (%u bytes at offset "
                       "%#llx) is not within the first 32768 bytes", p, len,
                       (unsigned long long)hdr_off);
    mb2_req r = {0};
    if (parse_tags(b, hdr_off, len, &r) < 0)
        return -1;

    uint64_t entry;
    if (r.has_addr) {
        /* "When the address tag is present it must be used in order to
         * load the image, regardless of whether an ELF header is also
         * present." */
        if (r.has_entry) {
            entry = r.entry;
        } else {
            vp_elf e;
            if (!vp_elf_is_elf(f))
                return vp_fail(b->err, "%s: Multiboot 2 header has an "
                               "address tag but no entry address tag", p);
            if (vp_elf_parse(f, &e, b->err) < 0 ||
                vp_elf_check_x86(f, &e, b->err) < 0)
                return -1;
            entry = e.entry;
        }
        if (vp_aout_load(b, &r.addr, entry) < 0)
            return -1;
    } else {
        if (!vp_elf_is_elf(f))
            return vp_fail(b->err, "%s: the Multiboot 2 header has no address "
                           "tag and the image is not ELF", p);
        vp_elf e;
        if (vp_elf_parse(f, &e, b->err) < 0 ||
            vp_elf_check_x86(f, &e, b->err) < 0 ||
            vp_elf_load(b, &e, VP_4GIB, &entry) < 0)
            return -1;
        if (r.has_entry)
            entry = r.entry;
    }
    if (entry >= VP_4GIB)
        return vp_fail(b->err, "%s: entry point %#llx is above 4 GiB and "
                       "cannot be reached in 32-bit protected mode", p,
                       (unsigned long long)entry);
    if (r.has_reloc &&
        (b->image_lo < r.reloc_min || b->image_hi > r.reloc_max ||
         (r.reloc_align && b->image_lo % r.reloc_align)) &&
        !r.reloc_optional)
        return vp_fail(b->err, "%s: relocatable tag: the image's link address "
                       "%#llx-%#llx is not within %#x-%#x (alignment %#x), "
                       "and Vanderpool loads images at their link address", p,
                       (unsigned long long)b->image_lo,
                       (unsigned long long)b->image_hi, r.reloc_min,
                       r.reloc_max, r.reloc_align);
    if (vp_boot_load_modules(b) < 0)
        return -1;
    uint64_t info;
    if (vp_mb2_build_info(b, b->image_lo, &info) < 0)
        return -1;
    VP_TRACE(&b->m->trace, BOOT, "Multiboot 2 entry %#llx, info %#llx",
             (unsigned long long)entry, (unsigned long long)info);
    /* "I386 machine state": EAX = magic, EBX = information, 32-bit
     * protected mode with flat segments, paging off. */
    vp_cpu_setup_multiboot(b->m->cpus[0], MB2_BOOT_MAGIC, (uint32_t)info,
                           (uint32_t)entry);
    return 0;
}
