/* The differential tester's program generator: a table of instruction
 * templates, an x86 encoder, and the assembly of generated groups into a
 * test case.
 *
 * A program is a list of groups. A group is one instruction under test
 * plus the setup instructions that make its operands known (a base
 * register pointing into the data area, a shift count in CL, the dividend
 * of a DIV, a selector on the stack for POP DS...), kept or dropped whole
 * by the minimiser. Each group records the arithmetic flags it reads, the
 * flags it leaves with defined values and those the SDM leaves undefined,
 * so that the assembled program never reads an undefined flag and the
 * comparison masks exactly the flags that are undefined where it ended.
 *
 * Where an instruction's result (not just a flag) is undefined, the group
 * makes it defined: BSF/BSR with a zero source are followed by a CMOVZ
 * that overwrites the destination; SHLD/SHRD never get a count above a
 * 16-bit operand size; BSWAP is never 16-bit; PUSH of a segment register
 * (whose upper stack bytes the SDM leaves unspecified) is followed by
 * stores that define them. */
#include "testsuites/difftest/difftest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers (splitmix64) -------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rn(rng *r, uint32_t n)
{
    return n ? (uint32_t)(((rnext(r) >> 32) * n) >> 32) : 0;
}

static bool rp(rng *r, unsigned pct)
{
    return rn(r, 100) < pct;
}

/* ---- generator state --------------------------------------------------- */

typedef struct gctx {
    rng r;
    int mode;                  /* 64 or 32 */
    dt_group *g;               /* the group being built */
    uint64_t rsp;              /* RSP before the next instruction */
    uint16_t undef;            /* undefined flags before this group */
    unsigned fault_pct;        /* how often memory operands leave the data */
    /* Per instruction: byte registers 4-7 are AH..BH (no REX may be
     * emitted), or a REX prefix is forced (SPL..DIL, R8B..R15B). */
    bool norex, forcerex;
    bool bad;                  /* the template could not build a group */
} gctx;

static unsigned nregs(const gctx *g)
{
    return g->mode == 64 && !g->norex ? 16 : 8;
}

/* A register the instruction may read. */
static unsigned rreg(gctx *g)
{
    return rn(&g->r, nregs(g));
}

/* A register the instruction may write: never RSP (or SPL), whose value
 * the generator tracks; AH (4 without REX) is fine. */
static unsigned wreg_sz(gctx *g, unsigned size)
{
    for (;;) {
        unsigned r = rn(&g->r, nregs(g));
        if (r != 4 || (size == 1 && g->norex))
            return r;
    }
}

static unsigned wreg(gctx *g)
{
    return wreg_sz(g, 8);
}

/* A plain register for setup values (not RSP), below 8 when no REX. */
static unsigned sreg_pick(gctx *g, unsigned avoid1, unsigned avoid2)
{
    for (;;) {
        unsigned r = rn(&g->r, nregs(g));
        if (r != 4 && r != avoid1 && r != avoid2)
            return r;
    }
}

/* Decides the REX situation of the next byte-sized instruction. */
static void byte_regs(gctx *g)
{
    if (g->mode == 32) {
        g->norex = true;
        g->forcerex = false;
    } else if (rp(&g->r, 50)) {
        g->norex = true;
        g->forcerex = false;
    } else {
        g->norex = false;
        g->forcerex = true;
    }
}

static void wide_regs(gctx *g)
{
    g->norex = g->mode == 32;
    g->forcerex = g->mode == 64 && rp(&g->r, 5);
}

/* Whether RSP stays within the stack area after moving by delta. */
static bool sp_ok(gctx *g, int64_t delta)
{
    int64_t n = (int64_t)g->rsp + delta;
    return n >= (int64_t)DT_STACK - DT_STACK_SPAN &&
           n <= (int64_t)DT_STACK + DT_STACK_SPAN;
}

/* Operand sizes: 1, 2, 4 or (64-bit mode) 8. */
static unsigned pick_size(gctx *g, bool byte_ok)
{
    for (;;) {
        unsigned s = 1u << rn(&g->r, g->mode == 64 ? 4 : 3);
        if (s != 1 || byte_ok)
            return s;
    }
}

/* ---- the encoder ------------------------------------------------------- */

/* An E (ModRM r/m) operand. */
typedef struct eop {
    bool mem;
    uint8_t reg;               /* register form */
    int8_t base, index;        /* -1: none; base -2: RIP-relative */
    uint8_t scale;
    int32_t disp;
    uint8_t dispsz;            /* 0, 1, 2 or 4 */
    bool a16;                  /* 16-bit addressing (67 in 32-bit mode) */
    bool asz;                  /* 67 prefix */
    uint8_t seg;               /* segment override prefix byte, or 0 */
    bool sibabs;               /* no base, no index: use the SIB form */
    uint32_t target;           /* RIP-relative: the absolute target */
} eop;

typedef struct ins {
    uint8_t pfx[4];
    int npfx;                  /* legacy prefixes (66, F2, F3, F0) */
    bool w;                    /* REX.W */
    uint8_t map;               /* 0, 1 (0F), 2 (0F 38), 3 (0F 3A) */
    uint8_t op;
    bool modrm;
    uint8_t regf;              /* ModRM.reg: register or /digit */
    bool has_opreg;            /* low 3 opcode bits name a register */
    uint8_t opreg;
    eop e;
    uint64_t imm;
    int immsz;
    /* VEX (SDM Vol 2, "VEX Prefix"): vvvv, L, pp. */
    bool vex;
    uint8_t vvvv, vl, pp;
    /* Flag effects of this instruction. */
    uint16_t rd, def, undef;
} ins;

static void put(gctx *g, uint8_t b)
{
    if (g->g->len >= DT_GROUP_BYTES) {
        g->bad = true;
        return;
    }
    g->g->bytes[g->g->len++] = b;
}

static void put_n(gctx *g, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        put(g, (uint8_t)(v >> (8 * k)));
}

/* Records the flag effects of one instruction in the group. */
static void fx(gctx *g, uint16_t rd, uint16_t def, uint16_t undef)
{
    dt_group *gr = g->g;
    if (rd & gr->undef)
        g->bad = true;          /* would read what the group left undefined */
    gr->rd |= rd & (uint16_t)~(gr->def | gr->undef);
    gr->def = (uint16_t)((gr->def | def) & ~undef);
    gr->undef = (uint16_t)((gr->undef | undef) & ~def);
}

static void emit(gctx *g, const ins *in)
{
    const eop *e = &in->e;
    if (e->mem && e->seg)
        put(g, e->seg);
    if (e->mem && e->asz)
        put(g, 0x67);
    for (int k = 0; k < in->npfx; k++)
        put(g, in->pfx[k]);
    unsigned R = in->modrm ? (in->regf >> 3) & 1 : 0, X = 0, B = 0;
    if (in->modrm && e->mem) {
        if (e->index >= 0)
            X = ((unsigned)e->index >> 3) & 1;
        if (e->base >= 0)
            B = ((unsigned)e->base >> 3) & 1;
    } else if (in->modrm) {
        B = (e->reg >> 3) & 1;
    } else if (in->has_opreg) {
        B = (in->opreg >> 3) & 1;
    }
    if (in->vex) {
        /* Three-byte form unless C5 can say it (0F map, X = B = W = 0). */
        unsigned map = in->map;
        if (map == 1 && !X && !B && !in->w && rp(&g->r, 50)) {
            put(g, 0xc5);
            put(g, (uint8_t)((!R) << 7 | (~in->vvvv & 15) << 3 | in->vl << 2 |
                             in->pp));
        } else {
            put(g, 0xc4);
            put(g, (uint8_t)((!R) << 7 | (!X) << 6 | (!B) << 5 | map));
            put(g, (uint8_t)(in->w << 7 | (~in->vvvv & 15) << 3 | in->vl << 2 |
                             in->pp));
        }
    } else {
        bool rex = in->w || R || X || B || (g->mode == 64 && g->forcerex);
        if (g->mode == 32 || g->norex)
            rex = false;
        if (rex)
            put(g, (uint8_t)(0x40 | in->w << 3 | R << 2 | X << 1 | B));
        if (in->map >= 1)
            put(g, 0x0f);
        if (in->map == 2)
            put(g, 0x38);
        if (in->map == 3)
            put(g, 0x3a);
    }
    put(g, (uint8_t)(in->op | (in->has_opreg ? in->opreg & 7 : 0)));
    if (in->modrm) {
        unsigned reg = in->regf & 7;
        if (!e->mem) {
            put(g, (uint8_t)(0xc0 | reg << 3 | (e->reg & 7)));
        } else if (e->a16) {
            /* 16-bit forms: rm = [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI]
             * [BP] [BX]; the generator stores rm in `index`. */
            unsigned rm = (unsigned)e->index;
            unsigned mod = e->dispsz == 0 ? 0 : e->dispsz == 1 ? 1 : 2;
            if (e->base == -1)
                rm = 6, mod = 0;                 /* disp16 */
            put(g, (uint8_t)(mod << 6 | reg << 3 | rm));
            if (mod == 1)
                put(g, (uint8_t)e->disp);
            else if (mod == 2 || e->base == -1)
                put_n(g, (uint32_t)e->disp, 2);
        } else if (e->base == -2) {
            put(g, (uint8_t)(reg << 3 | 5));
            dt_group *gr = g->g;
            if (gr->nfix < 3) {
                gr->fix[gr->nfix++] = (dt_fix){
                    FIX_RIP_DISP32, gr->len,
                    (uint8_t)(gr->len + 4 + in->immsz), (int32_t)e->target};
            }
            put_n(g, 0, 4);
        } else {
            unsigned mod;
            int dsz = e->dispsz;
            if (e->base < 0) {
                mod = 0;
                dsz = 4;
            } else {
                if (dsz == 0 && (e->base & 7) == 5)
                    dsz = 1;                     /* [rbp] needs a disp8 */
                mod = dsz == 0 ? 0 : dsz == 1 ? 1 : 2;
            }
            bool sib = e->index >= 0 || (e->base >= 0 && (e->base & 7) == 4) ||
                       (e->base < 0 && (g->mode == 64 || e->sibabs));
            if (!sib) {
                unsigned rm = e->base < 0 ? 5 : (unsigned)e->base & 7;
                put(g, (uint8_t)(mod << 6 | reg << 3 | rm));
            } else {
                put(g, (uint8_t)(mod << 6 | reg << 3 | 4));
                unsigned idx = e->index >= 0 ? (unsigned)e->index & 7 : 4;
                unsigned bs = e->base >= 0 ? (unsigned)e->base & 7 : 5;
                put(g, (uint8_t)(e->scale << 6 | idx << 3 | bs));
            }
            if (dsz == 1)
                put(g, (uint8_t)e->disp);
            else if (dsz == 4)
                put_n(g, (uint32_t)e->disp, 4);
        }
    }
    if (in->immsz)
        put_n(g, in->imm, in->immsz);
    g->g->ninsn++;
    fx(g, in->rd, in->def, in->undef);
}

/* Operand-size prefixes for a non-byte size. */
static void osz(gctx *g, ins *in, unsigned size)
{
    (void)g;
    if (size == 2)
        in->pfx[in->npfx++] = 0x66;
    if (size == 8)
        in->w = true;
}

static ins mk(uint8_t map, uint8_t op)
{
    ins in;
    memset(&in, 0, sizeof(in));
    in.map = map;
    in.op = op;
    in.e.base = in.e.index = -1;
    return in;
}

static eop ereg(unsigned r)
{
    eop e;
    memset(&e, 0, sizeof(e));
    e.reg = (uint8_t)r;
    e.base = e.index = -1;
    return e;
}

/* ---- setup instructions (flags untouched) ------------------------------ */

/* MOV reg, value (full register in 64-bit mode; 32-bit otherwise). */
static void set_reg(gctx *g, unsigned r, uint64_t v)
{
    bool nr = g->norex, fr = g->forcerex;
    g->norex = false;
    g->forcerex = false;
    if (g->mode == 32 || v <= 0xffffffffull) {
        ins in = mk(0, 0xb8);
        in.has_opreg = true;
        in.opreg = (uint8_t)r;
        in.imm = (uint32_t)v;
        in.immsz = 4;
        emit(g, &in);
    } else if ((uint64_t)(int64_t)(int32_t)v == v) {
        ins in = mk(0, 0xc7);
        in.modrm = true;
        in.w = true;
        in.e = ereg(r);
        in.imm = (uint32_t)v;
        in.immsz = 4;
        emit(g, &in);
    } else {
        ins in = mk(0, 0xb8);
        in.w = true;
        in.has_opreg = true;
        in.opreg = (uint8_t)r;
        in.imm = v;
        in.immsz = 8;
        emit(g, &in);
    }
    g->norex = nr;
    g->forcerex = fr;
}

/* MOV r8, imm8 for the legacy byte registers (CL, AH...). */
static void set_reg8(gctx *g, unsigned r, uint8_t v)
{
    bool nr = g->norex, fr = g->forcerex;
    g->norex = true;
    g->forcerex = false;
    ins in = mk(0, 0xb0);
    in.has_opreg = true;
    in.opreg = (uint8_t)r;
    in.imm = v;
    in.immsz = 1;
    emit(g, &in);
    g->norex = nr;
    g->forcerex = fr;
}

static void emit_raw(gctx *g, const uint8_t *b, int n, uint16_t rd,
                     uint16_t def, uint16_t undef)
{
    for (int k = 0; k < n; k++)
        put(g, b[k]);
    g->g->ninsn++;
    fx(g, rd, def, undef);
}

#define RAW(g, rd, def, undef, ...)                                          \
    do {                                                                     \
        static const uint8_t b_[] = {__VA_ARGS__};                           \
        emit_raw(g, b_, (int)sizeof(b_), rd, def, undef);                    \
    } while (0)

/* ---- memory operands ---------------------------------------------------- */

enum { ACC_R = 1, ACC_W = 2, ACC_RW = 3, ACC_NONE = 0 };

/* An address for an access of `size` bytes: mostly inside the data area,
 * sometimes on the read-only page, across page boundaries, in the guard
 * pages or elsewhere (faults). */
