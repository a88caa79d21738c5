/* Hardware task switches through JMP, CALL, IRET with NT = 1, and
 * interrupts through task gates (SDM Vol 3A, "Task Management": "Task
 * Switching", "Task Linking", "Task-State Segment (TSS)", "TSS
 * Descriptor", "Task-Gate Descriptor"; Vol 2 JMP/CALL "TASK-GATE" and
 * "TASK-STATE-SEGMENT", IRET "TASK-RETURN"). 16- and 32-bit TSSs; IA-32e
 * mode has no task switches (the callers raise #GP there).
 *
 * Everything that can fail before the new TR is loaded leaves the state
 * untouched (the caller rolls back); faults while loading the new task's
 * segments happen in the new task, as the SDM describes. */
#include "emu/cpu/sys.h"
#include "emu/cpu/debugreg.h"

typedef struct tss_layout {
    uint32_t min_limit;
    unsigned reg;            /* register size: 2 or 4 */
    unsigned ip, flags, gpr; /* offsets */
    int seg[6];              /* ES CS SS DS FS GS, -1: not in this TSS */
    unsigned ldt;
    int cr3;                 /* -1: none */
} tss_layout;

static const tss_layout tss32 = {
    0x67, 4, 0x20, 0x24, 0x28, {0x48, 0x4c, 0x50, 0x54, 0x58, 0x5c}, 0x60,
    0x1c,
};
static const tss_layout tss16 = {
    0x2b, 2, 0x0e, 0x10, 0x12, {0x22, 0x24, 0x26, 0x28, -1, -1}, 0x2a, -1,
};

static const tss_layout *layout_of(unsigned type)
{
    return (type & 8) ? &tss32 : &tss16;
}

static int tss_rd(vp_cpu *c, uint64_t base, unsigned off, unsigned size,
                  uint64_t *v)
{
    return vp_read_lin(c, (base + off) & 0xffffffffull, size, v,
                       ACC_READ | ACC_SUPER);
}

static int tss_wr(vp_cpu *c, uint64_t base, unsigned off, unsigned size,
                  uint64_t v)
{
    return vp_write_lin(c, (base + off) & 0xffffffffull, size, v,
                        ACC_WRITE | ACC_SUPER);
}

/* The new task's state, read before anything changes. */
typedef struct task_state {
    uint64_t ip, flags, gpr[8], cr3, ldt;
    uint16_t seg[6];
    bool trap;
} task_state;

static int read_task(vp_cpu *c, const vp_seg *tss, const tss_layout *l,
                     task_state *t)
{
    uint64_t v;
    int r = tss_rd(c, tss->base, l->ip, l->reg, &t->ip);
    if (!r)
        r = tss_rd(c, tss->base, l->flags, l->reg, &t->flags);
    for (unsigned i = 0; !r && i < 8; i++)
        r = tss_rd(c, tss->base, l->gpr + i * l->reg, l->reg, &t->gpr[i]);
    for (int s = 0; !r && s < 6; s++) {
        t->seg[s] = 0;
        if (l->seg[s] >= 0) {
            r = tss_rd(c, tss->base, (unsigned)l->seg[s], 2, &v);
            t->seg[s] = (uint16_t)v;
        }
    }
    if (!r)
        r = tss_rd(c, tss->base, l->ldt, 2, &t->ldt);
    t->cr3 = 0;
    if (!r && l->cr3 >= 0)
        r = tss_rd(c, tss->base, (unsigned)l->cr3, 4, &t->cr3);
    t->trap = false;
    if (!r && l == &tss32) {
        r = tss_rd(c, tss->base, 0x64, 2, &v);
        t->trap = v & 1;
    }
    return r;
}

static int save_task(vp_cpu *c, const tss_layout *l, uint64_t ip,
                     uint64_t flags)
{
    uint64_t base = c->tr.base;
    int r = tss_wr(c, base, l->ip, l->reg, ip);
    if (!r)
        r = tss_wr(c, base, l->flags, l->reg, flags);
    for (unsigned i = 0; !r && i < 8; i++)
        r = tss_wr(c, base, l->gpr + i * l->reg, l->reg, c->gpr[i]);
    for (int s = 0; !r && s < 6; s++)
        if (l->seg[s] >= 0)
            r = tss_wr(c, base, (unsigned)l->seg[s], 2, c->seg[s].sel);
    return r;
}

/* ---- loading the new task's segments (after the commit) ------------- */

static int ts_fault(vp_cpu *c, int vec, uint16_t sel, uint32_t ext)
{
    return vp_raise_err(c, vec, sel_err(sel, ext));
}

