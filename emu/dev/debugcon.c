/* The Bochs/QEMU debug console at port 0xE9: every byte written goes to
 * cfg.debugcon; a read returns 0xE9, which is how software detects the
 * port (Bochs "Port E9 Hack"; QEMU's isa-debugcon has the same readback). */
#include "emu/dev/devices.h"

#define DEBUGCON_PORT 0xe9

static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    (void)off;
    (void)size;
    return DEBUGCON_PORT;
}

static void debugcon_write(void *opaque, uint64_t off, uint64_t v,
                           unsigned size)
{
    vp_machine *m = opaque;
    uint8_t b = (uint8_t)v;
    (void)off;
    (void)size;
    if (m->cfg.debugcon.write)
        m->cfg.debugcon.write(m->cfg.debugcon.opaque, &b, 1);
}

static const vp_io_ops debugcon_ops = {
    .name = "debugcon",
    .read = debugcon_read,
    .write = debugcon_write,
    .widths = VP_W8,
};

int vp_debugcon_init(vp_machine *m, vp_error *err)
{
    if (vp_ioport_register(&m->io, DEBUGCON_PORT, 1, &debugcon_ops, m) < 0)
        return vp_fail(err, "debug console: port 0xe9 already in use");
    return 0;
}
