/* difftest: runs generated instruction sequences natively and in
 * Vanderpool, compares the outcome, and on a mismatch prints a minimised
 * reproducer. See testsuites/difftest/README.md.
 *
 *   difftest [--seed N] [--count N] [--mode 32|64] [--only LIST] ...
 *
 * Exit status: 0 no mismatch, 1 mismatch, 2 usage or harness error. */
#define _GNU_SOURCE
#include "testsuites/difftest/difftest.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const regname64[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

/* Vectors that push an error code (SDM Vol 3A, "Exception and Interrupt
 * Reference"). */
static bool has_errcode(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

static const char *vec_name(int v)
{
    static const char *const n[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?9",
        "#TS", "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM",
        "#VE", "#CP"};
    return v >= 0 && v < 32 && n[v] ? n[v] : "?";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- comparison -------------------------------------------------------- */

enum { MM_END = 1u << 0, MM_VEC = 1u << 1, MM_ERR = 1u << 2,
       MM_CR2 = 1u << 3, MM_RIP = 1u << 4, MM_FLAGS = 1u << 5,
       MM_GPR = 1u << 6, MM_SEG = 1u << 7, MM_MEM = 1u << 8 };

/* The group a RIP lies in (n: the final INT3 or beyond). */
static int group_at(const dt_layout *l, uint64_t rip)
{
    if (rip < DT_CODE)
        return l->n;
    uint64_t off = rip - DT_CODE;
    for (int k = 0; k < l->n; k++)
        if (off >= l->off[k] && off < l->off[k + 1])
            return k;
    return l->n;
}

/* Flags the SDM leaves undefined where the run ended. A fault inside a
 * group may leave the flags as any instruction of the group left them:
 * mask what was undefined before it and what it leaves undefined. The
 * resume flag is set in the image a fault pushes (SDM Vol 3A, "Resume
 * Flag (RF)"), compared like any other bit. */
static uint64_t flags_mask(const dt_layout *l, const dt_result *nat)
{
    int k = group_at(l, nat->rip);
    uint16_t u = l->undef_before[k];
    if (k < l->n)
        u |= l->undef_after[k];
    return ~(uint64_t)u;
}

/* DS/ES as the native side reads them in its signal handler: the kernel
 * returned to user mode to run it, which nulls a null selector's RPL
 * bits on this host (IRET's "segment register ... set to 0" step, SDM
 * Vol 2, "IRET"); the exception found them as the program left them. */
static bool same_sel(uint16_t nat, uint16_t vp)
{
    return nat == vp || (nat == 0 && (vp & ~3) == 0);
}

static uint64_t gpr_mask(int mode, int r)
{
    /* In 32-bit code the upper halves of RAX..RDI are not defined
     * architecturally (SDM Vol 1, "General-Purpose Registers in 64-Bit
     * Mode"); R8-R15 are out of reach and keep their values. */
    return mode == 32 && r < 8 ? 0xffffffffull : ~0ull;
}

static unsigned compare_t(const dt_case *c, const dt_layout *l,
                          const dt_result *a, const dt_result *b)
{
    unsigned mm = 0;
    if (a->end != b->end)
        return MM_END;
    if (a->end != DT_END_EVENT)
        return 0;            /* both crashed or timed out the same way */
    if (a->vector != b->vector)
        mm |= MM_VEC;
    if (has_errcode(a->vector) && a->vector == b->vector) {
        uint32_t em = ~0u;
        /* A user access to the kernel half finds the host kernel's
         * supervisor pages present; Vanderpool maps nothing there. */
        if (a->vector == 14 && a->cr2 >= 0xffff800000000000ull)
            em &= ~1u;
        if ((a->err ^ b->err) & em)
            mm |= MM_ERR;
    }
    if (a->vector == 14 && b->vector == 14 && a->cr2 != b->cr2)
        mm |= MM_CR2;
    uint64_t rm = c->mode == 32 ? 0xffffffffull : ~0ull;
    if ((a->rip & rm) != (b->rip & rm))
        mm |= MM_RIP;
    uint64_t fm = flags_mask(l, a);
    if ((a->rflags ^ b->rflags) & fm)
        mm |= MM_FLAGS;
    for (int r = 0; r < 16; r++)
        if ((a->gpr[r] ^ b->gpr[r]) & gpr_mask(c->mode, r))
            mm |= MM_GPR;
    if (!same_sel(a->ds, b->ds) || !same_sel(a->es, b->es) || a->ss != b->ss)
        mm |= MM_SEG;
    if (memcmp(a->mem, b->mem, DT_MEM_SIZE) != 0)
        mm |= MM_MEM;
    return mm;
}


/* ---- state -------------------------------------------------------------- */

static struct {
    dt_gen_opts gen;
    uint64_t seed;
    uint64_t count;              /* instructions to compare */
    uint64_t programs;           /* or programs to run (0: by count) */
    const char *model;
    bool minimize;
    bool quiet;
    bool verbose;
    bool stats;
    int keep_going;              /* report this many mismatches */
    int64_t replay;              /* program index, -1: campaign */
    const char *keep_list;
    const char *code;            /* --code: hand-written groups */
    uint16_t code_undef;         /* flags left undefined by them */
    int nset;
    struct { int reg; uint64_t val; } set[20]; /* reg 16: rflags */
    const char *argv0;
} opt = {.seed = 1, .count = 200000, .minimize = true, .keep_going = 1,
         .replay = -1};

static dt_prog prog;
static dt_case dcase;
static dt_layout layout;
static dt_result rn_, rv_;
static double t_native, t_vp;

/* Assembles the groups in keep and runs them on both sides. Returns -1
 * when the selection is not a valid program, else the mismatch mask. */

static int run_pair(const bool *keep, dt_result *a, dt_result *b)
{
    if (!dt_assemble(&prog, keep, &dcase, &layout))
        return -1;
    double t0 = now_s();
    dt_native_run(&dcase, a);
    double t1 = now_s();
    dt_vp_run(&dcase, b);
    t_native += t1 - t0;
    t_vp += now_s() - t1;
    if (a->end == DT_END_ERROR || b->end == DT_END_ERROR) {
        fprintf(stderr, "difftest: harness error\n");
        exit(2);
    }
    return (int)compare_t(&dcase, &layout, a, b);
}

/* ---- minimisation (delta debugging over groups) --------------------------- */

static bool still_fails(const bool *keep, unsigned want)
{
    dt_result a, b;
    int mm = run_pair(keep, &a, &b);
    return mm > 0 && ((unsigned)mm & want);
}

static int count_kept(const bool *keep, int n)
{
    int c = 0;
    for (int k = 0; k < n; k++)
        c += keep[k];
    return c;
}

static void minimize(bool *keep, unsigned want)
{
    int n = prog.ngroups;
    int gran = 2;
    bool trial[DT_MAX_GROUPS];
    int idx[DT_MAX_GROUPS];
    for (;;) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (keep[k])
                idx[m++] = k;
        if (m < 2)
            break;
        if (gran > m)
            gran = m;
        bool reduced = false;
        for (int ch = 0; ch < gran && !reduced; ch++) {
            int lo = m * ch / gran, hi = m * (ch + 1) / gran;
            memcpy(trial, keep, sizeof(bool) * (size_t)n);
            for (int j = lo; j < hi; j++)
                trial[idx[j]] = false;
            if (still_fails(trial, want)) {
                memcpy(keep, trial, sizeof(bool) * (size_t)n);
                gran = gran > 2 ? gran - 1 : 2;
                reduced = true;
            }
        }
        if (reduced)
            continue;
        if (gran >= m)
            break;
        gran = gran * 2 < m ? gran * 2 : m;
    }
    /* One last pass removing single groups. */
    for (int k = 0; k < n; k++) {
        if (!keep[k])
            continue;
        keep[k] = false;
        if (!still_fails(keep, want))
            keep[k] = true;
    }
}

/* ---- reporting ------------------------------------------------------------- */

static csh cs_handle[2];
static bool cs_ok[2];

static void disasm_init(void)
{
    cs_ok[0] = cs_open(CS_ARCH_X86, CS_MODE_64, &cs_handle[0]) == CS_ERR_OK;
    cs_ok[1] = cs_open(CS_ARCH_X86, CS_MODE_32, &cs_handle[1]) == CS_ERR_OK;
}

/* Prints the instructions of bytes[0..len) at address addr. */
static void print_insns(FILE *f, int mode, const uint8_t *bytes, size_t len,
                        uint64_t addr, const char *tag, uint64_t mark)
{
    size_t off = 0;
    int h = mode == 32;
    while (off < len) {
        cs_insn *insn = NULL;
        size_t n = cs_ok[h] ? cs_disasm(cs_handle[h], bytes + off, len - off,
                                        addr + off, 1, &insn)
                            : 0;
        size_t il = n ? insn[0].size : len - off;
        char hex[64] = "";
        size_t hp = 0;
        for (size_t j = 0; j < il && hp + 3 < sizeof(hex); j++)
            hp += (size_t)snprintf(hex + hp, sizeof(hex) - hp, "%02x ",
                                   bytes[off + j]);
        fprintf(f, "  %c %08" PRIx64 "  %-42s %s%s%s   %s\n",
                addr + off == mark ? '>' : ' ', addr + off, hex,
                n ? insn[0].mnemonic : "(bad)", n ? " " : "",
                n ? insn[0].op_str : "", off == 0 ? tag : "");
        if (n)
            cs_free(insn, n);
        off += il;
    }
}

static void print_result_line(FILE *f, const char *who, const dt_result *r)
{
    static const char *const ends[] = {"event", "worker crash", "timeout",
                                       "triple fault", "harness error"};
    if (r->end != DT_END_EVENT) {
        fprintf(f, "  %-10s %s", who, ends[r->end]);
        if (r->end == DT_END_CRASH)
            fprintf(f, " (signal %d)", r->vector);
        fprintf(f, "\n");
        return;
    }
    fprintf(f, "  %-10s %s (vector %d)", who, vec_name(r->vector), r->vector);
    if (has_errcode(r->vector))
        fprintf(f, " error %#x", r->err);
    if (r->vector == 14)
        fprintf(f, " cr2 %#" PRIx64, r->cr2);
    fprintf(f, " at rip %#" PRIx64 "\n", r->rip);
}

static void print_diff(FILE *f, const dt_case *c, const dt_layout *l,
                       const dt_result *a, const dt_result *b)
{
    fprintf(f, "outcome:\n");
    print_result_line(f, "native", a);
    print_result_line(f, "vanderpool", b);
    if (a->end != DT_END_EVENT || b->end != DT_END_EVENT)
        return;
    fprintf(f, "differences (native | vanderpool):\n");
    uint64_t fm = flags_mask(l, a);
    if ((a->rflags ^ b->rflags) & fm)
        fprintf(f, "  rflags  %#" PRIx64 " | %#" PRIx64
                   "   (differ in %#" PRIx64 "; undefined here: %#" PRIx64 ")\n",
                a->rflags, b->rflags, (a->rflags ^ b->rflags) & fm,
                ~fm & 0xfff);
    for (int r = 0; r < 16; r++) {
        uint64_t m = gpr_mask(c->mode, r);
        if ((a->gpr[r] ^ b->gpr[r]) & m)
            fprintf(f, "  %-6s  %#018" PRIx64 " | %#018" PRIx64 "\n",
                    regname64[r], a->gpr[r], b->gpr[r]);
    }
    if ((a->rip ^ b->rip) & (c->mode == 32 ? 0xffffffffull : ~0ull))
        fprintf(f, "  rip     %#" PRIx64 " | %#" PRIx64 "\n", a->rip, b->rip);
    if (!same_sel(a->ds, b->ds) || !same_sel(a->es, b->es) || a->ss != b->ss)
        fprintf(f, "  ds/es/ss %#x/%#x/%#x | %#x/%#x/%#x\n", a->ds, a->es,
                a->ss, b->ds, b->es, b->ss);
    int shown = 0;
    for (unsigned o = 0; o < DT_MEM_SIZE && shown < 8;) {
        if (a->mem[o] == b->mem[o]) {
            o++;
            continue;
        }
        unsigned s = o & ~15u;
        fprintf(f, "  mem %#x:", DT_DATA + s);
        for (unsigned j = s; j < s + 16; j++)
            fprintf(f, "%s%02x", a->mem[j] != b->mem[j] ? "*" : " ", a->mem[j]);
        fprintf(f, "\n  %*s|", 14, "");
        for (unsigned j = s; j < s + 16; j++)
            fprintf(f, "%s%02x", a->mem[j] != b->mem[j] ? "*" : " ", b->mem[j]);
        fprintf(f, "\n");
        o = s + 16;
        shown++;
    }
    if (shown == 8)
        fprintf(f, "  (more memory differences)\n");
}

static void report(bool *keep, unsigned mm)
{
    int n0 = prog.ngroups;
    if (opt.minimize)
        minimize(keep, mm);
    dt_result a, b;
    int mm2 = run_pair(keep, &a, &b);
    FILE *f = stdout;
    int last = -1;
    for (int k = 0; k < n0; k++)
        if (keep[k])
            last = k;
    fprintf(f, "\ndifftest: MISMATCH seed %" PRIu64 " program %" PRIu64
               " (%d-bit, model %s) last group: %s\n",
            prog.seed, prog.index, prog.mode, opt.model,
            last < 0 ? "-" : prog.g[last].tmpl == 0xffff
                                 ? "code" : dt_tmpl_name(prog.g[last].tmpl));
    if (mm2 <= 0) {
        fprintf(f, "  (the minimised program no longer fails; showing the "
                   "whole program)\n");
        for (int k = 0; k < n0; k++)
            keep[k] = true;
        run_pair(keep, &a, &b);
    }
    fprintf(f, "replay: %s --seed %" PRIu64 " --replay %" PRIu64, opt.argv0,
            prog.seed, prog.index);
    if (opt.code) {
        fprintf(f, " --code '%s'", opt.code);
        for (int k = 0; k < opt.nset; k++)
            fprintf(f, " --set %s=%#" PRIx64,
                    opt.set[k].reg == 16 ? "rflags" : regname64[opt.set[k].reg],
                    opt.set[k].val);
        if (opt.code_undef)
            fprintf(f, " --undef-flags %#x", opt.code_undef);
    }
    if (opt.gen.mode)
        fprintf(f, " --mode %d", opt.gen.mode);
    if (opt.gen.only)
        fprintf(f, " --only '%s'", opt.gen.only);
    if (opt.gen.all)
        fprintf(f, " --all");
    if (opt.gen.max_groups)
        fprintf(f, " --groups %d", opt.gen.max_groups);
    int kept = count_kept(keep, n0);
    if (kept < n0) {
        fprintf(f, " --keep ");
        bool first = true;
        for (int k = 0; k < n0; k++)
            if (keep[k]) {
                fprintf(f, "%s%d", first ? "" : ",", k);
                first = false;
            }
    }
    fprintf(f, " --model %s\n", opt.model);
    fprintf(f, "program (%d of %d groups; '>' marks where native stopped):\n",
            kept, n0);
    for (int k = 0; k < layout.n; k++) {
        const dt_group *g = &prog.g[layout.gidx[k]];
        char tag[48];
        snprintf(tag, sizeof(tag), "[%s #%d]",
                 g->tmpl == 0xffff ? "code" : dt_tmpl_name(g->tmpl),
                 layout.gidx[k]);
        print_insns(f, prog.mode, dcase.code + layout.off[k], g->len,
                    DT_CODE + layout.off[k], tag, a.rip);
    }
    print_insns(f, prog.mode, dcase.code + layout.off[layout.n], 1,
                DT_CODE + layout.off[layout.n], "[end]", a.rip);
    fprintf(f, "initial state:\n ");
    for (int r = 0; r < 16; r++) {
        if (prog.mode == 32 && r < 8)
            fprintf(f, " e%s=%#010" PRIx64, regname64[r] + 1, prog.gpr[r]);
        else
            fprintf(f, " %s=%#" PRIx64, regname64[r], prog.gpr[r]);
        if (r % 4 == 3)
            fprintf(f, "\n ");
    }
    fprintf(f, " rflags=%#" PRIx64 "  (data: %#x-%#x from the seed; "
               "read-only page %#x)\n",
            prog.rflags, DT_DATA, DT_DATA + DT_DATA_SIZE - 1, DT_RO);
    print_diff(f, &dcase, &layout, &a, &b);
    fflush(f);
}

/* ---- hand-written programs ----------------------------------------------------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Replaces the program's groups by the --code bytes (keeping its initial
 * registers, flags and data, then applying --set). */
static bool code_program(const char *hex)
{
    prog.ngroups = 0;
    dt_group *g = NULL;
    for (const char *p = hex;; p++) {
        if (!g) {
            if (prog.ngroups >= DT_MAX_GROUPS)
                break;
            g = &prog.g[prog.ngroups++];
            memset(g, 0, sizeof(*g));
            g->tmpl = 0xffff;
            g->ninsn = 1;
            g->def = DF_ALL & ~opt.code_undef;
            g->undef = opt.code_undef;
        }
        if (*p == ',' || *p == 0) {
            if (g->len == 0) {
                fprintf(stderr, "difftest: empty group in --code\n");
                return false;
            }
            g = NULL;
            if (*p == 0)
                break;
            continue;
        }
        if (*p == ' ' || *p == ':')
            continue;
        int hi = hexval(p[0]), lo = p[1] ? hexval(p[1]) : -1;
        if (hi < 0 || lo < 0 || g->len >= DT_GROUP_BYTES) {
            fprintf(stderr, "difftest: bad --code bytes near '%s'\n", p);
            return false;
        }
        g->bytes[g->len++] = (uint8_t)(hi << 4 | lo);
        p++;
    }
    prog.mode = opt.gen.mode ? opt.gen.mode : 64;
    for (int k = 0; k < opt.nset; k++) {
        if (opt.set[k].reg == 16)
            prog.rflags = opt.set[k].val;
        else
            prog.gpr[opt.set[k].reg] = opt.set[k].val;
    }
    return true;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: difftest [options]\n"
        "  --seed N        campaign seed (default 1)\n"
        "  --count N       compare at least N instructions (default 200000)\n"
        "  --programs N    run N programs instead\n"
        "  --mode 32|64    only this mode (default: both, 64-bit mostly)\n"
        "  --only LIST     only these templates (comma-separated, 'x*' prefix)\n"
        "  --all           include templates that are off by default\n"
        "  --groups N      at most N groups per program (default 48)\n"
        "  --model NAME    Vanderpool CPU model (default: by host vendor)\n"
        "  --keep-going N  report up to N mismatches (default 1)\n"
        "  --no-minimize   report the whole failing program\n"
        "  --replay I      run program I of the seed only (with --keep LIST)\n"
        "  --code HEX,...  run these bytes instead (a comma starts a new group),\n"
        "                  from the initial state of --replay I (default 0)\n"
        "  --set REG=V     initial value of a register (or rflags) for them\n"
        "  --undef-flags M flags the --code bytes leave undefined\n"
        "  --list          list the templates\n"
        "  --stats         print how programs ended and groups per template\n"
        "  -q, --quiet     print only mismatches and the summary\n"
        "  -v, --verbose   print every program\n");
}

