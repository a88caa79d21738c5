/* Register table lookup. */
#include "emu/bus/device.h"

const vp_reg_desc *vp_reg_find(const vp_reg_desc *tab, size_t n,
                               uint32_t offset)
{
    for (size_t i = 0; i < n; i++)
        if (tab[i].offset == offset)
            return &tab[i];
    return NULL;
}
