/* Between the pieces of the monitor and the gdbstub (not for main.c):
 *
 *   monitor.c        the command table, line parsing, help, run control
 *   monitor_info.c   info registers/cpus/tlb/mem/break/devices, walk
 *   monitor_mem.c    x and xp (formats, Capstone disassembly)
 *   monitor_sym.c    symbols of the boot image for addresses and names
 *   monitor_io.c     the session: run loop, poll hook, stdio and Unix
 *                    socket channels
 *   gdbstub.c        the remote protocol; gdbstub_regs.c the registers
 */
#ifndef VP_FRONTEND_MONITOR_INTERNAL_H
#define VP_FRONTEND_MONITOR_INTERNAL_H

#include <stdio.h>

#include "emu/cpu/cpu.h"
#include "frontend/gdbstub.h"
#include "frontend/monitor.h"

/* Where a command's output goes. */
typedef struct mon_out {
    void (*write)(void *opaque, const char *s, size_t n);
    void *opaque;
} mon_out;

/* One line-oriented monitor connection (standard input/output, or a
 * client of the Unix socket). */
typedef struct mon_chan {
    int in_fd, out_fd;        /* -1: closed */
    bool socket;
    bool prompt;              /* print "(vp) " before each command */
    char line[1024];
    size_t len;
    bool overflow;            /* the current line is too long: dropped */
    /* Scripted input (a pipe or file on stdin): after `continue`, the
     * next commands wait until the machine stops, as in a gdb script. */
    bool sync;
    bool waiting;
    bool eof;                 /* input ended; buffered lines still run */
} mon_chan;

typedef struct vp_syms vp_syms;

struct vp_session {
    vp_machine *m;
    vp_session_config cfg;
    int cpu;                  /* the CPU the monitor looks at */
    bool running;             /* the user wants the machine to run */
    bool paused_for_input;    /* the poll hook stopped it to read input */
    bool final;               /* the machine stopped for good */
    vp_stop final_why;
    bool quit;
    uint64_t last_poll_ns;

    bool stdio_on;            /* the monitor reads standard input */
    mon_chan stdio;
    int unix_listen;          /* -1: no Unix socket monitor */
    char *unix_path;
    mon_chan unix_client;

    vp_gdbstub *gdb;
    vp_syms *syms;
};

/* The context of one command. */
typedef struct mon_ctx {
    vp_session *s;
    mon_out out;
    const char *fmt;          /* what followed '/' in the command word */
    int argc;
    char **argv;              /* the arguments after the command name */
    bool from_gdb;            /* gdb's "monitor" command */
    mon_chan *chan;           /* the channel the line came from, or NULL */
} mon_ctx;

void mon_printf(mon_ctx *x, const char *fmt, ...) VP_PRINTF(2, 3);
vp_cpu *mon_cpu(mon_ctx *x);

/* Evaluates an address expression: numbers (C syntax: 0x hex, else
 * decimal), $registers, symbols of the boot image, joined by + and -.
 * Returns 0, or -1 after printing the problem. */
int mon_eval(mon_ctx *x, const char *expr, uint64_t *v);
/* " <symbol+off>" for an address near a symbol, else "". */
const char *mon_symbolize(vp_session *s, uint64_t addr, char *buf,
                          size_t len);

/* Runs one command line from a channel (NULL: gdb's "monitor" command);
 * output goes to `out`. */
void mon_exec_line(vp_session *s, mon_out out, mon_chan *chan,
                   const char *line);

/* ---- session control (monitor_io.c) ---------------------------------- */

/* Resumes the machine (the run loop takes over after the input). */
void session_continue(vp_session *s);
/* Stops a running machine and tells the monitors and gdb. */
void session_stop(vp_session *s, bool sigint);
/* Runs exactly one instruction (vp_debug_step_*); returns the stop reason
 * (VP_STOP_USER or VP_STOP_DEBUG, or a final one). */
vp_stop session_step(vp_session *s);
/* Ends the session (status 0 unless the machine already stopped for
 * good). */
void session_quit(vp_session *s);
/* One line to every monitor channel (not to gdb). */
void session_announce(vp_session *s, const char *fmt, ...) VP_PRINTF(2, 3);
/* A description of the current stop: the hit, or the machine's message. */
void session_stop_text(vp_session *s, char *buf, size_t len);

/* ---- commands ---------------------------------------------------------- */

void cmd_info_registers(mon_ctx *x);
void cmd_info_cpus(mon_ctx *x);
void cmd_info_tlb(mon_ctx *x);
void cmd_info_mem(mon_ctx *x);
void cmd_info_break(mon_ctx *x);
void cmd_info_devices(mon_ctx *x);
void cmd_walk(mon_ctx *x);
void cmd_x(mon_ctx *x);
void cmd_xp(mon_ctx *x);

/* Prints the instruction at the current CPU's RIP (one line). */
void mon_print_where(mon_ctx *x, vp_cpu *c);

/* ---- symbols (monitor_sym.c) ------------------------------------------- */

/* Function and object symbols of an ELF32 or ELF64 file; NULL if it has
 * none or cannot be read. */
vp_syms *mon_syms_load(const char *path);
void mon_syms_free(vp_syms *s);
int mon_sym_lookup(const vp_syms *s, const char *name, uint64_t *addr);
/* The symbol containing addr (or the nearest below, within 64 KiB). */
const char *mon_sym_find(const vp_syms *s, uint64_t addr, uint64_t *off);

#endif
