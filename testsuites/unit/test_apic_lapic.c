/* Local APIC: registers through the xAPIC page and the x2APIC MSRs,
 * IRR/ISR/PPR priority, EOI, TPR masking, ESR, LVT masking while
 * software-disabled, IPIs, IA32_APIC_BASE transitions. The offsets and bit
 * positions are restated here from SDM Vol 3A, "Advanced Programmable
 * Interrupt Controller (APIC)", rather than taken from the model. */
#include "testsuites/unit/lib/unit.h"

#include "emu/apic/apic.h"
#include "emu/cpu/cpu.h"

#define LAPIC 0xfee00000ull
#define MSR_APIC_BASE 0x1b
#define EN (1ull << 11)
#define EXTD (1ull << 10)
#define BSP (1ull << 8)

static vp_machine *m;
static vp_cpu *c;

static void setup(void)
{
    m = unit_machine(16);
    c = m->cpus[0];
    m->current_cpu = c;
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static uint32_t rd(uint32_t off)
{
    return (uint32_t)vp_phys_read_n(&m->mem, LAPIC + off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
    vp_phys_write_n(&m->mem, LAPIC + off, v, 4);
}

static bool irr(unsigned v)
{
    return (rd(0x200 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool isr(unsigned v)
{
    return (rd(0x100 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool tmr(unsigned v)
{
    return (rd(0x180 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static void sw_enable(void)
{
    wr(0xf0, 0x1ff);
}

/* Fixed self-IPI through the ICR (physical destination = own ID). */
static void ipi_self(unsigned vector)
{
    wr(0x310, rd(0x20) & 0xff000000u);
    wr(0x300, vector);
}

static int take(void)
{
    if (!vp_apic_intr_ready(c))
        return -1;
    return vp_apic_intr_ack(c);
}

static uint64_t rdmsr(uint32_t msr, int *rc)
{
    uint64_t v = 0;
    *rc = vp_apic_msr_read(c, msr, &v);
    return v;
}

static void to_x2apic(void)
{
    int rc;
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | EXTD), 0);
}

/* ---- reset state ---- */

START_TEST(reset_state)
{
    int rc;
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    ck_assert_int_eq(rc, 0);
    /* "Local APIC Status and Location": FEE00000H, enabled, BSP. */
    ck_assert_uint_eq(base, 0xfee00000ull | EN | BSP);
    ck_assert_uint_eq(rd(0x20) >> 24, 0);        /* ID = CPU index */
    ck_assert_uint_eq(rd(0x30) & 0xff, 0x14);    /* integrated APIC */
    ck_assert_uint_eq((rd(0x30) >> 16) & 0xff, 5); /* 6 LVT entries */
    ck_assert_uint_eq(rd(0xf0), 0xff);           /* SVR */
    ck_assert_uint_eq(rd(0xe0), 0xffffffffu);    /* DFR */
    for (uint32_t off = 0x320; off <= 0x370; off += 0x10)
        ck_assert_uint_eq(rd(off), 0x10000);     /* LVT masked */
    ck_assert_uint_eq(rd(0x80), 0);
    ck_assert_uint_eq(rd(0xa0), 0);
    ck_assert_uint_eq(rd(0x380), 0);
    ck_assert_uint_eq(rd(0x390), 0);
}
END_TEST

/* ---- priorities ---- */

START_TEST(irr_isr_ppr_eoi)
{
    sw_enable();
    ipi_self(0x41);
    ipi_self(0x95);
    ipi_self(0x33);
    ck_assert(irr(0x41) && irr(0x95) && irr(0x33));
    ck_assert(!tmr(0x41));
    /* Highest priority first. */
    ck_assert_int_eq(take(), 0x95);
    ck_assert(isr(0x95) && !irr(0x95));
    ck_assert_uint_eq(rd(0xa0), 0x90);           /* PPR = ISRV class */
    /* Lower classes wait behind the one in service. */
    ck_assert(!vp_apic_intr_ready(c));
    /* A higher class preempts. */
    ipi_self(0xa1);
    ck_assert_int_eq(take(), 0xa1);
    ck_assert_uint_eq(rd(0xa0), 0xa0);
    wr(0xb0, 0);                                 /* EOI retires 0xa1 */
    ck_assert(!isr(0xa1) && isr(0x95));
    ck_assert_uint_eq(rd(0xa0), 0x90);
    wr(0xb0, 0);
    ck_assert_uint_eq(rd(0xa0), 0);
    ck_assert_int_eq(take(), 0x41);
    wr(0xb0, 0);
    ck_assert_int_eq(take(), 0x33);
    wr(0xb0, 0);
    ck_assert_int_eq(take(), -1);
    /* EOI with nothing in service is harmless. */
    wr(0xb0, 0);
    ck_assert_uint_eq(rd(0xa0), 0);
}
END_TEST

START_TEST(same_class_waits)
{
    sw_enable();
    ipi_self(0x52);
    ck_assert_int_eq(take(), 0x52);
    /* Same priority class as the one in service: not delivered
     * (IRRV[7:4] must exceed PPR[7:4]). */
    ipi_self(0x5f);
    ck_assert(!vp_apic_intr_ready(c));
    wr(0xb0, 0);
    ck_assert_int_eq(take(), 0x5f);
}
END_TEST

START_TEST(tpr_masks)
{
    sw_enable();
    wr(0x80, 0x5a);
    ck_assert_uint_eq(rd(0x80), 0x5a);
    ck_assert_uint_eq(rd(0xa0), 0x5a);           /* PPR = TPR */
    ipi_self(0x59);
    ck_assert(!vp_apic_intr_ready(c));
    ipi_self(0x61);
    ck_assert_int_eq(take(), 0x61);
    /* ISRV class 6 > TPR class 5: PPR = 0x60. */
    ck_assert_uint_eq(rd(0xa0), 0x60);
    wr(0xb0, 0);
    ck_assert(!vp_apic_intr_ready(c));
    c->intr_pending = false;
    wr(0x80, 0x40);
    ck_assert(c->intr_pending);                  /* lowering TPR kicks */
    ck_assert_int_eq(take(), 0x59);
    wr(0xb0, 0);
    /* TPR is 8 bits; CR8 mirrors TPR[7:4]. */
    wr(0x80, 0xffffffffu);
    ck_assert_uint_eq(rd(0x80), 0xff);
    ck_assert_uint_eq(vp_apic_read_cr8(c), 0xf);
    ck_assert_uint_eq(c->cr8, 0xf);
    vp_apic_write_cr8(c, 3);
    ck_assert_uint_eq(rd(0x80), 0x30);
    ck_assert_uint_eq(c->cr8, 3);
}
END_TEST

START_TEST(apr_formula)
{
    sw_enable();
    /* TPR class >= IRRV class and > ISRV class: APR = TPR. */
    wr(0x80, 0x47);
    ck_assert_uint_eq(rd(0x90), 0x47);
    /* A pending vector of a higher class: APR = its class. */
    ipi_self(0x81);
    ck_assert_uint_eq(rd(0x90), 0x80);
}
END_TEST

START_TEST(spurious_when_blocked)
{
    sw_enable();
    wr(0xf0, 0x1ef);
    ipi_self(0x40);
    wr(0x80, 0xf0);
    /* An acknowledge with nothing deliverable returns the spurious vector
     * and sets no ISR bit (SDM Vol 3A, "Spurious Interrupt"). */
    ck_assert_int_eq(vp_apic_intr_ack(c), 0xef);
    ck_assert(!isr(0x40) && irr(0x40));
}
END_TEST

/* ---- software disable, LVT, ESR ---- */

START_TEST(sw_disabled_masks_lvt)
{
    /* Software-disabled: LVT mask bits cannot be cleared. */
    wr(0x350, 0x0030);
    ck_assert_uint_eq(rd(0x350), 0x10030);
    sw_enable();
    wr(0x350, 0x0030);
    ck_assert_uint_eq(rd(0x350), 0x30);
    /* Disabling sets every mask. */
    wr(0xf0, 0x0ff);
    for (uint32_t off = 0x320; off <= 0x370; off += 0x10)
        ck_assert_uint_ne(rd(off) & 0x10000, 0);
    /* Fixed interrupts are not accepted while disabled. */
    ipi_self(0x44);
    ck_assert(!irr(0x44));
}
END_TEST

START_TEST(lvt_readonly_bits)
{
    sw_enable();
    /* Delivery status (12) and remote IRR (14) are read-only; bits above
     * 16 (other than the timer mode) do not exist. */
    wr(0x360, 0xfffff4ffu);
    ck_assert_uint_eq(rd(0x360), 0x0001a4ffu);
    wr(0x370, 0xffffffffu);
    ck_assert_uint_eq(rd(0x370), 0x000100ffu);
    wr(0x320, 0xffffffffu);
    ck_assert_uint_eq(rd(0x320), 0x000700ffu);
    /* SVR bits 31:13, 11:10 do not exist. */
    wr(0xf0, 0xffffffffu);
    ck_assert_uint_eq(rd(0xf0), 0x13ffu);
}
END_TEST

START_TEST(esr_write_before_read)
{
    sw_enable();
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0);
    /* Fixed IPI with vector 3: "Send Illegal Vector" at the sender and
     * "Receive Illegal Vector" at the receiver (itself); no IRR bit. */
    ipi_self(3);
    ck_assert(!irr(3));
    /* Not visible until the next write to the ESR. */
    ck_assert_uint_eq(rd(0x280), 0);
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x60);
    /* Back-to-back writes clear it. */
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0);
    /* A reserved register: "Illegal Register Address". */
    (void)rd(0x040);
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x80);
    wr(0x280, 0);
    /* SELF IPI offset 3F0H does not exist in xAPIC mode either. */
    wr(0x3f0, 0x40);
    ck_assert(!irr(0x40));
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x80);
}
END_TEST

START_TEST(error_lvt_interrupt)
{
    sw_enable();
    wr(0x370, 0xe3);
    ipi_self(7);
    /* The error is signalled through the LVT error entry. */
    ck_assert(irr(0xe3));
    ck_assert_int_eq(take(), 0xe3);
    wr(0xb0, 0);
    /* Masked: collected, not signalled. */
    wr(0x370, 0x100e3);
    ipi_self(7);
    ck_assert(!irr(0xe3));
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x60);
}
END_TEST

START_TEST(mmio_widths)
{
    sw_enable();
    wr(0x80, 0x5a);
    /* Narrow reads return the addressed bytes; bytes 4-15 read 0. */
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, LAPIC + 0x80, 1), 0x5a);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, LAPIC + 0x84, 4), 0);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, LAPIC + 0x80, 8), 0x5a);
    /* Narrow writes are ignored, as are writes inside a slot. */
    vp_phys_write_n(&m->mem, LAPIC + 0x80, 0x11, 1);
    vp_phys_write_n(&m->mem, LAPIC + 0x84, 0x22, 4);
    ck_assert_uint_eq(rd(0x80), 0x5a);
    /* Garbage anywhere in the page must not crash. */
    for (uint32_t off = 0; off < 0x1000; off += 4) {
        vp_phys_write_n(&m->mem, LAPIC + off, 0xa5a5a5a5u, 4);
        (void)vp_phys_read_n(&m->mem, LAPIC + off, 4);
    }
}
END_TEST

