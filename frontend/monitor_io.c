/* The session: the run loop around vp_machine_run, the poll hook that
 * pauses the machine at a slice boundary when input arrives, and the
 * monitor channels (standard input/output, a Unix socket). One thread;
 * everything waits in poll().
 *
 * Run states: running (the user wants the machine to run), stopped (a
 * breakpoint, watchpoint, step, `stop`, gdb's Ctrl-C, -S), or ended (the
 * guest or a limit stopped it for good: the monitors stay usable for
 * inspection until `quit` or the end of their input; gdb is told the
 * process exited). */
#include "frontend/monitor_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emu/debug/debug.h"

/* Host time between two looks for input while the machine runs. */
#define POLL_INTERVAL_NS 10000000ull

static const char banner[] =
    "Vanderpool monitor - type 'help' for more information\n";

/* ---- options --------------------------------------------------------- */

int vp_monitor_opt_monitor(vp_monitor_opts *o, const char *v, char *msg,
                           size_t len)
{
    if (!strcmp(v, "stdio") || (!strncmp(v, "unix:", 5) && v[5])) {
        if (!strncmp(v, "unix:", 5) &&
            strlen(v + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(msg, len, "--monitor socket path too long: '%s'", v + 5);
            return -1;
        }
        o->monitor = v;
        return 0;
    }
    snprintf(msg, len, "invalid --monitor value '%s' (expected stdio or "
             "unix:PATH)", v);
    return -1;
}

int vp_monitor_opt_gdb(vp_monitor_opts *o, const char *v, char *msg,
                       size_t len)
{
    const char *p = v;
    if (!strncmp(p, "tcp:", 4))
        p += 4;
    const char *colon = strrchr(p, ':');
    const char *port = colon ? colon + 1 : p;
    char *end;
    unsigned long n = strtoul(port, &end, 10);
    if (!port[0] || *end || n > 65535 || (colon == NULL && p != v)) {
        snprintf(msg, len, "invalid --gdb value '%s' (expected tcp::PORT, "
                 "tcp:HOST:PORT or :PORT)", v);
        return -1;
    }
    o->gdb = v;
    return 0;
}

int vp_monitor_opts_check(const vp_monitor_opts *o, char *msg, size_t len)
{
    if (o->start_stopped && !o->monitor && !o->gdb) {
        snprintf(msg, len, "-S needs --monitor or --gdb (nothing could "
                 "start the machine)");
        return -1;
    }
    return 0;
}

bool vp_monitor_wanted(const vp_monitor_opts *o)
{
    return o->monitor || o->gdb || o->start_stopped;
}

bool vp_monitor_on_stdio(const vp_monitor_opts *o)
{
    return o->monitor && !strcmp(o->monitor, "stdio");
}

/* ---- channels -------------------------------------------------------- */

static void chan_write(mon_chan *ch, const char *s, size_t n)
{
    if (ch->out_fd < 0)
        return;
    if (!ch->socket) {
        /* Standard output is shared with the serial port's FILE. */
        fwrite(s, 1, n, stdout);
        fflush(stdout);
        return;
    }
    while (n) {
        ssize_t w = send(ch->out_fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = ch->out_fd, .events = POLLOUT};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0)
            return;     /* the client went away; reading will notice */
        s += w;
        n -= (size_t)w;
    }
}

static void chan_out(void *opaque, const char *s, size_t n)
{
    chan_write(opaque, s, n);
}

static void chan_prompt(mon_chan *ch)
{
    if (ch->prompt && ch->in_fd >= 0)
        chan_write(ch, "(vp) ", 5);
}

static void chan_close(mon_chan *ch)
{
    if (ch->socket && ch->in_fd >= 0)
        close(ch->in_fd);
    ch->in_fd = ch->out_fd = -1;
    ch->len = 0;
    ch->waiting = false;
}

/* Every monitor channel at once (announcements). */
static void broadcast_out(void *opaque, const char *s, size_t n)
{
    vp_session *ss = opaque;
    if (ss->stdio_on)
        chan_write(&ss->stdio, s, n);
    if (ss->unix_client.in_fd >= 0)
        chan_write(&ss->unix_client, s, n);
}

void session_announce(vp_session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    broadcast_out(s, buf, (size_t)n);
}

static bool any_monitor(const vp_session *s)
{
    return s->stdio_on || s->unix_client.in_fd >= 0;
}

/* ---- stops ----------------------------------------------------------- */

static void poll_hook(void *opaque);

