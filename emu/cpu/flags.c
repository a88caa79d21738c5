/* Lazy arithmetic flags: the last flag-setting operation's operands and
 * result are kept, and OSZAPC are computed when something reads them.
 * Flag definitions: SDM Vol 1, "EFLAGS Register" and each instruction's
 * "Flags Affected" section in Vol 2. */
#include "emu/cpu/insn.h"

uint8_t vp_parity(uint8_t v)
{
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return !(v & 1);
}

static uint64_t compute(vp_cpu *c)
{
    unsigned op = c->lf_op & 0xff, size = c->lf_op >> 8;
    uint64_t m = size_mask(size), sb = 1ull << (size * 8 - 1);
    uint64_t r = c->lf_res & m, a = c->lf_a & m, b = c->lf_b & m;
    uint64_t f = 0;
    bool cf = false, of = false, af = false;
    uint32_t rot = 0;

    if (op == LF_ROT) {     /* SZAP of the operation before the rotates */
        rot = c->lf_cf;
        op = rot >> LF_ROT_PREV_SHIFT;
    }
    switch (op) {
    case LF_ADD:
        cf = r < a;
        of = ((a ^ r) & (b ^ r) & sb) != 0;
        af = ((a ^ b ^ r) & 0x10) != 0;
        break;
    case LF_ADC:
        cf = c->lf_cf ? r <= a : r < a;
        of = ((a ^ r) & (b ^ r) & sb) != 0;
        af = ((a ^ b ^ r) & 0x10) != 0;
        break;
    case LF_SUB:
        cf = a < b;
        of = ((a ^ b) & (a ^ r) & sb) != 0;
        af = ((a ^ b ^ r) & 0x10) != 0;
        break;
    case LF_SBB:
        cf = c->lf_cf ? a <= b : a < b;
        of = ((a ^ b) & (a ^ r) & sb) != 0;
        af = ((a ^ b ^ r) & 0x10) != 0;
        break;
    case LF_LOGIC:
        break;
    case LF_INC:
        cf = c->lf_cf;
        of = r == sb;
        af = (r & 0xf) == 0;
        break;
    case LF_DEC:
        cf = c->lf_cf;
        of = r == sb - 1;
        af = (r & 0xf) == 0xf;
        break;
    case LF_NEG:
        cf = r != 0;
        of = r == sb;
        af = (r & 0xf) != 0;
        break;
    case LF_SHL: /* b = count (1..size*8), a = original */
        cf = b <= size * 8 ? ((a >> (size * 8 - b)) & 1) : 0;
        of = (((r & sb) != 0) ^ cf);
        break;
    case LF_SHR:
        cf = (a >> (b - 1)) & 1;
        of = (a & sb) != 0;
        break;
    case LF_SAR:
        cf = (sign_ext(a, size) >> (b - 1 < 63 ? b - 1 : 63)) & 1;
        of = false;
        break;
    case LF_BT:
        cf = c->lf_b != 0;
        break;
    case LF_MUL: /* SF, ZF, PF from the low half (undefined in the SDM) */
        cf = of = c->lf_b != 0;
        break;
    default:
        return c->flags;
    }
    if (rot) {              /* the rotate's CF and OF */
        cf = rot & FL_CF;
        of = (rot & FL_OF) != 0;
    }
    if (cf) f |= FL_CF;
    if (of) f |= FL_OF;
    if (af) f |= FL_AF;
    if (r == 0) f |= FL_ZF;
    if (r & sb) f |= FL_SF;
    if (vp_parity((uint8_t)r)) f |= FL_PF;
    return (c->flags & ~FL_ARITH) | f;
}

uint64_t vp_flags(vp_cpu *c)
{
    if (c->lf_op) {
        c->flags = compute(c);
        c->lf_op = 0;
    }
    return c->flags;
}

bool vp_cf(vp_cpu *c)
{
    return (vp_flags(c) & FL_CF) != 0;
}

/* Condition codes in encoding order (SDM Vol 1, "Jcc" condition table),
 * from materialized flags; vp_cond (insn.h) tries the lazy state first. */
bool vp_cond_slow(vp_cpu *c, unsigned cc)
{
    uint64_t f = vp_flags(c);
    bool r;
    switch (cc >> 1) {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = f & (FL_CF | FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return (cc & 1) ? !r : r;
}