/* ---- IPIs ---- */

START_TEST(ipi_destinations)
{
    sw_enable();
    /* Physical destination that is not us: nobody accepts. */
    wr(0x310, 0x05000000u);
    wr(0x300, 0x50);
    ck_assert(!irr(0x50));
    /* Broadcast 0xFF. */
    wr(0x310, 0xff000000u);
    wr(0x300, 0x51);
    ck_assert(irr(0x51));
    /* Logical flat: LDR bit 2 set, destination bitmap with bit 2. */
    wr(0xd0, 0x04000000u);
    wr(0x310, 0x06000000u);
    wr(0x300, 0x852);
    ck_assert(irr(0x52));
    wr(0x310, 0x08000000u);
    wr(0x300, 0x853);
    ck_assert(!irr(0x53));
    /* Logical cluster: DFR model 0, LDR cluster 3 member bit 1. */
    wr(0xe0, 0x0fffffffu);
    ck_assert_uint_eq(rd(0xe0), 0x0fffffffu);
    wr(0xd0, 0x32000000u);
    wr(0x310, 0x36000000u);
    wr(0x300, 0x854);
    ck_assert(irr(0x54));
    wr(0x310, 0x46000000u);
    wr(0x300, 0x855);
    ck_assert(!irr(0x55));
    /* Shorthands: self, all including self, all excluding self. */
    wr(0x300, 0x40056);
    ck_assert(irr(0x56));
    wr(0x300, 0x80057);
    ck_assert(irr(0x57));
    wr(0x300, 0xc0058);
    ck_assert(!irr(0x58));
    /* Lowest priority to self. */
    wr(0x310, 0xff000000u);
    wr(0x300, 0x159);
    ck_assert(irr(0x59));
    /* The xAPIC sends IPIs edge-triggered even with the trigger mode bit
     * set: TMR stays clear ("Valid Combinations for the Pentium 4 and
     * Intel Xeon Processors' Local xAPIC Interrupt Command Register"). */
    wr(0x300, 0x4c05a);
    ck_assert(irr(0x5a) && !tmr(0x5a));
    wr(0x310, 0);
    wr(0x300, 0xc05b);
    ck_assert(irr(0x5b) && !tmr(0x5b));
    /* Delivery status reads idle. */
    ck_assert_uint_eq(rd(0x300) & (1u << 12), 0);
}
END_TEST

