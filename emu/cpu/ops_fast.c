/* Specialized handlers for the most frequent instruction forms. The decoder
 * produces generic handlers (one per opcode family, with run-time switches
 * on operation, operand form and size); vp_specialize() swaps in a handler
 * with those fixed when the record allows it, so the hot path has no
 * switch left. Semantics are identical to the generic handlers (ops_*.c). */
#include "emu/base/wide.h"
#include "emu/cpu/ops.h"

/* ALU on registers: dst = rm, src = reg (records of the G,E forms are
 * normalized by swapping), immediate forms take src from imm. */
#define ALU_BODY(T, SZ, LF, EXPR, WRITE)                                   \
    T a = (T)c->gpr[i->rm], r;                                             \
    r = (T)(EXPR);                                                         \
    lf_set(c, LF, SZ, r, a, b);                                            \
    if (WRITE)                                                             \
        c->gpr[i->rm] = (uint64_t)r;                                       \
    return vp_next(c, i);

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
    return vp_next(c, i);
}

static int mov64_rr(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->rm] = c->gpr[i->reg];
    return vp_next(c, i);
}

/* Handlers with a memory operand take the inline TLB hit of mem_fast;
 * the out-of-line access (vp_read_seg, vp_write_seg) is in a copy of the
 * handler reached by a tail call, so that the common path needs no stack
 * frame (around a call, c and i would live in callee-saved registers).
 * DEF_MEM_LOAD: the SZ-byte operand is read into V, then the statements
 * given run (they end the handler). DEF_MEM_STORE: VAL is written. */
#define DEF_MEM_LOAD(NAME, SZ, V, ...)                                     \
    static VP_NOINLINE int NAME##_slow(vp_cpu *c, const vp_insn *i)        \
    {                                                                      \
        vp_sync(c, i);                                              \
        int st_ = vp_read_seg(c, i->seg, insn_ea(c, i), SZ, &c->mem_scratch); \
        if (st_)                                                           \
            return st_;                                                    \
        uint64_t V = c->mem_scratch;                                       \
        __VA_ARGS__                                                        \
    }                                                                      \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        uint8_t *h_ = mem_fast(c, i->seg, insn_ea(c, i), SZ, TLB_READ);    \
        if (VP_UNLIKELY(h_ == NULL))                                       \
            return NAME##_slow(c, i);                                      \
        uint64_t V = load_n(h_, SZ);                                       \
        __VA_ARGS__                                                        \
    }

#define DEF_MEM_STORE(NAME, SZ, VAL)                                       \
    static VP_NOINLINE int NAME##_slow(vp_cpu *c, const vp_insn *i)        \
    {                                                                      \
        vp_sync(c, i);                                              \
        int st = vp_write_seg(c, i->seg, insn_ea(c, i), SZ, VAL);          \
        return st ? st : vp_next_w(c, i);                                  \
    }                                                                      \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        uint8_t *h = mem_fast(c, i->seg, insn_ea(c, i), SZ, TLB_WRITE);    \
        if (VP_UNLIKELY(h == NULL))                                        \
            return NAME##_slow(c, i);                                      \
        store_n(h, SZ, VAL);                                               \
        return vp_next_w(c, i);                                            \
    }

/* MOV r, r/m and MOV r/m, r with a memory operand. */
#define DEF_MOV_MEM(SZ)                                                    \
    DEF_MEM_LOAD(load##SZ, SZ / 8, v,                                      \
        c->gpr[i->reg] = v;                                                \
        return vp_next(c, i);)                                             \
    DEF_MEM_STORE(store##SZ, SZ / 8, c->gpr[i->reg] & size_mask(SZ / 8))
DEF_MOV_MEM(32)
DEF_MOV_MEM(64)

/* Jcc with the condition fixed at decode time; taken: on into the next
 * block, or VP_JUMP. The target is checked as ops_branch.c's branch()
 * does (the displacement was sign-extended at specialization). A
 * condition the lazy state cannot give directly is computed in a copy out
 * of line, so the common path needs no frame. */
static VP_ALWAYS_INLINE int jcc_go(vp_cpu *c, const vp_insn *i, bool taken)
{
    /* A predicating Jcc (see "predicated skips" below): on to the record
     * it jumps over, which does nothing when it was taken. */
    if (i->scale && VP_LIKELY(!c->attn_word)) {
        c->pred_skip = taken;
        return vp_next(c, i);
    }
    if (!taken)
        return vp_next(c, i);
    /* A tail call once inlined into the handlers (musttail needs the
     * caller's own signature, which jcc_go does not have). */
    const vp_insn *local = vp_local_target(c, i);
    if (local)
        return local->fn(c, local);
    uint64_t t = (vp_next_rip(c, i) + i->imm) & size_mask(i->osize);
    if (VP_UNLIKELY(c->code_size == 8 ? !vp_canonical(c, t)
                                      : t > c->seg[S_CS].limit)) {
        vp_sync(c, i);
        return vp_raise_err(c, EXC_GP, 0);
    }
    c->rip = t;
    return vp_link_mid(c, i);
}

#define DEF_JCC(CC)                                                        \
    static VP_NOINLINE int jcc_##CC##_slow(vp_cpu *c, const vp_insn *i)    \
    {                                                                      \
        return jcc_go(c, i, vp_cond_slow(c, CC));                          \
    }                                                                      \
    static int jcc_##CC(vp_cpu *c, const vp_insn *i)                       \
    {                                                                      \
        int f = vp_cond_fast(c, CC);                                       \
        if (VP_UNLIKELY(f < 0))                                            \
            return jcc_##CC##_slow(c, i);                                  \
        return jcc_go(c, i, f);                                            \
    }
DEF_JCC(0) DEF_JCC(1) DEF_JCC(2) DEF_JCC(3) DEF_JCC(4) DEF_JCC(5)
DEF_JCC(6) DEF_JCC(7) DEF_JCC(8) DEF_JCC(9) DEF_JCC(10) DEF_JCC(11)
DEF_JCC(12) DEF_JCC(13) DEF_JCC(14) DEF_JCC(15)

/* ALU with a memory destination (read-modify-write) or source. The
 * result is stored before the flags are set, so a faulting store leaves
 * RFLAGS as it was (faults are precise). E op= SRC (G or imm); the
 * out-of-line access in a copy, as for DEF_MEM_LOAD. */
#define DEF_ALU_MEM_E(NAME, T, SZ, LF, EXPR, WRITE, SRC)                   \
    static VP_NOINLINE int NAME##_slow(vp_cpu *c, const vp_insn *i)        \
    {                                                                      \
        T b = (T)(SRC);                                                    \
        uint64_t ea = insn_ea(c, i);                                       \
        vp_sync(c, i);                                              \
        int st = WRITE ? vp_read_seg_rmw(c, i->seg, ea, SZ, &c->mem_scratch) \
                       : vp_read_seg(c, i->seg, ea, SZ, &c->mem_scratch);  \
        if (st)                                                            \
            return st;                                                     \
        T a = (T)c->mem_scratch, r = (T)(EXPR);                            \
        if (WRITE && (st = mem_write(c, i->seg, ea, SZ, r)))               \
            return st;                                                     \
        lf_set(c, LF, SZ, r, a, b);                                        \
        return WRITE ? vp_next_w(c, i) : vp_next(c, i);                    \
    }                                                                      \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        /* A writable page is readable: one write-TLB hit serves both. */  \
        uint8_t *h = mem_fast(c, i->seg, insn_ea(c, i), SZ,                \
                              WRITE ? TLB_WRITE : TLB_READ);               \
        if (VP_UNLIKELY(h == NULL))                                        \
            return NAME##_slow(c, i);                                      \
        T b = (T)(SRC), a = (T)load_n(h, SZ), r = (T)(EXPR);               \
        if (WRITE)                                                         \
            store_n(h, SZ, r);                                             \
        lf_set(c, LF, SZ, r, a, b);                                        \
        return vp_next(c, i); /* the TLB never maps code for writes */     \
    }