static uint64_t pick_target(gctx *g, unsigned size)
{
    unsigned k = rn(&g->r, 1000);
    unsigned f = g->fault_pct * 10;
    uint64_t a;
    if (k >= f || f == 0) {
        a = DT_DATA + rn(&g->r, DT_DATA_SIZE - size + 1);
        if (rp(&g->r, 40))
            a &= ~(uint64_t)(size - 1);
        /* Mostly away from the stack, whose contents the program uses. */
        return a;
    }
    k = rn(&g->r, 100);
    if (k < 35)
        return DT_RO + rn(&g->r, DT_RO_SIZE - size + 1);
    if (k < 65) {
        /* Straddling a page boundary (maybe into a guard page). */
        uint64_t b = DT_DATA + 0x1000ull * rn(&g->r, DT_DATA_SIZE / 0x1000 + 2);
        return b - 1 - rn(&g->r, size > 1 ? size - 1 : 1) + (size == 1);
    }
    if (k < 85)
        return rp(&g->r, 50) ? DT_GUARD_LO + rn(&g->r, 0x1000 - size + 1)
                             : DT_GUARD_HI + rn(&g->r, 0x1000 - size + 1);
    if (k < 92)
        return rn(&g->r, 0x1000);
    /* Nothing is mapped between 1 and 2 GiB on either side. */
    return 0x40000000u + rn(&g->r, 0x40000000u);
}

/* The E operand for memory: chooses an addressing form and emits the
 * setup that makes it reach `target`. `avoid` names registers the setup
 * must not use (-1: none). */
static eop gen_mem_at(gctx *g, uint64_t target, int avoid1, int avoid2)
{
    eop e;
    memset(&e, 0, sizeof(e));
    e.mem = true;
    e.base = e.index = -1;
    if (rp(&g->r, 6)) {
        static const uint8_t segs[] = {0x2e, 0x36, 0x3e, 0x26};
        e.seg = segs[rn(&g->r, 4)];
    }
    unsigned av1 = avoid1 < 0 ? 99 : (unsigned)avoid1;
    unsigned av2 = avoid2 < 0 ? 99 : (unsigned)avoid2;
    unsigned k = rn(&g->r, 100);
    bool wrap = false;
    /* 16-bit addressing in 32-bit mode: only faults here (nothing is
     * mapped below 64 KiB), but the faulting address checks the EA. */
    if (g->mode == 32 && k < 2) {
        e.asz = e.a16 = true;
        e.dispsz = (uint8_t)(rn(&g->r, 3) == 0 ? 0 : rn(&g->r, 2) ? 1 : 2);
        e.disp = (int32_t)(e.dispsz == 1 ? (int8_t)rnext(&g->r)
                                         : (int16_t)rnext(&g->r));
        if (rp(&g->r, 10)) {
            e.base = -1;               /* disp16 */
            return e;
        }
        unsigned rm = rn(&g->r, 8);
        if (rm == 6 && e.dispsz == 0)
            e.dispsz = 1;
        e.index = (int8_t)rm;          /* the rm encoding */
        e.base = 0;
        static const int8_t regs16[8][2] = {{3, 6}, {3, 7}, {5, 6}, {5, 7},
                                            {6, -1}, {7, -1}, {5, -1},
                                            {3, -1}};
        for (int j = 0; j < 2; j++) {
            int r = regs16[rm][j];
            if (r >= 0 && (unsigned)r != av1 && (unsigned)r != av2)
                set_reg(g, (unsigned)r, rnext(&g->r) & 0xffffffffu);
        }
        return e;
    }
    if (g->mode == 64 && rp(&g->r, 10)) {
        e.asz = true;                  /* 32-bit addressing */
        wrap = true;
    }
    if (k < 14) {                       /* absolute disp32 */
        if (target > 0x7fffffffull && g->mode == 64 && !e.asz)
            k = 30;
        else {
            e.disp = (int32_t)(uint32_t)target;
            e.sibabs = rp(&g->r, 30);
            return e;
        }
    }
    if (k < 28 && g->mode == 64 && target < 0x7fff0000u) { /* RIP-relative */
        e.base = -2;
        e.target = (uint32_t)target;
        return e;
    }
    if (k < 38 && target >= DT_DATA && target < DT_RO + DT_RO_SIZE && !e.asz) {
        /* [rsp + disp] with the known RSP. */
        e.base = 4;
        int64_t d = (int64_t)target - (int64_t)g->rsp;
        e.disp = (int32_t)d;
        e.dispsz = d >= -128 && d < 128 ? (rp(&g->r, 80) ? 1 : 4) : 4;
        if (d == 0 && rp(&g->r, 50))
            e.dispsz = 0;
        return e;
    }
    /* Base and/or index registers. */
    bool use_index = rp(&g->r, 50);
    bool use_base = !use_index || rp(&g->r, 85);
    if (use_base) {
        e.base = (int8_t)sreg_pick(g, av1, av2);
        unsigned d = rn(&g->r, 3);
        e.dispsz = (uint8_t)(d == 0 ? 0 : d == 1 ? 1 : 4);
    } else {
        e.dispsz = 4;
    }
    if (e.dispsz == 1)
        e.disp = (int8_t)rnext(&g->r);
    else if (e.dispsz == 4)
        e.disp = rp(&g->r, 50) ? (int32_t)rn(&g->r, 0x20000) - 0x10000
                               : (int32_t)(uint32_t)rnext(&g->r);
    if (!use_base && target <= 0x7fffffffu && rp(&g->r, 50))
        e.disp = (int32_t)(target - rn(&g->r, 64));
    int64_t iv = 0;
    if (use_index) {
        for (;;) {
            unsigned r = sreg_pick(g, av1, av2);
            if ((int)r != e.base) {
                e.index = (int8_t)r;
                break;
            }
        }
        e.scale = (uint8_t)rn(&g->r, 4);
    }
    uint64_t mask = (g->mode == 32 || e.asz) ? 0xffffffffull : ~0ull;
    if (use_base && use_index) {
        iv = (int64_t)rn(&g->r, 128) - 64;
        uint64_t ivv = (uint64_t)iv;
        if (wrap && rp(&g->r, 50))
            ivv += rnext(&g->r) << 32; /* ignored by 32-bit addressing */
        set_reg(g, (unsigned)e.index, ivv & (g->mode == 32 ? 0xffffffffull : ~0ull));
        uint64_t bv = (target - (uint64_t)(int64_t)e.disp -
                       ((uint64_t)iv << e.scale)) & mask;
        if (wrap && rp(&g->r, 50))
            bv += rnext(&g->r) << 32;
        set_reg(g, (unsigned)e.base, bv);
    } else if (use_base) {
        uint64_t bv = (target - (uint64_t)(int64_t)e.disp) & mask;
        if (wrap && rp(&g->r, 50))
            bv += rnext(&g->r) << 32;
        set_reg(g, (unsigned)e.base, bv);
    } else {
        /* index * scale + disp32: the index must be a multiple. */
        uint64_t rest = (target - (uint64_t)(int64_t)e.disp) & mask;
        uint64_t low = rest & ((1u << e.scale) - 1);
        e.disp += (int32_t)low;
        rest -= low;
        uint64_t iv2 = (rest >> e.scale);
        if (mask != ~0ull)
            iv2 &= mask >> e.scale;
        else if ((int64_t)rest < 0)
            iv2 |= ~(~0ull >> e.scale);
        if (wrap && rp(&g->r, 50))
            iv2 += rnext(&g->r) << 32;
        set_reg(g, (unsigned)e.index, iv2);
    }
    return e;
}

/* A non-canonical address (64-bit mode): #GP(0), or #SS(0) through
 * RSP/RBP. */
static eop gen_mem_noncanon(gctx *g, int avoid1, int avoid2)
{
    eop e;
    memset(&e, 0, sizeof(e));
    e.mem = true;
    e.index = -1;
    e.base = (int8_t)sreg_pick(g, avoid1 < 0 ? 99 : (unsigned)avoid1,
                               avoid2 < 0 ? 99 : (unsigned)avoid2);
    uint64_t v = rp(&g->r, 50) ? 0x8000000000000000ull | (rnext(&g->r) >> 20)
                               : 0x0000800000000000ull + rn(&g->r, 0x10000) - 8;
    set_reg(g, (unsigned)e.base, v);
    e.dispsz = 1;
    e.disp = (int8_t)rn(&g->r, 16);
    /* No segment override here: whether a non-canonical address through
     * RBP with DS:, or through RBX with SS:, raises #GP or #SS differs
     * between the SDM ("Canonical Addressing") and AMD parts. */
    return e;
}

static eop gen_mem2(gctx *g, unsigned size, int avoid1, int avoid2)
{
    if (g->mode == 64 && g->fault_pct && rp(&g->r, 1))
        return gen_mem_noncanon(g, avoid1, avoid2);
    return gen_mem_at(g, pick_target(g, size), avoid1, avoid2);
}

static eop gen_mem(gctx *g, unsigned size)
{
    return gen_mem2(g, size, -1, -1);
}

/* An E operand: register (written if `write`) or memory whose address
 * setup leaves avoid1/avoid2 (-1: none) alone. */
static eop gen_e2(gctx *g, unsigned size, bool write, unsigned mem_pct,
                  int avoid1, int avoid2)
{
    if (rp(&g->r, mem_pct))
        return gen_mem2(g, size, avoid1, avoid2);
    return ereg(write ? wreg_sz(g, size) : rreg(g));
}

static eop gen_e(gctx *g, unsigned size, bool write, unsigned mem_pct)
{
    return gen_e2(g, size, write, mem_pct, -1, -1);
}

/* Whether an E operand uses register r (as operand or address). */
static bool e_uses(const eop *e, unsigned r)
{
    if (!e->mem)
        return e->reg == r;
    return (e->base >= 0 && (unsigned)e->base == r) ||
           (e->index >= 0 && (unsigned)e->index == r && !e->a16);
}

/* ---- flag helpers ------------------------------------------------------ */

/* Flags a condition code reads (SDM Vol 2, "Jcc", condition table). */
static uint16_t cc_reads(unsigned cc)
{
    static const uint16_t t[8] = {DF_OF, DF_CF, DF_ZF, DF_CF | DF_ZF, DF_SF,
                                  DF_PF, DF_SF | DF_OF,
                                  DF_ZF | DF_SF | DF_OF};
    return t[(cc >> 1) & 7];
}

/* ---- templates ------------------------------------------------------------ */

typedef struct tmpl tmpl;
typedef void (*gen_fn)(gctx *g, const tmpl *t);

struct tmpl {
    const char *name;
    gen_fn gen;
    int arg;
    uint8_t modes;             /* 1: 64-bit, 2: 32-bit */
    uint8_t weight;
    uint8_t feat;
    const char *off;           /* disabled by default: why */
    bool term;                 /* always ends the run: only as the last group */
};

#define M64 1
#define M32 2
#define MB 3

/* ALU ops: ADD OR ADC SBB AND SUB XOR CMP (SDM Vol 2). Logic ops leave AF
 * undefined; ADC/SBB read CF. */
static void alu_flags(ins *in, unsigned op)
{
    in->rd = (op == 2 || op == 3) ? DF_CF : 0;
    if (op == 1 || op == 4 || op == 6) {
        in->def = DF_ALL & ~DF_AF;
        in->undef = DF_AF;
    } else {
        in->def = DF_ALL;
    }
}

static void maybe_lock(gctx *g, ins *in, bool lockable)
{
    if (lockable && in->e.mem && rp(&g->r, 25))
        in->pfx[in->npfx++] = 0xf0;
}

static void g_alu(gctx *g, const tmpl *t)
{
    unsigned op = rn(&g->r, 8), form = (unsigned)t->arg;
    unsigned size = pick_size(g, true);
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    bool wr = op != 7;
    ins in;
    switch (form) {
    case 0: /* E, G */
    case 1: /* G, E */
        in = mk(0, (uint8_t)(op * 8 + form * 2 + (size > 1)));
        in.modrm = true;
        in.e = gen_e(g, size, wr && form == 0, 45);
        in.regf = (uint8_t)(form == 1 && wr ? wreg_sz(g, size) : rreg(g));
        osz(g, &in, size);
        maybe_lock(g, &in, form == 0 && wr);
        break;
    case 2: /* AL/eAX, imm */
        in = mk(0, (uint8_t)(op * 8 + 4 + (size > 1)));
        osz(g, &in, size);
        in.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        in.imm = rnext(&g->r);
        break;
    default: { /* 80 /op ib, 81 /op iz, 83 /op ib, 82 (32-bit) */
        unsigned k = rn(&g->r, 3);
        uint8_t opc = size == 1 ? 0x80 : k == 0 ? 0x83 : 0x81;
        if (size == 1 && g->mode == 32 && rp(&g->r, 20))
            opc = 0x82;
        in = mk(0, opc);
        in.modrm = true;
        in.regf = (uint8_t)op;
        in.e = gen_e(g, size, wr, 45);
        osz(g, &in, size);
        in.immsz = opc == 0x81 ? (size == 2 ? 2 : 4) : 1;
        in.imm = rp(&g->r, 20) ? (rp(&g->r, 50) ? 0 : ~0ull) : rnext(&g->r);
        maybe_lock(g, &in, wr);
        break;
    }
    }
    alu_flags(&in, op);
    emit(g, &in);
}

static void g_test(gctx *g, const tmpl *t)
{
    unsigned size = pick_size(g, true);
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    ins in;
    unsigned k = rn(&g->r, 3);
    if (t->arg == 1) {
        /* F6/F7 /1: the encoding the SDM leaves out of its tables. */
        k = 2;
    }
    if (k == 0) {
        in = mk(0, size == 1 ? 0x84 : 0x85);
        in.modrm = true;
        in.e = gen_e(g, size, false, 40);
        in.regf = (uint8_t)rreg(g);
    } else if (k == 1) {
        in = mk(0, size == 1 ? 0xa8 : 0xa9);
        in.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        in.imm = rnext(&g->r);
    } else {
        in = mk(0, size == 1 ? 0xf6 : 0xf7);
        in.modrm = true;
        in.regf = (uint8_t)t->arg;
        in.e = gen_e(g, size, false, 40);
        in.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        in.imm = rnext(&g->r);
    }
    osz(g, &in, size);
    in.def = DF_ALL & ~DF_AF;
    in.undef = DF_AF;
    emit(g, &in);
}

/* Shift and rotate counts worth trying. */
static unsigned pick_count(gctx *g, unsigned size)
{
    static const uint8_t edge[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33,
                                   63, 64, 65, 255, 127, 128, 0x20, 0x40};
    if (rp(&g->r, 50))
        return edge[rn(&g->r, sizeof(edge))];
    if (rp(&g->r, 60))
        return rn(&g->r, size * 8 + 2);
    return rn(&g->r, 256);
}

