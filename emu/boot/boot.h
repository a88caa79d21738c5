/* Boot image loading: Multiboot 1, Multiboot 2, plain ELF64.
 * The protocols, the memory layout and the entry state are documented in
 * docs/usage.md, "Boot protocols". */
#ifndef VP_BOOT_BOOT_H
#define VP_BOOT_BOOT_H

#include "emu/machine.h"

/* Vanderpool's version: `vanderpool --version` and the boot loader name
 * the Multiboot information carries. */
#ifndef VP_VERSION
#define VP_VERSION "0.1.0"
#endif

/* Loads m->cfg.kernel (with cmdline and modules) into guest memory and sets
 * up CPU 0 to enter it. On error returns -1 with a one-line message that
 * names the file and the problem. */
int vp_boot_load(vp_machine *m, vp_error *err) VP_MUST_CHECK;

#endif
