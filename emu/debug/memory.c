/* Guest memory for debuggers: RAM and ROM are read and written directly;
 * MMIO is never touched (a device read can change device state), so it
 * reads as 0xff. Linear accesses translate with vp_debug_translate. */
#include "emu/debug/debug.h"

#include <string.h>

#include "emu/cpu/internal.h"

/* Bytes at gpa that can be served in one piece: RAM to the page end, or
 * ROM; *src is NULL for anything else. */
static size_t chunk_at(vp_physmem *pm, uint64_t gpa, size_t len,
                       uint8_t **src, bool for_write)
{
    size_t chunk = VP_PAGE_SIZE - (gpa & (VP_PAGE_SIZE - 1));
    if (chunk > len)
        chunk = len;
    *src = vp_phys_ram(pm, gpa);
    if (*src || for_write)
        return chunk;
    uint64_t a = gpa & pm->a20_mask;
    if (a >= VP_ROM_START && a < VP_ROM_END) {
        *src = &pm->rom[a - VP_ROM_START];
        if (chunk > VP_ROM_END - a)
            chunk = (size_t)(VP_ROM_END - a);
    }
    return chunk;
}

size_t vp_debug_read_phys(vp_machine *m, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *b = buf;
    size_t good = 0;
    bool all = true;
    while (len) {
        uint8_t *src;
        size_t chunk = chunk_at(&m->mem, gpa, len, &src, false);
        if (src) {
            memcpy(b, src, chunk);
            if (all)
                good += chunk;
        } else {
            memset(b, 0xff, chunk);
            all = false;
        }
        b += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return good;
}

size_t vp_debug_write_phys(vp_machine *m, uint64_t gpa, const void *buf,
                           size_t len)
{
    const uint8_t *b = buf;
    size_t done = 0;
    while (len) {
        uint8_t *dst;
        size_t chunk = chunk_at(&m->mem, gpa, len, &dst, true);
        if (!dst)
            break;
        /* Through the bus so that decoded code on the page is dropped. */
        vp_phys_write(&m->mem, gpa, b, chunk);
        done += chunk;
        b += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return done;
}

size_t vp_debug_read_lin(vp_cpu *c, uint64_t lin, void *buf, size_t len)
{
    uint8_t *b = buf;
    size_t good = 0;
    bool all = true;
    memset(buf, 0xff, len);
    while (len) {
        size_t chunk = VP_PAGE_SIZE - (lin & (VP_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint64_t gpa;
        if (vp_debug_translate(c, lin, &gpa) < 0)
            break;
        size_t n = vp_debug_read_phys(c->m, gpa, b, chunk);
        if (all)
            good += n;
        if (n < chunk)
            all = false;
        b += chunk;
        lin += chunk;
        len -= chunk;
    }
    return good;
}

size_t vp_debug_write_lin(vp_cpu *c, uint64_t lin, const void *buf,
                          size_t len)
{
    const uint8_t *b = buf;
    size_t done = 0;
    while (len) {
        size_t chunk = VP_PAGE_SIZE - (lin & (VP_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint64_t gpa;
        if (vp_debug_translate(c, lin, &gpa) < 0)
            break;
        size_t n = vp_debug_write_phys(c->m, gpa, b, chunk);
        done += n;
        if (n < chunk)
            break;
        b += chunk;
        lin += chunk;
        len -= chunk;
    }
    return done;
}
