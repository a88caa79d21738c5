/* System instructions: privilege-checked moves to control and debug
 * registers, descriptor-table instructions, MSRs, CPUID, TSC, I/O, flag
 * and interrupt control, fast system calls (SDM Vol 2 entries; Vol 3A
 * "Privileged Instructions"). */
#include "emu/cpu/ops.h"
#include "emu/cpu/cpuid.h"
#include "emu/cpu/debugreg.h"
#include "emu/apic/apic.h"

static bool protected_mode(const vp_cpu *c)
{
    return (c->cr0 & CR0_PE) && !c->v86;
}

static int need_cpl0(vp_cpu *c)
{
    return c->cpl ? vp_raise_err(c, EXC_GP, 0) : VP_OK;
}

static int iopl(const vp_cpu *c)
{
    return (int)((c->flags & FL_IOPL) >> 12);
}

int op_ud(vp_cpu *c, const vp_insn *i)
{
    VP_TRACE(&c->m->trace, EXC, "#UD opcode %#x at %#llx", i->op,
             (unsigned long long)c->insn_rip);
    return vp_raise(c, EXC_UD);
}

int op_hlt(vp_cpu *c, const vp_insn *i)
{
    int r = need_cpl0(c);
    if (r)
        return r;
    c->halted = true;
    c->mwait = false;
    return VP_BREAK;
}

/* CLI/STI: SDM Vol 2 "CLI" decision table (IOPL, VME, PVI). */
int op_cli(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    if (!(c->cr0 & CR0_PE) || (!c->v86 && c->cpl <= iopl(c)) ||
        (c->v86 && iopl(c) == 3)) {
        c->flags &= ~FL_IF;
    } else if ((c->v86 && (c->cr4 & CR4_VME)) ||
               (!c->v86 && c->cpl == 3 && (c->cr4 & CR4_PVI))) {
        c->flags &= ~FL_VIF;
    } else {
        return vp_raise_err(c, EXC_GP, 0);
    }
    return VP_OK;
}

int op_sti(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    if (!(c->cr0 & CR0_PE) || (!c->v86 && c->cpl <= iopl(c)) ||
        (c->v86 && iopl(c) == 3)) {
        if (!(c->flags & FL_IF))
            c->shadow_until = c->icount + 2;
        c->flags |= FL_IF;
    } else if (((c->v86 && (c->cr4 & CR4_VME)) ||
                (!c->v86 && c->cpl == 3 && (c->cr4 & CR4_PVI))) &&
               !(c->flags & FL_VIP)) {
        c->flags |= FL_VIF;
    } else {
        return vp_raise_err(c, EXC_GP, 0);
    }
    return VP_OK;
}

int op_pushf(vp_cpu *c, const vp_insn *i)
{
    uint64_t f = vp_flags(c);
    if (c->v86 && iopl(c) < 3) {
        if (!(c->cr4 & CR4_VME) || i->osize != 2)
            return vp_raise_err(c, EXC_GP, 0);
        /* VME: IF image comes from VIF, IOPL reads as 3. */
        f = (f & ~FL_IF) | ((f & FL_VIF) ? FL_IF : 0) | FL_IOPL;
    }
    return vp_push(c, i->osize, f & 0x00fcffffull & size_mask(i->osize));
}

/* POPF: which bits may change depends on CPL and IOPL (SDM Vol 2,
 * "POPF/POPFD/POPFQ"). VM, VIF, VIP never change; RF is cleared. */
int op_popf(vp_cpu *c, const vp_insn *i)
{
    uint64_t v, f = vp_flags(c), old_sp = c->gpr[R_SP];
    bool vme16 = false;
    if (c->v86 && iopl(c) < 3) {
        if (!(c->cr4 & CR4_VME) || i->osize != 2)
            return vp_raise_err(c, EXC_GP, 0);
        vme16 = true;
    }
    int r = vp_pop(c, i->osize, &v);
    if (r)
        return r;
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    if (vme16) {
        if ((v & FL_TF) || ((v & FL_IF) && (f & FL_VIP))) {
            c->gpr[R_SP] = old_sp;
            return vp_raise_err(c, EXC_GP, 0);
        }
        mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
        f = (f & ~FL_VIF) | ((v & FL_IF) ? FL_VIF : 0);
    } else {
        if (c->cpl == 0 || !(c->cr0 & CR0_PE))
            mask |= FL_IOPL;
        if (c->cpl <= iopl(c) || !(c->cr0 & CR0_PE))
            mask |= FL_IF;
        if (c->v86)
            mask |= FL_IF; /* IOPL is 3 here */
    }
    mask &= size_mask(i->osize);
    c->flags = ((f & ~mask) | (v & mask) | FL_FIXED1) & ~FL_RF;
    return VP_OK;
}

