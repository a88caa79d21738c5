/* Local APIC core: interrupt acceptance (IRR, TMR), priorities (TPR, PPR,
 * APR), EOI, the local interrupt sources (LVT, LINT0/LINT1) and the CPU's
 * acknowledge cycle. SDM Vol 3A, "Advanced Programmable Interrupt
 * Controller (APIC)": "Interrupt, Task, and Processor Priority", "Interrupt
 * Acceptance for Fixed Interrupts", "Signaling Interrupt Servicing
 * Completion", "Local Vector Table", "Error Handling". */
#include <string.h>

#include "emu/apic/internal.h"
#include "emu/cpu/cpuid.h"
#include "emu/dev/pic8259.h"

/* Index of the highest set bit of a non-zero word. */
static int fls32(uint32_t v)
{
    int n = 0;
    if (v >> 16) { n += 16; v >>= 16; }
    if (v >> 8) { n += 8; v >>= 8; }
    if (v >> 4) { n += 4; v >>= 4; }
    if (v >> 2) { n += 2; v >>= 2; }
    if (v >> 1) n += 1;
    return n;
}

int vec_highest(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + fls32(v[i]);
    return -1;
}

void lapic_reset(vp_lapic *l)
{
    lapic_timer_stop(l);
    l->id_reg = l->initial_id << 24;
    l->tpr = 0;
    l->cpu->cr8 = 0;
    l->ldr = 0;
    l->dfr = 0xffffffffu;
    l->svr = 0xff;
    memset(l->irr, 0, sizeof(l->irr));
    memset(l->isr, 0, sizeof(l->isr));
    memset(l->tmr, 0, sizeof(l->tmr));
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        l->lvt[i] = APIC_LVT_MASKED;
    l->timer_dcr = 0;
    l->extint_msg = false;
    l->init_count = l->sipi_count = 0;
    l->sipi_vector = -1;
    /* lint_level[] is the level of wires outside the APIC: kept. */
}

/* SDM Vol 3A, "Processor Priority Register (PPR)". */
uint32_t lapic_ppr(const vp_lapic *l)
{
    int isrv = vec_highest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    if ((l->tpr & 0xf0) >= isr_class)
        return l->tpr & 0xff;
    return isr_class;
}

/* SDM Vol 3A, "Arbitration Priority Register (APR)", as the manual states
 * it (including its "TPR[7:4] AND ISRV[7:4]" term). */
uint32_t lapic_apr(const vp_lapic *l)
{
    int isrv = vec_highest(l->isr), irrv = vec_highest(l->irr);
    uint32_t tpr = (l->tpr >> 4) & 0xf;
    uint32_t isr_c = isrv < 0 ? 0 : ((uint32_t)isrv >> 4) & 0xf;
    uint32_t irr_c = irrv < 0 ? 0 : ((uint32_t)irrv >> 4) & 0xf;
    if (tpr >= irr_c && tpr > isr_c)
        return l->tpr & 0xff;
    uint32_t a = tpr & isr_c;
    return (a > irr_c ? a : irr_c) << 4;
}

void lapic_set_tpr(vp_lapic *l, uint32_t tpr)
{
    l->tpr = tpr & 0xff;
    l->cpu->cr8 = l->tpr >> 4;
    /* Lowering the TPR may unblock an interrupt held in the IRR. */
    vp_cpu_kick(l->cpu);
}

void lapic_nmi(vp_lapic *l)
{
    VP_TRACE(&l->m->trace, INT, "lapic %u: NMI", l->initial_id);
    l->cpu->nmi_pending = true;
    vp_cpu_kick(l->cpu);
}

/* Errors are collected whatever the LVT error mask; an unmasked error LVT
 * then raises its vector (SDM Vol 3A, "Error Handling"). An error vector
 * below 16 is itself an illegal vector: recorded, never delivered. */
