/* 8259A pair (placeholder until the device lands). */
#include "emu/dev/pic8259.h"

int vp_pic_intack(vp_pic *p)
{
    (void)p;
    return 0x0f;
}

bool vp_pic_intr_level(const vp_pic *p)
{
    (void)p;
    return false;
}
