/* The monitor's commands: one table (name, arguments, help, handler), the
 * line parser, help generated from the table, address expressions, and
 * the run-control and breakpoint commands. A new view (VMX, SVM, VT-d) is
 * one row and one handler. */
#include "frontend/monitor_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emu/debug/debug.h"

enum {
    CMD_NO_GDB = 1,   /* refused from gdb's "monitor": gdb drives the run */
};

typedef struct mon_cmd {
    const char *name;     /* one or more words: "info registers" */
    const char *alias;    /* space-separated short forms, or NULL */
    const char *args;
    const char *help;
    void (*fn)(mon_ctx *x);
    unsigned flags;
} mon_cmd;

static void cmd_help(mon_ctx *x);
static void cmd_info(mon_ctx *x);
static void cmd_cpu(mon_ctx *x);
static void cmd_break(mon_ctx *x);
static void cmd_delete(mon_ctx *x);
static void cmd_watch(mon_ctx *x);
static void cmd_step(mon_ctx *x);
static void cmd_continue(mon_ctx *x);
static void cmd_stop(mon_ctx *x);
static void cmd_quit(mon_ctx *x);

static const mon_cmd commands[] = {
    {"help", "h ?", "[COMMAND]", "list the commands, or describe one",
     cmd_help, 0},
    {"info", NULL, "WHAT", "show machine state (`info` lists what)",
     cmd_info, 0},
    {"info registers", NULL, "[-a]",
     "every register of the current CPU (-a: of all CPUs)",
     cmd_info_registers, 0},
    {"info cpus", NULL, "", "the CPUs: mode, RIP, runnable, halted or waiting in MWAIT",
     cmd_info_cpus, 0},
    {"info tlb", NULL, "", "the software TLB of the current CPU",
     cmd_info_tlb, 0},
    {"info mem", NULL, "",
     "the mappings of the current address space, merged into ranges",
     cmd_info_mem, 0},
    {"info break", NULL, "", "breakpoints and watchpoints", cmd_info_break,
     0},
    {"info devices", NULL, "",
     "I/O port ranges and MMIO regions with their owners",
     cmd_info_devices, 0},
    {"cpu", NULL, "N", "select the CPU the other commands look at", cmd_cpu,
     0},
    {"x", NULL, "/NFU ADDR",
     "memory at a linear address: N units, format x d u o c s i, unit b h "
     "w g (x/16xb, x/4xg, x/8i $rip, x/s ADDR)", cmd_x, 0},
    {"xp", NULL, "/NFU ADDR", "like x, at a physical address", cmd_xp, 0},
    {"walk", NULL, "ADDR",
     "the page walk of a linear address: every level, its entry and the "
     "rights it grants", cmd_walk, 0},
    {"break", "b", "[-p] ADDR",
     "execution breakpoint at a linear (-p: physical) address",
     cmd_break, 0},
    {"watch", NULL, "[-p] ADDR [LEN] [r|w|rw]",
     "watchpoint on LEN bytes (default 1) at a linear (-p: physical) "
     "address, for writes (default), reads or both", cmd_watch, 0},
    {"delete", "d", "N", "delete breakpoint or watchpoint N", cmd_delete, 0},
    {"step", "s si stepi", "[N]", "run N instructions (default 1) and stop",
     cmd_step, CMD_NO_GDB},
    {"continue", "c cont", "", "run until something stops the machine",
     cmd_continue, CMD_NO_GDB},
    {"stop", NULL, "", "stop the machine", cmd_stop, CMD_NO_GDB},
    {"quit", "q", "", "end vanderpool", cmd_quit, 0},
};

/* ---- output ---------------------------------------------------------- */

void mon_printf(mon_ctx *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf)) {
        char *big = malloc((size_t)n + 1);
        if (!big)
            return;
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        x->out.write(x->out.opaque, big, (size_t)n);
        free(big);
        return;
    }
    x->out.write(x->out.opaque, buf, (size_t)n);
}

/* mon_printf, returning the length printed. */
static int mon_printf_len(mon_ctx *x, const char *fmt, ...) VP_PRINTF(2, 3);
static int mon_printf_len(mon_ctx *x, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    x->out.write(x->out.opaque, buf, (size_t)n);
    return n;
}

vp_cpu *mon_cpu(mon_ctx *x)
{
    return x->s->m->cpus[x->s->cpu];
}

/* ---- expressions ----------------------------------------------------- */