void lapic_error(vp_lapic *l, uint32_t esr_bit)
{
    l->esr_pending |= esr_bit;
    VP_TRACE(&l->m->trace, DEV, "lapic %u: error %#x", l->initial_id,
             esr_bit);
    uint32_t e = l->lvt[LVT_ERROR];
    if (e & APIC_LVT_MASKED)
        return;
    unsigned v = e & APIC_VECTOR_MASK;
    if (v < 16) {
        l->esr_pending |= APIC_ESR_RECV_ILLEGAL;
        return;
    }
    vec_set(l->irr, v);
    vec_clear(l->tmr, v);
    vp_cpu_kick(l->cpu);
}

/* "Upon acceptance of an interrupt into the IRR, the corresponding TMR bit
 * is cleared for edge-triggered interrupts and set for level-triggered
 * interrupts." Vectors 0-15 never reach the IRR: "Receive Illegal
 * Vector" (SDM Vol 3A, "Valid Interrupt Vectors"). */
bool lapic_accept_fixed(vp_lapic *l, unsigned vector, bool level)
{
    vector &= 0xff;
    if (vector < 16) {
        lapic_error(l, APIC_ESR_RECV_ILLEGAL);
        return false;
    }
    vec_set(l->irr, vector);
    if (level)
        vec_set(l->tmr, vector);
    else
        vec_clear(l->tmr, vector);
    vp_cpu_kick(l->cpu);
    return true;
}

static void lvt_unimpl_mode(vp_lapic *l, int lvt, unsigned dm)
{
    VP_UNIMPL_ONCE(&l->m->trace,
                   "local APIC: LVT entry %d delivery mode %u (SMI/INIT/"
                   "reserved) is not implemented; interrupt dropped",
                   lvt, dm);
}

/* An edge from a local source (timer, thermal, perf, error). Timer and
 * error entries have no delivery-mode field: always fixed. */
void lapic_lvt_fire(vp_lapic *l, int lvt)
{
    uint32_t e = l->lvt[lvt];
    if (e & APIC_LVT_MASKED)
        return;
    unsigned dm = (lvt == LVT_TIMER || lvt == LVT_ERROR)
                      ? APIC_DM_FIXED
                      : (e & APIC_DM_MASK) >> APIC_DM_SHIFT;
    switch (dm) {
    case APIC_DM_FIXED:
        lapic_accept_fixed(l, e & APIC_VECTOR_MASK, false);
        break;
    case APIC_DM_NMI:
        lapic_nmi(l);
        break;
    default:
        lvt_unimpl_mode(l, lvt, dm);
        break;
    }
}

/* LINT0 in fixed mode with level trigger: delivered while asserted and
 * the remote IRR is clear; the EOI for its vector clears the remote IRR.
 * "Level-sensitive interrupts are not supported for LINT1": LINT1 is
 * always edge (SDM Vol 3A, "Local Vector Table"). */
static void lint0_level_service(vp_lapic *l)
{
    uint32_t *e = &l->lvt[LVT_LINT0];
    if ((*e & (APIC_LVT_MASKED | APIC_REMOTE_IRR)) || !l->lint_level[0])
        return;
    if ((*e & APIC_DM_MASK) >> APIC_DM_SHIFT != APIC_DM_FIXED ||
        !(*e & APIC_TRIGGER_LEVEL))
        return;
    if (lapic_accept_fixed(l, *e & APIC_VECTOR_MASK, true))
        *e |= APIC_REMOTE_IRR;
}

/* The pins carry logical assertion levels; the polarity bit is kept for
 * software but the board is assumed to be wired as the firmware describes
 * (as QEMU and KVM do). */
void lapic_lint_set(vp_lapic *l, int pin, bool level)
{
    bool rising = level && !l->lint_level[pin];
    l->lint_level[pin] = level;
    if (!lapic_hw_enabled(l)) {
        /* "The processor is functionally equivalent to an IA-32 processor
         * without an on-chip APIC": LINT0 is INTR, LINT1 is NMI. */
        if (pin == 1 && rising)
            lapic_nmi(l);
        else if (pin == 0)
            vp_cpu_kick(l->cpu);
        return;
    }
    uint32_t e = l->lvt[LVT_LINT0 + pin];
    if (e & APIC_LVT_MASKED)
        return;
    unsigned dm = (e & APIC_DM_MASK) >> APIC_DM_SHIFT;
    switch (dm) {
    case APIC_DM_FIXED:
        if (pin == 0 && (e & APIC_TRIGGER_LEVEL))
            lint0_level_service(l);
        else if (rising)
            lapic_accept_fixed(l, e & APIC_VECTOR_MASK, false);
        break;
    case APIC_DM_NMI:
        if (rising)
            lapic_nmi(l);
        break;
    case APIC_DM_EXTINT:
        /* Level-sensitive: the acknowledge reads the 8259's state. */
        vp_cpu_kick(l->cpu);
        break;
    default:
        if (rising)
            lvt_unimpl_mode(l, LVT_LINT0 + pin, dm);
        break;
    }
}

