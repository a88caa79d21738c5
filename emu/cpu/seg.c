/* Segmentation: descriptor tables, segment-register loads with their
 * privilege checks, and the far transfers JMP, CALL and RET (SDM Vol 3A,
 * "Segment Descriptors", "Privilege Level Checking When Accessing Data
 * Segments", "Privilege Level Checking When Loading the SS Register",
 * "Privilege Level Checking When Transferring Program Control Between
 * Code Segments", "Call Gates"; Vol 2 JMP, CALL, RET, MOV, LLDT, LTR).
 *
 * A far transfer either completes or leaves the architectural state as it
 * was (vp_xsave/vp_xrestore), so the exec loop can deliver its fault in
 * the old context. */
#include "emu/cpu/sys.h"

#include <string.h>

/* ---- small helpers --------------------------------------------------- */

void vp_xsave(vp_cpu *c, vp_xstate *x)
{
    memcpy(x->seg, c->seg, sizeof(x->seg));
    x->ldtr = c->ldtr;
    x->tr = c->tr;
    x->rsp = c->gpr[R_SP];
    x->rip = c->rip;
    x->flags = vp_flags(c);
}

void vp_xrestore(vp_cpu *c, const vp_xstate *x)
{
    memcpy(c->seg, x->seg, sizeof(x->seg));
    c->ldtr = x->ldtr;
    c->tr = x->tr;
    c->gpr[R_SP] = x->rsp;
    c->rip = x->rip;
    c->flags = x->flags;
    c->lf_op = 0;
    vp_update_mode(c);
}

static inline bool prot_mode(const vp_cpu *c)
{
    return (c->cr0 & CR0_PE) && !c->v86;
}

/* ---- descriptors ----------------------------------------------------- */

int vp_desc_read(vp_cpu *c, uint16_t sel, int vec, uint32_t ext,
                 uint64_t *lo, uint64_t *hi, bool wide, uint64_t *addr)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (c->ldtr.attr & SEGA_UNUSABLE)
            return vp_raise_err(c, vec, sel_err(sel, ext));
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint64_t off = sel & ~7u;
    if (off + (wide ? 15 : 7) > limit)
        return vp_raise_err(c, vec, sel_err(sel, ext));
    uint64_t a = base + off;
    if (!c->long_mode)
        a &= 0xffffffffull;
    int r = vp_read_lin(c, a, 8, lo, ACC_READ | ACC_SUPER);
    if (r)
        return r;
    *hi = 0;
    if (wide) {
        uint64_t a2 = c->long_mode ? a + 8 : ((a + 8) & 0xffffffffull);
        r = vp_read_lin(c, a2, 8, hi, ACC_READ | ACC_SUPER);
        if (r)
            return r;
    }
    if (addr)
        *addr = a;
    return VP_OK;
}

int vp_fetch_desc(vp_cpu *c, uint16_t sel, int err_vector, uint64_t *lo,
                  uint64_t *hi, bool wide)
{
    return vp_desc_read(c, sel, err_vector, 0, lo, hi, wide, NULL);
}

int vp_desc_set_bits(vp_cpu *c, uint64_t addr, uint64_t lo, uint8_t bits)
{
    uint8_t b = (uint8_t)(lo >> 40);
    if ((b & bits) == bits)
        return VP_OK;
    return vp_write_lin(c, addr + 5, 1, b | bits, ACC_WRITE | ACC_SUPER);
}

int vp_desc_clear_bits(vp_cpu *c, uint64_t addr, uint64_t lo, uint8_t bits)
{
    uint8_t b = (uint8_t)(lo >> 40);
    if (!(b & bits))
        return VP_OK;
    return vp_write_lin(c, addr + 5, 1, b & ~bits, ACC_WRITE | ACC_SUPER);
}

/* SDM Vol 3A, "Segment Descriptors": base 31:0 in bits 16-39 and 56-63,
 * limit 19:0 in bits 0-15 and 48-51 scaled by G, access byte 40-47 and
 * flags 52-55, which land where the VMX access-rights layout has them.
 * System descriptors in IA-32e mode have base 63:32 in hi[31:0]; callers
 * pass hi = 0 for 8-byte descriptors. */
void vp_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t sel, vp_seg *s)
{
    s->sel = sel;
    s->base = ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000ull);
    if (!desc_s(lo))
        s->base |= (hi & 0xffffffffull) << 32;
    uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
    s->attr = (uint32_t)((lo >> 40) & 0xff) | (uint32_t)((lo >> 40) & 0xf000);
    if (s->attr & SEGA_G)
        limit = (limit << 12) | 0xfff;
    s->limit = limit;
}

