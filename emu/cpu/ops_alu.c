/* Arithmetic, logic, shifts, bit operations, multiply/divide, BCD, flag
 * instructions (SDM Vol 2, the instructions of the same names; flag
 * results per each one's "Flags Affected"). */
#include "emu/base/wide.h"
#include "emu/cpu/ops.h"
#include "emu/cpu/cpuid.h"

/* One ALU operation in encoding order: ADD OR ADC SBB AND SUB XOR CMP. */
static VP_ALWAYS_INLINE uint64_t alu(vp_cpu *c, unsigned op, unsigned size,
                                     uint64_t a, uint64_t b)
{
    uint64_t m = size_mask(size), r;
    uint32_t cf;
    a &= m;
    b &= m;
    switch (op & 7) {
    case 0: r = (a + b) & m; lf_set(c, LF_ADD, size, r, a, b); break;
    case 1: r = a | b; lf_set(c, LF_LOGIC, size, r, a, b); break;
    case 2:
        cf = vp_cf(c);
        r = (a + b + cf) & m;
        c->lf_cf = cf;
        lf_set(c, LF_ADC, size, r, a, b);
        break;
    case 3:
        cf = vp_cf(c);
        r = (a - b - cf) & m;
        c->lf_cf = cf;
        lf_set(c, LF_SBB, size, r, a, b);
        break;
    case 4: r = a & b; lf_set(c, LF_LOGIC, size, r, a, b); break;
    case 6: r = a ^ b; lf_set(c, LF_LOGIC, size, r, a, b); break;
    default: r = (a - b) & m; lf_set(c, LF_SUB, size, r, a, b); break;
    }
    return r;
}

/* A fault restores the state before the faulting instruction (SDM Vol 3A,
 * "Exception Classifications": a fault is reported "with the machine
 * state restored to the state prior to the beginning of execution of the
 * faulting instruction"). A read-modify-write computes its flags before
 * the write, which can still fault (read-only page or segment): the
 * memory forms below save the flag state and put it back then. */
typedef struct lf_state {
    uint64_t flags, res, a, b;
    uint32_t op, cf;
} lf_state;

static VP_ALWAYS_INLINE void lf_save(const vp_cpu *c, lf_state *s)
{
    *s = (lf_state){c->flags, c->lf_res, c->lf_a, c->lf_b, c->lf_op,
                    c->lf_cf};
}

/* Writes the E operand; on a fault, RFLAGS goes back to *s. */
static int wr_e_rmw(vp_cpu *c, const vp_insn *i, unsigned size, uint64_t v,
                    const lf_state *s)
{
    int r = wr_e(c, i, size, v);
    if (VP_UNLIKELY(r == VP_EXC)) {
        c->flags = s->flags;
        c->lf_res = s->res;
        c->lf_a = s->a;
        c->lf_b = s->b;
        c->lf_op = s->op;
        c->lf_cf = s->cf;
    }
    return r;
}

int op_alu_eg(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = i->sub == 7 ? rd_e(c, i, i->osize, &a)
                       : rd_e_rmw(c, i, i->osize, &a);
    if (r)
        return r;
    lf_state s;
    lf_save(c, &s);
    uint64_t res = alu(c, i->sub, i->osize, a, rd_g(c, i, i->osize));
    return i->sub == 7 ? VP_OK : wr_e_rmw(c, i, i->osize, res, &s);
}

int op_alu_ge(vp_cpu *c, const vp_insn *i)
{
    uint64_t b;
    int r = rd_e(c, i, i->osize, &b);
    if (r)
        return r;
    uint64_t res = alu(c, i->sub, i->osize, rd_g(c, i, i->osize), b);
    if (i->sub != 7)
        wr_g(c, i, i->osize, res);
    return VP_OK;
}

int op_alu_ai(vp_cpu *c, const vp_insn *i)
{
    uint64_t res = alu(c, i->sub, i->osize,
                       reg_read(c, R_AX, i->osize, false), i->imm);
    if (i->sub != 7)
        reg_write(c, R_AX, i->osize, false, res);
    return VP_OK;
}

int op_alu_ei(vp_cpu *c, const vp_insn *i)
{
    uint64_t a, b = i->op == 0x83 ? sign_ext(i->imm, 1) : i->imm;
    int r = i->sub == 7 ? rd_e(c, i, i->osize, &a)
                       : rd_e_rmw(c, i, i->osize, &a);
    if (r)
        return r;
    lf_state s;
    lf_save(c, &s);
    uint64_t res = alu(c, i->sub, i->osize, a, b);
    return i->sub == 7 ? VP_OK : wr_e_rmw(c, i, i->osize, res, &s);
}

