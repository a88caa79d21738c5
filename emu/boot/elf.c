/* ELF32/ELF64 executables (System V ABI, "ELF Header" and "Program
 * Header"): every field is bounds-checked before use, offsets and sizes
 * are overflow-checked, and segments are loaded at their physical
 * address. */
#include "emu/boot/loader.h"

#include <stdio.h>
#include <string.h>

enum {
    EI_CLASS = 4, EI_DATA = 5, EI_VERSION = 6,
    ELFCLASS32 = 1, ELFCLASS64 = 2, ELFDATA2LSB = 1, ELFDATA2MSB = 2,
    ET_REL = 1, ET_EXEC = 2, ET_DYN = 3, ET_CORE = 4,
    PT_LOAD = 1, PN_XNUM = 0xffff,
    EHDR32_SIZE = 52, EHDR64_SIZE = 64, PHDR32_SIZE = 32, PHDR64_SIZE = 56,
};

bool vp_elf_is_elf(const vp_boot_file *f)
{
    return f->size >= 4 && !memcmp(f->data, "\177ELF", 4);
}

int vp_elf_parse(const vp_boot_file *f, vp_elf *e, vp_error *err)
{
    const uint8_t *d = f->data;
    const char *p = f->path;
    memset(e, 0, sizeof(*e));
    if (!vp_elf_is_elf(f))
        return vp_fail(err, "%s: not an ELF file", p);
    if (f->size < 16)
        return vp_fail(err, "%s: truncated ELF header (%zu bytes)", p,
                       f->size);
    if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
        return vp_fail(err, "%s: malformed ELF header: invalid class %u", p,
                       d[EI_CLASS]);
    if (d[EI_DATA] == ELFDATA2MSB)
        return vp_fail(err, "%s: big-endian ELF file (x86 images are "
                       "little-endian)", p);
    if (d[EI_DATA] != ELFDATA2LSB)
        return vp_fail(err, "%s: malformed ELF header: invalid data "
                       "encoding %u", p, d[EI_DATA]);
    if (d[EI_VERSION] != 1)
        return vp_fail(err, "%s: malformed ELF header: invalid version %u",
                       p, d[EI_VERSION]);
    e->bits = d[EI_CLASS] == ELFCLASS64 ? 64 : 32;
    size_t ehsize = e->bits == 64 ? EHDR64_SIZE : EHDR32_SIZE;
    if (f->size < ehsize)
        return vp_fail(err, "%s: truncated ELF header (%zu bytes, an ELF%d "
                       "header has %zu)", p, f->size, e->bits, ehsize);
    e->type = vp_le16(d + 16);
    e->machine = vp_le16(d + 18);
    if (vp_le32(d + 20) != 1)
        return vp_fail(err, "%s: malformed ELF header: e_version %u", p,
                       vp_le32(d + 20));
    unsigned minph;
    if (e->bits == 64) {
        e->entry = vp_le64(d + 24);
        e->phoff = vp_le64(d + 32);
        e->phentsize = vp_le16(d + 54);
        e->phnum = vp_le16(d + 56);
        minph = PHDR64_SIZE;
    } else {
        e->entry = vp_le32(d + 24);
        e->phoff = vp_le32(d + 28);
        e->phentsize = vp_le16(d + 42);
        e->phnum = vp_le16(d + 44);
        minph = PHDR32_SIZE;
    }
    if (e->phnum == 0)
        return vp_fail(err, "%s: malformed ELF: no program headers", p);
    if (e->phnum == PN_XNUM)
        return vp_fail(err, "%s: malformed ELF: too many program headers "
                       "(extended numbering is not supported)", p);
    if (e->phentsize < minph)
        return vp_fail(err, "%s: malformed ELF header: e_phentsize %u "
                       "(an ELF%d program header has %u bytes)", p,
                       e->phentsize, e->bits, minph);
    uint64_t tab = (uint64_t)e->phnum * e->phentsize;
    if (e->phoff > f->size || tab > f->size - e->phoff)
        return vp_fail(err, "%s: truncated ELF: the program headers (offset "
                       "%#llx, %u x %u bytes) extend past the end of the "
                       "file (%zu bytes)", p, (unsigned long long)e->phoff,
                       e->phnum, e->phentsize, f->size);
    return 0;
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case 0: return "no machine";
    case 2: return "SPARC";
    case 3: return "i386";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 43: return "SPARC V9";
    case 50: return "IA-64";
    case 62: return "x86-64";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return "unknown machine";
    }
}

