/* The interpreter loop: fetch through the code TLB, look up the decoded
 * block cached by physical address and decode mode, run its handlers, and
 * take interrupts and exceptions at instruction boundaries.
 *
 * Blocks end at unconditional transfers and at instructions that change
 * mode or interrupt state (D_END), at a page end, or at VP_BLOCK_MAX
 * instructions; conditional branches do not end them (a taken one leaves
 * with VP_JUMP). A write to a page holding decoded code bumps that page's
 * generation (physmem.c), so stale blocks are dropped per page, never by a
 * global flush. */
#include "emu/cpu/insn.h"
#include "emu/cpu/ops.h"
#include "emu/cpu/debugreg.h"
#include "emu/apic/apic.h"
#include "emu/debug/debug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VP_BLOCK_MAX 32
#define VP_BCACHE_BITS 12

typedef struct vp_block vp_block;

/* Successors remembered per block: one per record for the exits in the
 * middle of a superblock (a taken conditional branch always goes to the
 * same place), and a few for its end, which may be an indirect branch or
 * a return with several targets. */
#define VP_END_LINKS 4

/* A remembered successor: valid at the same linear address while the
 * CPU's link epoch (TLB flushes, CPL and code-size changes, blocks built
 * or flushed) and the machine's code epoch (writes to code pages) are
 * unchanged. Lets a loop go from block to block without the TLB and hash
 * lookups. */
typedef struct vp_link {
    uint64_t lin;
    vp_block *blk;
    uint32_t epoch;      /* c->link_epoch when linked */
    uint32_t cgen;       /* m->mem.code_epoch when linked */
} vp_link;

struct vp_block {
    uint64_t phys;       /* guest-physical address of the first byte */
    int64_t page;        /* RAM page index for the generation check */
    uint32_t gen;
    uint8_t mode;        /* code_size the block was decoded for; 0 = empty */
    uint8_t n;
    uint16_t bytes;      /* length of all its instructions together */
    vp_insn insn[VP_BLOCK_MAX + 1];   /* and the end marker (chain_end) */
    /* The handler of each record whose own is vp_generic. */
    vp_handler gfn[VP_BLOCK_MAX];
    /* Successor links after the records, which the loop touches more. */
    vp_link end[VP_END_LINKS];      /* ran to the end */
    uint8_t end_next;               /* end slot the next successor takes */
    vp_link mid[VP_BLOCK_MAX];      /* left at record k: mid[k] */
};

struct vp_block_cache {
    vp_block b[1u << VP_BCACHE_BITS];
};

vp_block_cache *vp_bcache_new(void)
{
    return calloc(1, sizeof(vp_block_cache));
}

void vp_bcache_free(vp_block_cache *bc)
{
    free(bc);
}

void vp_bcache_flush(vp_block_cache *bc)
{
    for (unsigned k = 0; k < (1u << VP_BCACHE_BITS); k++)
        bc->b[k].mode = 0;
}

int vp_raise(vp_cpu *c, int vector)
{
    c->exc.vector = vector;
    c->exc.has_error = false;
    c->exc.error = 0;
    c->exc.kind = EV_HWEXC;
    return VP_EXC;
}

int vp_raise_err(vp_cpu *c, int vector, uint32_t error)
{
    c->exc.vector = vector;
    c->exc.has_error = true;
    c->exc.error = error;
    c->exc.kind = EV_HWEXC;
    return VP_EXC;
}

/* Threaded dispatch: specialized handlers end by calling the next record's
 * handler (vp_next, insn.h), so a block runs as one chain of calls that
 * ends at the end marker after its last record, or at the first handler
 * that does not continue it: a generic one (ops_*.c) returning VP_OK,
 * which the loop counts and continues from, or any non-OK status. The
 * loop finds the block a chain stopped in from c->cur_blk and the record
 * from icount, which whatever leaves a chain makes exact (vp_generic, the
 * link functions below, vp_sync and vp_next_w in insn.h; vp_retire counts
 * REP iterations).
 *
 * Chains also go on from block to block over the same links the loop
 * follows (vp_link_mid, vp_link_end, and the end marker), in 64-bit code,
 * when nothing needs the loop: the conditions it tests before a block
 * (events, TF/RF/VIP, interrupt shadows, the debugger, tracing) and the
 * budget, which must cover the whole next block. Those are the loop's
 * own checks after a taken branch. A chain started by the loop runs at
 * most VP_CHAIN_INSNS instructions into other blocks (a bound folded into
 * chain_limit), so that its depth stays bounded where the compiler does
 * not turn the calls into jumps (-O1 and sanitizer builds). */
