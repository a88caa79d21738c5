/* rsvd_bits.S: paging_modes.S, for the rsvd_bits build of
 * paging_modes.c. */
#include "paging_modes.S"
