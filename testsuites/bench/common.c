/* common.c: the end of every benchmark run (see bench.h). */
#include "bench.h"

static bool cmdline_has(const char *word)
{
    const struct multiboot_info *mbi = multiboot();
    if (!mbi || !(mbi->flags & MBI_CMDLINE) || !mbi->cmdline)
        return false;
    const char *s = (const char *)(uintptr_t)mbi->cmdline;
    size_t n = strlen(word);
    for (; *s; s++)
        if (!strncmp(s, word, n) && (s[n] == 0 || s[n] == ' '))
            return true;
    return false;
}

void bench_done(const char *name, uint64_t checksum, uint64_t want, uint64_t units)
{
    printf("BENCH %s checksum=%016llx units=%llu\n", name, (unsigned long long)checksum,
           (unsigned long long)units);
    report_eq("checksum", checksum, want);
    int failed = report_summary();
    if (cmdline_has("bench-halt")) {
        /* Let the UART drain as vp_exit does, then stop for good. */
        for (int i = 0; i < 100000 && !(inb(0x3F8 + 5) & 0x40); i++)
            pause();
        for (;;)
            __asm__ volatile("cli; hlt" ::: "memory");
    }
    vp_exit(failed ? 1 : 0);
}
