/* The APIC bus (a system-bus message on current processors): one function
 * delivers every interrupt message, whether it comes from a local APIC's
 * ICR, the I/O APIC or an MSI write. SDM Vol 3A, "Determining IPI
 * Destination", "Logical Destination Mode", "Lowest Priority Delivery
 * Mode", "x2APIC Logical Destination Mode", "Message Signalled
 * Interrupts". */
#include "emu/apic/internal.h"

static bool xapic_match(const vp_lapic *l, const apic_msg *msg)
{
    uint32_t dest = msg->dest & 0xff;
    if (msg->wide && msg->dest == 0xffffffffu)
        dest = 0xff;
    if (!msg->logical)
        return dest == 0xff || dest == l->id_reg >> 24;
    uint32_t ldr = l->ldr >> 24;
    switch (l->dfr >> 28) {
    case 0xf: /* flat model: a bitmap of up to 8 APICs */
        return (ldr & dest) != 0;
    case 0x0: /* cluster model: cluster 15 addresses every cluster */
        if ((dest >> 4) != 0xf && (dest >> 4) != (ldr >> 4))
            return false;
        return (dest & ldr & 0xf) != 0;
    default:
        VP_UNIMPL_ONCE(&l->m->trace,
                       "local APIC: DFR model %#x is reserved; no logical "
                       "destination matches",
                       l->dfr >> 28);
        return false;
    }
}

static bool x2apic_match(const vp_lapic *l, const apic_msg *msg)
{
    if (!msg->wide) {
        /* An 8-bit destination (I/O APIC or MSI without interrupt
         * remapping): physical IDs below 255 and the broadcast only. */
        if (msg->dest == 0xff)
            return true;
        if (!msg->logical)
            return l->initial_id == msg->dest;
        VP_UNIMPL_ONCE(&l->m->trace,
                       "local APIC in x2APIC mode: 8-bit logical destination "
                       "%#x from an I/O APIC or MSI matches nothing",
                       msg->dest);
        return false;
    }
    if (msg->dest == 0xffffffffu)
        return true;
    if (!msg->logical)
        return l->initial_id == msg->dest;
    /* Cluster ID in 31:16, a bitmap of 16 logical IDs in 15:0. */
    return (msg->dest >> 16) == (l->ldr >> 16) &&
           (msg->dest & l->ldr & 0xffff) != 0;
}

bool apic_bus_match(const vp_lapic *l, const apic_msg *msg)
{
    return lapic_x2apic(l) ? x2apic_match(l, msg) : xapic_match(l, msg);
}

/* Lowest priority: the focus processor (one with the vector already in
 * service or pending, unless SVR focus checking is off), else the lowest
 * arbitration priority; ties go to the lowest CPU index, which keeps runs
 * reproducible. */
static vp_lapic *lowest_priority(vp_lapic **t, int n, unsigned vector)
{
    for (int i = 0; i < n; i++)
        if (!(t[i]->svr & APIC_SVR_FOCUS_OFF) &&
            (vec_test(t[i]->isr, vector) || vec_test(t[i]->irr, vector)))
            return t[i];
    vp_lapic *best = t[0];
    uint32_t best_apr = lapic_apr(best);
    for (int i = 1; i < n; i++) {
        uint32_t a = lapic_apr(t[i]);
        if (a < best_apr) {
            best = t[i];
            best_apr = a;
        }
    }
    return best;
}

