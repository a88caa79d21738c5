/* Virtual and real machine time; the timer list. */
#define _POSIX_C_SOURCE 200809L
#include "emu/time/clock.h"

#include <time.h>

uint64_t vp_host_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vp_clock_init(vp_clock *c, bool realtime, const uint64_t *insn_counter)
{
    c->realtime = realtime;
    c->host_start_ns = vp_host_monotonic_ns();
    c->base_ns = 0;
    c->insn_counter = insn_counter;
    c->insn_base = insn_counter ? *insn_counter : 0;
    c->timers = NULL;
}

uint64_t vp_clock_now(const vp_clock *c)
{
    if (c->realtime)
        return c->base_ns + (vp_host_monotonic_ns() - c->host_start_ns);
    uint64_t insns = c->insn_counter ? *c->insn_counter - c->insn_base : 0;
    return c->base_ns + insns * VP_NS_PER_INSN;
}

void vp_clock_skip_to(vp_clock *c, uint64_t ns)
{
    uint64_t now = vp_clock_now(c);
    if (ns > now)
        c->base_ns += ns - now;
}

void vp_timer_init(vp_timer *t, vp_timer_cb cb, void *opaque)
{
    t->deadline = 0;
    t->cb = cb;
    t->opaque = opaque;
    t->next = NULL;
    t->armed = false;
}

void vp_timer_del(vp_clock *c, vp_timer *t)
{
    if (!t->armed)
        return;
    for (vp_timer **p = &c->timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = NULL;
}

void vp_timer_mod(vp_clock *c, vp_timer *t, uint64_t deadline_ns)
{
    vp_timer_del(c, t);
    t->deadline = deadline_ns;
    vp_timer **p = &c->timers;
    /* Equal deadlines keep insertion order, so firing order is stable. */
    while (*p && (*p)->deadline <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
}

uint64_t vp_clock_next_deadline(const vp_clock *c)
{
    return c->timers ? c->timers->deadline : UINT64_MAX;
}

int vp_clock_run_timers(vp_clock *c)
{
    int fired = 0;
    uint64_t now = vp_clock_now(c);
    while (c->timers && c->timers->deadline <= now) {
        vp_timer *t = c->timers;
        c->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->cb(t->opaque);
        fired++;
        if (fired > 100000)
            break; /* a device re-arming at `now` forever; resume later */
    }
    return fired;
}
