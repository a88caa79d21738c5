/* Unit-test helpers. */
#include "testsuites/unit/lib/unit.h"

#include <stdio.h>
#include <string.h>

vp_machine *unit_machine(unsigned mem_mb)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = (uint64_t)mem_mb << 20;
    cfg.ncpus = 1;
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    if (!m) {
        fprintf(stderr, "unit_machine: %s\n", err.msg);
        abort();
    }
    return m;
}

void unit_run_to_ns(vp_machine *m, uint64_t ns)
{
    for (;;) {
        uint64_t d = vp_clock_next_deadline(&m->clock);
        if (d > ns)
            break;
        vp_clock_skip_to(&m->clock, d);
        vp_clock_run_timers(&m->clock);
    }
    vp_clock_skip_to(&m->clock, ns);
    vp_clock_run_timers(&m->clock);
}

static void record_irq(void *opaque, int irq, int level)
{
    unit_irqs *r = opaque;
    if (irq < 0 || irq > 15)
        return;
    if (level && !r->level[irq])
        r->edges[irq]++;
    r->level[irq] = level;
}

void unit_watch_irqs(vp_machine *m, unit_irqs *irqs)
{
    memset(irqs, 0, sizeof(*irqs));
    vp_machine_add_isa_irq_sink(m, record_irq, irqs);
}
