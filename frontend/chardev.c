/* Character back ends: stdout/stdin, files, null. Input from stdin is
 * non-blocking (poll with a zero timeout), so a guest polling its UART never
 * stalls the machine, and an absent or closed stdin (CI) just has no input.
 * A terminal on stdin is switched to character-at-a-time input without
 * echo (signals stay on, so Ctrl-C still stops the emulator) and restored at
 * exit. */
#include "frontend/chardev.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cdev_parse(const char *spec, cdev *d)
{
    memset(d, 0, sizeof(*d));
    if (!strcmp(spec, "stdio"))
        d->kind = CDEV_STDIO;
    else if (!strcmp(spec, "null"))
        d->kind = CDEV_NULL;
    else if (!strcmp(spec, "none"))
        d->kind = CDEV_NONE;
    else if (!strncmp(spec, "file:", 5) && spec[5]) {
        d->kind = CDEV_FILE;
        d->path = spec + 5;
    } else
        return -1;
    return 0;
}

static void write_out(void *opaque, const uint8_t *buf, size_t n)
{
    cdev *d = opaque;
    if (!d->out)
        return;
    fwrite(buf, 1, n, d->out);
    if (d->flush_each || memchr(buf, '\n', n))
        fflush(d->out);
}

static void write_null(void *opaque, const uint8_t *buf, size_t n)
{
    (void)opaque;
    (void)buf;
    (void)n;
}

/* ---- stdin ---------------------------------------------------------- */

static struct {
    bool claimed;
    bool eof;
    uint8_t buf[256];
    size_t pos, len;
} in;

static struct termios saved_tty;
static volatile sig_atomic_t tty_raw;

void cdev_restore_tty(void)
{
    if (tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_raw = 0;
    }
}

static void tty_setup(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
        return;
    struct termios t = saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        tty_raw = 1;
        atexit(cdev_restore_tty);
    }
}

static int read_stdin(void *opaque)
{
    (void)opaque;
    if (in.pos < in.len)
        return in.buf[in.pos++];
    if (in.eof)
        return -1;
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r <= 0)
        return -1;
    if (p.revents & POLLNVAL) {
        in.eof = true;
        return -1;
    }
    ssize_t n = read(STDIN_FILENO, in.buf, sizeof(in.buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    if (n <= 0) {
        in.eof = true;   /* end of input or an error: no more input */
        return -1;
    }
    in.pos = 1;
    in.len = (size_t)n;
    return in.buf[0];
}

/* ---- open/close ----------------------------------------------------- */

int cdev_open(cdev *d, vp_chardev *out, bool input, char *msg,
              size_t msglen)
{
    memset(out, 0, sizeof(*out));
    out->opaque = d;
    switch (d->kind) {
    case CDEV_NONE:
        return 0;
    case CDEV_NULL:
        out->write = write_null;
        return 0;
    case CDEV_STDIO:
        d->out = stdout;
        d->flush_each = isatty(STDOUT_FILENO);
        out->write = write_out;
        if (input && !in.claimed) {
            in.claimed = true;
            d->input = true;
            out->read = read_stdin;
            tty_setup();
        }
        return 0;
    case CDEV_FILE:
        d->out = fopen(d->path, "wb");
        if (!d->out) {
            snprintf(msg, msglen, "%s: cannot open for writing: %s", d->path,
                     strerror(errno));
            return -1;
        }
        out->write = write_out;
        return 0;
    }
    return 0;
}

void cdev_flush(cdev *d)
{
    if (d->out)
        fflush(d->out);
}

void cdev_close(cdev *d)
{
    if (d->kind == CDEV_FILE && d->out)
        fclose(d->out);
    else if (d->out)
        fflush(d->out);
    d->out = NULL;
}
