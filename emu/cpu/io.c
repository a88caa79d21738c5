/* I/O permission for IN, OUT, INS and OUTS (SDM Vol 1, "I/O Privilege
 * Level" and "I/O Permission Bit Map"; Vol 3A, "Task-State Segment").
 * In protected mode with CPL > IOPL, and always in virtual-8086 mode, the
 * bits for every byte port accessed must be clear in the TSS's bitmap. */
#include "emu/cpu/sys.h"
#include "emu/cpu/debugreg.h"

static int io_fault(vp_cpu *c, uint16_t port, unsigned size, const char *why)
{
    VP_TRACE(&c->m->trace, EXC, "I/O port %#x/%u: %s: #GP(0)", port, size,
             why);
    return vp_raise_err(c, EXC_GP, 0);
}

int vp_io_allowed(vp_cpu *c, uint16_t port, unsigned size)
{
    /* Every IN/OUT/INS/OUTS asks here first: I/O breakpoints (debugreg.c;
     * a #GP below voids the hit with the instruction). */
    if (VP_UNLIKELY(c->dr_io))
        vp_dr_io_access(c, port, size);
    if (!(c->cr0 & CR0_PE))
        return VP_OK;
    unsigned iopl = (unsigned)((c->flags & FL_IOPL) >> 12);
    if (!c->v86 && (unsigned)c->cpl <= iopl)
        return VP_OK;

    /* Only a 32-bit (or 64-bit) TSS has a bitmap; its base is the 16-bit
     * field at offset 66H, and the bytes read must lie within TR.limit. */
    const vp_seg *tr = &c->tr;
    if ((tr->attr & SEGA_UNUSABLE) || !seg_tss32(tr->attr) ||
        tr->limit < 0x67)
        return io_fault(c, port, size, "no 32-bit TSS with a bitmap");
    uint64_t base = tr->base, iomap, bits;
    uint64_t mask = c->long_mode ? ~0ull : 0xffffffffull;
    int r = vp_read_lin(c, (base + 0x66) & mask, 2, &iomap,
                        ACC_READ | ACC_SUPER);
    if (r)
        return r;
    uint64_t at = iomap + port / 8;
    if (at + 1 > tr->limit)
        return io_fault(c, port, size, "bitmap beyond the TSS limit");
    r = vp_read_lin(c, (base + at) & mask, 2, &bits, ACC_READ | ACC_SUPER);
    if (r)
        return r;
    uint64_t want = ((1u << size) - 1) << (port & 7);
    if (bits & want)
        return io_fault(c, port, size, "denied by the I/O permission bitmap");
    return VP_OK;
}
