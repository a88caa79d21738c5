/* Guest physical memory: RAM, ROM, MMIO dispatch. */
#include "emu/bus/physmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int vp_physmem_init(vp_physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    if (ram_size < 2 * 1024 * 1024 || (ram_size & (VP_PAGE_SIZE - 1)))
        return -1;
    pm->ram_size = ram_size;
    pm->low_size = ram_size < VP_MMIO_WINDOW ? ram_size : VP_MMIO_WINDOW;
    pm->high_size = ram_size - pm->low_size;
    /* Anonymous mapping: zero-filled, pages committed on first touch. */
    void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    pm->ram = p;
    pm->npages = ram_size / VP_PAGE_SIZE;
    pm->code_gen = calloc(pm->npages, sizeof(uint32_t));
    pm->code_page = calloc(pm->npages, 1);
    if (!pm->code_gen || !pm->code_page) {
        vp_physmem_free(pm);
        return -1;
    }
    memset(pm->rom, 0xff, sizeof(pm->rom));
    pm->a20_mask = ~0ull;
    return 0;
}

void vp_physmem_free(vp_physmem *pm)
{
    if (pm->ram)
        munmap(pm->ram, pm->ram_size);
    free(pm->code_gen);
    free(pm->code_page);
    pm->ram = NULL;
    pm->code_gen = NULL;
    pm->code_page = NULL;
}

int vp_physmem_add_mmio(vp_physmem *pm, uint64_t base, uint64_t size,
                        const vp_io_ops *ops, void *opaque)
{
    if (pm->nmmio >= VP_MMIO_MAX || size == 0)
        return -1;
    for (int i = 0; i < pm->nmmio; i++) {
        const vp_mmio_region *r = &pm->mmio[i];
        if (base < r->base + r->size && r->base < base + size)
            return -1;
    }
    pm->mmio[pm->nmmio++] = (vp_mmio_region){base, size, ops, opaque};
    return 0;
}

int vp_physmem_move_mmio(vp_physmem *pm, const vp_io_ops *ops, void *opaque,
                         uint64_t new_base, bool enable)
{
    for (int i = 0; i < pm->nmmio; i++) {
        vp_mmio_region *r = &pm->mmio[i];
        if (r->ops == ops && r->opaque == opaque) {
            vp_mmio_region moved = *r;
            pm->mmio[i] = pm->mmio[--pm->nmmio];
            if (!enable)
                return 0;
            return vp_physmem_add_mmio(pm, new_base, moved.size, moved.ops,
                                       moved.opaque);
        }
    }
    return -1;
}

static int64_t ram_offset(const vp_physmem *pm, uint64_t gpa)
{
    if (gpa < pm->low_size) {
        if (gpa >= VP_LOW_HOLE_START && gpa < VP_ROM_END)
            return -1;
        return (int64_t)gpa;
    }
    if (gpa >= VP_HIGH_RAM_START && gpa - VP_HIGH_RAM_START < pm->high_size)
        return (int64_t)(pm->low_size + (gpa - VP_HIGH_RAM_START));
    return -1;
}

int64_t vp_phys_ram_page(const vp_physmem *pm, uint64_t gpa)
{
    int64_t off = vp_phys_ram_offset(pm, gpa);
    return off < 0 ? -1 : off / (int64_t)VP_PAGE_SIZE;
}

uint8_t *vp_phys_ram(vp_physmem *pm, uint64_t gpa)
{
    int64_t off = vp_phys_ram_offset(pm, gpa);
    return off < 0 ? NULL : pm->ram + off;
}

static vp_mmio_region *find_mmio(vp_physmem *pm, uint64_t gpa)
{
    for (int i = 0; i < pm->nmmio; i++) {
        vp_mmio_region *r = &pm->mmio[i];
        if (gpa - r->base < r->size)
            return r;
    }
    return NULL;
}

static unsigned width_bit(unsigned size)
{
    return size == 1 ? VP_W8 : size == 2 ? VP_W16 : size == 4 ? VP_W32 : VP_W64;
}

