/* Bit-manipulation and other general-purpose ISA extensions: POPCNT,
 * LZCNT, TZCNT, BMI1 (ANDN BEXTR BLSI BLSMSK BLSR), BMI2 (BZHI MULX PDEP
 * PEXT RORX SARX SHLX SHRX), ADX (ADCX ADOX), MOVBE and CMPXCHG16B.
 *
 * Semantics and "Flags Affected" are those of each instruction's entry in
 * SDM Vol 2. Every instruction raises #UD when the vCPU's CPUID does not
 * advertise it (vp_cpu_has), except TZCNT and LZCNT, which are BSF and
 * BSR with an ignored F3 prefix on such parts. Flags the SDM leaves
 * undefined get a fixed value (see logic_flags, set_arith), so runs are
 * reproducible. */
#include "emu/base/wide.h"
#include "emu/cpu/cpuid.h"
#include "emu/cpu/ops.h"

/* Replaces OSZAPC: the flags named are set, the others cleared. */
static void set_arith(vp_cpu *c, bool cf, bool zf, bool sf)
{
    uint64_t f = vp_flags(c) & ~FL_ARITH;
    if (cf)
        f |= FL_CF;
    if (zf)
        f |= FL_ZF;
    if (sf)
        f |= FL_SF;
    c->flags = f;
}

/* ANDN, BLSI, BLSMSK, BLSR, BZHI: SF, ZF from the result, OF cleared, CF
 * as given; PF (undefined) from the result's low byte as the logical
 * instructions set it, which is what current parts do; AF cleared. */
static void logic_flags(vp_cpu *c, unsigned size, uint64_t res, bool cf)
{
    lf_set(c, LF_LOGIC, size, res, 0, 0);
    if (cf)
        c->flags = vp_flags(c) | FL_CF;
}

/* VEX-encoded general-purpose instructions (SDM Vol 2A, Chapter 2,
 * exception class "Type 13"): #UD when the feature is not advertised, and
 * in real-address and virtual-8086 mode, where VEX does not exist. The
 * decoder already turned VEX.L = 1 and prefixes before VEX into #UD.
 * Then reads the r/m operand, which every such instruction has. */
static int vex_rd_e(vp_cpu *c, const vp_insn *i, int feat, uint64_t *v)
{
    if (!vp_cpu_has(c, feat) || !(c->cr0 & CR0_PE) || c->v86)
        return vp_raise(c, EXC_UD);
    return rd_e(c, i, i->osize, v);
}

static uint64_t vex_src(const vp_cpu *c, const vp_insn *i)
{
    return reg_read(c, VEX_REG(i), i->osize, false);
}

/* ---- POPCNT, TZCNT, LZCNT ------------------------------------------- */

/* POPCNT: "OF, SF, ZF, AF, CF, PF are all cleared. ZF is set if SRC = 0". */
int op_popcnt(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_POPCNT))
        return vp_raise(c, EXC_UD);
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    unsigned n = 0;
    for (uint64_t t = v; t; t &= t - 1)
        n++;
    set_arith(c, false, v == 0, false);
    wr_g(c, i, i->osize, n);
    return VP_OK;
}

/* TZCNT (BMI1) and LZCNT (CPUID.80000001H:ECX.ABM/LZCNT): the count of
 * trailing or leading zero bits, the operand size when the source is 0.
 * "ZF is set to 1 in case of zero output, cleared otherwise; CF is set to
 * 1 if the input was zero"; OF, SF, PF, AF undefined (cleared here). */
static int zcnt(vp_cpu *c, const vp_insn *i, bool leading)
{
    uint64_t v;
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    unsigned bits = i->osize * 8, n = 0;
    if (leading)
        while (n < bits && !((v >> (bits - 1 - n)) & 1))
            n++;
    else
        while (n < bits && !((v >> n) & 1))
            n++;
    set_arith(c, v == 0, n == 0, false);
    wr_g(c, i, i->osize, n);
    return VP_OK;
}

int op_tzcnt(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_BMI1))
        return op_bsf_bsr(c, i);    /* F3 ignored: BSF (sub 0) */
    return zcnt(c, i, false);
}

int op_lzcnt(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_ABM))
        return op_bsf_bsr(c, i);    /* F3 ignored: BSR (sub 1) */
    return zcnt(c, i, true);
}

/* ---- BMI1 ------------------------------------------------------------ */

/* ANDN r, vvvv, r/m: DEST := (NOT SRC1) AND SRC2. SF, ZF from the result;
 * OF, CF cleared. */
