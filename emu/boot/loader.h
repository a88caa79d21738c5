/* Interfaces shared by the boot loaders (not for the rest of emu/):
 *
 *   boot.c        format detection, plain ELF64 boot in long mode
 *   image.c       reading files, placing and allocating guest memory,
 *                 modules, the memory map, the boot-information builder
 *   elf.c         bounds-checked ELF32/ELF64 parsing and PT_LOAD loading
 *   aout.c        the address-field ("a.out kludge") loading that both
 *                 Multiboot versions share
 *   multiboot1.c  Multiboot 1 header and information structure
 *   multiboot2.c  Multiboot 2 header tags and information tags
 *
 * Every error is one line naming the file and the problem, returned
 * through vp_error; nothing here prints.
 */
#ifndef VP_BOOT_LOADER_H
#define VP_BOOT_LOADER_H

#include "emu/boot/boot.h"

/* ---- little-endian fields ------------------------------------------- */

static inline uint16_t vp_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t vp_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t vp_le64(const uint8_t *p)
{
    return (uint64_t)vp_le32(p) | (uint64_t)vp_le32(p + 4) << 32;
}
static inline void vp_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void vp_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vp_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#define VP_KIB 1024ull
#define VP_MIB (1024ull * 1024)
#define VP_GIB (1024ull * 1024 * 1024)
#define VP_4GIB (4ull * VP_GIB)

/* ---- the low-memory layout (docs/usage.md, "Boot protocols") -------- */

/* Page tables of a plain ELF64 boot: the loader reserves this much for
 * vp_cpu_setup_long_mode, whose identity map of 4 GiB with 2 MiB pages
 * takes 7 pages (PML4, PDPT, four page directories, a GDT). */
#define VP_BOOT_PT_FLOOR 0x1000ull
#define VP_BOOT_PT_SIZE 0x8000ull
/* Stack of a plain ELF64 boot: [0x70000, 0x80000) when free. */
#define VP_BOOT_STACK_FLOOR 0x70000ull
#define VP_BOOT_STACK_SIZE 0x10000ull
/* Boot information (all protocols) and its strings: first free space from
 * 64 KiB up in conventional memory, else above the modules. */
#define VP_BOOT_INFO_FLOOR 0x10000ull
#define VP_BOOT_LOW_CEIL 0xa0000ull

/* ---- files ---------------------------------------------------------- */

typedef struct vp_boot_file {
    const char *path;
    uint8_t *data;
    size_t size;
} vp_boot_file;

/* Reads a whole file (at most `limit` bytes, else an error). `what` is
 * "" for the kernel or e.g. "module" for messages ("FILE: cannot open
 * module: ..."). */
int vp_boot_read_file(const char *path, const char *what, uint64_t limit,
                      vp_boot_file *f, vp_error *err) VP_MUST_CHECK;
void vp_boot_file_free(vp_boot_file *f);

/* ---- the loader's state --------------------------------------------- */

typedef struct vp_boot_range {
    uint64_t base, end;    /* [base, end) */
} vp_boot_range;

typedef struct vp_boot_module {
    uint64_t start, end;   /* guest-physical, end exclusive */
    const char *cmdline;   /* never NULL */
} vp_boot_module;

typedef struct vp_boot {
    vp_machine *m;
    vp_error *err;
    vp_boot_file img;
    /* Guest memory taken so far: image segments, modules, boot data. */
    vp_boot_range *used;
    int nused, capused;
    bool have_image;
    uint64_t image_lo, image_hi;  /* extent of the image (bss included) */
    vp_boot_module mods[VP_MAX_MODULES];
    int nmods;
} vp_boot;

/* The kernel path, for messages. */
static inline const char *vp_boot_path(const vp_boot *b)
{
    return b->img.path;
}

/* Takes [gpa, gpa+len) for `what` (e.g. "segment 2"): fails with a
 * message naming the hole, the MMIO window or the end of RAM it runs into.
 * len may be 0 (nothing is taken). */
int vp_boot_claim(vp_boot *b, uint64_t gpa, uint64_t len, const char *what)
    VP_MUST_CHECK;

/* Claims [gpa, gpa+memsz) for a piece of the image and copies `filesz`
 * bytes of `data` there; the rest is zeroed (BSS). */
int vp_boot_load_bytes(vp_boot *b, uint64_t gpa, const uint8_t *data,
                       uint64_t filesz, uint64_t memsz, const char *what)
    VP_MUST_CHECK;

/* First fit: the lowest `align`-aligned address in [floor, ceil) where
 * `size` bytes are RAM and not taken. Returns 0 and claims it, or -1
 * (no message: the caller knows what it was looking for). */
int vp_boot_alloc(vp_boot *b, uint64_t size, uint64_t align, uint64_t floor,
                  uint64_t ceil, uint64_t *out) VP_MUST_CHECK;

/* Loads m->cfg.modules[] page-aligned above the image (below 4 GiB) and
 * fills b->mods. */
int vp_boot_load_modules(vp_boot *b) VP_MUST_CHECK;

