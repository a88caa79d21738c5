/* Error reporting from the library: a message buffer the caller owns.
 * The library never prints; the frontend renders vp_error.msg. */
#ifndef VP_BASE_ERROR_H
#define VP_BASE_ERROR_H

#include "emu/base/compiler.h"

typedef struct vp_error {
    char msg[512];
} vp_error;

/* Formats msg into err (if err is non-NULL) and returns -1, so that
 * `return vp_fail(err, "...")` reads naturally. */
int vp_fail(vp_error *err, const char *fmt, ...) VP_PRINTF(2, 3);

#endif