/* Flag effects of group 2 (SDM Vol 2, "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/
 * SHR"): op 0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7 SAR. */
static void shift_fx(ins *in, unsigned op, unsigned size, bool known,
                     unsigned count)
{
    unsigned masked = count & (size == 8 ? 63 : 31);
    if (known && masked == 0)
        return;                 /* flags unaffected */
    if (op == 2 || op == 3)
        in->rd = DF_CF;
    if (!known) {
        /* Unknown count: nothing becomes defined for sure (a zero count
         * leaves every flag alone); OF and AF may become undefined, and
         * so may CF after SHL/SHR of a byte or word. */
        in->def = 0;
        in->undef = DF_OF;
        if (op >= 4) {
            in->undef |= DF_AF;
            if (size <= 2 && op != 7)
                in->undef |= DF_CF;
        }
        return;
    }
    if (op < 4) {
        in->def = DF_CF | (masked == 1 ? DF_OF : 0);
        in->undef = masked == 1 ? 0 : DF_OF;
        return;
    }
    in->def = DF_CF | DF_SF | DF_ZF | DF_PF | (masked == 1 ? DF_OF : 0);
    in->undef = DF_AF | (masked == 1 ? 0 : DF_OF);
    if (op != 7 && masked >= size * 8) {
        in->def &= (uint16_t)~DF_CF;
        in->undef |= DF_CF;
    }
}

static void g_shift(gctx *g, const tmpl *t)
{
    unsigned op = rn(&g->r, 8);
    if (op == 6)
        op = 4;                  /* /6 separately (g_sal6) */
    if (t->arg == 3)
        op = 6;
    unsigned size = pick_size(g, true);
    unsigned form = t->arg == 3 ? rn(&g->r, 3) : (unsigned)t->arg;
    bool known = true;
    unsigned count = 1;
    if (form == 1) {
        if (rp(&g->r, 85)) {
            count = pick_count(g, size);
            set_reg8(g, 1, (uint8_t)count);
        } else {
            known = false;
        }
    } else if (form == 2) {
        count = pick_count(g, size);
    }
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    uint8_t opc = form == 0 ? 0xd0 : form == 1 ? 0xd2 : 0xc0;
    ins in = mk(0, (uint8_t)(opc + (size > 1)));
    in.modrm = true;
    in.regf = (uint8_t)op;
    in.e = gen_e2(g, size, true, 35, form == 1 ? 1 : -1, -1);
    if (form == 2) {
        in.imm = count;
        in.immsz = 1;
    }
    osz(g, &in, size);
    shift_fx(&in, op, size, known, count);
    emit(g, &in);
}

/* ADD, OR, AND, SUB or XOR (at random) on register dst, of `size` (4 or
 * 8) bytes, with a register (rsrc) or an immediate source. */
static ins alu_on_reg(gctx *g, unsigned dst, unsigned size, bool rsrc)
{
    static const uint8_t alus[5] = {0, 1, 4, 5, 6}; /* ADD OR AND SUB XOR */
    unsigned op = alus[rn(&g->r, 5)];
    ins in;
    if (rsrc) {
        in = mk(0, (uint8_t)(op * 8 + 1));             /* E, G */
        in.regf = (uint8_t)rreg(g);
    } else {
        bool ib = rp(&g->r, 50);
        in = mk(0, ib ? 0x83 : 0x81);
        in.regf = (uint8_t)op;
        in.immsz = ib ? 1 : 4;
        in.imm = rnext(&g->r);
    }
    in.modrm = true;
    in.e = ereg(dst);
    osz(g, &in, size);
    alu_flags(&in, op);
    return in;
}

/* MOV r, r and an operation on the copy, of the same size: a shift by an
 * immediate or ALU with a register or an immediate. Vanderpool runs such
 * a pair as one handler (ops_fast.c, "register copy followed by an
 * operation"), which is what this tests. */
static void g_movop(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned size = g->mode == 64 && rp(&g->r, 50) ? 8 : 4;
    wide_regs(g);
    unsigned dst = wreg_sz(g, size);
    ins mv = mk(0, rp(&g->r, 50) ? 0x89 : 0x8b);
    mv.modrm = true;
    mv.e = ereg(dst);
    mv.regf = (uint8_t)rreg(g);
    if (mv.op == 0x8b) {        /* 8B: reg is the destination */
        mv.e = ereg(mv.regf);
        mv.regf = (uint8_t)dst;
    }
    osz(g, &mv, size);
    emit(g, &mv);
    ins in;
    unsigned k = rn(&g->r, 3);
    if (k == 0) {
        static const uint8_t shifts[3] = {4, 5, 7};   /* SHL SHR SAR */
        unsigned op = shifts[rn(&g->r, 3)];
        unsigned count = pick_count(g, size);
        in = mk(0, 0xc1);
        in.modrm = true;
        in.regf = (uint8_t)op;
        in.e = ereg(dst);
        in.imm = count;
        in.immsz = 1;
        osz(g, &in, size);
        shift_fx(&in, op, size, true, count);
    } else {
        in = alu_on_reg(g, dst, size, k == 1);
    }
    emit(g, &in);
}

/* SHLD/SHRD (SDM Vol 2, "SHLD", "SHRD"). A count above a 16-bit operand
 * size leaves the result undefined: never generated. */
static void g_shxd(gctx *g, const tmpl *t)
{
    unsigned size = 2u << rn(&g->r, g->mode == 64 ? 3 : 2);
    bool cl = rn(&g->r, 2), known = true;
    unsigned count = pick_count(g, size);
    unsigned masked = count & (size == 8 ? 63 : 31);
    if (size == 2 && masked > 16)
        count = masked = rn(&g->r, 17);
    if (cl) {
        if (size == 2 || rp(&g->r, 85))
            set_reg8(g, 1, (uint8_t)count);
        else
            known = false;
    }
    wide_regs(g);
    ins in = mk(1, (uint8_t)((t->arg ? 0xac : 0xa4) + cl));
    in.modrm = true;
    in.e = gen_e2(g, size, true, 35, cl ? 1 : -1, -1);
    in.regf = (uint8_t)rreg(g);
    if (!cl) {
        in.imm = count;
        in.immsz = 1;
    }
    osz(g, &in, size);
    if (!known) {
        in.undef = DF_OF | DF_AF;
    } else if (masked) {
        in.def = DF_CF | DF_SF | DF_ZF | DF_PF | (masked == 1 ? DF_OF : 0);
        in.undef = DF_AF | (masked == 1 ? 0 : DF_OF);
    }
    emit(g, &in);
}

/* MUL IMUL (one operand), IMUL r, r/m and IMUL r, r/m, imm: CF and OF
 * defined; SF ZF AF PF undefined (SDM Vol 2, "MUL", "IMUL"). */
static void g_mul(gctx *g, const tmpl *t)
{
    unsigned size;
    ins in;
    if (t->arg == 0) {
        size = pick_size(g, true);
        if (size == 1)
            byte_regs(g);
        else
            wide_regs(g);
        in = mk(0, size == 1 ? 0xf6 : 0xf7);
        in.modrm = true;
        in.regf = (uint8_t)(4 + rn(&g->r, 2));
        in.e = gen_e(g, size, false, 40);
    } else {
        size = pick_size(g, false);
        wide_regs(g);
        if (t->arg == 1) {
            in = mk(1, 0xaf);
        } else {
            bool ib = rp(&g->r, 50);
            in = mk(0, ib ? 0x6b : 0x69);
            in.immsz = ib ? 1 : size == 2 ? 2 : 4;
            in.imm = rnext(&g->r);
        }
        in.modrm = true;
        in.e = gen_e(g, size, false, 40);
        in.regf = (uint8_t)wreg(g);
    }
    osz(g, &in, size);
    in.def = DF_CF | DF_OF;
    in.undef = DF_SF | DF_ZF | DF_AF | DF_PF;
    emit(g, &in);
}

/* DIV/IDIV: every flag undefined; #DE on a zero divisor or a quotient too
 * large (SDM Vol 2, "DIV", "IDIV"). Usually the dividend's high half is
 * set up so the quotient fits. */
static void g_div(gctx *g, const tmpl *t)
{
    bool sgn = t->arg;
    unsigned size = pick_size(g, true);
    if (rp(&g->r, 90)) {
        if (sgn) {
            /* CBW / CWD / CDQ / CQO */
            if (size == 1)
                RAW(g, 0, 0, 0, 0x66, 0x98);
            else if (size == 2)
                RAW(g, 0, 0, 0, 0x66, 0x99);
            else if (size == 4)
                RAW(g, 0, 0, 0, 0x99);
            else
                RAW(g, 0, 0, 0, 0x48, 0x99);
        } else if (size == 1) {
            set_reg8(g, 4, 0);                      /* mov ah, 0 */
        } else {
            set_reg(g, 2, rp(&g->r, 70) ? 0 : rn(&g->r, 4));
        }
    }
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    ins in = mk(0, size == 1 ? 0xf6 : 0xf7);
    in.modrm = true;
    in.regf = (uint8_t)(6 + sgn);
    /* Mostly a register divisor other than the dividend's (the data area
     * holds many zero bytes). */
    in.e = gen_e2(g, size, false, 20, 0, 2);
    while (!in.e.mem && rp(&g->r, 90) &&
           (size == 1 ? in.e.reg == 0 || (in.e.reg == 4 && g->norex)
                      : in.e.reg == 0 || in.e.reg == 2))
        in.e.reg = (uint8_t)rreg(g);
    if (!in.e.mem && rp(&g->r, 70)) {
        /* or divisor, 1: never zero */
        ins o1 = mk(0, size == 1 ? 0x80 : 0x83);
        o1.modrm = true;
        o1.regf = 1;
        o1.e = in.e;
        o1.imm = 1;
        o1.immsz = 1;
        osz(g, &o1, size);
        o1.def = DF_ALL & ~DF_AF;
        o1.undef = DF_AF;
        emit(g, &o1);
    }
    osz(g, &in, size);
    in.undef = DF_ALL;
    emit(g, &in);
}

/* INC DEC (CF unaffected), NEG (all), NOT (none); LOCK on memory. */
static void g_unary(gctx *g, const tmpl *t)
{
    unsigned size = pick_size(g, true);
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    ins in;
    if (t->arg == 2 && size > 1 && g->mode == 32 && rp(&g->r, 50)) {
        /* 40+r / 48+r */
        in = mk(0, rn(&g->r, 2) ? 0x48 : 0x40);
        in.has_opreg = true;
        in.opreg = (uint8_t)wreg(g);
        osz(g, &in, size);
        in.def = DF_ALL & ~DF_CF;
        emit(g, &in);
        return;
    }
    unsigned sub;
    if (t->arg == 2) {
        sub = rn(&g->r, 2);      /* INC, DEC */
        in = mk(0, size == 1 ? 0xfe : 0xff);
        in.regf = (uint8_t)sub;
        in.def = DF_ALL & ~DF_CF;
    } else {
        sub = t->arg ? 3 : 2;    /* NEG, NOT */
        in = mk(0, size == 1 ? 0xf6 : 0xf7);
        in.regf = (uint8_t)sub;
        in.def = sub == 3 ? DF_ALL : 0;
    }
    in.modrm = true;
    in.e = gen_e(g, size, true, 40);
    osz(g, &in, size);
    maybe_lock(g, &in, true);
    emit(g, &in);
}

/* BT BTS BTR BTC: CF is the bit; ZF unaffected; OF SF AF PF undefined
 * (SDM Vol 2, "BT"). A register bit offset addresses memory beyond the
 * operand (signed, in operand-size units). */
static void g_bt(gctx *g, const tmpl *t)
{
    unsigned size = 2u << rn(&g->r, g->mode == 64 ? 3 : 2);
    unsigned op = rn(&g->r, 4);
    wide_regs(g);
    ins in;
    if (t->arg == 0) {
        in = mk(1, (uint8_t)(0xa3 + 8 * op));
        in.modrm = true;
        bool mem = rp(&g->r, 45);
        if (mem) {
            uint64_t tgt = pick_target(g, size);
            if (tgt >= DT_DATA + 0x80 && tgt < DT_DATA + DT_DATA_SIZE - 0x80 &&
                rp(&g->r, 90)) {
                unsigned r = sreg_pick(g, 99, 99);
                int64_t off = (int64_t)rn(&g->r, 1024) - 512;
                set_reg(g, r, g->mode == 32 ? (uint32_t)off : (uint64_t)off);
                in.e = gen_mem_at(g, tgt, (int)r, -1);
                in.regf = (uint8_t)r;
            } else {
                /* Any bit offset: the address may be non-canonical, so no
                 * segment override (see gen_mem_noncanon). */
                in.e = gen_mem_at(g, tgt, -1, -1);
                in.e.seg = 0;
                in.regf = (uint8_t)rreg(g);
            }
        } else {
            in.e = ereg(op ? wreg(g) : rreg(g));
            in.regf = (uint8_t)rreg(g);
        }
    } else {
        in = mk(1, 0xba);
        in.modrm = true;
        in.regf = (uint8_t)(4 + op);
        in.e = gen_e(g, size, op != 0, 40);
        in.imm = rp(&g->r, 50) ? rn(&g->r, size * 8) : rn(&g->r, 256);
        in.immsz = 1;
    }
    osz(g, &in, size);
    if (op)
        maybe_lock(g, &in, true);
    in.def = DF_CF;
    in.undef = DF_OF | DF_SF | DF_AF | DF_PF;
    emit(g, &in);
}

/* BSF/BSR: ZF defined, the rest undefined; with a zero source the
 * destination is undefined, so a CMOVZ from another register follows
 * (SDM Vol 2, "BSF", "BSR"). TZCNT/LZCNT/POPCNT are fully defined. */