/* The guest-physical memory map both Multiboot versions report. */
enum { VP_MMAP_RAM = 1, VP_MMAP_RESERVED = 2 };
typedef struct vp_boot_mmap {
    uint64_t base, len;
    uint32_t type;
} vp_boot_mmap;
#define VP_BOOT_MMAP_MAX (VP_MMIO_MAX + 8)
int vp_boot_memory_map(vp_boot *b, vp_boot_mmap *out, int max);

/* Lower and upper memory in KiB, as both Multiboot versions define them:
 * RAM from 0 (at most 640) and RAM from 1 MiB up to the first hole. */
uint32_t vp_boot_mem_lower(const vp_boot *b);
uint32_t vp_boot_mem_upper(const vp_boot *b);

/* ---- the boot-information builder ----------------------------------- */

/* A byte buffer laid out relative to a base chosen at the end: pointer
 * fields are recorded and relocated when the base is known. */
typedef struct vp_blob {
    uint8_t *buf;
    size_t len, cap;
    size_t *fix;           /* offsets of 32-bit pointer fields */
    size_t nfix, capfix;
    bool oom;
} vp_blob;

/* Appends `n` bytes (zeroed when data is NULL) at `align`; returns the
 * offset. */
size_t vp_blob_put(vp_blob *bl, const void *data, size_t n, size_t align);
size_t vp_blob_str(vp_blob *bl, const char *s);
void vp_blob_set32(vp_blob *bl, size_t off, uint32_t v);
void vp_blob_set64(vp_blob *bl, size_t off, uint64_t v);
/* Stores the offset `target` at `off` as a pointer relocated later. */
void vp_blob_ptr(vp_blob *bl, size_t off, size_t target);
/* Places the blob in guest memory (8-byte aligned, low memory first) and
 * relocates its pointers; returns the guest address in *addr. */
int vp_blob_commit(vp_boot *b, vp_blob *bl, const char *what, uint64_t *addr)
    VP_MUST_CHECK;
void vp_blob_free(vp_blob *bl);

/* The boot loader's name in the information structures. */
#define VP_BOOT_LOADER_NAME "Vanderpool " VP_VERSION

/* ---- ELF ------------------------------------------------------------ */

enum { VP_EM_386 = 3, VP_EM_X86_64 = 62 };

typedef struct vp_elf {
    int bits;              /* 32 or 64 */
    uint16_t type, machine;
    uint64_t entry;
    uint64_t phoff;
    uint16_t phentsize, phnum;
} vp_elf;

typedef struct vp_elf_phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
} vp_elf_phdr;

/* Whether the file starts with the ELF magic. */
bool vp_elf_is_elf(const vp_boot_file *f);
/* Validates the ELF header and the program header table's bounds. */
int vp_elf_parse(const vp_boot_file *f, vp_elf *e, vp_error *err)
    VP_MUST_CHECK;
/* Fails unless the file is an executable (ET_EXEC) for EM_386 (ELF32) or
 * EM_X86_64 (ELF64); names the machine otherwise. */
int vp_elf_check_x86(const vp_boot_file *f, const vp_elf *e, vp_error *err)
    VP_MUST_CHECK;
void vp_elf_phdr_get(const vp_boot_file *f, const vp_elf *e, int i,
                     vp_elf_phdr *ph);
/* Loads every PT_LOAD segment at its physical address (p_paddr), below
 * `limit`, and returns the entry point translated to a physical address
 * (an e_entry inside a segment's virtual range moves with the segment). */
int vp_elf_load(vp_boot *b, const vp_elf *e, uint64_t limit,
                uint64_t *entry) VP_MUST_CHECK;

/* ---- address fields (a.out kludge) ---------------------------------- */

typedef struct vp_aout {
    uint64_t header_off;   /* file offset of the Multiboot header */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
    bool load_from_start;  /* Multiboot 2: load_addr == 0xffffffff */
} vp_aout;

/* Loads the image as the address fields describe; `entry` (if not
 * UINT64_MAX) must fall inside what was loaded. */
int vp_aout_load(vp_boot *b, const vp_aout *a, uint64_t entry)
    VP_MUST_CHECK;

/* ---- formats -------------------------------------------------------- */

/* Offset of a header: the first `align`-aligned offset within the first
 * `window` bytes holding `magic` whose checksum is right. Returns 1 and
 * the offset, 0 if no magic was found, -1 (with a message) if the magic
 * was found only with a bad checksum or truncated. */
int vp_mb1_find(const vp_boot_file *f, uint64_t *off, vp_error *err);
int vp_mb2_find(const vp_boot_file *f, uint64_t *off, vp_error *err);

int vp_mb1_boot(vp_boot *b, uint64_t hdr_off) VP_MUST_CHECK;
int vp_mb2_boot(vp_boot *b, uint64_t hdr_off) VP_MUST_CHECK;

/* Builds the Multiboot 2 information block (also handed to plain ELF64
 * kernels) and returns its guest address. */
int vp_mb2_build_info(vp_boot *b, uint64_t load_base, uint64_t *addr)
    VP_MUST_CHECK;

#endif
