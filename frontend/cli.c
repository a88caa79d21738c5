/* Option parsing for `vanderpool run`. Long options take `--name VALUE` or
 * `--name=VALUE`; QEMU's single-dash spellings (-kernel, -append, -serial,
 * -initrd, -m, -smp) work too, as does any long option with one dash. */
#include "frontend/cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu/internal.h"

#define DEFAULT_MEM (256ull << 20)
#define MAX_MEM (1ull << 40)

enum {
    O_MEM, O_CPU, O_SMP, O_SERIAL, O_DEBUGCON, O_APPEND, O_MODULE, O_INITRD,
    O_KERNEL, O_MAX_INSNS, O_TIMEOUT, O_REALTIME, O_NO_REBOOT, O_RESET_TF,
    O_TRACE, O_TRACE_FILE, O_TRACE_FORMAT, O_TRACE_SYNTAX, O_TRACE_RANGE,
    O_TRACE_CPL, O_TRACE_MODE, O_STATS, O_STATS_JSON, O_MONITOR, O_GDB, O_GDB_DEFAULT,
    O_START_STOPPED, O_VERSION, O_HELP,
};

static const struct opt {
    const char *name;
    char shortc;
    bool arg;
    int id;
} opts[] = {
    {"mem", 'm', true, O_MEM},
    {"cpu", 0, true, O_CPU},
    {"smp", 0, true, O_SMP},
    {"serial", 0, true, O_SERIAL},
    {"debugcon", 0, true, O_DEBUGCON},
    {"append", 0, true, O_APPEND},
    {"module", 0, true, O_MODULE},
    {"initrd", 0, true, O_INITRD},
    {"kernel", 0, true, O_KERNEL},
    {"max-insns", 0, true, O_MAX_INSNS},
    {"timeout", 0, true, O_TIMEOUT},
    {"realtime", 0, false, O_REALTIME},
    {"no-reboot", 0, false, O_NO_REBOOT},
    {"reset-on-triple-fault", 0, false, O_RESET_TF},
    {"trace", 0, true, O_TRACE},
    {"trace-file", 0, true, O_TRACE_FILE},
    {"trace-format", 0, true, O_TRACE_FORMAT},
    {"trace-syntax", 0, true, O_TRACE_SYNTAX},
    {"trace-range", 0, true, O_TRACE_RANGE},
    {"trace-cpl", 0, true, O_TRACE_CPL},
    {"trace-mode", 0, true, O_TRACE_MODE},
    {"stats", 0, false, O_STATS},
    {"stats-json", 0, true, O_STATS_JSON},
    {"monitor", 0, true, O_MONITOR},
    {"gdb", 0, true, O_GDB},
    {"gdb-default", 's', false, O_GDB_DEFAULT},
    {"start-stopped", 'S', false, O_START_STOPPED},
    {"version", 0, false, O_VERSION},
    {"help", 'h', false, O_HELP},
};