static void g_bsf(gctx *g, const tmpl *t)
{
    unsigned size = 2u << rn(&g->r, g->mode == 64 ? 3 : 2);
    wide_regs(g);
    unsigned bsr = rn(&g->r, 2);
    ins in = mk(1, (uint8_t)(0xbc + bsr));
    if (t->arg == 2)
        in.op = 0xb8;           /* POPCNT */
    in.modrm = true;
    in.e = gen_e(g, size, false, 40);
    if (!in.e.mem && rp(&g->r, 15))
        set_reg(g, in.e.reg, 0);
    unsigned d = wreg(g);
    in.regf = (uint8_t)d;
    if (t->arg)
        in.pfx[in.npfx++] = 0xf3;
    osz(g, &in, size);
    if (t->arg == 0) {
        in.def = DF_ZF;
        in.undef = DF_CF | DF_OF | DF_SF | DF_AF | DF_PF;
    } else if (t->arg == 1) {
        in.def = DF_CF | DF_ZF;
        in.undef = DF_OF | DF_SF | DF_AF | DF_PF;
    } else {
        in.def = DF_ALL;
    }
    emit(g, &in);
    if (t->arg == 0) {
        ins cm = mk(1, 0x44);
        cm.modrm = true;
        cm.regf = (uint8_t)d;
        cm.e = ereg(rreg(g));
        osz(g, &cm, size);
        cm.rd = DF_ZF;
        emit(g, &cm);
    }
}

static void g_setcc(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned cc = rn(&g->r, 16);
    byte_regs(g);
    ins in = mk(1, (uint8_t)(0x90 + cc));
    in.modrm = true;
    in.regf = (uint8_t)rn(&g->r, 8);     /* ignored */
    in.e = gen_e(g, 1, true, 30);
    in.rd = cc_reads(cc);
    emit(g, &in);
}

static void g_cmov(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned cc = rn(&g->r, 16);
    unsigned size = pick_size(g, false);
    wide_regs(g);
    ins in = mk(1, (uint8_t)(0x40 + cc));
    in.modrm = true;
    in.e = gen_e(g, size, false, 35);
    in.regf = (uint8_t)wreg(g);
    osz(g, &in, size);
    in.rd = cc_reads(cc);
    emit(g, &in);
}

/* Jcc / LOOP / JrCXZ forward over a MOV r32, imm32. */
static void g_jcc(gctx *g, const tmpl *t)
{
    unsigned r = wreg(g);
    bool rex = r >= 8;
    uint8_t skip = (uint8_t)(5 + rex);
    if (t->arg == 0 && rp(&g->r, 10)) {
        /* JMP rel8 / rel32 */
        if (rp(&g->r, 50)) {
            uint8_t b[2] = {0xeb, skip};
            emit_raw(g, b, 2, 0, 0, 0);
        } else {
            uint8_t b[5] = {0xe9, skip, 0, 0, 0};
            emit_raw(g, b, 5, 0, 0, 0);
        }
    } else if (t->arg == 0) {
        unsigned cc = rn(&g->r, 16);
        if (rp(&g->r, 50)) {
            uint8_t b[2] = {(uint8_t)(0x70 + cc), skip};
            emit_raw(g, b, 2, cc_reads(cc), 0, 0);
        } else {
            uint8_t b[6] = {0x0f, (uint8_t)(0x80 + cc), skip, 0, 0, 0};
            emit_raw(g, b, 6, cc_reads(cc), 0, 0);
        }
    } else {
        /* E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JrCXZ; 67: ECX (CX). */
        unsigned k = rn(&g->r, 4);
        if (rp(&g->r, 60))
            set_reg(g, 1, rn(&g->r, 3));
        uint8_t b[3];
        int n = 0;
        if (rp(&g->r, 25))
            b[n++] = 0x67;
        b[n++] = (uint8_t)(0xe0 + k);
        b[n++] = skip;
        emit_raw(g, b, n, k < 2 ? DF_ZF : 0, 0, 0);
    }
    uint8_t m[6];
    int n = 0;
    if (rex)
        m[n++] = 0x41;
    m[n++] = (uint8_t)(0xb8 + (r & 7));
    uint32_t v = (uint32_t)rnext(&g->r);
    memcpy(m + n, &v, 4);
    emit_raw(g, m, n + 4, 0, 0, 0);
}

/* Jcc forward over one register ALU instruction (ADD OR AND SUB XOR with
 * a register or an immediate, 32- or 64-bit): the shape Vanderpool runs
 * predicated (ops_fast.c, "predicated skips"), taken or not as the flags
 * the earlier groups left say. rel8 or rel32, patched once the skipped
 * instruction's length is known. */
static void g_jcc_alu(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned cc = rn(&g->r, 16);
    bool rel32 = rp(&g->r, 30);
    uint8_t b[6] = {0x0f, (uint8_t)(0x80 + cc), 0, 0, 0, 0};
    if (!rel32)
        b[0] = (uint8_t)(0x70 + cc);
    unsigned at = g->g->len + (rel32 ? 2 : 1);
    emit_raw(g, b, rel32 ? 6 : 2, cc_reads(cc), 0, 0);
    unsigned start = g->g->len;
    unsigned size = g->mode == 64 && rp(&g->r, 50) ? 8 : 4;
    unsigned dst = wreg_sz(g, size);
    bool rsrc = rp(&g->r, 50);
    ins in = alu_on_reg(g, dst, size, rsrc);
    /* It may not run: the flags it sets are not known to be defined
     * after it, and those left undefined before stay so. */
    in.def = 0;
    emit(g, &in);
    if (!g->bad)
        g->g->bytes[at] = (uint8_t)(g->g->len - start);
}

/* Indirect JMP/CALL through a register or memory (SDM Vol 2, "JMP",
 * "CALL"): call +0; pop r gives the code address, LEA moves it to the
 * target, which skips a MOV (JMP) or is a RET (CALL). arg: 0 JMP r,
 * 1 JMP m, 2 CALL r, 3 CALL m. */
static void g_jmpind(gctx *g, const tmpl *t)
{
    unsigned word = g->mode == 64 ? 8 : 4;
    bool mem = t->arg & 1, call = t->arg >= 2;
    if (!sp_ok(g, -(int64_t)word) || !sp_ok(g, 0))
        return;
    wide_regs(g);
    g->forcerex = false;
    unsigned r = wreg(g);
    eop m;
    memset(&m, 0, sizeof(m));
    if (mem) {
        uint64_t a = DT_DATA + rn(&g->r, DT_DATA_SIZE - 8);
        if (a + 8 > DT_STACK - DT_STACK_SPAN - 64 && a < DT_STACK + DT_STACK_SPAN)
            a = DT_DATA + rn(&g->r, 0x1000);
        m = gen_mem_at(g, a, (int)r, -1);
        m.seg = 0;
    }
    RAW(g, 0, 0, 0, 0xe8, 0, 0, 0, 0);              /* call +0 */
    unsigned base = g->g->len;                      /* r holds this address */
    ins pop = mk(0, 0x58);
    pop.has_opreg = true;
    pop.opreg = (uint8_t)r;
    emit(g, &pop);
    ins lea = mk(0, 0x8d);                          /* lea r32, [r + k] */
    lea.modrm = true;
    lea.regf = (uint8_t)r;
    lea.e.mem = true;
    lea.e.base = (int8_t)r;
    lea.e.index = -1;
    lea.e.dispsz = 1;
    emit(g, &lea);
    unsigned kpos = g->g->len - 1;                  /* its disp8 */
    if ((r & 7) == 4)
        g->bad = true;                              /* (never: r is not RSP) */
    if (mem) {
        ins st = mk(0, 0x89);
        st.modrm = true;
        st.regf = (uint8_t)r;
        st.e = m;
        st.w = word == 8;
        emit(g, &st);
    }
    ins j = mk(0, 0xff);
    j.modrm = true;
    j.regf = call ? 2 : 4;
    j.e = mem ? m : ereg(r);
    emit(g, &j);
    unsigned target;
    if (call) {
        RAW(g, 0, 0, 0, 0xeb, 0x01);                /* jmp over the RET */
        target = g->g->len;
        RAW(g, 0, 0, 0, 0xc3);
    } else {
        RAW(g, 0, 0, 0, 0xb8, 0x11, 0x22, 0x33, 0x44); /* skipped */
        target = g->g->len;
    }
    if (target - base > 127)
        g->bad = true;
    else
        g->g->bytes[kpos] = (uint8_t)(target - base);
}

/* PUSHA/POPA (32-bit mode; 66: PUSHAW/POPAW). */
static void g_pusha(gctx *g, const tmpl *t)
{
    bool o16 = rp(&g->r, 25);
    unsigned n = o16 ? 16 : 32;
    bool push = t->arg == 0;
    if (!sp_ok(g, push ? -(int64_t)n : (int64_t)n))
        push = !push;
    if (!sp_ok(g, push ? -(int64_t)n : (int64_t)n))
        return;
    uint8_t b[2];
    int k = 0;
    if (o16)
        b[k++] = 0x66;
    b[k++] = push ? 0x60 : 0x61;
    emit_raw(g, b, k, 0, 0, 0);
    g->rsp = push ? g->rsp - n : g->rsp + n;
}

/* MOVZX/MOVSX (0F B6/B7/BE/BF), MOVSXD (64-bit, REX.W 63). */
static void g_movx(gctx *g, const tmpl *t)
{
    if (t->arg == 2) {
        wide_regs(g);
        ins in = mk(0, 0x63);
        in.modrm = true;
        in.w = true;
        in.e = gen_e(g, 4, false, 40);
        in.regf = (uint8_t)wreg(g);
        emit(g, &in);
        return;
    }
    if (t->arg == 3) {
        /* MOVSXD without REX.W (32- and 16-bit forms). */
        wide_regs(g);
        unsigned size = rp(&g->r, 50) ? 2 : 4;
        ins in = mk(0, 0x63);
        in.modrm = true;
        in.e = gen_e(g, size, false, 40);
        in.regf = (uint8_t)wreg(g);
        osz(g, &in, size);
        emit(g, &in);
        return;
    }
    bool word = rn(&g->r, 2);
    unsigned dsize = word ? (4u << rn(&g->r, g->mode == 64 ? 2 : 1))
                          : 2u << rn(&g->r, g->mode == 64 ? 3 : 2);
    if (word && rp(&g->r, 10))
        dsize = 2;
    if (word)
        wide_regs(g);
    else
        byte_regs(g);
    ins in = mk(1, (uint8_t)((t->arg ? 0xbe : 0xb6) + word));
    in.modrm = true;
    in.e = gen_e(g, word ? 2 : 1, false, 40);
    /* The destination is a full register even in a byte form. */
    in.regf = (uint8_t)wreg(g);
    osz(g, &in, dsize);
    emit(g, &in);
}

/* MOV in all its forms (88/89/8A/8B, C6/C7, B0-BF, A0-A3). */
static void g_mov(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned size = pick_size(g, true);
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    unsigned k = rn(&g->r, 5);
    ins in;
    if (k <= 1) {
        in = mk(0, (uint8_t)(0x88 + 2 * k + (size > 1)));
        in.modrm = true;
        in.e = gen_e(g, size, k == 0, 50);
        in.regf = (uint8_t)(k == 1 ? wreg_sz(g, size) : rreg(g));
    } else if (k == 2) {
        in = mk(0, size == 1 ? 0xc6 : 0xc7);
        in.modrm = true;
        in.e = gen_e(g, size, true, 60);
        in.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        in.imm = rnext(&g->r);
    } else if (k == 3) {
        in = mk(0, size == 1 ? 0xb0 : 0xb8);
        in.has_opreg = true;
        in.opreg = (uint8_t)wreg_sz(g, size);
        in.immsz = (int)size;
        in.imm = rnext(&g->r);
    } else {
        /* moffs: the address-size immediate; 67 selects the other size
         * (SDM Vol 2, "MOV", A0-A3). */
        bool store = rn(&g->r, 2);
        in = mk(0, (uint8_t)(0xa0 + 2 * store + (size > 1)));
        uint64_t a = pick_target(g, size);
        bool seg = rp(&g->r, 6);
        if (g->mode == 64 && rp(&g->r, 15)) {
            in.pfx[in.npfx++] = 0x67;
            in.immsz = 4;
        } else if (g->mode == 32 && rp(&g->r, 3)) {
            in.pfx[in.npfx++] = 0x67;
            in.immsz = 2;
            a &= 0xffff;
        } else {
            in.immsz = g->mode == 64 ? 8 : 4;
            if (g->mode == 64 && g->fault_pct && rp(&g->r, 2)) {
                a = 0x8000000000000000ull | rnext(&g->r);
                seg = false;     /* see gen_mem_noncanon */
            }
        }
        if (seg)
            in.pfx[in.npfx++] = (uint8_t)(0x26 + 8 * rn(&g->r, 4));
        in.imm = a;
    }
    osz(g, &in, size);
    emit(g, &in);
}

/* LEA with every addressing form, garbage in the registers (no memory is
 * read, so any address is fine). */
static void g_lea(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned size = pick_size(g, false);
    wide_regs(g);
    ins in = mk(0, 0x8d);
    in.modrm = true;
    eop e;
    memset(&e, 0, sizeof(e));
    e.mem = true;
    e.base = e.index = -1;
    if (g->mode == 32 && rp(&g->r, 20)) {
        e.asz = e.a16 = true;
        e.base = rp(&g->r, 10) ? -1 : 0;
        e.index = (int8_t)rn(&g->r, 8);
        e.dispsz = (uint8_t)(rn(&g->r, 3) == 0 ? 0 : rn(&g->r, 2) ? 1 : 2);
        if (e.index == 6 && e.dispsz == 0)
            e.dispsz = 1;
        e.disp = (int32_t)(e.dispsz == 1 ? (int8_t)rnext(&g->r)
                                         : (int16_t)rnext(&g->r));
    } else {
        if (g->mode == 64 && rp(&g->r, 20))
            e.asz = true;       /* 32-bit addressing (16-bit in 32-bit mode) */
        unsigned k = rn(&g->r, 10);
        if (k == 0) {
            e.disp = (int32_t)rnext(&g->r);
            e.sibabs = rp(&g->r, 50);
        } else if (k == 1 && g->mode == 64) {
            e.base = -2;
            e.target = (uint32_t)rnext(&g->r) & 0x7fffffff;
        } else {
            if (rp(&g->r, 85))
                e.base = (int8_t)rreg(g);
            if (e.base < 0 || rp(&g->r, 50)) {
                unsigned r;
                do
                    r = rreg(g);
                while (r == 4);
                e.index = (int8_t)r;
                e.scale = (uint8_t)rn(&g->r, 4);
            }
            unsigned d = rn(&g->r, 3);
            e.dispsz = (uint8_t)(d == 0 ? 0 : d == 1 ? 1 : 4);
            e.disp = e.dispsz == 1 ? (int8_t)rnext(&g->r) : (int32_t)rnext(&g->r);
            if (e.dispsz == 0)
                e.disp = 0;
        }
    }
    if (rn(&g->r, 1000) < 3)
        e = ereg(rreg(g));           /* LEA with a register: #UD */
    in.e = e;
    in.regf = (uint8_t)wreg(g);
    osz(g, &in, size);
    emit(g, &in);
}

