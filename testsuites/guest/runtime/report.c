/* report.c: PASS/FAIL/SKIP lines, the SUMMARY line and the exit paths
 * (isa-debug-exit for QEMU and Vanderpool, the shutdown port for Bochs). */
#include "rt.h"

static int n_pass, n_fail, n_skip;

void vp_report_line(const char *kind, const char *name, const char *msg)
{
    if (kind[0] == 'P')
        n_pass++;
    else if (kind[0] == 'F')
        n_fail++;
    else
        n_skip++;
    if (msg)
        printf("%s: %s: %s\n", kind, name, msg);
    else
        printf("%s: %s\n", kind, name);
}

void report(const char *name, bool ok)
{
    vp_report_line(ok ? "PASS" : "FAIL", name, ok ? NULL : "check failed");
}

void reportf(bool ok, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    report(name, ok);
}

bool report_msg(const char *name, bool ok, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vp_report_line(ok ? "PASS" : "FAIL", name, ok ? NULL : msg);
    return ok;
}

bool report_eq(const char *name, uint64_t got, uint64_t want)
{
    return report_msg(name, got == want, "got %#llx, want %#llx",
                      (unsigned long long)got, (unsigned long long)want);
}

void report_skip(const char *name, const char *why)
{
    vp_report_line("SKIP", name, why);
}

int report_failures(void)
{
    return n_fail;
}

int report_summary(void)
{
    printf("SUMMARY: %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail;
}

void report_abort(const char *name, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vp_report_line("FAIL", name, msg);
    report_summary();
    vp_exit(1);
}

void vp_exit(int code)
{
    irq_disable();
    /* Let the UART finish shifting out the last line (LSR.TEMT). */
    for (int i = 0; i < 100000 && !(inb(0x3F8 + 5) & 0x40); i++)
        pause();
    outb(0xF4, (uint8_t)code);
    /* Bochs: the "Shutdown" string on port 0x8900 ends the simulation. */
    for (const char *p = "Shutdown"; *p; p++)
        outb(0x8900, (uint8_t)*p);
    for (;;)
        hlt();
}