static int term(mon_ctx *x, const char *t, size_t n, uint64_t *v)
{
    char name[128];
    if (n == 0 || n >= sizeof(name)) {
        mon_printf(x, "error: missing or too long term in expression\n");
        return -1;
    }
    memcpy(name, t, n);
    name[n] = 0;
    if (!strcmp(name, "$pc")) {
        /* The linear address of the next instruction (CS.base + RIP). */
        vp_cpu *c = mon_cpu(x);
        *v = c->code_size == 8 ? c->rip
                               : (c->seg[S_CS].base + c->rip) & 0xffffffffull;
        return 0;
    }
    if (name[0] == '$' || name[0] == '%') {
        bool m32 = false;
        int r = vp_gdb_reg_find(name + 1, &m32);
        if (r < 0) {
            mon_printf(x, "error: unknown register '%s'\n", name + 1);
            return -1;
        }
        *v = vp_gdb_reg_get(mon_cpu(x), r);
        if (m32)
            *v &= 0xffffffffull;
        return 0;
    }
    if (isdigit((unsigned char)name[0])) {
        char *end;
        *v = strtoull(name, &end, 0);
        if (*end) {
            mon_printf(x, "error: bad number '%s'\n", name);
            return -1;
        }
        return 0;
    }
    if (mon_sym_lookup(x->s->syms, name, v) == 0)
        return 0;
    mon_printf(x, "error: unknown symbol '%s'%s\n", name,
               x->s->syms ? "" : " (the image has no symbols)");
    return -1;
}

int mon_eval(mon_ctx *x, const char *expr, uint64_t *v)
{
    uint64_t acc = 0;
    int sign = 1;
    const char *p = expr;
    bool any = false;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && *p != '+' && *p != '-' && !isspace((unsigned char)*p))
            p++;
        uint64_t tv;
        if (term(x, t, (size_t)(p - t), &tv) < 0)
            return -1;
        acc = sign > 0 ? acc + tv : acc - tv;
        any = true;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            p++;
            if (!*p) {
                mon_printf(x, "error: expression ends with an operator\n");
                return -1;
            }
        } else if (*p) {
            mon_printf(x, "error: bad expression '%s'\n", expr);
            return -1;
        }
    }
    if (!any) {
        mon_printf(x, "error: address expected\n");
        return -1;
    }
    *v = acc;
    return 0;
}

const char *mon_symbolize(vp_session *s, uint64_t addr, char *buf,
                          size_t len)
{
    uint64_t off;
    const char *name = mon_sym_find(s->syms, addr, &off);
    if (!name) {
        buf[0] = 0;
        return buf;
    }
    if (off)
        snprintf(buf, len, " <%s+%llu>", name, (unsigned long long)off);
    else
        snprintf(buf, len, " <%s>", name);
    return buf;
}

/* The arguments from index `from` joined by spaces (an expression may
 * contain spaces: "x/4xg $rsp + 8"). */
static void join_args(mon_ctx *x, int from, int to, char *buf, size_t len)
{
    buf[0] = 0;
    size_t used = 0;
    for (int i = from; i < to && i < x->argc; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > from ? " " : "",
                         x->argv[i]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

/* ---- table lookup and help ------------------------------------------- */

/* Number of words of `name` that match the input words (0: no match). */
static int match(const char *name, char **words, int nwords)
{
    int k = 0;
    const char *p = name;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (k >= nwords || strlen(words[k]) != n || strncmp(words[k], p, n))
            return 0;
        k++;
        p += n;
        if (*p == ' ')
            p++;
    }
    return k;
}

static bool alias_match(const char *aliases, const char *word)
{
    if (!aliases)
        return false;
    size_t n = strlen(word);
    for (const char *p = aliases; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n))
            return true;
        p += len;
        if (*p == ' ')
            p++;
    }
    return false;
}

static const mon_cmd *lookup(char **words, int nwords, int *used)
{
    const mon_cmd *best = NULL;
    int best_n = 0;
    for (size_t i = 0; i < VP_ARRAY_SIZE(commands); i++) {
        int n = match(commands[i].name, words, nwords);
        if (!n && nwords && alias_match(commands[i].alias, words[0]))
            n = 1;
        if (n > best_n) {
            best = &commands[i];
            best_n = n;
        }
    }
    *used = best_n;
    return best;
}

