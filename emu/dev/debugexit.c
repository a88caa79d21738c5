/* QEMU's isa-debug-exit device as the test harnesses configure it
 * (-device isa-debug-exit,iobase=0xf4,iosize=0x04): a write of any width
 * anywhere in 0xF4-0xF7 stops the machine with exit status
 * (value << 1) | 1, so a guest can never produce a status that looks like
 * a clean 0. Reads return 0, as in QEMU. */
#include <stdio.h>

#include "emu/dev/devices.h"

#define DEBUGEXIT_PORT 0xf4
#define DEBUGEXIT_SIZE 4

static uint64_t debugexit_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    (void)off;
    (void)size;
    return 0;
}

static void debugexit_write(void *opaque, uint64_t off, uint64_t v,
                            unsigned size)
{
    vp_machine *m = opaque;
    uint64_t code = (v << 1) | 1;
    char msg[96];
    snprintf(msg, sizeof(msg), "isa-debug-exit: %u-byte write of %#llx at "
             "port %#llx", size, (unsigned long long)v,
             (unsigned long long)(DEBUGEXIT_PORT + off));
    /* The process status keeps the low bits; the full value is in msg. */
    vp_machine_request_stop(m, VP_STOP_DEBUG_EXIT, (int)(code & 0x7fffffff),
                            msg);
}

static const vp_io_ops debugexit_ops = {
    .name = "isa-debug-exit",
    .read = debugexit_read,
    .write = debugexit_write,
    .widths = VP_W8 | VP_W16 | VP_W32,
};

int vp_debugexit_init(vp_machine *m, vp_error *err)
{
    if (vp_ioport_register(&m->io, DEBUGEXIT_PORT, DEBUGEXIT_SIZE,
                           &debugexit_ops, m) < 0)
        return vp_fail(err, "isa-debug-exit: ports 0xf4-0xf7 already in use");
    return 0;
}