/* XCHG (86/87, 90+r), XADD, CMPXCHG (0F B0/B1). */
static void g_xchg(gctx *g, const tmpl *t)
{
    unsigned size = pick_size(g, t->arg != 3);
    if (size == 1)
        byte_regs(g);
    else
        wide_regs(g);
    ins in;
    switch (t->arg) {
    case 0: /* XCHG E, G */
        in = mk(0, size == 1 ? 0x86 : 0x87);
        in.modrm = true;
        in.e = gen_e(g, size, true, 45);
        in.regf = (uint8_t)wreg_sz(g, size);
        osz(g, &in, size);
        if (in.e.mem && rp(&g->r, 20))
            in.pfx[in.npfx++] = 0xf0;
        break;
    case 1: /* XADD */
        in = mk(1, size == 1 ? 0xc0 : 0xc1);
        in.modrm = true;
        in.e = gen_e(g, size, true, 45);
        in.regf = (uint8_t)wreg_sz(g, size);
        osz(g, &in, size);
        maybe_lock(g, &in, true);
        in.def = DF_ALL;
        break;
    case 2: { /* CMPXCHG; half the time rAX holds the current value */
        in = mk(1, size == 1 ? 0xb0 : 0xb1);
        in.modrm = true;
        in.e = gen_e(g, size, true, 50);
        in.regf = (uint8_t)rreg(g);
        osz(g, &in, size);
        maybe_lock(g, &in, true);
        in.def = DF_ALL;
        if (rp(&g->r, 50) && !e_uses(&in.e, 0)) {
            ins ld = mk(0, size == 1 ? 0x8a : 0x8b);
            ld.modrm = true;
            ld.e = in.e;
            ld.regf = 0;
            osz(g, &ld, size);
            emit(g, &ld);
        }
        break;
    }
    default: /* 90+r */
        in = mk(0, 0x90);
        in.has_opreg = true;
        in.opreg = (uint8_t)wreg(g);
        osz(g, &in, size);
        break;
    }
    emit(g, &in);
}

/* CMPXCHG8B / CMPXCHG16B (0F C7 /1): ZF defined, the rest unaffected;
 * CMPXCHG16B needs a 16-byte aligned operand (#GP(0)). */
static void g_cx8(gctx *g, const tmpl *t)
{
    bool x16 = t->arg;
    wide_regs(g);
    unsigned size = x16 ? 16 : 8;
    uint64_t a = pick_target(g, size);
    if (rp(&g->r, 90))
        a &= ~(uint64_t)(size - 1);
    ins in = mk(1, 0xc7);
    in.modrm = true;
    in.regf = 1;
    in.w = x16;
    in.e = gen_mem_at(g, a, 0, 2);
    if (rp(&g->r, 50) && !e_uses(&in.e, 0) && !e_uses(&in.e, 2)) {
        /* Load rDX:rAX with the current value (equal case). */
        unsigned half = x16 ? 8 : 4;
        for (unsigned k = 0; k < 2; k++) {
            ins ld = mk(0, 0x8b);
            ld.modrm = true;
            ld.e = in.e;
            ld.e.disp += (int32_t)(k * half);
            if (ld.e.dispsz == 0 || ld.e.dispsz == 1)
                ld.e.dispsz = 4;
            if (ld.e.base == -2)
                ld.e.target += k * half;
            ld.regf = (uint8_t)(k ? 2 : 0);
            ld.w = x16;
            emit(g, &ld);
        }
    }
    if (rp(&g->r, 30))
        in.pfx[in.npfx++] = 0xf0;
    in.def = DF_ZF;
    emit(g, &in);
}

static void g_cbw(gctx *g, const tmpl *t)
{
    unsigned size = pick_size(g, false);
    wide_regs(g);
    ins in = mk(0, (uint8_t)(0x98 + t->arg));
    osz(g, &in, size);
    emit(g, &in);
}

static void g_bswap(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned size = g->mode == 64 && rp(&g->r, 50) ? 8 : 4;
    wide_regs(g);
    ins in = mk(1, 0xc8);
    in.has_opreg = true;
    in.opreg = (uint8_t)wreg(g);
    osz(g, &in, size);
    emit(g, &in);
}

/* String instructions over the data area (SDM Vol 2, "MOVS", "CMPS",
 * "STOS", "LODS", "SCAS", "REP/REPE/REPNE"). arg: 0 MOVS 1 CMPS 2 STOS
 * 3 LODS 4 SCAS. */
static void g_string(gctx *g, const tmpl *t)
{
    static const uint8_t opc[5] = {0xa4, 0xa6, 0xaa, 0xac, 0xae};
    unsigned k = (unsigned)t->arg;
    unsigned size = pick_size(g, true);
    bool asz = rp(&g->r, g->mode == 64 ? 12 : 3);
    bool a16 = asz && g->mode == 32;
    bool rep = rp(&g->r, 75);
    uint64_t cnt = rn(&g->r, 40);
    if (rp(&g->r, 2))
        cnt = rnext(&g->r) >> rn(&g->r, 64);
    if (rp(&g->r, 5))
        cnt = 0;
    bool uses_si = k == 0 || k == 1 || k == 3;
    bool uses_di = k != 3;
    uint64_t si = pick_target(g, size), di = pick_target(g, size);
    if (k == 0 && rp(&g->r, 30))
        di = si + rn(&g->r, 33) - 16;     /* overlapping */
    if (k == 1 && rp(&g->r, 30))
        di = si + (rn(&g->r, 8) << rn(&g->r, 8)); /* maybe equal data */
    if (a16) {
        si &= 0xffff;
        di &= 0xffff;
    }
    uint64_t hi = g->mode == 64 && asz && rp(&g->r, 50) ? rnext(&g->r) << 32 : 0;
    bool si_set = uses_si && rp(&g->r, 98);
    if (si_set)
        set_reg(g, 6, si + hi);
    if (uses_di && rp(&g->r, 98))
        set_reg(g, 7, di + hi);
    bool cnt_known = rep && rp(&g->r, 95);
    if (cnt_known)
        set_reg(g, 1, cnt + hi);
    /* The count register the instruction uses: RCX, ECX or CX. */
    uint64_t eff = cnt + hi;
    if (a16)
        eff &= 0xffff;
    else if (asz || g->mode == 32)
        eff &= 0xffffffffu;
    if (rp(&g->r, 60)) {
        if (rn(&g->r, 3) == 0)
            RAW(g, 0, 0, 0, 0xfd);        /* std */
        else
            RAW(g, 0, 0, 0, 0xfc);        /* cld */
    }
    wide_regs(g);
    ins in = mk(0, (uint8_t)(opc[k] + (size > 1)));
    if (si_set && rp(&g->r, 10)) {
        static const uint8_t segs[] = {0x2e, 0x36, 0x3e, 0x26};
        in.pfx[in.npfx++] = segs[rn(&g->r, 4)];
    }
    if (asz)
        in.pfx[in.npfx++] = 0x67;
    if (rep)
        in.pfx[in.npfx++] = (k == 1 || k == 4) && rn(&g->r, 2) ? 0xf2 : 0xf3;
    osz(g, &in, size);
    if (k == 1 || k == 4) {
        /* With a zero count nothing is compared: flags unaffected. */
        in.def = !rep || (cnt_known && eff) ? DF_ALL : 0;
    }
    emit(g, &in);
}

/* PUSH/POP of registers, immediates and memory. */
static void g_pushpop(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned word = g->mode == 64 ? 8 : 4;
    unsigned size = rp(&g->r, 15) ? 2 : word;
    bool push = rn(&g->r, 2);
    if (!sp_ok(g, push ? -(int64_t)size : (int64_t)size))
        push = !push;
    wide_regs(g);
    unsigned k = rn(&g->r, 3);
    ins in;
    if (push) {
        if (k == 0) {
            in = mk(0, 0x50);
            in.has_opreg = true;
            in.opreg = (uint8_t)rreg(g);
        } else if (k == 1) {
            bool ib = rp(&g->r, 50);
            in = mk(0, ib ? 0x6a : 0x68);
            in.immsz = ib ? 1 : size == 2 ? 2 : 4;
            in.imm = rnext(&g->r);
        } else {
            in = mk(0, 0xff);
            in.modrm = true;
            in.regf = 6;
            in.e = gen_e(g, size, false, 70);
        }
        g->rsp -= size;
    } else {
        if (k == 0) {
            in = mk(0, 0x58);
            in.has_opreg = true;
            in.opreg = (uint8_t)wreg(g);
        } else {
            in = mk(0, 0x8f);
            in.modrm = true;
            in.e = gen_e(g, size, true, 70);
        }
        g->rsp += size;
    }
    if (size == 2)
        in.pfx[in.npfx++] = 0x66;
    emit(g, &in);
}

/* PUSH/POP of segment registers. Pushing one with a 32/64-bit operand
 * size writes either the zero-extended selector or just 16 bits (SDM
 * Vol 2, "PUSH"): the upper bytes are stored afterwards. POP loads a
 * selector pushed just before. */
static const uint16_t interesting_sels[] = {
    0x00, 0x03, 0x08, 0x0b, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x2b,
    0x2b, 0x2b, 0x2b, 0x2a, 0x29, 0x30, 0x33, 0x38, 0x3b, 0x43, 0x80, 0x83,
    0xfffb, 0x2f, 0x07, 0x1234};

static uint16_t pick_sel(gctx *g)
{
    return interesting_sels[rn(&g->r, sizeof(interesting_sels) /
                                        sizeof(interesting_sels[0]))];
}

static void g_pushseg(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned word = g->mode == 64 ? 8 : 4;
    bool o16 = rp(&g->r, 25);
    unsigned size = o16 ? 2 : word;
    if (!sp_ok(g, -(int64_t)size))
        return;
    wide_regs(g);
    uint8_t b[3];
    int n = 0;
    if (o16)
        b[n++] = 0x66;
    if (g->mode == 64) {
        b[n++] = 0x0f;
        b[n++] = rn(&g->r, 2) ? 0xa0 : 0xa8;     /* FS, GS */
    } else {
        static const uint8_t ops[6] = {0x06, 0x0e, 0x16, 0x1e, 0x06, 0x1e};
        b[n++] = ops[rn(&g->r, 6)];
    }
    emit_raw(g, b, n, 0, 0, 0);
    g->rsp -= size;
    if (!o16) {
        /* mov word [rsp+2], imm16 (and dword [rsp+4] in 64-bit mode) */
        uint8_t w[8] = {0x66, 0xc7, 0x44, 0x24, 0x02, 0, 0};
        uint16_t v = (uint16_t)rnext(&g->r);
        memcpy(w + 5, &v, 2);
        emit_raw(g, w, 7, 0, 0, 0);
        if (g->mode == 64) {
            uint8_t d[8] = {0xc7, 0x44, 0x24, 0x04};
            uint32_t v2 = (uint32_t)rnext(&g->r);
            memcpy(d + 4, &v2, 4);
            emit_raw(g, d, 8, 0, 0, 0);
        }
    }
}

static void g_popseg(gctx *g, const tmpl *t)
{
    (void)t;
    /* push imm8/imm32 with the selector, then POP DS/ES/SS (32-bit) or
     * MOV DS/ES/SS, r16 (both modes). */
    uint16_t sel = rp(&g->r, 70) ? 0x2b : pick_sel(g);
    if (g->mode == 32 && rp(&g->r, 60)) {
        uint8_t b[5] = {0x68};
        uint32_t v = sel;
        memcpy(b + 1, &v, 4);
        emit_raw(g, b, 5, 0, 0, 0);
        static const uint8_t pops[] = {0x07, 0x17, 0x1f, 0x1f, 0x07};
        uint8_t op = pops[rn(&g->r, sizeof(pops))];
        emit_raw(g, &op, 1, 0, 0, 0);
        return;
    }
    wide_regs(g);
    unsigned r = wreg(g);
    set_reg(g, r, sel | (rnext(&g->r) & 0xffff0000u));
    static const uint8_t sregs[] = {0, 2, 3, 3, 0};   /* ES SS DS */
    ins in = mk(0, 0x8e);
    in.modrm = true;
    in.regf = sregs[rn(&g->r, sizeof(sregs))];
    in.e = ereg(r);
    if (rp(&g->r, 20))
        in.pfx[in.npfx++] = 0x66;
    emit(g, &in);
}

/* MOV r/m, Sreg (8C): every segment register. */
static void g_movfromseg(gctx *g, const tmpl *t)
{
    (void)t;
    wide_regs(g);
    ins in = mk(0, 0x8c);
    in.modrm = true;
    in.regf = (uint8_t)rn(&g->r, 6);
    bool mem = rp(&g->r, 40);
    in.e = mem ? gen_mem(g, 2) : ereg(wreg(g));
    unsigned size = mem ? 2 : pick_size(g, false);
    osz(g, &in, size);
    emit(g, &in);
}

/* PUSHF reads every flag; POPF loads known flags (CPL 3: IOPL and IF are
 * left alone; AC, TF and NT are never set here). */
static void g_pushf(gctx *g, const tmpl *t)
{
    unsigned word = g->mode == 64 ? 8 : 4;
    bool o16 = rp(&g->r, 15);
    unsigned size = o16 ? 2 : word;
    if (t->arg == 0) {
        if (!sp_ok(g, -(int64_t)size))
            return;
        if (o16)
            RAW(g, DF_ALL, 0, 0, 0x66, 0x9c);
        else
            RAW(g, DF_ALL, 0, 0, 0x9c);
        g->rsp -= size;
        return;
    }
    uint32_t v = (uint32_t)(rnext(&g->r) & (DF_ALL | 0x400u | 0x3200u | 0x200000u));
    v |= 2;
    uint8_t b[6];
    int n = 0;
    if (o16)
        b[n++] = 0x66;
    b[n++] = 0x68;
    memcpy(b + n, &v, o16 ? 2 : 4);
    n += o16 ? 2 : 4;
    emit_raw(g, b, n, 0, 0, 0);
    if (o16)
        RAW(g, 0, DF_ALL, 0, 0x66, 0x9d);
    else
        RAW(g, 0, DF_ALL, 0, 0x9d);
}

