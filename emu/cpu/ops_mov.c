/* Data movement: MOV forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, stack
 * operations, segment register moves (SDM Vol 2, same-named entries). */
#include "emu/cpu/ops.h"

int op_mov_eg(vp_cpu *c, const vp_insn *i)
{
    return wr_e(c, i, i->osize, rd_g(c, i, i->osize));
}

int op_mov_ge(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    wr_g(c, i, i->osize, v);
    return VP_OK;
}

int op_mov_ei(vp_cpu *c, const vp_insn *i)
{
    return wr_e(c, i, i->osize, i->imm);
}

int op_mov_ri(vp_cpu *c, const vp_insn *i)
{
    reg_write(c, i->reg, i->osize, i->flags & I_REX, i->imm);
    return VP_OK;
}

/* A0-A3: MOV AL/eAX <-> moffs (an address-size offset, no ModRM). */
int op_mov_moffs(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    if (i->sub == 0) {
        int r = vp_read_seg(c, i->seg, i->imm, i->osize, &v);
        if (r)
            return r;
        reg_write(c, R_AX, i->osize, false, v);
        return VP_OK;
    }
    return vp_write_seg(c, i->seg, i->imm, i->osize,
                        reg_read(c, R_AX, i->osize, false));
}

int op_movzx(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->sub, &v);
    if (r)
        return r;
    wr_g(c, i, i->osize, v);
    return VP_OK;
}

int op_movsx(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->sub, &v);
    if (r)
        return r;
    wr_g(c, i, i->osize, sign_ext(v, i->sub));
    return VP_OK;
}

/* 63: MOVSXD in 64-bit mode, ARPL elsewhere. */
int op_movsxd_arpl(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r;
    if (c->code_size == 8) {
        r = rd_e(c, i, 4, &v);
        if (r)
            return r;
        wr_g(c, i, i->osize, i->osize == 8 ? sign_ext(v, 4) : v);
        return VP_OK;
    }
    if (!(c->cr0 & CR0_PE) || c->v86)
        return vp_raise(c, EXC_UD);
    r = rd_e(c, i, 2, &v);
    if (r)
        return r;
    uint64_t src = rd_g(c, i, 2);
    uint64_t f = vp_flags(c) & ~FL_ZF;
    if ((v & 3) < (src & 3)) {
        r = wr_e(c, i, 2, (v & ~3ull) | (src & 3));
        if (r)
            return r;
        f |= FL_ZF;
    }
    c->flags = f;
    return VP_OK;
}

/* BOUND r, m16&16 / m32&32: #BR when the signed index is outside the
 * bounds (SDM Vol 2, "BOUND—Check Array Index Against Bounds"); the
 * register form is not defined (#UD). */
int op_bound(vp_cpu *c, const vp_insn *i)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t lo, hi;
    int r = rd_m_pair(c, i, i->osize, &lo, i->osize, &hi);
    if (r)
        return r;
    int64_t idx = (int64_t)sign_ext(rd_g(c, i, i->osize), i->osize);
    if (idx < (int64_t)sign_ext(lo, i->osize) ||
        idx > (int64_t)sign_ext(hi, i->osize))
        return vp_raise(c, EXC_BR);
    return VP_OK;
}

int op_lea(vp_cpu *c, const vp_insn *i)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    wr_g(c, i, i->osize, insn_ea(c, i));
    return VP_OK;
}

int op_xchg_eg(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e_rmw(c, i, i->osize, &v);
    if (r)
        return r;
    r = wr_e(c, i, i->osize, rd_g(c, i, i->osize));
    if (r)
        return r;
    wr_g(c, i, i->osize, v);
    return VP_OK;
}

/* 90+r: XCHG eAX, r. 90 without REX.B is NOP (F3 90 is PAUSE); in 64-bit
 * mode 32-bit XCHG EAX,EAX would zero-extend, but 90 is defined as NOP. */
int op_xchg_ax(vp_cpu *c, const vp_insn *i)
{
    if (i->reg == R_AX)
        return VP_OK;
    uint64_t a = reg_read(c, R_AX, i->osize, false);
    reg_write(c, R_AX, i->osize, false, reg_read(c, i->reg, i->osize, false));
    reg_write(c, i->reg, i->osize, false, a);
    return VP_OK;
}

int op_xlat(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    uint64_t ea = (reg_read(c, R_BX, i->asize, false) + (c->gpr[R_AX] & 0xff)) &
                  size_mask(i->asize);
    int r = vp_read_seg(c, i->seg, ea, 1, &v);
    if (r)
        return r;
    reg_write(c, R_AX, 1, false, v);
    return VP_OK;
}

int op_push_r(vp_cpu *c, const vp_insn *i)
{
    return vp_push(c, i->osize, reg_read(c, i->reg, i->osize, false));
}

int op_pop_r(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vp_pop(c, i->osize, &v);
    if (r)
        return r;
    reg_write(c, i->reg, i->osize, false, v);
    return VP_OK;
}

int op_push_e(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    return vp_push(c, i->osize, v);
}

/* POP r/m: RSP is incremented before the destination address is computed
 * (SDM Vol 2, "POP"), so a fault leaves RSP restored. */
int op_pop_e(vp_cpu *c, const vp_insn *i)
{
    uint64_t v, old_sp = c->gpr[R_SP];
    int r = vp_pop(c, i->osize, &v);
    if (r)
        return r;
    r = wr_e(c, i, i->osize, v);
    if (r)
        c->gpr[R_SP] = old_sp;
    return r;
}