#define DEF_ALU_MEM_MR(NAME, T, SZ, LF, EXPR, WRITE)                       \
    DEF_ALU_MEM_E(NAME##_mr, T, SZ, LF, EXPR, WRITE, c->gpr[i->reg])

#define DEF_ALU_MEM_MI(NAME, T, SZ, LF, EXPR, WRITE)                       \
    DEF_ALU_MEM_E(NAME##_mi, T, SZ, LF, EXPR, WRITE, i->imm)

#define DEF_ALU_MEM(NAME, T, SZ, LF, EXPR, WRITE)                          \
    DEF_ALU_MEM_MR(NAME, T, SZ, LF, EXPR, WRITE)                           \
    DEF_ALU_MEM_MI(NAME, T, SZ, LF, EXPR, WRITE)

/* Byte operations on memory with an immediate (80 /r, F6 /0). */
DEF_ALU_MEM_MI(add8, uint8_t, 1, LF_ADD, a + b, 1)
DEF_ALU_MEM_MI(or8, uint8_t, 1, LF_LOGIC, a | b, 1)
DEF_ALU_MEM_MI(and8, uint8_t, 1, LF_LOGIC, a & b, 1)
DEF_ALU_MEM_MI(sub8, uint8_t, 1, LF_SUB, a - b, 1)
DEF_ALU_MEM_MI(xor8, uint8_t, 1, LF_LOGIC, a ^ b, 1)
DEF_ALU_MEM_MI(cmp8, uint8_t, 1, LF_SUB, a - b, 0)
DEF_ALU_MEM_MI(test8, uint8_t, 1, LF_LOGIC, a & b, 0)
static const vp_handler alu8_mi[8] = {
    [0] = add8_mi, [1] = or8_mi, [4] = and8_mi, [5] = sub8_mi,
    [6] = xor8_mi, [7] = cmp8_mi};

/* MOV r/m, imm (C6 /0, C7 /0): memory stores of 1, 4 and 8 bytes (the
 * 8-byte immediate was sign-extended by the decoder). */
#define DEF_MOV_MI(SZ)                                                     \
    DEF_MEM_STORE(mov##SZ##_mi, SZ / 8, i->imm & size_mask(SZ / 8))
DEF_MOV_MI(8)
DEF_MOV_MI(32)
DEF_MOV_MI(64)

/* G <- G op [mem] */
#define DEF_ALU_MEM_G(NAME, T, SZ, LF, EXPR, WRITE)                        \
    DEF_MEM_LOAD(NAME##_rm, SZ, v,                                         \
        T a = (T)c->gpr[i->reg], b = (T)v, r = (T)(EXPR);                  \
        lf_set(c, LF, SZ, r, a, b);                                        \
        if (WRITE)                                                         \
            c->gpr[i->reg] = (uint64_t)r;                                  \
        return vp_next(c, i);)

#define DEF_ALU_MEM_E_SIZES(OPN, LF, EXPR, WRITE)                          \
    DEF_ALU_MEM(OPN##32, uint32_t, 4, LF, EXPR, WRITE)                     \
    DEF_ALU_MEM(OPN##64, uint64_t, 8, LF, EXPR, WRITE)
#define DEF_ALU_MEM_SIZES(OPN, LF, EXPR, WRITE)                            \
    DEF_ALU_MEM_E_SIZES(OPN, LF, EXPR, WRITE)                              \
    DEF_ALU_MEM_G(OPN##32, uint32_t, 4, LF, EXPR, WRITE)                   \
    DEF_ALU_MEM_G(OPN##64, uint64_t, 8, LF, EXPR, WRITE)

DEF_ALU_MEM_SIZES(add, LF_ADD, a + b, 1)
DEF_ALU_MEM_SIZES(or, LF_LOGIC, a | b, 1)
DEF_ALU_MEM_SIZES(and, LF_LOGIC, a & b, 1)
DEF_ALU_MEM_SIZES(sub, LF_SUB, a - b, 1)
DEF_ALU_MEM_SIZES(xor, LF_LOGIC, a ^ b, 1)
DEF_ALU_MEM_SIZES(cmp, LF_SUB, a - b, 0)
DEF_ALU_MEM_E_SIZES(test, LF_LOGIC, a & b, 0)

/* [op][size64][form: 0 mr (E op= G), 1 mi (E op= imm), 2 rm (G op= E)] */
static const vp_handler alu_mem_fast[8][2][3] = {
    [0] = {{add32_mr, add32_mi, add32_rm}, {add64_mr, add64_mi, add64_rm}},
    [1] = {{or32_mr, or32_mi, or32_rm}, {or64_mr, or64_mi, or64_rm}},
    [4] = {{and32_mr, and32_mi, and32_rm}, {and64_mr, and64_mi, and64_rm}},
    [5] = {{sub32_mr, sub32_mi, sub32_rm}, {sub64_mr, sub64_mi, sub64_rm}},
    [6] = {{xor32_mr, xor32_mi, xor32_rm}, {xor64_mr, xor64_mi, xor64_rm}},
    [7] = {{cmp32_mr, cmp32_mi, cmp32_rm}, {cmp64_mr, cmp64_mi, cmp64_rm}},
};

/* Shifts of a register by an immediate count (C1 /4 /5 /7, D1 /4 /5 /7);
 * a count of 0 after masking changes nothing (the generic handler is kept
 * for that case at specialization time). */
#define DEF_SHIFT(NAME, T, SZ, LF, EXPR)                                   \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        unsigned n = (unsigned)i->imm;                                     \
        T a = (T)c->gpr[i->rm], r = (T)(EXPR);                             \
        c->gpr[i->rm] = (uint64_t)r;                                       \
        lf_set(c, LF, SZ, r, a, n);                                        \
        return vp_next(c, i);                                              \
    }
/* The shifts: name, type, size, lazy-flags operation, result. */
#define SHIFT_OPS(X)                                                       \
    X(shl32, uint32_t, 4, LF_SHL, a << n)                                  \
    X(shl64, uint64_t, 8, LF_SHL, a << n)                                  \
    X(shr32, uint32_t, 4, LF_SHR, a >> n)                                  \
    X(shr64, uint64_t, 8, LF_SHR, a >> n)                                  \
    X(sar32, uint32_t, 4, LF_SAR, (uint32_t)((int32_t)a >> n))             \
    X(sar64, uint64_t, 8, LF_SAR, (uint64_t)((int64_t)a >> n))
SHIFT_OPS(DEF_SHIFT)

/* ROL/ROR of a register by an immediate count (C1 /0 /1, D1 /0 /1),
 * count already masked and non-zero. Only CF and OF change (SDM Vol 2B,
 * "RCL/RCR/ROL/ROR", Flags Affected); OF is set as for a count of 1 also
 * for larger counts, where the SDM leaves it undefined (as op_shift
 * does). SZAP stay lazy (lf_rot). */
#define DEF_ROT(NAME, T, BITS, LEFT)                                       \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        unsigned n = (unsigned)i->imm % BITS;                              \
        T a = (T)c->gpr[i->rm];                                            \
        T r = n ? (LEFT ? (T)((a << n) | (a >> (BITS - n)))                \
                        : (T)((a >> n) | (a << (BITS - n))))               \
                : a;                                                       \
        uint32_t msb = (uint32_t)(r >> (BITS - 1)) & 1;                    \
        uint32_t cf = LEFT ? (uint32_t)r & 1 : msb;                        \
        uint32_t of = LEFT ? msb ^ cf                                      \
                           : msb ^ ((uint32_t)(r >> (BITS - 2)) & 1);      \
        c->gpr[i->rm] = (uint64_t)r;                                       \
        lf_rot(c, (cf ? (uint32_t)FL_CF : 0) | (of ? (uint32_t)FL_OF : 0)); \
        return vp_next(c, i);                                              \
    }
DEF_ROT(rol32, uint32_t, 32, 1)
DEF_ROT(rol64, uint64_t, 64, 1)
DEF_ROT(ror32, uint32_t, 32, 0)
DEF_ROT(ror64, uint64_t, 64, 0)

/* INC/DEC r (FF /0 /1, and 40-4F outside 64-bit mode): CF is kept. When
 * it must be computed (vp_cf), a copy out of line does it, so that the
 * common path needs no stack frame. */
#define INCDEC_BODY(T, SZ, LF, EXPR)                                       \
        T a = (T)c->gpr[i->rm], r = (T)(EXPR);                             \
        c->gpr[i->rm] = (uint64_t)r;                                       \
        lf_set(c, LF, SZ, r, a, 1);                                        \
        return vp_next(c, i);
#define DEF_INCDEC(NAME, T, SZ, LF, EXPR)                                  \
    static VP_NOINLINE int NAME##_cf(vp_cpu *c, const vp_insn *i)          \
    {                                                                      \
        c->lf_cf = vp_cf(c);                                               \
        INCDEC_BODY(T, SZ, LF, EXPR)                                       \
    }                                                                      \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        int cf = vp_cf_lazy(c);                                            \
        if (VP_UNLIKELY(cf < 0))                                           \
            return NAME##_cf(c, i);                                        \
        c->lf_cf = (uint32_t)cf;                                           \
        INCDEC_BODY(T, SZ, LF, EXPR)                                       \
    }
DEF_INCDEC(inc32, uint32_t, 4, LF_INC, a + 1)
DEF_INCDEC(inc64, uint64_t, 8, LF_INC, a + 1)
DEF_INCDEC(dec32, uint32_t, 4, LF_DEC, a - 1)
DEF_INCDEC(dec64, uint64_t, 8, LF_DEC, a - 1)

/* IMUL r, r/m, imm (69, 6B) and IMUL r, r/m (0F AF) with a 32- or 64-bit
 * operand: the signed product truncated to the operand size; CF = OF =
 * the product does not fit (SDM Vol 2A, "IMUL"). SF, ZF, PF (undefined in
 * the SDM) come from the truncated result and AF is cleared, as for the
 * generic handlers (LF_MUL, a = 0, b = overflow). */
static VP_ALWAYS_INLINE uint64_t imul32(vp_cpu *c, uint64_t a, uint64_t b)
{
    int64_t p = (int64_t)(int32_t)a * (int32_t)b;
    uint32_t lo = (uint32_t)p;
    lf_set(c, LF_MUL, 4, lo, 0, p != (int32_t)lo);
    return lo;
}

static VP_ALWAYS_INLINE uint64_t imul64(vp_cpu *c, uint64_t a, uint64_t b)
{
    int64_t sa = (int64_t)a, sb = (int64_t)b;
#if VP_GNU && defined(__SIZEOF_INT128__)
    vp_s128 p = (vp_s128)sa * sb;
    uint64_t lo = (uint64_t)p;
    bool ovf = p != (int64_t)lo;
#else
    uint64_t lo = a * b;
    /* The wrapped product is exact iff dividing it by a gives b back (a
     * remainder would be a nonzero multiple of 2^64 smaller than |a|);
     * -1 * INT64_MIN, the one quotient that overflows, is tested apart. */
    bool ovf = sa == -1 ? sb == INT64_MIN
                        : sa != 0 && (int64_t)lo / sa != sb;
#endif
    lf_set(c, LF_MUL, 8, lo, 0, ovf);
    return lo;
}

#define DEF_IMUL(SZ)                                                       \
    static int imul##SZ##_ri(vp_cpu *c, const vp_insn *i)                  \
    {                                                                      \
        c->gpr[i->reg] = imul##SZ(c, c->gpr[i->rm], i->imm);               \
        return vp_next(c, i);                                              \
    }                                                                      \
    DEF_MEM_LOAD(imul##SZ##_mi, SZ / 8, v,                                 \
        c->gpr[i->reg] = imul##SZ(c, v, i->imm);                           \
        return vp_next(c, i);)                                             \
    static int imul##SZ##_rr(vp_cpu *c, const vp_insn *i)                  \
    {                                                                      \
        c->gpr[i->reg] = imul##SZ(c, c->gpr[i->reg], c->gpr[i->rm]);       \
        return vp_next(c, i);                                              \
    }                                                                      \
    DEF_MEM_LOAD(imul##SZ##_rm, SZ / 8, v,                                 \
        c->gpr[i->reg] = imul##SZ(c, c->gpr[i->reg], v);                   \
        return vp_next(c, i);)
DEF_IMUL(32)
DEF_IMUL(64)

/* CMOVcc and SETcc with the condition fixed. CMOV with a 32-bit operand
 * always writes (zero-extends) the destination. */
#define DEF_CC(CC)                                                         \
    static int cmov32_##CC(vp_cpu *c, const vp_insn *i)                    \
    {                                                                      \
        uint64_t v;                                                        \
        vp_sync(c, i);                                              \
        int st = rd_e(c, i, 4, &v);                                        \
        if (st)                                                            \
            return st;                                                     \
        c->gpr[i->reg] = vp_cond(c, CC) ? v : (uint32_t)c->gpr[i->reg];    \
        return vp_next(c, i);                                              \
    }                                                                      \
    static int cmov64_##CC(vp_cpu *c, const vp_insn *i)                    \
    {                                                                      \
        uint64_t v;                                                        \
        vp_sync(c, i);                                              \
        int st = rd_e(c, i, 8, &v);                                        \
        if (st)                                                            \
            return st;                                                     \
        if (vp_cond(c, CC))                                                \
            c->gpr[i->reg] = v;                                            \
        return vp_next(c, i);                                              \
    }                                                                      \
    static int setcc_##CC(vp_cpu *c, const vp_insn *i)                     \
    {                                                                      \
        vp_sync(c, i);                                              \
        int r = wr_e(c, i, 1, vp_cond(c, CC));                             \
        return r ? r : vp_next_w(c, i);                                    \
    }
DEF_CC(0) DEF_CC(1) DEF_CC(2) DEF_CC(3) DEF_CC(4) DEF_CC(5) DEF_CC(6)
DEF_CC(7) DEF_CC(8) DEF_CC(9) DEF_CC(10) DEF_CC(11) DEF_CC(12) DEF_CC(13)
DEF_CC(14) DEF_CC(15)

#define CC_TABLE(P)                                                        \
    {P##_0, P##_1, P##_2, P##_3, P##_4, P##_5, P##_6, P##_7, P##_8, P##_9, \
     P##_10, P##_11, P##_12, P##_13, P##_14, P##_15}
static const vp_handler cmov32_tab[16] = CC_TABLE(cmov32);
static const vp_handler cmov64_tab[16] = CC_TABLE(cmov64);
static const vp_handler setcc_tab[16] = CC_TABLE(setcc);

/* LEA: the effective address, truncated to the operand size. */
static int lea64(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->reg] = insn_ea(c, i);
    return vp_next(c, i);
}

static int lea32(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->reg] = (uint32_t)insn_ea(c, i);
    return vp_next(c, i);
}

/* MOVZX r32/r64, r/m8 and r/m16 (0F B6, 0F B7): the zero-extended value
 * is the whole register with either operand size. A byte register is
 * AL..R15B (SPL..DIL with REX) or, without REX, AH..BH for 4-7. */
static int movzx_b_r(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->reg] = (uint8_t)c->gpr[i->rm];
    return vp_next(c, i);
}

static int movzx_b_h(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->reg] = (uint8_t)(c->gpr[i->rm - 4] >> 8);
    return vp_next(c, i);
}

static int movzx_w_r(vp_cpu *c, const vp_insn *i)
{
    c->gpr[i->reg] = (uint16_t)c->gpr[i->rm];
    return vp_next(c, i);
}

#define DEF_MOVZX_MEM(NAME, SZ)                                            \
    DEF_MEM_LOAD(NAME, SZ, v,                                              \
        c->gpr[i->reg] = v;                                                \
        return vp_next(c, i);)
DEF_MOVZX_MEM(movzx_b_m, 1)
DEF_MOVZX_MEM(movzx_w_m, 2)

/* PUSH/POP r, CALL rel, RET in 64-bit mode (stack size 8, flat SS). As
 * for the other memory forms, the out-of-line access is in a copy, so
 * that the common path needs no frame. */
static VP_NOINLINE int push64_slow(vp_cpu *c, const vp_insn *i)
{
    uint64_t sp = c->gpr[R_SP] - 8;
    vp_sync(c, i);
    int st = vp_write_seg(c, S_SS, sp, 8, c->gpr[i->reg]);
    if (st)
        return st;
    c->gpr[R_SP] = sp;
    return vp_next_w(c, i);
}

static int push64(vp_cpu *c, const vp_insn *i)
{
    uint64_t sp = c->gpr[R_SP] - 8;
    uint8_t *h = mem_fast(c, S_SS, sp, 8, TLB_WRITE);
    if (VP_UNLIKELY(h == NULL))
        return push64_slow(c, i);
    store_n(h, 8, c->gpr[i->reg]);
    c->gpr[R_SP] = sp;
    return vp_next(c, i);
}

static VP_ALWAYS_INLINE int pop64_done(vp_cpu *c, const vp_insn *i,
                                       uint64_t v)
{
    c->gpr[R_SP] += 8;
    c->gpr[i->reg] = v; /* POP RSP loads the popped value */
    return vp_next(c, i);
}

/* POP and RET: the 8 bytes at RSP go to DONE; the out-of-line read is in
 * a copy, as for the other memory forms. */
#define DEF_STACK_READ(NAME, DONE)                                         \
    static VP_NOINLINE int NAME##_slow(vp_cpu *c, const vp_insn *i)        \
    {                                                                      \
        vp_sync(c, i);                                                     \
        int st = vp_read_seg(c, S_SS, c->gpr[R_SP], 8, &c->mem_scratch);   \
        return st ? st : DONE(c, i, c->mem_scratch);                       \
    }                                                                      \
    static int NAME(vp_cpu *c, const vp_insn *i)                           \
    {                                                                      \
        uint8_t *h = mem_fast(c, S_SS, c->gpr[R_SP], 8, TLB_READ);         \
        if (VP_UNLIKELY(h == NULL))                                        \
            return NAME##_slow(c, i);                                      \
        return DONE(c, i, load_n(h, 8));                                   \
    }
DEF_STACK_READ(pop64, pop64_done)

/* Near CALL/RET in 64-bit mode (operand size 64, flat SS). A target that
 * is not canonical is #GP(0) before anything changes. CALL and RET end
 * their blocks and change RIP: they go on through the block's end links
 * (vp_next would set RIP to the fall-through address). */
static inline bool canonical64(const vp_cpu *c, uint64_t a)
{
    if (VP_LIKELY((uint64_t)((int64_t)(a << 16) >> 16) == a))
        return true;
    return (c->cr4 & CR4_LA57) && (uint64_t)((int64_t)(a << 7) >> 7) == a;
}

static VP_NOINLINE int call64_slow(vp_cpu *c, const vp_insn *i,
                                   uint64_t target)
{
    uint64_t sp = c->gpr[R_SP] - 8;
    vp_sync(c, i);
    int st = vp_write_seg(c, S_SS, sp, 8, c->rip); /* RIP: the next one */
    if (st)
        return st;
    c->gpr[R_SP] = sp;
    c->rip = target;
    return vp_link_end(c, i);
}

static VP_ALWAYS_INLINE int call64_to(vp_cpu *c, const vp_insn *i,
                                      uint64_t target)
{
    if (VP_UNLIKELY(!canonical64(c, target))) {
        vp_sync(c, i);
        return vp_raise_err(c, EXC_GP, 0);
    }
    uint64_t sp = c->gpr[R_SP] - 8;
    uint8_t *h = mem_fast(c, S_SS, sp, 8, TLB_WRITE);
    if (VP_UNLIKELY(h == NULL))
        return call64_slow(c, i, target);
    store_n(h, 8, vp_next_rip(c, i));
    c->gpr[R_SP] = sp;
    c->rip = target;
    return vp_link_end(c, i);
}

static int call64_rel(vp_cpu *c, const vp_insn *i)
{
    return call64_to(c, i, vp_next_rip(c, i) + i->imm);
}

static VP_NOINLINE int call64_ind_slow(vp_cpu *c, const vp_insn *i)
{
    vp_sync(c, i);
    int st = vp_read_seg(c, i->seg, insn_ea(c, i), 8, &c->mem_scratch);
    return st ? st : call64_to(c, i, c->mem_scratch);
}

static int call64_ind(vp_cpu *c, const vp_insn *i)
{
    if (!(i->flags & I_MEM))
        return call64_to(c, i, c->gpr[i->rm]);
    uint8_t *h = mem_fast(c, i->seg, insn_ea(c, i), 8, TLB_READ);
    if (VP_UNLIKELY(h == NULL))
        return call64_ind_slow(c, i);
    return call64_to(c, i, load_n(h, 8));
}

static VP_ALWAYS_INLINE int ret64_to(vp_cpu *c, const vp_insn *i,
                                     uint64_t t)
{
    if (VP_UNLIKELY(!canonical64(c, t))) {
        vp_sync(c, i);
        return vp_raise_err(c, EXC_GP, 0);
    }
    c->gpr[R_SP] += 8;
    c->rip = t;
    return vp_link_end(c, i);
}

DEF_STACK_READ(ret64, ret64_to)

/* TEST r8, imm8 (F6 /0 with a register) and TEST AL, imm8. */
static int test8_ri(vp_cpu *c, const vp_insn *i)
{
    uint8_t a = (uint8_t)reg_read(c, i->rm, 1, i->flags & I_REX);
    lf_set(c, LF_LOGIC, 1, a & (uint8_t)i->imm, a, i->imm);
    return vp_next(c, i);
}

/* BT r, imm (0F BA /4) on a register: CF = the bit; other arithmetic
 * flags keep their values (OF, SF, AF, PF are undefined in the SDM). */
static int bt_ri(vp_cpu *c, const vp_insn *i)
{
    unsigned bit = (unsigned)(i->imm & (i->osize * 8 - 1));
    bool cf = (c->gpr[i->rm] >> bit) & 1;
    int zf = vp_cond_fast(c, 4);
    if (zf < 0)
        zf = (c->flags & FL_ZF) != 0;
    /* Lazily: ZF as it was, CF the bit (LF_BT). */
    lf_set(c, LF_BT, 1, zf ? 0 : 1, 0, cf);
    return vp_next(c, i);
}

/* ALU on a byte register with an immediate (80 /r, F6 /0 with mod 3):
 * AH..BH without REX, SPL..DIL with it. */
#define DEF_ALU8_RI(NAME, LF, EXPR, WRITE)                                 \
    static int NAME##_ri(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        bool rex = i->flags & I_REX;                                       \
        uint8_t a = (uint8_t)reg_read(c, i->rm, 1, rex), b = (uint8_t)i->imm; \
        uint8_t r = (uint8_t)(EXPR);                                       \
        lf_set(c, LF, 1, r, a, b);                                         \
        if (WRITE)                                                         \
            reg_write(c, i->rm, 1, rex, r);                                \
        return vp_next(c, i);                                              \
    }
