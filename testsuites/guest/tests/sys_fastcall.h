/* sys_fastcall.h: selectors shared by sys_fastcall.c and .S. */
#ifndef SYS_FASTCALL_H
#define SYS_FASTCALL_H

/* IA32_SYSENTER_CS for IA-32e mode: +0 code64 DPL 0, +8 data DPL 0, +16
 * code32 DPL 3, +24 data DPL 3, +32 code64 DPL 3, +40 data DPL 3. */
#define SX64 0x60
/* ... and for legacy protected mode: +0 code32 DPL 0, +8 data, +16 code32
 * DPL 3, +24 data DPL 3. */
#define SX32 0x90
#define FC_GATE 0xC0 /* 64-bit call gate to f_gate_sysret (two slots) */

#endif
