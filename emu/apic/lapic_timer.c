/* Local APIC timer: one-shot, periodic and TSC-deadline modes (SDM Vol 3A,
 * "APIC Timer" and "TSC-Deadline Mode").
 *
 * The counter decrements once every `divisor` ticks of a 1 GHz bus clock
 * (APIC_BUS_NS_PER_TICK ns per tick), so the current count is computed
 * from machine time and nothing runs between interrupts. A vp_timer is
 * armed at the next zero crossing (or TSC deadline) whenever one exists;
 * whether it raises an interrupt is decided when it fires, from the LVT
 * timer entry at that moment (a masked timer keeps counting). */
#include "emu/apic/internal.h"

static vp_clock *clk(const vp_lapic *l)
{
    return &l->m->clock;
}

/* Divide configuration register: bits 3, 1:0 select divide by 2, 4, 8,
 * 16, 32, 64, 128 or 1 (SDM Vol 3A, "Divide Configuration Register"). */
static uint64_t ns_per_count(const vp_lapic *l)
{
    unsigned code = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);
    return (1ull << ((code + 1) & 7)) * APIC_BUS_NS_PER_TICK;
}

static bool periodic(const vp_lapic *l)
{
    return lapic_timer_mode(l) == TIMER_PERIODIC;
}

static void timer_arm(vp_lapic *l)
{
    if (l->timer_next != UINT64_MAX)
        vp_timer_mod(clk(l), &l->timer, l->timer_next);
    else
        vp_timer_del(clk(l), &l->timer);
}

/* Machine time at which the TSC reaches `tsc`: the TSC counts at 1 GHz,
 * one per ns of machine time (emu/cpu/cpu.h, vp_cpu_tsc). */
static uint64_t deadline_ns(const vp_lapic *l, uint64_t now)
{
    uint64_t tsc = vp_cpu_tsc(l->cpu);
    return l->tsc_deadline <= tsc ? now : now + (l->tsc_deadline - tsc);
}

/* Handles the crossing at timer_next if it is due at `now`: one interrupt
 * (missed periods coalesce, as they would in the IRR), then the next. */
static void timer_catch_up(vp_lapic *l, uint64_t now)
{
    if (l->timer_next > now)
        return;
    switch (lapic_timer_mode(l)) {
    case TIMER_TSC_DEADLINE:
        if (vp_cpu_tsc(l->cpu) < l->tsc_deadline) {
            /* The TSC was written backwards since arming: not due yet. */
            l->timer_next = deadline_ns(l, now);
            return;
        }
        /* "When the timer generates an interrupt, it disarms itself and
         * clears the IA32_TSC_DEADLINE MSR." */
        l->tsc_deadline = 0;
        l->timer_next = UINT64_MAX;
        break;
    case TIMER_PERIODIC: {
        uint64_t period = (uint64_t)l->timer_initial * ns_per_count(l);
        uint64_t k = (now - l->timer_next) / period + 1;
        l->timer_next += k * period;
        break;
    }
    default:
        l->timer_next = UINT64_MAX;
        break;
    }
    VP_TRACE(&l->m->trace, DEV, "lapic %u: timer expired at %llu ns%s",
             l->initial_id, (unsigned long long)now,
             (l->lvt[LVT_TIMER] & APIC_LVT_MASKED) ? " (masked)" : "");
    lapic_lvt_fire(l, LVT_TIMER);
}

static void timer_cb(void *opaque)
{
    vp_lapic *l = opaque;
    timer_catch_up(l, vp_clock_now(clk(l)));
    timer_arm(l);
}

void lapic_timer_init(vp_lapic *l)
{
    vp_timer_init(&l->timer, timer_cb, l);
    l->timer_next = UINT64_MAX;
}

void lapic_timer_stop(vp_lapic *l)
{
    vp_timer_del(clk(l), &l->timer);
    l->timer_running = false;
    l->timer_initial = 0;
    l->anchor_count = 0;
    l->tsc_deadline = 0;
    l->timer_next = UINT64_MAX;
}

void lapic_timer_sync(vp_lapic *l)
{
    timer_catch_up(l, vp_clock_now(clk(l)));
    timer_arm(l);
}

