/* APIC set-up for a machine: one local APIC per CPU, one I/O APIC.
 *
 * Local APIC: xAPIC (MMIO at IA32_APIC_BASE, 0xFEE00000 at reset) and
 * x2APIC (MSRs 0x800-0x8FF), timer with one-shot, periodic and TSC-deadline
 * modes on a 1 GHz bus clock. I/O APIC: 82093AA-compatible, version 20H
 * (with the EOI register), 24 pins, at 0xFEC00000.
 * SDM Vol 3A, "Advanced Programmable Interrupt Controller (APIC)". */
#ifndef VP_APIC_APIC_H
#define VP_APIC_APIC_H

#include "emu/machine.h"

/* Creates the I/O APIC and a local APIC for every CPU (sets cpu->lapic and
 * cpu->apic_base). Called after the CPUs and the platform devices exist. */
int vp_apic_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;
/* Power-on state (SDM Vol 3A, "Local APIC State After Power-Up or Reset").
 * When the machine boots a kernel image directly (cfg.kernel), the local
 * APICs are then left as the firmware leaves them for QEMU's -kernel boot
 * (SeaBIOS): software-enabled, BSP LINT0 ExtINT, LINT1 NMI. */
void vp_apic_reset(vp_machine *m);
void vp_apic_free(vp_machine *m);

/* The 8259's INTR output changed: LINT0 of every local APIC (virtual wire
 * mode), I/O APIC pin 0, or the BSP's INTR pin directly while its APIC is
 * hardware-disabled (SDM Vol 3A, "Local Vector Table"). */
void vp_apic_pic_intr(vp_machine *m, int level);

/* The board's NMI line: LINT1 of every local APIC (NMI directly while an
 * APIC is hardware-disabled). */
void vp_apic_nmi_line(vp_machine *m, int level);

/* I/O APIC input pin (GSI) 0-23, for sources other than ISA IRQs
 * (PCI INTx). ISA IRQs arrive through vp_machine_set_isa_irq. */
void vp_ioapic_set_irq(vp_machine *m, int gsi, int level);

/* An MSI write (address 0xFEExxxxx, 32-bit data) as a PCI device or the
 * IOMMU delivers it (SDM Vol 3A, "Message Signalled Interrupts"). */
void vp_apic_msi(vp_machine *m, uint64_t addr, uint32_t data);

/* CPU side: is a maskable interrupt ready for this CPU (ignoring
 * RFLAGS.IF)? And the acknowledge that returns its vector. */
bool vp_apic_intr_ready(vp_cpu *c);
int vp_apic_intr_ack(vp_cpu *c);
/* NMI for this CPU (LINT1, ICR NMI, I/O APIC NMI). The APIC sets
 * c->nmi_pending and kicks the CPU; this returns and clears it. */
bool vp_apic_nmi_take(vp_cpu *c);

/* MOV to/from CR8 in 64-bit mode: CR8[3:0] is TPR[7:4] (SDM Vol 3A,
 * "Task Priority in IA-32e Mode"). The caller checks CR8's reserved bits.
 * c->cr8 is kept equal to TPR[7:4]. */
uint64_t vp_apic_read_cr8(vp_cpu *c);
void vp_apic_write_cr8(vp_cpu *c, uint64_t val);

/* The TSC was written (IA32_TIME_STAMP_COUNTER, IA32_TSC_ADJUST): an armed
 * TSC deadline is re-timed against the new count. */
void vp_apic_tsc_changed(vp_cpu *c);

/* MSR access for IA32_APIC_BASE (0x1B), x2APIC registers (0x800-0x8FF) and
 * IA32_TSC_DEADLINE (0x6E0). Returns 0, or -1 where the SDM requires #GP. */
int vp_apic_msr_read(vp_cpu *c, uint32_t msr, uint64_t *val);
int vp_apic_msr_write(vp_cpu *c, uint32_t msr, uint64_t val);

#endif
