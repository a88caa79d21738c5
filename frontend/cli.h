/* The `vanderpool run` command line: options to a machine configuration. */
#ifndef VP_FRONTEND_CLI_H
#define VP_FRONTEND_CLI_H

#include "emu/machine.h"
#include "frontend/chardev.h"
#include "frontend/monitor.h"
#include "frontend/trace_sink.h"

/* Exit statuses (docs/usage.md, "Exit status"). A guest's isa-debug-exit
 * write of v gives (v << 1) | 1, always odd. */
enum {
    VP_EXIT_RESET = 0,        /* guest reset with --no-reboot */
    VP_EXIT_USAGE = 2,
    VP_EXIT_ERROR = 4,        /* load or emulator error */
    VP_EXIT_TRIPLE_FAULT = 6,
    VP_EXIT_TIMEOUT = 8,
    VP_EXIT_INSN_LIMIT = 10,
    VP_EXIT_HALTED = 12,
    VP_EXIT_SIGNAL = 128,     /* + signal number */
};

typedef struct vp_cli {
    vp_config cfg;
    cdev serial[2];
    int nserial;
    cdev debugcon;
    uint32_t trace_mask;
    const char *trace_file;
    vp_trace_opts trace;      /* --trace-format, -syntax, -range, -cpl, -mode */
    bool stats;               /* --stats: table on stderr at exit */
    const char *stats_json;   /* --stats-json FILE */
    vp_monitor_opts debug;    /* --monitor, --gdb, -s, -S */
    bool help, version, cpu_help, trace_help;
} vp_cli;

/* Parses the arguments after `run`. Returns 0, or -1 with a one-line
 * problem in msg (the caller adds "vanderpool: " and the hint). */
int vp_cli_parse(int argc, char **argv, vp_cli *cli, char *msg, size_t msglen);

/* Parses a memory size: a number with an optional K, M, G or T suffix
 * (binary units, optional trailing "B" or "iB"); a bare number is MiB. */
int vp_cli_parse_size(const char *s, uint64_t *out);

/* Frees what parsing allocated (also after a failed parse). */
void vp_cli_free(vp_cli *cli);

void vp_cli_help(FILE *out);

#endif