static unsigned io_osize(const vp_insn *i)
{
    return i->osize == 8 ? 4 : i->osize;
}

int op_in(vp_cpu *c, const vp_insn *i)
{
    uint16_t port = i->sub ? c->gpr[R_DX] & 0xffff : (uint16_t)i->imm;
    unsigned size = io_osize(i);
    int r = vp_io_allowed(c, port, size);
    if (r)
        return r;
    reg_write(c, R_AX, size, false, vp_ioport_read(&c->m->io, port, size));
    return VP_OK;
}

int op_out(vp_cpu *c, const vp_insn *i)
{
    uint16_t port = i->sub ? c->gpr[R_DX] & 0xffff : (uint16_t)i->imm;
    unsigned size = io_osize(i);
    int r = vp_io_allowed(c, port, size);
    if (r)
        return r;
    vp_ioport_write(&c->m->io, port,
                    (uint32_t)reg_read(c, R_AX, size, false), size);
    /* A port write may stop or reset the machine, change A20 or raise an
     * interrupt: leave the block so the loop sees it at once. */
    return VP_BREAK;
}

int op_cpuid(vp_cpu *c, const vp_insn *i)
{
    uint32_t out[4];
    vp_cpuid(c, (uint32_t)c->gpr[R_AX], (uint32_t)c->gpr[R_CX], out);
    c->gpr[R_AX] = out[0];
    c->gpr[R_BX] = out[1];
    c->gpr[R_CX] = out[2];
    c->gpr[R_DX] = out[3];
    return VP_OK;
}

int op_rdtsc(vp_cpu *c, const vp_insn *i)
{
    if ((c->cr4 & CR4_TSD) && c->cpl && (c->cr0 & CR0_PE))
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t t = vp_cpu_tsc(c);
    c->gpr[R_AX] = t & 0xffffffff;
    c->gpr[R_DX] = t >> 32;
    return VP_OK;
}

int op_rdmsr(vp_cpu *c, const vp_insn *i)
{
    int r = need_cpl0(c);
    if (r)
        return r;
    uint64_t v;
    r = vp_rdmsr(c, (uint32_t)c->gpr[R_CX], &v);
    if (r)
        return r;
    c->gpr[R_AX] = v & 0xffffffff;
    c->gpr[R_DX] = v >> 32;
    return VP_OK;
}

int op_wrmsr(vp_cpu *c, const vp_insn *i)
{
    int r = need_cpl0(c);
    if (r)
        return r;
    vp_flags(c);
    return vp_wrmsr(c, (uint32_t)c->gpr[R_CX],
                    (c->gpr[R_DX] << 32) | (c->gpr[R_AX] & 0xffffffff));
}

/* No performance counters are advertised (CPUID leaf 0AH is zero). */
int op_rdpmc(vp_cpu *c, const vp_insn *i)
{
    return vp_raise_err(c, EXC_GP, 0);
}

static unsigned creg_size(const vp_cpu *c)
{
    return c->code_size == 8 ? 8 : 4;
}

int op_mov_r_cr(vp_cpu *c, const vp_insn *i)
{
    int r = need_cpl0(c);
    if (r)
        return r;
    uint64_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    case 8:
        if (c->code_size != 8)
            return vp_raise(c, EXC_UD);
        v = c->cr8;
        break;
    default: return vp_raise(c, EXC_UD);
    }
    reg_write(c, i->rm, creg_size(c), false, v);
    return VP_OK;
}