int op_test_eg(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e(c, i, i->osize, &a);
    if (r)
        return r;
    alu(c, 4, i->osize, a, rd_g(c, i, i->osize));
    return VP_OK;
}

int op_test_ai(vp_cpu *c, const vp_insn *i)
{
    alu(c, 4, i->osize, reg_read(c, R_AX, i->osize, false), i->imm);
    return VP_OK;
}

int op_test_ei(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e(c, i, i->osize, &a);
    if (r)
        return r;
    alu(c, 4, i->osize, a, i->imm);
    return VP_OK;
}

static uint64_t incdec(vp_cpu *c, bool dec, unsigned size, uint64_t a)
{
    uint64_t m = size_mask(size);
    c->lf_cf = vp_cf_fast(c);
    uint64_t r = dec ? (a - 1) & m : (a + 1) & m;
    lf_set(c, dec ? LF_DEC : LF_INC, size, r, a, 1);
    return r;
}

int op_incdec(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e_rmw(c, i, i->osize, &a);
    if (r)
        return r;
    lf_state s;
    lf_save(c, &s);
    return wr_e_rmw(c, i, i->osize, incdec(c, i->sub, i->osize, a), &s);
}

int op_incdec_r(vp_cpu *c, const vp_insn *i)
{
    uint64_t a = reg_read(c, i->reg, i->osize, false);
    reg_write(c, i->reg, i->osize, false, incdec(c, i->sub, i->osize, a));
    return VP_OK;
}

int op_not(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e_rmw(c, i, i->osize, &a);
    if (r)
        return r;
    return wr_e(c, i, i->osize, ~a & size_mask(i->osize));
}

int op_neg(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e_rmw(c, i, i->osize, &a);
    if (r)
        return r;
    uint64_t res = (0 - a) & size_mask(i->osize);
    lf_state s;
    lf_save(c, &s);
    lf_set(c, LF_NEG, i->osize, res, a, 0);
    return wr_e_rmw(c, i, i->osize, res, &s);
}

/* Sets flags after a multiply: CF = OF = `overflow`; SF, ZF, PF from the
 * low half (the SDM leaves them undefined), AF cleared. */
static void mul_flags(vp_cpu *c, unsigned size, uint64_t lo, bool overflow)
{
    lf_set(c, LF_MUL, size, lo, 0, overflow);
}

static void store_pair(vp_cpu *c, unsigned size, uint64_t lo, uint64_t hi)
{
    if (size == 1) {
        reg_write(c, R_AX, 2, false, (lo & 0xff) | ((hi & 0xff) << 8));
    } else {
        reg_write(c, R_AX, size, false, lo);
        reg_write(c, R_DX, size, false, hi);
    }
}

int op_mul(vp_cpu *c, const vp_insn *i)
{
    uint64_t b, lo, hi;
    unsigned size = i->osize;
    int r = rd_e(c, i, size, &b);
    if (r)
        return r;
    uint64_t a = reg_read(c, R_AX, size, false);
    if (size == 8) {
        lo = vp_mulu64(a, b, &hi);
    } else {
        uint64_t p = a * b;
        lo = p & size_mask(size);
        hi = p >> (size * 8);
    }
    store_pair(c, size, lo, hi);
    mul_flags(c, size, lo, hi != 0);
    return VP_OK;
}

/* Signed size x size -> 2*size multiply: the low and high halves (each
 * truncated to size) and whether the product does not fit in size bits
 * (CF = OF for every IMUL form). */
static uint64_t imul_wide(unsigned size, uint64_t a, uint64_t b,
                          uint64_t *hi, bool *ovf)
{
    int64_t sa = (int64_t)sign_ext(a, size), sb = (int64_t)sign_ext(b, size);
    uint64_t lo;
    if (size == 8) {
        int64_t shi;
        lo = vp_muls64(sa, sb, &shi);
        *hi = (uint64_t)shi;
        *ovf = shi != ((int64_t)lo >> 63);
    } else {
        int64_t p = sa * sb;
        lo = (uint64_t)p & size_mask(size);
        *hi = ((uint64_t)p >> (size * 8)) & size_mask(size);
        *ovf = (int64_t)sign_ext(lo, size) != p;
    }
    return lo;
}

