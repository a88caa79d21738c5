/* Event delivery through the IVT/IDT and the return from it (IRET), in
 * real, protected, virtual-8086 and IA-32e mode, with the double-fault
 * rules and the triple-fault shutdown. SDM Vol 3A, "Interrupt and
 * Exception Handling" ("Interrupt Descriptor Table (IDT)", "Exception and
 * Interrupt Handling", "Interrupt Handling in 64-bit Mode", "Exception and
 * Interrupt Reference: Interrupt 8 - Double Fault Exception (#DF)"),
 * "Interrupt and Exception Handling in Virtual-8086 Mode"; Vol 2 INT n
 * and IRET. */
#include "emu/cpu/sys.h"

/* One event being delivered. */
typedef struct event {
    int vec;
    int kind;            /* EV_* */
    bool has_err;
    uint32_t err;
    uint64_t rip;        /* RIP pushed as the return address */
    uint32_t ext;        /* EXT bit for error codes of faults on the way */
    bool committed;      /* a task switch has committed: no rollback */
} event;

/* ---- classification -------------------------------------------------- */

enum { CLS_BENIGN, CLS_CONTRIB, CLS_PF, CLS_DF };

/* SDM Vol 3A, Interrupt 8, "Interrupt and Exception Classes". Software
 * interrupts, NMI and external interrupts are benign as first events. */
static int exc_class(int vec, int kind)
{
    if (kind != EV_HWEXC)
        return CLS_BENIGN;
    switch (vec) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
        return CLS_CONTRIB;
    case EXC_PF: case EXC_VE:
        return CLS_PF;
    case EXC_DF:
        return CLS_DF;
    default:
        return CLS_BENIGN;
    }
}

/* Exceptions that push an error code (SDM Vol 3A, "Error Code"). */
static bool pushes_error(int vec, int kind)
{
    if (kind != EV_HWEXC)
        return false;
    switch (vec) {
    case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
    case EXC_PF: case EXC_AC: case EXC_CP:
        return true;
    default:
        return false;
    }
}

static bool is_software(int kind)
{
    return kind == EV_SWINT || kind == EV_SWEXC || kind == EV_PRIV_SWEXC;
}

/* Fault-class exceptions save RF = 1 in the pushed flags image so that the
 * restarted instruction does not hit its instruction breakpoint again
 * (SDM Vol 3A, "EFLAGS.RF"); #DB, traps and aborts do not. */
static bool sets_rf(int vec, int kind)
{
    if (kind != EV_HWEXC)
        return false;
    switch (vec) {
    case EXC_DB: case EXC_NMI: case EXC_BP: case EXC_OF: case EXC_DF:
    case EXC_MC:
        return false;
    default:
        return true;
    }
}

static const char *kind_name(int kind)
{
    static const char *const n[] = {"external interrupt", "NMI",
                                    "exception", "INT n", "INT1",
                                    "INT3/INTO"};
    return kind >= 0 && kind < (int)VP_ARRAY_SIZE(n) ? n[kind] : "?";
}

/* The flags image and the flags after the transfer. */
static uint64_t pushed_flags(vp_cpu *c, const event *e)
{
    uint64_t f = vp_flags(c);
    if (sets_rf(e->vec, e->kind))
        f |= FL_RF;
    return f;
}

/* ---- real mode ------------------------------------------------------- */

/* SDM Vol 3A, "Interrupt and Exception Handling in Real-Address Mode":
 * 4-byte IVT entries at IDTR.base, FLAGS/CS/IP pushed, IF/TF/AC cleared. */
static int deliver_real(vp_cpu *c, event *e)
{
    uint64_t a = (uint64_t)e->vec * 4, ent;
    if (a + 3 > c->idtr.limit)
        return vp_raise_err(c, EXC_GP, 0);
    int r = vp_read_lin(c, (c->idtr.base + a) & 0xffffffffull, 4, &ent,
                        ACC_READ | ACC_SUPER);
    if (r)
        return r;
    vp_stack st;
    vp_stack_init(c, &st, &c->seg[S_SS], c->gpr[R_SP], 0);
    r = vp_stack_push(c, &st, 2, pushed_flags(c, e));
    if (!r)
        r = vp_stack_push(c, &st, 2, c->seg[S_CS].sel);
    if (!r)
        r = vp_stack_push(c, &st, 2, e->rip);
    if (r)
        return r;
    vp_set_sp(c, st.ssize, st.sp);
    c->flags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
    vp_seg_real(&c->seg[S_CS], (uint16_t)(ent >> 16), false);
    c->rip = ent & 0xffff;
    vp_update_mode(c);
    return VP_OK;
}

