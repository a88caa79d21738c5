/* apic_lib.h: helpers shared by the apic_*.c guest tests (not a test).
 * Register offsets from SDM Vol 3A, "Local APIC Register Address Map" and
 * the 82093AA I/O APIC datasheet. */
#ifndef APIC_LIB_H
#define APIC_LIB_H

#include "vp.h"

#define LAPIC_BASE 0xFEE00000ull
#define IOAPIC_BASE 0xFEC00000ull

enum {
    LAPIC_ID = 0x20,
    LAPIC_VER = 0x30,
    LAPIC_TPR = 0x80,
    LAPIC_PPR = 0xA0,
    LAPIC_EOI = 0xB0,
    LAPIC_LDR = 0xD0,
    LAPIC_DFR = 0xE0,
    LAPIC_SVR = 0xF0,
    LAPIC_ISR = 0x100,
    LAPIC_TMR = 0x180,
    LAPIC_IRR = 0x200,
    LAPIC_ESR = 0x280,
    LAPIC_ICR_LO = 0x300,
    LAPIC_ICR_HI = 0x310,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370,
    LAPIC_TMICT = 0x380,
    LAPIC_TMCCT = 0x390,
    LAPIC_TDCR = 0x3E0,
};

#define APIC_BASE_EN BIT(11)
#define APIC_BASE_EXTD BIT(10)
#define LVT_MASKED BIT(16)
#define LVT_PERIODIC (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_SELF (1u << 18)
#define ICR_LOGICAL BIT(11)
#define ICR_ASSERT BIT(14)
#define ICR_NMI (4u << 8)
#define RTE_LEVEL BIT(15)
#define RTE_REMOTE_IRR BIT(14)
#define RTE_MASKED BIT(16)
#define MSR_TSC_DEADLINE 0x6E0u
#define SPURIOUS_VEC 0xFF

static inline uint32_t lapic_read(uint32_t off) { return mmio_read32(LAPIC_BASE + off); }
static inline void lapic_write(uint32_t off, uint32_t v) { mmio_write32(LAPIC_BASE + off, v); }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

/* Bit `v` of a 256-bit register (ISR, TMR, IRR) in the xAPIC page. */
static inline bool lapic_vec(uint32_t reg, unsigned v)
{
    return (lapic_read(reg + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static inline uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

/* A fixed, edge-triggered IPI to self through the ICR shorthand. */
static inline void lapic_self_ipi(unsigned vector)
{
    lapic_write(LAPIC_ICR_LO, ICR_SELF | ICR_ASSERT | vector);
}

static inline uint32_t ioapic_read(uint32_t idx)
{
    mmio_write32(IOAPIC_BASE, idx);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

static inline void ioapic_write(uint32_t idx, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, idx);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

/* Redirection entry of `pin`: destination (physical APIC ID) first, then
 * the low word with vector, trigger and mask. */
static inline void ioapic_route(int pin, uint32_t low, uint8_t dest)
{
    ioapic_write(0x11 + 2 * (uint32_t)pin, (uint32_t)dest << 24);
    ioapic_write(0x10 + 2 * (uint32_t)pin, low);
}

static inline void ioapic_mask(int pin)
{
    ioapic_write(0x10 + 2 * (uint32_t)pin, RTE_MASKED);
}

static volatile int apic_spurious;

static void apic_spurious_handler(struct intr_frame *f)
{
    (void)f;
    apic_spurious++; /* no EOI for the spurious vector */
}

/* Quiets the legacy sources (firmware leaves the 8259 delivering the PIT
 * through LINT0 in virtual wire mode) and brings the local APIC to a known
 * state at FEE00000H: software-enabled, spurious vector FFH, TPR 0,
 * LINT0 masked, nothing in service. Aborts if there is no usable xAPIC. */
static inline void apic_setup(void)
{
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    if (!(cpuid(1).d & BIT(9)))
        report_abort("apic present", "CPUID.1:EDX.APIC is 0");
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if ((base & ~0xFFFull) != LAPIC_BASE || (base & (APIC_BASE_EN | APIC_BASE_EXTD)) != APIC_BASE_EN)
        report_abort("apic base", "IA32_APIC_BASE is %#llx", (unsigned long long)base);
    set_intr_handler(SPURIOUS_VEC, apic_spurious_handler);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VEC);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED | (7u << 8));
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TMICT, 0);
    lapic_write(LAPIC_TPR, 0);
    for (int i = 0; i < 256 && lapic_read(LAPIC_PPR); i++)
        lapic_eoi();
}

/* Polls until *counter reaches n (bounded). */
static inline bool wait_count(volatile int *counter, int n, uint64_t loops)
{
    for (uint64_t i = 0; i < loops; i++) {
        if (*counter >= n)
            return true;
        pause();
    }
    return *counter >= n;
}

#endif