/* Real mode changes only selector and base (so limits and attributes set
 * in protected mode stay: "unreal" mode); virtual-8086 mode forces the
 * 64-KiB data segment, DPL 3 (SDM Vol 3A, "Segment Loading Instructions
 * in Real-Address Mode", Vol 3C "Checks on Guest Segment Registers"). */
void vp_seg_real(vp_seg *s, uint16_t sel, bool v86)
{
    s->sel = sel;
    s->base = (uint64_t)sel << 4;
    if (v86) {
        s->limit = 0xffff;
        s->attr = 0xf3;
    } else {
        s->attr &= ~SEGA_UNUSABLE;
        s->attr |= SEGA_P | SEGA_S;
    }
}

/* A null selector in a data-segment register: the cache is marked unusable.
 * Intel clears the base, AMD keeps it (AMD APM Vol 2, "Segment Registers
 * in 64-Bit Mode"; the Linux X86_BUG_NULL_SEG). */
void vp_seg_null(vp_cpu *c, vp_seg *s, uint16_t sel)
{
    s->sel = sel;
    s->attr = SEGA_UNUSABLE;
    if (!vp_cpu_is_amd(c)) {
        s->base = 0;
        s->limit = 0;
    }
}

/* A null SS, allowed in IA-32e mode at CPL < 3: its DPL still reads as
 * the CPL it was loaded for. */
void vp_seg_null_ss(vp_cpu *c, vp_seg *ss, uint16_t sel, unsigned cpl)
{
    vp_seg_null(c, ss, sel);
    ss->attr |= cpl << 5;
}

/* ---- segment-register loads ------------------------------------------ */

static int load_data_seg(vp_cpu *c, int seg, uint16_t sel)
{
    if (!(sel & ~3u)) {
        vp_seg_null(c, &c->seg[seg], sel);
        return VP_OK;
    }
    uint64_t lo, hi, addr;
    int r = vp_desc_read(c, sel, EXC_GP, 0, &lo, &hi, false, &addr);
    if (r)
        return r;
    vp_seg s;
    vp_desc_to_seg(lo, 0, sel, &s);
    unsigned rpl = sel & 3, dpl = SEGA_DPL(s.attr), cpl = (unsigned)c->cpl;
    if (!seg_readable(s.attr))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (!seg_conforming(s.attr) && (rpl > dpl || cpl > dpl))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (!(s.attr & SEGA_P))
        return vp_raise_err(c, EXC_NP, sel_err(sel, 0));
    r = vp_desc_set_bits(c, addr, lo, 1);
    if (r)
        return r;
    s.attr |= 1;
    c->seg[seg] = s;
    return VP_OK;
}

static int load_ss(vp_cpu *c, uint16_t sel)
{
    unsigned rpl = sel & 3, cpl = (unsigned)c->cpl;
    if (!(sel & ~3u)) {
        /* SDM Vol 2, MOV: a null SS is allowed only in 64-bit mode at
         * CPL < 3 with RPL = CPL. */
        if (c->code_size == 8 && cpl < 3 && rpl == cpl) {
            vp_seg_null_ss(c, &c->seg[S_SS], sel, cpl);
            return VP_OK;
        }
        return vp_raise_err(c, EXC_GP, 0);
    }
    uint64_t lo, hi, addr;
    int r = vp_desc_read(c, sel, EXC_GP, 0, &lo, &hi, false, &addr);
    if (r)
        return r;
    vp_seg s;
    vp_desc_to_seg(lo, 0, sel, &s);
    if (rpl != cpl || !seg_writable(s.attr) || SEGA_DPL(s.attr) != cpl)
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (!(s.attr & SEGA_P))
        return vp_raise_err(c, EXC_SS, sel_err(sel, 0));
    r = vp_desc_set_bits(c, addr, lo, 1);
    if (r)
        return r;
    s.attr |= 1;
    c->seg[S_SS] = s;
    return VP_OK;
}

/* A code segment JMP or CALL names directly (SDM Vol 2 JMP/CALL, "far
 * jump/call to a conforming or nonconforming code segment"): decoded from
 * its descriptor `lo`, checked, and marked accessed at `addr`. */
