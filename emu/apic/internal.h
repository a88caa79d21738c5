/* Interfaces between the pieces of the APIC model (not for other devices).
 *
 *   lapic.c        local APIC core: IRR/ISR/TMR, priorities, EOI, local
 *                  interrupt sources (LVT, LINT0/1), the CPU's view
 *   lapic_regs.c   register file: xAPIC MMIO, x2APIC MSRs, IA32_APIC_BASE,
 *                  ICR and SELF IPI
 *   lapic_timer.c  APIC timer: one-shot, periodic, TSC-deadline
 *   ioapic.c       82093AA-compatible I/O APIC
 *   apicbus.c      interrupt messages: destination matching, lowest
 *                  priority arbitration, delivery modes, MSI decoding
 *   apic.c         set-up, reset, the 8259 and NMI wiring
 *
 * SDM Vol 3A, "Advanced Programmable Interrupt Controller (APIC)" is the
 * reference for everything here unless a comment says otherwise. */
#ifndef VP_APIC_INTERNAL_H
#define VP_APIC_INTERNAL_H

#include "emu/apic/apic.h"
#include "emu/cpu/cpu.h"

/* ---- IA32_APIC_BASE (SDM Vol 3A, "Local APIC Status and Location") ---- */
#define APICBASE_BSP VP_BIT(8)
#define APICBASE_EXTD VP_BIT(10)
#define APICBASE_EN VP_BIT(11)
#define APIC_DEFAULT_BASE 0xfee00000ull

/* ---- xAPIC register offsets (SDM Vol 3A, "Local APIC Register Address
 * Map"); the x2APIC MSR is 0x800 + offset / 16. ---- */
enum {
    APIC_ID = 0x020,
    APIC_VERSION = 0x030,
    APIC_TPR = 0x080,
    APIC_APR = 0x090,
    APIC_PPR = 0x0a0,
    APIC_EOI = 0x0b0,
    APIC_RRD = 0x0c0,
    APIC_LDR = 0x0d0,
    APIC_DFR = 0x0e0,
    APIC_SVR = 0x0f0,
    APIC_ISR = 0x100,
    APIC_TMR = 0x180,
    APIC_IRR = 0x200,
    APIC_ESR = 0x280,
    APIC_LVT_CMCI = 0x2f0,
    APIC_ICR_LO = 0x300,
    APIC_ICR_HI = 0x310,
    APIC_LVT_TIMER = 0x320,
    APIC_LVT_THERMAL = 0x330,
    APIC_LVT_PERF = 0x340,
    APIC_LVT_LINT0 = 0x350,
    APIC_LVT_LINT1 = 0x360,
    APIC_LVT_ERROR = 0x370,
    APIC_TMICT = 0x380,
    APIC_TMCCT = 0x390,
    APIC_TDCR = 0x3e0,
    APIC_SELF_IPI = 0x3f0,
};

/* Local vector table entries in register order (timer at 0x320 ...). */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       LVT_COUNT };

/* Version register: integrated APIC version 14H, LVT entries - 1 in 23:16,
 * bit 24 "Suppress EOI-broadcasts" supported (SDM Vol 3A, "Local APIC
 * Version Register"). */
#define APIC_VERSION_ID 0x14u
#define APIC_VERSION_VALUE                                             \
    (APIC_VERSION_ID | ((uint32_t)(LVT_COUNT - 1) << 16) | (1u << 24))

/* LVT / ICR / redirection-entry fields share one layout for the low word. */
#define APIC_VECTOR_MASK 0xffu
#define APIC_DM_SHIFT 8
#define APIC_DM_MASK (7u << APIC_DM_SHIFT)
#define APIC_DEST_LOGICAL VP_BIT(11)
#define APIC_DELIV_STATUS VP_BIT(12)
#define APIC_POLARITY_LOW VP_BIT(13)
#define APIC_REMOTE_IRR VP_BIT(14)
#define APIC_ICR_ASSERT VP_BIT(14)
#define APIC_TRIGGER_LEVEL VP_BIT(15)
#define APIC_LVT_MASKED VP_BIT(16)
#define APIC_TIMER_MODE_SHIFT 17
#define APIC_TIMER_MODE_MASK (3u << APIC_TIMER_MODE_SHIFT)
#define APIC_ICR_SHORTHAND_SHIFT 18

