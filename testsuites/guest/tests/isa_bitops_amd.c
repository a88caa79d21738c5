/* isa_bitops_amd.c: the checks of isa_bitops.c on an AMD Zen 2 model,
 * where CLWB and RDPID exist and INVPCID does not.
 * engines: vanderpool qemu
 * vanderpool-args: --cpu vp-amd
 * qemu-args: -cpu EPYC-Rome
 *
 * QEMU's TCG drops the EPYC-Rome features it lacks (RDSEED, RDPID, ...);
 * those groups SKIP there.
 */
#include "isa_bitops.c"