static void g_flagop(gctx *g, const tmpl *t)
{
    switch (t->arg) {
    case 0: RAW(g, DF_ALL & ~DF_OF, 0, 0, 0x9f); break;        /* LAHF */
    case 1: RAW(g, 0, DF_ALL & ~DF_OF, 0, 0x9e); break;        /* SAHF */
    case 2: RAW(g, 0, DF_CF, 0, 0xf8); break;                  /* CLC */
    case 3: RAW(g, 0, DF_CF, 0, 0xf9); break;                  /* STC */
    case 4: RAW(g, DF_CF, DF_CF, 0, 0xf5); break;              /* CMC */
    case 5: RAW(g, 0, 0, 0, 0xfc); break;                      /* CLD */
    default: RAW(g, 0, 0, 0, 0xfd); break;                     /* STD */
    }
}

/* BCD adjustments, 32-bit mode only (SDM Vol 2, "DAA", "DAS", "AAA",
 * "AAS", "AAM", "AAD"). */
static void g_bcd(gctx *g, const tmpl *t)
{
    switch (t->arg) {
    case 0: RAW(g, DF_AF | DF_CF, DF_ALL & ~DF_OF, DF_OF, 0x27); break;
    case 1: RAW(g, DF_AF | DF_CF, DF_ALL & ~DF_OF, DF_OF, 0x2f); break;
    case 2: RAW(g, DF_AF, DF_AF | DF_CF, DF_OF | DF_SZP, 0x37); break;
    case 3: RAW(g, DF_AF, DF_AF | DF_CF, DF_OF | DF_SZP, 0x3f); break;
    default: {
        uint8_t imm = rp(&g->r, 50) ? 10 : (uint8_t)rn(&g->r, 256);
        if (rp(&g->r, 3))
            imm = 0;
        uint8_t b[2] = {t->arg == 4 ? 0xd4 : 0xd5, imm};
        emit_raw(g, b, 2, 0, DF_SZP, DF_OF | DF_AF | DF_CF);
        break;
    }
    }
}

static void g_xlat(gctx *g, const tmpl *t)
{
    (void)t;
    bool asz = rp(&g->r, g->mode == 64 ? 15 : 4);
    uint64_t a = pick_target(g, 256);
    if (asz && g->mode == 32)
        a &= 0xffff;
    set_reg(g, 3, a + (g->mode == 64 && asz ? rnext(&g->r) << 32 : 0));
    if (asz)
        RAW(g, 0, 0, 0, 0x67, 0xd7);
    else
        RAW(g, 0, 0, 0, 0xd7);
}

/* ENTER imm16, level and LEAVE with a known frame pointer. */
static void g_enter(gctx *g, const tmpl *t)
{
    unsigned word = g->mode == 64 ? 8 : 4;
    bool o16 = rp(&g->r, 10);
    unsigned os = o16 ? 2 : word;
    if (t->arg == 1) {
        /* mov rbp, frame; leave */
        int64_t d = (int64_t)rn(&g->r, 2 * DT_STACK_SPAN / 2) - DT_STACK_SPAN / 2;
        uint64_t f = DT_STACK + d;
        set_reg(g, 5, f);
        if (o16)
            RAW(g, 0, 0, 0, 0x66, 0xc9);
        else
            RAW(g, 0, 0, 0, 0xc9);
        g->rsp = f + os;
        return;
    }
    unsigned level = rp(&g->r, 60) ? 0 : rn(&g->r, 4);
    if (rp(&g->r, 3))
        level = 32 + rn(&g->r, 3);         /* masked to 5 bits */
    unsigned lv = level & 31;
    unsigned size = rn(&g->r, 48);
    int64_t drop = (int64_t)os * (lv ? lv + 1 : 1) + size;
    if (!sp_ok(g, -drop))
        return;
    if (lv > 1) {
        /* The levels copy frame pointers from [rBP - k*os]. */
        int64_t d = (int64_t)rn(&g->r, DT_STACK_SPAN) - DT_STACK_SPAN / 2;
        set_reg(g, 5, DT_STACK + d);
    }
    uint8_t b[5];
    int n = 0;
    if (o16)
        b[n++] = 0x66;
    b[n++] = 0xc8;
    b[n++] = (uint8_t)size;
    b[n++] = (uint8_t)(size >> 8);
    b[n++] = (uint8_t)level;
    emit_raw(g, b, n, 0, 0, 0);
    g->rsp -= (uint64_t)drop;
    if (rp(&g->r, 50) && !o16) {
        if (o16)
            RAW(g, 0, 0, 0, 0x66, 0xc9);
        else
            RAW(g, 0, 0, 0, 0xc9);
        g->rsp += (uint64_t)drop;
    }
}

/* CALL/RET pairs inside the group (SDM Vol 2, "CALL", "RET"). */
static void g_call(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned word = g->mode == 64 ? 8 : 4;
    unsigned k = rn(&g->r, 3);
    if (!sp_ok(g, -(int64_t)word) || !sp_ok(g, 64))
        return;
    if (k == 0) {
        /* call L1; jmp L2; L1: ret; L2: */
        RAW(g, 0, 0, 0, 0xe8, 0x02, 0x00, 0x00, 0x00);
        RAW(g, 0, 0, 0, 0xeb, 0x01);
        RAW(g, 0, 0, 0, 0xc3);
    } else if (k == 1) {
        /* call L1; jmp L2; L1: ret imm16; L2: */
        unsigned imm = rn(&g->r, 5) * word / 2;
        if (!sp_ok(g, (int64_t)imm))
            imm = 0;
        RAW(g, 0, 0, 0, 0xe8, 0x02, 0x00, 0x00, 0x00);
        RAW(g, 0, 0, 0, 0xeb, 0x03);
        uint8_t b[3] = {0xc2, (uint8_t)imm, 0};
        emit_raw(g, b, 3, 0, 0, 0);
        g->rsp += imm;
    } else {
        /* call +0; pop r: the address of the POP */
        RAW(g, 0, 0, 0, 0xe8, 0x00, 0x00, 0x00, 0x00);
        wide_regs(g);
        ins in = mk(0, 0x58);
        in.has_opreg = true;
        in.opreg = (uint8_t)wreg(g);
        emit(g, &in);
    }
}

/* Instructions that fault at CPL 3 or are undefined (all end the run). */
static void g_fault(gctx *g, const tmpl *t)
{
    (void)t;
    static const uint8_t seqs[][4] = {
        {1, 0xf4},              /* HLT: #GP(0) */
        {1, 0xfa},              /* CLI: #GP(0) (IOPL 0) */
        {1, 0xfb},              /* STI */
        {2, 0xe4, 0x60},        /* IN AL, 60h */
        {2, 0xe7, 0x80},        /* OUT 80h, EAX */
        {1, 0xec},              /* IN AL, DX */
        {1, 0xef},              /* OUT DX, EAX */
        {1, 0x6c},              /* INSB */
        {1, 0x6f},              /* OUTSD */
        {2, 0x0f, 0x32},        /* RDMSR */
        {2, 0x0f, 0x30},        /* WRMSR */
        {3, 0x0f, 0x20, 0xc0},  /* MOV RAX, CR0 */
        {3, 0x0f, 0x22, 0xd8},  /* MOV CR3, RAX */
        {3, 0x0f, 0x21, 0xc0},  /* MOV RAX, DR0 */
        {2, 0x0f, 0x06},        /* CLTS */
        {2, 0x0f, 0x08},        /* INVD */
        {2, 0x0f, 0x09},        /* WBINVD */
        {3, 0x0f, 0x00, 0xd0},  /* LLDT AX */
        {3, 0x0f, 0x00, 0xd8},  /* LTR AX */
        {3, 0x0f, 0x01, 0x38},  /* INVLPG [RAX] */
        {2, 0x0f, 0x0b},        /* UD2 */
        {3, 0x0f, 0xb9, 0xc0},  /* UD1 */
        {3, 0x0f, 0xff, 0xc0},  /* UD0 */
        {2, 0xf0, 0x90},        /* LOCK NOP: #UD */
        {3, 0xf0, 0x01, 0xc0},  /* LOCK ADD reg, reg: #UD */
        {3, 0xf0, 0x8b, 0x00},  /* LOCK MOV: #UD */
        {2, 0x8d, 0xc0},        /* LEA reg, reg: #UD */
        {2, 0x0f, 0x0e},        /* FEMMS (3DNow!, none here): #UD */
    };
    static const uint8_t inv64[] = {0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f,
                                    0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0xce,
                                    0xd6};
    if (g->mode == 64 && rp(&g->r, 25)) {
        uint8_t b = inv64[rn(&g->r, sizeof(inv64))];
        emit_raw(g, &b, 1, 0, 0, 0);
        return;
    }
    unsigned k = rn(&g->r, sizeof(seqs) / sizeof(seqs[0]));
    emit_raw(g, seqs[k] + 1, seqs[k][0], 0, 0, 0);
}

/* INT n: #GP(n*8+2) through a DPL-0 gate; INT 3/INT 4 are traps (Linux's
 * IDT, which the Vanderpool side copies). INTO in 32-bit mode. */
static void g_int(gctx *g, const tmpl *t)
{
    if (t->arg == 1) {
        RAW(g, DF_OF, 0, 0, 0xce);
        return;
    }
    uint8_t n;
    do
        n = (uint8_t)rn(&g->r, 256);
    while (n == 0x80);
    if (rp(&g->r, 20))
        n = rp(&g->r, 50) ? 3 : 4;
    uint8_t b[2] = {0xcd, n};
    emit_raw(g, b, 2, 0, 0, 0);
}

/* BOUND (32-bit mode): #BR when the index is outside [lower, upper]. */
static void g_bound(gctx *g, const tmpl *t)
{
    (void)t;
    wide_regs(g);
    bool o16 = rp(&g->r, 30);
    unsigned size = o16 ? 2 : 4;
    uint64_t a = pick_target(g, 2 * size);
    unsigned r = rreg(g);
    if (rp(&g->r, 60) && a >= DT_DATA && a + 8 <= DT_DATA + DT_DATA_SIZE) {
        /* Bounds around the index: mov [a], lo; mov [a+size], hi */
        int32_t lo = (int32_t)rn(&g->r, 200) - 100, hi = lo + (int32_t)rn(&g->r, 200);
        set_reg(g, r, (uint32_t)(lo + (int32_t)rn(&g->r, 200) - 50));
        for (int k = 0; k < 2; k++) {
            uint8_t b[12];
            int n = 0;
            if (o16)
                b[n++] = 0x66;
            b[n++] = 0xc7;
            b[n++] = 0x05;
            uint32_t ad = (uint32_t)a + (uint32_t)(k * size);
            memcpy(b + n, &ad, 4);
            n += 4;
            int32_t v = k ? hi : lo;
            memcpy(b + n, &v, size);
            n += (int)size;
            emit_raw(g, b, n, 0, 0, 0);
        }
    }
    ins in = mk(0, 0x62);
    in.modrm = true;
    in.regf = (uint8_t)r;
    in.e = gen_mem_at(g, a, (int)r, -1);
    osz(g, &in, size);
    emit(g, &in);
}

/* LAR, LSL, VERR, VERW on selectors of the shared GDT layout. */
static void g_lar(gctx *g, const tmpl *t)
{
    wide_regs(g);
    unsigned r = sreg_pick(g, 99, 99);
    set_reg(g, r, pick_sel(g) | (rp(&g->r, 20) ? rnext(&g->r) << 16 : 0));
    ins in;
    if (t->arg < 2) {
        in = mk(1, (uint8_t)(0x02 + t->arg));
        in.modrm = true;
        in.e = ereg(r);
        in.regf = (uint8_t)wreg(g);
        osz(g, &in, pick_size(g, false));
    } else {
        in = mk(1, 0x00);
        in.modrm = true;
        in.regf = (uint8_t)(4 + (t->arg - 2));
        in.e = ereg(r);
    }
    in.def = DF_ZF;
    emit(g, &in);
}

/* ARPL r/m16, r16 (32-bit mode). */
static void g_arpl(gctx *g, const tmpl *t)
{
    (void)t;
    wide_regs(g);
    ins in = mk(0, 0x63);
    in.modrm = true;
    in.e = gen_e(g, 2, true, 30);
    in.regf = (uint8_t)rreg(g);
    in.def = DF_ZF;
    emit(g, &in);
}

/* LDS/LES (32-bit) and LSS: a far pointer written just before. LSS
 * loads RSP, so its offset is a known stack address. */
static void g_lxs(gctx *g, const tmpl *t)
{
    wide_regs(g);
    bool lss = t->arg == 2;
    bool o16 = rp(&g->r, 20);
    unsigned os = o16 ? 2 : 4;
    uint64_t a = DT_DATA + rn(&g->r, DT_DATA_SIZE / 2);
    uint16_t sel = rp(&g->r, 85) ? 0x2b : pick_sel(g);
    /* mov word [a+os], sel */
    uint8_t b[12] = {0x66, 0xc7, 0x04, 0x25};
    int n = 2;
    if (g->mode == 32)
        b[n++] = 0x05;
    else
        b[n++] = 0x04, b[n++] = 0x25;
    uint32_t ad = (uint32_t)a + os;
    memcpy(b + n, &ad, 4);
    n += 4;
    memcpy(b + n, &sel, 2);
    n += 2;
    emit_raw(g, b, n, 0, 0, 0);
    uint64_t newsp = g->rsp;
    if (lss) {
        int64_t d = (int64_t)rn(&g->r, DT_STACK_SPAN) - DT_STACK_SPAN / 2;
        newsp = (DT_STACK + d) & ~3ull;
        if (o16)
            newsp = (g->rsp & ~0xffffull) | (newsp & 0xffff);
        uint8_t c[12];
        int m = 0;
        if (o16)
            c[m++] = 0x66;
        c[m++] = 0xc7;
        if (g->mode == 32)
            c[m++] = 0x05;
        else
            c[m++] = 0x04, c[m++] = 0x25;
        ad = (uint32_t)a;
        memcpy(c + m, &ad, 4);
        m += 4;
        uint32_t v = (uint32_t)newsp;
        memcpy(c + m, &v, os);
        m += (int)os;
        emit_raw(g, c, m, 0, 0, 0);
    }
    ins in = lss ? mk(1, 0xb2) : mk(0, (uint8_t)(0xc4 + t->arg));
    in.modrm = true;
    in.e = gen_mem_at(g, a, -1, -1);
    in.e.seg = 0;
    in.regf = (uint8_t)(lss ? 4 : wreg(g));
    osz(g, &in, os);
    emit(g, &in);
    if (lss && sel == 0x2b)
        g->rsp = newsp;          /* other selectors fault */
}

