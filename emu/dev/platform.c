/* Legacy platform device set-up (placeholder until the devices land). */
#include "emu/dev/platform.h"

int vp_platform_init(vp_machine *m, vp_error *err)
{
    (void)m;
    (void)err;
    return 0;
}

void vp_platform_reset(vp_machine *m)
{
    (void)m;
}

void vp_platform_free(vp_machine *m)
{
    (void)m;
}