int op_andn(vp_cpu *c, const vp_insn *i)
{
    uint64_t b;
    int r = vex_rd_e(c, i, FEAT_BMI1, &b);
    if (r)
        return r;
    uint64_t res = ~vex_src(c, i) & b & size_mask(i->osize);
    logic_flags(c, i->osize, res, false);
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* BEXTR r, r/m, vvvv: START = SRC2[7:0], LEN = SRC2[15:8]; bits beyond
 * the operand read as zero. ZF from the result; CF, OF cleared. */
int op_bextr(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vex_rd_e(c, i, FEAT_BMI1, &v);
    if (r)
        return r;
    uint64_t ctl = vex_src(c, i);
    unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
    uint64_t res = start < i->osize * 8u ? v >> start : 0;
    if (len < 64)
        res &= (1ull << len) - 1;
    set_arith(c, false, res == 0, false);
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* Group 17: BLSR (sub 1), BLSMSK (2), BLSI (3); vvvv is the destination.
 *   BLSR:   (SRC - 1) AND SRC; ZF, SF from result; CF = (SRC = 0)
 *   BLSMSK: (SRC - 1) XOR SRC; SF from result; CF = (SRC = 0); ZF = 0
 *   BLSI:   (-SRC) AND SRC;    ZF, SF from result; CF = (SRC != 0)
 * OF cleared in all three. */
int op_bls(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vex_rd_e(c, i, FEAT_BMI1, &v);
    if (r)
        return r;
    uint64_t m = size_mask(i->osize), res;
    bool cf;
    switch (i->sub) {
    case 1: res = (v - 1) & v & m; cf = v == 0; break;
    case 2: res = ((v - 1) ^ v) & m; cf = v == 0; break;
    default: res = (0 - v) & v & m; cf = v != 0; break;
    }
    logic_flags(c, i->osize, res, cf);   /* BLSMSK's result is never 0 */
    reg_write(c, VEX_REG(i), i->osize, false, res);
    return VP_OK;
}

/* ---- BMI2 ------------------------------------------------------------ */

/* BZHI r, r/m, vvvv: N = SRC2[7:0]; bits N and up cleared when N is below
 * the operand size. ZF, SF from result; CF = (N > OperandSize - 1); OF
 * cleared. */
int op_bzhi(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vex_rd_e(c, i, FEAT_BMI2, &v);
    if (r)
        return r;
    unsigned n = vex_src(c, i) & 0xff, bits = i->osize * 8;
    uint64_t res = n < bits ? v & ((1ull << n) - 1) : v;
    logic_flags(c, i->osize, res, n > bits - 1);
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* MULX r_hi, r_lo(vvvv), r/m: unsigned EDX/RDX * SRC; the low half goes
 * to vvvv first, then the high half to ModRM.reg (so the high half wins
 * when both name one register). Flags unaffected. */
int op_mulx(vp_cpu *c, const vp_insn *i)
{
    uint64_t b;
    int r = vex_rd_e(c, i, FEAT_BMI2, &b);
    if (r)
        return r;
    uint64_t a = reg_read(c, R_DX, i->osize, false), lo, hi;
    if (i->osize == 8) {
        lo = vp_mulu64(a, b, &hi);
    } else {
        uint64_t p = a * b;
        lo = p & 0xffffffffull;
        hi = p >> 32;
    }
    reg_write(c, VEX_REG(i), i->osize, false, lo);
    wr_g(c, i, i->osize, hi);
    return VP_OK;
}

/* PDEP (sub 0) and PEXT (sub 1): r, vvvv (source), r/m (mask). PDEP
 * deposits the low source bits at the mask's set positions; PEXT gathers
 * the source bits at the mask's set positions into the low bits. Flags
 * unaffected. */
int op_pdep_pext(vp_cpu *c, const vp_insn *i)
{
    uint64_t mask;
    int r = vex_rd_e(c, i, FEAT_BMI2, &mask);
    if (r)
        return r;
    uint64_t src = vex_src(c, i), res = 0, k = 1;
    for (; mask; mask &= mask - 1, k <<= 1) {
        uint64_t m = mask & (0 - mask);   /* lowest set mask bit */
        if (i->sub == 0) {
            if (src & k)
                res |= m;
        } else if (src & m) {
            res |= k;
        }
    }
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* RORX r, r/m, imm8: rotate right by imm8 masked to 5 (6) bits. Flags
 * unaffected. */
int op_rorx(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vex_rd_e(c, i, FEAT_BMI2, &v);
    if (r)
        return r;
    unsigned bits = i->osize * 8, k = (unsigned)i->imm & (bits - 1);
    uint64_t res = k ? ((v >> k) | (v << (bits - k))) & size_mask(i->osize)
                     : v;
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* SHLX (sub 0), SARX (1), SHRX (2): r, r/m, vvvv (count masked to 5 or 6
 * bits). Flags unaffected. */
int op_shiftx(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vex_rd_e(c, i, FEAT_BMI2, &v);
    if (r)
        return r;
    unsigned cnt = vex_src(c, i) & (i->osize * 8 - 1);
    uint64_t res;
    switch (i->sub) {
    case 0: res = v << cnt; break;
    case 1: res = (uint64_t)((int64_t)sign_ext(v, i->osize) >> cnt); break;
    default: res = v >> cnt; break;
    }
    wr_g(c, i, i->osize, res & size_mask(i->osize));
    return VP_OK;
}

/* ---- ADX ------------------------------------------------------------- */

/* ADCX (sub 0) / ADOX (sub 1): DEST := DEST + SRC + CF (OF); the carry
 * out goes to CF (OF) and no other flag changes. */
int op_adx(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_ADX))
        return vp_raise(c, EXC_UD);
    uint64_t b;
    int r = rd_e(c, i, i->osize, &b);
    if (r)
        return r;
    uint64_t fl = i->sub ? FL_OF : FL_CF, f = vp_flags(c);
    uint64_t a = rd_g(c, i, i->osize), cin = (f & fl) != 0, res;
    bool cout;
    if (i->osize == 8) {
        res = a + b + cin;
        cout = res < a || (cin && res == a);
    } else {
        res = a + b + cin;
        cout = res >> 32;
        res &= 0xffffffffull;
    }
    c->flags = (f & ~fl) | (cout ? fl : 0);
    wr_g(c, i, i->osize, res);
    return VP_OK;
}

/* ---- MOVBE, CMPXCHG16B ------------------------------------------------ */

static uint64_t bswap_n(uint64_t v, unsigned size)
{
    uint64_t r = 0;
    for (unsigned k = 0; k < size; k++)
        r |= ((v >> (8 * k)) & 0xff) << (8 * (size - 1 - k));
    return r;
}

/* MOVBE r, m (sub 0) and MOVBE m, r (sub 1): a move with the bytes
 * reversed. The register forms are #UD. */
int op_movbe(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_MOVBE) || !(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t v;
    if (i->sub == 1)
        return wr_e(c, i, i->osize, bswap_n(rd_g(c, i, i->osize), i->osize));
    int r = rd_e(c, i, i->osize, &v);
    if (r)
        return r;
    wr_g(c, i, i->osize, bswap_n(v, i->osize));
    return VP_OK;
}

/* CMPXCHG16B m128 (REX.W 0F C7 /1, reached through op_cmpxchg8b): compare
 * RDX:RAX with m128; equal: ZF = 1 and RCX:RBX is stored; else ZF = 0 and
 * m128 is loaded into RDX:RAX (and written back unchanged, as the locked
 * cycle always writes). #GP(0) unless m128 is 16-byte aligned. Both
 * halves are read before either is written, and an aligned m128 lies in
 * one page, so a fault leaves memory untouched. */
int op_cmpxchg16b(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_CX16) || !(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    uint64_t ea = insn_ea(c, i), ea2 = (ea + 8) & size_mask(i->asize);
    uint64_t lin = ea + (i->seg >= S_FS ? c->seg[i->seg].base : 0);
    if (lin & 15)
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t lo, hi;
    int r = vp_read_seg_rmw(c, i->seg, ea, 8, &lo);
    if (!r)
        r = vp_read_seg_rmw(c, i->seg, ea2, 8, &hi);
    if (r)
        return r;
    bool eq = lo == c->gpr[R_AX] && hi == c->gpr[R_DX];
    uint64_t nlo = eq ? c->gpr[R_BX] : lo, nhi = eq ? c->gpr[R_CX] : hi;
    r = vp_write_seg(c, i->seg, ea, 8, nlo);
    if (!r)
        r = vp_write_seg(c, i->seg, ea2, 8, nhi);
    if (r)
        return r;
    if (!eq) {
        c->gpr[R_AX] = lo;
        c->gpr[R_DX] = hi;
    }
    c->flags = (vp_flags(c) & ~FL_ZF) | (eq ? FL_ZF : 0);
    return VP_OK;
}