int vp_elf_check_x86(const vp_boot_file *f, const vp_elf *e, vp_error *err)
{
    const char *p = f->path;
    unsigned want = e->bits == 64 ? VP_EM_X86_64 : VP_EM_386;
    if (e->machine != VP_EM_386 && e->machine != VP_EM_X86_64)
        return vp_fail(err, "%s: ELF for another machine: %s (e_machine %u), "
                       "not x86", p, machine_name(e->machine), e->machine);
    if (e->machine != want)
        return vp_fail(err, "%s: unsupported ELF: ELF%d for %s (e_machine "
                       "%u)", p, e->bits, machine_name(e->machine),
                       e->machine);
    if (e->type != ET_EXEC) {
        const char *what = e->type == ET_REL    ? "a relocatable object"
                           : e->type == ET_DYN  ? "a shared object or PIE"
                           : e->type == ET_CORE ? "a core dump"
                                                : "of unknown type";
        return vp_fail(err, "%s: not an ELF executable: %s (e_type %u)", p,
                       what, e->type);
    }
    return 0;
}

void vp_elf_phdr_get(const vp_boot_file *f, const vp_elf *e, int i,
                     vp_elf_phdr *ph)
{
    /* In bounds: vp_elf_parse checked the whole table. */
    const uint8_t *d = f->data + e->phoff + (uint64_t)i * e->phentsize;
    ph->type = vp_le32(d);
    if (e->bits == 64) {
        ph->offset = vp_le64(d + 8);
        ph->vaddr = vp_le64(d + 16);
        ph->paddr = vp_le64(d + 24);
        ph->filesz = vp_le64(d + 32);
        ph->memsz = vp_le64(d + 40);
    } else {
        ph->offset = vp_le32(d + 4);
        ph->vaddr = vp_le32(d + 8);
        ph->paddr = vp_le32(d + 12);
        ph->filesz = vp_le32(d + 16);
        ph->memsz = vp_le32(d + 20);
    }
}

int vp_elf_load(vp_boot *b, const vp_elf *e, uint64_t limit, uint64_t *entry)
{
    const vp_boot_file *f = &b->img;
    const char *p = f->path;
    int loaded = 0;
    for (int i = 0; i < e->phnum; i++) {
        vp_elf_phdr ph;
        vp_elf_phdr_get(f, e, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.filesz > ph.memsz)
            return vp_fail(b->err, "%s: malformed ELF: segment %d has "
                           "p_filesz %#llx larger than p_memsz %#llx", p, i,
                           (unsigned long long)ph.filesz,
                           (unsigned long long)ph.memsz);
        if (ph.offset > f->size || ph.filesz > f->size - ph.offset)
            return vp_fail(b->err, "%s: truncated ELF: segment %d (file "
                           "offset %#llx, %#llx bytes) extends past the end "
                           "of the file (%zu bytes)", p, i,
                           (unsigned long long)ph.offset,
                           (unsigned long long)ph.filesz, f->size);
        if (ph.paddr >= limit || ph.memsz > limit - ph.paddr)
            return vp_fail(b->err, "%s: segment %d at %#llx (%#llx bytes) "
                           "does not fit below %#llx", p, i,
                           (unsigned long long)ph.paddr,
                           (unsigned long long)ph.memsz,
                           (unsigned long long)limit);
        char what[32];
        snprintf(what, sizeof(what), "segment %d", i);
        if (vp_boot_load_bytes(b, ph.paddr, f->data + ph.offset, ph.filesz,
                               ph.memsz, what) < 0)
            return -1;
        VP_TRACE(&b->m->trace, BOOT,
                 "segment %d: file %#llx+%#llx -> %#llx-%#llx (vaddr %#llx)",
                 i, (unsigned long long)ph.offset,
                 (unsigned long long)ph.filesz, (unsigned long long)ph.paddr,
                 (unsigned long long)(ph.paddr + ph.memsz),
                 (unsigned long long)ph.vaddr);
        loaded++;
    }
    if (!loaded)
        return vp_fail(b->err, "%s: malformed ELF: no loadable (PT_LOAD) "
                       "segments", p);
    /* The entry point is virtual; with paging off (or identity-mapped) the
     * CPU needs its physical address. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < e->phnum; i++) {
            vp_elf_phdr ph;
            vp_elf_phdr_get(f, e, i, &ph);
            if (ph.type != PT_LOAD || ph.memsz == 0)
                continue;
            uint64_t base = pass == 0 ? ph.vaddr : ph.paddr;
            if (e->entry - base < ph.memsz) {
                *entry = e->entry - base + ph.paddr;
                return 0;
            }
        }
    }
    return vp_fail(b->err, "%s: malformed ELF: the entry point %#llx is not "
                   "inside any loadable segment", p,
                   (unsigned long long)e->entry);
}