DEF_ALU8_RI(add8, LF_ADD, a + b, 1)
DEF_ALU8_RI(or8, LF_LOGIC, a | b, 1)
DEF_ALU8_RI(and8, LF_LOGIC, a & b, 1)
DEF_ALU8_RI(sub8, LF_SUB, a - b, 1)
DEF_ALU8_RI(xor8, LF_LOGIC, a ^ b, 1)
DEF_ALU8_RI(cmp8, LF_SUB, a - b, 0)
static const vp_handler alu8_ri[8] = {
    [0] = add8_ri, [1] = or8_ri, [4] = and8_ri, [5] = sub8_ri,
    [6] = xor8_ri, [7] = cmp8_ri};

/* ---- macro-op fusion ------------------------------------------------------
 * A compare, test or decrement of registers followed by a Jcc in the same
 * block runs as one handler in the first record (vp_fuse, called as blocks
 * are decoded): the flag operation, then the branch as the second record's
 * handler would do it, with the condition computed from values still in
 * registers and one dispatch less. Both records stay as they are for
 * everything else: the count and RIP of either come from their own index
 * and offset, a fault in the branch is found at the second record, and a
 * record run on its own (single-step, trace, debugger: attn_word, which
 * holds slow_run) does only the flag operation. */
#define FUSE_JCC(CC)                                                       \
    if (VP_UNLIKELY(c->attn_word))                                         \
        return vp_next(c, i);                                              \
    const vp_insn *j = i + 1;                                              \
    int f = vp_cond_fast(c, CC);                                           \
    if (VP_UNLIKELY(f < 0))                                                \
        return jcc_##CC##_slow(c, j);                                      \
    return jcc_go(c, j, f);

