/* --stats and --stats-json: the vCPUs' counters summed and rendered as a
 * table on stderr or as one JSON object. docs/inspect.md, "Stats", lists
 * the keys. */
#include "frontend/stats.h"

#include <string.h>
#include <time.h>

#include "emu/cpu/cpu.h"

double vp_stats_cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
        return (double)clock() / CLOCKS_PER_SEC;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vp_stats_wall_now(void)
{
    return (double)vp_host_monotonic_ns() * 1e-9;
}

const char *vp_stats_stop_name(vp_stop why)
{
    switch (why) {
    case VP_STOP_NONE: return "none";
    case VP_STOP_DEBUG_EXIT: return "debug-exit";
    case VP_STOP_RESET: return "reset";
    case VP_STOP_SHUTDOWN: return "triple-fault";
    case VP_STOP_HALTED: return "halted";
    case VP_STOP_TIMEOUT: return "timeout";
    case VP_STOP_INSN_LIMIT: return "insn-limit";
    case VP_STOP_ERROR: return "error";
    case VP_STOP_USER: return "stopped";
    case VP_STOP_DEBUG: return "debugger";
    }
    return "unknown";
}

/* Mnemonics of the architecturally defined exception vectors (SDM Vol 3A,
 * "Exception and Interrupt Reference"; #VC and #SX from the AMD APM). */
static const char *const exc_names[32] = {
    [0] = "DE", [1] = "DB", [2] = "NMI", [3] = "BP", [4] = "OF", [5] = "BR",
    [6] = "UD", [7] = "NM", [8] = "DF", [9] = "CSO", [10] = "TS",
    [11] = "NP", [12] = "SS", [13] = "GP", [14] = "PF", [16] = "MF",
    [17] = "AC", [18] = "MC", [19] = "XM", [20] = "VE", [21] = "CP",
    [28] = "HV", [29] = "VC", [30] = "SX",
};

typedef struct totals {
    vp_cpu_stats s;
    uint64_t insns;
    uint64_t tlb_hits, tlb_misses, tlb_fills;
} totals;

static void sum(const vp_machine *m, totals *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < m->ncpus; i++) {
        vp_stats_add(&t->s, &m->cpus[i]->stats);
        t->insns += m->cpus[i]->icount;
    }
    /* A chained block transfer is a decoded-block cache hit, and its
     * translation is current: a fetch TLB hit too. So the figures are the
     * same whether chaining happened or not (tracing turns it off). */
    t->s.dcache_hits += t->s.dcache_chained;
    t->s.tlb_hits[VP_STAT_TLB_EXEC] += t->s.dcache_chained;
    for (int k = 0; k < VP_STAT_TLB_KINDS; k++) {
        t->tlb_hits += t->s.tlb_hits[k];
        t->tlb_misses += t->s.tlb_misses[k];
        t->tlb_fills += t->s.tlb_fills[k];
    }
}

static double rate(uint64_t hits, uint64_t misses)
{
    uint64_t n = hits + misses;
    return n ? (double)hits / (double)n : 0.0;
}

static double ips(const vp_run_report *r, uint64_t insns)
{
    return r->cpu_seconds > 0 ? (double)insns / r->cpu_seconds : 0.0;
}

static const char *const tlb_kind_names[VP_STAT_TLB_KINDS] = {
    [VP_STAT_TLB_READ] = "read", [VP_STAT_TLB_WRITE] = "write",
    [VP_STAT_TLB_EXEC] = "fetch",
};

static void print_rate(FILE *out, const char *what, uint64_t hits,
                       uint64_t misses)
{
    fprintf(out, "  %-22s %6.2f%% hits  (%llu hits, %llu misses)\n", what,
            100.0 * rate(hits, misses), (unsigned long long)hits,
            (unsigned long long)misses);
}

static void print_vectors(FILE *out, const char *what, const uint64_t *v,
                          int n, bool names)
{
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (!v[i])
            continue;
        char label[32];
        if (names && exc_names[i])
            snprintf(label, sizeof(label), "#%s (%d)", exc_names[i], i);
        else
            snprintf(label, sizeof(label), "vector %d (%#x)", i, i);
        fprintf(out, "  %-22s %-18s %llu\n", any ? "" : what, label,
                (unsigned long long)v[i]);
        any = true;
    }
    if (!any)
        fprintf(out, "  %-22s none\n", what);
}

