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

/* Execution modes, as instruction events report them and trace filters
 * name them (vp_trace_mode_names). */
enum vp_trace_mode {
    VP_MODE_REAL,     /* CR0.PE = 0 */
    VP_MODE_V86,      /* RFLAGS.VM = 1 in protected mode */
    VP_MODE_PROT16,   /* protected mode, 16-bit code segment */
    VP_MODE_PROT32,   /* protected mode, 32-bit code segment */
    VP_MODE_COMPAT,   /* IA-32e mode, CS.L = 0 */
    VP_MODE_LONG,     /* IA-32e mode, 64-bit code segment */
    VP_MODE_COUNT
};

extern const char *const vp_trace_mode_names[VP_MODE_COUNT];

/* One "insn" event as data: what the CPU is about to execute. */
typedef struct vp_trace_insn {
    int cpu;              /* vCPU index */
    uint64_t icount;      /* instructions this vCPU retired before it */
    uint64_t rip;
    uint64_t lin;         /* linear address of its first byte */
    uint16_t cs;          /* CS selector */
    uint8_t mode;         /* enum vp_trace_mode */
    uint8_t bits;         /* code size: 16, 32 or 64 */
    uint8_t cpl;
    uint8_t len;          /* bytes in `bytes` (the decoded length) */
    uint8_t bytes[15];
} vp_trace_insn;

typedef void (*vp_trace_insn_sink)(void *opaque, const vp_trace_insn *in);

typedef struct vp_tracer {
    uint32_t mask;        /* bit per vp_trace_cat */
    vp_trace_sink sink;   /* NULL: events dropped */
    void *opaque;
    /* Optional: receives "insn" events as data instead of text lines. */
    vp_trace_insn_sink insn_sink;
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