#define VP_CHAIN_INSNS 1024

static inline vp_block *block_of(const vp_insn *i)
{
    return (vp_block *)(void *)((char *)(uintptr_t)(i - i->idx) -
                                offsetof(vp_block, insn));
}

/* c->chain_limit for the state the CPU is in now: the budget's end, or 0
 * when the loop must look at something before the next block (the same
 * conditions as its own per-block test, minus those in attn_word, which
 * the link functions test themselves). Handlers that could change these
 * are generic (they return to the loop, which calls this again), except
 * for interrupt requests, which clear chain_limit (vp_cpu_kick). */
static VP_ALWAYS_INLINE uint64_t chain_limit(const vp_cpu *c)
{
    uint64_t fl = c->flags;
    bool stop = (c->intr_pending & ((fl & FL_IF) != 0)) |
                ((fl & (FL_TF | FL_RF | FL_VIP)) != 0) |
                (c->shadow_until > c->icount) | (c->code_size != 8);
    uint64_t lim = c->icount + VP_CHAIN_INSNS;
    return stop ? 0 : lim < c->icount_limit ? lim : c->icount_limit;
}

/* Whether the link leads on from here, the next block starting at
 * instruction count `base`. */
static VP_ALWAYS_INLINE bool may_chain(vp_cpu *c, const vp_link *lk,
                                       uint64_t base)
{
    const vp_block *nb = lk->blk;
    return nb && lk->lin == c->rip && lk->epoch == c->link_epoch &&
           lk->cgen == c->m->mem.code_epoch &&
           base + nb->n <= c->chain_limit;
}

static VP_ALWAYS_INLINE int enter_block(vp_cpu *c, vp_block *nb,
                                        uint64_t base)
{
    c->icount = base;
    c->cur_blk = nb;
    c->gpr[VP_GPR_BLKRIP] = c->rip;
    c->blk_icount = base;
    c->stats.dcache_chained++;
    const vp_insn *n = &nb->insn[0];
    /* A tail call once inlined into the link functions (musttail itself
     * needs the caller's own signature, which this helper does not have). */
    return n->fn(c, n);
}

/* The end links of block b for the current RIP, or NULL. */
static VP_ALWAYS_INLINE vp_link *end_link(vp_block *b, uint64_t lin)
{
    for (unsigned l = 0; l < VP_END_LINKS; l++)
        if (b->end[l].lin == lin)
            return &b->end[l];
    return NULL;
}

int vp_generic(vp_cpu *c, const vp_insn *i)
{
    const vp_block *b = block_of(i);
    uint64_t ip = c->gpr[VP_GPR_BLKRIP] + i->off;
    c->insn_rip = ip & c->rip_mask;
    c->rip = (ip + i->len) & c->rip_mask;
    c->icount = c->blk_icount + i->idx;
    VP_MUSTTAIL return b->gfn[i->idx](c, i);
}

/* These three leave the chain, or hand it over to the next block, with
 * icount set: the record `i` retired (the branch) or not (the end marker,
 * or a branch returned to the loop uncounted). */
int vp_link_mid(vp_cpu *c, const vp_insn *i)
{
    uint64_t base = c->blk_icount + i->idx;
    /* slow_run (in attn_word) is tested first: then `i` is in a block. */
    if (VP_LIKELY(!c->attn_word)) {
        vp_block *b = block_of(i);
        vp_link *lk = &b->mid[i->idx];
        if (b->mode && may_chain(c, lk, base + 1))
            return enter_block(c, lk->blk, base + 1);
    }
    c->icount = base;
    return VP_JUMP;
}