static int load_task_ldt(vp_cpu *c, uint16_t sel, uint32_t ext)
{
    if (!(sel & ~3u)) {
        c->ldtr.sel = sel;
        c->ldtr.attr = SEGA_UNUSABLE;
        return VP_OK;
    }
    uint64_t lo, hi;
    if (sel & 4)
        return ts_fault(c, EXC_TS, sel, ext);
    int r = vp_desc_read(c, sel, EXC_TS, ext, &lo, &hi, false, NULL);
    if (r)
        return r;
    if (desc_s(lo) || desc_type(lo) != DT_LDT || !desc_present(lo))
        return ts_fault(c, EXC_TS, sel, ext);
    vp_desc_to_seg(lo, 0, sel, &c->ldtr);
    return VP_OK;
}

/* SDM Vol 3A, "Task Switching", step 13-14 and the #TS conditions of
 * "Interrupt 10 - Invalid TSS Exception (#TS)". */
static int load_task_seg(vp_cpu *c, int seg, uint16_t sel, unsigned cpl,
                         uint32_t ext)
{
    vp_seg *s = &c->seg[seg];
    if (!(sel & ~3u)) {
        if (seg == S_CS || seg == S_SS)
            return ts_fault(c, EXC_TS, sel, ext);
        vp_seg_null(c, s, sel);
        return VP_OK;
    }
    uint64_t lo, hi, addr;
    int r = vp_desc_read(c, sel, EXC_TS, ext, &lo, &hi, false, &addr);
    if (r)
        return r;
    vp_seg n;
    vp_desc_to_seg(lo, 0, sel, &n);
    unsigned dpl = SEGA_DPL(n.attr), rpl = sel & 3u;
    if (seg == S_CS) {
        if (!seg_code(n.attr) ||
            (seg_conforming(n.attr) ? dpl > rpl : dpl != rpl))
            return ts_fault(c, EXC_TS, sel, ext);
        if (!(n.attr & SEGA_P))
            return ts_fault(c, EXC_NP, sel, ext);
    } else if (seg == S_SS) {
        if (!seg_writable(n.attr) || dpl != cpl || rpl != cpl)
            return ts_fault(c, EXC_TS, sel, ext);
        if (!(n.attr & SEGA_P))
            return ts_fault(c, EXC_SS, sel, ext);
    } else {
        if (!seg_readable(n.attr) ||
            (!seg_conforming(n.attr) && (dpl < cpl || dpl < rpl)))
            return ts_fault(c, EXC_TS, sel, ext);
        if (!(n.attr & SEGA_P))
            return ts_fault(c, EXC_NP, sel, ext);
    }
    r = vp_desc_set_bits(c, addr, lo, 1);
    if (r)
        return r;
    n.attr |= 1;
    *s = n;
    return VP_OK;
}

static int load_task(vp_cpu *c, const task_state *t, const tss_layout *l,
                     uint32_t ext)
{
    int r;
    /* Selectors first, caches unusable until each is checked. */
    for (int s = 0; s < 6; s++) {
        if (l->seg[s] < 0)
            continue;
        c->seg[s].sel = t->seg[s];
        if (!(t->flags & FL_VM))
            c->seg[s].attr |= SEGA_UNUSABLE;
    }
    r = load_task_ldt(c, (uint16_t)t->ldt, ext);
    if (r)
        return r;
    if (t->flags & FL_VM) {
        for (int s = 0; s < 6; s++)
            vp_seg_real(&c->seg[s], t->seg[s], true);
        vp_update_mode(c);
        return VP_OK;
    }
    unsigned cpl = t->seg[S_CS] & 3u;
    /* The CPL of the new task is its CS.RPL; SS.DPL follows once SS is
     * loaded. */
    static const int order[] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};
    for (size_t i = 0; i < VP_ARRAY_SIZE(order); i++) {
        int s = order[i];
        if (l->seg[s] < 0)
            continue;
        r = load_task_seg(c, s, t->seg[s], cpl, ext);
        if (r)
            return r;
    }
    vp_update_mode(c);
    if (c->rip > c->seg[S_CS].limit)
        return vp_raise_err(c, EXC_GP, ext);
    return VP_OK;
}

/* ---- the switch ------------------------------------------------------ */

