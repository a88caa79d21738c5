/* String instructions with REP/REPE/REPNE (SDM Vol 2, "MOVS", "CMPS",
 * "STOS", "LODS", "SCAS", "INS", "OUTS", "REP/REPE/REPZ/REPNE/REPNZ").
 * A repeated instruction runs in chunks; between chunks RIP stays on the
 * instruction so that interrupts are taken and it resumes where it was. */
#include "emu/cpu/ops.h"

#include <string.h>

#define REP_CHUNK 4096

static inline uint64_t areg(const vp_cpu *c, int r, unsigned asize)
{
    return c->gpr[r] & size_mask(asize);
}

static inline void areg_add(vp_cpu *c, int r, unsigned asize, int64_t d)
{
    uint64_t v = (c->gpr[r] + (uint64_t)d) & size_mask(asize);
    reg_write(c, (unsigned)r, asize, false, v);
}

static inline int64_t step(const vp_cpu *c, unsigned size)
{
    return (c->flags & FL_DF) ? -(int64_t)size : (int64_t)size;
}

/* Shared driver: `one` performs one iteration; returns VP_OK, VP_EXC, or
 * 1 to stop a REPE/REPNE loop on its condition. */
typedef int (*str_iter)(vp_cpu *c, const vp_insn *i);

static int movs1(vp_cpu *c, const vp_insn *i);
static int stos1(vp_cpu *c, const vp_insn *i);

/* Elements of `size` from address a that stay inside a's page when
 * stepping by st (forward or backward). */
static uint64_t page_room(uint64_t a, unsigned size, int64_t st)
{
    uint64_t off = a & 0xfff;
    return st > 0 ? (4096 - off) / size : off / size + 1;
}

/* REP MOVS/STOS fast path in 64-bit mode with 64-bit addresses: as many
 * iterations as stay inside the current source and destination pages,
 * done on host memory when both hit the TLB (so neither is MMIO, a code
 * page or watched). Overlapping MOVS ranges take the per-element path,
 * which gives the architectural element-by-element result. Returns the
 * iterations done (0: use the per-element path). */
static uint64_t rep_batch(vp_cpu *c, const vp_insn *i, bool movs,
                          uint64_t max)
{
    unsigned sz = i->osize;
    int64_t st = step(c, sz);
    uint64_t di = c->gpr[R_DI], si = c->gpr[R_SI];
    uint64_t n = c->gpr[R_CX];
    if (n > max)
        n = max;
    uint64_t room = page_room(di, sz, st);
    if (room < n)
        n = room;
    if (movs) {
        room = page_room(si, sz, st);
        if (room < n)
            n = room;
    }
    if (n < 2)
        return 0;
    uint8_t *d = mem_fast(c, S_ES, di, sz, TLB_WRITE);
    if (!d)
        return 0;
    uint64_t bytes = n * sz;
    /* Lowest address of each range. */
    uint8_t *dlo = st > 0 ? d : d - (bytes - sz);
    if (movs) {
        uint8_t *sp = mem_fast(c, i->seg, si, sz, TLB_READ);
        if (!sp)
            return 0;
        uint8_t *slo = st > 0 ? sp : sp - (bytes - sz);
        if (slo < dlo + bytes && dlo < slo + bytes)
            return 0;
        memcpy(dlo, slo, bytes);
        c->gpr[R_SI] = si + (uint64_t)(st * (int64_t)n);
    } else {
        uint64_t v = c->gpr[R_AX];
        if (sz == 1)
            memset(dlo, (int)(v & 0xff), bytes);
        else
            for (uint64_t k = 0; k < n; k++)
                store_n(dlo + k * sz, sz, v);
    }
    c->gpr[R_DI] = di + (uint64_t)(st * (int64_t)n);
    c->gpr[R_CX] -= n;
    return n;
}

static int run_string(vp_cpu *c, const vp_insn *i, str_iter one, bool cond)
{
    if (!(i->flags & (I_REP | I_REPNE)))
        return one(c, i) == VP_EXC ? VP_EXC : VP_OK;
    unsigned as = i->asize;
    uint64_t n = 0;
    /* Each iteration counts as an instruction retired; a chunk never runs
     * past the current execution budget, so --max-insns is exact. */
    uint64_t chunk = REP_CHUNK;
    if (c->icount_limit > c->icount && c->icount_limit - c->icount < chunk)
        chunk = c->icount_limit - c->icount;
    bool batch = c->code_size == 8 && as == 8 && !c->dr_active &&
                 (one == movs1 || one == stos1);
    while (areg(c, R_CX, as)) {
        if (n == chunk) {
            c->rip = c->insn_rip;   /* resume later */
            vp_retire(c, n - 1);
            return VP_BREAK;
        }
        if (batch) {
            uint64_t done = rep_batch(c, i, one == movs1, chunk - n);
            if (done) {
                n += done;
                continue;
            }
        }
        int r = one(c, i);
        if (r == VP_EXC) {
            vp_retire(c, n); /* the completed iterations retired */
            return VP_EXC;
        }
        areg_add(c, R_CX, as, -1);
        n++;
        if (cond) {
            bool zf = (vp_flags(c) & FL_ZF) != 0;
            if ((i->flags & I_REP) ? !zf : zf)
                break;
        }
        /* A data or I/O breakpoint hit: the #DB trap comes after this
         * iteration, RIP still on the instruction if more remain (SDM
         * Vol 3B, "Data Memory and I/O Breakpoint Exception Conditions"). */
        if (VP_UNLIKELY(c->dr_pending) && areg(c, R_CX, as)) {
            c->rip = c->insn_rip;
            vp_retire(c, n - 1);
            return VP_BREAK;
        }
    }
    if (n > 1)
        vp_retire(c, n - 1);
    return VP_OK;
}

