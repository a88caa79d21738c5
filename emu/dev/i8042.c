/* A minimal Intel 8042 keyboard controller at 0x60 (data) and 0x64
 * (status/command), with no keyboard or mouse attached: the status
 * register, the controller command byte and RAM, self tests, the output
 * port (A20 gate and CPU reset), and the pulse commands. It exists for
 * the A20 and reset paths that firmware and kernels use.
 *
 * References: IBM "Personal Computer AT Technical Reference", section
 * "Keyboard Controller" (status register bits, commands 20h-3Fh, 60h-7Fh,
 * AAh, ABh, ADh, AEh, C0h, D0h, D1h, E0h, F0h-FFh); IBM "PS/2 Hardware
 * Interface Technical Reference", "Keyboard/Auxiliary Device Controller"
 * (A7h-A9h, D2h-D4h). Commands DDh/DFh (A20 off/on) are the HP Vectra
 * convention many controllers accept.
 *
 * Bytes sent to the keyboard or the auxiliary device find nobody: the
 * controller reports a time-out (status bit 6) as on a board with the
 * device unplugged, and logs that once. */
#include <stdlib.h>

#include "emu/dev/devices.h"

#define ST_OBF 0x01
#define ST_IBF 0x02
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_UNLOCKED 0x10
#define ST_AUX_OBF 0x20
#define ST_TIMEOUT 0x40

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20

#define OUT_RESET 0x01 /* 0: CPU reset asserted */
#define OUT_A20 0x02

struct vp_kbc {
    vp_machine *m;
    vp_sysctl *sys;
    uint8_t status;
    uint8_t ram[32];       /* ram[0] is the controller command byte */
    uint8_t outport;
    uint8_t obuf;
    uint8_t pending;       /* command waiting for its data byte, or 0 */
    bool irq1, irq12;
};

static void kbc_update_irq(vp_kbc *k)
{
    bool full = k->status & ST_OBF, aux = k->status & ST_AUX_OBF;
    bool irq1 = full && !aux && (k->ram[0] & CB_KBD_INT);
    bool irq12 = full && aux && (k->ram[0] & CB_AUX_INT);
    if (irq1 != k->irq1) {
        k->irq1 = irq1;
        vp_machine_set_isa_irq(k->m, 1, irq1);
    }
    if (irq12 != k->irq12) {
        k->irq12 = irq12;
        vp_machine_set_isa_irq(k->m, 12, irq12);
    }
}

static void kbc_output(vp_kbc *k, uint8_t v, bool aux)
{
    k->obuf = v;
    k->status |= ST_OBF;
    if (aux)
        k->status |= ST_AUX_OBF;
    else
        k->status &= (uint8_t)~ST_AUX_OBF;
    kbc_update_irq(k);
}

static void kbc_write_outport(vp_kbc *k, uint8_t v)
{
    k->outport = v;
    vp_sysctl_set_kbc_a20(k->sys, v & OUT_A20);
    if (!(v & OUT_RESET)) {
        VP_TRACE(&k->m->trace, DEV, "8042: CPU reset through output port");
        vp_machine_request_reset(k->m);
    }
}

static void kbc_no_device(vp_kbc *k, const char *what, uint8_t v)
{
    k->status |= ST_TIMEOUT;
    VP_UNIMPL_ONCE(&k->m->trace,
                   "8042: no PS/2 keyboard or mouse attached (%s byte %#x "
                   "times out)", what, v);
}

static void kbc_command(vp_kbc *k, uint8_t v)
{
    k->status |= ST_CMD;
    k->status &= (uint8_t)~ST_TIMEOUT;
    k->pending = 0;
    if (v >= 0x20 && v <= 0x3f) {
        kbc_output(k, k->ram[v & 0x1f], false);
        return;
    }
    if (v >= 0x60 && v <= 0x7f) {
        k->pending = v;
        return;
    }
    if (v >= 0xf0) {
        /* Pulse output port bits 3-0 whose command bit is 0; bit 0 is the
         * CPU reset line (FEh: "pulse reset"). */
        if (!(v & 1)) {
            VP_TRACE(&k->m->trace, DEV, "8042: pulse reset (%#x)", v);
            vp_machine_request_reset(k->m);
        }
        return;
    }
    switch (v) {
    case 0xa7:
        k->ram[0] |= CB_AUX_DISABLE;
        break;
    case 0xa8:
        k->ram[0] &= (uint8_t)~CB_AUX_DISABLE;
        break;
    case 0xa9: /* auxiliary interface test: lines OK */
    case 0xab: /* keyboard interface test: lines OK */
        kbc_output(k, 0x00, false);
        break;
    case 0xaa: /* controller self test passed; sets the system flag */
        k->status |= ST_SYS;
        kbc_output(k, 0x55, false);
        break;
    case 0xad:
        k->ram[0] |= CB_KBD_DISABLE;
        break;
    case 0xae:
        k->ram[0] &= (uint8_t)~CB_KBD_DISABLE;
        break;
    case 0xc0: /* input port: bit 7 keyboard not inhibited */
        kbc_output(k, 0x80, false);
        break;
    case 0xd0:
        kbc_output(k, k->outport, false);
        break;
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd4:
        k->pending = v;
        break;
    case 0xdd:
        kbc_write_outport(k, k->outport & (uint8_t)~OUT_A20);
        break;
    case 0xdf:
        kbc_write_outport(k, k->outport | OUT_A20);
        break;
    case 0xe0: /* test inputs */
        kbc_output(k, 0x00, false);
        break;
    default:
        VP_UNIMPL_ONCE(&k->m->trace, "8042: controller command %#x", v);
        break;
    }
}

