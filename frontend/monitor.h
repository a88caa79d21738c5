/* Interactive sessions: the monitor (a command prompt on stdio or a Unix
 * socket) and the gdbstub (GDB's remote protocol over TCP) around one
 * machine, in one thread. The machine runs in slices; between slices the
 * library calls the session's poll hook, which only looks for input; when
 * there is some, the machine pauses at that slice boundary, the commands
 * run, and the machine goes on. Slice boundaries are where the run loop
 * puts them anyway, so the guest's instruction stream does not depend on
 * when input arrives, unless a command stops or changes the machine.
 * docs/inspect.md ("Monitor", "gdbstub") is the user's guide. */
#ifndef VP_FRONTEND_MONITOR_H
#define VP_FRONTEND_MONITOR_H

#include <signal.h>
#include <stddef.h>

#include "emu/machine.h"

typedef struct vp_monitor_opts {
    const char *monitor;      /* NULL, "stdio" or "unix:PATH" */
    const char *gdb;          /* NULL, "tcp::PORT", "tcp:HOST:PORT", ":PORT" */
    bool start_stopped;       /* -S: do not run until told */
} vp_monitor_opts;

/* Option checks at parse time: 0, or -1 with a one-line problem. */
int vp_monitor_opt_monitor(vp_monitor_opts *o, const char *v, char *msg,
                           size_t len);
int vp_monitor_opt_gdb(vp_monitor_opts *o, const char *v, char *msg,
                       size_t len);
/* After all options: -S needs a monitor or a gdbstub. */
int vp_monitor_opts_check(const vp_monitor_opts *o, char *msg, size_t len);

/* Whether the run needs a session (any of the options is given), and
 * whether the monitor reads standard input (the serial port must not). */
bool vp_monitor_wanted(const vp_monitor_opts *o);
bool vp_monitor_on_stdio(const vp_monitor_opts *o);

typedef struct vp_session vp_session;

typedef struct vp_session_config {
    vp_monitor_opts opts;
    const char *kernel;       /* symbols for the monitor, may be NULL */
    /* Set by the frontend's signal handler: the session ends. */
    volatile sig_atomic_t *signalled;
    /* The process status a stop reason gives (gdb's exit reply). */
    int (*exit_status)(const vp_machine *m, vp_stop why);
} vp_session_config;

/* Opens the listening sockets and the monitor. Returns NULL with a one-line
 * problem in msg. */
vp_session *vp_session_open(vp_machine *m, const vp_session_config *cfg,
                            char *msg, size_t len);

/* Runs the machine under the session until the guest ends it, the user
 * quits, or a signal arrives. Returns the stop reason; *quit_status is the
 * process status a `quit` chose (0), or -1 to use the stop reason's. */
vp_stop vp_session_run(vp_session *s, int *quit_status);

void vp_session_close(vp_session *s);

#endif
