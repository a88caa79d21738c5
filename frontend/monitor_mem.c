/* x and xp: guest memory in the formats QEMU's and gdb's users know,
 * /NFU with N a count, F one of x d u o c s i, U one of b h w g (defaults
 * 1, x, w). Instructions are disassembled with Capstone in the current
 * CPU's code size (Capstone lives in the frontend only). Memory is read
 * without side effects (emu/debug: MMIO reads as 0xff and is not
 * touched). */
#include "frontend/monitor_internal.h"

#include <capstone.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu/internal.h"
#include "emu/debug/debug.h"

typedef struct xfmt {
    uint64_t count;
    char fmt;           /* x d u o c s i */
    unsigned unit;      /* bytes: 1 2 4 8 */
} xfmt;

static int parse_fmt(mon_ctx *x, const char *f, xfmt *out)
{
    *out = (xfmt){1, 'x', 4};
    if (!f)
        return 0;
    const char *p = f;
    if (isdigit((unsigned char)*p)) {
        char *end;
        out->count = strtoull(p, &end, 10);
        p = end;
    }
    for (; *p; p++) {
        switch (*p) {
        case 'x': case 'd': case 'u': case 'o': case 'c': case 's': case 'i':
            out->fmt = *p;
            if (*p == 'c')
                out->unit = 1;
            break;
        case 'b': out->unit = 1; break;
        case 'h': out->unit = 2; break;
        case 'w': out->unit = 4; break;
        case 'g': out->unit = 8; break;
        default:
            mon_printf(x, "error: bad format '/%s' (N, then x d u o c s i "
                       "and b h w g)\n", f);
            return -1;
        }
    }
    if (out->count == 0 || out->count > 65536) {
        mon_printf(x, "error: count must be 1 to 65536\n");
        return -1;
    }
    return 0;
}

/* Reads guest memory for x (linear) or xp (physical). */
static size_t rd(mon_ctx *x, bool phys, uint64_t a, void *buf, size_t n)
{
    if (phys)
        return vp_debug_read_phys(x->s->m, a, buf, n);
    return vp_debug_read_lin(mon_cpu(x), a, buf, n);
}

static void dump_units(mon_ctx *x, bool phys, uint64_t a, const xfmt *f)
{
    unsigned per_line = f->unit == 8 ? 2 : f->unit == 4 ? 4 : 8;
    for (uint64_t i = 0; i < f->count; i++) {
        uint64_t addr = a + i * f->unit, v = 0;
        if (i % per_line == 0)
            mon_printf(x, "%016llx:", (unsigned long long)addr);
        if (rd(x, phys, addr, &v, f->unit) != f->unit) {
            mon_printf(x, " cannot read %s memory at %#llx\n",
                       phys ? "physical" : "linear (not mapped, or not RAM)",
                       (unsigned long long)addr);
            return;
        }
        unsigned bits = f->unit * 8;
        int64_t sv = bits == 64 ? (int64_t)v
                                : (int64_t)(v << (64 - bits)) >> (64 - bits);
        switch (f->fmt) {
        case 'd': mon_printf(x, " %lld", (long long)sv); break;
        case 'u': mon_printf(x, " %llu", (unsigned long long)v); break;
        case 'o': mon_printf(x, " %#llo", (unsigned long long)v); break;
        case 'c':
            if (isprint((int)v))
                mon_printf(x, " '%c'", (int)v);
            else
                mon_printf(x, " '\\x%02x'", (unsigned)v);
            break;
        default:
            mon_printf(x, " 0x%0*llx", (int)f->unit * 2,
                       (unsigned long long)v);
            break;
        }
        if (i % per_line == per_line - 1 || i + 1 == f->count)
            mon_printf(x, "\n");
    }
}

