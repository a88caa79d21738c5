/* Boot image loading: Multiboot 1, Multiboot 2, plain ELF64. */
#ifndef VP_BOOT_BOOT_H
#define VP_BOOT_BOOT_H

#include "emu/machine.h"

/* Loads m->cfg.kernel (with cmdline and modules) into guest memory and sets
 * up CPU 0 to enter it. On error returns -1 with a one-line message that
 * names the file and the problem. */
int vp_boot_load(vp_machine *m, vp_error *err) VP_MUST_CHECK;

#endif
