/* sys_strict_modes.c: the mode-switch checks of sys_modes.c that QEMU
 * 7.2's TCG does not make, proven on Bochs instead: WRMSR setting
 * EFER.LME while paging is on is #GP(0) (QEMU sets it), and CR0.PG = 1
 * with EFER.LME = 1 but CR4.PAE = 0 is #GP(0) (QEMU enables 32-bit
 * paging), and clearing CR0.PG in 64-bit mode is #GP(0) (QEMU clears
 * it and stops executing sensibly). The code is sys_modes.c and .S built
 * with MODES_STRICT = 1.
 * engines: vanderpool bochs
 *
 * SDM Vol 3A, "Extended Feature Enable Register", "Initializing IA-32e
 * Mode"; Vol 2 MOV (control registers), WRMSR.
 */
#define MODES_STRICT 1
#include "sys_modes.c"