/* Bits software may write in each LVT entry; delivery status and remote
 * IRR are read-only, the timer mode is 18:17 with TSC-deadline support. */
static const uint32_t lvt_wmask[LVT_COUNT] = {
    [LVT_TIMER] = 0x000700ffu,
    [LVT_THERMAL] = 0x000107ffu,
    [LVT_PERF] = 0x000107ffu,
    [LVT_LINT0] = 0x0001a7ffu,
    [LVT_LINT1] = 0x0001a7ffu,
    [LVT_ERROR] = 0x000100ffu,
};

void lapic_lvt_write(vp_lapic *l, int lvt, uint32_t val)
{
    uint32_t old = l->lvt[lvt];
    uint32_t v = (val & lvt_wmask[lvt]) | (old & APIC_REMOTE_IRR);
    /* Timer mode 10b (TSC-deadline) exists only where CPUID.01H:ECX[24]
     * says so; otherwise bit 18 is reserved (SDM Vol 3A, "Local Vector
     * Table", LVT timer register). */
    if (lvt == LVT_TIMER && !vp_cpu_has(l->cpu, FEAT_TSC_DEADLINE))
        v &= ~(2u << APIC_TIMER_MODE_SHIFT);
    /* "Attempts to reset these bits will be ignored" while the APIC is
     * software-disabled (SDM Vol 3A, "Enabling or Disabling the Local
     * APIC"). */
    if (!lapic_sw_enabled(l))
        v |= APIC_LVT_MASKED;
    if (!(v & APIC_TRIGGER_LEVEL) ||
        (v & APIC_DM_MASK) >> APIC_DM_SHIFT != APIC_DM_FIXED)
        v &= ~APIC_REMOTE_IRR;
    if (lvt == LVT_TIMER)
        lapic_timer_sync(l);
    l->lvt[lvt] = v;
    if (lvt == LVT_TIMER)
        lapic_timer_lvt_changed(l, old);
    if (lvt == LVT_LINT0)
        lint0_level_service(l);
    vp_cpu_kick(l->cpu);
}

void lapic_svr_write(vp_lapic *l, uint32_t val)
{
    lapic_timer_sync(l);
    l->svr = val & (APIC_VECTOR_MASK | APIC_SVR_ENABLE | APIC_SVR_FOCUS_OFF |
                    APIC_SVR_EOI_SUPPRESS);
    if (!lapic_sw_enabled(l))
        for (int i = 0; i < LVT_COUNT; i++)
            l->lvt[i] |= APIC_LVT_MASKED;
    VP_TRACE(&l->m->trace, DEV, "lapic %u: SVR %#x (%s)", l->initial_id,
             l->svr, lapic_sw_enabled(l) ? "enabled" : "software-disabled");
    vp_cpu_kick(l->cpu);
}

/* SDM Vol 3A, "Signaling Interrupt Servicing Completion": the EOI retires
 * the highest-priority ISR bit; for a level-triggered vector (TMR set) the
 * EOI is broadcast to the I/O APICs unless SVR bit 12 suppresses it
 * ("EOI-Broadcast Suppression"). */