static int code_target(vp_cpu *c, uint16_t sel, uint64_t lo, uint64_t addr,
                       vp_seg *s)
{
    vp_desc_to_seg(lo, 0, sel, s);
    if (!seg_code(s->attr))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    unsigned rpl = sel & 3, dpl = SEGA_DPL(s->attr), cpl = (unsigned)c->cpl;
    if (seg_conforming(s->attr)) {
        if (dpl > cpl)
            return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    } else if (rpl > cpl || dpl != cpl) {
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    }
    if (!(s->attr & SEGA_P))
        return vp_raise_err(c, EXC_NP, sel_err(sel, 0));
    if (c->long_mode && (s->attr & SEGA_L) && (s->attr & SEGA_DB))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    return vp_desc_set_bits(c, addr, lo, 1);
}

int vp_load_seg(vp_cpu *c, int seg, uint16_t sel)
{
    if (!prot_mode(c)) {
        vp_seg_real(&c->seg[seg], sel, c->v86);
        if (seg == S_CS)
            vp_update_mode(c);
        return VP_OK;
    }
    int r;
    switch (seg) {
    case S_SS:
        r = load_ss(c, sel);
        break;
    case S_CS: {
        /* Not reachable by MOV/POP (#UD); kept for callers that load CS
         * without a transfer: the JMP checks, CPL unchanged. */
        uint64_t lo, hi, addr;
        vp_seg s;
        if (!(sel & ~3u))
            return vp_raise_err(c, EXC_GP, 0);
        r = vp_desc_read(c, sel, EXC_GP, 0, &lo, &hi, false, &addr);
        if (!r)
            r = code_target(c, sel, lo, addr, &s);
        if (r)
            return r;
        s.attr |= 1;
        s.sel = (uint16_t)((sel & ~3u) | (unsigned)c->cpl);
        c->seg[S_CS] = s;
        vp_update_mode(c);
        break;
    }
    default:
        r = load_data_seg(c, seg, sel);
        break;
    }
    if (r == VP_EXC)
        VP_TRACE(&c->m->trace, EXC, "load %s <- %#x: fault %d(%#x)",
                 (const char *[]){"es", "cs", "ss", "ds", "fs", "gs"}[seg],
                 sel, c->exc.vector, c->exc.error);
    return r;
}

/* A new stack segment for an inter-privilege transfer to `cpl`. */
int vp_check_new_ss(vp_cpu *c, uint16_t sel, unsigned cpl, uint32_t ext,
                    vp_seg *out, uint64_t *addr, uint64_t *lo)
{
    uint64_t hi;
    if (!(sel & ~3u))
        return vp_raise_err(c, EXC_TS, ext);
    int r = vp_desc_read(c, sel, EXC_TS, ext, lo, &hi, false, addr);
    if (r)
        return r;
    vp_desc_to_seg(*lo, 0, sel, out);
    if ((sel & 3u) != cpl || SEGA_DPL(out->attr) != cpl ||
        !seg_writable(out->attr))
        return vp_raise_err(c, EXC_TS, sel_err(sel, ext));
    if (!(out->attr & SEGA_P))
        return vp_raise_err(c, EXC_SS, sel_err(sel, ext));
    return VP_OK;
}

/* SDM Vol 2 RET and IRET, "RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL". */
int vp_check_return_cs(vp_cpu *c, uint16_t sel, vp_seg *cs, uint64_t *lo,
                       uint64_t *addr)
{
    if (!(sel & ~3u))
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t hi;
    int r = vp_desc_read(c, sel, EXC_GP, 0, lo, &hi, false, addr);
    if (r)
        return r;
    vp_desc_to_seg(*lo, 0, sel, cs);
    unsigned rpl = sel & 3u, dpl = SEGA_DPL(cs->attr), cpl = (unsigned)c->cpl;
    if (!seg_code(cs->attr) || rpl < cpl ||
        (seg_conforming(cs->attr) ? dpl > rpl : dpl != rpl))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (!(cs->attr & SEGA_P))
        return vp_raise_err(c, EXC_NP, sel_err(sel, 0));
    if (c->long_mode && (cs->attr & SEGA_L) && (cs->attr & SEGA_DB))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    return VP_OK;
}