/* After CALL/RET (`retired` 1) or at the end marker (0): on through the
 * block's end links. */
static VP_ALWAYS_INLINE int leave_by_end(vp_cpu *c, const vp_insn *i,
                                         unsigned retired)
{
    uint64_t base = c->blk_icount + i->idx;
    if (VP_LIKELY(!c->attn_word)) {
        vp_block *b = block_of(i);
        vp_link *lk = b->mode ? end_link(b, c->rip) : NULL;
        if (lk && may_chain(c, lk, base + retired))
            return enter_block(c, lk->blk, base + retired);
    }
    c->icount = base;
    return VP_OK;
}

int vp_link_end(vp_cpu *c, const vp_insn *i)
{
    return leave_by_end(c, i, 1);
}

int vp_chain_end(vp_cpu *c, const vp_insn *i)
{
    c->rip = vp_next_rip(c, i);     /* the block's end: its offset */
    return leave_by_end(c, i, 0);
}

static const vp_insn chain_end = {.fn = vp_chain_end, .len = 0};

/* Runs one record on its own (followed by the end marker) and counts it
 * unless it faulted, whichever kind of handler it has: the path of
 * single-stepping, tracing and debugging. VP_SMC is returned as VP_OK. */
static int run_one(vp_cpu *c, const vp_insn *in)
{
    vp_insn one[2] = {*in, chain_end};
    if (in->fn == vp_generic)
        one[0].fn = block_of(in)->gfn[in->idx];
    /* The offsets stay: RIP-relative operands are based on them. */
    one[0].idx = 0;
    one[1].idx = 1;
    one[1].off = (uint16_t)(in->off + in->len);
    uint64_t before = c->icount;
    c->blk_icount = before;
    c->gpr[VP_GPR_BLKRIP] = c->insn_rip - in->off;
    c->icount_skew = 0;
    c->slow_run = true;
    int r = one[0].fn(c, &one[0]);
    c->slow_run = false;
    c->rip &= c->rip_mask;  /* a chained handler leaves it unreduced */
    uint64_t own = c->icount - before - c->icount_skew;
    c->icount_skew = 0;
    if (r == VP_SMC)
        r = VP_OK;
    if (r != VP_EXC && own == 0)
        c->icount++;
    return r;
}

static inline unsigned bc_index(uint64_t phys, unsigned mode)
{
    uint64_t h = (phys ^ (phys >> VP_BCACHE_BITS) ^ mode) * 0x9e3779b1u;
    return (unsigned)(h >> 7) & ((1u << VP_BCACHE_BITS) - 1);
}

/* Fetches up to 15 instruction bytes one at a time through the paging
 * path (for instructions crossing a page or living outside RAM). Returns
 * how many bytes could be fetched; *fault_ret gets the raise status of the
 * first byte that could not. */
static int fetch_slow(vp_cpu *c, uint64_t lin, uint8_t *buf, int *fault_ret)
{
    int n = 0;
    *fault_ret = VP_OK;
    for (; n < 15; n++) {
        uint64_t v;
        uint64_t a = lin + (uint64_t)n;
        if (!c->long_mode)
            a &= 0xffffffffull;
        int r = vp_read_lin(c, a, 1, &v, ACC_EXEC);
        if (r) {
            *fault_ret = r;
            break;
        }
        buf[n] = (uint8_t)v;
    }
    return n;
}

/* Decodes a block starting at linear `lin` / physical `gpa` with host
 * pointer `host` (NULL: not RAM). Returns the block, or NULL with an
 * exception raised. `tmp` receives an uncached single-instruction block
 * when the code is not cacheable. */