/* Delivery modes (SDM Vol 3A, "Interrupt Command Register (ICR)" and
 * "Local Vector Table"). */
enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_REMRD = 3,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

enum { APIC_SH_NONE, APIC_SH_SELF, APIC_SH_ALL, APIC_SH_OTHERS };

enum { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE, TIMER_RESERVED };

/* SVR bits (SDM Vol 3A, "Spurious-Interrupt Vector Register"). */
#define APIC_SVR_ENABLE VP_BIT(8)
#define APIC_SVR_FOCUS_OFF VP_BIT(9)
#define APIC_SVR_EOI_SUPPRESS VP_BIT(12)

/* ESR bits (SDM Vol 3A, "Error Handling"). Bits 0-3 are P6/Pentium only. */
#define APIC_ESR_REDIR_IPI VP_BIT(4)
#define APIC_ESR_SEND_ILLEGAL VP_BIT(5)
#define APIC_ESR_RECV_ILLEGAL VP_BIT(6)
#define APIC_ESR_ILLEGAL_REG VP_BIT(7)

/* The APIC timer counts a 1 GHz bus clock: one tick per ns of machine time
 * before the divide configuration applies (the TSC runs at the same rate). */
#define APIC_BUS_NS_PER_TICK 1ull

struct vp_lapic {
    vp_machine *m;
    vp_cpu *cpu;
    uint32_t initial_id;   /* hardware-assigned (x2)APIC ID */
    uint32_t id_reg;       /* xAPIC ID register (ID in 31:24) */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t esr;          /* value software reads */
    uint32_t esr_pending;  /* errors since the last ESR write */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    /* Timer: the count was `anchor_count` at machine time `anchor_ns`. */
    uint32_t timer_initial, timer_dcr;
    uint32_t anchor_count;
    uint64_t anchor_ns;
    bool timer_running;    /* one-shot or periodic counting */
    uint64_t timer_next;   /* machine time of the next unprocessed zero
                              crossing or deadline; UINT64_MAX: none */
    uint64_t tsc_deadline;
    vp_timer timer;
    /* Input pins and messages that bypass IRR. */
    bool lint_level[2];
    bool extint_msg;       /* ExtINT message from the I/O APIC */
    /* INIT and STARTUP messages seen (recorded; no AP start-up yet). */
    uint32_t init_count, sipi_count;
    int sipi_vector;
};

struct vp_ioapic {
    vp_machine *m;
    uint32_t regsel;
    uint32_t id;           /* bits 27:24 */
    uint64_t redir[24];
    uint32_t pin_level;    /* bit per pin: input asserted */
    uint16_t isa_level;    /* bit per ISA IRQ (IRQ2 and IRQ9 share pin 9) */
};

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_PINS 24
#define IOAPIC_VERSION 0x20u

/* ---- mode predicates ---- */
static inline bool lapic_hw_enabled(const vp_lapic *l)
{
    return (l->cpu->apic_base & APICBASE_EN) != 0;
}
static inline bool lapic_x2apic(const vp_lapic *l)
{
    return (l->cpu->apic_base & APICBASE_EXTD) != 0;
}
static inline bool lapic_sw_enabled(const vp_lapic *l)
{
    return (l->svr & APIC_SVR_ENABLE) != 0;
}
static inline int lapic_timer_mode(const vp_lapic *l)
{
    return (int)((l->lvt[LVT_TIMER] >> APIC_TIMER_MODE_SHIFT) & 3);
}

/* ---- 256-bit vector sets ---- */
static inline bool vec_test(const uint32_t *v, unsigned n)
{
    return (v[n >> 5] >> (n & 31)) & 1;
}
static inline void vec_set(uint32_t *v, unsigned n)
{
    v[n >> 5] |= 1u << (n & 31);
}
static inline void vec_clear(uint32_t *v, unsigned n)
{
    v[n >> 5] &= ~(1u << (n & 31));
}
/* Highest set vector, or -1. */
int vec_highest(const uint32_t *v);

