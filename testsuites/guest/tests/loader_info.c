/* loader_info.c: the boot information the loader hands over (memory
 * sizes, memory map, command line, modules), for every boot protocol.
 * The same code is linked four ways (mk/boot-tests.mk): this file's own
 * build is the Multiboot 1 ELF32 kernel; loader_info-mb2.elf (Multiboot 2),
 * loader_info-elf64.elf (plain ELF64, entered in long mode) and
 * loader_info-aout.bin (Multiboot 1 address fields, flat binary) are run by
 * testsuites/harness/test_loaders.py with the command line and modules
 * below. Run without them (the plain guest-test run), the command-line and
 * module checks are skipped.
 *
 * engines: vanderpool qemu bochs
 * mem: 128
 */
#include "vp.h"

#define MEM_MB 128
#define MB2_BOOT_MAGIC 0x36D76289u

/* What test_loaders.py passes (QEMU and GRUB put the file name in front of
 * a command line; Vanderpool passes exactly the given text). */
#define MARKER "loader-test"
static const char want_cmdline[] = "loader-test alpha=1 beta=two";
static const struct {
    const char *text;
    const char *args;
} want_mods[] = {
    {"Vanderpool loader test: module one\n", "mod1 x=1"},
    {"module two 0123456789\n", "mod2"},
};

/* Set by the other protocols' start files (testsuites/guest/boot/). */
extern const char loader_protocol[] __attribute__((weak));
extern uint64_t loader_entry_rsp __attribute__((weak));
extern uint64_t loader_entry_ret __attribute__((weak));
extern uint64_t loader_entry_cr0 __attribute__((weak));
extern char __image_end[];

#define IMAGE_START 0x100000ull

/* ---- what the loader said, whatever the protocol ---------------------- */

struct region {
    uint64_t base, len;
    uint32_t type;
};

static struct info {
    bool have_mem;
    uint32_t mem_lower, mem_upper;
    int nmap;
    struct region map[64];
    bool map_ok;
    const char *cmdline;
    const char *loader_name;
    int nmods;
    struct {
        uint64_t start, end;
        const char *args;
    } mods[8];
    uint64_t info_start, info_end;
} in;

static bool contains(const char *s, const char *needle)
{
    size_t m = strlen(needle);
    for (; *s; s++)
        if (!strncmp(s, needle, m))
            return true;
    return false;
}

static bool ends_with_word(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    if (m > n || memcmp(s + n - m, tail, m))
        return false;
    return n == m || s[n - m - 1] == ' ';
}

static void add_region(uint64_t base, uint64_t len, uint32_t type)
{
    if (in.nmap < (int)ARRAY_SIZE(in.map))
        in.map[in.nmap++] = (struct region){base, len, type};
}

static void read_mb1(uint32_t addr)
{
    const struct multiboot_info *mbi = (const void *)(uintptr_t)addr;
    in.info_start = addr;
    in.info_end = addr + sizeof(*mbi);
    if (mbi->flags & MBI_MEM) {
        in.have_mem = true;
        in.mem_lower = mbi->mem_lower;
        in.mem_upper = mbi->mem_upper;
    }
    if (mbi->flags & MBI_CMDLINE)
        in.cmdline = (const char *)(uintptr_t)mbi->cmdline;
    if (mbi->flags & MBI_LOADER_NAME)
        in.loader_name = (const char *)(uintptr_t)mbi->boot_loader_name;
    if (mbi->flags & MBI_MODS) {
        const uint32_t *m = (const uint32_t *)(uintptr_t)mbi->mods_addr;
        for (uint32_t i = 0; i < mbi->mods_count && i < ARRAY_SIZE(in.mods); i++) {
            in.mods[i].start = m[4 * i];
            in.mods[i].end = m[4 * i + 1];
            in.mods[i].args = (const char *)(uintptr_t)m[4 * i + 2];
        }
        in.nmods = (int)mbi->mods_count;
    }
    if (mbi->flags & MBI_MMAP) {
        in.map_ok = true;
        uint64_t a = mbi->mmap_addr, end = a + mbi->mmap_length;
        while (a < end) {
            const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)a;
            if (e->size < 20) {
                report_msg("mb1 mmap entry size", false, "entry at %#llx has size %u",
                           (unsigned long long)a, e->size);
                in.map_ok = false;
                break;
            }
            add_region(e->addr, e->len, e->type);
            a += e->size + 4;
        }
    }
}

