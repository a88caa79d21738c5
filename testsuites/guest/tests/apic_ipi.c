/* apic_ipi.c: xAPIC self-IPIs through the ICR (shorthand, physical and
 * logical destinations), IRR/ISR and the processor priority, delivery in
 * priority order, TPR and CR8 masking, EOI, an NMI IPI, and the ESR.
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "Issuing Interprocessor Interrupts", "Interrupt, Task, and
 * Processor Priority", "Interrupt Acceptance for Fixed Interrupts",
 * "Signaling Interrupt Servicing Completion", "Error Handling".
 */
#include "apic_lib.h"

static volatile int order[8];
static volatile int norder;
static volatile bool isr_seen, irr_clear_seen;
static volatile uint32_t ppr_seen;
static volatile int nmis;

static void record_handler(struct intr_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (norder < (int)ARRAY_SIZE(order))
        order[norder] = (int)v;
    norder++;
    isr_seen = lapic_vec(LAPIC_ISR, v);
    irr_clear_seen = !lapic_vec(LAPIC_IRR, v);
    ppr_seen = lapic_read(LAPIC_PPR);
    lapic_eoi();
}

static void nmi_handler(struct intr_frame *f)
{
    (void)f;
    nmis++;
}

static void reset_log(void)
{
    norder = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(order); i++)
        order[i] = -1;
}

static void take_pending(void)
{
    irq_enable();
    delay(2000);
    irq_disable();
}

static void registers(void)
{
    uint32_t ver = lapic_read(LAPIC_VER);
    /* An integrated APIC reports version 1xH; 23:16 is LVT entries - 1
     * (timer, LINT0, LINT1, error at least). */
    report_msg("version register", (ver & 0xF0) == 0x10 && ((ver >> 16) & 0xFF) >= 3,
               "version %#x", ver);
    report_eq("apic id matches CPUID initial id", lapic_id(), cpuid(1).b >> 24);
    /* "A write (of any value) to the ESR must be done just prior to
     * reading the ESR." Nothing has gone wrong so far. */
    lapic_write(LAPIC_ESR, 0);
    report_eq("esr clear", lapic_read(LAPIC_ESR), 0);
    lapic_write(LAPIC_TPR, 0x25);
    report_eq("tpr reads back", lapic_read(LAPIC_TPR) & 0xFF, 0x25);
    report_eq("ppr follows tpr when nothing is in service", lapic_read(LAPIC_PPR) & 0xFF,
              0x25);
    lapic_write(LAPIC_TPR, 0);
    /* CR8 is TPR[7:4] (SDM Vol 3A, "Task Priority in IA-32e Mode"). */
    write_cr8(6);
    report_eq("cr8 writes tpr[7:4]", lapic_read(LAPIC_TPR) & 0xF0, 0x60);
    lapic_write(LAPIC_TPR, 0x90);
    report_eq("cr8 reads tpr[7:4]", read_cr8(), 9);
    write_cr8(0);
}

static void self_ipi(void)
{
    reset_log();
    lapic_self_ipi(0x51);
    report("self ipi sets irr", lapic_vec(LAPIC_IRR, 0x51));
    report("not delivered while IF=0", norder == 0);
    take_pending();
    report_eq("self ipi delivered", (uint64_t)order[0], 0x51);
    report("isr set while in service", isr_seen);
    report("irr cleared on acknowledge", irr_clear_seen);
    report_eq("ppr is the in-service class", ppr_seen & 0xF0, 0x50);
    report("eoi clears isr", !lapic_vec(LAPIC_ISR, 0x51));
    report_eq("ppr back to 0 after eoi", lapic_read(LAPIC_PPR), 0);
    report_eq("delivered once", (uint64_t)norder, 1);

    /* Physical destination: our own APIC ID, no shorthand. */
    reset_log();
    lapic_write(LAPIC_ICR_HI, lapic_id() << 24);
    lapic_write(LAPIC_ICR_LO, ICR_ASSERT | 0x52);
    take_pending();
    report_eq("physical destination ipi", (uint64_t)order[0], 0x52);
    report("delivery status idle", !(lapic_read(LAPIC_ICR_LO) & BIT(12)));

    /* Logical flat model: LDR bit 0, destination bitmap 01H. */
    reset_log();
    lapic_write(LAPIC_DFR, 0xFFFFFFFFu);
    lapic_write(LAPIC_LDR, 1u << 24);
    lapic_write(LAPIC_ICR_HI, 0x01u << 24);
    lapic_write(LAPIC_ICR_LO, ICR_LOGICAL | ICR_ASSERT | 0x53);
    /* A logical destination that names nobody: bitmap 80H. */
    lapic_write(LAPIC_ICR_HI, 0x80u << 24);
    lapic_write(LAPIC_ICR_LO, ICR_LOGICAL | ICR_ASSERT | 0x54);
    take_pending();
    report_eq("logical destination ipi", (uint64_t)order[0], 0x53);
    report_eq("unmatched logical destination dropped", (uint64_t)norder, 1);
    lapic_write(LAPIC_LDR, 0);
}

static void priority_order(void)
{
    reset_log();
    lapic_self_ipi(0x61);
    lapic_self_ipi(0xA1);
    lapic_self_ipi(0x71);
    take_pending();
    report_eq("three delivered", (uint64_t)norder, 3);
    report_msg("highest vector first", order[0] == 0xA1 && order[1] == 0x71 && order[2] == 0x61,
               "order %#x %#x %#x", order[0], order[1], order[2]);
}

static void tpr_masking(void)
{
    reset_log();
    lapic_write(LAPIC_TPR, 0x80);
    lapic_self_ipi(0x75); /* class 7 <= TPR class 8: held */
    lapic_self_ipi(0x85); /* class 8: not above the TPR either */
    take_pending();
    report_eq("tpr holds lower classes", (uint64_t)norder, 0);
    report("held interrupt stays in irr", lapic_vec(LAPIC_IRR, 0x75));
    lapic_self_ipi(0x95);
    take_pending();
    report_eq("higher class passes the tpr", (uint64_t)order[0], 0x95);
    lapic_write(LAPIC_TPR, 0x00);
    take_pending();
    report_msg("lowering the tpr releases them", norder == 3 && order[1] == 0x85 && order[2] == 0x75,
               "%d delivered: %#x %#x", norder, order[1], order[2]);
    /* The same through CR8. */
    reset_log();
    write_cr8(0xF);
    lapic_self_ipi(0xE5);
    take_pending();
    report_eq("cr8 masks", (uint64_t)norder, 0);
    write_cr8(0);
    take_pending();
    report_eq("cr8 unmasks", (uint64_t)order[0], 0xE5);
}

static void nmi_ipi(void)
{
    /* NMI with the self shorthand is not a valid ICR combination ("Valid
     * Combinations for the Pentium 4 and Intel Xeon Processors' Local
     * xAPIC Interrupt Command Register"); a physical destination naming
     * ourselves is. */
    nmis = 0;
    lapic_write(LAPIC_ICR_HI, lapic_id() << 24);
    lapic_write(LAPIC_ICR_LO, ICR_ASSERT | ICR_NMI);
    bool got = wait_for(&nmis, SPIN_LONG);
    report("nmi ipi to own id", got && nmis == 1);
}

void test_main(void)
{
    apic_setup();
    for (int v = 0x50; v < 0xF0; v++)
        set_intr_handler(v, record_handler);
    set_intr_handler(NMI_VECTOR, nmi_handler);
    registers();
    self_ipi();
    priority_order();
    tpr_masking();
    nmi_ipi();
    report_eq("no spurious interrupts", (uint64_t)apic_spurious, 0);
}
