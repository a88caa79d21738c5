/* Local APIC register file, reached two ways: the xAPIC MMIO page at
 * IA32_APIC_BASE (SDM Vol 3A, "Local APIC Register Address Map") and the
 * x2APIC MSRs 800H-8FFH (SDM Vol 3A, "x2APIC Register Address Space").
 * Also IA32_APIC_BASE itself with its mode transitions (SDM Vol 3A,
 * "x2APIC State Transitions"), the ICR and the SELF IPI register. */
#include "emu/apic/internal.h"
#include "emu/cpu/internal.h" /* the CPU model's MAXPHYADDR */

enum { REG_R = 1, REG_W = 2, REG_RW = 3 };

/* One register, described once: who may read or write it in each mode,
 * and the bits a WRMSR must leave zero in x2APIC mode (SDM Vol 3A,
 * "Reserved Bit Checking"; "Local APIC Register Address Map Supported by
 * x2APIC"). Absent registers have access 0. */
typedef struct lapic_reg_desc {
    const char *name;
    uint8_t xapic, x2apic;
    uint32_t x2_rsvd;
} lapic_reg_desc;

#define REG(off) [(off) >> 4]
#define REG8(base, nm)                                                    \
    REG(base + 0x00) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x10) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x20) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x30) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x40) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x50) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x60) = {nm, REG_R, REG_R, 0},                             \
    REG(base + 0x70) = {nm, REG_R, REG_R, 0}

static const lapic_reg_desc lapic_regs[64] = {
    REG(APIC_ID) = {"ID", REG_RW, REG_R, 0},
    REG(APIC_VERSION) = {"version", REG_R, REG_R, 0},
    REG(APIC_TPR) = {"TPR", REG_RW, REG_RW, ~0xffu},
    REG(APIC_APR) = {"APR", REG_R, 0, 0},
    REG(APIC_PPR) = {"PPR", REG_R, REG_R, 0},
    /* "WRMSR of a non-zero value causes #GP(0)." */
    REG(APIC_EOI) = {"EOI", REG_W, REG_W, ~0u},
    REG(APIC_RRD) = {"remote read", REG_R, 0, 0},
    REG(APIC_LDR) = {"LDR", REG_RW, REG_R, 0},
    REG(APIC_DFR) = {"DFR", REG_RW, 0, 0},
    REG(APIC_SVR) = {"SVR", REG_RW, REG_RW, ~0x13ffu},
    REG8(APIC_ISR, "ISR"),
    REG8(APIC_TMR, "TMR"),
    REG8(APIC_IRR, "IRR"),
    /* "Writes of a non-zero value to the Error Status Register in x2APIC
     * mode will raise a GP fault." */
    REG(APIC_ESR) = {"ESR", REG_RW, REG_RW, ~0u},
    REG(APIC_ICR_LO) = {"ICR", REG_RW, REG_RW, 0},
    REG(APIC_ICR_HI) = {"ICR high", REG_RW, 0, 0},
    REG(APIC_LVT_TIMER) = {"LVT timer", REG_RW, REG_RW, ~0x000710ffu},
    REG(APIC_LVT_THERMAL) = {"LVT thermal", REG_RW, REG_RW, ~0x000117ffu},
    REG(APIC_LVT_PERF) = {"LVT perf", REG_RW, REG_RW, ~0x000117ffu},
    REG(APIC_LVT_LINT0) = {"LVT LINT0", REG_RW, REG_RW, ~0x0001f7ffu},
    REG(APIC_LVT_LINT1) = {"LVT LINT1", REG_RW, REG_RW, ~0x0001f7ffu},
    REG(APIC_LVT_ERROR) = {"LVT error", REG_RW, REG_RW, ~0x000110ffu},
    REG(APIC_TMICT) = {"initial count", REG_RW, REG_RW, 0},
    REG(APIC_TMCCT) = {"current count", REG_R, REG_R, 0},
    REG(APIC_TDCR) = {"divide configuration", REG_RW, REG_RW, ~0xbu},
    /* "Only in x2APIC mode"; bits 31:8 reserved. */
    REG(APIC_SELF_IPI) = {"SELF IPI", 0, REG_W, ~0xffu},
};

/* x2APIC ICR: bits 31:20, 17:16 and 13 are reserved; the delivery status
 * (bit 12) no longer exists and is ignored (SDM Vol 3A, "Interrupt Command
 * Register (ICR)" in x2APIC mode). */