/* The flag operations: statements that set the lazy flags (and the
 * destination, for DEC) exactly as the unfused handlers do. */
#define FOP_ALU(T, SZ, LF, EXPR, SRC)                                      \
    T b = (T)(SRC), a = (T)c->gpr[i->rm], r = (T)(EXPR);                   \
    lf_set(c, LF, SZ, r, a, b);
#define FOP_ALU8(LF, EXPR)                                                 \
    uint8_t a = (uint8_t)reg_read(c, i->rm, 1, i->flags & I_REX);          \
    uint8_t b = (uint8_t)i->imm, r = (uint8_t)(EXPR);                      \
    lf_set(c, LF, 1, r, a, b);
#define FOP_DEC(NAME, T, SZ)                                               \
    int cf = vp_cf_lazy(c);                                                \
    if (VP_UNLIKELY(cf < 0))                                               \
        return NAME##_cf(c, i);                                            \
    c->lf_cf = (uint32_t)cf;                                               \
    T a = (T)c->gpr[i->rm], r = (T)(a - 1);                                \
    c->gpr[i->rm] = (uint64_t)r;                                           \
    lf_set(c, LF_DEC, SZ, r, a, 1);

#define FOP_cmp32_rr FOP_ALU(uint32_t, 4, LF_SUB, a - b, c->gpr[i->reg])
#define FOP_cmp32_ri FOP_ALU(uint32_t, 4, LF_SUB, a - b, i->imm)
#define FOP_cmp64_rr FOP_ALU(uint64_t, 8, LF_SUB, a - b, c->gpr[i->reg])
#define FOP_cmp64_ri FOP_ALU(uint64_t, 8, LF_SUB, a - b, i->imm)
#define FOP_test32_rr FOP_ALU(uint32_t, 4, LF_LOGIC, a & b, c->gpr[i->reg])
#define FOP_test32_ri FOP_ALU(uint32_t, 4, LF_LOGIC, a & b, i->imm)
#define FOP_test64_rr FOP_ALU(uint64_t, 8, LF_LOGIC, a & b, c->gpr[i->reg])
#define FOP_test64_ri FOP_ALU(uint64_t, 8, LF_LOGIC, a & b, i->imm)
#define FOP_cmp8_ri FOP_ALU8(LF_SUB, a - b)
#define FOP_test8_ri FOP_ALU8(LF_LOGIC, a & b)
#define FOP_dec32 FOP_DEC(dec32, uint32_t, 4)
#define FOP_dec64 FOP_DEC(dec64, uint64_t, 8)
#define FUSE_OPS(X)                                                        \
    X(cmp32_rr) X(cmp32_ri) X(cmp64_rr) X(cmp64_ri) X(test32_rr)           \
    X(test32_ri) X(test64_rr) X(test64_ri) X(cmp8_ri) X(test8_ri)          \
    X(dec32) X(dec64)

