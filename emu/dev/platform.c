/* Legacy PC platform: creates, resets and frees the devices of devices.h
 * in a fixed order (the 8259 pair first, so that it is an ISA IRQ sink
 * before any device drives a line). */
#include "emu/dev/platform.h"

#include "emu/dev/devices.h"

/* COM1 and COM2 as the PC/AT assigns them. */
static const struct {
    uint16_t base;
    int irq;
} uart_slots[2] = {{0x3f8, 4}, {0x2f8, 3}};

int vp_platform_init(vp_machine *m, vp_error *err)
{
    if (!(m->pic = vp_pic_create(m, err)))
        return -1;
    if (!(m->pit = vp_pit_create(m, err)))
        return -1;
    if (!(m->rtc = vp_rtc_create(m, err)))
        return -1;
    for (int i = 0; i < 2; i++)
        if (!(m->uart[i] = vp_uart_create(m, i, uart_slots[i].base,
                                          uart_slots[i].irq, err)))
            return -1;
    if (vp_debugcon_init(m, err) < 0 || vp_debugexit_init(m, err) < 0)
        return -1;
    if (!(m->fwcfg = vp_fwcfg_create(m, err)))
        return -1;
    if (!(m->sysctl = vp_sysctl_create(m, err)))
        return -1;
    return 0;
}

void vp_platform_reset(vp_machine *m)
{
    if (m->pic)
        vp_pic_reset(m->pic);
    if (m->pit)
        vp_pit_reset(m->pit);
    if (m->rtc)
        vp_rtc_reset(m->rtc);
    for (int i = 0; i < 2; i++)
        if (m->uart[i])
            vp_uart_reset(m->uart[i]);
    if (m->fwcfg)
        vp_fwcfg_reset(m->fwcfg);
    if (m->sysctl)
        vp_sysctl_reset(m->sysctl);
}

void vp_platform_free(vp_machine *m)
{
    vp_sysctl_free(m->sysctl);
    vp_fwcfg_free(m->fwcfg);
    for (int i = 1; i >= 0; i--)
        vp_uart_free(m->uart[i]);
    vp_rtc_free(m->rtc);
    vp_pit_free(m->pit);
    vp_pic_free(m->pic);
    m->sysctl = NULL;
    m->fwcfg = NULL;
    m->uart[0] = m->uart[1] = NULL;
    m->rtc = NULL;
    m->pit = NULL;
    m->pic = NULL;
}
