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

#include "emu/cpu/cpu.h"

void vp_apic_pic_intr(vp_machine *m, int level)
{
    if (level && m->ncpus)
        vp_cpu_kick(m->cpus[0]);
}

bool vp_apic_intr_ready(vp_cpu *c)
{
    (void)c;
    return false;
}

int vp_apic_intr_ack(vp_cpu *c)
{
    (void)c;
    return 0xff;
}

bool vp_apic_nmi_take(vp_cpu *c)
{
    (void)c;
    return false;
}

int vp_apic_msr_read(vp_cpu *c, uint32_t msr, uint64_t *val)
{
    (void)c;
    (void)msr;
    *val = 0;
    return -1;
}

int vp_apic_msr_write(vp_cpu *c, uint32_t msr, uint64_t val)
{
    (void)c;
    (void)msr;
    (void)val;
    return -1;
}