/* One local APIC receives a message. Returns 1 if it accepted it. */
static int lapic_receive(vp_lapic *l, const apic_msg *msg)
{
    switch (msg->mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        /* A software-disabled APIC holds what is in IRR/ISR but takes no
         * new fixed interrupts (SDM Vol 3A, "Enabling or Disabling the
         * Local APIC"). */
        if (!lapic_sw_enabled(l)) {
            VP_TRACE(&l->m->trace, INT,
                     "lapic %u: software-disabled, vector %#x dropped",
                     l->initial_id, msg->vector);
            return 0;
        }
        return lapic_accept_fixed(l, msg->vector, msg->level) ? 1 : 0;
    case APIC_DM_NMI:
        lapic_nmi(l);
        return 1;
    case APIC_DM_INIT:
        l->init_count++;
        VP_UNIMPL_ONCE(&l->m->trace,
                       "INIT IPI to APIC %u recorded; CPUs are not reset by "
                       "INIT yet (no SMP bring-up)",
                       l->initial_id);
        return 1;
    case APIC_DM_STARTUP:
        l->sipi_count++;
        l->sipi_vector = msg->vector;
        VP_UNIMPL_ONCE(&l->m->trace,
                       "STARTUP IPI (vector %#x) to APIC %u recorded; no "
                       "application processor is started",
                       msg->vector, l->initial_id);
        return 1;
    case APIC_DM_EXTINT:
        l->extint_msg = true;
        vp_cpu_kick(l->cpu);
        return 1;
    case APIC_DM_SMI:
        VP_UNIMPL_ONCE(&l->m->trace,
                       "SMI delivery: SMM is not implemented; ignored");
        return 0;
    default:
        VP_UNIMPL_ONCE(&l->m->trace,
                       "APIC message with reserved delivery mode %u ignored",
                       msg->mode);
        return 0;
    }
}

int apic_bus_deliver(vp_machine *m, const apic_msg *msg)
{
    vp_lapic *t[VP_MAX_CPUS];
    int n = 0;
    for (int i = 0; i < m->ncpus; i++) {
        vp_lapic *l = m->cpus[i]->lapic;
        /* A hardware-disabled APIC is not on the bus. */
        if (!l || !lapic_hw_enabled(l))
            continue;
        bool hit;
        switch (msg->shorthand) {
        case APIC_SH_SELF:
            hit = l == msg->src;
            break;
        case APIC_SH_ALL:
            hit = true;
            break;
        case APIC_SH_OTHERS:
            hit = l != msg->src;
            break;
        default:
            hit = apic_bus_match(l, msg);
            break;
        }
        if (hit)
            t[n++] = l;
    }
    if (n == 0) {
        VP_TRACE(&m->trace, INT, "apic bus: no destination for %#x (mode %u)",
                 msg->dest, msg->mode);
        return 0;
    }
    if (msg->mode == APIC_DM_LOWEST && n > 1) {
        t[0] = lowest_priority(t, n, msg->vector);
        n = 1;
    }
    int accepted = 0;
    for (int i = 0; i < n; i++)
        accepted += lapic_receive(t[i], msg);
    return accepted;
}

/* MSI address: FEEH in 31:20, destination ID in 19:12, redirection hint
 * in bit 3, destination mode in bit 2. Data: vector 7:0, delivery mode
 * 10:8, level 14, trigger mode 15 (SDM Vol 3A, "Message Address Register
 * Format", "Message Data Register Format"). */
void vp_apic_msi(vp_machine *m, uint64_t addr, uint32_t data)
{
    if ((addr >> 20) != 0xfee) {
        VP_TRACE(&m->trace, INT, "MSI to %#llx outside FEExxxxxH dropped",
                 (unsigned long long)addr);
        return;
    }
    apic_msg msg = {
        .dest = (uint32_t)(addr >> 12) & 0xff,
        .logical = (addr & VP_BIT(2)) != 0,
        .vector = data & 0xff,
        .mode = (uint8_t)((data >> 8) & 7),
        .level = (data & VP_BIT(15)) != 0,
    };
    /* RH=1 with logical destination: only the lowest-priority processor
     * of the destination set receives it. */
    if ((addr & VP_BIT(3)) && msg.logical && msg.mode == APIC_DM_FIXED)
        msg.mode = APIC_DM_LOWEST;
    VP_TRACE(&m->trace, INT, "MSI addr %#llx data %#x",
             (unsigned long long)addr, data);
    apic_bus_deliver(m, &msg);
}