void vp_cli_help(FILE *out)
{
    fputs(
"Usage: vanderpool run [OPTIONS] IMAGE\n"
"       vanderpool --help | --version\n"
"\n"
"Runs IMAGE on an emulated x86-64 PC. IMAGE is a Multiboot 1 kernel (ELF32,\n"
"or any file with the header's address fields), a Multiboot 2 kernel (ELF32,\n"
"ELF64 or the address tag), or a plain x86-64 ELF64 executable, which is\n"
"entered in 64-bit mode. See docs/usage.md.\n"
"\n"
"Machine:\n"
"  -m, --mem SIZE           RAM size: a number with K, M, G or T suffix; a\n"
"                           bare number is MiB (default 256M)\n"
"      --cpu MODEL          CPU model (`--cpu help` lists them)\n"
"      --smp N              number of CPUs (default 1)\n"
"\n"
"Boot:\n"
"      --append STR         kernel command line (also -append)\n"
"      --module FILE[,ARGS] load a Multiboot module with command line ARGS;\n"
"                           repeat for more (also -initrd 'FILE ARGS')\n"
"      -kernel FILE         the boot image (instead of IMAGE)\n"
"\n"
"Devices (DEV is stdio, file:PATH, null or none):\n"
"      --serial DEV         first use: COM1, second use: COM2\n"
"                           (default: COM1 on stdio; stdin feeds its input)\n"
"      --debugcon DEV       port 0xE9 debug console (default none)\n"
"\n"
"Run control:\n"
"      --max-insns N        stop after N instructions\n"
"      --timeout SECONDS    stop after SECONDS of host time (e.g. 10, 0.5)\n"
"      --realtime           pace virtual time with the host clock\n"
"      --no-reboot          a guest reset stops the emulator (status 0)\n"
"      --reset-on-triple-fault\n"
"                           a triple fault resets the machine instead of\n"
"                           stopping it\n"
"\n"
"Tracing:\n"
"      --trace CATS         comma-separated trace categories, or all\n"
"                           (`--trace help` lists them)\n"
"      --trace-file PATH    write trace lines there instead of stderr\n"
"      --trace-format FMT   text (default) or json (JSON Lines)\n"
"      --trace-syntax SYN   disassembly syntax: intel (default) or att\n"
"      --trace-range R      only events at linear addresses in R: START-END\n"
"                           (inclusive) or START+LENGTH; repeatable\n"
"      --trace-cpl N        only events at CPL N (0-3, comma-separated)\n"
"      --trace-mode M       only events in mode M: real, v86, prot16,\n"
"                           prot32, prot, compat, long (comma-separated)\n"
"\n"
"Statistics (docs/inspect.md):\n"
"      --stats              print run statistics on stderr at exit\n"
"      --stats-json FILE    write them to FILE as JSON at exit\n"
"\n"
"Debugging (docs/inspect.md):\n"
"      --monitor DEV        the monitor on stdio or unix:PATH (a socket)\n"
"      --gdb DEV            gdbstub on tcp::PORT, tcp:HOST:PORT or :PORT\n"
"                           (host default 127.0.0.1; port 0: any free one)\n"
"  -s                       same as --gdb tcp::1234\n"
"  -S, --start-stopped      do not run until the monitor or gdb says so\n"
"\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"Exit status:\n"
"  odd     the guest wrote V to isa-debug-exit (port 0xF4): (V << 1) | 1\n"
"  0       the guest asked for a reset and --no-reboot was given\n"
"  2       usage error (unknown option, bad value)\n"
"  4       the image or a module could not be loaded, or an emulator error\n"
"  6       triple fault (shutdown)\n"
"  8       --timeout expired\n"
"  10      --max-insns reached\n"
"  12      every CPU halted with nothing left to wake it\n"
"  128+N   stopped by signal N (Ctrl-C: 130)\n"
"Unless the guest ended the run through isa-debug-exit, one line on stderr\n"
"says why the run stopped.\n",
        out);
}

static int problem(char *msg, size_t len, const char *fmt, ...)
    VP_PRINTF(3, 4);
static int problem(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

int vp_cli_parse_size(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 20;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        case 'B': shift = 0; break;
        default: return -1;
        }
        if (toupper((unsigned char)*end) != 'B') {
            end++;
            if (*end == 'i')
                end++;
            if (*end == 'B')
                end++;
        } else {
            end++;
        }
        if (*end)
            return -1;
    }
    if (v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static const struct opt *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < VP_ARRAY_SIZE(opts); i++)
        if (strlen(opts[i].name) == n && !strncmp(opts[i].name, name, n))
            return &opts[i];
    return NULL;
}