static vp_block *decode_block(vp_cpu *c, uint64_t lin, uint64_t gpa,
                              vp_block *slot, vp_block *tmp)
{
    vp_physmem *pm = &c->m->mem;
    uint8_t *host = vp_phys_ram(pm, gpa);
    int64_t page = vp_phys_ram_page(pm, gpa);
    unsigned mode = (unsigned)c->code_size;
    vp_block *b = slot;
    unsigned off = (unsigned)(gpa & 0xfff);

    if (host && page >= 0) {
        b->n = 0;
        c->link_epoch++;   /* links may point at this slot's old block */
        for (unsigned l = 0; l < VP_BLOCK_MAX; l++)
            b->mid[l].blk = NULL;
        for (unsigned l = 0; l < VP_END_LINKS; l++)
            b->end[l].blk = NULL;
        while (b->n < VP_BLOCK_MAX && off < 4096) {
            vp_insn *in = &b->insn[b->n];
            int len = vp_decode(host + (off - (gpa & 0xfff)),
                                (int)(4096 - off), (int)mode, in);
            if (len < 0) {
                if (b->n)
                    break;
                vp_raise_err(c, EXC_GP, 0);
                return NULL;
            }
            if (len == 0)
                break; /* crosses the page end */
            in->idx = b->n;
            in->off = (uint16_t)(off - (gpa & 0xfff));
            /* RIP-relative: relative to the block's start (insn_ea). In
             * the rare case the displacement would not fit, the record
             * stays generic, so that RIP is exact when it runs. */
            int64_t d = (int64_t)in->disp + in->off + in->len;
            bool ripabs = (in->flags & I_RIPREL) && d > INT32_MAX;
            if ((in->flags & I_RIPREL) && !ripabs) {
                in->flags &= (uint8_t)~I_RIPREL;
                in->base = VP_GPR_BLKRIP;
                in->disp = (int32_t)d;
            }
            vp_handler generic = in->fn;
            if (!ripabs)
                vp_specialize(in);
            if (in->fn == generic) {
                b->gfn[b->n] = generic;
                in->fn = vp_generic;
            }
            if (b->n)
                vp_fuse(&b->insn[b->n - 1], in);
            b->n++;
            off += (unsigned)len;
            b->bytes = (uint16_t)(off - (gpa & 0xfff));
            if (in->endblk)
                break;
        }
        if (b->n) {
            if (mode == 8)
                vp_local_targets(b->insn, b->n);
            b->insn[b->n] = chain_end;
            b->insn[b->n].idx = b->n;
            b->insn[b->n].off = b->bytes;
            if (!pm->code_page[page]) {
                pm->code_page[page] = 1;
                for (int k = 0; k < c->m->ncpus; k++)
                    vp_tlb_drop_write_gpa(c->m->cpus[k], gpa & VP_PAGE_MASK);
            }
            b->phys = gpa;
            b->page = page;
            b->gen = pm->code_gen[page];
            b->mode = (uint8_t)mode;
            c->stats.dcache_misses++;
            return b;
        }
    }
    /* Uncached: one instruction fetched byte by byte. */
    uint8_t buf[16];
    int fault;
    int n = fetch_slow(c, lin, buf, &fault);
    int len = vp_decode(buf, n, (int)mode, &tmp->insn[0]);
    if (len == 0)
        return NULL; /* fault from the byte that was missing */
    if (len < 0) {
        vp_raise_err(c, EXC_GP, 0);
        return NULL;
    }
    c->exc.vector = -1;
    tmp->insn[0].idx = 0;
    tmp->insn[0].off = 0;
    tmp->insn[1] = chain_end;
    tmp->insn[1].idx = 1;
    tmp->insn[1].off = (uint16_t)len;
    tmp->n = 1;
    tmp->bytes = (uint16_t)len;
    tmp->mode = 0;
    tmp->page = -1;
    tmp->phys = gpa;
    return tmp;
}

static void deliver_pending_exception(vp_cpu *c)
{
    int v = c->exc.vector;
    vp_flags(c);
    c->exc.vector = -1;
    c->rip = c->insn_rip;
    c->stats.exceptions[v & 31]++;
    VP_TRACE(&c->m->trace, EXC, "exception %d err %#x at %#llx", v,
             c->exc.error, (unsigned long long)c->insn_rip);
    vp_deliver_event(c, v, c->exc.kind, c->exc.has_error, c->exc.error,
                     c->insn_rip);
}