static void kbc_data(vp_kbc *k, uint8_t v)
{
    uint8_t cmd = k->pending;
    k->status &= (uint8_t)~(ST_CMD | ST_TIMEOUT);
    k->pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        k->ram[cmd & 0x1f] = v;
        if ((cmd & 0x1f) == 0) {
            k->status = (uint8_t)((k->status & ~ST_SYS) | (v & CB_SYS));
            kbc_update_irq(k);
        }
        return;
    }
    switch (cmd) {
    case 0xd1:
        kbc_write_outport(k, v);
        break;
    case 0xd2:
        kbc_output(k, v, false);
        break;
    case 0xd3:
        kbc_output(k, v, true);
        break;
    case 0xd4:
        kbc_no_device(k, "mouse", v);
        break;
    default:
        kbc_no_device(k, "keyboard", v);
        break;
    }
}

static uint64_t kbc_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_kbc *k = opaque;
    (void)size;
    if (off == 4)
        return k->status;
    if (off != 0)
        return 0xff;
    uint8_t v = k->obuf;
    k->status &= (uint8_t)~(ST_OBF | ST_AUX_OBF);
    kbc_update_irq(k);
    return v;
}

static void kbc_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    vp_kbc *k = opaque;
    (void)size;
    if (off == 4)
        kbc_command(k, (uint8_t)v);
    else if (off == 0)
        kbc_data(k, (uint8_t)v);
}

static const vp_io_ops kbc_ops = {
    .name = "i8042",
    .read = kbc_io_read,
    .write = kbc_io_write,
    .widths = VP_W8,
};

static void kbc_power_on(vp_kbc *k)
{
    for (size_t i = 0; i < sizeof(k->ram); i++)
        k->ram[i] = 0;
    k->ram[0] = CB_KBD_INT | CB_AUX_INT;
    k->status = ST_UNLOCKED | ST_CMD;
    k->obuf = 0;
    k->pending = 0;
    k->outport = OUT_RESET | OUT_A20;
    vp_sysctl_set_kbc_a20(k->sys, true);
    kbc_update_irq(k);
}

/* Port 0x64 is registered as offset 4 of a second range, so both ports
 * share one read/write pair. */
static uint64_t kbc_status_read(void *opaque, uint64_t off, unsigned size)
{
    (void)off;
    return kbc_io_read(opaque, 4, size);
}

static void kbc_status_write(void *opaque, uint64_t off, uint64_t v,
                             unsigned size)
{
    (void)off;
    kbc_io_write(opaque, 4, v, size);
}

static const vp_io_ops kbc_cmd_ops = {
    .name = "i8042-command",
    .read = kbc_status_read,
    .write = kbc_status_write,
    .widths = VP_W8,
};

vp_kbc *vp_kbc_create(vp_machine *m, vp_sysctl *sys, vp_error *err)
{
    vp_kbc *k = calloc(1, sizeof(*k));
    if (!k) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    k->m = m;
    k->sys = sys;
    kbc_power_on(k);
    if (vp_ioport_register(&m->io, 0x60, 1, &kbc_ops, k) < 0 ||
        vp_ioport_register(&m->io, 0x64, 1, &kbc_cmd_ops, k) < 0) {
        vp_fail(err, "8042: ports 0x60/0x64 already in use");
        free(k);
        return NULL;
    }
    return k;
}

void vp_kbc_reset(vp_kbc *k)
{
    kbc_power_on(k);
}

void vp_kbc_free(vp_kbc *k)
{
    free(k);
}