int op_imul1(vp_cpu *c, const vp_insn *i)
{
    uint64_t b, hi;
    bool ovf;
    unsigned size = i->osize;
    int r = rd_e(c, i, size, &b);
    if (r)
        return r;
    uint64_t lo = imul_wide(size, reg_read(c, R_AX, size, false), b, &hi, &ovf);
    store_pair(c, size, lo, hi);
    mul_flags(c, size, lo, ovf);
    return VP_OK;
}

static uint64_t imul_trunc(vp_cpu *c, unsigned size, uint64_t a, uint64_t b)
{
    uint64_t hi;
    bool ovf;
    uint64_t lo = imul_wide(size, a, b, &hi, &ovf);
    mul_flags(c, size, lo, ovf);
    return lo;
}

int op_imul2(vp_cpu *c, const vp_insn *i)
{
    uint64_t b;
    int r = rd_e(c, i, i->osize, &b);
    if (r)
        return r;
    wr_g(c, i, i->osize, imul_trunc(c, i->osize, rd_g(c, i, i->osize), b));
    return VP_OK;
}

int op_imul3(vp_cpu *c, const vp_insn *i)
{
    uint64_t a;
    int r = rd_e(c, i, i->osize, &a);
    if (r)
        return r;
    uint64_t imm = i->op == 0x6b ? sign_ext(i->imm, 1) : i->imm;
    wr_g(c, i, i->osize, imul_trunc(c, i->osize, a, imm));
    return VP_OK;
}

int op_div(vp_cpu *c, const vp_insn *i)
{
    uint64_t d, q, rem;
    unsigned size = i->osize;
    int r = rd_e(c, i, size, &d);
    if (r)
        return r;
    if (d == 0)
        return vp_raise(c, EXC_DE);
    if (size == 1) {
        uint64_t n = reg_read(c, R_AX, 2, false);
        q = n / d;
        rem = n % d;
        if (q > 0xff)
            return vp_raise(c, EXC_DE);
        reg_write(c, R_AX, 2, false, q | (rem << 8));
        return VP_OK;
    }
    uint64_t lo = reg_read(c, R_AX, size, false);
    uint64_t hi = reg_read(c, R_DX, size, false);
    if (size == 8) {
        if (hi >= d)
            return vp_raise(c, EXC_DE);
        q = vp_divu128(hi, lo, d, &rem);
    } else {
        uint64_t n = (hi << (size * 8)) | lo;
        q = n / d;
        rem = n % d;
        if (q > size_mask(size))
            return vp_raise(c, EXC_DE);
    }
    reg_write(c, R_AX, size, false, q);
    reg_write(c, R_DX, size, false, rem);
    return VP_OK;
}

int op_idiv(vp_cpu *c, const vp_insn *i)
{
    uint64_t dv;
    unsigned size = i->osize;
    int r = rd_e(c, i, size, &dv);
    if (r)
        return r;
    int64_t d = (int64_t)sign_ext(dv, size);
    if (d == 0)
        return vp_raise(c, EXC_DE);
    if (size == 8) {
        uint64_t lo = c->gpr[R_AX], hi = c->gpr[R_DX];
        bool nneg = (int64_t)hi < 0, dneg = d < 0;
        /* Magnitudes, then the unsigned divide. */
        uint64_t mlo = lo, mhi = hi;
        if (nneg) {
            mlo = ~lo + 1;
            mhi = ~hi + (mlo == 0);
        }
        uint64_t md = dneg ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
        if (mhi >= md)
            return vp_raise(c, EXC_DE);
        uint64_t rem, q = vp_divu128(mhi, mlo, md, &rem);
        if (nneg != dneg) {
            if (q > (1ull << 63))
                return vp_raise(c, EXC_DE);
            q = (uint64_t)0 - q;
        } else if (q > (uint64_t)INT64_MAX) {
            return vp_raise(c, EXC_DE);
        }
        if (nneg)
            rem = (uint64_t)0 - rem;
        c->gpr[R_AX] = q;
        c->gpr[R_DX] = rem;
        return VP_OK;
    }
    int64_t n;
    if (size == 1)
        n = (int16_t)reg_read(c, R_AX, 2, false);
    else
        n = (int64_t)sign_ext((reg_read(c, R_DX, size, false) << (size * 8)) |
                                  reg_read(c, R_AX, size, false),
                              size * 2);
    if (n == INT64_MIN && d == -1)
        return vp_raise(c, EXC_DE);
    int64_t q = n / d, rem = n % d;
    int64_t qmax = (int64_t)(size_mask(size) >> 1);
    if (q > qmax || q < -qmax - 1)
        return vp_raise(c, EXC_DE);
    if (size == 1)
        reg_write(c, R_AX, 2, false,
                  ((uint64_t)q & 0xff) | (((uint64_t)rem & 0xff) << 8));
    else {
        reg_write(c, R_AX, size, false, (uint64_t)q);
        reg_write(c, R_DX, size, false, (uint64_t)rem);
    }
    return VP_OK;
}

