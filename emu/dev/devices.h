/* Interfaces between the legacy platform devices and platform.c (not for
 * other parts of the emulator, which use platform.h, pic8259.h, fwcfg.h
 * and sysctl.h).
 *
 *   pic8259.c    8259A pair and the ELCR                  0x20, 0xA0, 0x4D0
 *   pit8254.c    8254 timer and system control port B     0x40-0x43, 0x61
 *   mc146818.c   RTC and CMOS RAM                         0x70-0x71
 *   uart16550.c  16550A UARTs                             0x3F8, 0x2F8
 *   debugcon.c   Bochs/QEMU debug console                 0xE9
 *   debugexit.c  QEMU isa-debug-exit                      0xF4-0xF7
 *   fwcfg.c      QEMU firmware configuration device       0x510-0x511
 *   sysctl.c     reset control, port 92h, A20             0xCF9, 0x92
 *   i8042.c      keyboard controller (no keyboard)        0x60, 0x64
 *
 * Each device has create (allocates, registers its ports, leaves it in its
 * power-on state), reset (platform reset) and free. */
#ifndef VP_DEV_DEVICES_H
#define VP_DEV_DEVICES_H

#include "emu/machine.h"

typedef struct vp_kbc vp_kbc;

vp_pic *vp_pic_create(vp_machine *m, vp_error *err);
void vp_pic_reset(vp_pic *p);
void vp_pic_free(vp_pic *p);

vp_pit *vp_pit_create(vp_machine *m, vp_error *err);
void vp_pit_reset(vp_pit *p);
void vp_pit_free(vp_pit *p);

vp_rtc *vp_rtc_create(vp_machine *m, vp_error *err);
void vp_rtc_reset(vp_rtc *r);
void vp_rtc_free(vp_rtc *r);

vp_uart *vp_uart_create(vp_machine *m, int index, uint16_t base, int irq,
                        vp_error *err);
void vp_uart_reset(vp_uart *u);
void vp_uart_free(vp_uart *u);

int vp_debugcon_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;
int vp_debugexit_init(vp_machine *m, vp_error *err) VP_MUST_CHECK;

vp_fwcfg *vp_fwcfg_create(vp_machine *m, vp_error *err);
void vp_fwcfg_reset(vp_fwcfg *f);
void vp_fwcfg_free(vp_fwcfg *f);

vp_sysctl *vp_sysctl_create(vp_machine *m, vp_error *err);
void vp_sysctl_reset(vp_sysctl *s);
void vp_sysctl_free(vp_sysctl *s);
/* The 8042's output-port A20 line (ORed with port 92h bit 1). */
void vp_sysctl_set_kbc_a20(vp_sysctl *s, bool enabled);

/* The 8042 drives A20 and reset through the system control logic. */
vp_kbc *vp_kbc_create(vp_machine *m, vp_sysctl *sys, vp_error *err);
void vp_kbc_reset(vp_kbc *k);
void vp_kbc_free(vp_kbc *k);

/* ---- Time helpers shared by the clocked devices ---- */

/* floor(a * b / c) for the ns <-> oscillator-tick conversions, exact while
 * (a % c) * b fits in 64 bits (true for every b, c below 2^32). */
static inline uint64_t vp_dev_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
    return (a / c) * b + ((a % c) * b) / c;
}

/* ceil(a * b / c), same range. */
static inline uint64_t vp_dev_muldiv_ceil(uint64_t a, uint64_t b, uint64_t c)
{
    return (a / c) * b + ((a % c) * b + c - 1) / c;
}

static inline uint8_t vp_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* Decodes a BCD byte; digits above 9 are taken at face value. */
static inline unsigned vp_from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0xfu);
}

#endif
