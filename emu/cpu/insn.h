/* The decoded-instruction record and the opcode-table entry format.
 *
 * Decoding happens once per instruction: x86 bytes become a vp_insn whose
 * handler contains only semantics. Records are grouped into blocks cached
 * by physical address and decode mode (exec.c). */
#ifndef VP_CPU_INSN_H
#define VP_CPU_INSN_H

#include "emu/cpu/internal.h"

#include <string.h>

typedef int (*vp_handler)(vp_cpu *c, const vp_insn *i);

/* vp_insn.flags */
enum {
    I_MEM = 1u << 0,     /* ModRM names memory */
    I_REX = 1u << 1,     /* a REX prefix was present (byte regs SPL..DIL) */
    I_REP = 1u << 2,     /* F3 */
    I_REPNE = 1u << 3,   /* F2 */
    I_LOCK = 1u << 4,    /* F0 */
    I_RIPREL = 1u << 5,  /* base is RIP */
    I_O16 = 1u << 6,     /* 66 prefix present (for mandatory-prefix forms) */
    I_VEX = 1u << 7,     /* VEX-encoded: `vex` holds vvvv, L and W */
};

#define REG_NONE VP_GPR_ZERO /* no base or index: an entry that is 0 */

struct vp_insn {
    vp_handler fn;
    uint64_t imm;
    int32_t disp;      /* ModRM displacement; specialized Jcc: the index
                        * of the record at its target in the same block,
                        * or -1 (vp_local_targets) */
    uint16_t op;       /* map << 8 | opcode byte (map 0: one-byte, 1: 0F,
                        * 2: 0F 38, 3: 0F 3A; VEX: the map VEX names) */
    uint16_t imm2;     /* far pointer selector, ENTER nesting level;
                        * Jcc with a target in its block: the records from
                        * there to the block's end */
    uint16_t off;      /* offset of its first byte from the block's start */
    uint8_t idx;       /* its index in the block */
    uint8_t len;
    uint8_t osize;     /* operand size in bytes (1 for byte forms) */
    uint8_t asize;     /* address size in bytes */
    uint8_t seg;       /* segment of the memory operand (S_*) */
    uint8_t reg;       /* ModRM.reg with REX.R, or the +r register */
    uint8_t rm;        /* ModRM.rm with REX.B (register forms) */
    uint8_t base;      /* base register or REG_NONE */
    uint8_t index;     /* index register or REG_NONE */
    uint8_t scale;     /* index shift 0-3; specialized Jcc: 1 when it
                        * predicates the record after it (ops_fast.c) */
    uint8_t flags;     /* I_* */
    uint8_t sub;       /* handler-specific: ALU op, condition, group row */
    uint8_t endblk;    /* the block ends after this instruction */
    uint8_t vex;       /* with I_VEX: VEX.vvvv as a register number (bits
                        * 4:0, room for EVEX.V'), VEX.L (6:5, room for
                        * EVEX.L'L), VEX.W (7); see VEX_* below */
};

#define VEX_REG(i) ((unsigned)(i)->vex & 0x1f)
#define VEX_L(i) (((unsigned)(i)->vex >> 5) & 3)
#define VEX_W(i) (((unsigned)(i)->vex >> 7) & 1)

/* Opcode-table entry attributes. */
enum {
    D_MODRM = 1u << 0,
    D_BYTE = 1u << 1,     /* byte operand size */
    D_IB = 1u << 2,       /* imm8 */
    D_IW = 1u << 3,       /* imm16 */
    D_IZ = 1u << 4,       /* imm16/32 by operand size (sign-extended) */
    D_IV = 1u << 5,       /* imm16/32/64 by operand size (MOV r, imm) */
    D_DEF64 = 1u << 6,    /* operand size 64 by default in 64-bit mode */
    D_F64 = 1u << 7,      /* operand size forced to 64 in 64-bit mode */
    D_NO64 = 1u << 8,     /* #UD in 64-bit mode */
    D_END = 1u << 9,      /* ends a decoded block (branches, mode changes) */
    D_MOFFS = 1u << 10,   /* address-size offset immediate (A0-A3) */
    D_FARPTR = 1u << 11,  /* ptr16:16/32 immediate */
    D_ENTER = 1u << 12,   /* imm16 + imm8 */
    D_GROUP = 1u << 13,   /* ModRM.reg picks the row of group `sub` */
    D_REGOP = 1u << 14,   /* low 3 opcode bits name a register (+REX.B) */
    /* Selectors: the entry is not an instruction but names row `sub` of a
     * table indexed by the mandatory prefix (none, 66, F3, F2; VEX.pp), by
     * ModRM.mod (memory, register) or by ModRM.rm. They chain (a group row
     * may select by prefix, a prefix row by mod...); attributes of every
     * level are combined. */
    D_PFX = 1u << 15,
    D_MODSEL = 1u << 16,
    D_RMSEL = 1u << 17,
    D_OP32 = 1u << 18,    /* operand size 32, or 64 with REX.W (or D_F64) in
                             64-bit mode; 66 is a mandatory prefix here */
    D_VEXL0 = 1u << 19,   /* VEX.L must be 0 (#UD otherwise) */
    D_NOVVVV = 1u << 20,  /* VEX.vvvv unused: must be 1111b (#UD otherwise) */
    D_MODREG = 1u << 21,  /* ModRM.mod ignored: always the register form */
};

