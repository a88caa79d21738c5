/* sys_sysret_ss.c: the SYSRET check of sys_fastcall.c that Bochs 2.7 gets
 * wrong, proven on QEMU (Intel vendor) instead: on Intel, SYSRET loads SS
 * with fixed flat attributes (base 0, 4-GiB limit, B = 1), so a SYSRETL to
 * compatibility mode from a CPL-0 context whose SS is the null selector
 * (entered through a 64-bit call gate) gets a working 32-bit stack. Bochs
 * keeps the old SS base, limit and B flag (the AMD behaviour, APM Vol 2
 * SYSRET) for every model. The code is sys_fastcall.c and .S built with
 * FC_PART = 2.
 * engines: vanderpool qemu
 * qemu-args: -cpu max,vendor=GenuineIntel
 *
 * SDM Vol 2 SYSRET ("Set rest of SS to a fixed value").
 */
#define FC_PART 2
#include "sys_fastcall.c"