#define X2APIC_ICR_RSVD (0xfff00000ull | 0x30000ull | VP_BIT(13))
/* xAPIC ICR bits software writes: vector, delivery mode, destination mode,
 * level, trigger mode, shorthand. */
#define XAPIC_ICR_WMASK 0x000ccfffu

static const lapic_reg_desc *reg_desc(uint32_t off)
{
    if (off & 0xf || off >= 0x400)
        return NULL;
    const lapic_reg_desc *d = &lapic_regs[off >> 4];
    return d->name ? d : NULL;
}

/* REG_R/REG_W for a register in the current mode. An xAPIC access to a
 * reserved register logs "Illegal Register Address" (SDM Vol 3A, "Error
 * Handling"); in x2APIC mode the caller raises #GP instead. */
static uint8_t reg_access(vp_lapic *l, const lapic_reg_desc *d, bool x2)
{
    uint8_t acc = d ? (x2 ? d->x2apic : d->xapic) : 0;
    if (!acc && !x2)
        lapic_error(l, APIC_ESR_ILLEGAL_REG);
    return acc;
}

/* ---- ICR and SELF IPI ---------------------------------------------- */

/* SDM Vol 3A, "Valid Combinations for the Pentium 4 and Intel Xeon
 * Processors' Local xAPIC Interrupt Command Register": every IPI goes out
 * edge-triggered ("if the trigger mode bit is 1 (Level), the local xAPIC
 * will override the bit setting and issue the interrupt as an edge
 * triggered interrupt"). The INIT level de-assert message (INIT, trigger
 * level, level 0) of older APICs is ignored, as QEMU and KVM do. The
 * combinations the table calls invalid (self or all-including-self with a
 * mode other than fixed) are delivered as programmed, as in QEMU and KVM,
 * with a trace line. */
static void lapic_send_ipi(vp_lapic *l, bool x2)
{
    uint32_t lo = l->icr_lo;
    apic_msg msg = {
        .vector = lo & APIC_VECTOR_MASK,
        .mode = (uint8_t)((lo & APIC_DM_MASK) >> APIC_DM_SHIFT),
        .logical = (lo & APIC_DEST_LOGICAL) != 0,
        .shorthand = (uint8_t)((lo >> APIC_ICR_SHORTHAND_SHIFT) & 3),
        .wide = x2,
        .dest = x2 ? l->icr_hi : l->icr_hi >> 24,
        .src = l,
    };
    VP_TRACE(&l->m->trace, INT,
             "lapic %u: IPI mode %u vector %#x %s dest %#x shorthand %u",
             l->initial_id, msg.mode, msg.vector,
             msg.logical ? "logical" : "physical", msg.dest, msg.shorthand);
    if (msg.mode == APIC_DM_INIT && (lo & APIC_TRIGGER_LEVEL) &&
        !(lo & APIC_ICR_ASSERT)) {
        VP_TRACE(&l->m->trace, INT, "lapic %u: INIT level de-assert ignored",
                 l->initial_id);
        return;
    }
    if ((msg.shorthand == APIC_SH_SELF || msg.shorthand == APIC_SH_ALL) &&
        msg.mode != APIC_DM_FIXED)
        VP_TRACE(&l->m->trace, INT,
                 "lapic %u: delivery mode %u with shorthand %u is an invalid "
                 "ICR combination; delivered as programmed",
                 l->initial_id, msg.mode, msg.shorthand);
    /* "Send Illegal Vector ... as the result of a write to the ICR ... with
     * an illegal vector" (SDM Vol 3A, "Error Handling"). The message still
     * goes out; receivers log "Receive Illegal Vector" and drop it. */
    if ((msg.mode == APIC_DM_FIXED || msg.mode == APIC_DM_LOWEST) &&
        msg.vector < 16)
        lapic_error(l, APIC_ESR_SEND_ILLEGAL);
    apic_bus_deliver(l->m, &msg);
}

/* SDM Vol 3A, "Self IPI Register": a fixed, edge-triggered IPI to self. */
static void lapic_self_ipi(vp_lapic *l, uint32_t vector)
{
    apic_msg msg = {
        .vector = (uint8_t)vector,
        .mode = APIC_DM_FIXED,
        .shorthand = APIC_SH_SELF,
        .wide = true,
        .src = l,
    };
    if (vector < 16)
        lapic_error(l, APIC_ESR_SEND_ILLEGAL);
    apic_bus_deliver(l->m, &msg);
}

/* ---- register access ----------------------------------------------- */

