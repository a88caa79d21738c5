/* Run statistics at exit (--stats, --stats-json): instructions retired,
 * host CPU time and speed, decoded-block cache and TLB hit rates, events
 * by vector, and why the run stopped. The counters are the vCPUs'
 * vp_cpu_stats (emu/base/stats.h), summed over the CPUs. */
#ifndef VP_FRONTEND_STATS_H
#define VP_FRONTEND_STATS_H

#include <stdio.h>

#include "emu/machine.h"

typedef struct vp_run_report {
    const vp_machine *m;
    double cpu_seconds;      /* process CPU time spent running the machine */
    double wall_seconds;     /* host time spent running the machine */
    vp_stop why;
    const char *stop_msg;    /* the line printed at exit ("" for debug-exit) */
    int exit_status;
} vp_run_report;

/* Process CPU time and host monotonic time, in seconds. */
double vp_stats_cpu_now(void);
double vp_stats_wall_now(void);

/* Short stable name of a stop reason ("debug-exit", "insn-limit", ...). */
const char *vp_stats_stop_name(vp_stop why);

/* Human-readable table. */
void vp_stats_print(FILE *out, const vp_run_report *r);

/* One JSON object (and a newline). Returns 0, or -1 if writing failed. */
int vp_stats_write_json(FILE *out, const vp_run_report *r);

#endif
