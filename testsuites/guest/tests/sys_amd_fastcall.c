/* sys_amd_fastcall.c: sys_fastcall.c on AMD CPU models (Vanderpool's
 * vp-amd, QEMU's default model), where SYSCALL from
 * compatibility mode enters at IA32_CSTAR and SYSENTER/SYSEXIT are #UD in
 * long mode; the legacy-mode SYSENTER/SYSEXIT checks are the same.
 * engines: vanderpool qemu
 * vanderpool-args: --cpu vp-amd
 *
 * Not bochs: its AMD models run SYSENTER and SYSEXIT in long mode (the
 * APM makes them #UD there), and its default bx_generic model, though it
 * reports an AMD vendor, refuses SYSCALL outside 64-bit mode.
 *
 * AMD APM Vol 2, "SYSCALL and SYSRET", "SYSENTER and SYSEXIT (Legacy
 * Mode Only)"; SDM Vol 2 SYSENTER, SYSEXIT.
 */
#define FC_PART 0
#include "sys_fastcall.c"
