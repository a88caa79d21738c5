/* APIC set-up (placeholder until the APIC models land). */
#include "emu/apic/apic.h"

int vp_apic_init(vp_machine *m, vp_error *err)
{
    (void)m;
    (void)err;
    return 0;
}

void vp_apic_reset(vp_machine *m)
{
    (void)m;
}

void vp_apic_free(vp_machine *m)
{
    (void)m;
}