int vp_check_return_ss(vp_cpu *c, uint16_t sel, const vp_seg *cs, vp_seg *ss,
                       uint64_t *addr, uint64_t *lo)
{
    unsigned rpl = cs->sel & 3u;
    if (!(sel & ~3u)) {
        /* SDM Vol 2 IRET, "IA-32e-MODE-RETURN": a null SS only returning
         * to 64-bit code at CPL < 3 with SS.RPL = the new CPL. */
        bool to64 = c->long_mode && (cs->attr & SEGA_L);
        if (!to64 || rpl == 3 || (sel & 3u) != rpl)
            return vp_raise_err(c, EXC_GP, 0);
        *ss = c->seg[S_SS];
        vp_seg_null_ss(c, ss, sel, rpl);
        return VP_OK;
    }
    uint64_t hi;
    int r = vp_desc_read(c, sel, EXC_GP, 0, lo, &hi, false, addr);
    if (r)
        return r;
    vp_desc_to_seg(*lo, 0, sel, ss);
    if ((sel & 3u) != rpl || !seg_writable(ss->attr) ||
        SEGA_DPL(ss->attr) != rpl)
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (!(ss->attr & SEGA_P))
        return vp_raise_err(c, EXC_SS, sel_err(sel, 0));
    return VP_OK;
}

/* SDM Vol 2 RET/IRET, "return to outer privilege level": data segment
 * registers the new CPL may not use are loaded with the null selector. */
void vp_null_outer_segs(vp_cpu *c)
{
    static const int segs[] = {S_ES, S_DS, S_FS, S_GS};
    for (size_t i = 0; i < VP_ARRAY_SIZE(segs); i++) {
        vp_seg *s = &c->seg[segs[i]];
        if (s->attr & SEGA_UNUSABLE)
            continue;
        if ((seg_data(s->attr) || (seg_code(s->attr) &&
                                   !seg_conforming(s->attr))) &&
            SEGA_DPL(s->attr) < (unsigned)c->cpl) {
            s->sel = 0;
            s->attr |= SEGA_UNUSABLE;
        }
    }
}

/* ---- TSS stack fields (SDM Vol 3A, "Task-State Segment (TSS)",
 * "64-Bit Task State Segment (TSS)") ----------------------------------- */

int vp_tss_stack(vp_cpu *c, unsigned dpl, uint32_t ext, uint16_t *ss,
                 uint64_t *sp)
{
    bool tss32 = seg_tss32(c->tr.attr);
    unsigned off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    unsigned sz = tss32 ? 4 : 2;
    if (off + sz + 1 > c->tr.limit)
        return vp_raise_err(c, EXC_TS, sel_err(c->tr.sel, ext));
    uint64_t base = c->tr.base, v, s;
    int r = vp_read_lin(c, (base + off) & 0xffffffffull, sz, &v,
                        ACC_READ | ACC_SUPER);
    if (!r)
        r = vp_read_lin(c, (base + off + sz) & 0xffffffffull, 2, &s,
                        ACC_READ | ACC_SUPER);
    if (r)
        return r;
    *sp = v;
    *ss = (uint16_t)s;
    return VP_OK;
}

int vp_tss_read64(vp_cpu *c, unsigned off, uint32_t ext, uint64_t *val)
{
    if (off + 7 > c->tr.limit)
        return vp_raise_err(c, EXC_TS, sel_err(c->tr.sel, ext));
    return vp_read_lin(c, c->tr.base + off, 8, val, ACC_READ | ACC_SUPER);
}

/* ---- stack frames ---------------------------------------------------- */

void vp_stack_init(vp_cpu *c, vp_stack *s, const vp_seg *ss, uint64_t sp,
                   uint32_t err)
{
    s->ss = ss;
    if (c->code_size == 8 || (c->long_mode && (c->seg[S_CS].attr & SEGA_L)))
        s->ssize = 8;
    else
        s->ssize = (ss->attr & SEGA_DB) ? 4 : 2;
    s->sp = sp & size_mask(s->ssize);
    s->vec = EXC_SS;
    s->err = err;
}

/* Limit check of [off, off + size) in the stack segment, then the linear
 * address (SDM Vol 3A, "Limit Checking"; expand-down stacks included). */
static int stack_lin(vp_cpu *c, const vp_stack *s, uint64_t off,
                     unsigned size, uint64_t *lin)
{
    if (s->ssize == 8) {
        if (!vp_canonical(c, off) || !vp_canonical(c, off + size - 1))
            return vp_raise_err(c, s->vec, s->err);
        *lin = off;
        return VP_OK;
    }
    uint64_t last = off + size - 1;
    const vp_seg *ss = s->ss;
    if (prot_mode(c) && seg_data(ss->attr) && (ss->attr & 4)) {
        uint64_t upper = (ss->attr & SEGA_DB) ? 0xffffffffull : 0xffff;
        if (off <= ss->limit || last > upper)
            return vp_raise_err(c, s->vec, s->err);
    } else if (last > ss->limit) {
        return vp_raise_err(c, s->vec, s->err);
    }
    *lin = (ss->base + off) & 0xffffffffull;
    return VP_OK;
}

