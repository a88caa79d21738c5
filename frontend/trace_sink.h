/* The trace sink: where trace events go (stderr or a file), in what form
 * (text lines or JSON Lines), which of them pass the filters (address
 * range, CPL, execution mode), and instruction disassembly with Capstone
 * (Intel or AT&T syntax). Capstone is used here and nowhere in emu/.
 * docs/inspect.md, "Trace", describes the output. */
#ifndef VP_FRONTEND_TRACE_SINK_H
#define VP_FRONTEND_TRACE_SINK_H

#include <stdio.h>

#include "emu/machine.h"

#define VP_TRACE_MAX_RANGES 16

enum vp_trace_format { VP_TRACE_FMT_TEXT, VP_TRACE_FMT_JSON };
enum vp_trace_syntax { VP_TRACE_SYN_INTEL, VP_TRACE_SYN_ATT };

typedef struct vp_trace_opts {
    const char *file;             /* NULL: stderr */
    enum vp_trace_format format;
    enum vp_trace_syntax syntax;
    struct { uint64_t first, last; } range[VP_TRACE_MAX_RANGES];
    int nranges;                  /* 0: any address */
    unsigned cpl_mask;            /* bit per CPL; 0: any */
    unsigned mode_mask;           /* bit per vp_trace_mode; 0: any */
} vp_trace_opts;

/* Option values. Each returns 0, or -1 with the expected form in msg. */
int vp_trace_opt_format(vp_trace_opts *o, const char *v, char *msg, size_t len);
int vp_trace_opt_syntax(vp_trace_opts *o, const char *v, char *msg, size_t len);
/* "START-END" (both inclusive) or "START+LENGTH", comma-separated;
 * numbers decimal or 0x hex. Adds to the ranges. */
int vp_trace_opt_range(vp_trace_opts *o, const char *v, char *msg, size_t len);
/* "0", "3", "0,3", ... Adds to the CPL set. */
int vp_trace_opt_cpl(vp_trace_opts *o, const char *v, char *msg, size_t len);
/* "real", "v86", "prot16", "prot32", "prot" (both), "compat", "long",
 * comma-separated. Adds to the mode set. */
int vp_trace_opt_mode(vp_trace_opts *o, const char *v, char *msg, size_t len);

typedef struct vp_trace_out vp_trace_out;

/* Opens the output (opts->file or stderr) and Capstone. Returns NULL with
 * a one-line problem in msg. opts is copied. */
vp_trace_out *vp_trace_out_open(const vp_trace_opts *opts, char *msg,
                                size_t len);
/* Points a tracer's sinks at this output (the mask is left alone). */
void vp_trace_out_attach(vp_trace_out *t, vp_tracer *tr);
/* The machine whose current CPU the filters judge events by (NULL until
 * it exists: then every event passes). */
void vp_trace_out_set_machine(vp_trace_out *t, const vp_machine *m);
void vp_trace_out_flush(vp_trace_out *t);
/* Flushes and closes; returns -1 if any write failed. */
int vp_trace_out_close(vp_trace_out *t);

#endif
