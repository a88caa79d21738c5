/* GDB's remote serial protocol over TCP, as the GDB manual's "Remote
 * Protocol" appendix describes it ("Overview", "Packets", "Stop Reply
 * Packets", "General Query Packets", "Target Description Format").
 *
 * All-stop mode, one client at a time. Each CPU is a thread (thread id =
 * CPU number + 1); the machine runs and stops as a whole. Breakpoints
 * (Z0, Z1) and watchpoints (Z2-Z4) are the library's (emu/debug): nothing
 * is patched in guest memory. Memory addresses are linear and go through
 * the selected CPU's current paging without side effects; MMIO is not
 * touched. "monitor CMD" runs a monitor command. A connecting gdb stops
 * the machine; detaching (or disconnecting) resumes it, as with QEMU. */
#include "frontend/monitor_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu/debug/debug.h"

#define PACKET_MAX 0x4000   /* advertised PacketSize */

struct vp_gdbstub {
    vp_session *s;
    int listen_fd, fd;
    char address[80];
    bool noack;
    bool swbreak, hwbreak;  /* gdb understands these stop reasons */
    bool waiting;           /* gdb resumed and waits for a stop reply */
    bool exited;            /* the machine ended; status below */
    int exit_status;
    int gcpu;               /* CPU of g/G/p/P/m/M (Hg) */
    char in[PACKET_MAX + 8];
    size_t inlen;
    char *last;             /* the last packet sent, for a '-' */
    size_t lastlen;
    /* Breakpoint ids set by Z1 (reported as hwbreak). */
    int hw_ids[VP_DBG_MAX_POINTS];
    int nhw;
};

/* ---- sending --------------------------------------------------------- */