/* Group 2: ROL ROR RCL RCR SHL SHR SAL SAR. The count is masked to 5 bits
 * (6 with a 64-bit operand); a zero count changes no flags. */
int op_shift(vp_cpu *c, const vp_insn *i)
{
    unsigned size = i->osize, bits = size * 8;
    unsigned cnt;
    if (i->op == 0xd0 || i->op == 0xd1)
        cnt = 1;
    else if (i->op == 0xd2 || i->op == 0xd3)
        cnt = c->gpr[R_CX] & 0xff;
    else
        cnt = (unsigned)i->imm;
    cnt &= size == 8 ? 0x3f : 0x1f;
    uint64_t a;
    int r = rd_e_rmw(c, i, size, &a);
    if (r)
        return r;
    /* A zero count changes no flag, but the destination is still written
     * (processors do: a 32-bit register is zero-extended, SDM Vol 1,
     * "General-Purpose Registers in 64-Bit Mode", and a read-only memory
     * operand faults). */
    if (cnt == 0)
        return wr_e(c, i, size, a);
    lf_state s;
    lf_save(c, &s);
    uint64_t m = size_mask(size), msb = 1ull << (bits - 1), res;
    unsigned op = i->sub;
    if (op == 6)
        op = 4;
    if (op >= 4) {
        if (op == 4)
            res = cnt >= 64 ? 0 : (a << cnt) & m;
        else if (op == 5)
            res = a >> cnt;
        else
            res = (uint64_t)((int64_t)sign_ext(a, size) >> cnt) & m;
        /* Counts beyond the width: CF and OF follow the same formulas. */
        lf_set(c, op == 4 ? LF_SHL : op == 5 ? LF_SHR : LF_SAR, size, res, a,
               cnt);
        return wr_e_rmw(c, i, size, res, &s);
    }
    uint64_t f = vp_flags(c);
    bool cf = f & FL_CF, of;
    switch (op) {
    case 0: { /* ROL */
        unsigned k = cnt % bits;
        res = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = res & 1;
        of = ((res & msb) != 0) ^ cf;
        break;
    }
    case 1: { /* ROR */
        unsigned k = cnt % bits;
        res = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = (res & msb) != 0;
        of = ((res & msb) != 0) ^ ((res & (msb >> 1)) != 0);
        break;
    }
    case 2: { /* RCL: rotate through CF, a (bits+1)-bit quantity */
        unsigned k = cnt % (bits + 1);
        res = a;
        for (unsigned n = 0; n < k; n++) {
            bool out = (res & msb) != 0;
            res = ((res << 1) | cf) & m;
            cf = out;
        }
        of = ((res & msb) != 0) ^ cf;
        break;
    }
    default: { /* RCR */
        unsigned k = cnt % (bits + 1);
        res = a;
        of = ((res & msb) != 0) ^ cf;
        for (unsigned n = 0; n < k; n++) {
            bool out = res & 1;
            res = (res >> 1) | (cf ? msb : 0);
            cf = out;
        }
        break;
    }
    }
    f &= ~(FL_CF | FL_OF);
    if (cf) f |= FL_CF;
    if (of) f |= FL_OF;
    c->flags = f;
    return wr_e_rmw(c, i, size, res, &s);
}