void session_stop_text(vp_session *s, char *buf, size_t len)
{
    vp_machine *m = s->m;
    const vp_dbg_hit *h = vp_debug_last_hit(m);
    char sym[160];
    if (m->stop != VP_STOP_DEBUG || h->kind == VP_HIT_NONE) {
        snprintf(buf, len, "%s", m->stop_msg[0] ? m->stop_msg : "stopped");
        return;
    }
    switch (h->kind) {
    case VP_HIT_BREAK:
        snprintf(buf, len, "breakpoint %d hit on CPU %d at RIP %#llx%s",
                 h->id, h->cpu, (unsigned long long)h->rip,
                 mon_symbolize(s, h->lin, sym, sizeof(sym)));
        break;
    case VP_HIT_WATCH:
        snprintf(buf, len, "watchpoint %d hit on CPU %d: %s of %u byte%s at "
                 "%#llx%s (physical %#llx), value %#llx, by the instruction "
                 "at RIP %#llx", h->id, h->cpu,
                 h->access == VP_WATCH_WRITE ? "write" : "read", h->size,
                 h->size == 1 ? "" : "s", (unsigned long long)h->lin,
                 mon_symbolize(s, h->lin, sym, sizeof(sym)),
                 (unsigned long long)h->gpa, (unsigned long long)h->value,
                 (unsigned long long)h->rip);
        break;
    case VP_HIT_STEP:
        snprintf(buf, len, "step ended at an event handler on CPU %d, RIP "
                 "%#llx", h->cpu, (unsigned long long)h->rip);
        break;
    case VP_HIT_NONE:
        break;
    }
}

/* Scripted channels waiting for the machine to stop go on. */
static void wake_channels(vp_session *s)
{
    s->stdio.waiting = s->unix_client.waiting = false;
}

/* The machine stopped (not for good): tell the monitors and gdb. */
static void announce_stop(vp_session *s, bool sigint)
{
    const vp_dbg_hit *h = vp_debug_last_hit(s->m);
    if (s->m->stop == VP_STOP_DEBUG && h->kind != VP_HIT_NONE)
        s->cpu = h->cpu;        /* look at the CPU that hit, as gdb does */
    if (any_monitor(s)) {
        char t[600];
        session_stop_text(s, t, sizeof(t));
        session_announce(s, "%s\n", t);
        mon_ctx x = {.s = s, .out = {broadcast_out, s}};
        mon_print_where(&x, s->m->cpus[s->cpu]);
    }
    wake_channels(s);
    if (s->gdb)
        vp_gdb_notify_stop(s->gdb, sigint);
}

void session_continue(vp_session *s)
{
    if (s->final || s->running)
        return;
    vp_debug_resume(s->m);
    s->running = true;
}

void session_stop(vp_session *s, bool sigint)
{
    if (!s->running)
        return;
    s->running = false;
    vp_machine *m = s->m;
    if (m->stop == VP_STOP_USER)
        snprintf(m->stop_msg, sizeof(m->stop_msg), "%s",
                 sigint ? "stopped by the user" : "stopped");
    announce_stop(s, sigint);
}

static void machine_ended(vp_session *s, vp_stop why)
{
    s->final = true;
    s->final_why = why;
    s->running = false;
    wake_channels(s);
    if (s->gdb)
        vp_gdb_notify_exit(s->gdb, s->cfg.exit_status(s->m, why));
    if (any_monitor(s))
        session_announce(s, "the machine has stopped for good: %s (after "
                         "%llu instructions); 'quit' ends vanderpool\n",
                         s->m->stop_msg[0] ? s->m->stop_msg : "stopped",
                         (unsigned long long)vp_machine_insns(s->m));
}

vp_stop session_step(vp_session *s)
{
    vp_machine *m = s->m;
    if (s->final)
        return s->final_why;
    s->running = false;
    vp_debug_resume(m);
    vp_debug_step_begin(m);
    m->poll = NULL;     /* input must not cut the step short */
    vp_stop why = vp_machine_run(m, 1);
    m->poll = poll_hook;
    vp_debug_step_end(m);
    if (why == VP_STOP_USER)
        snprintf(m->stop_msg, sizeof(m->stop_msg), "stepped");
    if (why != VP_STOP_USER && why != VP_STOP_DEBUG)
        machine_ended(s, why);
    return why;
}

void session_quit(vp_session *s)
{
    s->quit = true;
}

/* ---- the poll hook --------------------------------------------------- */

static int collect_fds(vp_session *s, struct pollfd *fds, int max);

