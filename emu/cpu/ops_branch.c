/* Control transfer: Jcc, JMP, CALL, RET, LOOP, far forms, INT n and IRET
 * (SDM Vol 2, same-named entries). Far transfers and IDT delivery are in
 * seg.c and intr.c. */
#include "emu/cpu/ops.h"

/* A near branch target: truncated to the operand size, then checked
 * against the CS limit (or for canonical form in 64-bit mode). */
static int branch(vp_cpu *c, uint64_t target, unsigned osize)
{
    target &= size_mask(osize);
    if (c->code_size == 8) {
        if (!vp_canonical(c, target))
            return vp_raise_err(c, EXC_GP, 0);
    } else if (target > c->seg[S_CS].limit) {
        return vp_raise_err(c, EXC_GP, 0);
    }
    c->rip = target;
    return VP_OK;
}

int op_jcc(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cond(c, i->sub))
        return VP_OK;
    uint64_t disp = i->op < 0x100 ? sign_ext(i->imm, 1) : i->imm;
    return branch(c, c->rip + disp, i->osize);
}

int op_jmp(vp_cpu *c, const vp_insn *i)
{
    uint64_t disp = i->op == 0xeb ? sign_ext(i->imm, 1) : i->imm;
    return branch(c, c->rip + disp, i->osize);
}

int op_call(vp_cpu *c, const vp_insn *i)
{
    uint64_t ret = c->rip;
    uint64_t target = (c->rip + i->imm) & size_mask(i->osize);
    if (c->code_size == 8 ? !vp_canonical(c, target)
                          : target > c->seg[S_CS].limit)
        return vp_raise_err(c, EXC_GP, 0);
    int r = vp_push(c, i->osize, ret);
    if (r)
        return r;
    c->rip = target;
    return VP_OK;
}

int op_ret(vp_cpu *c, const vp_insn *i)
{
    uint64_t sp = c->gpr[R_SP], target;
    int r = vp_pop(c, i->osize, &target);
    if (!r)
        r = branch(c, target, i->osize);
    if (r) {
        c->gpr[R_SP] = sp;
        return r;
    }
    if (i->op == 0xc2) {
        unsigned ss = stack_size(c);
        reg_write(c, R_SP, ss, false, (c->gpr[R_SP] + i->imm) & size_mask(ss));
    }
    return VP_OK;
}

int op_jmp_ind(vp_cpu *c, const vp_insn *i)
{
    uint64_t t;
    int r = rd_e(c, i, i->osize, &t);
    if (r)
        return r;
    return branch(c, t, i->osize);
}

int op_call_ind(vp_cpu *c, const vp_insn *i)
{
    uint64_t t;
    int r = rd_e(c, i, i->osize, &t);
    if (r)
        return r;
    t &= size_mask(i->osize);
    if (c->code_size == 8 ? !vp_canonical(c, t) : t > c->seg[S_CS].limit)
        return vp_raise_err(c, EXC_GP, 0);
    r = vp_push(c, i->osize, c->rip);
    if (r)
        return r;
    c->rip = t;
    return VP_OK;
}

int op_loop(vp_cpu *c, const vp_insn *i)
{
    unsigned as = i->asize;
    uint64_t cx = (c->gpr[R_CX] - 1) & size_mask(as);
    reg_write(c, R_CX, as, false, cx);
    bool take = cx != 0;
    if (i->sub == 0)
        take = take && !(vp_flags(c) & FL_ZF);
    else if (i->sub == 1)
        take = take && (vp_flags(c) & FL_ZF);
    if (!take)
        return VP_OK;
    return branch(c, c->rip + sign_ext(i->imm, 1), i->osize);
}

int op_jcxz(vp_cpu *c, const vp_insn *i)
{
    if (c->gpr[R_CX] & size_mask(i->asize))
        return VP_OK;
    return branch(c, c->rip + sign_ext(i->imm, 1), i->osize);
}

int op_jmpf(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return vp_far_jmp(c, i->imm2, i->imm);
}

int op_callf(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return vp_far_call(c, i->imm2, i->imm, i->osize);
}

/* Reads the m16:16/32/64 far pointer of FF /3 and FF /5. */
static int far_ptr(vp_cpu *c, const vp_insn *i, uint16_t *sel, uint64_t *off)
{
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t s = 0;
    int r = rd_m_pair(c, i, i->osize, off, 2, &s);
    *sel = (uint16_t)s;
    return r;
}

int op_jmpf_ind(vp_cpu *c, const vp_insn *i)
{
    uint16_t sel = 0;
    uint64_t off = 0;
    int r = far_ptr(c, i, &sel, &off);
    return r ? r : vp_far_jmp(c, sel, off);
}

int op_callf_ind(vp_cpu *c, const vp_insn *i)
{
    uint16_t sel = 0;
    uint64_t off = 0;
    int r = far_ptr(c, i, &sel, &off);
    return r ? r : vp_far_call(c, sel, off, i->osize);
}

int op_retf(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return vp_far_ret(c, i->osize, i->op == 0xca ? (uint16_t)i->imm : 0);
}

int op_int(vp_cpu *c, const vp_insn *i)
{
    /* Virtual-8086 mode: IOPL and CR4.VME pick one of six methods (SDM
     * Vol 3A, "Class 3 - Software Interrupt Handling in Virtual-8086
     * Mode"); v86.c redirects or faults, the rest go through the IDT. */
    if (c->v86) {
        bool redirected = false;
        int r = vp_v86_int(c, (unsigned)(i->imm & 0xff), c->rip, &redirected);
        if (r)
            return r;
        if (redirected)
            return VP_BREAK;
    }
    vp_flags(c);
    c->stats.soft_interrupts[i->imm & 0xff]++;
    vp_deliver_event(c, (int)(i->imm & 0xff), EV_SWINT, false, 0, c->rip);
    return VP_BREAK;
}

/* INT3, INTO and INT1 raise their exception as a trap: the return address
 * is the next instruction. */
static int sw_exception(vp_cpu *c, int vec, int kind)
{
    c->stats.exceptions[vec]++;
    vp_deliver_event(c, vec, kind, false, 0, c->rip);
    return VP_BREAK;
}

int op_int3(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return sw_exception(c, EXC_BP, EV_SWEXC);
}

int op_into(vp_cpu *c, const vp_insn *i)
{
    if (!(vp_flags(c) & FL_OF))
        return VP_OK;
    return sw_exception(c, EXC_OF, EV_SWEXC);
}

int op_int1(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return sw_exception(c, EXC_DB, EV_PRIV_SWEXC);
}

int op_iret(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    return vp_iret(c, i->osize);
}
