/* Shared helpers for libcheck unit tests: each test_*.c is its own binary
 * and ends with VP_UNIT_MAIN(suite_function). */
#ifndef VP_UNIT_H
#define VP_UNIT_H

#include <check.h>
#include <stdlib.h>

#include "emu/machine.h"

#define VP_UNIT_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int failed = srunner_ntests_failed(sr);                  \
        srunner_free(sr);                                        \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;             \
    }

/* A machine with `mem_mb` MiB of RAM, one CPU, every platform device, and no
 * boot image; aborts the test on failure. */
vp_machine *unit_machine(unsigned mem_mb);

/* Moves machine time to `ns`, firing every timer due on the way in
 * deadline order, as the run loop would. */
void unit_run_to_ns(vp_machine *m, uint64_t ns);

/* The ISA IRQ lines as the interrupt controllers see them: each line's
 * level and its count of rising edges. */
typedef struct unit_irqs {
    int level[16];
    unsigned edges[16];
} unit_irqs;

/* Zeroes *irqs and has it follow m's ISA IRQ lines from now on. */
void unit_watch_irqs(vp_machine *m, unit_irqs *irqs);

#endif