int vp_stack_push(vp_cpu *c, vp_stack *s, unsigned size, uint64_t v)
{
    uint64_t sp = (s->sp - size) & size_mask(s->ssize), lin;
    int r = stack_lin(c, s, sp, size, &lin);
    if (!r)
        r = vp_write_lin(c, lin, size, v & size_mask(size), ACC_WRITE);
    if (r)
        return r;
    s->sp = sp;
    return VP_OK;
}

int vp_stack_peek(vp_cpu *c, const vp_stack *s, uint64_t off, unsigned size,
                  uint64_t *v)
{
    uint64_t lin, sp = (s->sp + off) & size_mask(s->ssize);
    int r = stack_lin(c, s, sp, size, &lin);
    if (!r)
        r = vp_read_lin(c, lin, size, v, ACC_READ);
    return r;
}

int vp_stack_pop(vp_cpu *c, vp_stack *s, unsigned size, uint64_t *v)
{
    int r = vp_stack_peek(c, s, 0, size, v);
    if (r)
        return r;
    s->sp = (s->sp + size) & size_mask(s->ssize);
    return VP_OK;
}

void vp_set_sp(vp_cpu *c, unsigned ssize, uint64_t sp)
{
    if (ssize == 2)
        c->gpr[R_SP] = (c->gpr[R_SP] & ~0xffffull) | (sp & 0xffff);
    else if (ssize == 4)
        c->gpr[R_SP] = sp & 0xffffffffull;
    else
        c->gpr[R_SP] = sp;
}

/* ---- CS loads -------------------------------------------------------- */

int vp_enter_cs(vp_cpu *c, const vp_seg *s, uint16_t sel, unsigned cpl,
                uint64_t off, uint32_t ext)
{
    bool to64 = c->long_mode && (s->attr & SEGA_L);
    if (to64 ? !vp_canonical(c, off) : off > s->limit)
        return vp_raise_err(c, EXC_GP, ext);
    c->seg[S_CS] = *s;
    c->seg[S_CS].attr |= 1;
    c->seg[S_CS].sel = (uint16_t)((sel & ~3u) | cpl);
    c->rip = off;
    vp_update_mode(c);
    return VP_OK;
}

/* Reads the gate or descriptor named by a far pointer's selector: 8 bytes,
 * or 16 for system descriptors in IA-32e mode; #GP(0) when it is null. */
static int read_far_desc(vp_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi,
                         uint64_t *addr)
{
    if (!(sel & ~3u))
        return vp_raise_err(c, EXC_GP, 0);
    int r = vp_desc_read(c, sel, EXC_GP, 0, lo, hi, false, addr);
    if (r || desc_s(*lo) || !c->long_mode)
        return r;
    return vp_desc_read(c, sel, EXC_GP, 0, lo, hi, true, addr);
}

/* Gate checks common to JMP and CALL through a call gate. Returns the
 * gate size (2, 4, 8) or 0 with an exception raised. */
static unsigned call_gate_check(vp_cpu *c, uint16_t sel, uint64_t lo,
                                uint64_t hi)
{
    unsigned t = desc_type(lo), dpl = desc_dpl(lo);
    if (dpl < (unsigned)c->cpl || (sel & 3u) > dpl) {
        (void)vp_raise_err(c, EXC_GP, sel_err(sel, 0));
        return 0;
    }
    if (!desc_present(lo)) {
        (void)vp_raise_err(c, EXC_NP, sel_err(sel, 0));
        return 0;
    }
    /* SDM Vol 3A, "IA-32e Mode Call Gates": the type field of the upper
     * 8 bytes (bits 12:8 of its upper doubleword) must be 0, so that
     * they cannot be mistaken for a legacy descriptor; else #GP. */
    if (c->long_mode && ((hi >> 40) & 0x1f)) {
        (void)vp_raise_err(c, EXC_GP, sel_err(sel, 0));
        return 0;
    }
    return c->long_mode ? 8 : t == DT_CALL16 ? 2 : 4;
}

/* JMP or CALL through the call gate `sel` (descriptor lo, hi): the gate
 * checks, then the code segment it names (SDM Vol 2 CALL/JMP, "call
 * gate"), which is marked accessed; for JMP its DPL must equal CPL
 * (nonconforming) or be <= CPL. *gsize gets the gate size (2, 4, 8). */