static void poll_hook(void *opaque)
{
    vp_session *s = opaque;
    uint64_t now = vp_host_monotonic_ns();
    if (now - s->last_poll_ns < POLL_INTERVAL_NS)
        return;
    s->last_poll_ns = now;
    struct pollfd fds[8];
    int n = collect_fds(s, fds, 8);
    if (n > 0 && poll(fds, (nfds_t)n, 0) > 0) {
        s->paused_for_input = true;
        vp_machine_request_stop(s->m, VP_STOP_USER, 0, "input");
    }
}

/* ---- input ----------------------------------------------------------- */

static int collect_fds(vp_session *s, struct pollfd *fds, int max)
{
    int n = 0;
    if (s->stdio_on && !s->stdio.waiting && !s->stdio.eof && n < max)
        fds[n++] = (struct pollfd){.fd = s->stdio.in_fd, .events = POLLIN};
    if (s->unix_listen >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = s->unix_listen, .events = POLLIN};
    if (s->unix_client.in_fd >= 0 && !s->unix_client.waiting &&
        !s->unix_client.eof && n < max)
        fds[n++] = (struct pollfd){.fd = s->unix_client.in_fd,
                                   .events = POLLIN};
    if (s->gdb)
        n += vp_gdb_pollfds(s->gdb, fds + n, max - n);
    return n;
}

/* Runs the complete lines buffered in a channel, until one makes it wait
 * for the machine. */
static void chan_run_lines(vp_session *s, mon_chan *ch)
{
    while (!ch->waiting && !s->quit && ch->in_fd >= 0) {
        char *nl = memchr(ch->line, '\n', ch->len);
        if (!nl)
            return;
        *nl = 0;
        size_t used = (size_t)(nl - ch->line) + 1;
        if (!ch->overflow)
            mon_exec_line(s, (mon_out){chan_out, ch}, ch, ch->line);
        ch->overflow = false;
        memmove(ch->line, ch->line + used, ch->len - used);
        ch->len -= used;
        if (!ch->waiting)
            chan_prompt(ch);
    }
}

/* Reads what is available (at the end of the input, sets ch->eof). */
static void chan_read(vp_session *s, mon_chan *ch)
{
    if (ch->len == sizeof(ch->line)) {
        /* A line longer than the buffer: drop it up to its newline. */
        ch->overflow = true;
        ch->len = 0;
    }
    ssize_t r = read(ch->in_fd, ch->line + ch->len,
                     sizeof(ch->line) - ch->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        /* The end: a last line without a newline still counts. */
        ch->eof = true;
        if (ch->len && ch->len < sizeof(ch->line) &&
            !memchr(ch->line, '\n', ch->len))
            ch->line[ch->len++] = '\n';
    } else {
        ch->len += (size_t)r;
    }
    chan_run_lines(s, ch);
}

/* Runs the lines a channel buffered while it waited for the machine, and
 * closes a channel whose input has ended and been used up. */
static void drain(vp_session *s)
{
    if (s->stdio_on) {
        chan_run_lines(s, &s->stdio);
        if (s->stdio.eof && !s->stdio.waiting &&
            !memchr(s->stdio.line, '\n', s->stdio.len)) {
            s->stdio_on = false;
            chan_close(&s->stdio);
        }
    }
    if (s->unix_client.in_fd >= 0) {
        chan_run_lines(s, &s->unix_client);
        if (s->unix_client.eof && !s->unix_client.waiting)
            chan_close(&s->unix_client);
    }
}

static void accept_unix(vp_session *s)
{
    int fd = accept(s->unix_listen, NULL, NULL);
    if (fd < 0)
        return;
    if (s->unix_client.in_fd >= 0) {
        static const char busy[] = "another monitor client is connected\n";
        if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
            /* nothing to do: the client is refused either way */
        }
        close(fd);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->unix_client = (mon_chan){.in_fd = fd, .out_fd = fd, .socket = true,
                                .prompt = true};
    chan_write(&s->unix_client, banner, sizeof(banner) - 1);
    chan_prompt(&s->unix_client);
}

/* Waits up to timeout_ms (-1: forever) for input and handles it. */
static void service(vp_session *s, int timeout_ms)
{
    struct pollfd fds[8];
    int n = collect_fds(s, fds, 8);
    if (n == 0)
        return;
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r <= 0)
        return;
    for (int i = 0; i < n && !s->quit; i++) {
        if (!fds[i].revents)
            continue;
        int fd = fds[i].fd;
        if (s->stdio_on && fd == s->stdio.in_fd)
            chan_read(s, &s->stdio);
        else if (fd == s->unix_listen)
            accept_unix(s);
        else if (fd == s->unix_client.in_fd)
            chan_read(s, &s->unix_client);
    }
    if (s->gdb && !s->quit)
        vp_gdb_service(s->gdb, fds, n);
    drain(s);
}