#define DEF_FUSE_CC(OP, CC)                                                \
    static int fz_##OP##_##CC(vp_cpu *c, const vp_insn *i)                 \
    {                                                                      \
        FOP_##OP                                                           \
        FUSE_JCC(CC)                                                       \
    }
#define DEF_FUSE(OP)                                                       \
    DEF_FUSE_CC(OP, 0) DEF_FUSE_CC(OP, 1) DEF_FUSE_CC(OP, 2)               \
    DEF_FUSE_CC(OP, 3) DEF_FUSE_CC(OP, 4) DEF_FUSE_CC(OP, 5)               \
    DEF_FUSE_CC(OP, 6) DEF_FUSE_CC(OP, 7) DEF_FUSE_CC(OP, 8)               \
    DEF_FUSE_CC(OP, 9) DEF_FUSE_CC(OP, 10) DEF_FUSE_CC(OP, 11)             \
    DEF_FUSE_CC(OP, 12) DEF_FUSE_CC(OP, 13) DEF_FUSE_CC(OP, 14)            \
    DEF_FUSE_CC(OP, 15)
FUSE_OPS(DEF_FUSE)

static const struct {
    vp_handler op;
    vp_handler fused[16];
} fuse_tab[] = {
#define FUSE_ROW(OP) {OP, CC_TABLE(fz_##OP)},
    FUSE_OPS(FUSE_ROW)
#undef FUSE_ROW
};

