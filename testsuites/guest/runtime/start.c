/* start.c: the C entry from entry.S: console, descriptor tables, then the
 * test, the summary and the exit. */
#include "rt.h"

void vp_runtime_main(void);
void vp_runtime_main(void)
{
    vp_serial_init();
    vp_intr_init();
    vp_mem_init();
    if (mb_magic != MULTIBOOT_BOOT_MAGIC)
        printf("warning: multiboot magic %#x, expected %#x\n", mb_magic, MULTIBOOT_BOOT_MAGIC);
    test_main();
    int failed = report_summary();
    vp_exit(failed ? 1 : 0);
}