static void raw_send(vp_gdbstub *g, const char *p, size_t n)
{
    while (n && g->fd >= 0) {
        ssize_t w = send(g->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = g->fd, .events = POLLOUT};
            poll(&pf, 1, 1000);
            continue;
        }
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void send_packet(vp_gdbstub *g, const char *data, size_t n)
{
    char *pkt = malloc(n + 4);
    if (!pkt)
        return;
    unsigned sum = 0;
    pkt[0] = '$';
    for (size_t i = 0; i < n; i++) {
        pkt[1 + i] = data[i];
        sum += (unsigned char)data[i];
    }
    static const char hex[] = "0123456789abcdef";
    pkt[n + 1] = '#';
    pkt[n + 2] = hex[(sum >> 4) & 15];
    pkt[n + 3] = hex[sum & 15];
    raw_send(g, pkt, n + 4);
    free(g->last);
    g->last = pkt;
    g->lastlen = n + 4;
}

static void send_str(vp_gdbstub *g, const char *s)
{
    send_packet(g, s, strlen(s));
}

static void send_error(vp_gdbstub *g, int err)
{
    char b[8];
    snprintf(b, sizeof(b), "E%02x", err & 0xff);
    send_str(g, b);
}

static void hex_bytes(char *out, const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses hex digits into bytes; returns the count, or -1. */
static long unhex(const char *s, size_t n, uint8_t *out, size_t max)
{
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* A hex number; *end after it. */
static bool parse_hex(const char *s, uint64_t *v, const char **end)
{
    uint64_t r = 0;
    const char *p = s;
    while (hexval(*p) >= 0) {
        r = r << 4 | (uint64_t)hexval(*p);
        p++;
    }
    *v = r;
    if (end)
        *end = p;
    return p != s;
}

/* ---- stop replies ---------------------------------------------------- */

static int thread_of_stop(vp_gdbstub *g)
{
    vp_machine *m = g->s->m;
    const vp_dbg_hit *h = vp_debug_last_hit(m);
    if (m->stop == VP_STOP_DEBUG && h->kind != VP_HIT_NONE)
        return h->cpu;
    return g->s->cpu;
}

static bool is_hw(const vp_gdbstub *g, int id)
{
    for (int i = 0; i < g->nhw; i++)
        if (g->hw_ids[i] == id)
            return true;
    return false;
}

static void send_stop_reply(vp_gdbstub *g, bool sigint)
{
    char b[160];
    vp_machine *m = g->s->m;
    if (g->exited) {
        snprintf(b, sizeof(b), "W%02x", g->exit_status & 0xff);
        send_str(g, b);
        return;
    }
    int cpu = thread_of_stop(g);
    g->gcpu = cpu;
    int n = snprintf(b, sizeof(b), "T%02x", sigint ? 2 : 5);
    const vp_dbg_hit *h = vp_debug_last_hit(m);
    if (!sigint && m->stop == VP_STOP_DEBUG) {
        if (h->kind == VP_HIT_BREAK) {
            if (is_hw(g, h->id) && g->hwbreak)
                n += snprintf(b + n, sizeof(b) - (size_t)n, "hwbreak:;");
            else if (g->swbreak)
                n += snprintf(b + n, sizeof(b) - (size_t)n, "swbreak:;");
        } else if (h->kind == VP_HIT_WATCH) {
            uint64_t a = h->lin;
            unsigned acc = VP_WATCH_WRITE;
            for (int i = 0; i < vp_debug_count(m); i++) {
                const vp_dbg_point *p = vp_debug_point(m, i);
                if (p->id == h->id) {
                    if (a < p->addr)
                        a = p->addr;
                    acc = p->access;
                }
            }
            n += snprintf(b + n, sizeof(b) - (size_t)n, "%s:%llx;",
                          acc == VP_WATCH_READ ? "rwatch"
                          : acc == VP_WATCH_WRITE ? "watch" : "awatch",
                          (unsigned long long)a);
        }
    }
    snprintf(b + n, sizeof(b) - (size_t)n, "thread:%x;", cpu + 1);
    send_str(g, b);
}

void vp_gdb_notify_stop(vp_gdbstub *g, bool sigint)
{
    if (g->fd < 0 || !g->waiting)
        return;
    g->waiting = false;
    send_stop_reply(g, sigint);
}

void vp_gdb_notify_exit(vp_gdbstub *g, int status)
{
    g->exited = true;
    g->exit_status = status;
    if (g->fd >= 0 && g->waiting) {
        g->waiting = false;
        send_stop_reply(g, false);
    }
}

/* ---- packets --------------------------------------------------------- */

static vp_cpu *gcpu(vp_gdbstub *g)
{
    return g->s->m->cpus[g->gcpu];
}

static void reg_hex(vp_gdbstub *g, int i, char *out)
{
    uint8_t bytes[10] = {0};
    uint64_t v = vp_gdb_reg_get(gcpu(g), i);
    unsigned n = vp_gdb_regs[i].bits / 8;
    for (unsigned k = 0; k < n && k < 8; k++)
        bytes[k] = (uint8_t)(v >> (8 * k));
    hex_bytes(out, bytes, n);
}

static void handle_g(vp_gdbstub *g)
{
    char *buf = malloc((size_t)vp_gdb_nregs * 20 + 1);
    if (!buf)
        return send_error(g, 12);
    size_t used = 0;
    for (int i = 0; i < vp_gdb_nregs; i++) {
        reg_hex(g, i, buf + used);
        used += vp_gdb_regs[i].bits / 4;
    }
    send_packet(g, buf, used);
    free(buf);
}

static uint64_t le_value(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n && k < 8; k++)
        v |= (uint64_t)b[k] << (8 * k);
    return v;
}

static void handle_G(vp_gdbstub *g, const char *p, size_t n)
{
    bool bad = false;
    size_t off = 0;
    for (int i = 0; i < vp_gdb_nregs && off < n; i++) {
        unsigned bytes = vp_gdb_regs[i].bits / 8;
        uint8_t b[10];
        if (off + 2 * bytes > n ||
            unhex(p + off, 2 * bytes, b, sizeof(b)) != (long)bytes)
            return send_error(g, 22);
        off += 2 * bytes;
        if (vp_gdb_reg_set(gcpu(g), i, le_value(b, bytes)) < 0)
            bad = true;
    }
    if (bad)
        send_error(g, 22);
    else
        send_str(g, "OK");
}

static void handle_p(vp_gdbstub *g, const char *p)
{
    uint64_t r;
    if (!parse_hex(p, &r, NULL) || r >= (uint64_t)vp_gdb_nregs)
        return send_error(g, 22);
    char buf[24];
    reg_hex(g, (int)r, buf);
    send_str(g, buf);
}

static void handle_P(vp_gdbstub *g, const char *p, size_t n)
{
    uint64_t r;
    const char *e;
    if (!parse_hex(p, &r, &e) || *e != '=' || r >= (uint64_t)vp_gdb_nregs)
        return send_error(g, 22);
    unsigned bytes = vp_gdb_regs[r].bits / 8;
    uint8_t b[10];
    size_t hexlen = n - (size_t)(e + 1 - p);
    if (hexlen != 2 * bytes || unhex(e + 1, hexlen, b, sizeof(b)) < 0)
        return send_error(g, 22);
    if (vp_gdb_reg_set(gcpu(g), (int)r, le_value(b, bytes)) < 0)
        return send_error(g, 22);
    send_str(g, "OK");
}

static void handle_m(vp_gdbstub *g, const char *p)
{
    uint64_t a, len;
    const char *e;
    if (!parse_hex(p, &a, &e) || *e != ',' || !parse_hex(e + 1, &len, NULL))
        return send_error(g, 22);
    if (len > PACKET_MAX / 2)
        len = PACKET_MAX / 2;
    uint8_t *buf = malloc(len + 1);
    char *hex = malloc(2 * len + 1);
    if (!buf || !hex) {
        free(buf);
        free(hex);
        return send_error(g, 12);
    }
    size_t got = vp_debug_read_lin(gcpu(g), a, buf, len);
    if (got == 0 && len) {
        send_error(g, 14);
    } else {
        hex_bytes(hex, buf, got);
        send_packet(g, hex, 2 * got);
    }
    free(buf);
    free(hex);
}

/* M (hex data) and X (binary data, '}' escapes). */
static void handle_write(vp_gdbstub *g, const char *p, size_t n, bool binary)
{
    uint64_t a, len;
    const char *e, *colon = memchr(p, ':', n);
    if (!colon || !parse_hex(p, &a, &e) || *e != ',' ||
        !parse_hex(e + 1, &len, NULL) || len > PACKET_MAX)
        return send_error(g, 22);
    const char *d = colon + 1;
    size_t dn = n - (size_t)(d - p);
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return send_error(g, 12);
    size_t got = 0;
    if (binary) {
        for (size_t i = 0; i < dn && got < len; i++) {
            uint8_t ch = (uint8_t)d[i];
            if (ch == '}' && i + 1 < dn)
                ch = (uint8_t)d[++i] ^ 0x20;
            buf[got++] = ch;
        }
    } else {
        long r = unhex(d, dn, buf, len);
        got = r < 0 ? (size_t)-1 : (size_t)r;
    }
    if (got != len) {
        free(buf);
        return send_error(g, 22);
    }
    size_t w = len ? vp_debug_write_lin(gcpu(g), a, buf, len) : 0;
    free(buf);
    if (w != len)
        send_error(g, 14);
    else
        send_str(g, "OK");
}

/* Z/z type,addr,kind. */
static void handle_point(vp_gdbstub *g, const char *p, bool insert)
{
    uint64_t type, addr, kind;
    const char *e;
    if (!parse_hex(p, &type, &e) || *e != ',' ||
        !parse_hex(e + 1, &addr, &e) || *e != ',' ||
        !parse_hex(e + 1, &kind, NULL) || type > 4)
        return send_str(g, "");
    vp_machine *m = g->s->m;
    bool watch = type >= 2;
    unsigned access = type == 2 ? VP_WATCH_WRITE
                      : type == 3 ? VP_WATCH_READ : VP_WATCH_ACCESS;
    if (!insert) {
        if (vp_debug_remove_match(m, VP_DBG_OWNER_GDB, watch, false,
                                  watch ? access : 0, addr,
                                  watch ? kind : 1) < 0)
            return send_error(g, 22);
        return send_str(g, "OK");
    }
    vp_dbg_point pt = {.watch = watch, .addr = addr,
                       .len = watch ? kind : 1, .access = access,
                       .owner = VP_DBG_OWNER_GDB};
    vp_error err;
    int id = vp_debug_add(m, &pt, &err);
    if (id < 0)
        return send_error(g, 22);
    if (type == 1 && g->nhw < VP_DBG_MAX_POINTS)
        g->hw_ids[g->nhw++] = id;
    send_str(g, "OK");
}

/* Resumes the machine (continue) or steps once; the stop reply follows. */
static void resume(vp_gdbstub *g, bool step)
{
    vp_session *s = g->s;
    g->waiting = true;
    if (g->exited || s->final) {
        vp_gdb_notify_exit(g, g->exited ? g->exit_status
                                        : s->cfg.exit_status(s->m,
                                                             s->final_why));
        return;
    }
    if (step) {
        session_step(s);
        if (!s->final)
            vp_gdb_notify_stop(g, false);
        return;
    }
    if (!s->running)
        session_continue(s);
}

/* c [addr], s [addr], C sig[;addr], S sig[;addr]. */
static void handle_resume(vp_gdbstub *g, const char *p, bool step, bool sig)
{
    const char *a = p;
    if (sig) {
        const char *semi = strchr(p, ';');
        a = semi ? semi + 1 : "";
    }
    uint64_t addr;
    if (*a && parse_hex(a, &addr, NULL))
        gcpu(g)->rip = addr & gcpu(g)->rip_mask;
    resume(g, step);
}

static void handle_vcont(vp_gdbstub *g, const char *p)
{
    if (!strcmp(p, "?"))
        return send_str(g, "vCont;c;C;s;S;t");
    if (*p != ';')
        return send_str(g, "");
    bool step = false, cont = false, stop = false;
    for (const char *q = p; q && *q == ';'; q = strchr(q + 1, ';')) {
        switch (q[1]) {
        case 's': case 'S': step = true; break;
        case 'c': case 'C': cont = true; break;
        case 't': stop = true; break;
        default: return send_error(g, 22);
        }
    }
    if (step || cont)
        return resume(g, step);
    if (stop) {
        g->waiting = true;
        if (g->s->running)
            session_stop(g->s, true);
        else
            vp_gdb_notify_stop(g, true);
    }
}

/* The output of "monitor CMD", sent as console output packets. */
typedef struct rcmd_buf {
    char *p;
    size_t len, cap;
} rcmd_buf;

static void rcmd_out(void *opaque, const char *s, size_t n)
{
    rcmd_buf *b = opaque;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void handle_rcmd(vp_gdbstub *g, const char *hex)
{
    size_t n = strlen(hex);
    char *cmd = malloc(n / 2 + 1);
    if (!cmd)
        return send_error(g, 12);
    long len = unhex(hex, n, (uint8_t *)cmd, n / 2);
    if (len < 0) {
        free(cmd);
        return send_error(g, 22);
    }
    cmd[len] = 0;
    rcmd_buf b = {0};
    int cpu = g->s->cpu;
    g->s->cpu = g->gcpu;      /* the monitor looks at gdb's thread */
    mon_exec_line(g->s, (mon_out){rcmd_out, &b}, NULL, cmd);
    g->s->cpu = cpu;
    free(cmd);
    /* Chunks of console output ('O' + hex), then OK. */
    char pkt[1 + 2 * 1024 + 1];
    for (size_t off = 0; off < b.len; off += 1024) {
        size_t k = b.len - off < 1024 ? b.len - off : 1024;
        pkt[0] = 'O';
        hex_bytes(pkt + 1, b.p + off, k);
        send_packet(g, pkt, 1 + 2 * k);
    }
    free(b.p);
    if (g->s->quit)
        return;       /* "monitor quit": the connection just ends */
    send_str(g, "OK");
}

static void handle_xfer(vp_gdbstub *g, const char *p)
{
    /* qXfer:features:read:ANNEX:OFFSET,LENGTH */
    if (strncmp(p, "features:read:", 14) != 0)
        return send_str(g, "");
    p += 14;
    const char *colon = strchr(p, ':');
    if (!colon)
        return send_error(g, 22);
    char annex[64];
    snprintf(annex, sizeof(annex), "%.*s", (int)(colon - p), p);
    const char *xml = vp_gdb_target_xml(annex);
    uint64_t off, len;
    const char *e;
    if (!xml)
        return send_error(g, 0);
    if (!parse_hex(colon + 1, &off, &e) || *e != ',' ||
        !parse_hex(e + 1, &len, NULL))
        return send_error(g, 22);
    size_t total = strlen(xml);
    if (off >= total)
        return send_str(g, "l");
    if (len > PACKET_MAX - 8)
        len = PACKET_MAX - 8;
    size_t k = total - off < len ? total - off : (size_t)len;
    char *buf = malloc(2 * k + 2);
    if (!buf)
        return send_error(g, 12);
    size_t n = 0;
    buf[n++] = off + k < total ? 'm' : 'l';
    for (size_t i = 0; i < k; i++) {
        char ch = xml[off + i];
        if (ch == '#' || ch == '$' || ch == '}' || ch == '*') {
            buf[n++] = '}';
            ch ^= 0x20;
        }
        buf[n++] = ch;
    }
    send_packet(g, buf, n);
    free(buf);
}

static void handle_query(vp_gdbstub *g, const char *p)
{
    vp_machine *m = g->s->m;
    char b[256];
    if (!strncmp(p, "Supported", 9)) {
        g->swbreak = strstr(p, "swbreak+") != NULL;
        g->hwbreak = strstr(p, "hwbreak+") != NULL;
        snprintf(b, sizeof(b), "PacketSize=%x;qXfer:features:read+;"
                 "QStartNoAckMode+;vContSupported+%s%s", PACKET_MAX,
                 g->swbreak ? ";swbreak+" : "", g->hwbreak ? ";hwbreak+" : "");
        return send_str(g, b);
    }
    if (!strncmp(p, "Xfer:", 5))
        return handle_xfer(g, p + 5);
    if (!strcmp(p, "Attached"))
        return send_str(g, "1");
    if (!strcmp(p, "C")) {
        snprintf(b, sizeof(b), "QC%x", g->gcpu + 1);
        return send_str(g, b);
    }
    if (!strcmp(p, "fThreadInfo")) {
        size_t n = (size_t)snprintf(b, sizeof(b), "m");
        for (int i = 0; i < m->ncpus && n < sizeof(b) - 8; i++)
            n += (size_t)snprintf(b + n, sizeof(b) - n, "%s%x",
                                  i ? "," : "", i + 1);
        return send_str(g, b);
    }
    if (!strcmp(p, "sThreadInfo"))
        return send_str(g, "l");
    if (!strncmp(p, "ThreadExtraInfo,", 16)) {
        uint64_t t;
        if (!parse_hex(p + 16, &t, NULL) || t < 1 || t > (uint64_t)m->ncpus)
            return send_error(g, 22);
        vp_cpu *c = m->cpus[t - 1];
        char text[64], hex[130];
        snprintf(text, sizeof(text), "CPU %d%s", c->id,
                 c->shutdown ? " (shut down)" : c->halted ? " (halted)" : "");
        hex_bytes(hex, text, strlen(text));
        return send_str(g, hex);
    }
    if (!strncmp(p, "Rcmd,", 5))
        return handle_rcmd(g, p + 5);
    if (!strncmp(p, "Symbol:", 7))
        return send_str(g, "OK");
    send_str(g, "");
}

static void detach(vp_gdbstub *g)
{
    vp_debug_remove_owner(g->s->m, VP_DBG_OWNER_GDB);
    g->nhw = 0;
    g->waiting = false;
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->inlen = 0;
    g->noack = false;
    session_announce(g->s, "gdb detached\n");
    session_continue(g->s);
}

static void handle_packet(vp_gdbstub *g, char *p, size_t n)
{
    p[n] = 0;
    switch (p[0]) {
    case '?':
        return send_stop_reply(g, false);
    case 'g':
        return handle_g(g);
    case 'G':
        return handle_G(g, p + 1, n - 1);
    case 'p':
        return handle_p(g, p + 1);
    case 'P':
        return handle_P(g, p + 1, n - 1);
    case 'm':
        return handle_m(g, p + 1);
    case 'M':
        return handle_write(g, p + 1, n - 1, false);
    case 'X':
        return handle_write(g, p + 1, n - 1, true);
    case 'Z':
    case 'z':
        return handle_point(g, p + 1, p[0] == 'Z');
    case 'c':
        return handle_resume(g, p + 1, false, false);
    case 's':
        return handle_resume(g, p + 1, true, false);
    case 'C':
        return handle_resume(g, p + 1, false, true);
    case 'S':
        return handle_resume(g, p + 1, true, true);
    case 'H': {
        uint64_t t;
        if (p[1] != 'g' && p[1] != 'c')
            return send_str(g, "");
        if (!strcmp(p + 2, "-1") || !strcmp(p + 2, "0"))
            return send_str(g, "OK");
        if (!parse_hex(p + 2, &t, NULL) || t < 1 ||
            t > (uint64_t)g->s->m->ncpus)
            return send_error(g, 22);
        if (p[1] == 'g')
            g->gcpu = (int)t - 1;
        return send_str(g, "OK");
    }
    case 'T': {
        uint64_t t;
        if (!parse_hex(p + 1, &t, NULL) || t < 1 ||
            t > (uint64_t)g->s->m->ncpus)
            return send_error(g, 22);
        return send_str(g, "OK");
    }
    case 'q':
        return handle_query(g, p + 1);
    case 'Q':
        if (!strcmp(p, "QStartNoAckMode")) {
            send_str(g, "OK");
            g->noack = true;
            return;
        }
        return send_str(g, "");
    case 'v':
        if (!strncmp(p, "vCont", 5))
            return handle_vcont(g, p + 5);
        return send_str(g, "");
    case 'D':
        send_str(g, "OK");
        return detach(g);
    case 'k':
        session_quit(g->s);
        return;
    default:
        return send_str(g, "");
    }
}

/* Takes complete packets, acks and interrupts out of the input buffer. */
static void process_input(vp_gdbstub *g)
{
    size_t i = 0;
    while (i < g->inlen && g->fd >= 0 && !g->s->quit) {
        char ch = g->in[i];
        if (ch == '+') {
            i++;
        } else if (ch == '-') {
            if (g->last)
                raw_send(g, g->last, g->lastlen);
            i++;
        } else if (ch == 0x03) {
            i++;
            if (g->s->running) {
                g->waiting = true;
                session_stop(g->s, true);
            }
        } else if (ch == '$') {
            char *hash = memchr(g->in + i, '#', g->inlen - i);
            if (!hash || (size_t)(hash - g->in) + 2 >= g->inlen)
                break;      /* incomplete */
            size_t start = i + 1, len = (size_t)(hash - g->in) - start;
            unsigned sum = 0;
            for (size_t k = 0; k < len; k++)
                sum += (unsigned char)g->in[start + k];
            int hi = hexval(hash[1]), lo = hexval(hash[2]);
            i = (size_t)(hash - g->in) + 3;
            if (!g->noack) {
                if (hi < 0 || lo < 0 ||
                    (unsigned)(hi << 4 | lo) != (sum & 0xff)) {
                    raw_send(g, "-", 1);
                    continue;
                }
                raw_send(g, "+", 1);
            }
            char *pkt = malloc(len + 1);
            if (!pkt)
                continue;
            memcpy(pkt, g->in + start, len);
            handle_packet(g, pkt, len);
            free(pkt);
        } else {
            i++;    /* noise between packets */
        }
    }
    if (g->fd < 0) {
        g->inlen = 0;
        return;
    }
    memmove(g->in, g->in + i, g->inlen - i);
    g->inlen -= i;
    if (g->inlen == sizeof(g->in))
        g->inlen = 0;   /* an oversized packet: drop it */
}

/* ---- connection ------------------------------------------------------ */

static void accept_client(vp_gdbstub *g)
{
    int fd = accept(g->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    if (g->fd >= 0) {
        close(fd);      /* one debugger at a time */
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    g->fd = fd;
    g->inlen = 0;
    g->noack = false;
    g->waiting = false;
    g->gcpu = g->s->cpu;
    session_announce(g->s, "gdb connected\n");
    if (g->s->running)
        session_stop(g->s, true);
}

int vp_gdb_pollfds(vp_gdbstub *g, struct pollfd *fds, int max)
{
    int n = 0;
    if (g->listen_fd >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = g->listen_fd, .events = POLLIN};
    if (g->fd >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = g->fd, .events = POLLIN};
    return n;
}

void vp_gdb_service(vp_gdbstub *g, const struct pollfd *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        if (fds[i].fd == g->listen_fd) {
            accept_client(g);
        } else if (fds[i].fd == g->fd && g->fd >= 0) {
            ssize_t r = recv(g->fd, g->in + g->inlen,
                             sizeof(g->in) - g->inlen, 0);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r <= 0) {
                detach(g);   /* gdb went away */
                continue;
            }
            g->inlen += (size_t)r;
            process_input(g);
        }
    }
}

bool vp_gdb_connected(const vp_gdbstub *g)
{
    return g->fd >= 0;
}

const char *vp_gdb_address(const vp_gdbstub *g)
{
    return g->address;
}

vp_gdbstub *vp_gdb_open(vp_session *s, const char *spec, char *msg,
                        size_t len)
{
    const char *p = spec;
    if (!strncmp(p, "tcp:", 4))
        p += 4;
    const char *colon = strrchr(p, ':');
    char host[64] = "127.0.0.1";
    if (colon && colon > p)
        snprintf(host, sizeof(host), "%.*s", (int)(colon - p), p);
    unsigned long port = strtoul(colon ? colon + 1 : p, NULL, 10);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(msg, len, "--gdb: '%s' is not an IPv4 address", host);
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(msg, len, "gdbstub socket: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
        snprintf(msg, len, "gdbstub: cannot listen on %s:%lu: %s", host, port,
                 strerror(errno));
        close(fd);
        return NULL;
    }
    socklen_t alen = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    vp_gdbstub *g = calloc(1, sizeof(*g));
    if (!g) {
        close(fd);
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    g->s = s;
    g->listen_fd = fd;
    g->fd = -1;
    snprintf(g->address, sizeof(g->address), "%s:%u", host,
             (unsigned)ntohs(a.sin_port));
    return g;
}

void vp_gdb_close(vp_gdbstub *g)
{
    if (!g)
        return;
    if (g->fd >= 0)
        close(g->fd);
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    free(g->last);
    free(g);
}