/* ---- gate checks common to protected and IA-32e mode ---------------- */

/* Software interrupts check the gate DPL against CPL (not INT1, not
 * hardware events): #GP(vector * 8 + 2). Then presence: #NP. */
static int gate_checks(vp_cpu *c, const event *e, uint64_t lo)
{
    uint32_t idt_err = (uint32_t)e->vec * 8 + 2 + e->ext;
    if ((e->kind == EV_SWINT || e->kind == EV_SWEXC) &&
        desc_dpl(lo) < (unsigned)c->cpl)
        return vp_raise_err(c, EXC_GP, (uint32_t)e->vec * 8 + 2);
    if (!desc_present(lo))
        return vp_raise_err(c, EXC_NP, idt_err);
    return VP_OK;
}

/* The handler's code segment named by the gate. */
static int handler_cs(vp_cpu *c, const event *e, uint64_t lo, vp_seg *cs)
{
    uint16_t tsel = gate_sel(lo);
    uint64_t clo, chi, addr;
    if (!(tsel & ~3u))
        return vp_raise_err(c, EXC_GP, e->ext);
    int r = vp_desc_read(c, tsel, EXC_GP, e->ext, &clo, &chi, false, &addr);
    if (r)
        return r;
    vp_desc_to_seg(clo, 0, tsel, cs);
    if (!seg_code(cs->attr) || SEGA_DPL(cs->attr) > (unsigned)c->cpl)
        return vp_raise_err(c, EXC_GP, sel_err(tsel, e->ext));
    if (!(cs->attr & SEGA_P))
        return vp_raise_err(c, EXC_NP, sel_err(tsel, e->ext));
    if (c->long_mode && (!(cs->attr & SEGA_L) || (cs->attr & SEGA_DB)))
        return vp_raise_err(c, EXC_GP, sel_err(tsel, e->ext));
    return vp_desc_set_bits(c, addr, clo, 1);
}

static void after_delivery_flags(vp_cpu *c, bool trap)
{
    c->flags &= ~(FL_TF | FL_NT | FL_VM | FL_RF);
    if (!trap)
        c->flags &= ~FL_IF;
}

/* ---- protected mode (and virtual-8086 mode) -------------------------- */

