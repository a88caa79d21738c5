/* Trace output: filters, text or JSON Lines, Capstone disassembly of
 * instruction events. The library hands over "insn" events as data
 * (vp_trace_insn) and every other event as a formatted message. */
#include "frontend/trace_sink.h"

#include <capstone.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu/cpu.h"

struct vp_trace_out {
    vp_trace_opts o;
    FILE *f;
    const vp_machine *m;
    /* One Capstone handle per code size (16, 32, 64), opened on first
     * use. cs_state: 0 not opened yet, 1 open, -1 failed to open (events
     * then show "(no disassembler)"). */
    csh cs[3];
    cs_insn *csi[3];
    int cs_state[3];
};

/* ---- options ---------------------------------------------------------- */

static int bad(char *msg, size_t len, const char *fmt, ...) VP_PRINTF(3, 4);
static int bad(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

int vp_trace_opt_format(vp_trace_opts *o, const char *v, char *msg, size_t len)
{
    if (!strcmp(v, "text"))
        o->format = VP_TRACE_FMT_TEXT;
    else if (!strcmp(v, "json"))
        o->format = VP_TRACE_FMT_JSON;
    else
        return bad(msg, len, "invalid --trace-format value '%s' (expected "
                   "text or json)", v);
    return 0;
}

int vp_trace_opt_syntax(vp_trace_opts *o, const char *v, char *msg, size_t len)
{
    if (!strcmp(v, "intel"))
        o->syntax = VP_TRACE_SYN_INTEL;
    else if (!strcmp(v, "att"))
        o->syntax = VP_TRACE_SYN_ATT;
    else
        return bad(msg, len, "invalid --trace-syntax value '%s' (expected "
                   "intel or att)", v);
    return 0;
}

/* A decimal or 0x-hex number of n characters. */
static int parse_num(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int ch = tolower((unsigned char)s[i]), d;
        if (isdigit(ch))
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else
            return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return -1;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* Calls fn for each comma-separated item of v; stops at the first -1. */
static int each_item(const char *v, int (*fn)(vp_trace_opts *, const char *,
                                              size_t),
                     vp_trace_opts *o)
{
    if (!*v)
        return -1;
    for (;;) {
        const char *e = strchr(v, ',');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        if (n == 0 || fn(o, v, n) < 0)
            return -1;
        if (!e)
            return 0;
        v = e + 1;
    }
}

static int range_item(vp_trace_opts *o, const char *s, size_t n)
{
    const char *sep = memchr(s, '-', n);
    bool plus = false;
    if (!sep) {
        sep = memchr(s, '+', n);
        plus = true;
    }
    uint64_t a, b;
    if (!sep || o->nranges >= VP_TRACE_MAX_RANGES ||
        parse_num(s, (size_t)(sep - s), &a) < 0 ||
        parse_num(sep + 1, n - (size_t)(sep - s) - 1, &b) < 0)
        return -1;
    if (plus) {
        if (b == 0 || b - 1 > UINT64_MAX - a)
            return -1;
        b = a + (b - 1);
    }
    if (b < a)
        return -1;
    o->range[o->nranges].first = a;
    o->range[o->nranges].last = b;
    o->nranges++;
    return 0;
}

int vp_trace_opt_range(vp_trace_opts *o, const char *v, char *msg, size_t len)
{
    if (each_item(v, range_item, o) < 0)
        return bad(msg, len, "invalid --trace-range value '%s' (expected "
                   "START-END or START+LENGTH, at most %d ranges, e.g. "
                   "0x100000-0x1fffff)", v, VP_TRACE_MAX_RANGES);
    return 0;
}

static int cpl_item(vp_trace_opts *o, const char *s, size_t n)
{
    if (n != 1 || s[0] < '0' || s[0] > '3')
        return -1;
    o->cpl_mask |= 1u << (s[0] - '0');
    return 0;
}

int vp_trace_opt_cpl(vp_trace_opts *o, const char *v, char *msg, size_t len)
{
    if (each_item(v, cpl_item, o) < 0)
        return bad(msg, len, "invalid --trace-cpl value '%s' (expected 0, 1, "
                   "2 or 3, comma-separated)", v);
    return 0;
}

static int mode_item(vp_trace_opts *o, const char *s, size_t n)
{
    if (n == 4 && !strncmp(s, "prot", 4)) {
        o->mode_mask |= (1u << VP_MODE_PROT16) | (1u << VP_MODE_PROT32);
        return 0;
    }
    for (int i = 0; i < VP_MODE_COUNT; i++) {
        if (strlen(vp_trace_mode_names[i]) == n &&
            !strncmp(vp_trace_mode_names[i], s, n)) {
            o->mode_mask |= 1u << i;
            return 0;
        }
    }
    return -1;
}

int vp_trace_opt_mode(vp_trace_opts *o, const char *v, char *msg, size_t len)
{
    if (each_item(v, mode_item, o) < 0)
        return bad(msg, len, "invalid --trace-mode value '%s' (expected real, "
                   "v86, prot16, prot32, prot, compat or long, "
                   "comma-separated)", v);
    return 0;
}

/* ---- filters ------------------------------------------------------------ */

static bool pass(const vp_trace_out *t, uint64_t lin, unsigned cpl,
                 unsigned mode)
{
    const vp_trace_opts *o = &t->o;
    if (o->cpl_mask && !(o->cpl_mask & (1u << cpl)))
        return false;
    if (o->mode_mask && !(o->mode_mask & (1u << mode)))
        return false;
    if (!o->nranges)
        return true;
    for (int i = 0; i < o->nranges; i++)
        if (lin >= o->range[i].first && lin <= o->range[i].last)
            return true;
    return false;
}

static bool filtering(const vp_trace_out *t)
{
    return t->o.cpl_mask || t->o.mode_mask || t->o.nranges;
}

/* ---- output ------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Every event but "insn": the current CPU's last instruction is what the
 * filters judge (boot and unimp events always pass). */
static void text_event(void *opaque, enum vp_trace_cat cat, const char *msg)
{
    vp_trace_out *t = opaque;
    const vp_cpu *c = t->m ? t->m->current_cpu : NULL;
    if (c && cat != VP_TR_BOOT && cat != VP_TR_UNIMP && filtering(t)) {
        uint64_t lin = c->code_size == 8
                           ? c->insn_rip
                           : (c->seg[S_CS].base + c->insn_rip) & 0xffffffffull;
        if (!pass(t, lin, (unsigned)c->cpl, vp_cpu_mode(c)))
            return;
    }
    if (t->o.format == VP_TRACE_FMT_TEXT) {
        fprintf(t->f, "%s: %s\n", vp_trace_cats[cat].name, msg);
        return;
    }
    fprintf(t->f, "{\"cat\":\"%s\"", vp_trace_cats[cat].name);
    if (c)
        fprintf(t->f, ",\"cpu\":%d,\"icount\":%llu", c->id,
                (unsigned long long)c->icount);
    fputs(",\"msg\":", t->f);
    json_string(t->f, msg);
    fputs("}\n", t->f);
}

/* Disassembles one instruction into buf ("(bad)" when Capstone cannot). */
static void disasm(vp_trace_out *t, const vp_trace_insn *in, char *buf,
                   size_t len, const char **mnem, const char **ops)
{
    int i = in->bits == 16 ? 0 : in->bits == 32 ? 1 : 2;
    static const cs_mode modes[3] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
    *mnem = "(bad)";
    *ops = "";
    if (t->cs_state[i] == 0) {
        t->cs_state[i] = -1;
        if (cs_open(CS_ARCH_X86, modes[i], &t->cs[i]) == CS_ERR_OK) {
            if (t->o.syntax == VP_TRACE_SYN_ATT)
                cs_option(t->cs[i], CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
            t->csi[i] = cs_malloc(t->cs[i]);
            if (t->csi[i])
                t->cs_state[i] = 1;
            else
                cs_close(&t->cs[i]);
        }
    }
    if (t->cs_state[i] < 0) {
        *mnem = "(no disassembler)";
    } else {
        const uint8_t *code = in->bytes;
        size_t size = in->len;
        uint64_t addr = in->rip;
        if (cs_disasm_iter(t->cs[i], &code, &size, &addr, t->csi[i])) {
            *mnem = t->csi[i]->mnemonic;
            *ops = t->csi[i]->op_str;
        }
    }
    snprintf(buf, len, "%s%s%s", *mnem, **ops ? " " : "", *ops);
}

static void insn_event(void *opaque, const vp_trace_insn *in)
{
    vp_trace_out *t = opaque;
    if (!pass(t, in->lin, in->cpl, in->mode))
        return;
    char hex[2 * 15 + 1], text[256];
    const char *mnem, *ops;
    for (unsigned k = 0; k < in->len; k++)
        snprintf(hex + 2 * k, 3, "%02x", in->bytes[k]);
    hex[2 * in->len] = 0;
    disasm(t, in, text, sizeof(text), &mnem, &ops);
    if (t->o.format == VP_TRACE_FMT_TEXT) {
        int w = in->bits == 64 ? 16 : in->bits == 32 ? 8 : 4;
        if (t->m && t->m->ncpus > 1)
            fprintf(t->f, "insn: cpu%d %04x:%0*llx %-6s cpl%u %-20s %s\n",
                    in->cpu, in->cs, w, (unsigned long long)in->rip,
                    vp_trace_mode_names[in->mode], in->cpl, hex, text);
        else
            fprintf(t->f, "insn: %04x:%0*llx %-6s cpl%u %-20s %s\n", in->cs,
                    w, (unsigned long long)in->rip,
                    vp_trace_mode_names[in->mode], in->cpl, hex, text);
        return;
    }
    fprintf(t->f, "{\"cat\":\"insn\",\"cpu\":%d,\"icount\":%llu,"
            "\"cs\":%u,\"rip\":\"%#llx\",\"lin\":\"%#llx\",\"mode\":\"%s\","
            "\"bits\":%u,\"cpl\":%u,\"bytes\":\"%s\",\"asm\":",
            in->cpu, (unsigned long long)in->icount, in->cs,
            (unsigned long long)in->rip, (unsigned long long)in->lin,
            vp_trace_mode_names[in->mode], in->bits, in->cpl, hex);
    json_string(t->f, text);
    fputs(",\"mnemonic\":", t->f);
    json_string(t->f, mnem);
    fputs(",\"operands\":", t->f);
    json_string(t->f, ops);
    fputs("}\n", t->f);
}

vp_trace_out *vp_trace_out_open(const vp_trace_opts *opts, char *msg,
                                size_t len)
{
    vp_trace_out *t = calloc(1, sizeof(*t));
    if (!t) {
        bad(msg, len, "out of memory");
        return NULL;
    }
    t->o = *opts;
    t->f = stderr;
    if (opts->file) {
        t->f = fopen(opts->file, "w");
        if (!t->f) {
            bad(msg, len, "%s: cannot open for writing: %s", opts->file,
                strerror(errno));
            free(t);
            return NULL;
        }
        /* Instruction traces are large: write in big chunks. */
        setvbuf(t->f, NULL, _IOFBF, 1u << 20);
    }
    return t;
}

void vp_trace_out_attach(vp_trace_out *t, vp_tracer *tr)
{
    tr->sink = text_event;
    tr->insn_sink = insn_event;
    tr->opaque = t;
}

void vp_trace_out_set_machine(vp_trace_out *t, const vp_machine *m)
{
    t->m = m;
}

void vp_trace_out_flush(vp_trace_out *t)
{
    fflush(t->f);
}

int vp_trace_out_close(vp_trace_out *t)
{
    if (!t)
        return 0;
    int r = 0;
    for (int i = 0; i < 3; i++) {
        if (t->cs_state[i] > 0) {
            cs_free(t->csi[i], 1);
            cs_close(&t->cs[i]);
        }
    }
    if (fflush(t->f) != 0 || ferror(t->f))
        r = -1;
    if (t->f != stderr && fclose(t->f) != 0)
        r = -1;
    free(t);
    return r;
}
