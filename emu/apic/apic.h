/* APIC set-up for a machine: one local APIC per CPU, one I/O APIC. */
#ifndef VP_APIC_APIC_H
#define VP_APIC_APIC_H

#include "emu/machine.h"

/* Creates the I/O APIC and a local APIC for every CPU (sets cpu->lapic).
 * Called after the CPUs and the platform devices exist. */
int vp_apic_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;
void vp_apic_reset(vp_machine *m);
void vp_apic_free(vp_machine *m);

/* The 8259's INTR output changed: LINT0 of the bootstrap processor's local
 * APIC (ExtINT), or the CPU's INTR pin directly while that APIC is
 * hardware-disabled (SDM Vol 3A, "Local Vector Table"). */
void vp_apic_pic_intr(vp_machine *m, int level);

/* CPU side: is a maskable interrupt ready for this CPU (ignoring
 * RFLAGS.IF)? And the acknowledge that returns its vector. */
bool vp_apic_intr_ready(vp_cpu *c);
int vp_apic_intr_ack(vp_cpu *c);
/* NMI for this CPU (LINT1, ICR NMI); clears it when taken. */
bool vp_apic_nmi_take(vp_cpu *c);

/* MSR access for IA32_APIC_BASE (0x1B), x2APIC registers (0x800-0x8FF) and
 * IA32_TSC_DEADLINE (0x6E0). Returns 0, or -1 where the SDM requires #GP. */
int vp_apic_msr_read(vp_cpu *c, uint32_t msr, uint64_t *val);
int vp_apic_msr_write(vp_cpu *c, uint32_t msr, uint64_t val);

#endif