int op_shld_shrd(vp_cpu *c, const vp_insn *i)
{
    unsigned size = i->osize, bits = size * 8;
    unsigned cnt = (i->op == 0x1a4 || i->op == 0x1ac) ? (unsigned)i->imm
                                                      : (c->gpr[R_CX] & 0xff);
    cnt &= size == 8 ? 0x3f : 0x1f;
    uint64_t a;
    int r = rd_e_rmw(c, i, size, &a);
    if (r)
        return r;
    if (cnt == 0)
        return wr_e(c, i, size, a); /* written back: see op_shift */
    lf_state s;
    lf_save(c, &s);
    uint64_t b = rd_g(c, i, size), m = size_mask(size), res;
    bool cf;
    if (cnt > bits) {
        /* Undefined result for 16-bit operands with count > 16; we shift
         * the 32-bit concatenation as Intel parts do. */
        cnt %= bits;
        if (!cnt)
            cnt = bits;
    }
    if (i->sub == 0) { /* SHLD */
        res = cnt == bits ? b : ((a << cnt) | (b >> (bits - cnt))) & m;
        cf = (a >> (bits - cnt)) & 1;
    } else {
        res = cnt == bits ? b : ((a >> cnt) | (b << (bits - cnt))) & m;
        cf = (a >> (cnt - 1)) & 1;
    }
    lf_set(c, LF_LOGIC, size, res, 0, 0);
    uint64_t f = vp_flags(c) & ~(FL_CF | FL_OF);
    uint64_t msb = 1ull << (bits - 1);
    if (cf) f |= FL_CF;
    if (((res ^ a) & msb) != 0) f |= FL_OF;
    c->flags = f;
    return wr_e_rmw(c, i, size, res, &s);
}

/* BT/BTS/BTR/BTC. A register bit offset addresses memory beyond the
 * operand (SDM Vol 2, "BT—Bit Test": bit offset operand). */
static int bt_common(vp_cpu *c, const vp_insn *i, int64_t bitoff, bool reg_off)
{
    unsigned size = i->osize, bits = size * 8;
    uint64_t v;
    int r;
    if (i->flags & I_MEM) {
        int64_t unit = reg_off ? (bitoff >> (size == 2 ? 4 : size == 4 ? 5 : 6))
                               : 0;
        uint64_t ea = (insn_ea(c, i) + (uint64_t)(unit * (int64_t)size)) &
                      size_mask(i->asize);
        unsigned bit = (unsigned)(bitoff & (bits - 1));
        r = i->sub == 0 ? vp_read_seg(c, i->seg, ea, size, &v)
                        : vp_read_seg_rmw(c, i->seg, ea, size, &v);
        if (r)
            return r;
        bool cf = (v >> bit) & 1;
        if (i->sub == 0) {
            flags_set_arith(c, (vp_flags(c) & ~FL_CF) | (cf ? FL_CF : 0));
            return VP_OK;
        }
        uint64_t nv = i->sub == 1 ? v | (1ull << bit)
                      : i->sub == 2 ? v & ~(1ull << bit)
                                    : v ^ (1ull << bit);
        /* CF only once the write is done (a fault leaves RFLAGS alone). */
        r = vp_write_seg(c, i->seg, ea, size, nv);
        if (r)
            return r;
        flags_set_arith(c, (vp_flags(c) & ~FL_CF) | (cf ? FL_CF : 0));
        return VP_OK;
    }
    unsigned bit = (unsigned)(bitoff & (bits - 1));
    v = reg_read(c, i->rm, size, i->flags & I_REX);
    bool cf = (v >> bit) & 1;
    flags_set_arith(c, (vp_flags(c) & ~FL_CF) | (cf ? FL_CF : 0));
    if (i->sub == 0)
        return VP_OK;
    uint64_t nv = i->sub == 1 ? v | (1ull << bit)
                  : i->sub == 2 ? v & ~(1ull << bit)
                                : v ^ (1ull << bit);
    reg_write(c, i->rm, size, i->flags & I_REX, nv);
    return VP_OK;
}

int op_bt_g(vp_cpu *c, const vp_insn *i)
{
    return bt_common(c, i, (int64_t)sign_ext(rd_g(c, i, i->osize), i->osize),
                     true);
}

int op_bt_i(vp_cpu *c, const vp_insn *i)
{
    return bt_common(c, i, (int64_t)(i->imm & (i->osize * 8 - 1)), false);
}

int op_bsf_bsr(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    uint64_t f = vp_flags(c) & ~FL_ARITH;
    if (v == 0) {
        /* Destination unchanged (AMD documents it; Intel parts behave so). */
        c->flags = f | FL_ZF;
        return VP_OK;
    }
    unsigned idx = 0;
    if (i->sub == 0)
        while (!((v >> idx) & 1))
            idx++;
    else
        for (idx = i->osize * 8 - 1; !((v >> idx) & 1); idx--)
            ;
    c->flags = f;
    wr_g(c, i, i->osize, idx);
    return VP_OK;
}