static int deliver_prot(vp_cpu *c, event *e)
{
    uint32_t idt_err = (uint32_t)e->vec * 8 + 2 + e->ext;
    uint64_t a = (uint64_t)e->vec * 8, lo;
    if (a + 7 > c->idtr.limit)
        return vp_raise_err(c, EXC_GP, idt_err);
    int r = vp_read_lin(c, (c->idtr.base + a) & 0xffffffffull, 8, &lo,
                        ACC_READ | ACC_SUPER);
    if (r)
        return r;
    unsigned t = desc_type(lo);
    if (desc_s(lo) || !(t == DT_TASK || t == DT_INT16 || t == DT_TRAP16 ||
                        t == DT_INT32 || t == DT_TRAP32))
        return vp_raise_err(c, EXC_GP, idt_err);
    r = gate_checks(c, e, lo);
    if (r)
        return r;
    bool push_err = e->has_err && pushes_error(e->vec, e->kind);
    if (t == DT_TASK)
        return vp_task_switch(c, gate_sel(lo), TS_INT, e->ext, push_err,
                              e->err, e->rip, &e->committed);

    vp_seg cs;
    r = handler_cs(c, e, lo, &cs);
    if (r)
        return r;
    unsigned gsize = (t & 8) ? 4 : 2;
    uint64_t off = gate_off(lo, 0, gsize);
    unsigned cpl = (unsigned)c->cpl, dpl = SEGA_DPL(cs.attr);
    bool inner = !seg_conforming(cs.attr) && dpl < cpl;
    bool from_v86 = c->v86;
    uint16_t tsel = gate_sel(lo);
    /* From virtual-8086 mode only a ring-0 nonconforming handler. */
    if (from_v86 && (!inner || dpl != 0))
        return vp_raise_err(c, EXC_GP, sel_err(tsel, e->ext));

    uint64_t flags = pushed_flags(c, e);
    uint64_t old_sp = c->gpr[R_SP];
    uint16_t old_ss = c->seg[S_SS].sel, old_cs = c->seg[S_CS].sel;
    vp_seg old_data[4] = {c->seg[S_GS], c->seg[S_FS], c->seg[S_DS],
                          c->seg[S_ES]};
    vp_stack st;
    if (inner) {
        uint16_t ss_sel;
        uint64_t new_sp, ss_addr, ss_lo;
        vp_seg ss;
        r = vp_tss_stack(c, dpl, e->ext, &ss_sel, &new_sp);
        if (!r)
            r = vp_check_new_ss(c, ss_sel, dpl, e->ext, &ss, &ss_addr,
                                &ss_lo);
        if (!r)
            r = vp_desc_set_bits(c, ss_addr, ss_lo, 1);
        if (r)
            return r;
        ss.attr |= 1;
        c->seg[S_SS] = ss;
        c->flags &= ~FL_VM;     /* leave V86 before the mode is computed */
        r = vp_enter_cs(c, &cs, tsel, dpl, off, e->ext);
        if (r)
            return r;
        vp_stack_init(c, &st, &c->seg[S_SS], new_sp, sel_err(ss_sel, e->ext));
        /* SDM Vol 2 INT n, "INTERRUPT-FROM-VIRTUAL-8086-MODE". */
        for (int i = 0; from_v86 && !r && i < 4; i++)
            r = vp_stack_push(c, &st, gsize, old_data[i].sel);
        if (!r)
            r = vp_stack_push(c, &st, gsize, old_ss);
        if (!r)
            r = vp_stack_push(c, &st, gsize, old_sp);
    } else {
        r = vp_enter_cs(c, &cs, tsel, cpl, off, e->ext);
        if (r)
            return r;
        vp_stack_init(c, &st, &c->seg[S_SS], old_sp, e->ext);
    }
    if (!r)
        r = vp_stack_push(c, &st, gsize, flags);
    if (!r)
        r = vp_stack_push(c, &st, gsize, old_cs);
    if (!r)
        r = vp_stack_push(c, &st, gsize, e->rip);
    if (!r && push_err)
        r = vp_stack_push(c, &st, gsize, e->err);
    if (r)
        return r;
    vp_set_sp(c, st.ssize, st.sp);
    if (from_v86) {
        vp_seg_null(c, &c->seg[S_GS], 0);
        vp_seg_null(c, &c->seg[S_FS], 0);
        vp_seg_null(c, &c->seg[S_DS], 0);
        vp_seg_null(c, &c->seg[S_ES], 0);
    }
    after_delivery_flags(c, t & 1);
    vp_update_mode(c);
    return VP_OK;
}

/* ---- IA-32e mode ----------------------------------------------------- */

/* SDM Vol 3A, "Interrupt Handling in 64-bit Mode": 16-byte gates, 64-bit
 * handlers only, IST, RSP aligned to 16 bytes, SS:RSP always pushed. */
static int deliver_long(vp_cpu *c, event *e)
{
    uint32_t idt_err = (uint32_t)e->vec * 8 + 2 + e->ext;
    uint64_t a = (uint64_t)e->vec * 16, lo, hi;
    if (a + 15 > c->idtr.limit)
        return vp_raise_err(c, EXC_GP, idt_err);
    int r = vp_read_lin(c, c->idtr.base + a, 8, &lo, ACC_READ | ACC_SUPER);
    if (!r)
        r = vp_read_lin(c, c->idtr.base + a + 8, 8, &hi, ACC_READ | ACC_SUPER);
    if (r)
        return r;
    unsigned t = desc_type(lo);
    if (desc_s(lo) || !(t == DT_INT32 || t == DT_TRAP32))
        return vp_raise_err(c, EXC_GP, idt_err);
    r = gate_checks(c, e, lo);
    if (r)
        return r;
    vp_seg cs;
    r = handler_cs(c, e, lo, &cs);
    if (r)
        return r;
    unsigned cpl = (unsigned)c->cpl, dpl = SEGA_DPL(cs.attr);
    bool inner = !seg_conforming(cs.attr) && dpl < cpl;
    unsigned ist = (unsigned)(lo >> 32) & 7;
    uint64_t rsp = c->gpr[R_SP];
    if (ist)
        r = vp_tss_read64(c, 0x24 + 8 * (ist - 1), e->ext, &rsp);
    else if (inner)
        r = vp_tss_read64(c, 4 + 8 * dpl, e->ext, &rsp);
    if (r)
        return r;
    if (!vp_canonical(c, rsp))
        return vp_raise_err(c, EXC_SS, e->ext);
    rsp &= ~0xfull;

    uint64_t flags = pushed_flags(c, e);
    uint64_t old_sp = c->gpr[R_SP];
    uint16_t old_ss = c->seg[S_SS].sel, old_cs = c->seg[S_CS].sel;
    if (inner) {
        /* A null SS with RPL = new CPL. */
        vp_seg_null_ss(c, &c->seg[S_SS], (uint16_t)dpl, dpl);
    }
    r = vp_enter_cs(c, &cs, gate_sel(lo), inner ? dpl : cpl,
                    gate_off(lo, hi, 8), e->ext);
    if (r)
        return r;
    vp_stack st;
    vp_stack_init(c, &st, &c->seg[S_SS], rsp, e->ext);
    r = vp_stack_push(c, &st, 8, old_ss);
    if (!r)
        r = vp_stack_push(c, &st, 8, old_sp);
    if (!r)
        r = vp_stack_push(c, &st, 8, flags);
    if (!r)
        r = vp_stack_push(c, &st, 8, old_cs);
    if (!r)
        r = vp_stack_push(c, &st, 8, e->rip);
    if (!r && e->has_err && pushes_error(e->vec, e->kind))
        r = vp_stack_push(c, &st, 8, e->err);
    if (r)
        return r;
    c->gpr[R_SP] = st.sp;
    after_delivery_flags(c, t & 1);
    vp_update_mode(c);
    return VP_OK;
}