static int movs1(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vp_read_seg(c, i->seg, areg(c, R_SI, i->asize), i->osize, &v);
    if (!r)
        r = vp_write_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize, v);
    if (r)
        return r;
    areg_add(c, R_SI, i->asize, step(c, i->osize));
    areg_add(c, R_DI, i->asize, step(c, i->osize));
    return VP_OK;
}

static int stos1(vp_cpu *c, const vp_insn *i)
{
    int r = vp_write_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize,
                         reg_read(c, R_AX, i->osize, false));
    if (r)
        return r;
    areg_add(c, R_DI, i->asize, step(c, i->osize));
    return VP_OK;
}

static int lods1(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vp_read_seg(c, i->seg, areg(c, R_SI, i->asize), i->osize, &v);
    if (r)
        return r;
    reg_write(c, R_AX, i->osize, false, v);
    areg_add(c, R_SI, i->asize, step(c, i->osize));
    return VP_OK;
}

static void cmp_flags(vp_cpu *c, unsigned size, uint64_t a, uint64_t b)
{
    lf_set(c, LF_SUB, size, (a - b) & size_mask(size), a, b);
}

static int cmps1(vp_cpu *c, const vp_insn *i)
{
    uint64_t a, b;
    int r = vp_read_seg(c, i->seg, areg(c, R_SI, i->asize), i->osize, &a);
    if (!r)
        r = vp_read_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize, &b);
    if (r)
        return r;
    cmp_flags(c, i->osize, a, b);
    areg_add(c, R_SI, i->asize, step(c, i->osize));
    areg_add(c, R_DI, i->asize, step(c, i->osize));
    return VP_OK;
}

static int scas1(vp_cpu *c, const vp_insn *i)
{
    uint64_t b;
    int r = vp_read_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize, &b);
    if (r)
        return r;
    cmp_flags(c, i->osize, reg_read(c, R_AX, i->osize, false), b);
    areg_add(c, R_DI, i->asize, step(c, i->osize));
    return VP_OK;
}

static int ins1(vp_cpu *c, const vp_insn *i)
{
    uint16_t port = c->gpr[R_DX] & 0xffff;
    /* The destination is checked before the port is read. */
    uint64_t probe;
    int r = vp_read_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize, &probe);
    if (r)
        return r;
    uint32_t v = vp_ioport_read(&c->m->io, port, i->osize);
    r = vp_write_seg(c, S_ES, areg(c, R_DI, i->asize), i->osize, v);
    if (r)
        return r;
    areg_add(c, R_DI, i->asize, step(c, i->osize));
    return VP_OK;
}

static int outs1(vp_cpu *c, const vp_insn *i)
{
    uint64_t v;
    int r = vp_read_seg(c, i->seg, areg(c, R_SI, i->asize), i->osize, &v);
    if (r)
        return r;
    vp_ioport_write(&c->m->io, c->gpr[R_DX] & 0xffff, (uint32_t)v, i->osize);
    areg_add(c, R_SI, i->asize, step(c, i->osize));
    return VP_OK;
}

static unsigned io_size(const vp_insn *i)
{
    return i->osize == 8 ? 4 : i->osize;
}

int op_movs(vp_cpu *c, const vp_insn *i) { return run_string(c, i, movs1, false); }
int op_stos(vp_cpu *c, const vp_insn *i) { return run_string(c, i, stos1, false); }
int op_lods(vp_cpu *c, const vp_insn *i) { return run_string(c, i, lods1, false); }
int op_cmps(vp_cpu *c, const vp_insn *i) { return run_string(c, i, cmps1, true); }
int op_scas(vp_cpu *c, const vp_insn *i) { return run_string(c, i, scas1, true); }

int op_ins(vp_cpu *c, const vp_insn *i)
{
    vp_insn t = *i;
    t.osize = (uint8_t)io_size(i);
    int r = vp_io_allowed(c, c->gpr[R_DX] & 0xffff, t.osize);
    if (r)
        return r;
    return run_string(c, &t, ins1, false);
}

int op_outs(vp_cpu *c, const vp_insn *i)
{
    vp_insn t = *i;
    t.osize = (uint8_t)io_size(i);
    int r = vp_io_allowed(c, c->gpr[R_DX] & 0xffff, t.osize);
    if (r)
        return r;
    return run_string(c, &t, outs1, false);
}
