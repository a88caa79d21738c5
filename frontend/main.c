/* vanderpool: the command-line front end. Parses the command line, builds
 * the machine, runs it, and turns the reason it stopped into the exit
 * status docs/usage.md documents. The library never prints; this file
 * does. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/boot/boot.h"
#include "emu/cpu/internal.h"
#include "emu/machine.h"
#include "frontend/chardev.h"
#include "frontend/cli.h"
#include "frontend/stats.h"

static void usage_error(const char *msg)
{
    fprintf(stderr, "vanderpool: %s\nTry 'vanderpool --help'.\n", msg);
}

static void print_cpu_models(void)
{
    printf("CPU models (--cpu MODEL):\n");
    for (size_t i = 0; i < vp_cpu_model_count; i++)
        printf("  %-20s %s\n", vp_cpu_models[i].name,
               vp_cpu_models[i].desc ? vp_cpu_models[i].desc : "");
}

static void print_trace_cats(void)
{
    printf("Trace categories (--trace CAT[,CAT...] or --trace all):\n");
    for (int i = 0; i < VP_TR_COUNT; i++)
        printf("  %-8s %s\n", vp_trace_cats[i].name, vp_trace_cats[i].desc);
}

/* ---- signals -------------------------------------------------------- */

static vp_machine *volatile g_machine;
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    if (g_signal) {
        /* Second signal: the machine did not stop; leave now. */
        cdev_restore_tty();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_signal = sig;
    vp_machine *m = g_machine;
    if (m && m->stop == VP_STOP_NONE)
        m->stop = VP_STOP_USER;   /* a flag store; the run loop sees it */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* ---- run ------------------------------------------------------------ */

static int exit_status(const vp_machine *m, vp_stop why)
{
    switch (why) {
    case VP_STOP_DEBUG_EXIT:
        /* The device stores the status, (value << 1) | 1, already. */
        return m->exit_code & 0xff;
    case VP_STOP_RESET:
        return VP_EXIT_RESET;
    case VP_STOP_SHUTDOWN:
        return VP_EXIT_TRIPLE_FAULT;
    case VP_STOP_HALTED:
        return VP_EXIT_HALTED;
    case VP_STOP_TIMEOUT:
        return VP_EXIT_TIMEOUT;
    case VP_STOP_INSN_LIMIT:
        return VP_EXIT_INSN_LIMIT;
    case VP_STOP_USER:
        return VP_EXIT_SIGNAL + (g_signal ? g_signal : SIGINT);
    case VP_STOP_NONE:
    case VP_STOP_DEBUG:       /* a session never ends on a debugger stop */
    case VP_STOP_ERROR:
        break;
    }
    return VP_EXIT_ERROR;
}

static const char *default_stop_msg(vp_stop why)
{
    switch (why) {
    case VP_STOP_RESET: return "guest requested a reset";
    case VP_STOP_SHUTDOWN: return "triple fault: shutdown";
    case VP_STOP_HALTED: return "all CPUs halted";
    case VP_STOP_TIMEOUT: return "timeout";
    case VP_STOP_INSN_LIMIT: return "instruction limit reached";
    case VP_STOP_USER: return "stopped";
    default: return "emulator error";
    }
}

static int cmd_run(int argc, char **argv)
{
    vp_cli cli;
    char msg[600];
    if (vp_cli_parse(argc, argv, &cli, msg, sizeof(msg)) < 0) {
        vp_cli_free(&cli);
        usage_error(msg);
        return VP_EXIT_USAGE;
    }
    if (cli.help || cli.version || cli.cpu_help || cli.trace_help) {
        if (cli.help)
            vp_cli_help(stdout);
        else if (cli.version)
            printf("vanderpool %s\n", VP_VERSION);
        else if (cli.cpu_help)
            print_cpu_models();
        else
            print_trace_cats();
        vp_cli_free(&cli);
        return 0;
    }

    int status = VP_EXIT_ERROR;
    cli.trace.file = cli.trace_file;
    vp_trace_out *trace_out = vp_trace_out_open(&cli.trace, msg, sizeof(msg));
    if (!trace_out) {
        fprintf(stderr, "vanderpool: %s\n", msg);
        vp_cli_free(&cli);
        return VP_EXIT_ERROR;
    }
    FILE *stats_out = NULL;
    if (cli.stats_json) {
        stats_out = fopen(cli.stats_json, "w");
        if (!stats_out) {
            fprintf(stderr, "vanderpool: %s: cannot open for writing: %s\n",
                    cli.stats_json, strerror(errno));
            vp_trace_out_close(trace_out);
            vp_cli_free(&cli);
            return VP_EXIT_ERROR;
        }
    }
    vp_tracer tracer = {.mask = cli.trace_mask};
    vp_trace_out_attach(trace_out, &tracer);

    int opened = 0;
    bool ok = true;
    for (; opened < cli.nserial; opened++) {
        /* A monitor on stdio owns standard input. */
        if (cdev_open(&cli.serial[opened], &cli.cfg.serial[opened],
                      !vp_monitor_on_stdio(&cli.debug), msg,
                      sizeof(msg)) < 0) {
            ok = false;
            break;
        }
    }
    bool dbg_open = false;
    if (ok) {
        if (cdev_open(&cli.debugcon, &cli.cfg.debugcon, false, msg,
                      sizeof(msg)) < 0)
            ok = false;
        else
            dbg_open = true;
    }
    if (!ok) {
        fprintf(stderr, "vanderpool: %s\n", msg);
        goto out;
    }

    vp_error err = {{0}};
    vp_machine *m = vp_machine_create(&cli.cfg, &tracer, &err);
    if (!m) {
        fprintf(stderr, "vanderpool: %s\n", err.msg);
        goto out;
    }
    vp_trace_out_set_machine(trace_out, m);
    vp_session *session = NULL;
    if (vp_monitor_wanted(&cli.debug)) {
        vp_session_config sc = {.opts = cli.debug, .kernel = cli.cfg.kernel,
                                .signalled = &g_signal,
                                .exit_status = exit_status};
        session = vp_session_open(m, &sc, msg, sizeof(msg));
        if (!session) {
            fprintf(stderr, "vanderpool: %s\n", msg);
            vp_trace_out_set_machine(trace_out, NULL);
            vp_machine_destroy(m);
            goto out;
        }
    }
    g_machine = m;
    install_signals();
    vp_stop why;
    int quit_status = -1;     /* the monitor's quit chooses the status */
    double cpu0 = vp_stats_cpu_now(), wall0 = vp_stats_wall_now();
    if (session) {
        why = vp_session_run(session, &quit_status);
    } else {
        do {
            why = vp_machine_run(m, 0);
        } while (why == VP_STOP_USER && !g_signal);
    }
    g_machine = NULL;
    double cpu_s = vp_stats_cpu_now() - cpu0;
    double wall_s = vp_stats_wall_now() - wall0;

    for (int i = 0; i < opened; i++)
        cdev_flush(&cli.serial[i]);
    cdev_flush(&cli.debugcon);
    fflush(stdout);
    vp_trace_out_flush(trace_out);
    status = quit_status >= 0 ? quit_status : exit_status(m, why);
    const char *why_msg = why == VP_STOP_DEBUG_EXIT ? ""
                          : m->stop_msg[0] ? m->stop_msg
                                           : default_stop_msg(why);
    if (why != VP_STOP_DEBUG_EXIT) {
        if (why == VP_STOP_USER && g_signal)
            fprintf(stderr, "vanderpool: stopped by signal %d (%s) after "
                    "%llu instructions\n", (int)g_signal,
                    strsignal(g_signal),
                    (unsigned long long)vp_machine_insns(m));
        else
            fprintf(stderr, "vanderpool: %s (after %llu instructions)\n",
                    why_msg, (unsigned long long)vp_machine_insns(m));
    }
    if (cli.stats || stats_out) {
        vp_run_report rep = {.m = m, .cpu_seconds = cpu_s,
                             .wall_seconds = wall_s, .why = why,
                             .stop_msg = why_msg, .exit_status = status};
        if (cli.stats)
            vp_stats_print(stderr, &rep);
        if (stats_out && vp_stats_write_json(stats_out, &rep) < 0)
            fprintf(stderr, "vanderpool: %s: write error\n", cli.stats_json);
    }
    vp_session_close(session);
    vp_trace_out_set_machine(trace_out, NULL);
    vp_machine_destroy(m);
out:
    for (int i = 0; i < opened; i++)
        cdev_close(&cli.serial[i]);
    if (dbg_open)
        cdev_close(&cli.debugcon);
    cdev_restore_tty();
    if (vp_trace_out_close(trace_out) < 0)
        fprintf(stderr, "vanderpool: %s: write error\n",
                cli.trace_file ? cli.trace_file : "trace output");
    if (stats_out && fclose(stats_out) != 0)
        fprintf(stderr, "vanderpool: %s: write error\n", cli.stats_json);
    vp_cli_free(&cli);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_error("no command given (vanderpool run [OPTIONS] IMAGE)");
        return VP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        vp_cli_help(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("vanderpool %s\n", VP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2);
    if (cmd[0] == '-')   /* QEMU habit: options without the command */
        return cmd_run(argc - 1, argv + 1);
    char msg[300];
    snprintf(msg, sizeof(msg), "unknown command '%s' (did you mean "
             "'vanderpool run %s'?)", cmd, cmd);
    usage_error(msg);
    return VP_EXIT_USAGE;
}