typedef struct vp_opdesc {
    vp_handler fn;
    uint32_t attr;
    uint8_t sub;
} vp_opdesc;

/* Decodes one instruction from `bytes` (at most `avail` valid). Returns the
 * length, 0 if more bytes are needed than available, or -1 if the encoding
 * exceeds 15 bytes (#GP). Undefined opcodes decode to the #UD handler. */
int vp_decode(const uint8_t *bytes, int avail, int code_size, vp_insn *out);
/* Swaps a generic handler for a specialized one where one exists
 * (ops_fast.c); called on every record entering the block cache. */
void vp_specialize(vp_insn *i);
/* Lets record a run the record b that follows it as well (ops_fast.c,
 * "macro-op fusion"): a compare, test or decrement and the specialized
 * Jcc after it, or a register copy and the operation on the copy after
 * it. Called on consecutive records of a cached block. */
void vp_fuse(vp_insn *a, const vp_insn *b);
/* Finds, for the specialized Jcc records among the n records of a block
 * decoded in 64-bit mode, the record their target starts (vp_local_target);
 * called once the block is complete (ops_fast.c). */
void vp_local_targets(vp_insn *rec, unsigned n);

/* ---- threaded dispatch (exec.c) -------------------------------------- */

/* The record after the last one of every block: ends a chain, or goes on
 * into the block that follows when it is linked (exec.c). */
int vp_chain_end(vp_cpu *c, const vp_insn *i);
/* Stands in the record of a generic handler (exec.c): sets insn_rip, RIP
 * and icount as the handler expects them and calls it. */
int vp_generic(vp_cpu *c, const vp_insn *i);
/* After a taken branch in the middle of a block (RIP is the target): the
 * next block when the link remembered for this exit is valid and nothing
 * needs the loop's attention, else VP_JUMP. */
int vp_link_mid(vp_cpu *c, const vp_insn *i);
/* The same after a branch that ends its block (CALL, RET), from the
 * block's end links; VP_OK (the branch not counted) when it cannot. */
int vp_link_end(vp_cpu *c, const vp_insn *i);

/* The tail of a specialized handler that completed: it goes straight on to
 * the next record of its block, which is the block's end marker after the
 * last one (exec.c describes the chains).
 *
 * Within a chain neither RIP nor insn_rip nor icount is kept, from one
 * instruction to the next: specialized handlers compute the RIP they need
 * from the block's start (stored once per block) and their record's
 * offset (vp_next_rip), and whatever leaves the chain or hands over sets
 * what it leaves exact: vp_generic before a generic handler, the branches
 * RIP, the link functions and the end marker RIP and icount, and the
 * out-of-line paths that may fault or reach a device all three (vp_sync).
 * Keeping them per instruction would cost stores, and increments would
 * put a store-to-load round trip on every guest instruction's path. */
static VP_ALWAYS_INLINE int vp_next(vp_cpu *c, const vp_insn *i)
{
    const vp_insn *n = i + 1;
    VP_MUSTTAIL return n->fn(c, n);
}

/* The RIP after record i: where its successor starts. */
static VP_ALWAYS_INLINE uint64_t vp_next_rip(const vp_cpu *c,
                                             const vp_insn *i)
{
    return c->gpr[VP_GPR_BLKRIP] + i->off + i->len;
}