/* Interrupt acceptance at an instruction boundary (SDM Vol 3A,
 * "Priority Among Concurrent Events"). Returns true if an event was
 * delivered. */
static bool take_events(vp_cpu *c)
{
    /* A wait in MWAIT also ends on a store to the monitored line, and on
     * an interrupt under IF = 0 when MWAIT asked for that (ECX[0]): the
     * interrupt stays pending (SDM Vol 2B, MWAIT, "MWAIT for Power
     * Management"). */
    if (c->halted && c->mwait) {
        if (vp_mwait_triggered(c)) {
            c->halted = false;
        } else if (c->intr_pending && c->mwait_ibe && !(c->flags & FL_IF)) {
            if (vp_apic_intr_ready(c))
                c->halted = false;
            else
                c->intr_pending = false;
        }
    }
    if (c->icount < c->shadow_until)
        return false;
    if (c->nmi_pending && !c->nmi_blocked) {
        vp_flags(c);
        c->nmi_pending = false;
        c->halted = false;
        c->insn_rip = c->rip;
        c->stats.interrupts[EXC_NMI]++;
        vp_deliver_event(c, EXC_NMI, EV_NMI, false, 0, c->rip);
        return true;
    }
    if (c->intr_pending && (c->flags & FL_IF)) {
        if (vp_apic_intr_ready(c)) {
            int vec = vp_apic_intr_ack(c);
            vp_flags(c);
            c->halted = false;
            c->insn_rip = c->rip;
            c->stats.interrupts[vec & 0xff]++;
            VP_TRACE(&c->m->trace, INT, "external interrupt vector %#x", vec);
            vp_deliver_event(c, vec, EV_EXTINT, false, 0, c->rip);
            return true;
        }
        c->intr_pending = false;
    }
    return false;
}

/* One "insn" trace event: CS:RIP, mode, and the instruction bytes, as
 * data for the frontend's sink (which disassembles them) or as a text
 * line. The bytes are read through the fetch TLB entry when it is there,
 * else probed without side effects, so tracing changes no counter. */
static void trace_insn(vp_cpu *c, const vp_insn *in)
{
    vp_tracer *t = &c->m->trace;
    uint64_t lin = c->code_size == 8 ? c->rip
                                     : (c->seg[S_CS].base + c->rip) & 0xffffffffull;
    vp_trace_insn ev = {
        .cpu = c->id, .icount = c->icount, .rip = c->rip, .lin = lin,
        .cs = c->seg[S_CS].sel, .mode = (uint8_t)vp_cpu_mode(c),
        .bits = (uint8_t)(c->code_size * 8), .cpl = (uint8_t)c->cpl,
    };
    for (unsigned k = 0; k < in->len && k < sizeof(ev.bytes); k++) {
        uint64_t a = c->long_mode ? lin + k : (lin + k) & 0xffffffffull;
        uint64_t pn = a >> 12, v = 0;
        const vp_tlb_entry *e =
            &c->tlb.e[TLB_EXEC][c->cpl == 3][pn & (VP_TLB_SIZE - 1)];
        if (e->tag == pn + 1)
            v = *(const uint8_t *)(uintptr_t)(a + e->addend);
        else if (vp_read_lin(c, a, 1, &v, ACC_EXEC | ACC_NOFAULT))
            break;
        ev.bytes[ev.len++] = (uint8_t)v;
    }
    if (t->insn_sink) {
        t->insn_sink(t->opaque, &ev);
        return;
    }
    char hex[2 * 15 + 1];
    for (unsigned k = 0; k < ev.len; k++)
        snprintf(hex + 2 * k, 3, "%02x", ev.bytes[k]);
    hex[2 * ev.len] = 0;
    vp_trace_emit(t, VP_TR_INSN, "%04x:%016llx m%d %s", ev.cs,
                  (unsigned long long)ev.rip, ev.bits, hex);
}

