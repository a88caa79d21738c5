/* Host back ends for the guest's byte streams (serial ports, debug
 * console): stdio, a file, or nothing. */
#ifndef VP_FRONTEND_CHARDEV_H
#define VP_FRONTEND_CHARDEV_H

#include <stdio.h>

#include "emu/bus/device.h"

typedef enum {
    CDEV_NONE,    /* not connected: output dropped, no input */
    CDEV_NULL,    /* connected to nothing: output dropped, no input */
    CDEV_STDIO,   /* output to stdout; input from stdin (first user only) */
    CDEV_FILE,    /* output to a file */
} cdev_kind;

typedef struct cdev {
    cdev_kind kind;
    const char *path;      /* CDEV_FILE */
    FILE *out;
    bool input;            /* reads stdin */
    bool flush_each;       /* stdout is a terminal */
} cdev;

/* Parses "stdio", "file:PATH", "null" or "none". Returns 0 or -1. */
int cdev_parse(const char *spec, cdev *d);

/* Opens the back end and fills the library's callbacks; `input`: a stdio
 * back end may take standard input (the first one asking gets it).
 * Returns 0, or -1 with a message in msg. */
int cdev_open(cdev *d, vp_chardev *out, bool input, char *msg, size_t msglen);
void cdev_flush(cdev *d);
void cdev_close(cdev *d);

/* Restores the terminal if stdin input put it in raw mode; safe to call
 * from a signal handler. */
void cdev_restore_tty(void);

#endif
