/* sys_strict_seg.c: the segmentation checks of sys_segmentation.c that QEMU
 * 7.2's TCG does not make, proven on Bochs instead:
 *  - limit checks on data and stack accesses (expand-up, expand-down with
 *    B = 0 and B = 1, byte and 4-KiB granularity), #GP(0) / #SS(0), and
 *    writes to read-only data or through CS (QEMU checks no data-segment
 *    limits or types);
 *  - the CS limit on instruction fetch: an instruction that crosses the
 *    limit faults at its first byte (QEMU runs it);
 *  - an access through a null DS in legacy mode is #GP(0) (QEMU reads);
 *  - MOV SS with a null selector whose RPL differs from CPL in 64-bit
 *    mode is #GP(0) (QEMU loads it);
 *  - a far JMP sets the accessed bit of the code segment (QEMU does not);
 *  - LAR on a 16-bit TSS type in IA-32e mode gives ZF = 0 (QEMU ZF = 1);
 *  - a far JMP to a code segment with L = 1 and D = 1 in IA-32e mode is
 *    #GP(selector) (QEMU jumps).
 * The code is sys_segmentation.c and .S built with SEG_STRICT = 1.
 * engines: vanderpool bochs
 *
 * SDM Vol 3A, "Limit Checking", "Type Checking", "Segment Selectors"
 * (null selectors), "Segment Descriptors" (accessed bit); Vol 2 MOV, JMP,
 * LAR.
 */
#define SEG_STRICT 1
#include "sys_segmentation.c"