/* After an instruction that began with RFLAGS.TF set, or that hit data or
 * I/O breakpoints (debugreg.c): one #DB trap reports them all in DR6 (SDM
 * Vol 3B, "Debug Exceptions"). Software interrupts clear TF on delivery
 * and are not single-stepped; a MOV SS/POP SS shadow defers the traps
 * past the next instruction. */
static void single_step_trap(vp_cpu *c, const vp_insn *in, bool tf)
{
    if (c->shadow_until > c->icount)
        return;
    uint64_t bits = c->dr_pending;
    if (tf && !(in->fn == op_int || in->fn == op_int3 ||
                in->fn == op_into || in->fn == op_int1))
        bits |= VP_BIT(14); /* BS */
    if (bits)
        vp_dr_raise_db(c, bits);
}

/* The block loop with the per-instruction extras: single-step traps,
 * clearing RF, instruction trace events, and the debugger's breakpoints,
 * watchpoints and steps (emu/debug) while c->debug_on. */
static VP_NOINLINE void run_block_slow(vp_cpu *c, const vp_block *b,
                                       unsigned n, bool tf, bool rf, bool tr)
{
    vp_physmem *pm = &c->m->mem;
    bool dbg = c->debug_on;
    uint64_t gpa = b->phys;
    for (unsigned k = 0; k < n; k++) {
        const vp_insn *in = &b->insn[k];
        c->insn_rip = c->rip;
        if (dbg && vp_debug_before_insn(c, gpa))
            return;
        gpa += in->len;
        if (tr)
            trace_insn(c, in);
        c->rip = (c->rip + in->len) & c->rip_mask;
        int r = run_one(c, in);
        if (r == VP_EXC) {
            deliver_pending_exception(c);
            return;
        }
        if (rf && in->fn != op_iret)
            c->flags &= ~FL_RF;
        if (tf || VP_UNLIKELY(c->dr_pending))
            single_step_trap(c, in, tf);
        if (r != VP_OK)
            return;
        if (dbg && c->m->stop != VP_STOP_NONE)
            return;     /* a watchpoint hit: stop after the instruction */
        if (pm->smc_flag) {
            pm->smc_flag = false;
            if (b->page >= 0 && pm->code_gen[b->page] != b->gen)
                return;
        }
    }
}

