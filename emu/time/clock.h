/* Machine time. By default virtual: derived from instructions retired
 * (VP_NS_PER_INSN each) plus time skipped while every CPU halts, so that
 * two runs of one image are identical instruction for instruction. With
 * realtime set, time is the host's monotonic clock since start.
 *
 * Timers are kept in one list ordered by deadline; the run loop executes
 * CPUs in slices that end at the earliest deadline, then fires timers. */
#ifndef VP_TIME_CLOCK_H
#define VP_TIME_CLOCK_H

#include "emu/base/compiler.h"

#define VP_NS_PER_INSN 1ull  /* virtual CPU retires one instruction a ns */

typedef struct vp_timer vp_timer;
typedef void (*vp_timer_cb)(void *opaque);

struct vp_timer {
    uint64_t deadline;    /* ns of machine time */
    vp_timer_cb cb;
    void *opaque;
    vp_timer *next;
    bool armed;
};

typedef struct vp_clock {
    bool realtime;
    uint64_t host_start_ns;
    /* Virtual: now = base_ns + (*insn_counter - insn_base) * VP_NS_PER_INSN */
    uint64_t base_ns;
    uint64_t insn_base;
    const uint64_t *insn_counter;  /* retired-instruction count of CPU 0 */
    vp_timer *timers;              /* sorted by deadline */
} vp_clock;

void vp_clock_init(vp_clock *c, bool realtime, const uint64_t *insn_counter);
/* Current machine time in ns. */
uint64_t vp_clock_now(const vp_clock *c);
/* Moves virtual time forward to `ns` (used when all CPUs halt). */
void vp_clock_skip_to(vp_clock *c, uint64_t ns);

void vp_timer_init(vp_timer *t, vp_timer_cb cb, void *opaque);
void vp_timer_mod(vp_clock *c, vp_timer *t, uint64_t deadline_ns);
void vp_timer_del(vp_clock *c, vp_timer *t);
/* Earliest armed deadline, or UINT64_MAX. */
uint64_t vp_clock_next_deadline(const vp_clock *c);
/* Fires every timer whose deadline has passed. Returns how many fired. */
int vp_clock_run_timers(vp_clock *c);

uint64_t vp_host_monotonic_ns(void);

#endif