/* Makes icount, insn_rip and RIP exact for record i of the running chain:
 * what a specialized handler calls out of line that may reach a device or
 * raise an exception comes after this (the loop finds a faulting record
 * from icount; memory-mapped I/O reads the virtual clock). */
static VP_ALWAYS_INLINE void vp_sync(vp_cpu *c, const vp_insn *i)
{
    uint64_t ip = c->gpr[VP_GPR_BLKRIP] + i->off;
    c->icount = c->blk_icount + i->idx;
    c->insn_rip = ip & c->rip_mask;
    c->rip = (ip + i->len) & c->rip_mask;
}

/* vp_next for handlers that store to memory: a store that hit a page with
 * decoded code (only the out-of-line path can) stops the chain with
 * VP_SMC, so that the loop drops the block if it changed. */
static inline int vp_next_w(vp_cpu *c, const vp_insn *i)
{
    if (VP_UNLIKELY(c->m->mem.smc_flag)) {
        vp_sync(c, i);
        c->icount++;
        return VP_SMC;
    }
    return vp_next(c, i);
}

/* A taken branch to record i->disp of its own block (the decoder found
 * the target there, vp_local_targets): on from that record within the
 * chain, which needs neither a link nor a new block: the block and its
 * mapping cannot have changed while the chain ran in it. The conditions
 * are those of entering a block (vp_link_mid): nothing for the loop in
 * attn_word, and the budget covers the records up to the block's end.
 * blk_icount moves so that blk_icount + idx stays the count of each
 * record (the loop finds the record a chain stopped at from it). Counted
 * as a chained block entry: a block entry the loop did not look up (a
 * traced run, which does, decodes a block at the target instead). Returns
 * NULL when the branch must go the long way. */
static VP_ALWAYS_INLINE const vp_insn *vp_local_target(vp_cpu *c,
                                                       const vp_insn *i)
{
    uint64_t next = c->blk_icount + i->idx + 1;    /* the target's count */
    if (i->disp < 0 || c->attn_word || next + i->imm2 > c->chain_limit)
        return NULL;
    c->blk_icount = next - (uint64_t)i->disp;
    c->stats.dcache_chained++;
    return i - i->idx + i->disp;
}

/* ---- operand helpers shared by the instruction groups ---------------- */

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sign_ext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (uint64_t)(int64_t)(int8_t)v;
    case 2: return (uint64_t)(int64_t)(int16_t)v;
    case 4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

/* Register access by operand size; byte registers 4-7 are AH..BH unless a
 * REX prefix is present. 32-bit writes zero the upper half. */
static inline uint64_t reg_read(const vp_cpu *c, unsigned r, unsigned size,
                                bool rex)
{
    switch (size) {
    case 1:
        if (r >= 4 && r < 8 && !rex)
            return (c->gpr[r - 4] >> 8) & 0xff;
        return c->gpr[r] & 0xff;
    case 2: return c->gpr[r] & 0xffff;
    case 4: return c->gpr[r] & 0xffffffff;
    default: return c->gpr[r];
    }
}

static inline void reg_write(vp_cpu *c, unsigned r, unsigned size, bool rex,
                             uint64_t v)
{
    switch (size) {
    case 1:
        if (r >= 4 && r < 8 && !rex)
            c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        else
            c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
        break;
    case 2: c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff); break;
    case 4: c->gpr[r] = v & 0xffffffff; break;
    default: c->gpr[r] = v; break;
    }
}

/* Effective address (offset within the segment) of the memory operand.
 * A missing base or index names gpr[VP_GPR_ZERO]; records of cached
 * blocks have RIP-relative operands rewritten to base VP_GPR_BLKRIP with
 * the displacement from the block's start (exec.c). The address size is
 * 2, 4 or 8. */
static VP_ALWAYS_INLINE uint64_t insn_ea(const vp_cpu *c, const vp_insn *i)
{
    uint64_t a = (uint64_t)(int64_t)i->disp + c->gpr[i->base] +
                 (c->gpr[i->index] << i->scale);
    if (VP_UNLIKELY(i->flags & I_RIPREL))
        a += c->rip;
    return a & size_mask(i->asize);
}

static VP_ALWAYS_INLINE uint64_t load_n(const uint8_t *h, unsigned size)
{
    switch (size) {
    case 1: return *h;
    case 2: { uint16_t v; memcpy(&v, h, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, h, 4); return v; }
    default: { uint64_t v; memcpy(&v, h, 8); return v; }
    }
}