static int gate_target(vp_cpu *c, uint16_t sel, uint64_t lo, uint64_t hi,
                       bool is_jmp, vp_seg *s, unsigned *gsize)
{
    *gsize = call_gate_check(c, sel, lo, hi);
    if (!*gsize)
        return VP_EXC;
    uint16_t tsel = gate_sel(lo);
    uint64_t clo, chi, caddr;
    if (!(tsel & ~3u))
        return vp_raise_err(c, EXC_GP, 0);
    int r = vp_desc_read(c, tsel, EXC_GP, 0, &clo, &chi, false, &caddr);
    if (r)
        return r;
    vp_desc_to_seg(clo, 0, tsel, s);
    unsigned dpl = SEGA_DPL(s->attr), cpl = (unsigned)c->cpl;
    if (!seg_code(s->attr) || dpl > cpl ||
        (is_jmp && !seg_conforming(s->attr) && dpl != cpl))
        return vp_raise_err(c, EXC_GP, sel_err(tsel, 0));
    if (!(s->attr & SEGA_P))
        return vp_raise_err(c, EXC_NP, sel_err(tsel, 0));
    if (c->long_mode && (!(s->attr & SEGA_L) || (s->attr & SEGA_DB)))
        return vp_raise_err(c, EXC_GP, sel_err(tsel, 0));
    return vp_desc_set_bits(c, caddr, clo, 1);
}

/* System descriptor types a far JMP/CALL may name. */
static bool far_sys_type_ok(const vp_cpu *c, unsigned t)
{
    if (c->long_mode)
        return t == DT_CALL32;          /* the 64-bit call gate */
    return t == DT_CALL16 || t == DT_CALL32 || t == DT_TASK ||
           t == DT_TSS16 || t == DT_TSS32;
}

/* Real-address and virtual-8086 mode far transfers: CS:IP := sel:off,
 * #GP(0) when off is beyond the CS limit. */
static int real_enter_cs(vp_cpu *c, uint16_t sel, uint64_t off)
{
    if (off > c->seg[S_CS].limit)
        return vp_raise_err(c, EXC_GP, 0);
    vp_seg_real(&c->seg[S_CS], sel, c->v86);
    c->rip = off;
    vp_update_mode(c);
    return VP_OK;
}

/* ---- JMP ------------------------------------------------------------- */

static int far_jmp(vp_cpu *c, uint16_t sel, uint64_t off, bool *committed)
{
    if (!prot_mode(c))
        return real_enter_cs(c, sel, off);
    uint64_t lo, hi, addr;
    int r = read_far_desc(c, sel, &lo, &hi, &addr);
    if (r)
        return r;
    if (desc_s(lo)) {
        vp_seg s;
        r = code_target(c, sel, lo, addr, &s);
        if (!r)
            r = vp_enter_cs(c, &s, sel, (unsigned)c->cpl, off, 0);
        return r;
    }
    unsigned t = desc_type(lo);
    if (!far_sys_type_ok(c, t))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (t == DT_TASK || t == DT_TSS16 || t == DT_TSS32)
        return vp_task_switch(c, sel, TS_JMP, 0, false, 0, c->rip,
                              committed);
    vp_seg s;
    unsigned gsize;
    r = gate_target(c, sel, lo, hi, true, &s, &gsize);
    if (!r)
        r = vp_enter_cs(c, &s, gate_sel(lo), (unsigned)c->cpl,
                        gate_off(lo, hi, gsize), 0);
    return r;
}

/* A fault after a task switch committed belongs to the new task: the exec
 * loop restores RIP from insn_rip, so point that at the new task. */
static int far_finish(vp_cpu *c, int r, bool committed, const vp_xstate *x)
{
    if (r == VP_EXC) {
        if (committed)
            c->insn_rip = c->rip;
        else
            vp_xrestore(c, x);
    }
    return r;
}

int vp_far_jmp(vp_cpu *c, uint16_t sel, uint64_t off)
{
    vp_xstate x;
    bool committed = false;
    vp_xsave(c, &x);
    /* Two statements: `committed` must be read after far_jmp wrote it
     * (argument evaluation order is unspecified in C). */
    int r = far_jmp(c, sel, off, &committed);
    return far_finish(c, r, committed, &x);
}

/* ---- CALL ------------------------------------------------------------ */

/* Pushes CS and the return offset on the current stack; the caller
 * commits st.sp to RSP. */
