/* Error message formatting for library callers. */
#include "emu/base/error.h"

#include <stdarg.h>
#include <stdio.h>

int vp_fail(vp_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}