START_TEST(ipi_nmi_init_sipi)
{
    sw_enable();
    c->nmi_pending = false;
    wr(0x310, 0);
    wr(0x300, 0x400);                             /* NMI, physical 0 */
    ck_assert(c->nmi_pending);
    ck_assert(vp_apic_nmi_take(c));
    ck_assert(!vp_apic_nmi_take(c));
    /* INIT and STARTUP are recorded without resetting this CPU; the IRR
     * is untouched. */
    uint64_t rip = c->rip;
    wr(0x300, 0xc4500);                           /* INIT to all-but-self */
    wr(0x300, 0x44500);                           /* INIT to self */
    wr(0x300, 0x44608);                           /* SIPI to self */
    ck_assert_uint_eq(c->rip, rip);
    for (unsigned v = 0; v < 256; v += 32)
        ck_assert_uint_eq(rd(0x200 + v / 2), 0);
    /* NMI via LINT1 (NMI mode), edge-triggered. */
    wr(0x360, 0x400);
    c->nmi_pending = false;
    vp_apic_nmi_line(m, 1);
    ck_assert(c->nmi_pending);
    c->nmi_pending = false;
    vp_apic_nmi_line(m, 1);
    ck_assert(!c->nmi_pending);
    vp_apic_nmi_line(m, 0);
    wr(0x360, 0x10400);
    vp_apic_nmi_line(m, 1);
    ck_assert(!c->nmi_pending);
    vp_apic_nmi_line(m, 0);
}
END_TEST

