/* Board reset and A20 gate controls.
 *
 * Port 0xCF9, reset control register: Intel I/O Controller Hub 9 (ICH9)
 * datasheet, "RST_CNT - Reset Control Register": bit 1 SYS_RST selects a
 * hard (1) or soft (0, INIT#) reset, bit 2 RST_CPU starts it on a 0-to-1
 * transition, bit 3 FULL_RST asks for a power cycle with a hard reset.
 * Port 0x92, System Control Port A: Intel 82371AB PIIX4 datasheet, "Port
 * 92 Register": bit 0 ALT_RST pulses INIT on a 0-to-1 transition, bit 1
 * ALT_A20_GATE is ORed with the keyboard controller's A20GATE output to
 * form A20M#.
 *
 * Vanderpool has one kind of reset: the platform reset (devices and CPUs
 * to power-on state, RAM cleared, the boot image loaded again, or a stop
 * when reboot is off). INIT-only resets (soft reset, port 92h bit 0) are
 * carried out as that platform reset and logged once. */
#include <stdlib.h>

#include "emu/dev/devices.h"
#include "emu/dev/sysctl.h"

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08

#define P92_ALT_RST 0x01
#define P92_A20 0x02

struct vp_sysctl {
    vp_machine *m;
    uint8_t rcr;
    uint8_t port92;
    bool kbc_a20;
    vp_kbc *kbc;
};

static void sysctl_update_a20(vp_sysctl *s)
{
    bool on = (s->port92 & P92_A20) || s->kbc_a20;
    uint64_t mask = on ? ~0ull : ~(1ull << 20);
    if (s->m->mem.a20_mask != mask) {
        s->m->mem.a20_mask = mask;
        s->m->a20_gen++;
        VP_TRACE(&s->m->trace, DEV, "A20 %s", on ? "enabled" : "masked");
    }
}

void vp_sysctl_set_kbc_a20(vp_sysctl *s, bool enabled)
{
    s->kbc_a20 = enabled;
    sysctl_update_a20(s);
}

static void sysctl_init_reset(vp_sysctl *s, const char *why)
{
    VP_UNIMPL_ONCE(&s->m->trace,
                   "INIT-only reset (%s) performed as a platform reset", why);
    vp_machine_request_reset(s->m);
}

uint8_t vp_sysctl_rcr_read(vp_sysctl *s)
{
    return s->rcr;
}

void vp_sysctl_rcr_write(vp_sysctl *s, uint8_t v)
{
    uint8_t old = s->rcr;
    s->rcr = v & (RCR_SYS_RST | RCR_RST_CPU | RCR_FULL_RST);
    if ((v & RCR_RST_CPU) && !(old & RCR_RST_CPU)) {
        VP_TRACE(&s->m->trace, DEV, "port 0xcf9: %s reset requested (%#x)",
                 (v & RCR_SYS_RST) ? "hard" : "soft", v);
        if (v & RCR_SYS_RST)
            vp_machine_request_reset(s->m);
        else
            sysctl_init_reset(s, "port 0xcf9 with SYS_RST=0");
    }
}

static uint64_t rcr_io_read(void *opaque, uint64_t off, unsigned size)
{
    (void)off;
    (void)size;
    return vp_sysctl_rcr_read(opaque);
}

static void rcr_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    (void)off;
    (void)size;
    vp_sysctl_rcr_write(opaque, (uint8_t)v);
}

static uint64_t p92_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_sysctl *s = opaque;
    (void)off;
    (void)size;
    return s->port92;
}

static void p92_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    vp_sysctl *s = opaque;
    uint8_t old = s->port92;
    (void)off;
    (void)size;
    s->port92 = (uint8_t)v & (P92_ALT_RST | P92_A20);
    sysctl_update_a20(s);
    if ((v & P92_ALT_RST) && !(old & P92_ALT_RST))
        sysctl_init_reset(s, "port 0x92 bit 0");
}

static const vp_io_ops rcr_ops = {
    .name = "reset-control",
    .read = rcr_io_read,
    .write = rcr_io_write,
    .widths = VP_W8,
};

static const vp_io_ops p92_ops = {
    .name = "port92",
    .read = p92_io_read,
    .write = p92_io_write,
    .widths = VP_W8,
};

vp_sysctl *vp_sysctl_create(vp_machine *m, vp_error *err)
{
    vp_sysctl *s = calloc(1, sizeof(*s));
    if (!s) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    s->m = m;
    /* The 8042 output port powers on with A20 enabled, so A20 is on. */
    s->kbc_a20 = true;
    if (vp_ioport_register(&m->io, 0xcf9, 1, &rcr_ops, s) < 0 ||
        vp_ioport_register(&m->io, 0x92, 1, &p92_ops, s) < 0) {
        vp_fail(err, "reset control: ports 0xcf9/0x92 already in use");
        free(s);
        return NULL;
    }
    s->kbc = vp_kbc_create(m, s, err);
    if (!s->kbc) {
        free(s);
        return NULL;
    }
    sysctl_update_a20(s);
    return s;
}

void vp_sysctl_reset(vp_sysctl *s)
{
    s->rcr = 0;
    s->port92 = 0;
    vp_kbc_reset(s->kbc); /* sets kbc_a20 back through the output port */
    sysctl_update_a20(s);
}

void vp_sysctl_free(vp_sysctl *s)
{
    if (!s)
        return;
    vp_kbc_free(s->kbc);
    free(s);
}
