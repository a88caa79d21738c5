/* Virtual-8086 mode extensions (CR4.VME): software interrupts redirected
 * through the TSS's interrupt redirection bit map to the 8086 program's
 * own interrupt vector table, and IRET with the virtual interrupt flag.
 * SDM Vol 3A, "8086 Emulation": "Interrupt and Exception Handling in
 * Virtual-8086 Mode", "Class 3 - Software Interrupt Handling in Virtual-8086
 * Mode" (the table "Software Interrupt Handling Methods While in
 * Virtual-8086 Mode"), "Virtual Interrupt Mechanism"; Vol 2 INT n and
 * IRET. CLI, STI, PUSHF and POPF with VME/PVI are in ops_sys.c; delivery
 * to protected-mode handlers is intr.c's. */
#include "emu/cpu/sys.h"

static unsigned iopl(const vp_cpu *c)
{
    return (unsigned)((c->flags & FL_IOPL) >> 12);
}

/* Bit `vec` of the interrupt redirection bit map: the 32 bytes just below
 * the I/O permission bit map of the current 32-bit TSS. #GP(0) when the
 * TSS has no such map within its limit. */
static int redir_bit(vp_cpu *c, unsigned vec, bool *set)
{
    const vp_seg *tr = &c->tr;
    if ((tr->attr & SEGA_UNUSABLE) || !seg_tss32(tr->attr) ||
        tr->limit < 0x67) {
        VP_TRACE(&c->m->trace, EXC, "INT %#x in V86 with VME: no 32-bit TSS",
                 vec);
        return vp_raise_err(c, EXC_GP, 0);
    }
    uint64_t iomap, byte;
    int r = vp_read_lin(c, (tr->base + 0x66) & 0xffffffffull, 2, &iomap,
                        ACC_READ | ACC_SUPER);
    if (r)
        return r;
    uint64_t off = iomap - 32 + vec / 8;
    if (iomap < 32 || off > tr->limit) {
        VP_TRACE(&c->m->trace, EXC,
                 "INT %#x in V86 with VME: redirection map beyond the TSS", vec);
        return vp_raise_err(c, EXC_GP, 0);
    }
    r = vp_read_lin(c, (tr->base + off) & 0xffffffffull, 1, &byte,
                    ACC_READ | ACC_SUPER);
    if (r)
        return r;
    *set = (byte >> (vec & 7)) & 1;
    return VP_OK;
}

/* Methods 5 and 6: the 8086 program's handler through its interrupt
 * vector table at linear address 0, as an 8086 would (16-bit FLAGS, CS,
 * IP pushed on the virtual-8086 stack). */
static int redirect(vp_cpu *c, unsigned vec, uint64_t next_ip)
{
    uint64_t ent, f = vp_flags(c), old_sp = c->gpr[R_SP];
    int r = vp_read_lin(c, (uint64_t)vec * 4, 4, &ent, ACC_READ);
    if (r)
        return r;
    uint64_t image = f & 0xffff;
    if (iopl(c) < 3) {
        /* Method 6: the image shows VIF as IF and IOPL as 3. */
        image = (image & ~FL_IF) | ((f & FL_VIF) ? FL_IF : 0) | FL_IOPL;
    }
    r = vp_push(c, 2, image);
    if (!r)
        r = vp_push(c, 2, c->seg[S_CS].sel);
    if (!r)
        r = vp_push(c, 2, next_ip & 0xffff);
    if (r) {
        c->gpr[R_SP] = old_sp;
        return r;
    }
    c->flags &= ~(FL_TF | (iopl(c) == 3 ? FL_IF : FL_VIF));
    vp_seg_real(&c->seg[S_CS], (uint16_t)(ent >> 16), true);
    c->rip = ent & 0xffff;
    VP_TRACE(&c->m->trace, INT, "V86 INT %#x redirected to %04x:%04x", vec,
             (unsigned)(ent >> 16), (unsigned)(ent & 0xffff));
    return VP_OK;
}

int vp_v86_int(vp_cpu *c, unsigned vec, uint64_t next_ip, bool *redirected)
{
    *redirected = false;
    if (c->cr4 & CR4_VME) {
        bool set = true;
        int r = redir_bit(c, vec, &set);
        if (r)
            return r;
        if (!set) {
            r = redirect(c, vec, next_ip);
            if (!r)
                *redirected = true;
            return r;
        }
    }
    /* Methods 2 and 3: the monitor's #GP handler; methods 1 and 4: the
     * protected-mode handler (the caller delivers it). */
    if (iopl(c) < 3)
        return vp_raise_err(c, EXC_GP, 0);
    return VP_OK;
}

/* IRET in virtual-8086 mode with IOPL < 3 and CR4.VME = 1 (SDM Vol 2
 * IRET, "RETURN-FROM-VIRTUAL-8086-MODE"): only the 16-bit form; the IF of
 * the image goes to VIF, IF and IOPL stay; #GP(0) for an image with TF
 * set or with IF set while VIP is. */
int vp_v86_iret_vme(vp_cpu *c, unsigned osize)
{
    if (osize != 2)
        return vp_raise_err(c, EXC_GP, 0);
    vp_stack st;
    uint64_t ip, cs, fl;
    int r = vp_pop_iret_frame(c, &st, 2, &ip, &cs, &fl);
    if (r)
        return r;
    uint64_t f = vp_flags(c);
    if ((fl & FL_TF) || ((fl & FL_IF) && (f & FL_VIP)))
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    f = (f & ~mask & ~FL_VIF) | (fl & mask) | ((fl & FL_IF) ? FL_VIF : 0);
    c->flags = f | FL_FIXED1;
    vp_seg_real(&c->seg[S_CS], (uint16_t)cs, true);
    c->rip = ip;
    vp_set_sp(c, st.ssize, st.sp);
    return VP_OK;
}

/* "If the processor finds that both the VIF and VIP flags are set at the
 * beginning of an instruction, it generates a general-protection
 * exception" (SDM Vol 3A, "Virtual Interrupt Mechanism"), in virtual-8086
 * mode with VME and at CPL 3 with PVI. Only IRET, task switches and
 * SYSRET reach that state, and each ends a decoded block, so the exec loop
 * asks at block starts while VIP is set. */
bool vp_vip_pending_fault(vp_cpu *c)
{
    if (c->cpl != 3 || !(c->flags & FL_VIF) ||
        !(c->cr4 & (c->v86 ? CR4_VME : CR4_PVI)))
        return false;
    VP_TRACE(&c->m->trace, EXC, "VIF and VIP set at %#llx: #GP(0)",
             (unsigned long long)c->rip);
    c->insn_rip = c->rip;
    c->halted = false;
    vp_flags(c);
    c->stats.exceptions[EXC_GP]++;
    vp_deliver_event(c, EXC_GP, EV_HWEXC, true, 0, c->rip);
    return true;
}