/* ---- lapic.c ---- */
void lapic_reset(vp_lapic *l);
uint32_t lapic_ppr(const vp_lapic *l);
uint32_t lapic_apr(const vp_lapic *l);
void lapic_set_tpr(vp_lapic *l, uint32_t tpr);
void lapic_eoi(vp_lapic *l);
/* Records an error in the ESR and signals the error LVT. */
void lapic_error(vp_lapic *l, uint32_t esr_bit);
/* A fixed interrupt arriving (message or local source): IRR and TMR. */
bool lapic_accept_fixed(vp_lapic *l, unsigned vector, bool level);
/* Signals a local interrupt source through its LVT entry. */
void lapic_lvt_fire(vp_lapic *l, int lvt);
void lapic_lint_set(vp_lapic *l, int pin, bool level);
/* Forces the LVT masks while software-disabled (SDM Vol 3A, "Enabling or
 * Disabling the Local APIC"). */
void lapic_svr_write(vp_lapic *l, uint32_t val);
void lapic_lvt_write(vp_lapic *l, int lvt, uint32_t val);
void lapic_nmi(vp_lapic *l);

/* ---- lapic_regs.c ---- */
extern const vp_io_ops vp_lapic_mmio_ops;
/* Register read/write by xAPIC offset, shared by MMIO and the MSRs.
 * Return 0, or -1 for an x2APIC access that must #GP. */
int lapic_reg_read(vp_lapic *l, uint32_t off, uint64_t *val, bool x2);
int lapic_reg_write(vp_lapic *l, uint32_t off, uint64_t val, bool x2);
/* Base address the xAPIC MMIO window currently decodes, or 0. */
uint64_t lapic_mmio_window(const vp_machine *m);

/* ---- lapic_timer.c ---- */
void lapic_timer_init(vp_lapic *l);
void lapic_timer_stop(vp_lapic *l);
/* Processes a zero crossing or deadline that is due but has not fired yet,
 * before software changes state that decides its outcome. */
void lapic_timer_sync(vp_lapic *l);
uint32_t lapic_timer_current(const vp_lapic *l);
void lapic_timer_write_initial(vp_lapic *l, uint32_t val);
void lapic_timer_write_dcr(vp_lapic *l, uint32_t val);
/* The LVT timer entry changed from `old` (mode change disarms). */
void lapic_timer_lvt_changed(vp_lapic *l, uint32_t old);
uint64_t lapic_timer_read_deadline(const vp_lapic *l);
void lapic_timer_write_deadline(vp_lapic *l, uint64_t tsc);

/* ---- apicbus.c ---- */
typedef struct apic_msg {
    uint32_t dest;
    uint8_t vector;
    uint8_t mode;          /* APIC_DM_* */
    uint8_t shorthand;     /* APIC_SH_* (IPIs only) */
    bool logical;
    bool level;            /* level-triggered (I/O APIC, MSI) */
    bool wide;             /* 32-bit x2APIC destination, else 8-bit */
    vp_lapic *src;         /* sending local APIC, NULL for I/O and MSI */
} apic_msg;

/* Delivers one message on the APIC bus; returns how many local APICs
 * accepted it. */
int apic_bus_deliver(vp_machine *m, const apic_msg *msg);
/* Whether local APIC l is a destination of msg (no shorthand). */
bool apic_bus_match(const vp_lapic *l, const apic_msg *msg);

/* ---- ioapic.c ---- */
vp_ioapic *ioapic_create(vp_machine *m, vp_error *err);
void ioapic_reset(vp_ioapic *io);
void ioapic_free(vp_ioapic *io);
void ioapic_eoi(vp_ioapic *io, unsigned vector);
void ioapic_set_pin(vp_ioapic *io, int pin, bool level);
void ioapic_isa_irq(void *opaque, int irq, int level);

#endif