uint64_t vp_cpu_exec(vp_cpu *c, uint64_t budget)
{
    uint64_t start = c->icount;
    vp_physmem *pm = &c->m->mem;
    vp_block tmp;
    vp_block *prev = NULL;  /* last block, if left normally */
    int prev_exit = -1;     /* record it was left at, -1: its end */
    c->icount_limit = start + budget;

    /* The instruction trace is switched only between slices (monitor,
     * frontend). Machine-level requests (stop, reset, A20) come from port
     * writes, which leave the block (VP_BREAK), or from outside between
     * slices: `recheck` covers both. */
    const uint64_t limit = start + budget;
    const bool tr = VP_TRACE_ON(&c->m->trace, INSN);
    bool recheck = true;
    for (;;) {
        if (c->icount >= limit)
            break;
        /* Everything rare, tested at once without branches; the details
         * are sorted out below only when one of them holds. IF is never
         * lazy, so no flag materialization is needed here. */
        uint64_t fl = c->flags;
        bool attn = (c->attn_word != 0) |
                    (c->intr_pending & ((fl & FL_IF) != 0)) |
                    ((fl & (FL_TF | FL_RF | FL_VIP)) != 0) |
                    (c->shadow_until > c->icount) | tr | recheck;
        if (VP_UNLIKELY(attn)) {
            recheck = false;
            if (c->shutdown || c->m->stop != VP_STOP_NONE ||
                c->m->reset_requested)
                break;
            if (c->nmi_pending || c->halted ||
                (c->intr_pending && (c->flags & FL_IF))) {
                take_events(c);
                prev = NULL;
                if (c->halted || c->shutdown)
                    break;
            }

            /* The A20 gate changed: translations to host pages are stale. */
            if (c->a20_gen != c->m->a20_gen) {
                c->a20_gen = c->m->a20_gen;
                vp_tlb_flush(c, true);
                vp_bcache_flush(c->bcache);
                prev = NULL;
            }

            /* Instruction breakpoints, only while DR7 arms a breakpoint: a
             * fault that comes before any fetch fault (SDM Vol 3A,
             * "Priority Among Concurrent Events"). */
            if (c->dr_active && vp_dr_insn_breakpoint(c)) {
                prev = NULL;
                continue;
            }
            /* VIF and VIP both set under VME/PVI: #GP before the
             * instruction (v86.c; only block-ending instructions create
             * that state). */
            if ((c->flags & FL_VIP) && vp_vip_pending_fault(c)) {
                prev = NULL;
                continue;
            }
        }

        /* Fetch: CS limit (outside 64-bit mode), then the code TLB. */
        uint64_t lin;
        c->insn_rip = c->rip;
        if (c->code_size == 8) {
            lin = c->rip;
        } else {
            if (c->rip > c->seg[S_CS].limit) {
                vp_raise_err(c, EXC_GP, 0);
                deliver_pending_exception(c);
                continue;
            }
            lin = (c->seg[S_CS].base + c->rip) & 0xffffffffull;
        }
        vp_block *b = NULL;
        vp_link *lk = NULL;
        if (prev) {
            if (prev_exit >= 0) {
                lk = &prev->mid[prev_exit];
            } else {
                unsigned l = 0;
                while (l < VP_END_LINKS && prev->end[l].lin != lin)
                    l++;
                lk = l < VP_END_LINKS ? &prev->end[l]
                                      : &prev->end[prev->end_next++ %
                                                   VP_END_LINKS];
            }
            vp_block *cand = lk->blk;
            if (cand && lk->lin == lin && lk->epoch == c->link_epoch &&
                lk->cgen == pm->code_epoch) {
                b = cand;
                c->stats.dcache_chained++;
                goto run;
            }
        }
        uint64_t pn = lin >> 12;
        bool user = c->cpl == 3;
        vp_tlb_entry *te = &c->tlb.e[TLB_EXEC][user][pn & (VP_TLB_SIZE - 1)];
        uint64_t gpa;
        if (VP_LIKELY(te->tag == pn + 1)) {
            gpa = te->gpa | (lin & 0xfff);
            c->stats.tlb_hits[TLB_EXEC]++;
        } else if (vp_translate(c, lin, ACC_EXEC, &gpa)) {
            deliver_pending_exception(c);
            continue;
        }

        b = &c->bcache->b[bc_index(gpa, (unsigned)c->code_size)];
        if (!(b->mode == c->code_size && b->phys == gpa &&
              b->gen == pm->code_gen[b->page])) {
            b = decode_block(c, lin, gpa, b, &tmp);
            if (!b) {
                prev = NULL;
                deliver_pending_exception(c);
                continue;
            }
        } else {
            c->stats.dcache_hits++;
        }
        if (lk && b->mode) {
            /* After the TLB fill and decode, which may bump the epochs. */
            *lk = (vp_link){lin, b, c->link_epoch, pm->code_epoch};
        }
run:
        prev = NULL;

        unsigned n = b->n;
        uint64_t left = budget - (c->icount - start);
        if (left < n)
            n = (unsigned)left;
        /* Outside 64-bit mode every byte fetched must lie within the CS
         * limit (SDM Vol 3A, "Limit Checking"): run only the instructions
         * that fit; the first one that does not raises #GP(0). */
        if (VP_UNLIKELY(c->code_size != 8 &&
                        c->rip + b->bytes - 1 > c->seg[S_CS].limit)) {
            uint64_t end = c->rip;
            unsigned fit = 0;
            while (fit < n && end + b->insn[fit].len - 1 <= c->seg[S_CS].limit)
                end += b->insn[fit++].len;
            if (fit == 0) {
                vp_raise_err(c, EXC_GP, 0);
                deliver_pending_exception(c);
                continue;
            }
            n = fit;
        }
        if (VP_UNLIKELY(attn)) {
            /* An interrupt shadow limits the block to the shadowed
             * instruction so that events are recognised right after it. */
            if (c->shadow_until > c->icount && c->shadow_until - c->icount < n)
                n = (unsigned)(c->shadow_until - c->icount);
            /* Single-step: one instruction, then the #DB trap (SDM Vol 3B,
             * "Single-Step Exception Condition"). TF is sampled before the
             * instruction, so the instruction that sets it is not trapped.
             * RF suppresses instruction breakpoints for one instruction
             * and is cleared when that instruction completes (SDM Vol 3B,
             * "Resume Flag"); IRET may set it again from its image. Armed
             * debug registers: one instruction at a time, so that the
             * breakpoint checks bracket each one (debugreg.h). */
            bool tf = (c->flags & FL_TF) != 0;
            bool rf = (c->flags & FL_RF) != 0;
            bool one = tf || rf || c->dr_active;
            if (one || tr || c->debug_on) {
                run_block_slow(c, b, one ? 1 : n, tf, rf, tr);
                recheck = true;
                continue;
            }
        }
        if (VP_UNLIKELY(n < b->n ||
                        (c->code_size != 8 &&
                         c->rip + b->bytes > c->rip_mask))) {
            /* The budget or the CS limit ends the run inside the block, or
             * IP/EIP wraps around in it (chains do not reduce RIP): one
             * record at a time, the chains stop at the block's end. */
            run_block_slow(c, b, n, false, false, false);
            recheck = true;
            continue;
        }
        /* Run the chain from record 0; resume it after a generic handler
         * (which returns VP_OK without counting itself) and after a store
         * to a code page that left this block intact. */
        c->cur_blk = b;
        c->chain_limit = chain_limit(c);
        c->gpr[VP_GPR_BLKRIP] = c->rip;
        c->blk_icount = c->icount;
        unsigned k = 0;
        int r;
        for (;;) {
            const vp_insn *in = &b->insn[k];
            c->insn_rip = c->rip;
            c->rip = (c->rip + in->len) & c->rip_mask;
            r = in->fn(c, in);
            c->rip &= c->rip_mask;  /* vp_next does not reduce it */
            b = c->cur_blk;     /* the chain may have gone on to others */
            n = b->n;
            if (VP_UNLIKELY(c->icount_skew)) {
                c->blk_icount += c->icount_skew;
                c->icount_skew = 0;
            }
            /* The record that returned: chained handlers leave icount
             * exact when they leave a chain (vp_sync, insn.h). */
            k = (unsigned)(c->icount - c->blk_icount);
            if (r == VP_OK) {
                if (k >= n)
                    break;          /* the end marker */
                c->icount++;        /* a generic handler completed */
                k++;
            } else if (r != VP_SMC) {
                break;
            }
            c->chain_limit = chain_limit(c);
            /* Self-modifying code within the running block: any write to
             * a code page raises smc_flag (physmem.h). */
            if (VP_UNLIKELY(pm->smc_flag)) {
                pm->smc_flag = false;
                if (b->page >= 0 && pm->code_gen[b->page] != b->gen) {
                    r = VP_SMC;     /* counted; the block is stale */
                    recheck = true;
                    break;
                }
            }
            if (k >= n) {
                r = VP_OK;
                break;
            }
        }
        if (r == VP_OK) {
            if (b->mode) {
                prev = b;
                prev_exit = -1;
            }
        } else if (r == VP_EXC) {
            recheck = true;
            deliver_pending_exception(c);
        } else if (r != VP_SMC) {
            /* Left early (taken branch, HLT, ...): the successor link is
             * still valid, it is checked on use. A taken branch changes
             * nothing the checks at the top look at. */
            recheck |= r != VP_JUMP;
            c->icount++;
            if (b->mode) {
                prev = b;
                prev_exit = (int)k;
            }
        }
    }
    return c->icount - start;
}