int vp_task_switch(vp_cpu *c, uint16_t sel, int source, uint32_t ext,
                   bool has_err, uint32_t err, uint64_t ret_rip,
                   bool *committed)
{
    uint64_t lo, hi, addr;
    int r;
    *committed = false;
    if (c->long_mode)
        return vp_raise_err(c, EXC_GP, sel_err(sel, ext));

    /* JMP/CALL may name a task gate; IDT task gates and IRET give the TSS
     * selector directly. */
    uint16_t tss_sel = sel;
    if (source == TS_JMP || source == TS_CALL) {
        r = vp_desc_read(c, sel, EXC_GP, 0, &lo, &hi, false, &addr);
        if (r)
            return r;
        unsigned dpl = desc_dpl(lo);
        if (dpl < (unsigned)c->cpl || dpl < (sel & 3u))
            return ts_fault(c, EXC_GP, sel, 0);
        if (!desc_present(lo))
            return ts_fault(c, EXC_NP, sel, 0);
        if (desc_type(lo) == DT_TASK)
            tss_sel = gate_sel(lo);
    }
    int bad_vec = source == TS_IRET ? EXC_TS : EXC_GP;
    if (tss_sel & 4)
        return ts_fault(c, bad_vec, tss_sel, ext);
    r = vp_desc_read(c, tss_sel, bad_vec, ext, &lo, &hi, false, &addr);
    if (r)
        return r;
    unsigned type = desc_type(lo);
    bool want_busy = source == TS_IRET;
    if (desc_s(lo) || !(type == DT_TSS16 || type == DT_TSS32 ||
                        type == DT_TSS16_BUSY || type == DT_TSS32_BUSY) ||
        ((type & 2) != 0) != want_busy)
        return ts_fault(c, bad_vec, tss_sel, ext);
    if (!desc_present(lo))
        return ts_fault(c, EXC_NP, tss_sel, ext);
    vp_seg tss;
    vp_desc_to_seg(lo, 0, tss_sel, &tss);
    const tss_layout *nl = layout_of(type);
    if (tss.limit < nl->min_limit)
        return ts_fault(c, EXC_TS, tss_sel, ext);
    if ((c->tr.attr & SEGA_UNUSABLE) || (c->tr.attr & SEGA_S))
        return ts_fault(c, EXC_TS, c->tr.sel, ext);
    const tss_layout *ol = layout_of(SEGA_TYPE(c->tr.attr));
    if (c->tr.limit < ol->min_limit)
        return ts_fault(c, EXC_TS, c->tr.sel, ext);

    task_state t;
    r = read_task(c, &tss, nl, &t);
    if (r)
        return r;

    VP_TRACE(&c->m->trace, INT, "task switch (%s) %#x -> %#x",
             (const char *[]){"jmp", "call", "iret", "interrupt"}[source],
             c->tr.sel, tss_sel);

    /* Old task: JMP and IRET free its TSS; IRET clears its NT. */
    uint64_t oflags = vp_flags(c);
    if (source == TS_JMP || source == TS_IRET) {
        uint64_t olo, ohi, oaddr;
        r = vp_desc_read(c, c->tr.sel, EXC_TS, ext, &olo, &ohi, false, &oaddr);
        if (!r)
            r = vp_desc_clear_bits(c, oaddr, olo, 2);
        if (r)
            return r;
        c->tr.attr &= ~2u;
        if (source == TS_IRET)
            oflags &= ~FL_NT;
    }
    r = save_task(c, ol, ret_rip, oflags);
    if (r)
        return r;

    /* New task: CALL and interrupts link back and set NT; all but IRET
     * mark it busy. */
    if (source == TS_CALL || source == TS_INT) {
        r = tss_wr(c, tss.base, 0, 2, c->tr.sel);
        if (r)
            return r;
        t.flags |= FL_NT;
    }
    if (source != TS_IRET) {
        r = vp_desc_set_bits(c, addr, lo, 2);
        if (r)
            return r;
    }

    /* Commit: TR, CR0.TS, then the new state. */
    *committed = true;
    tss.attr |= 2;
    c->tr = tss;
    c->cr0 |= CR0_TS;
    /* Local breakpoint enables L0-L3 belong to the old task (SDM Vol 3B,
     * "Debug Control Register (DR7)"). */
    if (c->dr[7] & 0x55) {
        c->dr[7] &= ~0x55ull;
        vp_dr_update(c);
    }
    c->flags = (t.flags & (nl->reg == 2 ? 0xffffull : 0x3f7fd5ull)) |
               FL_FIXED1;
    c->lf_op = 0;
    c->rip = t.ip;
    for (int i = 0; i < 8; i++) {
        if (nl->reg == 2)
            c->gpr[i] = (c->gpr[i] & ~0xffffull) | (t.gpr[i] & 0xffff);
        else
            c->gpr[i] = t.gpr[i] & 0xffffffffull;
    }
    if (nl->cr3 >= 0 && (c->cr0 & CR0_PG)) {
        r = vp_write_cr(c, 3, t.cr3);
        if (r)
            return r;
    }
    r = load_task(c, &t, nl, ext);
    if (r)
        return r;
    if (has_err) {
        vp_stack st;
        vp_stack_init(c, &st, &c->seg[S_SS], c->gpr[R_SP], ext);
        r = vp_stack_push(c, &st, nl->reg, err);
        if (r)
            return r;
        vp_set_sp(c, st.ssize, st.sp);
    }
    /* The new TSS's T flag: a debug trap once the switch is complete,
     * before the new task's first instruction, with DR6.BT set (SDM Vol
     * 3A, "Task-State Segment (TSS)"; Vol 3B, "Task-Switch Exception
     * Condition"). */
    if (t.trap)
        vp_dr_raise_db(c, DR6_BT);
    return VP_OK;
}
