/* The legacy PC platform devices: 8259 pair, 8254, RTC/CMOS, 16550 UARTs,
 * debug console, isa-debug-exit, fw_cfg, reset/A20/8042 controls. */
#ifndef VP_DEV_PLATFORM_H
#define VP_DEV_PLATFORM_H

#include "emu/machine.h"

/* Creates and registers every legacy device on m. */
int vp_platform_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;
/* Platform reset: every device to its power-on state. */
void vp_platform_reset(vp_machine *m);
void vp_platform_free(vp_machine *m);

#endif
