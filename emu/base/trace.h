/* Trace events: named categories, free when off. The library formats an
 * event and hands it to a sink the frontend installs; it never prints. */
#ifndef VP_BASE_TRACE_H
#define VP_BASE_TRACE_H

#include "emu/base/compiler.h"

enum vp_trace_cat {
#define X(id, name, desc) VP_TR_##id,
#include "emu/base/trace.def"
#undef X
    VP_TR_COUNT
};

typedef struct vp_trace_cat_info {
    const char *name;
    const char *desc;
} vp_trace_cat_info;

extern const vp_trace_cat_info vp_trace_cats[VP_TR_COUNT];

typedef void (*vp_trace_sink)(void *opaque, enum vp_trace_cat cat,
                              const char *msg);

typedef struct vp_tracer {
    uint32_t mask;        /* bit per vp_trace_cat */
    vp_trace_sink sink;   /* NULL: events dropped */
    void *opaque;
} vp_tracer;

void vp_trace_emit(vp_tracer *t, enum vp_trace_cat cat, const char *fmt, ...)
    VP_PRINTF(3, 4);

/* Parses "insn,int,exc" (or "all", "help" is left to the caller) into a
 * mask. Returns -1 and names the bad category in *bad on error. */
int vp_trace_parse(const char *list, uint32_t *mask, const char **bad,
                   size_t *badlen);

#define VP_TRACE_ON(t, cat) VP_UNLIKELY((t)->mask & (1u << VP_TR_##cat))
#define VP_TRACE(t, cat, ...)                                   \
    do {                                                        \
        if (VP_TRACE_ON(t, cat))                                \
            vp_trace_emit((t), VP_TR_##cat, __VA_ARGS__);       \
    } while (0)

/* Unimplemented behaviour is never silent: logged once per call site
 * whatever the trace mask, through the same sink. */
#define VP_UNIMPL_ONCE(t, ...)                                  \
    do {                                                        \
        static bool vp_once_;                                   \
        if (!vp_once_) {                                        \
            vp_once_ = true;                                    \
            vp_trace_emit_always((t), VP_TR_UNIMP, __VA_ARGS__); \
        }                                                       \
    } while (0)

void vp_trace_emit_always(vp_tracer *t, enum vp_trace_cat cat,
                          const char *fmt, ...) VP_PRINTF(3, 4);

#endif