static int push_far_return(vp_cpu *c, vp_stack *st, unsigned size)
{
    vp_stack_init(c, st, &c->seg[S_SS], c->gpr[R_SP], 0);
    int r = vp_stack_push(c, st, size, c->seg[S_CS].sel);
    return r ? r : vp_stack_push(c, st, size, c->rip);
}

/* Same-privilege call: push CS and the return offset, enter the target. */
static int call_same(vp_cpu *c, const vp_seg *s, uint16_t sel, uint64_t off,
                     unsigned psize)
{
    vp_stack st;
    int r = push_far_return(c, &st, psize);
    if (r)
        return r;
    unsigned ssize = st.ssize;
    r = vp_enter_cs(c, s, sel, (unsigned)c->cpl, off, 0);
    if (r)
        return r;
    vp_set_sp(c, ssize, st.sp);
    return VP_OK;
}

/* Call through a gate to a more privileged nonconforming segment: stack
 * switch from the TSS and parameter copy (SDM Vol 3A, "Stack Switching",
 * Vol 2 CALL "MORE-PRIVILEGE"). */
static int call_inner(vp_cpu *c, uint64_t glo, unsigned gsize,
                      const vp_seg *cs, uint64_t off)
{
    unsigned dpl = SEGA_DPL(cs->attr);
    uint16_t old_ss = c->seg[S_SS].sel, old_cs = c->seg[S_CS].sel;
    uint64_t old_sp = c->gpr[R_SP], old_ip = c->rip;
    uint64_t params[31];
    unsigned nparam = 0;
    vp_seg ss;
    uint64_t new_sp;
    int r;

    if (gsize == 8) {
        /* 64-bit call gate: RSPn from the TSS, a null SS with RPL = new
         * CPL, no parameters (SDM Vol 3A, "Stack Switching in IA-32e
         * Mode"). */
        r = vp_tss_read64(c, 4 + 8 * dpl, 0, &new_sp);
        if (r)
            return r;
        if (!vp_canonical(c, new_sp))
            return vp_raise_err(c, EXC_SS, 0);
        ss = c->seg[S_SS];
        vp_seg_null_ss(c, &ss, (uint16_t)dpl, dpl);
    } else {
        uint16_t ss_sel;
        uint64_t ss_addr, ss_lo;
        r = vp_tss_stack(c, dpl, 0, &ss_sel, &new_sp);
        if (!r)
            r = vp_check_new_ss(c, ss_sel, dpl, 0, &ss, &ss_addr, &ss_lo);
        if (r)
            return r;
        /* Parameters from the caller's stack, read before switching. */
        nparam = (unsigned)(glo >> 32) & 0x1f;
        vp_stack old;
        vp_stack_init(c, &old, &c->seg[S_SS], old_sp, 0);
        for (unsigned i = 0; i < nparam; i++) {
            r = vp_stack_peek(c, &old, (uint64_t)i * gsize, gsize,
                              &params[i]);
            if (r)
                return r;
        }
        r = vp_desc_set_bits(c, ss_addr, ss_lo, 1);
        if (r)
            return r;
        ss.attr |= 1;
    }

    /* Switch to the new stack and CPL, then build the frame there. */
    c->seg[S_SS] = ss;
    r = vp_enter_cs(c, cs, cs->sel, dpl, off, 0);
    if (r)
        return r;
    vp_stack st;
    vp_stack_init(c, &st, &c->seg[S_SS], new_sp, sel_err(ss.sel, 0));
    if (gsize == 8)
        st.err = 0;
    r = vp_stack_push(c, &st, gsize, old_ss);
    if (!r)
        r = vp_stack_push(c, &st, gsize, old_sp);
    for (unsigned i = nparam; !r && i-- > 0;)
        r = vp_stack_push(c, &st, gsize, params[i]);
    if (!r)
        r = vp_stack_push(c, &st, gsize, old_cs);
    if (!r)
        r = vp_stack_push(c, &st, gsize, old_ip);
    if (r)
        return r;
    vp_set_sp(c, st.ssize, st.sp);
    return VP_OK;
}

