/* sys_strict_exc.c: the exception checks of sys_exceptions.c that QEMU
 * 7.2's TCG gets wrong, proven on Bochs instead:
 *  - error codes that name an IDT gate hold the vector in the index field
 *    (vector * 8 + 2, + 1 for EXT) in IA-32e mode too; QEMU reports
 *    vector * 16 + 2 there;
 *  - INT1 (F1) at CPL 3 through a DPL 0 gate delivers #DB (no DPL check);
 *    QEMU does not deliver #DB for F1;
 *  - a push with a non-canonical RSP is #SS(0); QEMU raises #GP(0);
 *  - LOCK MOV is #UD before its non-canonical operand is looked at; QEMU
 *    ignores the LOCK and raises #GP;
 *  - a read spanning the canonical boundary is #GP(0) even though its
 *    canonical part is unmapped; QEMU raises #PF for that part.
 * The code is sys_exceptions.c and .S built with EXC_STRICT = 1.
 * engines: vanderpool bochs
 *
 * SDM Vol 3A, "Error Code", "Exception and Interrupt Priority"; Vol 2
 * INT n/INTO/INT3/INT1, LOCK.
 */
#define EXC_STRICT 1
#include "sys_exceptions.c"