/* A register copy followed by an operation on the copy (MOV r, r then
 * a shift by an immediate or ALU with an immediate or register, on the
 * same destination and of the same size: x86's two-operand forms make
 * compilers write `mov %rdi, %rax; shl $3, %rax` all the time) runs as
 * one handler in the MOV's record, which hands the copied value to the
 * operation in a host register instead of through the register file.
 * As for the fused branches, each record keeps its own meaning: run on
 * its own (attn_word) the MOV record only copies, and the second record
 * keeps its own handler. */
#define MOVOP_HEAD(T)                                                      \
    T a = (T)c->gpr[i->reg];                                               \
    c->gpr[i->rm] = (uint64_t)a;                                           \
    if (VP_UNLIKELY(c->attn_word))                                         \
        return vp_next(c, i);                                              \
    const vp_insn *j = i + 1;

#define DEF_MOVOP_SHIFT(NAME, T, SZ, LF, EXPR)                             \
    static int fm_##NAME(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        MOVOP_HEAD(T)                                                      \
        unsigned n = (unsigned)j->imm;                                     \
        T r = (T)(EXPR);                                                   \
        c->gpr[j->rm] = (uint64_t)r;                                       \
        lf_set(c, LF, SZ, r, a, n);                                        \
        return vp_next(c, j);                                              \
    }
SHIFT_OPS(DEF_MOVOP_SHIFT)