int op_mov_cr_r(vp_cpu *c, const vp_insn *i)
{
    unsigned n = i->reg;
    if (n != 0 && n != 2 && n != 3 && n != 4 && !(n == 8 && c->code_size == 8))
        return vp_raise(c, EXC_UD);
    int r = need_cpl0(c);
    if (r)
        return r;
    vp_flags(c);
    r = vp_write_cr(c, (int)n, reg_read(c, i->rm, creg_size(c), false));
    if (r)
        return r;
    return VP_BREAK; /* paging or mode may have changed */
}

/* Debug registers (SDM Vol 3B, "Debug Registers"): DR4/DR5 alias DR6/DR7
 * unless CR4.DE; DR7.GD makes any access raise #DB. */
static int dr_index(vp_cpu *c, unsigned n, int *idx)
{
    if (n > 7)
        return vp_raise(c, EXC_UD);
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            return vp_raise(c, EXC_UD);
        n += 2;
    }
    int r = need_cpl0(c);
    if (r)
        return r;
    if (c->dr[7] & VP_BIT(13)) {
        c->dr[6] |= VP_BIT(13);
        c->dr[7] &= ~VP_BIT(13);
        return vp_raise(c, EXC_DB);
    }
    *idx = (int)n;
    return VP_OK;
}

int op_mov_r_dr(vp_cpu *c, const vp_insn *i)
{
    int n = 0, r = dr_index(c, i->reg, &n);
    if (r)
        return r;
    reg_write(c, i->rm, creg_size(c), false, c->dr[n]);
    return VP_OK;
}

int op_mov_dr_r(vp_cpu *c, const vp_insn *i)
{
    int n = 0, r = dr_index(c, i->reg, &n);
    if (r)
        return r;
    r = vp_dr_write(c, n, reg_read(c, i->rm, creg_size(c), false));
    /* Breakpoints may have been armed: leave the block so that the exec
     * loop sees c->dr_active before the next instruction. */
    return r ? r : VP_BREAK;
}

int op_clts(vp_cpu *c, const vp_insn *i)
{
    int r = need_cpl0(c);
    if (r)
        return r;
    c->cr0 &= ~CR0_TS;
    return VP_OK;
}

static int sgdt_sidt(vp_cpu *c, const vp_insn *i, const vp_dtr *d)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t ea = insn_ea(c, i);
    unsigned bsz = c->code_size == 8 ? 8 : 4;
    int r = vp_write_seg(c, i->seg, ea, 2, d->limit);
    if (!r)
        r = vp_write_seg(c, i->seg, (ea + 2) & size_mask(i->asize), bsz,
                         bsz == 4 ? d->base & 0xffffffff : d->base);
    return r;
}

static int lgdt_lidt(vp_cpu *c, const vp_insn *i, vp_dtr *d)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    int r = need_cpl0(c);
    if (r)
        return r;
    uint64_t lim, base;
    unsigned bsz = c->code_size == 8 ? 8 : 4;
    r = rd_m_pair(c, i, 2, &lim, bsz, &base);
    if (r)
        return r;
    if (bsz == 8) {
        if (!vp_canonical(c, base))
            return vp_raise_err(c, EXC_GP, 0);
    } else if (i->osize == 2) {
        base &= 0xffffff;
    }
    d->limit = (uint16_t)lim;
    d->base = base;
    return VP_OK;
}

/* Group 7 (0F 01): SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG, and the
 * register forms (SWAPGS; others not implemented raise #UD as on a CPU
 * that does not advertise them). */