START_TEST(lint1_fixed)
{
    sw_enable();
    wr(0x360, 0x0066);
    vp_apic_nmi_line(m, 1);
    ck_assert(irr(0x66) && !tmr(0x66));
    vp_apic_nmi_line(m, 0);
}
END_TEST

/* ---- x2APIC ---- */

START_TEST(x2apic_transitions)
{
    int rc;
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    /* x2APIC MSRs #GP outside x2APIC mode. */
    (void)rdmsr(0x802, &rc);
    ck_assert_int_eq(rc, -1);
    /* Reserved bits of IA32_APIC_BASE. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | 1), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | (1ull << 9)), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | (1ull << 62)), -1);
    /* EN=0, EXTD=1 is the invalid state. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, (base & ~EN) | EXTD), -1);
    /* xAPIC -> x2APIC. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | EXTD), 0);
    ck_assert_uint_eq(rdmsr(MSR_APIC_BASE, &rc), base | EXTD);
    /* x2APIC -> xAPIC is illegal. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base), -1);
    ck_assert_uint_eq(rdmsr(MSR_APIC_BASE, &rc), base | EXTD);
    /* The MMIO page is gone for this CPU: reads all ones. */
    ck_assert_uint_eq(rd(0x30), 0xffffffffu);
    /* x2APIC -> disabled -> xAPIC. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base & ~EN), 0);
    (void)rdmsr(0x802, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(rd(0x30), 0xffffffffu);
    /* disabled -> x2APIC is illegal. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base | EXTD), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base), 0);
    ck_assert_uint_eq(rd(0x30) & 0xff, 0x14);
    /* The BSP flag is not software's to change. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base & ~BSP), 0);
    ck_assert_uint_eq(rdmsr(MSR_APIC_BASE, &rc), base);
}
END_TEST

START_TEST(disable_resets_state)
{
    sw_enable();
    wr(0x80, 0x20);
    ipi_self(0x70);
    int rc;
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base & ~EN), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base), 0);
    ck_assert_uint_eq(rd(0xf0), 0xff);
    ck_assert_uint_eq(rd(0x80), 0);
    ck_assert(!irr(0x70));
}
END_TEST

START_TEST(x2apic_registers)
{
    int rc;
    sw_enable();
    to_x2apic();
    /* ID is the 32-bit x2APIC ID, read-only. */
    ck_assert_uint_eq(rdmsr(0x802, &rc), 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x802, 0), -1);
    ck_assert_uint_eq(rdmsr(0x803, &rc) & 0xff, 0x14);
    /* LDR derived from the ID: cluster 0, bit (ID & 15). Read-only. */
    ck_assert_uint_eq(rdmsr(0x80d, &rc), 1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80d, 1), -1);
    /* Absent in x2APIC mode: APR, RRD, DFR, ICR high, CMCI, and the gaps. */
    static const uint32_t absent[] = {0x800, 0x801, 0x804, 0x809, 0x80c,
                                      0x80e, 0x82f, 0x831, 0x83a, 0x840,
                                      0x8ff};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        (void)rdmsr(absent[i], &rc);
        ck_assert_msg(rc == -1, "RDMSR %#x must #GP", absent[i]);
        ck_assert_msg(vp_apic_msr_write(c, absent[i], 0) == -1,
                      "WRMSR %#x must #GP", absent[i]);
    }
    /* Write-only registers #GP on read; read-only ones on write. */
    (void)rdmsr(0x80b, &rc);
    ck_assert_int_eq(rc, -1);
    (void)rdmsr(0x83f, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80a, 0), -1);   /* PPR */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x810, 0), -1);   /* ISR */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x839, 0), -1);   /* TMCCT */
    /* Reserved bits #GP: TPR 31:8, upper halves, EOI and ESR non-zero. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x808, 0x100), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x808, 1ull << 32), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x808, 0x30), 0);
    ck_assert_uint_eq(rdmsr(0x808, &rc), 0x30);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80b, 1), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x828, 1), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x83e, 0x4), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x83f, 0x100), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80f, 0x4ff), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x835, 1u << 17), -1);
    /* ICR reserved bits: 31:20, 17:16, 13. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x100040), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x10040), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x2040), -1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x808, 0), 0);
    /* 64-bit ICR: destination in 63:32. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x0000000000000061ull), 0);
    ck_assert_uint_eq(rdmsr(0x830, &rc), 0x61);
    ck_assert_uint_eq((rdmsr(0x820 + 3, &rc) >> 1) & 1, 1);   /* IRR 0x61 */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x0000000500000062ull), 0);
    ck_assert_uint_eq(rdmsr(0x830, &rc), 0x0000000500000062ull);
    ck_assert_uint_eq((rdmsr(0x823, &rc) >> 2) & 1, 0);      /* not us */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0xffffffff00000063ull), 0);
    ck_assert_uint_eq((rdmsr(0x823, &rc) >> 3) & 1, 1);      /* broadcast */
    /* Logical x2APIC: cluster 0, bitmap bit 0. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x0000000100000864ull), 0);
    ck_assert_uint_eq((rdmsr(0x823, &rc) >> 4) & 1, 1);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x830, 0x0001000100000865ull), 0);
    ck_assert_uint_eq((rdmsr(0x823, &rc) >> 5) & 1, 0);
    /* SELF IPI. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x83f, 0x77), 0);
    ck_assert_uint_eq((rdmsr(0x823, &rc) >> 23) & 1, 1);
    ck_assert_int_eq(take(), 0x77);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80b, 0), 0);
    ck_assert_int_eq(take(), 0x64);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x80b, 0), 0);
    /* Self IPI with an illegal vector: send + receive illegal vector. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x828, 0), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x83f, 0x05), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x828, 0), 0);
    ck_assert_uint_eq(rdmsr(0x828, &rc), 0x60);
}
END_TEST

START_TEST(tsc_deadline_msr_gating)
{
    int rc;
    /* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, 12345), 0);
    ck_assert_uint_eq(rdmsr(0x6e0, &rc), 0);
    ck_assert_int_eq(rc, 0);
    /* Unknown MSRs are not the APIC's. */
    (void)rdmsr(0x10, &rc);
    ck_assert_int_eq(rc, -1);
}
END_TEST