int op_cmpxchg(vp_cpu *c, const vp_insn *i)
{
    unsigned size = i->osize;
    uint64_t d;
    int r = rd_e_rmw(c, i, size, &d);
    if (r)
        return r;
    uint64_t acc = reg_read(c, R_AX, size, false);
    lf_state s;
    lf_save(c, &s);
    alu(c, 7, size, acc, d);
    if (acc == d)
        return wr_e_rmw(c, i, size, rd_g(c, i, size), &s);
    /* The destination is written back unchanged on failure (memory). */
    if (i->flags & I_MEM) {
        r = wr_e_rmw(c, i, size, d, &s);
        if (r)
            return r;
    }
    reg_write(c, R_AX, size, false, d);
    return VP_OK;
}

int op_cmpxchg8b(vp_cpu *c, const vp_insn *i)
{
    if (i->osize == 8)
        return op_cmpxchg16b(c, i); /* REX.W: ops_bits.c */
    if (!(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t ea = insn_ea(c, i), v;
    int r = vp_read_seg_rmw(c, i->seg, ea, 8, &v);
    if (r)
        return r;
    uint64_t cmp = (c->gpr[R_DX] << 32) | (c->gpr[R_AX] & 0xffffffff);
    uint64_t f = vp_flags(c) & ~FL_ZF;
    if (v == cmp) {
        r = vp_write_seg(c, i->seg, ea, 8,
                         (c->gpr[R_CX] << 32) | (c->gpr[R_BX] & 0xffffffff));
        if (r)
            return r;
        f |= FL_ZF;
    } else {
        r = vp_write_seg(c, i->seg, ea, 8, v);
        if (r)
            return r;
        c->gpr[R_AX] = v & 0xffffffff;
        c->gpr[R_DX] = v >> 32;
    }
    c->flags = f;
    return VP_OK;
}

int op_xadd(vp_cpu *c, const vp_insn *i)
{
    uint64_t d;
    int r = rd_e_rmw(c, i, i->osize, &d);
    if (r)
        return r;
    uint64_t s = rd_g(c, i, i->osize);
    lf_state st;
    lf_save(c, &st);
    uint64_t sum = alu(c, 0, i->osize, d, s);
    /* SDM Vol 2, "XADD": TEMP <- SRC + DEST; SRC <- DEST; DEST <- TEMP.
     * The destination is written last, so XADD r, r with one register
     * leaves the sum. A memory destination may fault: write it first. */
    if (!(i->flags & I_MEM)) {
        wr_g(c, i, i->osize, d);
        return wr_e(c, i, i->osize, sum);
    }
    r = wr_e_rmw(c, i, i->osize, sum, &st);
    if (r)
        return r;
    wr_g(c, i, i->osize, d);
    return VP_OK;
}

int op_setcc(vp_cpu *c, const vp_insn *i)
{
    return wr_e(c, i, 1, vp_cond(c, i->sub));
}

int op_cmov(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    if (vp_cond(c, i->sub))
        wr_g(c, i, i->osize, v);
    else if (i->osize == 4)
        c->gpr[i->reg] &= 0xffffffff; /* 32-bit destination always written */
    return VP_OK;
}

int op_bswap(vp_cpu *c, const vp_insn *i)
{
    uint64_t v = c->gpr[i->reg], r = 0;
    unsigned n = i->osize == 8 ? 8 : 4;
    if (i->osize == 2) {
        /* Undefined by the SDM; real parts give zero in the low word. */
        reg_write(c, i->reg, 2, false, 0);
        return VP_OK;
    }
    for (unsigned k = 0; k < n; k++)
        r |= ((v >> (8 * k)) & 0xff) << (8 * (n - 1 - k));
    reg_write(c, i->reg, n, false, r);
    return VP_OK;
}

int op_cbw(vp_cpu *c, const vp_insn *i)
{
    unsigned half = i->osize / 2;
    reg_write(c, R_AX, i->osize, false,
              sign_ext(reg_read(c, R_AX, half, false), half));
    return VP_OK;
}

int op_cwd(vp_cpu *c, const vp_insn *i)
{
    uint64_t a = reg_read(c, R_AX, i->osize, false);
    bool neg = (a >> (i->osize * 8 - 1)) & 1;
    reg_write(c, R_DX, i->osize, false, neg ? ~0ull : 0);
    return VP_OK;
}

static bool lahf_ok(vp_cpu *c)
{
    return c->code_size != 8 || vp_cpu_has(c, FEAT_LAHF_LM);
}

int op_sahf(vp_cpu *c, const vp_insn *i)
{
    if (!lahf_ok(c))
        return vp_raise(c, EXC_UD);
    uint64_t ah = (c->gpr[R_AX] >> 8) & 0xff;
    flags_set_arith(c, (vp_flags(c) & FL_OF) |
                           (ah & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)));
    return VP_OK;
}

int op_lahf(vp_cpu *c, const vp_insn *i)
{
    if (!lahf_ok(c))
        return vp_raise(c, EXC_UD);
    uint64_t f = vp_flags(c) & 0xff;
    f = (f & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | FL_FIXED1;
    c->gpr[R_AX] = (c->gpr[R_AX] & ~0xff00ull) | (f << 8);
    return VP_OK;
}

int op_cmc(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    c->flags ^= FL_CF;
    return VP_OK;
}

int op_flagop(vp_cpu *c, const vp_insn *i)
{
    vp_flags(c);
    switch (i->sub) {
    case 0: c->flags &= ~FL_CF; break;
    case 1: c->flags |= FL_CF; break;
    case 2: c->flags &= ~FL_DF; break;
    default: c->flags |= FL_DF; break;
    }
    return VP_OK;
}

/* DAA/DAS per the SDM's pseudo-code. */
int op_daa_das(vp_cpu *c, const vp_insn *i)
{
    uint64_t f = vp_flags(c);
    unsigned al = c->gpr[R_AX] & 0xff, old = al;
    bool cf = f & FL_CF, af = false;
    bool ocf = cf;
    cf = false;
    if ((al & 0xf) > 9 || (f & FL_AF)) {
        if (i->sub == 0) {
            cf = ocf || al + 6 > 0xff;
            al = (al + 6) & 0xff;
        } else {
            cf = ocf || al < 6;
            al = (al - 6) & 0xff;
        }
        af = true;
    }
    if (old > 0x99 || ocf) {
        al = i->sub == 0 ? (al + 0x60) & 0xff : (al - 0x60) & 0xff;
        cf = true;
    }
    c->gpr[R_AX] = (c->gpr[R_AX] & ~0xffull) | al;
    lf_set(c, LF_LOGIC, 1, al, 0, 0);
    f = vp_flags(c) & ~(FL_CF | FL_AF);
    c->flags = f | (cf ? FL_CF : 0) | (af ? FL_AF : 0);
    return VP_OK;
}

int op_aaa_aas(vp_cpu *c, const vp_insn *i)
{
    uint64_t f = vp_flags(c) & ~(FL_CF | FL_AF);
    uint64_t ax = c->gpr[R_AX] & 0xffff;
    if ((ax & 0xf) > 9 || (c->flags & FL_AF)) {
        if (i->sub == 0)
            ax = (ax + 0x106) & 0xffff;
        else
            ax = (ax - 6 - 0x100) & 0xffff;
        f |= FL_CF | FL_AF;
    }
    ax = (ax & 0xff0f);
    c->gpr[R_AX] = (c->gpr[R_AX] & ~0xffffull) | ax;
    c->flags = f;
    return VP_OK;
}

int op_aam(vp_cpu *c, const vp_insn *i)
{
    unsigned base = (unsigned)i->imm & 0xff, al = c->gpr[R_AX] & 0xff;
    if (base == 0)
        return vp_raise(c, EXC_DE);
    unsigned ah = al / base;
    al %= base;
    c->gpr[R_AX] = (c->gpr[R_AX] & ~0xffffull) | (ah << 8) | al;
    lf_set(c, LF_LOGIC, 1, al, 0, 0);
    return VP_OK;
}

int op_aad(vp_cpu *c, const vp_insn *i)
{
    unsigned base = (unsigned)i->imm & 0xff;
    unsigned al = c->gpr[R_AX] & 0xff, ah = (c->gpr[R_AX] >> 8) & 0xff;
    al = (al + ah * base) & 0xff;
    c->gpr[R_AX] = (c->gpr[R_AX] & ~0xffffull) | al;
    lf_set(c, LF_LOGIC, 1, al, 0, 0);
    return VP_OK;
}