int op_grp7(vp_cpu *c, const vp_insn *i)
{
    int r;
    if (!(i->flags & I_MEM) && i->sub != 4 && i->sub != 6) {
        if (i->sub == 7 && (i->rm & 7) == 0 && c->code_size == 8) {
            r = need_cpl0(c);
            if (r)
                return r;
            uint64_t t = c->seg[S_GS].base;
            c->seg[S_GS].base = c->kernel_gs_base;
            c->kernel_gs_base = t;
            return VP_OK;
        }
        return op_ud(c, i);
    }
    switch (i->sub) {
    case 0: return sgdt_sidt(c, i, &c->gdtr);
    case 1: return sgdt_sidt(c, i, &c->idtr);
    case 2: return lgdt_lidt(c, i, &c->gdtr);
    case 3: return lgdt_lidt(c, i, &c->idtr);
    case 4: /* SMSW */
        if (i->flags & I_MEM)
            return vp_write_seg(c, i->seg, insn_ea(c, i), 2, c->cr0 & 0xffff);
        reg_write(c, i->rm, i->osize, false, c->cr0 & size_mask(i->osize));
        return VP_OK;
    case 6: { /* LMSW: only PE MP EM TS; PE cannot be cleared */
        uint64_t v;
        r = need_cpl0(c);
        if (!r)
            r = rd_e(c, i, 2, &v);
        if (r)
            return r;
        uint64_t cr0 = (c->cr0 & ~0xeull) | (v & 0xf) | (c->cr0 & CR0_PE);
        vp_flags(c);
        r = vp_write_cr(c, 0, cr0);
        return r ? r : VP_BREAK;
    }
    case 7: /* INVLPG */
        r = need_cpl0(c);
        if (r)
            return r;
        {
            uint64_t lin = insn_ea(c, i);
            if (c->code_size != 8)
                lin = (c->seg[i->seg].base + lin) & 0xffffffff;
            else if (i->seg == S_FS || i->seg == S_GS)
                lin += c->seg[i->seg].base;
            vp_tlb_flush_page(c, lin);
        }
        return VP_BREAK;
    default:
        return op_ud(c, i);
    }
}

int op_sldt_str(vp_cpu *c, const vp_insn *i)
{
    if (!protected_mode(c))
        return vp_raise(c, EXC_UD);
    uint16_t sel = i->sub ? c->tr.sel : c->ldtr.sel;
    if (i->flags & I_MEM)
        return vp_write_seg(c, i->seg, insn_ea(c, i), 2, sel);
    reg_write(c, i->rm, i->osize, false, sel);
    return VP_OK;
}

/* LLDT and LTR (SDM Vol 2 entries): the descriptor must be in the GDT, of
 * the right system type and present; LTR marks the TSS busy. */
static int load_sys(vp_cpu *c, const vp_insn *i, bool tr)
{
    if (!protected_mode(c))
        return vp_raise(c, EXC_UD);
    int r = need_cpl0(c);
    uint64_t v, lo, hi = 0;
    if (!r)
        r = rd_e(c, i, 2, &v);
    if (r)
        return r;
    uint16_t sel = (uint16_t)v;
    if ((sel & ~3) == 0) {
        if (tr)
            return vp_raise_err(c, EXC_GP, 0);
        c->ldtr.sel = sel;
        c->ldtr.base = 0;
        c->ldtr.limit = 0;
        c->ldtr.attr = SEGA_UNUSABLE;
        return VP_OK;
    }
    if (sel & 4)
        return vp_raise_err(c, EXC_GP, sel & 0xfffc);
    r = vp_fetch_desc(c, sel, EXC_GP, &lo, &hi, c->long_mode);
    if (r)
        return r;
    unsigned type = (lo >> 40) & 0xf;
    bool s = (lo >> 44) & 1, p = (lo >> 47) & 1;
    bool ok = !s && (tr ? (type == 1 || type == 9) : type == 2);
    if (tr && c->long_mode && type != 9)
        ok = false;
    if (!ok)
        return vp_raise_err(c, EXC_GP, sel & 0xfffc);
    if (!p)
        return vp_raise_err(c, EXC_NP, sel & 0xfffc);
    if (c->long_mode && ((hi >> 40) & 0x1f))
        return vp_raise_err(c, EXC_GP, sel & 0xfffc);
    vp_seg *dst = tr ? &c->tr : &c->ldtr;
    vp_desc_to_seg(lo, hi, sel, dst);
    if (tr) {
        /* Busy bit in the descriptor in the GDT. */
        uint64_t nlo = lo | (2ull << 40);
        r = vp_write_lin(c, c->gdtr.base + (sel & ~7u), 8, nlo, ACC_SUPER | ACC_WRITE);
        if (r)
            return r;
        dst->attr |= 2;
    }
    return VP_OK;
}

int op_lldt(vp_cpu *c, const vp_insn *i) { return load_sys(c, i, false); }
int op_ltr(vp_cpu *c, const vp_insn *i) { return load_sys(c, i, true); }

/* Looks up a selector for VERR/VERW/LAR/LSL without faulting: returns
 * false if the descriptor is outside the table or the null selector. */
