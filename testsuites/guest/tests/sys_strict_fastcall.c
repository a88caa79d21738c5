/* sys_strict_fastcall.c: the SYSCALL/SYSENTER checks of sys_fastcall.c
 * that QEMU 7.2's TCG gets wrong even with an Intel vendor, proven on
 * Bochs (Skylake-X) instead:
 *  - SYSCALL clears only the RFLAGS bits IA32_FMASK names (QEMU also loses
 *    CF);
 *  - on Intel, SYSCALL outside 64-bit mode is #UD (QEMU enters at
 *    IA32_CSTAR, the AMD behaviour, whatever the vendor);
 *  - SYSRETQ with a non-canonical RCX is #GP(0) at CPL 0 (QEMU returns to
 *    the bad address);
 *  - SYSEXITQ with a non-canonical RCX or RDX is #GP(0) (QEMU returns).
 * The code is sys_fastcall.c and .S built with FC_PART = 1.
 * engines: vanderpool bochs
 * bochsrc: cpu: model=corei7_skylake_x
 *
 * SDM Vol 2 SYSCALL, SYSRET, SYSEXIT (operation and 64-bit mode
 * exceptions).
 */
#define FC_PART 1
#include "sys_fastcall.c"