/* CLFLUSH/CLFLUSHOPT/CLWB and the hint NOPs (never fault). */
static void g_cache(gctx *g, const tmpl *t)
{
    wide_regs(g);
    ins in;
    if (t->arg == 0) {
        in = mk(1, 0xae);
        in.regf = 7;
    } else if (t->arg == 1) {
        in = mk(1, 0xae);
        in.regf = 7;
        in.pfx[in.npfx++] = 0x66;
    } else if (t->arg == 2) {
        in = mk(1, 0xae);
        in.regf = 6;
        in.pfx[in.npfx++] = 0x66;
    } else {
        /* 0F 18 /0-3 PREFETCHh, 0F 18 /4-7 and 0F 19-1E reserved NOPs,
         * 0F 1F /0 NOP */
        static const uint8_t ops[] = {0x18, 0x18, 0x1f, 0x1f, 0x19,
                                      0x1a, 0x1b, 0x1c, 0x1d, 0x1e};
        in = mk(1, ops[rn(&g->r, sizeof(ops))]);
        in.regf = (uint8_t)rn(&g->r, 8);
        if (in.op == 0x1a || in.op == 0x1b)
            in.regf = 4 + rn(&g->r, 4);   /* not MPX's forms */
        if (in.op == 0x1e)
            in.regf = rn(&g->r, 8) & 3;   /* not ENDBR/RDSSP */
        osz(g, &in, pick_size(g, false));
    }
    in.modrm = true;
    in.e = t->arg == 3 && rp(&g->r, 30) ? ereg(rreg(g)) : gen_mem(g, 1);
    emit(g, &in);
}

/* MOVBE (0F 38 F0/F1, memory only). */
static void g_movbe(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned size = pick_size(g, false);
    wide_regs(g);
    bool store = rn(&g->r, 2);
    ins in = mk(2, (uint8_t)(0xf0 + store));
    in.modrm = true;
    in.e = rp(&g->r, 1) ? ereg(rreg(g)) : gen_mem(g, size);
    in.regf = (uint8_t)(store ? rreg(g) : wreg(g));
    osz(g, &in, size);
    emit(g, &in);
}

/* ADCX (66 0F 38 F6) / ADOX (F3 0F 38 F6). */
static void g_adx(gctx *g, const tmpl *t)
{
    unsigned size = g->mode == 64 && rn(&g->r, 2) ? 8 : 4;
    wide_regs(g);
    ins in = mk(2, 0xf6);
    in.pfx[in.npfx++] = t->arg ? 0xf3 : 0x66;
    in.modrm = true;
    in.e = gen_e(g, size, false, 40);
    in.regf = (uint8_t)wreg(g);
    in.w = size == 8;
    uint16_t f = t->arg ? DF_OF : DF_CF;
    in.rd = f;
    in.def = f;
    emit(g, &in);
}

/* BMI1/BMI2 (VEX): arg selects the instruction. */
enum { B_ANDN, B_BEXTR, B_BLSI, B_BLSMSK, B_BLSR, B_BZHI, B_MULX, B_PDEP,
       B_PEXT, B_RORX, B_SARX, B_SHLX, B_SHRX };

static void g_bmi(gctx *g, const tmpl *t)
{
    unsigned size = g->mode == 64 && rn(&g->r, 2) ? 8 : 4;
    wide_regs(g);
    ins in;
    in = mk(2, 0xf2);
    in.vex = true;
    in.modrm = true;
    in.w = size == 8 || (g->mode == 32 && rp(&g->r, 20));
    in.e = gen_e(g, size, false, 35);
    in.regf = (uint8_t)wreg(g);
    in.vvvv = (uint8_t)rreg(g);
    switch (t->arg) {
    case B_ANDN:
        in.def = DF_SF | DF_ZF | DF_OF | DF_CF;
        in.undef = DF_AF | DF_PF;
        break;
    case B_BEXTR:
        in.op = 0xf7;
        in.def = DF_ZF | DF_CF | DF_OF;
        in.undef = DF_AF | DF_SF | DF_PF;
        break;
    case B_BLSI: case B_BLSMSK: case B_BLSR:
        in.op = 0xf3;
        in.vvvv = in.regf;        /* destination */
        in.regf = (uint8_t)(t->arg == B_BLSI ? 3 : t->arg == B_BLSMSK ? 2 : 1);
        in.def = DF_SF | DF_ZF | DF_CF | DF_OF;
        in.undef = DF_AF | DF_PF;
        break;
    case B_BZHI:
        in.op = 0xf5;
        in.def = DF_SF | DF_ZF | DF_CF | DF_OF;
        in.undef = DF_AF | DF_PF;
        break;
    case B_MULX: {
        in.op = 0xf6;
        in.pp = 3;
        /* Two destinations: both writable, and distinct. */
        unsigned r2;
        do
            r2 = wreg(g);
        while (r2 == in.regf);
        in.vvvv = (uint8_t)r2;
        break;
    }
    case B_PDEP: in.op = 0xf5; in.pp = 3; break;
    case B_PEXT: in.op = 0xf5; in.pp = 2; break;
    case B_RORX:
        in.map = 3;
        in.op = 0xf0;
        in.pp = 3;
        in.vvvv = 0;
        in.imm = rn(&g->r, 256);
        in.immsz = 1;
        break;
    case B_SARX: in.op = 0xf7; in.pp = 2; break;
    case B_SHLX: in.op = 0xf7; in.pp = 1; break;
    default: in.op = 0xf7; in.pp = 3; break;
    }
    if (g->mode == 32)
        in.vvvv &= 7;
    if (rp(&g->r, 1))
        in.vl = 1;                /* VEX.L1: #UD */
    emit(g, &in);
}

/* An instruction longer than 15 bytes: #GP(0) (SDM Vol 2, "Instruction
 * Format"); or exactly 15 (runs). */
static void g_long(gctx *g, const tmpl *t)
{
    (void)t;
    unsigned n = 14 + rn(&g->r, 3);     /* total length 15..17 */
    uint8_t b[20];
    unsigned k = 0;
    static const uint8_t pf[] = {0x3e, 0x2e, 0x26, 0x36};
    /* segment prefixes, then add eax, imm32 (05 id: 5 bytes) */
    while (k < n - 5)
        b[k++] = pf[rn(&g->r, sizeof(pf))];
    b[k++] = 0x05;
    for (unsigned j = 0; j < 4; j++)
        b[k++] = (uint8_t)rnext(&g->r);
    emit_raw(g, b, (int)k, 0, DF_ALL, 0);
}

/* A random plain prefix soup before a simple ALU instruction: REX before
 * a legacy prefix (ignored), several segment overrides, 66 with REX.W. */
static void g_prefix(gctx *g, const tmpl *t)
{
    (void)t;
    uint8_t b[16];
    int n = 0;
    static const uint8_t pf[] = {0x66, 0x2e, 0x3e, 0x26, 0x36, 0x40, 0x48,
                                 0x41, 0x4c};
    int np = (int)rn(&g->r, 4);
    for (int k = 0; k < np; k++) {
        uint8_t p = pf[rn(&g->r, g->mode == 64 ? sizeof(pf) : 5)];
        b[n++] = p;
    }
    /* Effective REX: only a REX right before the opcode counts. */
    uint8_t rex = n && (b[n - 1] & 0xf0) == 0x40 && g->mode == 64 ? b[n - 1] : 0;
    /* add r/m, r with register operands: 01 /r mod=3, avoiding RSP. */
    unsigned dst = rn(&g->r, 8);
    if (dst == 4 && !(rex & 1))
        dst = 0;                 /* not RSP */
    unsigned src = rn(&g->r, 8);
    b[n++] = 0x01;
    b[n++] = (uint8_t)(0xc0 | src << 3 | dst);
    emit_raw(g, b, n, 0, DF_ALL, 0);
}

static void g_nop(gctx *g, const tmpl *t)
{
    (void)t;
    switch (rn(&g->r, 4)) {
    case 0: RAW(g, 0, 0, 0, 0x90); break;
    case 1: RAW(g, 0, 0, 0, 0xf3, 0x90); break;             /* PAUSE */
    case 2: RAW(g, 0, 0, 0, 0x66, 0x90); break;
    default: RAW(g, 0, 0, 0, 0x0f, 0x1f, 0x44, 0x00, 0x00); break;
    }
}

/* SALC (D6), undocumented: AL = CF ? FF : 00 (32-bit mode). */
static void g_salc(gctx *g, const tmpl *t)
{
    (void)t;
    RAW(g, DF_CF, 0, 0, 0xd6);
}

/* The INT1 (ICEBP, F1) trap. */
static void g_int1(gctx *g, const tmpl *t)
{
    (void)t;
    RAW(g, 0, 0, 0, 0xf1);
}

static const tmpl tmpls[] = {
    {"alu.eg", g_alu, 0, MB, 10, 0, NULL, false},
    {"alu.ge", g_alu, 1, MB, 10, 0, NULL, false},
    {"alu.ai", g_alu, 2, MB, 3, 0, NULL, false},
    {"alu.ei", g_alu, 3, MB, 10, 0, NULL, false},
    {"test", g_test, 0, MB, 4, 0, NULL, false},
    {"test.f6_1", g_test, 1, MB, 1, 0, NULL, false},
    {"shift.1", g_shift, 0, MB, 4, 0, NULL, false},
    {"shift.cl", g_shift, 1, MB, 6, 0, NULL, false},
    {"shift.imm", g_shift, 2, MB, 6, 0, NULL, false},
    {"shift.sal6", g_shift, 3, MB, 1, 0, NULL, false},
    {"shld", g_shxd, 0, MB, 3, 0, NULL, false},
    {"shrd", g_shxd, 1, MB, 3, 0, NULL, false},
    {"mul", g_mul, 0, MB, 4, 0, NULL, false},
    {"imul2", g_mul, 1, MB, 3, 0, NULL, false},
    {"imul3", g_mul, 2, MB, 3, 0, NULL, false},
    {"div", g_div, 0, MB, 3, 0, NULL, false},
    {"idiv", g_div, 1, MB, 3, 0, NULL, false},
    {"incdec", g_unary, 2, MB, 5, 0, NULL, false},
    {"neg", g_unary, 1, MB, 3, 0, NULL, false},
    {"not", g_unary, 0, MB, 2, 0, NULL, false},
    {"bt.reg", g_bt, 0, MB, 4, 0, NULL, false},
    {"bt.imm", g_bt, 1, MB, 3, 0, NULL, false},
    {"bsf_bsr", g_bsf, 0, MB, 4, 0, NULL, false},
    {"tzcnt_lzcnt", g_bsf, 1, MB, 2, DT_F_LZCNT, NULL, false},
    {"popcnt", g_bsf, 2, MB, 2, DT_F_POPCNT, NULL, false},
    {"setcc", g_setcc, 0, MB, 4, 0, NULL, false},
    {"cmovcc", g_cmov, 0, MB, 4, 0, NULL, false},
    {"jcc", g_jcc, 0, MB, 4, 0, NULL, false},
    {"loop_jcxz", g_jcc, 1, MB, 2, 0, NULL, false},
    {"jcc_alu", g_jcc_alu, 0, MB, 4, 0, NULL, false},
    {"movzx", g_movx, 0, MB, 3, 0, NULL, false},
    {"movsx", g_movx, 1, MB, 3, 0, NULL, false},
    {"movsxd", g_movx, 2, M64, 2, 0, NULL, false},
    {"movsxd.nw", g_movx, 3, M64, 1, 0,
     "MOVSXD without REX.W: the SDM discourages it; vendors differ", false},
    {"mov", g_mov, 0, MB, 8, 0, NULL, false},
    {"mov_op", g_movop, 0, MB, 4, 0, NULL, false},
    {"lea", g_lea, 0, MB, 6, 0, NULL, false},
    {"xchg", g_xchg, 0, MB, 3, 0, NULL, false},
    {"xadd", g_xchg, 1, MB, 3, 0, NULL, false},
    {"cmpxchg", g_xchg, 2, MB, 3, 0, NULL, false},
    {"xchg.ax", g_xchg, 3, MB, 2, 0, NULL, false},
    {"cmpxchg8b", g_cx8, 0, MB, 2, 0, NULL, false},
    {"cmpxchg16b", g_cx8, 1, M64, 2, DT_F_CX16, NULL, false},
    {"cbw", g_cbw, 0, MB, 2, 0, NULL, false},
    {"cwd", g_cbw, 1, MB, 2, 0, NULL, false},
    {"bswap", g_bswap, 0, MB, 2, 0, NULL, false},
    {"movs", g_string, 0, MB, 3, 0, NULL, false},
    {"cmps", g_string, 1, MB, 3, 0, NULL, false},
    {"stos", g_string, 2, MB, 3, 0, NULL, false},
    {"lods", g_string, 3, MB, 2, 0, NULL, false},
    {"scas", g_string, 4, MB, 3, 0, NULL, false},
    {"pushpop", g_pushpop, 0, MB, 6, 0, NULL, false},
    {"pushseg", g_pushseg, 0, MB, 1, 0, NULL, false},
    {"popseg", g_popseg, 0, MB, 1, 0, NULL, false},
    {"mov.sreg", g_movfromseg, 0, MB, 1, 0, NULL, false},
    {"pushf", g_pushf, 0, MB, 2, 0, NULL, false},
    {"popf", g_pushf, 1, MB, 2, 0, NULL, false},
    {"lahf", g_flagop, 0, MB, 2, 0, NULL, false},
    {"sahf", g_flagop, 1, MB, 2, 0, NULL, false},
    {"clc", g_flagop, 2, MB, 1, 0, NULL, false},
    {"stc", g_flagop, 3, MB, 1, 0, NULL, false},
    {"cmc", g_flagop, 4, MB, 1, 0, NULL, false},
    {"cld", g_flagop, 5, MB, 1, 0, NULL, false},
    {"std", g_flagop, 6, MB, 1, 0, NULL, false},
    {"daa", g_bcd, 0, M32, 2, 0, NULL, false},
    {"das", g_bcd, 1, M32, 2, 0, NULL, false},
    {"aaa", g_bcd, 2, M32, 2, 0, NULL, false},
    {"aas", g_bcd, 3, M32, 2, 0, NULL, false},
    {"aam", g_bcd, 4, M32, 2, 0, NULL, false},
    {"aad", g_bcd, 5, M32, 2, 0, NULL, false},
    {"xlat", g_xlat, 0, MB, 1, 0, NULL, false},
    {"enter", g_enter, 0, MB, 2, 0, NULL, false},
    {"leave", g_enter, 1, MB, 1, 0, NULL, false},
    {"call_ret", g_call, 0, MB, 2, 0, NULL, false},
    {"jmp.r", g_jmpind, 0, MB, 1, 0, NULL, false},
    {"jmp.m", g_jmpind, 1, MB, 1, 0, NULL, false},
    {"call.r", g_jmpind, 2, MB, 1, 0, NULL, false},
    {"call.m", g_jmpind, 3, MB, 1, 0, NULL, false},
    {"pusha", g_pusha, 0, M32, 1, 0, NULL, false},
    {"popa", g_pusha, 1, M32, 1, 0, NULL, false},
    {"fault", g_fault, 0, MB, 1, 0, NULL, true},
    {"int", g_int, 0, MB, 1, 0, NULL, true},
    {"into", g_int, 1, M32, 1, 0, NULL, false},
    {"bound", g_bound, 0, M32, 1, 0, NULL, true},
    {"lar", g_lar, 0, MB, 1, 0, NULL, false},
    {"lsl", g_lar, 1, MB, 1, 0, NULL, false},
    {"verr", g_lar, 2, MB, 1, 0, NULL, false},
    {"verw", g_lar, 3, MB, 1, 0, NULL, false},
    {"arpl", g_arpl, 0, M32, 1, 0, NULL, false},
    {"les", g_lxs, 0, M32, 1, 0, NULL, false},
    {"lds", g_lxs, 1, M32, 1, 0, NULL, false},
    {"lss", g_lxs, 2, MB, 1, 0, NULL, false},
    {"clflush", g_cache, 0, MB, 1, 0, NULL, false},
    {"clflushopt", g_cache, 1, MB, 1, DT_F_CLFLUSHOPT, NULL, false},
    {"clwb", g_cache, 2, MB, 1, DT_F_CLWB, NULL, false},
    {"hint_nop", g_cache, 3, MB, 1, 0, NULL, false},
    {"movbe", g_movbe, 0, MB, 2, DT_F_MOVBE, NULL, false},
    {"adcx", g_adx, 0, MB, 1, DT_F_ADX, NULL, false},
    {"adox", g_adx, 1, MB, 1, DT_F_ADX, NULL, false},
    {"andn", g_bmi, B_ANDN, MB, 1, DT_F_BMI1, NULL, false},
    {"bextr", g_bmi, B_BEXTR, MB, 1, DT_F_BMI1, NULL, false},
    {"blsi", g_bmi, B_BLSI, MB, 1, DT_F_BMI1, NULL, false},
    {"blsmsk", g_bmi, B_BLSMSK, MB, 1, DT_F_BMI1, NULL, false},
    {"blsr", g_bmi, B_BLSR, MB, 1, DT_F_BMI1, NULL, false},
    {"bzhi", g_bmi, B_BZHI, MB, 1, DT_F_BMI2, NULL, false},
    {"mulx", g_bmi, B_MULX, MB, 1, DT_F_BMI2, NULL, false},
    {"pdep", g_bmi, B_PDEP, MB, 1, DT_F_BMI2, NULL, false},
    {"pext", g_bmi, B_PEXT, MB, 1, DT_F_BMI2, NULL, false},
    {"rorx", g_bmi, B_RORX, MB, 1, DT_F_BMI2, NULL, false},
    {"sarx", g_bmi, B_SARX, MB, 1, DT_F_BMI2, NULL, false},
    {"shlx", g_bmi, B_SHLX, MB, 1, DT_F_BMI2, NULL, false},
    {"shrx", g_bmi, B_SHRX, MB, 1, DT_F_BMI2, NULL, false},
    {"toolong", g_long, 0, MB, 1, 0, NULL, true},
    {"prefixes", g_prefix, 0, MB, 2, 0, NULL, false},
    {"nop", g_nop, 0, MB, 1, 0, NULL, false},
    {"salc", g_salc, 0, M32, 1, 0,
     "SALC (D6) is undocumented by Intel; not decoded by Vanderpool", false},
    {"int1", g_int1, 0, MB, 1, 0,
     "INT1 (F1): Linux reports the #DB with debug-status side effects", true},
};

