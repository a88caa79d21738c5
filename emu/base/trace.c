/* Trace event formatting and category table. */
#include "emu/base/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const vp_trace_cat_info vp_trace_cats[VP_TR_COUNT] = {
#define X(id, name, desc) [VP_TR_##id] = {name, desc},
#include "emu/base/trace.def"
#undef X
};

const char *const vp_trace_mode_names[VP_MODE_COUNT] = {
    [VP_MODE_REAL] = "real", [VP_MODE_V86] = "v86",
    [VP_MODE_PROT16] = "prot16", [VP_MODE_PROT32] = "prot32",
    [VP_MODE_COMPAT] = "compat", [VP_MODE_LONG] = "long",
};

static void emit_va(vp_tracer *t, enum vp_trace_cat cat, const char *fmt,
                    va_list ap)
{
    char buf[512];
    if (!t->sink)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    t->sink(t->opaque, cat, buf);
}

void vp_trace_emit(vp_tracer *t, enum vp_trace_cat cat, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_va(t, cat, fmt, ap);
    va_end(ap);
}

void vp_trace_emit_always(vp_tracer *t, enum vp_trace_cat cat,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_va(t, cat, fmt, ap);
    va_end(ap);
}

int vp_trace_parse(const char *list, uint32_t *mask, const char **bad,
                   size_t *badlen)
{
    uint32_t m = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool found = false;
        if (n == 3 && !strncmp(p, "all", 3)) {
            m = (1u << VP_TR_COUNT) - 1;
            found = true;
        }
        for (int i = 0; i < VP_TR_COUNT && !found; i++) {
            if (strlen(vp_trace_cats[i].name) == n &&
                !strncmp(vp_trace_cats[i].name, p, n)) {
                m |= 1u << i;
                found = true;
            }
        }
        if (!found) {
            *bad = p;
            *badlen = n;
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    *mask = m;
    return 0;
}