static uint32_t rd32(uint64_t a)
{
    return *(const volatile uint32_t *)(uintptr_t)a;
}

static void read_mb2(uint32_t addr)
{
    uint32_t total = rd32(addr);
    in.info_start = addr;
    in.info_end = addr + total;
    report_eq("mb2 info 8-byte aligned", addr & 7, 0);
    report_eq("mb2 reserved field", rd32(addr + 4), 0);
    bool end_seen = false, aligned = true;
    int ntags = 0;
    for (uint64_t t = addr + 8; t + 8 <= addr + total && ntags < 200; ntags++) {
        uint32_t type = rd32(t), size = rd32(t + 4);
        if (t & 7)
            aligned = false;
        if (size < 8)
            break;
        const char *str = (const char *)(uintptr_t)(t + 8);
        switch (type) {
        case 0:
            end_seen = size == 8;
            report_eq("mb2 end tag is last", t + 8, addr + total);
            break;
        case 1:
            in.cmdline = str;
            break;
        case 2:
            in.loader_name = str;
            break;
        case 3:
            if (in.nmods < (int)ARRAY_SIZE(in.mods)) {
                in.mods[in.nmods].start = rd32(t + 8);
                in.mods[in.nmods].end = rd32(t + 12);
                in.mods[in.nmods].args = (const char *)(uintptr_t)(t + 16);
            }
            in.nmods++;
            break;
        case 4:
            report_eq("mb2 meminfo size", size, 16);
            in.have_mem = true;
            in.mem_lower = rd32(t + 8);
            in.mem_upper = rd32(t + 12);
            break;
        case 6: {
            uint32_t esz = rd32(t + 8);
            report_eq("mb2 mmap entry_size", esz, 24);
            report_eq("mb2 mmap entry_version", rd32(t + 12), 0);
            in.map_ok = esz >= 24;
            for (uint64_t e = t + 16; in.map_ok && e + esz <= t + size; e += esz)
                add_region(*(const uint64_t *)(uintptr_t)e,
                           *(const uint64_t *)(uintptr_t)(e + 8), rd32(e + 16));
            break;
        }
        case 21:
            report_eq("mb2 image load base", rd32(t + 8), IMAGE_START);
            break;
        }
        if (type == 0)
            break;
        t += (size + 7) & ~7u;
    }
    report("mb2 tags 8-byte aligned", aligned);
    report("mb2 end tag", end_seen);
}

/* ---- checks ----------------------------------------------------------- */