static const struct opt *find_short(char c)
{
    for (size_t i = 0; i < VP_ARRAY_SIZE(opts); i++)
        if (opts[i].shortc && opts[i].shortc == c)
            return &opts[i];
    return NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int add_module(vp_cli *cli, const char *path, size_t plen,
                      const char *args, const char *spelled, char *msg,
                      size_t len)
{
    if (plen == 0)
        return problem(msg, len, "%s needs a file name", spelled);
    if (cli->cfg.nmodules >= VP_MAX_MODULES)
        return problem(msg, len, "too many modules (at most %d)",
                       VP_MAX_MODULES);
    char *p = dup_n(path, plen);
    if (!p)
        return problem(msg, len, "out of memory");
    cli->cfg.modules[cli->cfg.nmodules].path = p;
    cli->cfg.modules[cli->cfg.nmodules].cmdline = args;
    cli->cfg.nmodules++;
    return 0;
}

static int apply(vp_cli *cli, const struct opt *o, const char *spelled,
                 const char *v, char *msg, size_t len)
{
    vp_config *cfg = &cli->cfg;
    uint64_t n;
    switch (o->id) {
    case O_MEM:
        if (vp_cli_parse_size(v, &n) < 0)
            return problem(msg, len, "invalid %s value '%s' (expected a size "
                           "like 512M or 2G)", spelled, v);
        if (n < (2ull << 20))
            return problem(msg, len, "%s %s is too small (at least 2M)",
                           spelled, v);
        if (n > MAX_MEM)
            return problem(msg, len, "%s %s is too large (at most 1T)",
                           spelled, v);
        if (n & 4095)
            return problem(msg, len, "%s %s is not a multiple of 4K",
                           spelled, v);
        cfg->ram_size = n;
        return 0;
    case O_CPU:
        if (!strcmp(v, "help")) {
            cli->cpu_help = true;
            return 0;
        }
        if (!vp_cpu_model_find(v))
            return problem(msg, len, "unknown CPU model '%s' (see --cpu "
                           "help)", v);
        cfg->cpu_model = v;
        return 0;
    case O_SMP:
        if (parse_u64(v, &n) < 0 || n < 1 || n > VP_MAX_CPUS)
            return problem(msg, len, "invalid %s value '%s' (expected 1 to "
                           "%d)", spelled, v, VP_MAX_CPUS);
        cfg->ncpus = (int)n;
        return 0;
    case O_SERIAL:
        if (cli->nserial >= 2)
            return problem(msg, len, "too many %s options (COM1 and COM2 "
                           "only)", spelled);
        if (cdev_parse(v, &cli->serial[cli->nserial]) < 0)
            return problem(msg, len, "invalid %s device '%s' (expected stdio, "
                           "file:PATH, null or none)", spelled, v);
        cli->nserial++;
        return 0;
    case O_DEBUGCON:
        if (cdev_parse(v, &cli->debugcon) < 0)
            return problem(msg, len, "invalid %s device '%s' (expected stdio, "
                           "file:PATH, null or none)", spelled, v);
        return 0;
    case O_APPEND:
        cfg->cmdline = v;
        return 0;
    case O_MODULE: {
        const char *comma = strchr(v, ',');
        size_t plen = comma ? (size_t)(comma - v) : strlen(v);
        return add_module(cli, v, plen, comma ? comma + 1 : "", spelled, msg,
                          len);
    }
    case O_INITRD: {
        /* QEMU's form: the file name, then its arguments after a space. */
        const char *sp = strchr(v, ' ');
        size_t plen = sp ? (size_t)(sp - v) : strlen(v);
        const char *args = sp ? sp + 1 : "";
        while (*args == ' ')
            args++;
        return add_module(cli, v, plen, args, spelled, msg, len);
    }
    case O_KERNEL:
        if (cfg->kernel)
            return problem(msg, len, "more than one boot image: '%s' and "
                           "'%s'", cfg->kernel, v);
        cfg->kernel = v;
        return 0;
    case O_MAX_INSNS:
        if (parse_u64(v, &n) < 0 || n == 0)
            return problem(msg, len, "invalid %s value '%s' (expected a "
                           "positive instruction count)", spelled, v);
        cfg->max_insns = n;
        return 0;
    case O_TIMEOUT: {
        char *end;
        errno = 0;
        double s = strtod(v, &end);
        if (!v[0] || *end || errno || !isfinite(s) || s < 0 || s > 1e9 ||
            !(isdigit((unsigned char)v[0]) || v[0] == '.'))
            return problem(msg, len, "invalid %s value '%s' (expected "
                           "seconds, e.g. 10 or 0.5)", spelled, v);
        cfg->timeout_ms = (uint64_t)ceil(s * 1000.0);
        return 0;
    }
    case O_REALTIME:
        cfg->realtime = true;
        return 0;
    case O_NO_REBOOT:
        cfg->no_reboot = true;
        return 0;
    case O_RESET_TF:
        cfg->reset_on_triple_fault = true;
        return 0;
    case O_TRACE: {
        if (!strcmp(v, "help")) {
            cli->trace_help = true;
            return 0;
        }
        uint32_t mask;
        const char *bad;
        size_t badlen;
        if (!v[0] || vp_trace_parse(v, &mask, &bad, &badlen) < 0) {
            if (!v[0])
                return problem(msg, len, "%s needs at least one category "
                               "(see --trace help)", spelled);
            return problem(msg, len, "unknown trace category '%.*s' (see "
                           "--trace help)", (int)badlen, bad);
        }
        cli->trace_mask |= mask;
        return 0;
    }
    case O_TRACE_FILE:
        if (!v[0])
            return problem(msg, len, "%s needs a file name", spelled);
        cli->trace_file = v;
        return 0;
    case O_TRACE_FORMAT:
        return vp_trace_opt_format(&cli->trace, v, msg, len);
    case O_TRACE_SYNTAX:
        return vp_trace_opt_syntax(&cli->trace, v, msg, len);
    case O_TRACE_RANGE:
        return vp_trace_opt_range(&cli->trace, v, msg, len);
    case O_TRACE_CPL:
        return vp_trace_opt_cpl(&cli->trace, v, msg, len);
    case O_TRACE_MODE:
        return vp_trace_opt_mode(&cli->trace, v, msg, len);
    case O_STATS:
        cli->stats = true;
        return 0;
    case O_STATS_JSON:
        if (!v[0])
            return problem(msg, len, "%s needs a file name", spelled);
        cli->stats_json = v;
        return 0;
    case O_MONITOR:
        return vp_monitor_opt_monitor(&cli->debug, v, msg, len);
    case O_GDB:
        return vp_monitor_opt_gdb(&cli->debug, v, msg, len);
    case O_GDB_DEFAULT:
        return vp_monitor_opt_gdb(&cli->debug, "tcp::1234", msg, len);
    case O_START_STOPPED:
        cli->debug.start_stopped = true;
        return 0;
    case O_VERSION:
        cli->version = true;
        return 0;
    case O_HELP:
        cli->help = true;
        return 0;
    }
    return 0;
}

void vp_cli_free(vp_cli *cli)
{
    for (int i = 0; i < cli->cfg.nmodules; i++)
        free((char *)cli->cfg.modules[i].path);
    cli->cfg.nmodules = 0;
}

int vp_cli_parse(int argc, char **argv, vp_cli *cli, char *msg, size_t msglen)
{
    memset(cli, 0, sizeof(*cli));
    cli->cfg.ram_size = DEFAULT_MEM;
    cli->cfg.ncpus = 1;
    cli->debugcon.kind = CDEV_NONE;
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || !a[1]) {
            if (cli->cfg.kernel)
                return problem(msg, msglen, "more than one boot image: '%s' "
                               "and '%s'", cli->cfg.kernel, a);
            cli->cfg.kernel = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            opts_done = true;
            continue;
        }
        const char *name = a[1] == '-' ? a + 2 : a + 1;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = nlen == 1 && a[1] != '-' ? find_short(name[0])
                                                       : find_long(name, nlen);
        if (!o || (nlen == 1 && a[1] == '-'))
            return problem(msg, msglen, "unknown option '%.*s'",
                           (int)(name - a + nlen), a);
        char spelled[64];
        snprintf(spelled, sizeof(spelled), "%.*s", (int)(name - a + nlen), a);
        const char *v = NULL;
        if (o->arg) {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return problem(msg, msglen, "option '%s' needs a value",
                               spelled);
        } else if (eq) {
            return problem(msg, msglen, "option '%s' takes no value",
                           spelled);
        }
        if (apply(cli, o, spelled, v, msg, msglen) < 0)
            return -1;
        if (cli->help || cli->version || cli->cpu_help || cli->trace_help)
            return 0;
    }
    if (!cli->cfg.kernel)
        return problem(msg, msglen, "no boot image given (vanderpool run "
                       "[OPTIONS] IMAGE)");
    if (vp_monitor_opts_check(&cli->debug, msg, msglen) < 0)
        return -1;
    if (cli->nserial == 0) {
        cli->serial[0].kind = CDEV_STDIO;
        cli->nserial = 1;
    }
    return 0;
}