#define NTMPL (sizeof(tmpls) / sizeof(tmpls[0]))

const char *dt_tmpl_name(unsigned t)
{
    return t < NTMPL ? tmpls[t].name : "?";
}

unsigned dt_tmpl_count(void)
{
    return (unsigned)NTMPL;
}

static const char *const feat_names[DT_F_COUNT] = {
    "", "bmi1", "bmi2", "adx", "movbe", "popcnt", "lzcnt", "cx16",
    "clflushopt", "clwb"};

static unsigned feat_have = 1;

void dt_set_features(unsigned have)
{
    feat_have = have | 1;
}

const char *dt_feature_name(int k)
{
    return k > 0 && k < DT_F_COUNT ? feat_names[k] : NULL;
}

void dt_list_templates(void)
{
    for (unsigned k = 0; k < NTMPL; k++) {
        const tmpl *t = &tmpls[k];
        printf("%-14s %s%s w%-2u %s%s%s\n", t->name,
               t->modes & M64 ? "64" : "  ", t->modes & M32 ? " 32" : "   ",
               t->weight, t->feat ? feat_names[t->feat] : "",
               t->feat && !(feat_have >> t->feat & 1) ? " (not on both sides)" : "",
               t->off ? "" : "");
        if (t->off)
            printf("%14s off by default: %s\n", "", t->off);
    }
}

/* ---- programs ----------------------------------------------------------- */

static bool tmpl_enabled(const tmpl *t, int mode, const dt_gen_opts *o)
{
    if (!(t->modes & (mode == 64 ? M64 : M32)))
        return false;
    if (t->feat && !(feat_have >> t->feat & 1))
        return false;
    if (o && o->only) {
        /* Comma-separated names; a trailing '*' matches a prefix. */
        const char *s = o->only;
        bool hit = false;
        while (*s && !hit) {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (n && s[n - 1] == '*')
                hit = strncmp(t->name, s, n - 1) == 0;
            else
                hit = strlen(t->name) == n && strncmp(t->name, s, n) == 0;
            s += n + (e != NULL);
        }
        return hit;
    }
    return !t->off || (o && o->all);
}

static uint64_t init_value(rng *r)
{
    static const uint64_t special[] = {
        0, 1, 2, ~0ull, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
        0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull,
        0x8000000000000001ull, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull};
    unsigned k = rn(r, 100);
    if (k < 30)
        return rnext(r);
    if (k < 45)
        return rn(r, 256);
    if (k < 60)
        return special[rn(r, sizeof(special) / sizeof(special[0]))];
    if (k < 70)
        return DT_DATA + rn(r, DT_DATA_SIZE);
    return rnext(r) >> rn(r, 64);
}

/* Builds one group from template t; false if the template gave up. */
static bool build_group(gctx *g, dt_group *gr, unsigned t)
{
    memset(gr, 0, sizeof(*gr));
    gr->tmpl = (uint16_t)t;
    g->g = gr;
    g->bad = false;
    wide_regs(g);
    uint64_t rsp0 = g->rsp;
    tmpls[t].gen(g, &tmpls[t]);
    gr->sp_delta = (int16_t)(g->rsp - rsp0);
    if (g->bad || gr->len == 0 || !sp_ok(g, 0)) {
        g->rsp = rsp0;
        return false;
    }
    return true;
}

void dt_generate(dt_prog *p, uint64_t seed, uint64_t index,
                 const dt_gen_opts *o)
{
    memset(p, 0, sizeof(*p));
    gctx g;
    memset(&g, 0, sizeof(g));
    /* Independent streams per (seed, index): hash both into the state. */
    rng h = {index};
    g.r.s = seed ^ rnext(&h);
    g.r.s = rnext(&g.r);
    int mode = o && o->mode ? o->mode : (rp(&g.r, 65) ? 64 : 32);
    g.mode = mode;
    p->mode = mode;
    p->seed = seed;
    p->index = index;
    for (int k = 0; k < 16; k++) {
        uint64_t v = init_value(&g.r);
        if (mode == 32 && k < 8)
            v &= 0xffffffffu;
        p->gpr[k] = v;
    }
    p->gpr[4] = DT_STACK;
    p->rflags = 0x202 | (rnext(&g.r) & DF_ALL) | (rp(&g.r, 15) ? 0x400 : 0);
    /* Data: random, zero, repeated and copied 64-byte chunks. */
    for (unsigned a = 0; a < DT_MEM_SIZE; a += 64) {
        unsigned k = rn(&g.r, 100);
        if (k < 60 || a < 64) {
            for (unsigned j = 0; j < 64; j += 8) {
                uint64_t v = rnext(&g.r);
                memcpy(p->mem + a + j, &v, 8);
            }
        } else if (k < 75) {
            memset(p->mem + a, 0, 64);
        } else if (k < 90) {
            memset(p->mem + a, (int)rn(&g.r, 256), 64);
        } else {
            unsigned src = 64 * rn(&g.r, a / 64);
            memcpy(p->mem + a, p->mem + src, 64);
        }
    }

    /* Templates that always end the run go last, in some programs. */
    unsigned en[NTMPL], term[NTMPL], total = 0, tterm = 0;
    for (unsigned t = 0; t < NTMPL; t++) {
        unsigned w = tmpl_enabled(&tmpls[t], mode, o) ? tmpls[t].weight : 0;
        en[t] = tmpls[t].term ? 0 : w;
        term[t] = tmpls[t].term ? w : 0;
        total += en[t];
        tterm += term[t];
    }
    if (!total && !tterm)
        return;
    int maxg = o && o->max_groups ? o->max_groups : 48;
    if (maxg > DT_MAX_GROUPS - 1)
        maxg = DT_MAX_GROUPS - 1;
    int want = maxg / 4 + (int)rn(&g.r, (uint32_t)(maxg - maxg / 4 + 1));
    if (!total)
        want = 0;
    g.fault_pct = rp(&g.r, 50) ? 0 : 1 + rn(&g.r, 4);
    g.rsp = DT_STACK;
    g.undef = 0;
    int tries = 0;
    while (p->ngroups < want && tries++ < want * 20) {
        unsigned pick = rn(&g.r, total), t = 0;
        while (pick >= en[t])
            pick -= en[t++];
        dt_group *gr = &p->g[p->ngroups];
        gctx save = g;
        if (!build_group(&g, gr, t)) {
            g.rsp = save.rsp;
            continue;
        }
        if (gr->rd & g.undef) {
            /* Define the flags first: CMP/ADD/SUB/NEG or SAHF+... */
            g = save;
            static const unsigned defs[] = {0, 3};  /* alu.eg, alu.ei */
            dt_group tmp;
            bool ok = false;
            for (int k = 0; k < 8 && !ok; k++) {
                unsigned dt = defs[rn(&g.r, 2)];
                if (!build_group(&g, &tmp, dt))
                    continue;
                if ((tmp.def & g.undef) == g.undef && !(tmp.rd & g.undef) &&
                    !tmp.undef)
                    ok = true;
                else
                    g.rsp = save.rsp;
            }
            if (!ok || p->ngroups + 1 >= want)
                continue;
            p->g[p->ngroups++] = tmp;
            g.undef = (uint16_t)((g.undef & ~tmp.def) | tmp.undef);
            continue;           /* the template comes back another time */
        }
        g.undef = (uint16_t)((g.undef & ~gr->def) | gr->undef);
        p->ngroups++;
    }
    if (tterm && (!total || rp(&g.r, 20))) {
        for (int k = 0; k < 10; k++) {
            unsigned pick = rn(&g.r, tterm), t = 0;
            while (pick >= term[t])
                pick -= term[t++];
            dt_group *gr = &p->g[p->ngroups];
            if (build_group(&g, gr, t) && !(gr->rd & g.undef)) {
                p->ngroups++;
                break;
            }
        }
    }
}

bool dt_assemble(const dt_prog *p, const bool *keep, dt_case *c,
                 dt_layout *l)
{
    c->mode = p->mode;
    memcpy(c->gpr, p->gpr, sizeof(c->gpr));
    c->rflags = p->rflags;
    memcpy(c->mem, p->mem, sizeof(c->mem));
    uint32_t off = 0;
    uint16_t undef = 0;
    uint32_t ninsn = 0;
    int n = 0;
    for (int k = 0; k < p->ngroups; k++) {
        if (keep && !keep[k])
            continue;
        const dt_group *gr = &p->g[k];
        if (gr->rd & undef)
            return false;
        if (off + gr->len + 1 > DT_CODE_SIZE)
            return false;
        l->off[n] = off;
        l->undef_before[n] = undef;
        l->ninsn_before[n] = ninsn;
        l->gidx[n] = (uint16_t)k;
        memcpy(c->code + off, gr->bytes, gr->len);
        for (int f = 0; f < gr->nfix; f++) {
            const dt_fix *fx2 = &gr->fix[f];
            if (fx2->kind == FIX_RIP_DISP32) {
                int64_t d = (int64_t)fx2->val -
                            (int64_t)(DT_CODE + off + fx2->end);
                int32_t d32 = (int32_t)d;
                memcpy(c->code + off + fx2->at, &d32, 4);
            }
        }
        undef = (uint16_t)((undef & ~gr->def) | gr->undef);
        l->undef_after[n] = undef;
        ninsn += gr->ninsn;
        off += gr->len;
        n++;
    }
    l->n = n;
    l->off[n] = off;
    l->undef_before[n] = undef;
    l->undef_after[n] = undef;
    l->ninsn_before[n] = ninsn;
    c->code[off] = 0xcc;
    c->code_len = off + 1;
    return true;
}
