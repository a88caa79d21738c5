/* apic_x2apic.c: x2APIC mode where CPUID.01H:ECX[21] advertises it (QEMU's
 * TCG does not: everything is skipped there): the IA32_APIC_BASE state
 * transitions, register access through MSRs 800H-8FFH, the 32-bit ID and
 * derived logical ID, the 64-bit ICR, the SELF IPI register, and the #GP
 * cases (absent and write-only registers, non-zero EOI, illegal
 * transitions).
 * engines: vanderpool qemu
 *
 * Not Bochs (2.7): its x2APIC leaves the logical x2APIC ID at 0 on entry
 * into x2APIC mode (set_base derives it from the previous mode), accepts
 * the disabled -> x2APIC transition without #GP, and does not read back
 * the 64-bit ICR written through MSR 830H.
 *
 * SDM Vol 3A, "Extended XAPIC (x2APIC)": "x2APIC Register Address Space",
 * "Reserved Bit Checking", "x2APIC State Transitions", "Deriving Logical
 * x2APIC ID from the Local x2APIC ID", "SELF IPI Register".
 */
#include "apic_lib.h"

#define X2(off) (0x800u + ((off) >> 4))

static volatile int got_vec;
static volatile int count;

static void x2_handler(struct intr_frame *f)
{
    got_vec = (int)f->vector;
    count++;
    wrmsr(X2(LAPIC_EOI), 0);
}

struct msr_op {
    uint32_t msr;
    uint64_t val;
    bool write;
};

static void do_msr(void *arg)
{
    struct msr_op *op = arg;
    if (op->write)
        wrmsr(op->msr, op->val);
    else
        op->val = rdmsr(op->msr);
}

static int try_rdmsr(uint32_t msr)
{
    struct msr_op op = {msr, 0, false};
    return run_catching(do_msr, &op);
}

static int try_wrmsr(uint32_t msr, uint64_t val)
{
    struct msr_op op = {msr, val, true};
    return run_catching(do_msr, &op);
}

static void take_pending(void)
{
    irq_enable();
    delay(2000);
    irq_disable();
}

