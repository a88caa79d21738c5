/* Machine assembly and the run loop. */
#include "emu/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/apic/apic.h"
#include "emu/boot/boot.h"
#include "emu/cpu/cpu.h"
#include "emu/debug/debug.h"
#include "emu/dev/platform.h"

#define VP_SLICE_MAX 100000ull

vp_machine *vp_machine_create(const vp_config *cfg, const vp_tracer *trace,
                              vp_error *err)
{
    vp_machine *m = calloc(1, sizeof(*m));
    if (!m) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    if (m->cfg.ncpus <= 0)
        m->cfg.ncpus = 1;
    if (trace)
        m->trace = *trace;
    if (m->cfg.ncpus > VP_MAX_CPUS) {
        vp_fail(err, "at most %d CPUs are supported", VP_MAX_CPUS);
        free(m);
        return NULL;
    }
    if (vp_physmem_init(&m->mem, m->cfg.ram_size) < 0) {
        vp_fail(err, "cannot allocate %llu bytes of guest memory "
                "(at least 2 MiB, a multiple of 4 KiB)",
                (unsigned long long)m->cfg.ram_size);
        free(m);
        return NULL;
    }
    m->mem.trace = &m->trace;
    m->io.trace = &m->trace;
    for (int i = 0; i < m->cfg.ncpus; i++) {
        m->cpus[i] = vp_cpu_create(m, i, m->cfg.cpu_model, err);
        if (!m->cpus[i])
            goto fail;
        m->ncpus = i + 1;
    }
    m->current_cpu = m->cpus[0];
    vp_clock_init(&m->clock, m->cfg.realtime, &m->cpus[0]->icount);
    m->host_start_ns = vp_host_monotonic_ns();
    if (vp_platform_init(m, err) < 0)
        goto fail;
    if (vp_apic_init(m, err) < 0)
        goto fail;
    if (m->cfg.kernel && vp_boot_load(m, err) < 0)
        goto fail;
    return m;
fail:
    vp_machine_destroy(m);
    return NULL;
}

void vp_machine_destroy(vp_machine *m)
{
    if (!m)
        return;
    vp_apic_free(m);
    vp_platform_free(m);
    vp_debug_free(m);
    for (int i = 0; i < m->ncpus; i++)
        vp_cpu_destroy(m->cpus[i]);
    vp_physmem_free(&m->mem);
    free(m);
}

void vp_machine_request_stop(vp_machine *m, vp_stop why, int code,
                             const char *msg)
{
    if (m->stop != VP_STOP_NONE)
        return;
    m->stop = why;
    m->exit_code = code;
    snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg ? msg : "");
}

void vp_machine_request_reset(vp_machine *m)
{
    m->reset_requested = true;
}

void vp_machine_set_isa_irq(vp_machine *m, int irq, int level)
{
    for (int i = 0; i < m->nisa_sinks; i++)
        m->isa_sink[i].set(m->isa_sink[i].opaque, irq, level);
}

void vp_machine_add_isa_irq_sink(vp_machine *m,
                                 void (*set)(void *opaque, int irq, int level),
                                 void *opaque)
{
    if (m->nisa_sinks < (int)VP_ARRAY_SIZE(m->isa_sink)) {
        m->isa_sink[m->nisa_sinks].set = set;
        m->isa_sink[m->nisa_sinks].opaque = opaque;
        m->nisa_sinks++;
    }
}

uint64_t vp_machine_insns(const vp_machine *m)
{
    uint64_t n = 0;
    for (int i = 0; i < m->ncpus; i++)
        n += m->cpus[i]->icount;
    return n;
}

/* Platform reset: devices and CPUs to power-on state, then the boot image
 * again, as QEMU does for -kernel on reboot. */
static void machine_reset(vp_machine *m)
{
    vp_error err;
    m->reset_requested = false;
    VP_TRACE(&m->trace, CPU, "platform reset");
    memset(m->mem.ram, 0, m->mem.ram_size);
    for (uint64_t p = 0; p < m->mem.npages; p++)
        m->mem.code_gen[p]++;
    m->mem.code_epoch++;
    m->mem.a20_mask = ~0ull;
    vp_platform_reset(m);
    for (int i = 0; i < m->ncpus; i++)
        vp_cpu_reset(m->cpus[i]);
    vp_apic_reset(m);
    if (m->cfg.kernel && vp_boot_load(m, &err) < 0)
        vp_machine_request_stop(m, VP_STOP_ERROR, 0, err.msg);
}

static bool cpu_can_wake(const vp_cpu *c)
{
    return !c->halted || (c->flags & FL_IF) || c->nmi_pending ||
           (c->mwait && c->mwait_ibe);
}