/* The register source is read after the copy: it may be the copy. */
#define DEF_MOVOP_ALU(NAME, T, SZ, LF, EXPR)                               \
    static int fm_##NAME##_rr(vp_cpu *c, const vp_insn *i)                 \
    {                                                                      \
        MOVOP_HEAD(T)                                                      \
        T b = (T)c->gpr[j->reg], r = (T)(EXPR);                            \
        lf_set(c, LF, SZ, r, a, b);                                        \
        c->gpr[j->rm] = (uint64_t)r;                                       \
        return vp_next(c, j);                                              \
    }                                                                      \
    static int fm_##NAME##_ri(vp_cpu *c, const vp_insn *i)                 \
    {                                                                      \
        MOVOP_HEAD(T)                                                      \
        T b = (T)j->imm, r = (T)(EXPR);                                    \
        lf_set(c, LF, SZ, r, a, b);                                        \
        c->gpr[j->rm] = (uint64_t)r;                                       \
        return vp_next(c, j);                                              \
    }
#define DEF_MOVOP_ALU_SIZES(OPN, LF, EXPR)                                 \
    DEF_MOVOP_ALU(OPN##32, uint32_t, 4, LF, EXPR)                          \
    DEF_MOVOP_ALU(OPN##64, uint64_t, 8, LF, EXPR)
DEF_MOVOP_ALU_SIZES(add, LF_ADD, a + b)
DEF_MOVOP_ALU_SIZES(or, LF_LOGIC, a | b)
DEF_MOVOP_ALU_SIZES(and, LF_LOGIC, a & b)
DEF_MOVOP_ALU_SIZES(sub, LF_SUB, a - b)
DEF_MOVOP_ALU_SIZES(xor, LF_LOGIC, a ^ b)

#define MOVOP_ROW(OPN, W)                                                  \
    {OPN##W##_rr, mov##W##_rr, fm_##OPN##W##_rr},                          \
    {OPN##W##_ri, mov##W##_rr, fm_##OPN##W##_ri},
static const struct {
    vp_handler op, mov, fused;
} movop_tab[] = {
    {shl32, mov32_rr, fm_shl32}, {shl64, mov64_rr, fm_shl64},
    {shr32, mov32_rr, fm_shr32}, {shr64, mov64_rr, fm_shr64},
    {sar32, mov32_rr, fm_sar32}, {sar64, mov64_rr, fm_sar64},
    MOVOP_ROW(add, 32) MOVOP_ROW(add, 64) MOVOP_ROW(or, 32)
    MOVOP_ROW(or, 64) MOVOP_ROW(and, 32) MOVOP_ROW(and, 64)
    MOVOP_ROW(sub, 32) MOVOP_ROW(sub, 64) MOVOP_ROW(xor, 32)
    MOVOP_ROW(xor, 64)
};
#undef MOVOP_ROW

/* ---- predicated skips -----------------------------------------------
 * A Jcc whose target is the record after next, over a register ALU
 * operation (`test $1, %al; jz 1f; add $3, %rcx; 1:`), becomes the
 * predicate of that operation: both go on into the operation's record
 * without a host branch on the condition, and the operation keeps the
 * register and the lazy flags as they were when the Jcc was taken (and
 * is then not counted). A data-dependent branch costs the host a
 * misprediction about half the time; the selects cost a few instructions
 * each time. Run on its own (attn_word), or entered by another branch,
 * the operation record finds pred_skip 0 and just operates. */
#define DEF_PRED_ALU(NAME, T, SZ, LF, SRC, EXPR)                           \
    static int fp_##NAME(vp_cpu *c, const vp_insn *i)                      \
    {                                                                      \
        uint64_t skip = c->pred_skip, keep = 0 - skip;                     \
        c->pred_skip = 0;                                                  \
        uint64_t old = c->gpr[i->rm];                                      \
        T a = (T)old, b = (T)(SRC), r = (T)(EXPR);                         \
        c->gpr[i->rm] = (old & keep) | ((uint64_t)r & ~keep);              \
        uint64_t op = (uint32_t)(LF) | ((SZ) << 8);                        \
        c->lf_op = (uint32_t)((c->lf_op & keep) | (op & ~keep));           \
        c->lf_res = (c->lf_res & keep) | ((uint64_t)r & ~keep);            \
        c->lf_a = (c->lf_a & keep) | ((uint64_t)a & ~keep);                \
        c->lf_b = (c->lf_b & keep) | ((uint64_t)b & ~keep);                \
        c->blk_icount -= skip;                                             \
        return vp_next(c, i);                                              \
    }
#define DEF_PRED_ALU_FORMS(OPN, LF, EXPR)                                  \
    DEF_PRED_ALU(OPN##32_rr, uint32_t, 4, LF, c->gpr[i->reg], EXPR)        \
    DEF_PRED_ALU(OPN##32_ri, uint32_t, 4, LF, i->imm, EXPR)                \
    DEF_PRED_ALU(OPN##64_rr, uint64_t, 8, LF, c->gpr[i->reg], EXPR)        \
    DEF_PRED_ALU(OPN##64_ri, uint64_t, 8, LF, i->imm, EXPR)
DEF_PRED_ALU_FORMS(add, LF_ADD, a + b)
DEF_PRED_ALU_FORMS(or, LF_LOGIC, a | b)
DEF_PRED_ALU_FORMS(and, LF_LOGIC, a & b)
DEF_PRED_ALU_FORMS(sub, LF_SUB, a - b)
DEF_PRED_ALU_FORMS(xor, LF_LOGIC, a ^ b)

#define PRED_ROW(OPN)                                                      \
    {OPN##32_rr, fp_##OPN##32_rr}, {OPN##32_ri, fp_##OPN##32_ri},          \
    {OPN##64_rr, fp_##OPN##64_rr}, {OPN##64_ri, fp_##OPN##64_ri},
static const struct {
    vp_handler op, pred;
} pred_tab[] = {
    PRED_ROW(add) PRED_ROW(or) PRED_ROW(and) PRED_ROW(sub) PRED_ROW(xor)
};
#undef PRED_ROW

static const vp_handler jcc_tab[16] = CC_TABLE(jcc);

void vp_fuse(vp_insn *a, const vp_insn *b)
{
    unsigned cc = b->sub & 15;
    if (b->fn == jcc_tab[cc]) {
        for (size_t k = 0; k < VP_ARRAY_SIZE(fuse_tab); k++) {
            if (a->fn == fuse_tab[k].op) {
                a->fn = fuse_tab[k].fused[cc];
                return;
            }
        }
        return;
    }
    if ((a->fn != mov64_rr && a->fn != mov32_rr) || b->rm != a->rm)
        return;
    for (size_t k = 0; k < VP_ARRAY_SIZE(movop_tab); k++) {
        if (b->fn == movop_tab[k].op && a->fn == movop_tab[k].mov) {
            a->fn = movop_tab[k].fused;
            return;
        }
    }
}

void vp_local_targets(vp_insn *rec, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        vp_insn *j = &rec[k];
        if (j->fn != jcc_tab[j->sub & 15] || j->osize != 8)
            continue;
        int64_t to = (int64_t)j->off + j->len + (int64_t)j->imm;
        for (unsigned t = 0; t < n; t++) {
            if (rec[t].off == to) {
                j->disp = (int32_t)t;
                j->imm2 = (uint16_t)(n - t);
                break;
            }
        }
        if (j->disp != (int32_t)k + 2)
            continue;
        for (size_t p = 0; p < VP_ARRAY_SIZE(pred_tab); p++) {
            if (rec[k + 1].fn == pred_tab[p].op) {
                rec[k + 1].fn = pred_tab[p].pred;
                j->scale = 1;
                break;
            }
        }
    }
}

void vp_specialize(vp_insn *i)
{
    bool mem = (i->flags & I_MEM) != 0;
    bool w = i->osize == 8;
    if (i->flags & I_LOCK)
        return;
    if (i->fn == op_jcc) {
        if (i->op < 0x100)
            i->imm = sign_ext(i->imm, 1);
        i->fn = jcc_tab[i->sub & 15];
        i->disp = -1;       /* vp_local_targets may find it a record */
        i->scale = 0;       /* and make it predicate the next one */
        /* Superblocks: decoding goes on along the fall-through path; a
         * taken branch leaves the block by returning VP_JUMP. */
        i->endblk = 0;
        return;
    }
    if (i->fn == op_call && i->osize == 8) {
        i->fn = call64_rel;
        return;
    }
    if (i->fn == op_call_ind && i->osize == 8) {
        i->fn = call64_ind;
        return;
    }
    if (i->fn == op_ret && i->op == 0xc3 && i->osize == 8) {
        i->fn = ret64;
        return;
    }
    if ((i->fn == op_test_ei && !mem && i->osize == 1) ||
        (i->fn == op_test_ai && i->osize == 1)) {
        if (i->fn == op_test_ai)
            i->rm = R_AX;
        i->fn = test8_ri;
        return;
    }
    if (i->fn == op_setcc) {
        i->fn = setcc_tab[i->sub & 15];
        return;
    }
    if (i->fn == op_mov_ei && mem) {
        i->fn = i->osize == 1 ? mov8_mi : i->osize == 4 ? mov32_mi
              : i->osize == 8 ? mov64_mi : i->fn;
        return;
    }
    if (i->osize == 1 && !mem && i->fn == op_alu_ei && alu8_ri[i->sub]) {
        i->fn = alu8_ri[i->sub];
        return;
    }
    if (i->osize == 1 && i->fn == op_alu_ai && alu8_ri[i->sub]) {
        i->rm = R_AX;
        i->fn = alu8_ri[i->sub];
        return;
    }
    if (i->osize == 1 && mem) {
        if (i->fn == op_alu_ei && alu8_mi[i->sub])
            i->fn = alu8_mi[i->sub];
        else if (i->fn == op_test_ei)
            i->fn = test8_mi;
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
    } else if (i->fn == op_alu_eg && mem) {
        if (alu_mem_fast[i->sub][w][0])
            i->fn = alu_mem_fast[i->sub][w][0];
    } else if (i->fn == op_alu_ei && mem) {
        if (alu_mem_fast[i->sub][w][1]) {
            if (i->op == 0x83)
                i->imm = sign_ext(i->imm, 1);
            i->fn = alu_mem_fast[i->sub][w][1];
        }
    } else if (i->fn == op_alu_ge && mem) {
        if (alu_mem_fast[i->sub][w][2])
            i->fn = alu_mem_fast[i->sub][w][2];
    } else if (i->fn == op_test_eg && mem) {
        i->fn = w ? test64_mr : test32_mr;
    } else if (i->fn == op_test_ei && mem) {
        i->fn = w ? test64_mi : test32_mi;
    } else if (i->fn == op_shift && !mem && i->op != 0xd3) {
        unsigned n = (i->op == 0xd1) ? 1 : (unsigned)i->imm;
        n &= w ? 63 : 31;
        static const vp_handler sh[8][2] = {
            [0] = {rol32, rol64}, [1] = {ror32, ror64},
            [4] = {shl32, shl64}, [5] = {shr32, shr64},
            [6] = {shl32, shl64}, [7] = {sar32, sar64}};
        if (n && sh[i->sub][w]) {
            i->imm = n;
            i->fn = sh[i->sub][w];
        }
    } else if (i->fn == op_incdec && !mem) {
        i->fn = i->sub ? (w ? dec64 : dec32) : (w ? inc64 : inc32);
    } else if (i->fn == op_incdec_r) {
        i->rm = i->reg;
        i->fn = i->sub ? (w ? dec64 : dec32) : (w ? inc64 : inc32);
    } else if (i->fn == op_cmov) {
        i->fn = (w ? cmov64_tab : cmov32_tab)[i->sub & 15];
    } else if (i->fn == op_lea && mem) {
        i->fn = w ? lea64 : lea32;
    } else if (i->fn == op_movzx) {
        if (mem)
            i->fn = i->sub == 1 ? movzx_b_m : movzx_w_m;
        else if (i->sub == 2)
            i->fn = movzx_w_r;
        else if (i->rm >= 4 && i->rm < 8 && !(i->flags & I_REX))
            i->fn = movzx_b_h;
        else
            i->fn = movzx_b_r;
    } else if (i->fn == op_imul3) {
        if (i->op == 0x6b)
            i->imm = sign_ext(i->imm, 1);
        i->fn = mem ? (w ? imul64_mi : imul32_mi) : (w ? imul64_ri : imul32_ri);
    } else if (i->fn == op_imul2) {
        i->fn = mem ? (w ? imul64_rm : imul32_rm) : (w ? imul64_rr : imul32_rr);
    } else if (i->fn == op_bt_i && !mem && i->sub == 0) {
        i->fn = bt_ri;
    } else if (i->fn == op_push_r && w) {
        i->fn = push64;
    } else if (i->fn == op_pop_r && w) {
        i->fn = pop64;
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
