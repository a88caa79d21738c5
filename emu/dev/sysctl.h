/* Board reset and A20 controls: the reset control register at 0xCF9 and
 * System Control Port A at 0x92. */
#ifndef VP_DEV_SYSCTL_H
#define VP_DEV_SYSCTL_H

#include "emu/machine.h"

/* The reset control register shares the 0xCF8-0xCFF dword with the PCI
 * configuration address register; the platform registers port 0xCF9 on
 * its own. A PCI host bridge that takes over 0xCF8-0xCFF must send byte
 * accesses to 0xCF9 here (as the PIIX/ICH decode does). */
uint8_t vp_sysctl_rcr_read(vp_sysctl *s);
void vp_sysctl_rcr_write(vp_sysctl *s, uint8_t v);

#endif