/* One command: its synopsis, then its help wrapped to 78 columns. */
static void help_row(mon_ctx *x, const mon_cmd *c)
{
    char head[96], text[512];
    snprintf(head, sizeof(head), "%s%s%s", c->name,
             c->args[0] && c->args[0] != '/' ? " " : "", c->args);
    snprintf(text, sizeof(text), "%s%s%s%s", c->help,
             c->alias ? " (also: " : "", c->alias ? c->alias : "",
             c->alias ? ")" : "");
    const int col = 30, width = 78;
    int pos = mon_printf_len(x, "  %-*s", col - 3, head);
    if (pos > col - 1) {
        mon_printf(x, "\n");
        pos = 0;
    }
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        int w = sp ? (int)(sp - p) : (int)strlen(p);
        if (pos > col && pos + 1 + w > width) {
            mon_printf(x, "\n");
            pos = 0;
        }
        if (pos < col) {
            mon_printf(x, "%*s", col - pos, "");
            pos = col;
        } else {
            mon_printf(x, " ");
            pos++;
        }
        mon_printf(x, "%.*s", w, p);
        pos += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    mon_printf(x, "\n");
}

static void cmd_help(mon_ctx *x)
{
    if (x->argc > 0) {
        int used;
        const mon_cmd *c = lookup(x->argv, x->argc, &used);
        if (!c) {
            mon_printf(x, "error: no command '%s'\n", x->argv[0]);
            return;
        }
        help_row(x, c);
        return;
    }
    mon_printf(x, "Commands (ADDR: numbers, $registers and symbols joined "
               "by + and -):\n");
    for (size_t i = 0; i < VP_ARRAY_SIZE(commands); i++)
        help_row(x, &commands[i]);
}

static void cmd_info(mon_ctx *x)
{
    if (x->argc > 0)
        mon_printf(x, "error: no 'info %s'\n", x->argv[0]);
    mon_printf(x, "info subcommands:\n");
    for (size_t i = 0; i < VP_ARRAY_SIZE(commands); i++)
        if (!strncmp(commands[i].name, "info ", 5))
            help_row(x, &commands[i]);
}

/* ---- CPU selection, breakpoints -------------------------------------- */

static void cmd_cpu(mon_ctx *x)
{
    uint64_t n;
    if (x->argc != 1 || mon_eval(x, x->argv[0], &n) < 0) {
        if (x->argc != 1)
            mon_printf(x, "usage: cpu N\n");
        return;
    }
    if (n >= (uint64_t)x->s->m->ncpus) {
        mon_printf(x, "error: no CPU %llu (there are %d)\n",
                   (unsigned long long)n, x->s->m->ncpus);
        return;
    }
    x->s->cpu = (int)n;
    mon_printf(x, "CPU %d selected\n", x->s->cpu);
}

static void cmd_break(mon_ctx *x)
{
    vp_dbg_point p = {.owner = VP_DBG_OWNER_MONITOR};
    int a = 0;
    if (a < x->argc && !strcmp(x->argv[a], "-p")) {
        p.phys = true;
        a++;
    }
    char expr[256];
    join_args(x, a, x->argc, expr, sizeof(expr));
    if (a >= x->argc) {
        mon_printf(x, "usage: break [-p] ADDR\n");
        return;
    }
    if (mon_eval(x, expr, &p.addr) < 0)
        return;
    vp_error err;
    int id = vp_debug_add(x->s->m, &p, &err);
    if (id < 0) {
        mon_printf(x, "error: %s\n", err.msg);
        return;
    }
    char sym[128];
    mon_printf(x, "breakpoint %d at %s %#llx%s\n", id,
               p.phys ? "physical" : "linear", (unsigned long long)p.addr,
               mon_symbolize(x->s, p.addr, sym, sizeof(sym)));
}

static void cmd_watch(mon_ctx *x)
{
    vp_dbg_point p = {.owner = VP_DBG_OWNER_MONITOR, .watch = true,
                      .len = 1, .access = VP_WATCH_WRITE};
    int a = 0;
    if (a < x->argc && !strcmp(x->argv[a], "-p")) {
        p.phys = true;
        a++;
    }
    if (a >= x->argc) {
        mon_printf(x, "usage: watch [-p] ADDR [LEN] [r|w|rw]\n");
        return;
    }
    /* Trailing access kind and length; everything before is the address. */
    int end = x->argc;
    const char *kind = x->argv[end - 1];
    if (end - a > 1 && (!strcmp(kind, "r") || !strcmp(kind, "w") ||
                        !strcmp(kind, "rw"))) {
        p.access = !strcmp(kind, "r") ? VP_WATCH_READ
                   : !strcmp(kind, "w") ? VP_WATCH_WRITE : VP_WATCH_ACCESS;
        end--;
    }
    if (end - a > 1 && strcmp(x->argv[end - 2], "+") &&
        strcmp(x->argv[end - 2], "-")) {
        char *e;
        unsigned long long n = strtoull(x->argv[end - 1], &e, 0);
        if (!*e && isdigit((unsigned char)x->argv[end - 1][0])) {
            p.len = n;
            end--;
        }
    }
    char expr[256];
    join_args(x, a, end, expr, sizeof(expr));
    if (mon_eval(x, expr, &p.addr) < 0)
        return;
    vp_error err;
    int id = vp_debug_add(x->s->m, &p, &err);
    if (id < 0) {
        mon_printf(x, "error: %s\n", err.msg);
        return;
    }
    char sym[128];
    mon_printf(x, "watchpoint %d: %s of %llu byte%s at %s %#llx%s\n", id,
               p.access == VP_WATCH_READ ? "reads"
               : p.access == VP_WATCH_WRITE ? "writes" : "reads and writes",
               (unsigned long long)p.len, p.len == 1 ? "" : "s",
               p.phys ? "physical" : "linear", (unsigned long long)p.addr,
               mon_symbolize(x->s, p.addr, sym, sizeof(sym)));
}

