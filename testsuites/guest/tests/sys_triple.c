/* sys_triple.c: a triple fault. INT 50h through a not-present gate raises
 * #NP; the #NP gate is not present either, so #NP while delivering #NP
 * becomes #DF; first with a good #DF gate (delivered, checked), then with
 * the #DF gate not present: an exception while delivering #DF is a triple
 * fault and the processor shuts down. The guest prints its SUMMARY before
 * the last step; the harness expects the run to end in the triple fault
 * (Vanderpool exit status 6, QEMU status 0 under -no-reboot, Bochs's
 * "exception with no resolution" reset).
 * engines: vanderpool qemu bochs
 * outcome: triple-fault
 *
 * SDM Vol 3A, "Interrupt 8 - Double Fault Exception (#DF)" ("If another
 * exception occurs while attempting to call the double-fault handler, the
 * processor enters shutdown mode"), "Conditions for Generating a Double
 * Fault"; Vol 3A "Triple Fault"/"Shutdown" in "Processor Management".
 */
#define SYS_LIB_DECLS_ONLY
#include "sys_lib.h"

static void int50(void *arg)
{
    __asm__ volatile("int $0x50" ::: "memory");
}

static void set_present(int v, bool p)
{
    volatile struct idt64_gate *g = &sys_idt64()[v];
    g->type_attr = (uint8_t)((g->type_attr & 0x7F) | (p ? 0x80 : 0));
}

void test_main(void)
{
    set_present(0x50, false);
    int v = run_catching(int50, NULL);
    report_msg("INT 50h through a not-present gate: #NP", v == NP_VECTOR, "vector %d", v);
    set_present(NP_VECTOR, false);
    v = run_catching(int50, NULL);
    report_msg("#NP while delivering #NP: #DF with error code 0",
               v == DF_VECTOR && last_exception.error_code == 0, "vector %d error %#llx", v,
               (unsigned long long)last_exception.error_code);
    set_present(DF_VECTOR, false);
    report("the #DF gate is now not present", !(sys_idt64()[DF_VECTOR].type_attr & 0x80));
    report_summary();
    printf("sys_triple: INT 50h: #NP, #NP -> #DF, #NP -> triple fault (shutdown)\n");
    int50(NULL);
    /* Not reached on a conforming CPU. */
    report_abort("triple fault", "execution continued after an exception while delivering #DF");
}
