/* Specialized handlers for the most frequent instruction forms. The decoder
 * produces generic handlers (one per opcode family, with run-time switches
 * on operation, operand form and size); vp_specialize() swaps in a handler
 * with those fixed when the record allows it, so the hot path has no
 * switch left. Semantics are identical to the generic handlers (ops_*.c). */
#include "emu/cpu/ops.h"

/* ALU on registers: dst = rm, src = reg (records of the G,E forms are
 * normalized by swapping), immediate forms take src from imm. */
#define ALU_BODY(T, SZ, LF, EXPR, WRITE)                                   \
    T a = (T)c->gpr[i->rm], r;                                             \
    r = (T)(EXPR);                                                         \
    lf_set(c, LF, SZ, r, a, b);                                            \
    if (WRITE)                                                             \
        c->gpr[i->rm] = (uint64_t)r;                                       \
    return VP_OK;

#define DEF_ALU(NAME, T, SZ, LF, EXPR, WRITE)                              \
    static int NAME##_rr(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        T b = (T)c->gpr[i->reg];                                           \
        ALU_BODY(T, SZ, LF, EXPR, WRITE)                                   \
    }                                                                      \
    static int NAME##_ri(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        T b = (T)i->imm;                                                   \
        ALU_BODY(T, SZ, LF, EXPR, WRITE)                                   \
    }

#define DEF_ALU_SIZES(OPN, LF, EXPR, WRITE)                                \
    DEF_ALU(OPN##32, uint32_t, 4, LF, EXPR, WRITE)                         \
    DEF_ALU(OPN##64, uint64_t, 8, LF, EXPR, WRITE)

DEF_ALU_SIZES(add, LF_ADD, a + b, 1)
DEF_ALU_SIZES(or, LF_LOGIC, a | b, 1)
DEF_ALU_SIZES(and, LF_LOGIC, a & b, 1)
DEF_ALU_SIZES(sub, LF_SUB, a - b, 1)
DEF_ALU_SIZES(xor, LF_LOGIC, a ^ b, 1)
DEF_ALU_SIZES(cmp, LF_SUB, a - b, 0)
DEF_ALU_SIZES(test, LF_LOGIC, a & b, 0)

/* Indexed by the ALU operation number (ADD OR ADC SBB AND SUB XOR CMP);
 * ADC and SBB stay generic (they read CF). [op][size64][imm] */
static const vp_handler alu_fast[8][2][2] = {
    [0] = {{add32_rr, add32_ri}, {add64_rr, add64_ri}},
    [1] = {{or32_rr, or32_ri}, {or64_rr, or64_ri}},
    [4] = {{and32_rr, and32_ri}, {and64_rr, and64_ri}},
    [5] = {{sub32_rr, sub32_ri}, {sub64_rr, sub64_ri}},
    [6] = {{xor32_rr, xor32_ri}, {xor64_rr, xor64_ri}},
    [7] = {{cmp32_rr, cmp32_ri}, {cmp64_rr, cmp64_ri}},
};

static int mov32_rr(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->rm] = (uint32_t)c->gpr[i->reg];
    return VP_OK;
}

static int mov64_rr(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->rm] = c->gpr[i->reg];
    return VP_OK;
}

/* MOV r, r/m and MOV r/m, r with a memory operand. */
#define DEF_MOV_MEM(SZ)                                                    \
    static int load##SZ(vp_cpu *c, const vp_insn *i)                       \
    {                                                                      \
        uint64_t v;                                                        \
        int r = vp_read_seg(c, i->seg, insn_ea(c, i), SZ / 8, &v);         \
        if (r)                                                             \
            return r;                                                      \
        c->gpr[i->reg] = v;                                                \
        return VP_OK;                                                      \
    }                                                                      \
    static int store##SZ(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        return vp_write_seg(c, i->seg, insn_ea(c, i), SZ / 8,              \
                            c->gpr[i->reg] & size_mask(SZ / 8));           \
    }
DEF_MOV_MEM(32)
DEF_MOV_MEM(64)

/* Taken near branch: the displacement was sign-extended at
 * specialization; same checks as ops_branch.c's branch(). */
static inline int jcc_take(vp_cpu *c, const vp_insn *i)
{
    uint64_t t = (c->rip + i->imm) & size_mask(i->osize);
    if (c->code_size == 8) {
        unsigned bits = (c->cr4 & CR4_LA57) ? 57 : 48;
        if ((uint64_t)((int64_t)(t << (64 - bits)) >> (64 - bits)) != t)
            return vp_raise_err(c, EXC_GP, 0);
    } else if (t > c->seg[S_CS].limit) {
        return vp_raise_err(c, EXC_GP, 0);
    }
    c->rip = t;
    return VP_OK;
}

/* Jcc with the condition fixed at decode time. */
#define DEF_JCC(CC)                                                        \
    static int jcc_##CC(vp_cpu *c, const vp_insn *i)                       \
    {                                                                      \
        return vp_cond(c, CC) ? jcc_take(c, i) : VP_OK;                    \
    }
DEF_JCC(0) DEF_JCC(1) DEF_JCC(2) DEF_JCC(3) DEF_JCC(4) DEF_JCC(5)
DEF_JCC(6) DEF_JCC(7) DEF_JCC(8) DEF_JCC(9) DEF_JCC(10) DEF_JCC(11)
DEF_JCC(12) DEF_JCC(13) DEF_JCC(14) DEF_JCC(15)

void vp_specialize(vp_insn *i)
{
    bool mem = (i->flags & I_MEM) != 0;
    bool w = i->osize == 8;
    if (i->flags & I_LOCK)
        return;
    if (i->fn == op_jcc) {
        static const vp_handler jcc[16] = {
            jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
            jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15};
        if (i->op < 0x100)
            i->imm = sign_ext(i->imm, 1);
        i->fn = jcc[i->sub & 15];
        return;
    }
    if (i->osize != 4 && i->osize != 8)
        return;
    if (i->fn == op_alu_ge && !mem) {
        uint8_t t = i->reg;
        i->reg = i->rm;
        i->rm = t;
        i->fn = alu_fast[i->sub][w][0] ? alu_fast[i->sub][w][0] : i->fn;
        if (i->fn == op_alu_ge) {   /* no fast form: undo */
            i->rm = i->reg;
            i->reg = t;
        }
    } else if (i->fn == op_alu_eg && !mem) {
        if (alu_fast[i->sub][w][0])
            i->fn = alu_fast[i->sub][w][0];
    } else if (i->fn == op_alu_ei && !mem) {
        if (alu_fast[i->sub][w][1]) {
            if (i->op == 0x83)
                i->imm = sign_ext(i->imm, 1);
            i->fn = alu_fast[i->sub][w][1];
        }
    } else if (i->fn == op_alu_ai) {
        if (alu_fast[i->sub][w][1]) {
            i->rm = R_AX;
            i->fn = alu_fast[i->sub][w][1];
        }
    } else if (i->fn == op_test_eg && !mem) {
        i->fn = w ? test64_rr : test32_rr;
    } else if (i->fn == op_test_ei && !mem) {
        i->fn = w ? test64_ri : test32_ri;
    } else if (i->fn == op_mov_eg) {
        i->fn = mem ? (w ? store64 : store32) : (w ? mov64_rr : mov32_rr);
    } else if (i->fn == op_mov_ge) {
        if (mem) {
            i->fn = w ? load64 : load32;
        } else {
            uint8_t t = i->reg;
            i->reg = i->rm;
            i->rm = t;
            i->fn = w ? mov64_rr : mov32_rr;
        }
    }
}