static bool probe_desc(vp_cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
    if ((sel & ~3) == 0)
        return false;
    const vp_dtr *t;
    vp_dtr ldt;
    if (sel & 4) {
        if (c->ldtr.attr & SEGA_UNUSABLE)
            return false;
        ldt.base = c->ldtr.base;
        ldt.limit = (uint16_t)(c->ldtr.limit > 0xffff ? 0xffff : c->ldtr.limit);
        t = &ldt;
    } else {
        t = &c->gdtr;
    }
    uint64_t off = sel & ~7u;
    if (off + 7 > t->limit)
        return false;
    if (vp_read_lin(c, t->base + off, 8, lo, ACC_SUPER | ACC_NOFAULT))
        return false;
    *hi = 0;
    return true;
}

/* The selector operand of VERR/VERW/LAR/LSL, which exist only in
 * protected mode (#UD in real and virtual-8086 mode). */
static int sel_operand(vp_cpu *c, const vp_insn *i, uint16_t *sel)
{
    if (!protected_mode(c))
        return vp_raise(c, EXC_UD);
    uint64_t v;
    int r = rd_e(c, i, 2, &v);
    *sel = (uint16_t)v;
    return r;
}

/* The privilege check of VERR/VERW/LAR/LSL: a conforming code segment
 * passes; any other descriptor needs DPL >= CPL and DPL >= RPL. */
static bool desc_visible(const vp_cpu *c, uint16_t sel, uint64_t lo)
{
    unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
    bool conforming_code = ((lo >> 44) & 1) && (type & 0xc) == 0xc;
    return conforming_code || (dpl >= (unsigned)c->cpl && dpl >= (sel & 3u));
}

int op_verrw(vp_cpu *c, const vp_insn *i)
{
    uint64_t lo, hi;
    uint16_t sel;
    int r = sel_operand(c, i, &sel);
    if (r)
        return r;
    bool ok = false;
    if (probe_desc(c, sel, &lo, &hi) && ((lo >> 44) & 1)) {
        unsigned type = (lo >> 40) & 0xf;
        bool priv = desc_visible(c, sel, lo);
        if (i->sub == 0)
            ok = priv && (!(type & 8) || (type & 2));
        else
            ok = priv && !(type & 8) && (type & 2);
    }
    flags_set_arith(c, (vp_flags(c) & ~FL_ZF) | (ok ? FL_ZF : 0));
    return VP_OK;
}

int op_lar_lsl(vp_cpu *c, const vp_insn *i)
{
    uint64_t lo, hi;
    uint16_t sel;
    int r = sel_operand(c, i, &sel);
    if (r)
        return r;
    bool ok = false;
    if (probe_desc(c, sel, &lo, &hi)) {
        unsigned type = (lo >> 40) & 0xf;
        if ((lo >> 44) & 1) {
            ok = desc_visible(c, sel, lo);
        } else {
            /* System types valid for LAR (LSL excludes gates): SDM Vol 2
             * LAR and LSL tables. Legacy LAR: 1 2 3 4 5 9 B C; LSL: 1 2 3
             * 9 B. IA-32e mode LAR: 2 9 B C; LSL: 2 9 B. */
            static const uint16_t lar_ok32 = 0x1a3e, lsl_ok32 = 0x0a0e;
            static const uint16_t lar_ok64 = 0x1a04, lsl_ok64 = 0x0a04;
            uint16_t okm = c->long_mode ? (i->sub ? lsl_ok64 : lar_ok64)
                                        : (i->sub ? lsl_ok32 : lar_ok32);
            ok = ((okm >> type) & 1) && desc_visible(c, sel, lo);
        }
    }
    if (ok) {
        if (i->sub == 0) {
            wr_g(c, i, i->osize, (lo >> 32) & 0x00ffff00ull & size_mask(i->osize));
        } else {
            uint32_t lim = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
            if (lo & VP_BIT(55))
                lim = (lim << 12) | 0xfff;
            wr_g(c, i, i->osize == 2 ? 2 : 4, lim);
        }
    }
    flags_set_arith(c, (vp_flags(c) & ~FL_ZF) | (ok ? FL_ZF : 0));
    return VP_OK;
}

static void flat_code(vp_seg *s, uint16_t sel, unsigned dpl, bool l)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = 0xb | SEGA_S | ((uint32_t)dpl << 5) | SEGA_P | SEGA_G |
              (l ? SEGA_L : SEGA_DB);
}

