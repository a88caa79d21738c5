/* QEMU firmware configuration device (traditional I/O interface at
 * 0x510/0x511): other parts of the machine add named files to it. */
#ifndef VP_DEV_FWCFG_H
#define VP_DEV_FWCFG_H

#include "emu/machine.h"

#define VP_FWCFG_NAME_MAX 56 /* including the terminating NUL */

/* Adds (or replaces) file `name` with a copy of data[0..len). Files are
 * kept sorted by name and numbered from key 0x20 in that order, as QEMU
 * does, so add them before the guest runs. Returns 0, or -1 when the name
 * is empty or too long, the table is full, or memory runs out. */
int vp_fwcfg_add_file(vp_fwcfg *f, const char *name, const void *data,
                      uint32_t len) VP_MUST_CHECK;

#endif