static bool in_ram(uint64_t base, uint64_t len)
{
    for (int i = 0; i < in.nmap; i++)
        if (in.map[i].type == 1 && base >= in.map[i].base &&
            base + len <= in.map[i].base + in.map[i].len)
            return true;
    return false;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

static void check_memory(void)
{
    if (!in.have_mem) {
        report("memory sizes present", false);
        return;
    }
    report_msg("mem_lower", in.mem_lower >= 600 && in.mem_lower <= 640, "%u KiB", in.mem_lower);
    uint32_t hi = (MEM_MB - 1) * 1024, lo = (MEM_MB - 2) * 1024;
    report_msg("mem_upper", in.mem_upper >= lo && in.mem_upper <= hi,
               "%u KiB, want %u..%u", in.mem_upper, lo, hi);
    if (!in.map_ok || in.nmap == 0) {
        report("memory map present", false);
        return;
    }
    uint64_t avail = 0;
    bool disjoint = true;
    for (int i = 0; i < in.nmap; i++) {
        printf("  mmap %#llx-%#llx type %u\n", (unsigned long long)in.map[i].base,
               (unsigned long long)(in.map[i].base + in.map[i].len), in.map[i].type);
        if (in.map[i].type == 1)
            avail += in.map[i].len;
        for (int j = 0; j < i; j++)
            if (in.map[i].type == 1 && in.map[j].type == 1 &&
                overlaps(in.map[i].base, in.map[i].base + in.map[i].len, in.map[j].base,
                         in.map[j].base + in.map[j].len))
                disjoint = false;
    }
    report("mmap available ranges disjoint", disjoint);
    uint64_t mem = (uint64_t)MEM_MB << 20;
    report_msg("mmap available total", avail >= mem - (2ull << 20) && avail <= mem,
               "%llu KiB", (unsigned long long)(avail >> 10));
    report("mmap has conventional memory", in_ram(0x1000, 0x9e000 - 0x1000));
    report("mmap has 1-16 MiB", in_ram(IMAGE_START, 15ull << 20));
    uint64_t image_end = (uint64_t)(uintptr_t)__image_end;
    report("image in available RAM", in_ram(IMAGE_START, image_end - IMAGE_START));
    report("boot information in available RAM",
           in_ram(in.info_start, in.info_end - in.info_start));
    report("boot information outside the image",
           !overlaps(in.info_start, in.info_end, IMAGE_START, image_end));
}

static void check_cmdline_and_modules(bool exact)
{
    if (!in.cmdline || !contains(in.cmdline, MARKER)) {
        report_skip("command line and modules",
                    "run without them (test_loaders.py passes them)");
        return;
    }
    printf("  cmdline \"%s\"\n", in.cmdline);
    if (exact)
        report("cmdline", !strcmp(in.cmdline, want_cmdline));
    else
        report("cmdline", ends_with_word(in.cmdline, want_cmdline));
    if (!report_eq("module count", in.nmods, ARRAY_SIZE(want_mods)))
        return;
    uint64_t image_end = (uint64_t)(uintptr_t)__image_end;
    for (int i = 0; i < in.nmods; i++) {
        const char *text = want_mods[i].text;
        uint64_t s = in.mods[i].start, e = in.mods[i].end;
        printf("  module %d %#llx-%#llx \"%s\"\n", i, (unsigned long long)s,
               (unsigned long long)e, in.mods[i].args);
        reportf(e - s == strlen(text), "module %d size", i);
        reportf(e - s == strlen(text) && !memcmp((const void *)(uintptr_t)s, text, strlen(text)),
                "module %d contents", i);
        reportf((s & 0xfff) == 0, "module %d page-aligned", i);
        if (exact)
            reportf(!strcmp(in.mods[i].args, want_mods[i].args), "module %d string", i);
        else
            reportf(ends_with_word(in.mods[i].args, want_mods[i].args), "module %d string", i);
        reportf(!overlaps(s, e, IMAGE_START, image_end), "module %d outside the image", i);
        reportf(!overlaps(s, e, in.info_start, in.info_end), "module %d outside the info", i);
        reportf(in_ram(s, e - s), "module %d in available RAM", i);
        for (int j = 0; j < i; j++)
            reportf(!overlaps(s, e, in.mods[j].start, in.mods[j].end),
                    "modules %d and %d disjoint", j, i);
    }
}

void test_main(void)
{
    const char *proto = loader_protocol ? loader_protocol : "multiboot1";
    printf("  protocol %s, magic %#x, info %#x\n", proto, mb_magic, mb_info);
    bool mb2 = !strcmp(proto, "multiboot2") || !strcmp(proto, "elf64");
    if (!report_eq("boot magic", mb_magic, mb2 ? MB2_BOOT_MAGIC : MULTIBOOT_BOOT_MAGIC))
        report_abort("boot magic", "cannot read the boot information");
    if (mb2)
        read_mb2(mb_info);
    else
        read_mb1(mb_info);
    if (in.loader_name && in.loader_name[0])
        printf("  boot loader \"%s\"\n", in.loader_name);
    if (!strcmp(proto, "elf64")) {
        /* docs/usage.md, "Plain ELF64". */
        report_eq("elf64 entry rsp", loader_entry_rsp, 0x7fff8);
        report_eq("elf64 zero return address", loader_entry_ret, 0);
        report("elf64 entered with paging on", loader_entry_cr0 & BIT(31));
    }
    check_memory();
    /* Only Vanderpool boots Multiboot 2 and ELF64 here, and it passes
     * strings exactly; Multiboot 1 strings may carry a file name first. */
    check_cmdline_and_modules(mb2);
}