static int far_call(vp_cpu *c, uint16_t sel, uint64_t off, unsigned osize,
                    bool *committed)
{
    if (!prot_mode(c)) {
        if (off > c->seg[S_CS].limit)
            return vp_raise_err(c, EXC_GP, 0);
        vp_stack st;
        int r = push_far_return(c, &st, osize);
        if (!r)
            r = real_enter_cs(c, sel, off);
        if (!r)
            vp_set_sp(c, st.ssize, st.sp);
        return r;
    }
    uint64_t lo, hi, addr;
    int r = read_far_desc(c, sel, &lo, &hi, &addr);
    if (r)
        return r;
    if (desc_s(lo)) {
        vp_seg s;
        r = code_target(c, sel, lo, addr, &s);
        if (!r)
            r = call_same(c, &s, sel, off, osize);
        return r;
    }
    unsigned t = desc_type(lo);
    if (!far_sys_type_ok(c, t))
        return vp_raise_err(c, EXC_GP, sel_err(sel, 0));
    if (t == DT_TASK || t == DT_TSS16 || t == DT_TSS32)
        return vp_task_switch(c, sel, TS_CALL, 0, false, 0, c->rip,
                              committed);
    vp_seg s;
    unsigned gsize;
    r = gate_target(c, sel, lo, hi, false, &s, &gsize);
    if (r)
        return r;
    uint64_t target = gate_off(lo, hi, gsize);
    if (!seg_conforming(s.attr) && SEGA_DPL(s.attr) < (unsigned)c->cpl)
        return call_inner(c, lo, gsize, &s, target);
    return call_same(c, &s, gate_sel(lo), target, gsize);
}

int vp_far_call(vp_cpu *c, uint16_t sel, uint64_t off, unsigned osize)
{
    vp_xstate x;
    bool committed = false;
    vp_xsave(c, &x);
    int r = far_call(c, sel, off, osize, &committed);
    return far_finish(c, r, committed, &x);
}

/* ---- RET (far) ------------------------------------------------------- */

static int far_ret(vp_cpu *c, unsigned osize, uint16_t imm)
{
    vp_stack st;
    uint64_t ip, cs_sel;
    vp_stack_init(c, &st, &c->seg[S_SS], c->gpr[R_SP], 0);
    int r = vp_stack_pop(c, &st, osize, &ip);
    if (!r)
        r = vp_stack_pop(c, &st, osize, &cs_sel);
    if (r)
        return r;
    uint16_t sel = (uint16_t)cs_sel;
    st.sp = (st.sp + imm) & size_mask(st.ssize);

    if (!prot_mode(c)) {
        r = real_enter_cs(c, sel, ip);
        if (!r)
            vp_set_sp(c, st.ssize, st.sp);
        return r;
    }

    uint64_t lo, addr;
    vp_seg s;
    r = vp_check_return_cs(c, sel, &s, &lo, &addr);
    if (r)
        return r;
    unsigned rpl = sel & 3u, cpl = (unsigned)c->cpl;
    if (rpl == cpl) {
        r = vp_desc_set_bits(c, addr, lo, 1);
        if (!r)
            r = vp_enter_cs(c, &s, sel, cpl, ip & size_mask(osize), 0);
        if (r)
            return r;
        vp_set_sp(c, st.ssize, st.sp);
        return VP_OK;
    }

    /* Outer privilege: SS:ESP follow the parameters. */
    uint64_t new_sp, ss_val;
    r = vp_stack_pop(c, &st, osize, &new_sp);
    if (!r)
        r = vp_stack_pop(c, &st, osize, &ss_val);
    if (r)
        return r;
    vp_seg ss;
    uint64_t ss_addr = 0, ss_lo = 0;
    bool ss_null = !((uint16_t)ss_val & ~3u);
    r = vp_check_return_ss(c, (uint16_t)ss_val, &s, &ss, &ss_addr, &ss_lo);
    if (!r)
        r = vp_desc_set_bits(c, addr, lo, 1);
    if (!r && !ss_null)
        r = vp_desc_set_bits(c, ss_addr, ss_lo, 1);
    if (r)
        return r;
    if (!ss_null)
        ss.attr |= 1;
    c->seg[S_SS] = ss;
    r = vp_enter_cs(c, &s, sel, rpl, ip & size_mask(osize), 0);
    if (r)
        return r;
    vp_stack nst;
    vp_stack_init(c, &nst, &c->seg[S_SS], new_sp, 0);
    vp_set_sp(c, nst.ssize, (nst.sp + imm) & size_mask(nst.ssize));
    vp_null_outer_segs(c);
    return VP_OK;
}

int vp_far_ret(vp_cpu *c, unsigned osize, uint16_t imm)
{
    vp_xstate x;
    vp_xsave(c, &x);
    int r = far_ret(c, osize, imm);
    if (r == VP_EXC)
        vp_xrestore(c, &x);
    return r;
}
