/* debug_exit.c: an exit code chosen by the guest comes out of the engine
 * as the process status (code << 1) | 1 (isa-debug-exit, port 0xF4).
 * engines: vanderpool qemu bochs
 * exit-code: 42
 *
 * Bochs has no isa-debug-exit: there the harness judges the report lines
 * only, and the exit goes through the shutdown port.
 */
#include "vp.h"

void test_main(void)
{
    /* The report lines the harness checks alongside the status. */
    report("runtime reached test_main", true);
    report_eq("multiboot magic", mb_magic, MULTIBOOT_BOOT_MAGIC);
    report("long mode active", (rdmsr(MSR_EFER) & EFER_LMA) != 0);
    int failed = report_summary();
    vp_exit(failed ? 1 : 42);
}