/* ---- the delivery loop ----------------------------------------------- */

static int deliver_once(vp_cpu *c, event *e)
{
    if (!(c->cr0 & CR0_PE))
        return deliver_real(c, e);
    if (c->long_mode)
        return deliver_long(c, e);
    return deliver_prot(c, e);
}

static void triple_fault(vp_cpu *c, int vec)
{
    VP_TRACE(&c->m->trace, INT,
             "triple fault: exception %d while delivering #DF: shutdown",
             vec);
    c->shutdown = true;
    c->halted = true;
    c->mwait = false;
}

void vp_deliver_event(vp_cpu *c, int vector, int kind, bool has_error,
                      uint32_t error, uint64_t next_rip)
{
    event e = {
        .vec = vector, .kind = kind, .has_err = has_error, .err = error,
        /* Software interrupts return after the instruction; other events
         * push RIP as the exec loop left it (restored to insn_rip for
         * faults, the next instruction for traps and interrupts). */
        .rip = is_software(kind) ? next_rip : c->rip,
        .ext = is_software(kind) && kind != EV_PRIV_SWEXC ? 0 : 1,
    };
    /* #DF and #AC push error code 0 even when raised without one. */
    if (pushes_error(vector, kind) && !has_error) {
        e.has_err = true;
        e.err = 0;
    }
    c->exc.vector = -1;
    c->halted = false;
    /* Any event (interrupt, exception, INT n) triggers the monitor of
     * MONITOR/MWAIT (SDM Vol 3A, "MONITOR/MWAIT Instruction"). */
    c->monitor_armed = false;

    vp_xstate x;
    vp_xsave(c, &x);
    for (int depth = 0;; depth++) {
        c->delivering = e.vec;
        VP_TRACE(&c->m->trace, INT, "deliver %s %d%s err %#x, return %#llx",
                 kind_name(e.kind), e.vec, e.has_err ? "" : " (no code)",
                 e.err, (unsigned long long)e.rip);
        e.committed = false;
        if (deliver_once(c, &e) == VP_OK) {
            if (e.kind == EV_NMI)
                c->nmi_blocked = true;
            break;
        }
        /* The delivery faulted: undo it (unless a task switch already
         * committed: the fault then belongs to the new task) and apply
         * the double-fault rules to the new exception. */
        int v2 = c->exc.vector;
        bool he2 = c->exc.has_error;
        uint32_t e2 = c->exc.error;
        c->exc.vector = -1;
        if (e.committed)
            vp_xsave(c, &x);
        else
            vp_xrestore(c, &x);
        VP_TRACE(&c->m->trace, INT, "exception %d (%#x) delivering %d", v2,
                 e2, e.vec);
        int c1 = exc_class(e.vec, e.kind), c2 = exc_class(v2, EV_HWEXC);
        if (c1 == CLS_DF || depth >= 8) {
            triple_fault(c, v2);
            break;
        }
        /* The nested fault's return address: the INT instruction for a
         * software interrupt, otherwise what the first event pushed. */
        if (is_software(e.kind))
            e.rip = c->insn_rip;
        if (e.committed)
            e.rip = c->rip;
        if ((c1 == CLS_CONTRIB && c2 == CLS_CONTRIB) ||
            (c1 == CLS_PF && (c2 == CLS_CONTRIB || c2 == CLS_PF))) {
            e.vec = EXC_DF;
            e.has_err = true;
            e.err = 0;
        } else {
            e.vec = v2;
            e.has_err = he2 || pushes_error(v2, EV_HWEXC);
            e.err = he2 ? e2 : 0;
        }
        e.kind = EV_HWEXC;
        e.ext = 1;
    }
    c->delivering = -1;
}