void vp_stats_print(FILE *out, const vp_run_report *r)
{
    totals t;
    sum(r->m, &t);
    fprintf(out, "vanderpool statistics:\n");
    fprintf(out, "  %-22s %s (exit status %d)\n", "stop reason",
            vp_stats_stop_name(r->why), r->exit_status);
    fprintf(out, "  %-22s %llu\n", "instructions", (unsigned long long)t.insns);
    fprintf(out, "  %-22s %.3f s (host time %.3f s)\n", "CPU time",
            r->cpu_seconds, r->wall_seconds);
    fprintf(out, "  %-22s %.2f M instructions/s of CPU time\n", "speed",
            ips(r, t.insns) / 1e6);
    print_rate(out, "decoded-block cache", t.s.dcache_hits, t.s.dcache_misses);
    fprintf(out, "  %-22s %llu\n", "  chained", (unsigned long long)t.s.dcache_chained);
    print_rate(out, "TLB", t.tlb_hits, t.tlb_misses);
    for (int k = 0; k < VP_STAT_TLB_KINDS; k++) {
        char what[32];
        snprintf(what, sizeof(what), "  %s", tlb_kind_names[k]);
        print_rate(out, what, t.s.tlb_hits[k], t.s.tlb_misses[k]);
    }
    fprintf(out, "  %-22s %llu\n", "TLB fills", (unsigned long long)t.tlb_fills);
    print_vectors(out, "exceptions", t.s.exceptions, 32, true);
    print_vectors(out, "interrupts", t.s.interrupts, 256, false);
    print_vectors(out, "software interrupts", t.s.soft_interrupts, 256, false);
}

/* ---- JSON ------------------------------------------------------------ */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* Opens an object with hits, misses and hit_rate; the caller closes it. */
static void json_rate(FILE *out, uint64_t hits, uint64_t misses)
{
    fprintf(out, "{\"hits\": %llu, \"misses\": %llu, \"hit_rate\": %.6f",
            (unsigned long long)hits, (unsigned long long)misses,
            rate(hits, misses));
}

static void json_vectors(FILE *out, const char *key, const uint64_t *v, int n)
{
    fprintf(out, "  \"%s\": {", key);
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (!v[i])
            continue;
        fprintf(out, "%s\"%d\": %llu", any ? ", " : "", i,
                (unsigned long long)v[i]);
        any = true;
    }
    fprintf(out, "}");
}

int vp_stats_write_json(FILE *out, const vp_run_report *r)
{
    totals t;
    sum(r->m, &t);
    fprintf(out, "{\n  \"instructions\": %llu,\n",
            (unsigned long long)t.insns);
    fprintf(out, "  \"cpu_seconds\": %.6f,\n  \"wall_seconds\": %.6f,\n",
            r->cpu_seconds, r->wall_seconds);
    fprintf(out, "  \"ips\": %.1f,\n", ips(r, t.insns));
    fprintf(out, "  \"cpus\": [");
    for (int i = 0; i < r->m->ncpus; i++)
        fprintf(out, "%s{\"instructions\": %llu}", i ? ", " : "",
                (unsigned long long)r->m->cpus[i]->icount);
    fprintf(out, "],\n  \"decode_cache\": ");
    json_rate(out, t.s.dcache_hits, t.s.dcache_misses);
    fprintf(out, ", \"chained\": %llu},\n  \"tlb\": ",
            (unsigned long long)t.s.dcache_chained);
    json_rate(out, t.tlb_hits, t.tlb_misses);
    fprintf(out, ", \"fills\": %llu", (unsigned long long)t.tlb_fills);
    for (int k = 0; k < VP_STAT_TLB_KINDS; k++) {
        fprintf(out, ",\n          \"%s\": ", tlb_kind_names[k]);
        json_rate(out, t.s.tlb_hits[k], t.s.tlb_misses[k]);
        fprintf(out, ", \"fills\": %llu}", (unsigned long long)t.s.tlb_fills[k]);
    }
    fprintf(out, "},\n");
    json_vectors(out, "exceptions", t.s.exceptions, 32);
    fprintf(out, ",\n");
    json_vectors(out, "interrupts", t.s.interrupts, 256);
    fprintf(out, ",\n");
    json_vectors(out, "software_interrupts", t.s.soft_interrupts, 256);
    fprintf(out, ",\n  \"stop_reason\": ");
    json_string(out, vp_stats_stop_name(r->why));
    fprintf(out, ",\n  \"stop_message\": ");
    json_string(out, r->stop_msg ? r->stop_msg : "");
    fprintf(out, ",\n  \"exit_status\": %d\n}\n", r->exit_status);
    return ferror(out) ? -1 : 0;
}