START_TEST(base_relocation)
{
    int rc;
    sw_enable();
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    uint64_t nb = 0xd0000000ull;
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE,
                                       nb | (base & 0xfff)), 0);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, nb + 0x30, 4) & 0xff, 0x14);
    ck_assert_uint_eq(rd(0x30), 0xffffffffu);
    /* Onto the I/O APIC: the bus keeps the I/O APIC's registers there
     * and nothing breaks. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE,
                                       0xfec00000ull | (base & 0xfff)), 0);
    vp_phys_write_n(&m->mem, 0xfec00000ull, 1, 4);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, 0xfec00010ull, 4), 0x170020);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base), 0);
    ck_assert_uint_eq(rd(0x30) & 0xff, 0x14);
    /* Platform reset puts it back. */
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE,
                                       nb | (base & 0xfff)), 0);
    vp_apic_reset(m);
    ck_assert_uint_eq(rd(0x30) & 0xff, 0x14);
}
END_TEST

START_TEST(hw_disabled_no_messages)
{
    int rc;
    uint64_t base = rdmsr(MSR_APIC_BASE, &rc);
    sw_enable();
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base & ~EN), 0);
    vp_apic_msi(m, 0xfee00000ull, 0x45);
    ck_assert_int_eq(vp_apic_msr_write(c, MSR_APIC_BASE, base), 0);
    sw_enable();
    ck_assert(!irr(0x45));
    /* MSI reaches the enabled APIC. */
    vp_apic_msi(m, 0xfee00000ull, 0x46);
    ck_assert(irr(0x46));
    vp_apic_msi(m, 0xfee00000ull, 0x8047);          /* level */
    ck_assert(irr(0x47) && tmr(0x47));
}
END_TEST