/* ---- IRET ------------------------------------------------------------ */

/* Flags IRET may change (SDM Vol 2 IRET): IF only when CPL <= IOPL, IOPL,
 * VIF and VIP only at CPL 0, evaluated at the CPL before the return. */
static uint64_t iret_flags(vp_cpu *c, uint64_t img, unsigned osize)
{
    uint64_t old = vp_flags(c);
    unsigned cpl = (unsigned)c->cpl, iopl = (unsigned)((old >> 12) & 3);
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (osize >= 4)
        mask |= FL_RF | FL_AC | FL_ID;
    if (cpl <= iopl)
        mask |= FL_IF;
    if (cpl == 0) {
        mask |= FL_IOPL;
        if (osize >= 4)
            mask |= FL_VIF | FL_VIP;
    }
    if (osize == 2)
        mask &= 0xffff;
    return ((old & ~mask) | (img & mask) | FL_FIXED1);
}

int vp_pop_iret_frame(vp_cpu *c, vp_stack *st, unsigned size, uint64_t *ip,
                      uint64_t *cs, uint64_t *fl)
{
    vp_stack_init(c, st, &c->seg[S_SS], c->gpr[R_SP], 0);
    int r = vp_stack_pop(c, st, size, ip);
    if (!r)
        r = vp_stack_pop(c, st, size, cs);
    if (!r)
        r = vp_stack_pop(c, st, size, fl);
    return r;
}

static int iret_real(vp_cpu *c, unsigned osize)
{
    vp_stack st;
    uint64_t ip, cs, fl;
    int r = vp_pop_iret_frame(c, &st, osize, &ip, &cs, &fl);
    if (r)
        return r;
    if (ip > c->seg[S_CS].limit)
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t old = vp_flags(c);
    if (c->v86) {
        /* IOPL 3 only (checked by the caller); VM, IOPL, VIP, VIF stay. */
        uint64_t keep = FL_VM | FL_IOPL | FL_VIP | FL_VIF;
        if (osize == 2)
            keep |= ~0xffffull;
        c->flags = (old & keep) | (fl & ~keep);
    } else if (osize == 4) {
        c->flags = (fl & 0x257fd5) | (old & 0x1a0000);
    } else {
        c->flags = (old & ~0xffffull) | (fl & 0xffff);
    }
    c->flags = (c->flags & 0x3f7fd5) | FL_FIXED1;
    vp_seg_real(&c->seg[S_CS], (uint16_t)cs, c->v86);
    c->rip = ip;
    vp_set_sp(c, st.ssize, st.sp);
    vp_update_mode(c);
    return VP_OK;
}

/* SDM Vol 2 IRET, "RETURN-TO-VIRTUAL-8086-MODE" (CPL 0, 32-bit). */
static int iret_to_v86(vp_cpu *c, vp_stack *st, uint64_t ip, uint64_t cs,
                       uint64_t fl)
{
    uint64_t v[6];     /* ESP, SS, ES, DS, FS, GS */
    for (int i = 0; i < 6; i++) {
        int r = vp_stack_pop(c, st, 4, &v[i]);
        if (r)
            return r;
    }
    if (ip > 0xffff)
        return vp_raise_err(c, EXC_GP, 0);
    c->flags = (fl & 0x3f7fd5) | FL_FIXED1 | FL_VM;
    c->flags &= 0xffffffffull;
    vp_seg_real(&c->seg[S_CS], (uint16_t)cs, true);
    vp_seg_real(&c->seg[S_SS], (uint16_t)v[1], true);
    vp_seg_real(&c->seg[S_ES], (uint16_t)v[2], true);
    vp_seg_real(&c->seg[S_DS], (uint16_t)v[3], true);
    vp_seg_real(&c->seg[S_FS], (uint16_t)v[4], true);
    vp_seg_real(&c->seg[S_GS], (uint16_t)v[5], true);
    c->rip = ip;
    c->gpr[R_SP] = v[0] & 0xffffffffull;
    vp_update_mode(c);
    return VP_OK;
}

