/* APIC set-up for a machine: a local APIC per CPU, the I/O APIC, the
 * xAPIC MMIO window, and the wiring of the 8259's INTR and the NMI line to
 * LINT0/LINT1 and I/O APIC pin 0 (MultiProcessor Specification, "Virtual
 * Wire Mode"). */
#include <stdlib.h>

#include "emu/apic/internal.h"

static void apic_firmware_state(vp_machine *m);

int vp_apic_init(vp_machine *m, vp_error *err)
{
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        vp_lapic *l = calloc(1, sizeof(*l));
        if (!l)
            return vp_fail(err, "out of memory");
        l->m = m;
        l->cpu = c;
        /* The initial APIC ID is the CPU index; CPUID.01H:EBX[31:24] and
         * leaf 0BH must report the same. */
        l->initial_id = (uint32_t)c->id;
        lapic_timer_init(l);
        c->lapic = l;
    }
    m->ioapic = ioapic_create(m, err);
    if (!m->ioapic)
        return -1;
    if (vp_physmem_add_mmio(&m->mem, APIC_DEFAULT_BASE, VP_PAGE_SIZE,
                            &vp_lapic_mmio_ops, m) < 0)
        return vp_fail(err, "cannot map the local APIC page at %#llx",
                       (unsigned long long)APIC_DEFAULT_BASE);
    vp_apic_reset(m);
    return 0;
}

void vp_apic_reset(vp_machine *m)
{
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        if (!c->lapic)
            continue;
        /* SDM Vol 3A, "Local APIC Status and Location": enabled, xAPIC
         * mode, at FEE00000H, BSP flag on the bootstrap processor. */
        c->apic_base = APIC_DEFAULT_BASE | APICBASE_EN |
                       (i == 0 ? APICBASE_BSP : 0);
        lapic_reset(c->lapic);
    }
    if (lapic_mmio_window(m) != APIC_DEFAULT_BASE &&
        vp_physmem_move_mmio(&m->mem, &vp_lapic_mmio_ops, m,
                             APIC_DEFAULT_BASE, true) < 0)
        VP_TRACE(&m->trace, DEV, "lapic: cannot restore the xAPIC window");
    if (m->ioapic)
        ioapic_reset(m->ioapic);
    if (m->cfg.kernel)
        apic_firmware_state(m);
}

/* A kernel booted directly expects the state firmware leaves. SeaBIOS
 * (which runs before QEMU's -kernel loader) software-enables the BSP's
 * APIC, sets LINT0 to ExtINT (level) and LINT1 to NMI (level): the 8259
 * reaches the CPU through the local APIC (virtual wire mode). */
static void apic_firmware_state(vp_machine *m)
{
    if (m->ncpus == 0 || !m->cpus[0]->lapic)
        return;
    vp_lapic *l = m->cpus[0]->lapic;
    lapic_svr_write(l, l->svr | APIC_SVR_ENABLE);
    lapic_lvt_write(l, LVT_LINT0,
                    APIC_DM_EXTINT << APIC_DM_SHIFT | APIC_TRIGGER_LEVEL);
    lapic_lvt_write(l, LVT_LINT1,
                    APIC_DM_NMI << APIC_DM_SHIFT | APIC_TRIGGER_LEVEL);
}

void vp_apic_free(vp_machine *m)
{
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        if (!c || !c->lapic)
            continue;
        vp_timer_del(&m->clock, &c->lapic->timer);
        free(c->lapic);
        c->lapic = NULL;
    }
    if (lapic_mmio_window(m) &&
        vp_physmem_move_mmio(&m->mem, &vp_lapic_mmio_ops, m, 0, false) < 0)
        VP_TRACE(&m->trace, DEV, "lapic: xAPIC window already gone");
    ioapic_free(m->ioapic);
    m->ioapic = NULL;
}

void vp_apic_pic_intr(vp_machine *m, int level)
{
    VP_TRACE(&m->trace, INT, "8259 INTR %s", level ? "asserted" : "low");
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        if (c->lapic)
            lapic_lint_set(c->lapic, 0, level != 0);
        else if (i == 0)
            vp_cpu_kick(c);
    }
    if (m->ioapic)
        ioapic_set_pin(m->ioapic, 0, level != 0);
}

void vp_apic_nmi_line(vp_machine *m, int level)
{
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        if (c->lapic) {
            lapic_lint_set(c->lapic, 1, level != 0);
        } else if (level) {
            c->nmi_pending = true;
            vp_cpu_kick(c);
        }
    }
}