static VP_ALWAYS_INLINE void store_n(uint8_t *h, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *h = (uint8_t)v; break;
    case 2: { uint16_t t = (uint16_t)v; memcpy(h, &t, 2); break; }
    case 4: { uint32_t t = (uint32_t)v; memcpy(h, &t, 4); break; }
    default: memcpy(h, &v, 8); break;
    }
}

/* Inline fast path of vp_read_seg/vp_write_seg for 64-bit mode: an access
 * inside one page that hits the TLB. Every other case (other modes, page
 * crossing, misses, MMIO, non-canonical addresses) takes the out-of-line
 * path, which implements all the checks. */
static VP_ALWAYS_INLINE uint8_t *mem_fast(vp_cpu *c, int seg, uint64_t off,
                                unsigned size, unsigned kind)
{
    if (VP_LIKELY(c->code_size == 8)) {
        uint64_t a = off + (seg >= S_FS ? c->seg[seg].base : 0);
        /* No canonical check: TLB tags are whole page numbers, entered
         * only for canonical addresses, so a non-canonical one misses and
         * the out-of-line path faults. */
        if (VP_LIKELY(((a & 0xfff) + size) <= 4096)) {
            uint64_t pn = a >> 12;
            vp_tlb_entry *e =
                &c->tlb.e[kind][c->cpl == 3][pn & (VP_TLB_SIZE - 1)];
            if (VP_LIKELY(e->tag == pn + 1)) {
                c->stats.tlb_hits[kind]++;
                return (uint8_t *)(uintptr_t)(a + e->addend);
            }
        }
    }
    return NULL;
}

static inline int VP_MUST_CHECK mem_read(vp_cpu *c, int seg, uint64_t off,
                                         unsigned size, uint64_t *v)
{
    uint8_t *h = mem_fast(c, seg, off, size, TLB_READ);
    if (VP_LIKELY(h != NULL)) {
        *v = load_n(h, size);
        return VP_OK;
    }
    int r = vp_read_seg(c, seg, off, size, &c->mem_scratch);
    *v = c->mem_scratch;
    return r;
}

static inline int VP_MUST_CHECK mem_write(vp_cpu *c, int seg, uint64_t off,
                                          unsigned size, uint64_t v)
{
    uint8_t *h = mem_fast(c, seg, off, size, TLB_WRITE);
    if (VP_LIKELY(h != NULL)) {
        store_n(h, size, v);
        return VP_OK;
    }
    return vp_write_seg(c, seg, off, size, v);
}

/* A memory operand of two parts (BOUND's bounds, far pointers, LGDT's
 * limit and base, INVPCID's descriptor): `size1` bytes at the effective
 * address into *a, then `size2` bytes right after them into *b (the
 * offset wraps at the address size). */
static inline int VP_MUST_CHECK rd_m_pair(vp_cpu *c, const vp_insn *i,
                                          unsigned size1, uint64_t *a,
                                          unsigned size2, uint64_t *b)
{
    uint64_t ea = insn_ea(c, i);
    int r = vp_read_seg(c, i->seg, ea, size1, a);
    if (!r)
        r = vp_read_seg(c, i->seg, (ea + size1) & size_mask(i->asize), size2,
                        b);
    return r;
}

/* The E operand (register or memory) of size `size`. */
static inline int VP_MUST_CHECK rd_e(vp_cpu *c, const vp_insn *i,
                                     unsigned size, uint64_t *v)
{
    if (i->flags & I_MEM)
        return mem_read(c, i->seg, insn_ea(c, i), size, v);
    *v = reg_read(c, i->rm, size, i->flags & I_REX);
    return VP_OK;
}

/* The E operand of a read-modify-write instruction: a memory operand is
 * checked for writing before it is read (vp_read_seg_rmw). */
static inline int VP_MUST_CHECK rd_e_rmw(vp_cpu *c, const vp_insn *i,
                                         unsigned size, uint64_t *v)
{
    if (i->flags & I_MEM) {
        uint64_t ea = insn_ea(c, i);
        uint8_t *h = mem_fast(c, i->seg, ea, size, TLB_WRITE);
        if (VP_LIKELY(h != NULL)) {
            *v = load_n(h, size);
            return VP_OK;
        }
        int r = vp_read_seg_rmw(c, i->seg, ea, size, &c->mem_scratch);
        *v = c->mem_scratch;
        return r;
    }
    *v = reg_read(c, i->rm, size, i->flags & I_REX);
    return VP_OK;
}