static int iret_prot(vp_cpu *c, unsigned osize, bool *committed)
{
    uint64_t fl0 = vp_flags(c);
    if (fl0 & FL_NT) {
        /* Return from a nested task (SDM Vol 3A, "Task Linking"). */
        if (c->long_mode)
            return vp_raise_err(c, EXC_GP, 0);
        uint64_t link;
        int r = vp_read_lin(c, c->tr.base & 0xffffffffull, 2, &link,
                            ACC_READ | ACC_SUPER);
        if (r)
            return r;
        return vp_task_switch(c, (uint16_t)link, TS_IRET, 0, false, 0,
                              c->rip, committed);
    }
    vp_stack st;
    uint64_t ip, csv, fl;
    int r = vp_pop_iret_frame(c, &st, osize, &ip, &csv, &fl);
    if (r)
        return r;
    if (!c->long_mode && osize == 4 && (fl & FL_VM) && c->cpl == 0)
        return iret_to_v86(c, &st, ip, csv, fl);

    uint16_t sel = (uint16_t)csv;
    unsigned cpl = (unsigned)c->cpl, rpl = sel & 3u;
    uint64_t lo, addr;
    vp_seg cs;
    r = vp_check_return_cs(c, sel, &cs, &lo, &addr);
    if (r)
        return r;

    uint64_t new_flags = iret_flags(c, fl, osize);
    ip &= size_mask(osize);
    /* In 64-bit mode IRET always pops SS:RSP. */
    bool pop_ss = rpl > cpl || c->code_size == 8;
    if (!pop_ss) {
        r = vp_desc_set_bits(c, addr, lo, 1);
        if (r)
            return r;
        c->flags = new_flags;
        r = vp_enter_cs(c, &cs, sel, cpl, ip, 0);
        if (r)
            return r;
        vp_set_sp(c, st.ssize, st.sp);
        return VP_OK;
    }

    uint64_t new_sp, ssv;
    r = vp_stack_pop(c, &st, osize, &new_sp);
    if (!r)
        r = vp_stack_pop(c, &st, osize, &ssv);
    if (r)
        return r;
    vp_seg ss;
    uint64_t ss_addr = 0, ss_lo = 0;
    bool ss_null = !((uint16_t)ssv & ~3u);
    r = vp_check_return_ss(c, (uint16_t)ssv, &cs, &ss, &ss_addr, &ss_lo);
    if (!r && !ss_null)
        r = vp_desc_set_bits(c, ss_addr, ss_lo, 1);
    if (!r)
        r = vp_desc_set_bits(c, addr, lo, 1);
    if (r)
        return r;
    if (!ss_null)
        ss.attr |= 1;
    c->flags = new_flags;
    c->seg[S_SS] = ss;
    r = vp_enter_cs(c, &cs, sel, rpl, ip, 0);
    if (r)
        return r;
    /* A 16-bit stack gets only SP: ESP[31:16] keep their value. */
    vp_stack nst;
    vp_stack_init(c, &nst, &c->seg[S_SS], new_sp, 0);
    vp_set_sp(c, nst.ssize, new_sp);
    if (rpl > cpl)
        vp_null_outer_segs(c);
    return VP_OK;
}

int vp_iret(vp_cpu *c, unsigned osize)
{
    /* NMI blocking ends with IRET, even one that faults (SDM Vol 3A,
     * "NMI Handling While Processing an NMI"). */
    c->nmi_blocked = false;
    if (c->v86 && ((vp_flags(c) >> 12) & 3) < 3) {
        if (c->cr4 & CR4_VME)
            return vp_v86_iret_vme(c, osize);    /* v86.c */
        return vp_raise_err(c, EXC_GP, 0);   /* no VME: trap to monitor */
    }
    vp_xstate x;
    bool committed = false;
    vp_xsave(c, &x);
    int r = (!(c->cr0 & CR0_PE) || c->v86) ? iret_real(c, osize)
                                           : iret_prot(c, osize, &committed);
    if (r == VP_EXC) {
        if (committed)
            c->insn_rip = c->rip;
        else
            vp_xrestore(c, &x);
    }
    return r;
}