int lapic_reg_read(vp_lapic *l, uint32_t off, uint64_t *val, bool x2)
{
    *val = 0;
    if (!(reg_access(l, reg_desc(off), x2) & REG_R))
        return x2 ? -1 : 0;     /* xAPIC: write-only registers read as 0 */
    uint32_t v = 0;
    switch (off) {
    case APIC_ID:
        v = x2 ? l->initial_id : l->id_reg;
        break;
    case APIC_VERSION:
        v = APIC_VERSION_VALUE;
        break;
    case APIC_TPR:
        v = l->tpr;
        break;
    case APIC_APR:
        v = lapic_apr(l);
        break;
    case APIC_PPR:
        v = lapic_ppr(l);
        break;
    case APIC_RRD:
        v = 0;
        break;
    case APIC_LDR:
        v = l->ldr;
        break;
    case APIC_DFR:
        v = l->dfr;
        break;
    case APIC_SVR:
        v = l->svr;
        break;
    case APIC_ESR:
        v = l->esr;
        break;
    case APIC_ICR_LO:
        if (x2) {
            *val = (uint64_t)l->icr_hi << 32 | l->icr_lo;
            return 0;
        }
        v = l->icr_lo; /* delivery status: always idle, delivery is instant */
        break;
    case APIC_ICR_HI:
        v = l->icr_hi;
        break;
    case APIC_LVT_TIMER:
    case APIC_LVT_THERMAL:
    case APIC_LVT_PERF:
    case APIC_LVT_LINT0:
    case APIC_LVT_LINT1:
    case APIC_LVT_ERROR:
        v = l->lvt[(off - APIC_LVT_TIMER) >> 4];
        break;
    case APIC_TMICT:
        v = lapic_timer_mode(l) == TIMER_TSC_DEADLINE ? 0 : l->timer_initial;
        break;
    case APIC_TMCCT:
        v = lapic_timer_current(l);
        break;
    case APIC_TDCR:
        v = l->timer_dcr;
        break;
    default:
        if (off >= APIC_ISR && off < APIC_ISR + 0x80)
            v = l->isr[(off - APIC_ISR) >> 4];
        else if (off >= APIC_TMR && off < APIC_TMR + 0x80)
            v = l->tmr[(off - APIC_TMR) >> 4];
        else if (off >= APIC_IRR && off < APIC_IRR + 0x80)
            v = l->irr[(off - APIC_IRR) >> 4];
        break;
    }
    *val = v;
    return 0;
}