static void dump_strings(mon_ctx *x, bool phys, uint64_t a, const xfmt *f)
{
    for (uint64_t i = 0; i < f->count; i++) {
        char s[4 * 256 + 1];
        size_t used = 0;
        mon_printf(x, "%016llx: \"", (unsigned long long)a);
        for (int k = 0; k < 256; k++) {
            uint8_t ch;
            if (rd(x, phys, a, &ch, 1) != 1) {
                s[used] = 0;
                mon_printf(x, "%s\" (cannot read %#llx)\n", s,
                           (unsigned long long)a);
                return;
            }
            a++;
            if (!ch)
                break;
            used += (size_t)(isprint(ch) && ch != '"' && ch != '\\'
                                 ? snprintf(s + used, 2, "%c", ch)
                                 : snprintf(s + used, 5, "\\x%02x", ch));
        }
        s[used] = 0;
        mon_printf(x, "%s\"\n", s);
    }
}

/* Disassembles `count` instructions at a (shown as their addresses, which
 * RIP-relative operands are computed from). */
static void disasm(mon_ctx *x, bool phys, uint64_t a, uint64_t count,
                   unsigned code_size)
{
    csh h;
    cs_mode mode = code_size == 8 ? CS_MODE_64
                   : code_size == 4 ? CS_MODE_32 : CS_MODE_16;
    if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK) {
        mon_printf(x, "error: Capstone cannot disassemble\n");
        return;
    }
    cs_insn *insn = cs_malloc(h);
    char sym[160];
    for (uint64_t i = 0; i < count; i++) {
        uint8_t buf[16];
        size_t got = rd(x, phys, a, buf, 15);
        const uint8_t *code = buf;
        size_t size = got;
        uint64_t addr = a;
        if (!got) {
            mon_printf(x, "%016llx: cannot read memory\n",
                       (unsigned long long)a);
            break;
        }
        if (!cs_disasm_iter(h, &code, &size, &addr, insn)) {
            mon_printf(x, "%016llx%s: %02x  (bad)\n", (unsigned long long)a,
                       mon_symbolize(x->s, a, sym, sizeof(sym)), buf[0]);
            a++;
            continue;
        }
        char hex[3 * 16 + 1] = "";
        for (unsigned k = 0; k < insn->size; k++)
            snprintf(hex + 2 * k, 3, "%02x", insn->bytes[k]);
        mon_printf(x, "%016llx%s: %-20s %s %s\n", (unsigned long long)a,
                   mon_symbolize(x->s, a, sym, sizeof(sym)), hex,
                   insn->mnemonic, insn->op_str);
        a += insn->size;
    }
    cs_free(insn, 1);
    cs_close(&h);
}

static void cmd_x_common(mon_ctx *x, bool phys)
{
    xfmt f;
    if (parse_fmt(x, x->fmt, &f) < 0)
        return;
    if (x->argc < 1) {
        mon_printf(x, "usage: %s/NFU ADDR\n", phys ? "xp" : "x");
        return;
    }
    char expr[256] = "";
    size_t used = 0;
    for (int i = 0; i < x->argc; i++)
        used += (size_t)snprintf(expr + used, sizeof(expr) - used, "%s%s",
                                 i ? " " : "", x->argv[i]);
    uint64_t a;
    if (mon_eval(x, expr, &a) < 0)
        return;
    if (f.fmt == 'i')
        disasm(x, phys, a, f.count, (unsigned)mon_cpu(x)->code_size);
    else if (f.fmt == 's')
        dump_strings(x, phys, a, &f);
    else
        dump_units(x, phys, a, &f);
}

void cmd_x(mon_ctx *x)
{
    cmd_x_common(x, false);
}

void cmd_xp(mon_ctx *x)
{
    cmd_x_common(x, true);
}

void mon_print_where(mon_ctx *x, vp_cpu *c)
{
    uint64_t lin = c->code_size == 8
                       ? c->rip
                       : (c->seg[S_CS].base + c->rip) & 0xffffffffull;
    if (x->s->m->ncpus > 1)
        mon_printf(x, "CPU %d: ", c->id);
    if (c->code_size != 8)
        mon_printf(x, "%04x:%llx = ", c->seg[S_CS].sel,
                   (unsigned long long)c->rip);
    int cpu = x->s->cpu;    /* disasm reads through the selected CPU */
    x->s->cpu = c->id;
    disasm(x, false, lin, 1, (unsigned)c->code_size);
    x->s->cpu = cpu;
}