void lapic_eoi(vp_lapic *l)
{
    int v = vec_highest(l->isr);
    if (v < 0)
        return;
    vec_clear(l->isr, (unsigned)v);
    if (vec_test(l->tmr, (unsigned)v)) {
        for (int pin = 0; pin < 2; pin++) {
            uint32_t *e = &l->lvt[LVT_LINT0 + pin];
            if ((*e & APIC_REMOTE_IRR) && (*e & APIC_VECTOR_MASK) == (unsigned)v)
                *e &= ~APIC_REMOTE_IRR;
        }
        if (!(l->svr & APIC_SVR_EOI_SUPPRESS) && l->m->ioapic)
            ioapic_eoi(l->m->ioapic, (unsigned)v);
        lint0_level_service(l);
    }
    VP_TRACE(&l->m->trace, INT, "lapic %u: EOI vector %#x", l->initial_id,
             (unsigned)v);
    vp_cpu_kick(l->cpu);
}

/* ---- the CPU's side ------------------------------------------------ */

static bool pic_level(vp_machine *m)
{
    return m->pic && vp_pic_intr_level(m->pic);
}

static int pic_intack(vp_machine *m, int spurious)
{
    return m->pic ? vp_pic_intack(m->pic) : spurious;
}

/* With the APIC hardware-disabled the 8259's INTR reaches the BSP's INTR
 * pin only (the APs' LINT0 is left unconnected in that configuration). */
static bool is_bsp(const vp_cpu *c)
{
    return c->m->ncpus == 0 || c == c->m->cpus[0];
}

/* ExtINT: from the I/O APIC, or LINT0 in ExtINT mode while the 8259
 * asserts INTR. It bypasses IRR/ISR and the priority checks. */
static bool extint_ready(const vp_lapic *l)
{
    if (l->extint_msg)
        return true;
    uint32_t e = l->lvt[LVT_LINT0];
    return !(e & APIC_LVT_MASKED) &&
           (e & APIC_DM_MASK) >> APIC_DM_SHIFT == APIC_DM_EXTINT &&
           pic_level(l->m);
}

/* The highest IRR vector whose priority class beats the PPR, or -1. */
static int lapic_deliverable(const vp_lapic *l)
{
    int v = vec_highest(l->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (lapic_ppr(l) & 0xf0))
        return -1;
    return v;
}

bool vp_apic_intr_ready(vp_cpu *c)
{
    vp_lapic *l = c->lapic;
    if (!l || !lapic_hw_enabled(l))
        return is_bsp(c) && pic_level(c->m);
    return extint_ready(l) || lapic_deliverable(l) >= 0;
}

int vp_apic_intr_ack(vp_cpu *c)
{
    vp_lapic *l = c->lapic;
    if (!l || !lapic_hw_enabled(l))
        return pic_intack(c->m, 0x0f);
    if (extint_ready(l)) {
        l->extint_msg = false;
        int v = pic_intack(c->m, (int)(l->svr & APIC_VECTOR_MASK));
        VP_TRACE(&l->m->trace, INT, "lapic %u: ExtINT vector %#x",
                 l->initial_id, (unsigned)v);
        return v;
    }
    int v = lapic_deliverable(l);
    if (v < 0) {
        /* SDM Vol 3A, "Spurious Interrupt": the spurious vector, and no
         * ISR bit is set. */
        VP_TRACE(&l->m->trace, INT, "lapic %u: spurious interrupt",
                 l->initial_id);
        return (int)(l->svr & APIC_VECTOR_MASK);
    }
    vec_clear(l->irr, (unsigned)v);
    vec_set(l->isr, (unsigned)v);
    VP_TRACE(&l->m->trace, INT, "lapic %u: deliver vector %#x",
             l->initial_id, (unsigned)v);
    /* More may be pending behind this one (after its EOI). */
    vp_cpu_kick(c);
    return v;
}

bool vp_apic_nmi_take(vp_cpu *c)
{
    bool p = c->nmi_pending;
    c->nmi_pending = false;
    return p;
}

uint64_t vp_apic_read_cr8(vp_cpu *c)
{
    return c->lapic ? (c->lapic->tpr >> 4) & 0xf : c->cr8 & 0xf;
}

void vp_apic_write_cr8(vp_cpu *c, uint64_t val)
{
    if (c->lapic)
        lapic_set_tpr(c->lapic, (uint32_t)(val & 0xf) << 4);
    else
        c->cr8 = val & 0xf;
}