/* One naturally-aligned piece that does not cross a region or page. */
static uint64_t read_piece(vp_physmem *pm, uint64_t gpa, unsigned size)
{
    gpa &= pm->a20_mask;
    uint8_t *h = vp_phys_ram(pm, gpa);
    uint64_t v = 0;
    if (h) {
        memcpy(&v, h, size);
        return v;
    }
    if (gpa >= VP_ROM_START && gpa < VP_ROM_END) {
        memcpy(&v, &pm->rom[gpa - VP_ROM_START], size);
        return v;
    }
    vp_mmio_region *r = find_mmio(pm, gpa);
    if (r && r->ops->read) {
        if (r->ops->widths & width_bit(size))
            v = r->ops->read(r->opaque, gpa - r->base, size);
        else if (size > 1) {
            unsigned half = size / 2;
            v = read_piece(pm, gpa, half) |
                read_piece(pm, gpa + half, half) << (half * 8);
        } else
            v = 0xff;
        if (pm->trace)
            VP_TRACE(pm->trace, IO, "mmio read  %#llx size %u -> %#llx",
                     (unsigned long long)gpa, size, (unsigned long long)v);
        return v;
    }
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void write_piece(vp_physmem *pm, uint64_t gpa, uint64_t v, unsigned size)
{
    gpa &= pm->a20_mask;
    int64_t off = ram_offset(pm, gpa);
    if (off >= 0) {
        memcpy(pm->ram + off, &v, size);
        vp_phys_note_write(pm, off / (int64_t)VP_PAGE_SIZE);
        return;
    }
    vp_mmio_region *r = find_mmio(pm, gpa);
    if (r && r->ops->write) {
        if (pm->trace)
            VP_TRACE(pm->trace, IO, "mmio write %#llx size %u <- %#llx",
                     (unsigned long long)gpa, size, (unsigned long long)v);
        if (r->ops->widths & width_bit(size))
            r->ops->write(r->opaque, gpa - r->base, v, size);
        else if (size > 1) {
            unsigned half = size / 2;
            write_piece(pm, gpa, v & ((1ull << (half * 8)) - 1), half);
            write_piece(pm, gpa + half, v >> (half * 8), half);
        }
    }
}

uint64_t vp_phys_read_n(vp_physmem *pm, uint64_t gpa, unsigned size)
{
    if ((gpa & (size - 1)) == 0)
        return read_piece(pm, gpa, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= read_piece(pm, gpa + i, 1) << (8 * i);
    return v;
}

void vp_phys_write_n(vp_physmem *pm, uint64_t gpa, uint64_t v, unsigned size)
{
    if ((gpa & (size - 1)) == 0) {
        write_piece(pm, gpa, v, size);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        write_piece(pm, gpa + i, (v >> (8 * i)) & 0xff, 1);
}

void vp_phys_read(vp_physmem *pm, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        uint8_t *h = vp_phys_ram(pm, gpa);
        size_t chunk = VP_PAGE_SIZE - (gpa & (VP_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        if (h) {
            memcpy(b, h, chunk);
        } else {
            for (size_t i = 0; i < chunk; i++)
                b[i] = (uint8_t)read_piece(pm, gpa + i, 1);
        }
        b += chunk;
        gpa += chunk;
        len -= chunk;
    }
}

void vp_phys_write(vp_physmem *pm, uint64_t gpa, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    while (len) {
        size_t chunk = VP_PAGE_SIZE - (gpa & (VP_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        int64_t off = ram_offset(pm, gpa & pm->a20_mask);
        if (off >= 0) {
            memcpy(pm->ram + off, b, chunk);
            vp_phys_note_write(pm, off / (int64_t)VP_PAGE_SIZE);
        } else {
            for (size_t i = 0; i < chunk; i++)
                write_piece(pm, gpa + i, b[i], 1);
        }
        b += chunk;
        gpa += chunk;
        len -= chunk;
    }
}

bool vp_phys_is_ram(const vp_physmem *pm, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return true;
    if (gpa + len < gpa)
        return false;
    for (uint64_t a = gpa & VP_PAGE_MASK; a < gpa + len; a += VP_PAGE_SIZE)
        if (ram_offset(pm, a) < 0)
            return false;
    return true;
}

int vp_phys_load(vp_physmem *pm, uint64_t gpa, const void *buf, uint64_t len)
{
    if (!vp_phys_is_ram(pm, gpa, len))
        return -1;
    vp_phys_write(pm, gpa, buf, len);
    return 0;
}

int vp_phys_ram_ranges(const vp_physmem *pm, vp_ram_range *out, int max)
{
    vp_ram_range r[3];
    int n = 0;
    r[n++] = (vp_ram_range){0, VP_LOW_HOLE_START};
    if (pm->low_size > VP_ROM_END)
        r[n++] = (vp_ram_range){VP_ROM_END, pm->low_size - VP_ROM_END};
    if (pm->high_size)
        r[n++] = (vp_ram_range){VP_HIGH_RAM_START, pm->high_size};
    if (n > max)
        n = max;
    memcpy(out, r, (size_t)n * sizeof(r[0]));
    return n;
}
