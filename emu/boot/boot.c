/* Boot dispatch: which protocol an image speaks, and the plain ELF64
 * boot (an x86-64 executable with no Multiboot header, entered in 64-bit
 * long mode). The layout and entry states are in docs/usage.md. */
#include "emu/boot/boot.h"

#include <stdlib.h>
#include <string.h>

#include "emu/boot/loader.h"
#include "emu/cpu/cpu.h"

#define ELF64_BOOT_MAGIC 0x36D76289u   /* the Multiboot 2 magic */

static int elf64_boot(vp_boot *b)
{
    const vp_boot_file *f = &b->img;
    vp_elf e;
    if (vp_elf_parse(f, &e, b->err) < 0 || vp_elf_check_x86(f, &e, b->err) < 0)
        return -1;
    if (e.bits != 64)
        return vp_fail(b->err, "%s: ELF32 image without a Multiboot header: "
                       "only ELF64 x86-64 images boot without one", f->path);
    /* Everything must be reachable through the identity map of 4 GiB. */
    uint64_t entry;
    if (vp_elf_load(b, &e, VP_4GIB, &entry) < 0)
        return -1;
    if (vp_boot_load_modules(b) < 0)
        return -1;
    uint64_t pt, stack;
    if (vp_boot_alloc(b, VP_BOOT_PT_SIZE, VP_PAGE_SIZE, VP_BOOT_PT_FLOOR,
                      VP_BOOT_LOW_CEIL, &pt) < 0 &&
        vp_boot_alloc(b, VP_BOOT_PT_SIZE, VP_PAGE_SIZE, VP_ROM_END, VP_4GIB,
                      &pt) < 0)
        return vp_fail(b->err, "%s: no room for the page tables in guest RAM",
                       f->path);
    if (vp_boot_alloc(b, VP_BOOT_STACK_SIZE, VP_PAGE_SIZE,
                      VP_BOOT_STACK_FLOOR, VP_BOOT_LOW_CEIL, &stack) < 0 &&
        vp_boot_alloc(b, VP_BOOT_STACK_SIZE, VP_PAGE_SIZE, VP_BOOT_PT_FLOOR,
                      VP_4GIB, &stack) < 0)
        return vp_fail(b->err, "%s: no room for the boot stack in guest RAM",
                       f->path);
    uint64_t info;
    if (vp_mb2_build_info(b, b->image_lo, &info) < 0)
        return -1;
    /* A zero return address on top of the stack: RSP + 8 is 16-byte
     * aligned, as at the entry of a System V ABI function. */
    uint64_t rsp = stack + VP_BOOT_STACK_SIZE - 8;
    static const uint8_t zero[8];
    if (vp_phys_load(&b->m->mem, rsp, zero, 8) < 0)
        return vp_fail(b->err, "%s: cannot write the boot stack", f->path);
    vp_cpu *c = b->m->cpus[0];
    if (vp_cpu_setup_long_mode(c, entry, pt, VP_4GIB, rsp) < 0)
        return vp_fail(b->err, "%s: cannot set up 64-bit long mode (page "
                       "tables at %#llx)", f->path, (unsigned long long)pt);
    c->gpr[R_DI] = info;
    c->gpr[R_SI] = ELF64_BOOT_MAGIC;
    c->gpr[R_AX] = ELF64_BOOT_MAGIC;
    c->gpr[R_BX] = info;
    VP_TRACE(&b->m->trace, BOOT,
             "ELF64 entry %#llx in long mode, page tables %#llx, rsp %#llx, "
             "info %#llx", (unsigned long long)entry, (unsigned long long)pt,
             (unsigned long long)rsp, (unsigned long long)info);
    return 0;
}

static int boot_image(vp_boot *b)
{
    const vp_boot_file *f = &b->img;
    vp_error err1, err2;
    uint64_t off1 = 0, off2 = 0;
    int mb2 = vp_mb2_find(f, &off2, &err2);
    int mb1 = vp_mb1_find(f, &off1, &err1);
    /* An image with both headers declares it speaks both: Multiboot 2, the
     * richer protocol, wins. */
    if (mb2 == 1) {
        VP_TRACE(&b->m->trace, BOOT, "%s: Multiboot 2 header at %#llx",
                 f->path, (unsigned long long)off2);
        return vp_mb2_boot(b, off2);
    }
    if (mb1 == 1) {
        VP_TRACE(&b->m->trace, BOOT, "%s: Multiboot 1 header at %#llx",
                 f->path, (unsigned long long)off1);
        return vp_mb1_boot(b, off1);
    }
    if (mb1 < 0)
        return vp_fail(b->err, "%s", err1.msg);
    if (mb2 < 0)
        return vp_fail(b->err, "%s", err2.msg);
    if (vp_elf_is_elf(f)) {
        VP_TRACE(&b->m->trace, BOOT, "%s: ELF without a Multiboot header",
                 f->path);
        return elf64_boot(b);
    }
    return vp_fail(b->err, "%s: not a bootable image: no Multiboot header in "
                   "the first 8192 bytes (Multiboot 1) or 32768 bytes "
                   "(Multiboot 2), and not an ELF file", f->path);
}

int vp_boot_load(vp_machine *m, vp_error *err)
{
    vp_boot b = {.m = m, .err = err};
    if (!m->cfg.kernel)
        return vp_fail(err, "no boot image given");
    if (m->ncpus < 1)
        return vp_fail(err, "%s: no CPU to boot", m->cfg.kernel);
    if (m->cfg.nmodules > VP_MAX_MODULES)
        return vp_fail(err, "at most %d modules are supported",
                       VP_MAX_MODULES);
    /* Large enough for ELF files with debug information. */
    uint64_t limit = m->mem.ram_size > VP_GIB ? m->mem.ram_size : VP_GIB;
    if (vp_boot_read_file(m->cfg.kernel, "", limit, &b.img, err) < 0)
        return -1;
    int r;
    if (b.img.size == 0)
        r = vp_fail(err, "%s: empty file", m->cfg.kernel);
    else
        r = boot_image(&b);
    vp_boot_file_free(&b.img);
    free(b.used);
    return r;
}