static void cmd_delete(mon_ctx *x)
{
    if (x->argc != 1) {
        mon_printf(x, "usage: delete N\n");
        return;
    }
    char *e;
    long id = strtol(x->argv[0], &e, 10);
    if (*e || vp_debug_remove(x->s->m, (int)id) < 0) {
        mon_printf(x, "error: no breakpoint or watchpoint %s\n", x->argv[0]);
        return;
    }
    mon_printf(x, "deleted %ld\n", id);
}

/* ---- run control ----------------------------------------------------- */

static bool refuse_final(mon_ctx *x)
{
    if (!x->s->final)
        return false;
    char why[600];
    session_stop_text(x->s, why, sizeof(why));
    mon_printf(x, "error: the machine has stopped for good (%s); 'quit' "
               "ends vanderpool\n", why);
    return true;
}

static void cmd_step(mon_ctx *x)
{
    uint64_t n = 1;
    if (x->argc > 1 || (x->argc == 1 && mon_eval(x, x->argv[0], &n) < 0)) {
        if (x->argc > 1)
            mon_printf(x, "usage: step [N]\n");
        return;
    }
    if (refuse_final(x))
        return;
    if (x->s->running)
        session_stop(x->s, false);
    for (uint64_t i = 0; i < n; i++) {
        vp_stop why = session_step(x->s);
        if (why == VP_STOP_DEBUG) {
            const vp_dbg_hit *h = vp_debug_last_hit(x->s->m);
            if (h->kind != VP_HIT_STEP) {
                char t[600];
                session_stop_text(x->s, t, sizeof(t));
                mon_printf(x, "%s\n", t);
                break;
            }
        } else if (why != VP_STOP_USER) {
            return;     /* the machine ended: the session said why */
        }
    }
    mon_print_where(x, mon_cpu(x));
}

static void cmd_continue(mon_ctx *x)
{
    if (refuse_final(x))
        return;
    if (x->s->running) {
        mon_printf(x, "the machine is running\n");
        return;
    }
    session_continue(x->s);
    if (x->chan && x->chan->sync)
        x->chan->waiting = true;
}

static void cmd_stop(mon_ctx *x)
{
    if (!x->s->running) {
        mon_printf(x, "the machine is stopped\n");
        return;
    }
    session_stop(x->s, true);
}

static void cmd_quit(mon_ctx *x)
{
    session_quit(x->s);
}

/* ---- one line -------------------------------------------------------- */

#define MAX_WORDS 32

void mon_exec_line(vp_session *s, mon_out out, mon_chan *chan,
                   const char *line)
{
    bool from_gdb = chan == NULL;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", line);
    char *words[MAX_WORDS];
    int n = 0;
    for (char *p = strtok(buf, " \t\r\n"); p && n < MAX_WORDS;
         p = strtok(NULL, " \t\r\n"))
        words[n++] = p;
    mon_ctx x = {.s = s, .out = out, .from_gdb = from_gdb, .chan = chan};
    if (n == 0 || words[0][0] == '#')
        return;
    /* "x/16xb": the format is glued to the command word. */
    char *slash = strchr(words[0], '/');
    if (slash) {
        *slash = 0;
        x.fmt = slash + 1;
    }
    int used;
    const mon_cmd *c = lookup(words, n, &used);
    if (!c) {
        mon_printf(&x, "error: unknown command '%s' (try 'help')\n",
                   words[0]);
        return;
    }
    if (x.fmt && c->fn != cmd_x && c->fn != cmd_xp) {
        mon_printf(&x, "error: '%s' takes no /format\n", c->name);
        return;
    }
    if (from_gdb && (c->flags & CMD_NO_GDB)) {
        mon_printf(&x, "error: '%s' is gdb's job here (continue, stepi, "
                   "Ctrl-C)\n", c->name);
        return;
    }
    x.argc = n - used;
    x.argv = words + used;
    c->fn(&x);
}