/* Whatever a guest writes, wherever: no crash, no hang, and the APIC still
 * answers afterwards. Deterministic pseudo-random values. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

START_TEST(fuzz_no_crash)
{
    uint64_t now = vp_clock_now(&m->clock);
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng(), v = rng();
        switch (r & 7) {
        case 0:
        case 1:
            wr((uint32_t)(r >> 8) & 0xffc, (uint32_t)v);
            break;
        case 2:
            (void)rd((uint32_t)(r >> 8) & 0xffc);
            break;
        case 3: {
            uint32_t msr = 0x800 + ((uint32_t)(r >> 8) & 0xff);
            if (r & 0x10000)
                (void)vp_apic_msr_write(c, msr, (r & 0x20000) ? v : (uint32_t)v);
            else {
                uint64_t x;
                (void)vp_apic_msr_read(c, msr, &x);
            }
            break;
        }
        case 4: {
            /* IA32_APIC_BASE: mostly valid bases, some wild values. */
            uint64_t base = (r & 0x100) ? v : 0xfee00000ull | (v & 0xc00);
            (void)vp_apic_msr_write(c, MSR_APIC_BASE, base);
            (void)vp_apic_msr_write(c, 0x6e0, (r & 0x200) ? v : v & 0xffff);
            break;
        }
        case 5:
            vp_phys_write_n(&m->mem, 0xfec00000ull + ((r >> 8) & 0x7c),
                            (r & 0x100) ? (v & 0xff) : v, 4);
            break;
        case 6:
            vp_machine_set_isa_irq(m, (int)((r >> 8) & 15), (int)((r >> 12) & 1));
            vp_ioapic_set_irq(m, (int)((r >> 16) & 31) - 4, (int)((r >> 21) & 1));
            vp_apic_msi(m, 0xfee00000ull | ((v >> 32) & 0xfffff), (uint32_t)v);
            vp_apic_pic_intr(m, (int)((r >> 22) & 1));
            vp_apic_nmi_line(m, (int)((r >> 23) & 1));
            break;
        default:
            now += (r >> 8) & 0xfff;
            vp_clock_skip_to(&m->clock, now);
            vp_clock_run_timers(&m->clock);
            if (vp_apic_intr_ready(c))
                (void)vp_apic_intr_ack(c);
            (void)vp_apic_nmi_take(c);
            vp_apic_write_cr8(c, v & 0xf);
            break;
        }
    }
    /* Back to a sane state: the APIC answers at its reset address. */
    vp_apic_reset(m);
    ck_assert_uint_eq(rd(0x30) & 0xff, 0x14);
    sw_enable();
    ipi_self(0x42);
    ck_assert_int_eq(take(), 0x42);
}
END_TEST