uint32_t lapic_timer_current(const vp_lapic *l)
{
    /* "In TSC-deadline mode ... current-count register always reads 0." */
    if (!l->timer_running || lapic_timer_mode(l) == TIMER_TSC_DEADLINE)
        return 0;
    uint64_t ticks = (vp_clock_now(clk(l)) - l->anchor_ns) / ns_per_count(l);
    if (ticks < l->anchor_count)
        return l->anchor_count - (uint32_t)ticks;
    if (!periodic(l))
        return 0;
    /* Reaching zero reloads the initial count. */
    return l->timer_initial -
           (uint32_t)((ticks - l->anchor_count) % l->timer_initial);
}

/* Starts counting down from `count` now; the zero crossing follows. */
static void timer_start(vp_lapic *l, uint32_t count, uint64_t now)
{
    l->anchor_ns = now;
    l->anchor_count = count;
    l->timer_running = count != 0;
    l->timer_next = count ? now + (uint64_t)count * ns_per_count(l)
                          : UINT64_MAX;
}

void lapic_timer_write_initial(vp_lapic *l, uint32_t val)
{
    int mode = lapic_timer_mode(l);
    if (mode == TIMER_TSC_DEADLINE)
        return; /* "writes to the initial-count register are ignored" */
    if (mode == TIMER_RESERVED)
        VP_UNIMPL_ONCE(&l->m->trace,
                       "local APIC: timer mode 11b is reserved; counting as "
                       "one-shot");
    uint64_t now = vp_clock_now(clk(l));
    timer_catch_up(l, now);
    /* "If during the count-down process the initial-count register is
     * set, counting will restart"; "a write of 0 ... stops" the timer. */
    l->timer_initial = val;
    timer_start(l, val, now);
    timer_arm(l);
}

/* A new divisor applies from now on to the count that remains. */
void lapic_timer_write_dcr(vp_lapic *l, uint32_t val)
{
    uint64_t now = vp_clock_now(clk(l));
    timer_catch_up(l, now);
    uint32_t cur = lapic_timer_current(l);
    bool was_running = l->timer_running && l->timer_next != UINT64_MAX;
    l->timer_dcr = val & 0xb;
    if (was_running && lapic_timer_mode(l) != TIMER_TSC_DEADLINE) {
        timer_start(l, cur, now);
        timer_arm(l);
    }
}

/* "A write to the LVT Timer Register that changes the timer mode disarms
 * the local APIC timer." The initial count and deadline are cleared, so
 * the current count reads 0 until software starts the timer again. */
void lapic_timer_lvt_changed(vp_lapic *l, uint32_t old)
{
    int old_mode = (int)((old >> APIC_TIMER_MODE_SHIFT) & 3);
    if (old_mode == lapic_timer_mode(l))
        return;
    VP_TRACE(&l->m->trace, DEV, "lapic %u: timer mode %d -> %d (disarmed)",
             l->initial_id, old_mode, lapic_timer_mode(l));
    uint32_t dcr = l->timer_dcr;
    lapic_timer_stop(l);
    l->timer_dcr = dcr;
}

/* IA32_TSC_DEADLINE reads 0 and ignores writes outside TSC-deadline mode,
 * as on hardware and KVM. */
uint64_t lapic_timer_read_deadline(const vp_lapic *l)
{
    if (!lapic_hw_enabled(l) || lapic_timer_mode(l) != TIMER_TSC_DEADLINE)
        return 0;
    return l->tsc_deadline;
}

void lapic_timer_write_deadline(vp_lapic *l, uint64_t tsc)
{
    if (!lapic_hw_enabled(l) || lapic_timer_mode(l) != TIMER_TSC_DEADLINE)
        return;
    uint64_t now = vp_clock_now(clk(l));
    timer_catch_up(l, now);
    /* "Writing a non-zero 64-bit value into IA32_TSC_DEADLINE arms the
     * timer"; writing 0 disarms it. A deadline already passed fires at
     * once, before the next instruction. */
    l->tsc_deadline = tsc;
    l->timer_next = tsc ? deadline_ns(l, now) : UINT64_MAX;
    timer_catch_up(l, now);
    timer_arm(l);
}

void vp_apic_tsc_changed(vp_cpu *c)
{
    vp_lapic *l = c->lapic;
    if (!l || lapic_timer_mode(l) != TIMER_TSC_DEADLINE || !l->tsc_deadline)
        return;
    uint64_t now = vp_clock_now(clk(l));
    l->timer_next = deadline_ns(l, now);
    timer_catch_up(l, now);
    timer_arm(l);
}