int op_push_i(vp_cpu *c, const vp_insn *i)
{
    uint64_t v = i->op == 0x6a ? sign_ext(i->imm, 1) : i->imm;
    return vp_push(c, i->osize, v & size_mask(i->osize));
}

int op_pusha(vp_cpu *c, const vp_insn *i)
{
    uint64_t sp = c->gpr[R_SP];
    for (int r = R_AX; r <= R_DI; r++) {
        int st = vp_push(c, i->osize, r == R_SP ? sp : c->gpr[r]);
        if (st) {
            c->gpr[R_SP] = sp;
            return st;
        }
    }
    return VP_OK;
}

int op_popa(vp_cpu *c, const vp_insn *i)
{
    uint64_t sp = c->gpr[R_SP], v[8];
    for (int r = R_DI; r >= R_AX; r--) {
        int st = vp_pop(c, i->osize, &v[r]);
        if (st) {
            c->gpr[R_SP] = sp;
            return st;
        }
    }
    for (int r = R_AX; r <= R_DI; r++)
        if (r != R_SP)
            reg_write(c, (unsigned)r, i->osize, false, v[r]);
    return VP_OK;
}

/* ENTER imm16, imm8 (SDM Vol 2, "ENTER": nesting level mod 32). */
int op_enter(vp_cpu *c, const vp_insn *i)
{
    unsigned size = i->osize, ss = stack_size(c);
    unsigned level = i->imm2 & 31;
    uint64_t old_sp = c->gpr[R_SP], old_bp = c->gpr[R_BP];
    int r = vp_push(c, size, reg_read(c, R_BP, size, false));
    if (r)
        return r;
    uint64_t frame = c->gpr[R_SP] & size_mask(ss);
    uint64_t bp = old_bp;
    for (unsigned k = 1; k < level; k++) {
        uint64_t v;
        bp = (bp - size) & size_mask(ss);
        r = vp_read_seg(c, S_SS, bp, size, &v);
        if (!r)
            r = vp_push(c, size, v);
        if (r)
            goto fail;
    }
    if (level) {
        r = vp_push(c, size, frame);
        if (r)
            goto fail;
    }
    uint64_t nsp = (c->gpr[R_SP] - i->imm) & size_mask(ss);
    /* The final stack pointer must be writable (probe one byte). */
    uint64_t probe;
    r = vp_read_seg(c, S_SS, nsp, 1, &probe);
    if (r)
        goto fail;
    reg_write(c, R_BP, size == 2 ? 2 : (ss == 2 ? 2 : size), false, frame);
    reg_write(c, R_SP, ss, false, nsp);
    return VP_OK;
fail:
    c->gpr[R_SP] = old_sp;
    c->gpr[R_BP] = old_bp;
    return r;
}

int op_leave(vp_cpu *c, const vp_insn *i)
{
    unsigned ss = stack_size(c);
    uint64_t old_sp = c->gpr[R_SP], v;
    reg_write(c, R_SP, ss, false, c->gpr[R_BP]);
    int r = vp_pop(c, i->osize, &v);
    if (r) {
        c->gpr[R_SP] = old_sp;
        return r;
    }
    reg_write(c, R_BP, i->osize, false, v);
    return VP_OK;
}

int op_push_sreg(vp_cpu *c, const vp_insn *i)
{
    /* A 32-bit push of a segment register may write only 16 bits on some
     * processors; we write the zero-extended selector. */
    return vp_push(c, i->osize, c->seg[i->sub].sel);
}

int op_pop_sreg(vp_cpu *c, const vp_insn *i)
{
    uint64_t v, old_sp = c->gpr[R_SP];
    int r = vp_pop(c, i->osize, &v);
    if (r)
        return r;
    r = vp_load_seg(c, i->sub, (uint16_t)v);
    if (r) {
        c->gpr[R_SP] = old_sp;
        return r;
    }
    if (i->sub == S_SS)
        c->shadow_until = c->icount + 2;
    return VP_OK;
}

int op_mov_e_sreg(vp_cpu *c, const vp_insn *i)
{
    unsigned sreg = i->reg & 7;
    if (sreg > S_GS)
        return vp_raise(c, EXC_UD);
    uint16_t sel = c->seg[sreg].sel;
    if (i->flags & I_MEM)
        return vp_write_seg(c, i->seg, insn_ea(c, i), 2, sel);
    reg_write(c, i->rm, i->osize == 2 ? 2 : 4, false, sel);
    return VP_OK;
}

int op_mov_sreg_e(vp_cpu *c, const vp_insn *i)
{
    unsigned sreg = i->reg & 7;
    if (sreg > S_GS || sreg == S_CS)
        return vp_raise(c, EXC_UD);
    uint64_t v;
    int r = rd_e(c, i, 2, &v);
    if (r)
        return r;
    r = vp_load_seg(c, (int)sreg, (uint16_t)v);
    if (r)
        return r;
    if (sreg == S_SS)
        c->shadow_until = c->icount + 2;
    return VP_OK;
}

/* LDS/LES/LSS/LFS/LGS: load a far pointer from memory. */
int op_lxs(vp_cpu *c, const vp_insn *i)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t off, sel;
    int r = rd_m_pair(c, i, i->osize, &off, 2, &sel);
    if (!r)
        r = vp_load_seg(c, i->sub, (uint16_t)sel);
    if (r)
        return r;
    wr_g(c, i, i->osize, off);
    return VP_OK;
}

int op_nop_e(vp_cpu *c, const vp_insn *i)
{
    return VP_OK;
}
