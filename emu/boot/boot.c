/* Boot dispatch (placeholder until the loaders land). */
#include "emu/boot/boot.h"

int vp_boot_load(vp_machine *m, vp_error *err)
{
    (void)m;
    return vp_fail(err, "%s: no loader built yet", m->cfg.kernel);
}