int lapic_reg_write(vp_lapic *l, uint32_t off, uint64_t val, bool x2)
{
    const lapic_reg_desc *d = reg_desc(off);
    if (!(reg_access(l, d, x2) & REG_W))
        return x2 ? -1 : 0;     /* xAPIC: read-only registers ignore it */
    if (x2) {
        if (off == APIC_ICR_LO) {
            if (val & X2APIC_ICR_RSVD)
                return -1;
        } else if ((val >> 32) || ((uint32_t)val & d->x2_rsvd)) {
            /* "The upper 32-bits of all x2APIC MSRs (except for the ICR)
             * are reserved." */
            return -1;
        }
    }
    uint32_t v = (uint32_t)val;
    switch (off) {
    case APIC_ID:
        l->id_reg = v & 0xff000000u;
        break;
    case APIC_TPR:
        lapic_set_tpr(l, v);
        break;
    case APIC_EOI:
        lapic_eoi(l);
        break;
    case APIC_LDR:
        l->ldr = v & 0xff000000u;
        break;
    case APIC_DFR:
        l->dfr = v | 0x0fffffffu;
        break;
    case APIC_SVR:
        lapic_svr_write(l, v);
        break;
    case APIC_ESR:
        /* "This write clears any previously logged errors and updates the
         * ESR with any errors detected since the last write to the ESR." */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        break;
    case APIC_ICR_LO:
        if (x2) {
            l->icr_lo = v & ~(uint32_t)APIC_DELIV_STATUS;
            l->icr_hi = (uint32_t)(val >> 32);
        } else {
            l->icr_lo = v & XAPIC_ICR_WMASK;
        }
        lapic_send_ipi(l, x2);
        break;
    case APIC_ICR_HI:
        l->icr_hi = v & 0xff000000u;
        break;
    case APIC_LVT_TIMER:
    case APIC_LVT_THERMAL:
    case APIC_LVT_PERF:
    case APIC_LVT_LINT0:
    case APIC_LVT_LINT1:
    case APIC_LVT_ERROR:
        lapic_lvt_write(l, (int)((off - APIC_LVT_TIMER) >> 4), v);
        break;
    case APIC_TMICT:
        lapic_timer_write_initial(l, v);
        break;
    case APIC_TDCR:
        lapic_timer_write_dcr(l, v);
        break;
    case APIC_SELF_IPI:
        lapic_self_ipi(l, v & APIC_VECTOR_MASK);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- xAPIC MMIO ------------------------------------------------------ */

uint64_t lapic_mmio_window(const vp_machine *m)
{
    for (int i = 0; i < m->mem.nmmio; i++)
        if (m->mem.mmio[i].ops == &vp_lapic_mmio_ops)
            return m->mem.mmio[i].base;
    return 0;
}

/* The base field of IA32_APIC_BASE: bits 12 to MAXPHYADDR-1
 * (CPUID.80000008H:EAX[7:0], the CPU model's physical-address width). */
static uint64_t apicbase_addr_mask(const vp_cpu *c)
{
    unsigned bits = c->model ? c->model->phys_bits : 36;
    return ((1ull << bits) - 1) & ~0xfffull;
}

/* The local APIC of the CPU making the access, if its xAPIC page is the
 * one the window decodes. "In x2APIC mode, the memory mapped interface is
 * not available and any access to the MMIO interface will behave similar
 * to that of a legacy xAPIC in globally disabled state": such accesses,
 * and those of a CPU whose APIC is disabled or based elsewhere, read all
 * ones and drop writes, like unassigned addresses. */
static vp_lapic *mmio_target(vp_machine *m)
{
    vp_cpu *c = m->current_cpu;
    vp_lapic *l = c ? c->lapic : NULL;
    if (!l || !lapic_hw_enabled(l) || lapic_x2apic(l))
        return NULL;
    if ((c->apic_base & apicbase_addr_mask(c)) != lapic_mmio_window(m))
        return NULL;
    return l;
}

/* "All 32-bit registers should be accessed using 128-bit aligned 32-bit
 * loads or stores"; narrower reads return the addressed bytes, and bytes
 * 4-15 of each 16-byte slot read as 0. */
static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    vp_machine *m = opaque;
    vp_lapic *l = mmio_target(m);
    uint64_t ones = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    if (!l)
        return ones;
    unsigned in_slot = offset & 0xf;
    if (in_slot >= 4)
        return 0;
    uint64_t v;
    lapic_reg_read(l, (uint32_t)(offset & ~0xfull), &v, false);
    v = (v & 0xffffffffu) >> (in_slot * 8);
    return v & ones;
}

static void lapic_mmio_write(void *opaque, uint64_t offset, uint64_t val,
                             unsigned size)
{
    vp_machine *m = opaque;
    vp_lapic *l = mmio_target(m);
    if (!l)
        return;
    if ((offset & 0xf) != 0 || size < 4) {
        VP_UNIMPL_ONCE(&m->trace,
                       "local APIC: %u-byte write at offset %#llx is not a "
                       "128-bit aligned 32-bit store; ignored",
                       size, (unsigned long long)offset);
        return;
    }
    /* An 8-byte store writes bytes 4-7 of the slot too: ignored. */
    lapic_reg_write(l, (uint32_t)offset, val & 0xffffffffu, false);
}

const vp_io_ops vp_lapic_mmio_ops = {
    .name = "lapic",
    .read = lapic_mmio_read,
    .write = lapic_mmio_write,
    .widths = VP_WALL,
};

/* Moves the xAPIC window to the base this CPU's IA32_APIC_BASE names. One
 * window serves every CPU (accesses route to m->current_cpu's APIC); it
 * follows the latest relocation. */
static void relocate_window(vp_lapic *l)
{
    vp_machine *m = l->m;
    uint64_t base = l->cpu->apic_base & apicbase_addr_mask(l->cpu);
    uint64_t cur = lapic_mmio_window(m);
    if (base == cur)
        return;
    VP_TRACE(&m->trace, DEV, "lapic %u: xAPIC page moved to %#llx",
             l->initial_id, (unsigned long long)base);
    if (vp_physmem_move_mmio(&m->mem, &vp_lapic_mmio_ops, m, base, true) ==
        0) {
        if (vp_phys_is_ram(&m->mem, base, VP_PAGE_SIZE))
            VP_UNIMPL_ONCE(&m->trace,
                           "local APIC page moved over RAM at %#llx: RAM "
                           "takes precedence for CPU accesses",
                           (unsigned long long)base);
        return;
    }
    /* Overlaps another device's registers: keep the old window. */
    if (!lapic_mmio_window(m) && cur &&
        vp_physmem_add_mmio(&m->mem, cur, VP_PAGE_SIZE, &vp_lapic_mmio_ops,
                            m) < 0)
        VP_TRACE(&m->trace, DEV, "lapic: cannot restore the xAPIC window");
    VP_UNIMPL_ONCE(&m->trace,
                   "local APIC base %#llx overlaps another device: the xAPIC "
                   "page stays at %#llx",
                   (unsigned long long)base, (unsigned long long)cur);
}

/* ---- IA32_APIC_BASE ------------------------------------------------ */

/* SDM Vol 3A, "Local APIC Status and Location" and "x2APIC State
 * Transitions": bits 7:0, 9 and MAXPHYADDR and above are reserved; the
 * valid states are disabled (EN=0, EXTD=0), xAPIC (1, 0) and x2APIC (1, 1);
 * x2APIC -> xAPIC and disabled -> x2APIC are illegal transitions; all #GP.
 * The BSP flag is set by hardware and read-only here. */
static int apic_base_write(vp_lapic *l, uint64_t val)
{
    vp_cpu *c = l->cpu;
    uint64_t old = c->apic_base;
    uint64_t valid = apicbase_addr_mask(c) | APICBASE_BSP | APICBASE_EXTD |
                     APICBASE_EN;
    if (val & ~valid)
        return -1;
    bool en = val & APICBASE_EN, extd = val & APICBASE_EXTD;
    bool old_en = old & APICBASE_EN, old_extd = old & APICBASE_EXTD;
    if (extd && !en)
        return -1; /* the invalid state */
    if (old_en && old_extd && !extd && en)
        return -1; /* x2APIC -> xAPIC */
    if (!old_en && extd)
        return -1; /* disabled -> x2APIC */
    c->apic_base = (val & ~APICBASE_BSP) | (old & APICBASE_BSP);
    if (old_en && !en) {
        /* "All the APIC register states in the x2APIC, except for the
         * x2APIC ID (32 bits), are not preserved across mode transitions";
         * for xAPIC "the APIC may return to the state described in Local
         * APIC State After Power-Up or Reset". */
        lapic_reset(l);
        VP_TRACE(&l->m->trace, DEV, "lapic %u: hardware-disabled",
                 l->initial_id);
    }
    if (!old_extd && extd) {
        /* "The logical x2APIC ID is initialized by hardware during this
         * transition" (SDM Vol 3A, "Deriving Logical x2APIC ID from the
         * Local x2APIC ID"); the ICR's destination field widens to 32
         * bits and starts at zero. */
        uint32_t id = l->initial_id;
        l->ldr = ((id >> 4) << 16) | (1u << (id & 0xf));
        l->icr_hi = 0;
        VP_TRACE(&l->m->trace, DEV, "lapic %u: x2APIC mode", l->initial_id);
    }
    if (en && !extd)
        relocate_window(l);
    vp_cpu_kick(c);
    return 0;
}

int vp_apic_msr_read(vp_cpu *c, uint32_t msr, uint64_t *val)
{
    vp_lapic *l = c->lapic;
    *val = 0;
    if (!l)
        return -1;
    if (msr == 0x1b) {
        *val = c->apic_base;
        return 0;
    }
    if (msr == 0x6e0) {
        *val = lapic_timer_read_deadline(l);
        return 0;
    }
    if (msr >= 0x800 && msr <= 0x8ff) {
        /* "Accessing any APIC register in the MSR address range 0800H
         * through 0BFFH via RDMSR or WRMSR when the local APIC is not in
         * x2APIC mode causes a general-protection exception." */
        if (!lapic_hw_enabled(l) || !lapic_x2apic(l))
            return -1;
        return lapic_reg_read(l, (msr - 0x800) << 4, val, true);
    }
    return -1;
}

int vp_apic_msr_write(vp_cpu *c, uint32_t msr, uint64_t val)
{
    vp_lapic *l = c->lapic;
    if (!l)
        return -1;
    if (msr == 0x1b)
        return apic_base_write(l, val);
    if (msr == 0x6e0) {
        lapic_timer_write_deadline(l, val);
        return 0;
    }
    if (msr >= 0x800 && msr <= 0x8ff) {
        if (!lapic_hw_enabled(l) || !lapic_x2apic(l))
            return -1;
        return lapic_reg_write(l, (msr - 0x800) << 4, val, true);
    }
    return -1;
}