static inline int VP_MUST_CHECK wr_e(vp_cpu *c, const vp_insn *i,
                                     unsigned size, uint64_t v)
{
    if (i->flags & I_MEM)
        return mem_write(c, i->seg, insn_ea(c, i), size, v);
    reg_write(c, i->rm, size, i->flags & I_REX, v);
    return VP_OK;
}

static inline uint64_t rd_g(const vp_cpu *c, const vp_insn *i, unsigned size)
{
    return reg_read(c, i->reg, size, i->flags & I_REX);
}

static inline void wr_g(vp_cpu *c, const vp_insn *i, unsigned size,
                        uint64_t v)
{
    reg_write(c, i->reg, size, i->flags & I_REX, v);
}

/* Stack-pointer width: SS.B outside 64-bit mode. */
static inline unsigned stack_size(const vp_cpu *c)
{
    if (c->code_size == 8)
        return 8;
    return (c->seg[S_SS].attr & SEGA_DB) ? 4 : 2;
}

/* Sets RIP for a branch target with the operand-size truncation rules. */
static inline void set_rip(vp_cpu *c, uint64_t target, unsigned osize)
{
    c->rip = target & size_mask(osize);
}

/* ---- lazy flags (flags.c) -------------------------------------------- */

enum vp_lazy_op {
    LF_NONE = 0, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
    LF_NEG, LF_SHL, LF_SHR, LF_SAR,
    LF_MUL,   /* b = 1 when the product overflowed: CF = OF = b; AF = 0 */
    LF_BT,    /* BT: CF = b; ZF kept, carried as res == 0; OF SF AF PF
               * (undefined in the SDM) read as 0 or from res */
    LF_ROT,   /* ROL/ROR: CF and OF in lf_cf (their RFLAGS bits); SZAP those
               * of the operation in lf_cf bits 23:16, whose size, res, a
               * and b stay in place (see lf_rot) */
};

#define LF_ROT_PREV_SHIFT 16

static VP_ALWAYS_INLINE void lf_set(vp_cpu *c, int op, unsigned size, uint64_t res,
                          uint64_t a, uint64_t b)
{
    c->lf_op = (uint32_t)op | (size << 8);
    c->lf_res = res;
    c->lf_a = a;
    c->lf_b = b;
}

/* After a rotate, which changes only CF and OF (`cf_of`: FL_CF and FL_OF
 * as they are to be set, SDM Vol 2B, "RCL/RCR/ROL/ROR", Flags Affected):
 * with materialized flags the two bits are written; otherwise the lazy
 * state is kept for SZAP and becomes LF_ROT, naming the operation that
 * set SZAP (the one before a run of rotates). No operand is needed for
 * SZAP besides the size, res, a and b of that operation, and its carry-in
 * (lf_cf: ADC, SBB, INC, DEC) only ever served CF, so lf_cf holds the
 * rotate's CF/OF and that operation's number. */
static VP_ALWAYS_INLINE void lf_rot(vp_cpu *c, uint32_t cf_of)
{
    uint32_t op = c->lf_op & 0xff;
    if (op == LF_NONE) {
        c->flags = (c->flags & ~(uint64_t)(FL_CF | FL_OF)) | cf_of;
        return;
    }
    uint32_t prev = op == LF_ROT ? c->lf_cf >> LF_ROT_PREV_SHIFT : op;
    c->lf_cf = (prev << LF_ROT_PREV_SHIFT) | cf_of;
    c->lf_op = (c->lf_op & ~0xffu) | LF_ROT;
}

/* Materializes OSZAPC into c->flags and returns RFLAGS. */
uint64_t vp_flags(vp_cpu *c);
/* Writes RFLAGS' arithmetic bits directly (drops lazy state). */
static inline void flags_set_arith(vp_cpu *c, uint64_t f)
{
    vp_flags(c);
    c->flags = (c->flags & ~FL_ARITH) | (f & FL_ARITH);
}
bool vp_cond_slow(vp_cpu *c, unsigned cc);

