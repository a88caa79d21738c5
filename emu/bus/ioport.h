/* The port-I/O map: 64 KiB of ports, each owned by at most one device. */
#ifndef VP_BUS_IOPORT_H
#define VP_BUS_IOPORT_H

#include "emu/bus/device.h"
#include "emu/base/trace.h"

typedef struct vp_ioport_range {
    uint16_t base;
    uint16_t len;
    const vp_io_ops *ops;
    void *opaque;
} vp_ioport_range;

#define VP_IOPORT_MAX_RANGES 64

typedef struct vp_ioport_map {
    vp_ioport_range ranges[VP_IOPORT_MAX_RANGES];
    int nranges;
    uint8_t owner[65536]; /* index+1 into ranges, 0 = unassigned */
    vp_tracer *trace;
} vp_ioport_map;

/* Returns 0, or -1 if the range overlaps another or the table is full. */
int vp_ioport_register(vp_ioport_map *io, uint16_t base, uint16_t len,
                       const vp_io_ops *ops, void *opaque) VP_MUST_CHECK;

/* size 1, 2 or 4. Unassigned ports read as all ones and ignore writes. */
uint32_t vp_ioport_read(vp_ioport_map *io, uint16_t port, unsigned size);
void vp_ioport_write(vp_ioport_map *io, uint16_t port, uint32_t value,
                     unsigned size);

#endif