static void flat_stack(vp_seg *s, uint16_t sel, unsigned dpl)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = 0x3 | SEGA_S | ((uint32_t)dpl << 5) | SEGA_P | SEGA_G | SEGA_DB;
}

/* SYSCALL/SYSRET (SDM Vol 2; Intel: 64-bit mode only). */
int op_syscall(vp_cpu *c, const vp_insn *i)
{
    if (!(c->efer & EFER_SCE))
        return vp_raise(c, EXC_UD);
    /* Intel: 64-bit mode only (SDM Vol 2 SYSCALL). AMD also takes it in
     * compatibility mode, entering at IA32_CSTAR (APM Vol 2 "SYSCALL and
     * SYSRET"); its legacy-mode form (STAR[31:0]) is not implemented. */
    if (c->code_size != 8 && !(vp_cpu_is_amd(c) && c->long_mode)) {
        if (vp_cpu_is_amd(c))
            VP_UNIMPL_ONCE(&c->m->trace, "legacy-mode SYSCALL (AMD): #UD");
        return vp_raise(c, EXC_UD);
    }
    uint64_t f = vp_flags(c);
    c->gpr[R_CX] = c->rip;
    c->gpr[R_R11] = f & ~FL_RF;
    uint16_t sel = (uint16_t)(c->star >> 32);
    flat_code(&c->seg[S_CS], sel & 0xfffc, 0, true);
    flat_stack(&c->seg[S_SS], (uint16_t)((sel + 8) & 0xfffc), 0);
    c->flags = (f & ~c->sfmask & ~FL_RF) | FL_FIXED1;
    c->rip = c->code_size == 8 ? c->lstar : c->cstar;
    vp_update_mode(c);
    return VP_OK;
}

int op_sysret(vp_cpu *c, const vp_insn *i)
{
    if (!(c->efer & EFER_SCE) || c->code_size != 8)
        return vp_raise(c, EXC_UD);
    int r = need_cpl0(c);
    if (r)
        return r;
    uint64_t target = i->osize == 8 ? c->gpr[R_CX] : c->gpr[R_CX] & 0xffffffff;
    if (!vp_canonical(c, target))
        return vp_raise_err(c, EXC_GP, 0);
    uint16_t sel = (uint16_t)(c->star >> 48);
    if (i->osize == 8)
        flat_code(&c->seg[S_CS], (uint16_t)((sel + 16) | 3), 3, true);
    else
        flat_code(&c->seg[S_CS], sel | 3, 3, false);
    /* SS: Intel loads a fixed flat 32-bit data segment (SDM Vol 2 SYSRET,
     * "Set rest of SS to a fixed value"), whatever SS held: after an
     * interrupt or call gate left it null, a return to compatibility
     * mode must still get a usable stack. AMD changes only the selector
     * and keeps the cached base, limit and attributes (APM Vol 2 SYSRET;
     * Linux's X86_BUG_SYSRET_SS_ATTRS); DPL 3 is set because CPL lives in
     * SS.DPL here. */
    if (vp_cpu_is_amd(c)) {
        c->seg[S_SS].sel = (uint16_t)((sel + 8) | 3);
        c->seg[S_SS].attr = (c->seg[S_SS].attr & ~(3u << 5)) | (3u << 5);
    } else {
        flat_stack(&c->seg[S_SS], (uint16_t)((sel + 8) | 3), 3);
    }
    c->flags = (c->gpr[R_R11] & 0x3c7fd7) | FL_FIXED1;
    c->lf_op = 0;
    c->rip = target;
    vp_update_mode(c);
    return VP_OK;
}

