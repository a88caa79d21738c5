/* Port-I/O dispatch with width splitting. */
#include "emu/bus/ioport.h"

#include <string.h>

int vp_ioport_register(vp_ioport_map *io, uint16_t base, uint16_t len,
                       const vp_io_ops *ops, void *opaque)
{
    if (io->nranges >= VP_IOPORT_MAX_RANGES || len == 0 ||
        (uint32_t)base + len > 65536)
        return -1;
    for (uint32_t p = base; p < (uint32_t)base + len; p++)
        if (io->owner[p])
            return -1;
    vp_ioport_range *r = &io->ranges[io->nranges++];
    *r = (vp_ioport_range){base, len, ops, opaque};
    memset(&io->owner[base], io->nranges, len);
    return 0;
}

static unsigned width_bit(unsigned size)
{
    return size == 1 ? VP_W8 : size == 2 ? VP_W16 : size == 4 ? VP_W32 : VP_W64;
}

uint32_t vp_ioport_read(vp_ioport_map *io, uint16_t port, unsigned size)
{
    uint8_t o = io->owner[port];
    uint32_t v;
    if (!o) {
        v = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    } else {
        vp_ioport_range *r = &io->ranges[o - 1];
        if ((r->ops->widths & width_bit(size)) && r->ops->read &&
            (uint32_t)port + size <= (uint32_t)r->base + r->len) {
            v = (uint32_t)r->ops->read(r->opaque, port - r->base, size);
        } else if (size > 1) {
            /* Split into bytes, each dispatched on its own port. */
            v = 0;
            for (unsigned i = 0; i < size; i++)
                v |= vp_ioport_read(io, (uint16_t)(port + i), 1) << (8 * i);
        } else {
            v = 0xff;
        }
    }
    if (io->trace)
        VP_TRACE(io->trace, IO, "in  port %#06x size %u -> %#x", port, size, v);
    return v;
}

void vp_ioport_write(vp_ioport_map *io, uint16_t port, uint32_t value,
                     unsigned size)
{
    uint8_t o = io->owner[port];
    if (io->trace)
        VP_TRACE(io->trace, IO, "out port %#06x size %u <- %#x", port, size,
                 value);
    if (!o)
        return;
    vp_ioport_range *r = &io->ranges[o - 1];
    if ((r->ops->widths & width_bit(size)) && r->ops->write &&
        (uint32_t)port + size <= (uint32_t)r->base + r->len) {
        r->ops->write(r->opaque, port - r->base, value, size);
    } else if (size > 1) {
        for (unsigned i = 0; i < size; i++)
            vp_ioport_write(io, (uint16_t)(port + i), (value >> (8 * i)) & 0xff, 1);
    }
}
