/* rsvd_bits.c: paging_modes.c with its reserved-bit checks: a set
 * reserved bit in a paging-structure entry (above MAXPHYADDR, XD without
 * EFER.NXE, bits 20:13 of a 2-MiB page, bit 21 of a 4-MiB page, bits 20:13
 * of a PAE 2-MiB page, PS in a PML4E or PML5E) gives #PF with P = 1 and
 * RSVD = 1 (plus W, U/S as for any fault) and CR2 = the address, in
 * 32-bit, PAE, 4-level and 5-level paging. The rest of paging_modes.c
 * runs again on the way.
 * engines: vanderpool bochs
 * vanderpool-args: --cpu vp-icx
 * bochsrc: cpu: model=tigerlake
 * timeout: 120
 *
 * Not qemu: QEMU 7.2's TCG reports these faults without the P bit (see
 * paging_rsvd.c).
 *
 * SDM Vol 3A, "Page-Fault Exceptions" ("RSVD flag ... can be set only if
 * bit 0 is also set"), and the entry formats of "32-Bit Paging", "PAE
 * Paging", "4-Level Paging and 5-Level Paging".
 */
#define PM_RSVD
#include "paging_modes.c"