/* SYSENTER/SYSEXIT (SDM Vol 2). */
int op_sysenter(vp_cpu *c, const vp_insn *i)
{
    /* AMD: SYSENTER and SYSEXIT are #UD in long mode (APM Vol 2,
     * "SYSENTER and SYSEXIT (Legacy Mode Only)"). */
    if (c->long_mode && vp_cpu_is_amd(c))
        return vp_raise(c, EXC_UD);
    if (!(c->cr0 & CR0_PE) || (c->sysenter_cs & 0xfffc) == 0)
        return vp_raise_err(c, EXC_GP, 0);
    vp_flags(c);
    uint16_t sel = (uint16_t)(c->sysenter_cs & 0xfffc);
    c->flags &= ~(FL_VM | FL_IF | FL_RF);
    flat_code(&c->seg[S_CS], sel, 0, c->long_mode);
    flat_stack(&c->seg[S_SS], (uint16_t)(sel + 8), 0);
    c->gpr[R_SP] = c->long_mode ? c->sysenter_esp : c->sysenter_esp & 0xffffffff;
    c->rip = c->long_mode ? c->sysenter_eip : c->sysenter_eip & 0xffffffff;
    vp_update_mode(c);
    return VP_OK;
}

int op_sysexit(vp_cpu *c, const vp_insn *i)
{
    if (c->long_mode && vp_cpu_is_amd(c))
        return vp_raise(c, EXC_UD);
    if (!(c->cr0 & CR0_PE) || c->v86 || c->cpl != 0 ||
        (c->sysenter_cs & 0xfffc) == 0)
        return vp_raise_err(c, EXC_GP, 0);
    uint16_t sel = (uint16_t)c->sysenter_cs;
    bool w = i->osize == 8;
    /* SDM Vol 2 SYSEXIT, 64-bit mode exceptions: #GP(0) if RCX or RDX
     * is not canonical (checked before anything changes). */
    if (w && (!vp_canonical(c, c->gpr[R_CX]) ||
              !vp_canonical(c, c->gpr[R_DX])))
        return vp_raise_err(c, EXC_GP, 0);
    flat_code(&c->seg[S_CS], (uint16_t)((sel + (w ? 32 : 16)) | 3), 3, w);
    flat_stack(&c->seg[S_SS], (uint16_t)((sel + (w ? 40 : 24)) | 3), 3);
    c->gpr[R_SP] = w ? c->gpr[R_CX] : c->gpr[R_CX] & 0xffffffff;
    c->rip = w ? c->gpr[R_DX] : c->gpr[R_DX] & 0xffffffff;
    vp_update_mode(c);
    return VP_OK;
}

int op_wbinvd(vp_cpu *c, const vp_insn *i)
{
    return need_cpl0(c);
}

/* 0F AE /5 /6 /7 register forms: LFENCE MFENCE SFENCE. One instruction
 * retires at a time, so there is nothing to order. The memory forms
 * (CLFLUSH, CLFLUSHOPT, CLWB) are op_cacheline in ops_sysext.c. */
int op_fence(vp_cpu *c, const vp_insn *i)
{
    return VP_OK;
}

int op_fwait(vp_cpu *c, const vp_insn *i)
{
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        return vp_raise(c, EXC_NM);
    return VP_OK;
}

/* x87 escape opcodes. No FPU is advertised (CPUID.1:EDX.FPU = 0): #NM when
 * CR0.EM or CR0.TS is set, #UD otherwise. */
int op_x87(vp_cpu *c, const vp_insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        return vp_raise(c, EXC_NM);
    return op_ud(c, i);
}

/* RDPKRU (sub 0) / WRPKRU (sub 1), NP 0F 01 EE/EF (SDM Vol 2, "RDPKRU",
 * "WRPKRU"): at any CPL; #UD while CR4.PKE = 0 (which needs CPUID's PKU)
 * or with a 66/F2/F3 prefix; #GP(0) unless ECX (and for WRPKRU EDX) is 0.
 * Translations of user pages in the TLB passed the old PKRU's checks
 * (paging.c), so WRPKRU flushes them. */
int op_pkru(vp_cpu *c, const vp_insn *i)
{
    if (!(c->cr4 & CR4_PKE) || (i->flags & (I_O16 | I_REP | I_REPNE)))
        return vp_raise(c, EXC_UD);
    if ((uint32_t)c->gpr[R_CX] ||
        (i->sub && (uint32_t)c->gpr[R_DX]))
        return vp_raise_err(c, EXC_GP, 0);
    if (!i->sub) {
        c->gpr[R_AX] = c->pkru;
        c->gpr[R_DX] = 0;
        return VP_OK;
    }
    c->pkru = (uint32_t)c->gpr[R_AX];
    vp_tlb_flush(c, true);
    return VP_OK;
}