/* Whether anything can still run a command or resume the machine. Once
 * the machine has ended, a gdbstub without a client keeps nothing alive. */
static bool can_interact(const vp_session *s)
{
    if (s->stdio_on || s->unix_listen >= 0)
        return true;
    if (!s->gdb)
        return false;
    return !s->final || vp_gdb_connected(s->gdb);
}

/* ---- the run loop ---------------------------------------------------- */

vp_stop vp_session_run(vp_session *s, int *quit_status)
{
    vp_machine *m = s->m;
    volatile sig_atomic_t *sig = s->cfg.signalled;
    m->poll = poll_hook;
    m->poll_opaque = s;
    s->running = !s->cfg.opts.start_stopped;
    if (s->stdio_on && s->stdio.prompt)
        chan_write(&s->stdio, banner, sizeof(banner) - 1);
    if (!s->running) {
        snprintf(m->stop_msg, sizeof(m->stop_msg),
                 "started stopped (-S)");
        session_announce(s, "the machine is stopped (-S): 'continue' runs "
                         "it\n");
    }
    if (s->stdio_on)
        chan_prompt(&s->stdio);
    *quit_status = -1;
    vp_stop result = VP_STOP_USER;
    for (;;) {
        if (*sig)
            break;
        if (s->quit)
            break;
        if (s->running) {
            s->paused_for_input = false;
            m->poll = poll_hook;
            vp_stop why = vp_machine_run(m, 0);
            if (*sig)
                break;
            if (why == VP_STOP_USER && s->paused_for_input) {
                service(s, 0);
                continue;
            }
            if (why == VP_STOP_USER || why == VP_STOP_DEBUG) {
                s->running = false;
                announce_stop(s, false);
                continue;
            }
            machine_ended(s, why);
            continue;
        }
        drain(s);
        if (s->quit || s->running)
            continue;
        if (!can_interact(s))
            break;
        service(s, -1);
    }
    m->poll = NULL;
    if (*sig)
        return VP_STOP_USER;
    if (s->final) {
        result = s->final_why;
    } else {
        *quit_status = 0;
        m->stop = VP_STOP_USER;
        snprintf(m->stop_msg, sizeof(m->stop_msg), "%s",
                 s->quit ? "quit" : "monitor input ended");
    }
    return result;
}

/* ---- open/close ------------------------------------------------------ */

static int open_unix(vp_session *s, const char *path, char *msg, size_t len)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);   /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(msg, len, "monitor socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 2) < 0) {
        snprintf(msg, len, "%s: cannot listen for the monitor: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->unix_listen = fd;
    s->unix_path = strdup(path);
    return 0;
}

vp_session *vp_session_open(vp_machine *m, const vp_session_config *cfg,
                            char *msg, size_t len)
{
    vp_session *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    s->m = m;
    s->cfg = *cfg;
    s->unix_listen = -1;
    s->stdio.in_fd = s->stdio.out_fd = -1;
    s->unix_client.in_fd = s->unix_client.out_fd = -1;
    if (cfg->kernel)
        s->syms = mon_syms_load(cfg->kernel);
    const char *mon = cfg->opts.monitor;
    if (mon && !strcmp(mon, "stdio")) {
        s->stdio_on = true;
        s->stdio.in_fd = STDIN_FILENO;
        s->stdio.out_fd = STDOUT_FILENO;
        bool tty = isatty(STDIN_FILENO);
        s->stdio.prompt = tty;
        s->stdio.sync = !tty;
    } else if (mon && open_unix(s, mon + 5, msg, len) < 0) {
        vp_session_close(s);
        return NULL;
    }
    if (cfg->opts.gdb) {
        s->gdb = vp_gdb_open(s, cfg->opts.gdb, msg, len);
        if (!s->gdb) {
            vp_session_close(s);
            return NULL;
        }
        fprintf(stderr, "vanderpool: gdbstub listening on %s\n",
                vp_gdb_address(s->gdb));
    }
    return s;
}

void vp_session_close(vp_session *s)
{
    if (!s)
        return;
    if (s->gdb)
        vp_gdb_close(s->gdb);
    chan_close(&s->unix_client);
    if (s->unix_listen >= 0) {
        close(s->unix_listen);
        unlink(s->unix_path);
    }
    free(s->unix_path);
    mon_syms_free(s->syms);
    if (s->m)
        s->m->poll = NULL;
    free(s);
}