/* The lazy operands are compared in their top bits: shifted left by
 * lf_shift(size), a size-byte value has its sign in bit 63 and keeps its
 * order, signed and unsigned, and no mask is needed. (Size 0, LF_NONE,
 * gives a shift of 0; nothing uses the value then.) */
static VP_ALWAYS_INLINE unsigned lf_shift(unsigned size)
{
    return (64 - 8 * size) & 63;
}

/* Condition codes straight from the lazy state for the operations that
 * precede most branches (CMP/SUB, TEST/logic, and Z/S after anything), so
 * the common Jcc/SETcc/CMOVcc need not materialize RFLAGS. Returns -1 when
 * the flags must be computed. With a constant cc this folds to a few
 * instructions. */
static VP_ALWAYS_INLINE int vp_cond_fast(const vp_cpu *c, unsigned cc)
{
    unsigned op = c->lf_op & 0xff, sh = lf_shift(c->lf_op >> 8);
    if (!op)
        return -1;
    uint64_t r = c->lf_res << sh;
    bool zf = r == 0, sf = r >> 63;
    int res;
    switch (cc >> 1) {
    case 2: res = zf; break;                     /* Z */
    case 4: res = sf; break;                     /* S */
    default:
        if (op == LF_SUB) {
            uint64_t a = c->lf_a << sh, b = c->lf_b << sh;
            switch (cc >> 1) {
            case 1: res = a < b; break;          /* B */
            case 3: res = a <= b; break;         /* BE */
            case 6: res = (int64_t)a < (int64_t)b; break;  /* L */
            case 7: res = (int64_t)a <= (int64_t)b; break; /* LE */
            default: return -1;                  /* O, P */
            }
        } else if (op == LF_MUL && (cc >> 1) <= 1) {
            res = c->lf_b != 0;                  /* O, B: overflow */
        } else if (op == LF_BT && (cc >> 1) == 1) {
            res = c->lf_b != 0;                  /* B: the bit tested */
        } else if (op == LF_ROT) {
            bool cf = c->lf_cf & FL_CF, of = (c->lf_cf & FL_OF) != 0;
            switch (cc >> 1) {
            case 0: res = of; break;             /* O */
            case 1: res = cf; break;             /* B */
            case 3: res = cf || zf; break;       /* BE */
            case 6: res = sf != of; break;       /* L */
            case 7: res = zf || sf != of; break; /* LE */
            default: return -1;                  /* P */
            }
        } else if (op == LF_LOGIC) {
            switch (cc >> 1) {
            case 0: case 1: res = 0; break;      /* O, B: cleared */
            case 3: res = zf; break;             /* BE: CF = 0 */
            case 6: res = sf; break;             /* L: SF != OF (0) */
            case 7: res = zf || sf; break;       /* LE */
            default: return -1;                  /* P */
            }
        } else {
            return -1;
        }
    }
    return (cc & 1) ? !res : res;
}

bool vp_cf(vp_cpu *c);

/* CF from the lazy state of the common producers, -1 when it must be
 * computed (vp_cf). */
static VP_ALWAYS_INLINE int vp_cf_lazy(const vp_cpu *c)
{
    unsigned op = c->lf_op & 0xff, sh = lf_shift(c->lf_op >> 8);
    switch (op) {
    case 0: return (c->flags & FL_CF) != 0;
    case LF_ADD: return (c->lf_res << sh) < (c->lf_a << sh);
    case LF_SUB: return (c->lf_a << sh) < (c->lf_b << sh);
    case LF_LOGIC: return 0;
    case LF_INC: case LF_DEC: return c->lf_cf != 0;
    case LF_MUL: case LF_BT: return c->lf_b != 0;
    case LF_ROT: return (c->lf_cf & FL_CF) != 0;
    default: return -1;
    }
}

/* CF without materializing the other flags for the common producers. */
static VP_ALWAYS_INLINE bool vp_cf_fast(vp_cpu *c)
{
    int cf = vp_cf_lazy(c);
    return cf >= 0 ? (bool)cf : vp_cf(c);
}

static VP_ALWAYS_INLINE bool vp_cond(vp_cpu *c, unsigned cc)
{
    int f = vp_cond_fast(c, cc);
    return f >= 0 ? (bool)f : vp_cond_slow(c, cc);
}
/* Carry flag, materializing only what is needed. */
bool vp_cf(vp_cpu *c);
uint8_t vp_parity(uint8_t v);

#endif