static Suite *apic_lapic_suite(void)
{
    Suite *s = suite_create("apic_lapic");
    TCase *t = tcase_create("lapic");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, reset_state);
    tcase_add_test(t, irr_isr_ppr_eoi);
    tcase_add_test(t, same_class_waits);
    tcase_add_test(t, tpr_masks);
    tcase_add_test(t, apr_formula);
    tcase_add_test(t, spurious_when_blocked);
    tcase_add_test(t, sw_disabled_masks_lvt);
    tcase_add_test(t, lvt_readonly_bits);
    tcase_add_test(t, esr_write_before_read);
    tcase_add_test(t, error_lvt_interrupt);
    tcase_add_test(t, mmio_widths);
    tcase_add_test(t, ipi_destinations);
    tcase_add_test(t, ipi_nmi_init_sipi);
    tcase_add_test(t, lint1_fixed);
    tcase_add_test(t, x2apic_transitions);
    tcase_add_test(t, disable_resets_state);
    tcase_add_test(t, x2apic_registers);
    tcase_add_test(t, tsc_deadline_msr_gating);
    tcase_add_test(t, base_relocation);
    tcase_add_test(t, hw_disabled_no_messages);
    tcase_add_test(t, fuzz_no_crash);
    suite_add_tcase(s, t);
    return s;
}

VP_UNIT_MAIN(apic_lapic_suite)