/* An event for CPU c to take now that it is halted. */
static bool cpu_woken(vp_cpu *c)
{
    return (c->intr_pending && ((c->flags & FL_IF) ||
                                (c->mwait && c->mwait_ibe))) ||
           c->nmi_pending || (c->mwait && vp_mwait_triggered(c));
}

vp_stop vp_machine_run(vp_machine *m, uint64_t budget)
{
    uint64_t start = vp_machine_insns(m);
    if (m->stop == VP_STOP_USER || m->stop == VP_STOP_DEBUG)
        m->stop = VP_STOP_NONE;
    while (m->stop == VP_STOP_NONE) {
        if (m->poll) {
            m->poll(m->poll_opaque);
            if (m->stop != VP_STOP_NONE)
                break;
        }
        if (m->reset_requested) {
            if (m->cfg.no_reboot) {
                vp_machine_request_stop(m, VP_STOP_RESET, 0,
                                        "guest requested a reset");
                break;
            }
            machine_reset(m);
            continue;
        }
        vp_clock_run_timers(&m->clock);

        uint64_t done = vp_machine_insns(m);
        uint64_t now = vp_clock_now(&m->clock);
        uint64_t deadline = vp_clock_next_deadline(&m->clock);
        uint64_t slice = VP_SLICE_MAX;
        if (!m->cfg.realtime && deadline != UINT64_MAX)
            slice = deadline > now ? (deadline - now) / VP_NS_PER_INSN : 1;
        if (m->cfg.realtime && slice > 10000)
            slice = 10000;
        if (slice > VP_SLICE_MAX)
            slice = VP_SLICE_MAX;
        if (slice == 0)
            slice = 1;
        if (m->cfg.max_insns) {
            if (done >= m->cfg.max_insns) {
                vp_machine_request_stop(m, VP_STOP_INSN_LIMIT, 0,
                                        "instruction limit reached");
                break;
            }
            if (slice > m->cfg.max_insns - done)
                slice = m->cfg.max_insns - done;
        }
        if (budget) {
            if (done - start >= budget) {
                vp_machine_request_stop(m, VP_STOP_USER, 0, "budget used");
                break;
            }
            if (slice > budget - (done - start))
                slice = budget - (done - start);
        }
        if (m->cfg.timeout_ms &&
            vp_host_monotonic_ns() - m->host_start_ns >
                m->cfg.timeout_ms * 1000000ull) {
            vp_machine_request_stop(m, VP_STOP_TIMEOUT, 0, "timeout");
            break;
        }

        bool all_halted = true, any_wakeable = false;
        for (int i = 0; i < m->ncpus && m->stop == VP_STOP_NONE; i++) {
            vp_cpu *c = m->cpus[i];
            m->current_cpu = c;
            vp_cpu_exec(c, slice);
            if (c->shutdown) {
                if (m->cfg.reset_on_triple_fault) {
                    m->reset_requested = true;
                } else {
                    char msg[160];
                    snprintf(msg, sizeof(msg),
                             "triple fault on CPU %d at RIP %#llx: shutdown",
                             i, (unsigned long long)c->insn_rip);
                    vp_machine_request_stop(m, VP_STOP_SHUTDOWN, 0, msg);
                }
            }
            if (!c->halted)
                all_halted = false;
            if (cpu_can_wake(c))
                any_wakeable = true;
        }
        m->current_cpu = m->cpus[0];
        if (m->stop != VP_STOP_NONE || m->reset_requested || !all_halted)
            continue;

        /* Every CPU waits for an interrupt: jump to the next timer. */
        vp_clock_run_timers(&m->clock);
        bool woke = false;
        for (int i = 0; i < m->ncpus; i++)
            if (cpu_woken(m->cpus[i]))
                woke = true;
        if (woke)
            continue;
        deadline = vp_clock_next_deadline(&m->clock);
        if (!any_wakeable || deadline == UINT64_MAX) {
            vp_machine_request_stop(
                m, VP_STOP_HALTED, 0,
                any_wakeable ? "all CPUs halted and no timer is armed"
                             : "all CPUs halted with interrupts disabled");
            break;
        }
        if (m->cfg.realtime) {
            uint64_t n = vp_clock_now(&m->clock);
            if (deadline > n) {
                uint64_t ns = deadline - n;
                if (ns > 10000000)
                    ns = 10000000;
                struct timespec ts = {(time_t)(ns / 1000000000ull),
                                      (long)(ns % 1000000000ull)};
                nanosleep(&ts, NULL);
            }
        } else {
            vp_clock_skip_to(&m->clock, deadline);
        }
    }
    return m->stop;
}
