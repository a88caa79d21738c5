/* APIC set-up for a machine: one local APIC per CPU, one I/O APIC. */
#ifndef VP_APIC_APIC_H
#define VP_APIC_APIC_H

#include "emu/machine.h"

/* Creates the I/O APIC and a local APIC for every CPU (sets cpu->lapic).
 * Called after the CPUs and the platform devices exist. */
int vp_apic_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;
void vp_apic_reset(vp_machine *m);
void vp_apic_free(vp_machine *m);

#endif