void test_main(void)
{
    apic_setup();
    if (!(cpuid(1).c & BIT(21))) {
        report_skip("x2apic", "CPUID.01H:ECX.x2APIC is 0");
        return;
    }
    for (int v = 0x61; v <= 0x63; v++)
        set_intr_handler(v, x2_handler);
    uint32_t xver = lapic_read(LAPIC_VER);
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

    report_eq("x2apic msrs #GP in xAPIC mode", (uint64_t)try_rdmsr(X2(LAPIC_VER)), GP_VECTOR);

    wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
    report_eq("x2apic mode entered", rdmsr(MSR_IA32_APIC_BASE), base | APIC_BASE_EXTD);

    uint32_t id = (uint32_t)rdmsr(X2(LAPIC_ID));
    uint32_t cpuid_id = cpuid(1).b >> 24;
    if (cpuid(0).a >= 0xB)
        cpuid_id = cpuid_count(0xB, 0).d; /* the 32-bit x2APIC ID */
    report_eq("x2apic id matches CPUID", id, cpuid_id);
    report_eq("version is the same in both modes", rdmsr(X2(LAPIC_VER)), xver);
    report_eq("logical id derived from the x2apic id", rdmsr(X2(LAPIC_LDR)),
              ((id >> 4) << 16) | (1u << (id & 15)));
    report_eq("id is read-only", (uint64_t)try_wrmsr(X2(LAPIC_ID), id), GP_VECTOR);
    report_eq("ldr is read-only", (uint64_t)try_wrmsr(X2(LAPIC_LDR), 1), GP_VECTOR);

    /* Absent in x2APIC mode: DFR (80EH), ICR high (831H). */
    report_eq("no DFR", (uint64_t)try_rdmsr(0x80E), GP_VECTOR);
    report_eq("no ICR high half", (uint64_t)try_rdmsr(0x831), GP_VECTOR);
    /* Write-only EOI and SELF IPI; non-zero EOI and ESR writes. */
    report_eq("EOI is write-only", (uint64_t)try_rdmsr(X2(LAPIC_EOI)), GP_VECTOR);
    report_eq("SELF IPI is write-only", (uint64_t)try_rdmsr(0x83F), GP_VECTOR);
    report_eq("non-zero EOI write", (uint64_t)try_wrmsr(X2(LAPIC_EOI), 1), GP_VECTOR);
    report_eq("non-zero ESR write", (uint64_t)try_wrmsr(X2(LAPIC_ESR), 1), GP_VECTOR);
    report_eq("TPR reserved bits", (uint64_t)try_wrmsr(X2(LAPIC_TPR), 0x100), GP_VECTOR);

    wrmsr(X2(LAPIC_ESR), 0);
    report_eq("esr clear", rdmsr(X2(LAPIC_ESR)), 0);
    wrmsr(X2(LAPIC_TPR), 0x30);
    report_eq("tpr through its msr", rdmsr(X2(LAPIC_TPR)), 0x30);
    report_eq("ppr through its msr", rdmsr(X2(LAPIC_PPR)), 0x30);
    wrmsr(X2(LAPIC_TPR), 0);

    /* SELF IPI register. */
    got_vec = 0;
    count = 0;
    wrmsr(0x83F, 0x61);
    report("self ipi sets irr", (rdmsr(X2(LAPIC_IRR) + 3) >> 1) & 1);
    take_pending();
    report_eq("self ipi delivered", (uint64_t)got_vec, 0x61);

    /* 64-bit ICR: fixed IPI to our own 32-bit ID in 63:32. */
    got_vec = 0;
    wrmsr(X2(LAPIC_ICR_LO), (uint64_t)id << 32 | ICR_ASSERT | 0x62);
    report_eq("icr reads back 64 bits", rdmsr(X2(LAPIC_ICR_LO)) & ~(uint64_t)BIT(12),
              (uint64_t)id << 32 | ICR_ASSERT | 0x62);
    take_pending();
    report_eq("icr physical ipi delivered", (uint64_t)got_vec, 0x62);
    /* Logical: cluster and bitmap of our logical ID. */
    got_vec = 0;
    uint64_t ldr = rdmsr(X2(LAPIC_LDR));
    wrmsr(X2(LAPIC_ICR_LO), ldr << 32 | ICR_LOGICAL | ICR_ASSERT | 0x63);
    take_pending();
    report_eq("icr logical ipi delivered", (uint64_t)got_vec, 0x63);
    report_eq("three interrupts in all", (uint64_t)count, 3);

    /* State transitions: x2APIC -> xAPIC is illegal; -> disabled is fine;
     * disabled -> x2APIC is illegal; disabled -> xAPIC is fine. */
    report_eq("x2apic to xapic #GP", (uint64_t)try_wrmsr(MSR_IA32_APIC_BASE, base),
              GP_VECTOR);
    report_eq("EN=0 EXTD=1 #GP",
              (uint64_t)try_wrmsr(MSR_IA32_APIC_BASE, (base & ~APIC_BASE_EN) | APIC_BASE_EXTD),
              GP_VECTOR);
    wrmsr(MSR_IA32_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD));
    report_eq("disabled", rdmsr(MSR_IA32_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD), 0);
    report_eq("x2apic msrs #GP while disabled", (uint64_t)try_rdmsr(X2(LAPIC_VER)), GP_VECTOR);
    report_eq("disabled to x2apic #GP",
              (uint64_t)try_wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD), GP_VECTOR);
    wrmsr(MSR_IA32_APIC_BASE, base);
    report_eq("back in xAPIC mode", rdmsr(MSR_IA32_APIC_BASE), base);
    report_eq("xAPIC page answers again", lapic_read(LAPIC_VER), xver);
    /* Leave the APIC as apic_setup made it. */
    apic_setup();
}