static uint64_t num(const char *s, const char *what)
{
    char *e;
    errno = 0;
    uint64_t v = strtoull(s, &e, 0);
    if (errno || *e || e == s) {
        fprintf(stderr, "difftest: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    opt.argv0 = argv[0];
    bool list = false;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        const char *v = k + 1 < argc ? argv[k + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && (v || (fprintf(stderr, \
        "difftest: %s needs a value\n", name), exit(2), 0)) && ++k)
        if (ARG("--seed"))
            opt.seed = num(v, "seed");
        else if (ARG("--count"))
            opt.count = num(v, "count");
        else if (ARG("--programs"))
            opt.programs = num(v, "program count");
        else if (ARG("--mode")) {
            opt.gen.mode = (int)num(v, "mode");
            if (opt.gen.mode != 32 && opt.gen.mode != 64) {
                fprintf(stderr, "difftest: --mode is 32 or 64\n");
                return 2;
            }
        } else if (ARG("--only"))
            opt.gen.only = v;
        else if (ARG("--groups"))
            opt.gen.max_groups = (int)num(v, "group count");
        else if (ARG("--model"))
            opt.model = v;
        else if (ARG("--keep-going"))
            opt.keep_going = (int)num(v, "mismatch count");
        else if (ARG("--replay"))
            opt.replay = (int64_t)num(v, "program index");
        else if (ARG("--keep"))
            opt.keep_list = v;
        else if (ARG("--code"))
            opt.code = v;
        else if (ARG("--undef-flags"))
            opt.code_undef = (uint16_t)num(v, "flag mask");
        else if (ARG("--set")) {
            const char *eq = strchr(v, '=');
            int r = -1;
            for (int j = 0; j < 16 && eq; j++)
                if (strlen(regname64[j]) == (size_t)(eq - v) &&
                    strncmp(v, regname64[j], (size_t)(eq - v)) == 0)
                    r = j;
            if (eq && strncmp(v, "rflags=", 7) == 0)
                r = 16;
            if (r < 0 || opt.nset >= 20) {
                fprintf(stderr, "difftest: bad --set '%s' (reg=value)\n", v);
                return 2;
            }
            opt.set[opt.nset].reg = r;
            opt.set[opt.nset++].val = num(eq + 1, "register value");
        }
        else if (strcmp(a, "--all") == 0)
            opt.gen.all = true;
        else if (strcmp(a, "--no-minimize") == 0)
            opt.minimize = false;
        else if (strcmp(a, "--list") == 0)
            list = true;
        else if (strcmp(a, "--stats") == 0)
            opt.stats = true;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            opt.quiet = true;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            opt.verbose = true;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "difftest: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef ARG
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!opt.model)
        opt.model = dt_native_is_amd() ? "vp-amd" : "vp-intel";
    if (dt_vp_start(opt.model) != 0)
        return 2;
    unsigned feats = dt_native_features() & dt_vp_features();
    dt_set_features(feats);
    if (list) {
        dt_list_templates();
        return 0;
    }
    if (dt_native_start() != 0)
        return 2;
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer maps its shadow of low memory at 0x7fff8000-
     * 0x8fff6fff: natively, accesses there succeed instead of faulting. */
    printf("difftest: built with AddressSanitizer: its shadow memory in the "
           "low 4 GiB can make wild native accesses succeed (false "
           "mismatches); use it to check Vanderpool's side only\n");
#endif
    bool has32 = dt_native_has32();
    if (!has32) {
        if (opt.gen.mode == 32) {
            fprintf(stderr, "difftest: this host cannot run 32-bit user code "
                            "(no ia32 emulation): --mode 32 is impossible\n");
            return 2;
        }
        opt.gen.mode = 64;
        if (!opt.quiet)
            printf("difftest: host has no 32-bit user code segment (ia32 "
                   "emulation off): 64-bit only\n");
    }
    disasm_init();
    if (!opt.quiet) {
        printf("difftest: seed %" PRIu64 ", model %s, modes %s, features:",
               opt.seed, opt.model,
               opt.gen.mode ? (opt.gen.mode == 64 ? "64" : "32")
                            : opt.code ? "64" : "64+32");
        for (int f = 1; f < DT_F_COUNT; f++)
            if (feats >> f & 1)
                printf(" %s", dt_feature_name(f));
        printf("\n");
    }

    bool keep[DT_MAX_GROUPS];
    if (opt.code && opt.replay < 0)
        opt.replay = 0;
    if (opt.replay >= 0) {
        dt_generate(&prog, opt.seed, (uint64_t)opt.replay, &opt.gen);
        if (opt.code && !code_program(opt.code))
            return 2;
        for (int k = 0; k < prog.ngroups; k++)
            keep[k] = opt.keep_list == NULL;
        if (opt.keep_list) {
            const char *s = opt.keep_list;
            while (*s) {
                char *e;
                long k = strtol(s, &e, 10);
                if (e == s || k < 0 || k >= prog.ngroups) {
                    fprintf(stderr, "difftest: bad --keep list\n");
                    return 2;
                }
                keep[k] = true;
                s = *e == ',' ? e + 1 : e;
            }
        }
        dt_result a, b;
        int mm = run_pair(keep, &a, &b);
        if (mm < 0) {
            fprintf(stderr, "difftest: that selection reads undefined flags\n");
            return 2;
        }
        opt.minimize = false;
        if (mm > 0) {
            report(keep, (unsigned)mm);
            return 1;
        }
        printf("difftest: program %" PRIu64 " matches\n", opt.replay);
        return 0;
    }

    uint64_t insns = 0, groups = 0, programs = 0, faults = 0;
    int mismatches = 0;
    uint64_t vec_count[33] = {0};
    uint64_t *tmpl_runs = calloc(dt_tmpl_count(), sizeof(uint64_t));
    double t0 = now_s();
    double last = t0;
    for (uint64_t idx = 0;; idx++) {
        if (opt.programs ? programs >= opt.programs : insns >= opt.count)
            break;
        dt_generate(&prog, opt.seed, idx, &opt.gen);
        if (prog.ngroups == 0) {
            fprintf(stderr, "difftest: no template matches\n");
            return 2;
        }
        for (int k = 0; k < prog.ngroups; k++)
            keep[k] = true;
        int mm = run_pair(keep, &rn_, &rv_);
        if (mm < 0) {
            fprintf(stderr, "difftest: generator bug: program %" PRIu64
                            " reads undefined flags\n", idx);
            return 2;
        }
        programs++;
        int gk = group_at(&layout, rn_.rip);
        if (rn_.end == DT_END_EVENT && rn_.vector != 3)
            faults++;
        if (rn_.end == DT_END_EVENT)
            vec_count[rn_.vector >= 0 && rn_.vector < 32 ? rn_.vector : 32]++;
        insns += layout.ninsn_before[gk];
        groups += (uint64_t)gk;
        for (int k = 0; k < gk; k++)
            tmpl_runs[prog.g[layout.gidx[k]].tmpl]++;
        if (opt.verbose) {
            printf("program %" PRIu64 ": %d-bit, %d groups, ended in group %d"
                   " (%s) by %s\n", idx, prog.mode, prog.ngroups, gk,
                   gk < layout.n ? dt_tmpl_name(prog.g[layout.gidx[gk]].tmpl)
                                 : "end",
                   vec_name(rn_.vector));
        }
        if (mm > 0) {
            report(keep, (unsigned)mm);
            if (++mismatches >= opt.keep_going)
                break;
        }
        double t = now_s();
        if (!opt.quiet && t - last >= 5.0) {
            printf("difftest: %" PRIu64 " programs, %" PRIu64
                   " instructions, %.0f/s\n",
                   programs, insns, (double)insns / (t - t0));
            last = t;
        }
    }
    double dt = now_s() - t0;
    printf("difftest: %s: seed %" PRIu64 ", %" PRIu64 " programs, %" PRIu64
           " instructions compared (%" PRIu64 " under test), %" PRIu64
           " ended by a fault; %.1f s, %.0f instructions/s (native %.1f s, "
           "vanderpool %.1f s)\n",
           mismatches ? "FAIL" : "ok", opt.seed, programs, insns, groups,
           faults, dt, dt > 0 ? (double)insns / dt : 0.0, t_native, t_vp);
    if (opt.verbose || opt.stats) {
        printf("programs ended by:");
        for (int v = 0; v < 33; v++)
            if (vec_count[v])
                printf(" %s %" PRIu64, v < 32 ? vec_name(v) : "other",
                       vec_count[v]);
        printf("\ngroups run to completion, by template:\n");
        for (unsigned t = 0; t < dt_tmpl_count(); t++)
            if (tmpl_runs[t])
                printf("  %-14s %" PRIu64 "\n", dt_tmpl_name(t), tmpl_runs[t]);
    }
    free(tmpl_runs);
    dt_native_stop();
    dt_vp_stop();
    return mismatches ? 1 : 0;
}
