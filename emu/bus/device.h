/* A device as the buses see it: an opaque pointer and read/write callbacks
 * registered on a range, with the access widths it handles. Registers are
 * declared as data (reset value, writable mask, write-1-to-clear mask) and a
 * generic routine applies the masks; device code implements side effects. */
#ifndef VP_BUS_DEVICE_H
#define VP_BUS_DEVICE_H

#include "emu/base/compiler.h"

/* Access widths, as a bitmask in vp_io_ops.widths. */
enum {
    VP_W8 = 1u << 0,
    VP_W16 = 1u << 1,
    VP_W32 = 1u << 2,
    VP_W64 = 1u << 3,
    VP_WALL = VP_W8 | VP_W16 | VP_W32 | VP_W64,
};

typedef struct vp_io_ops {
    const char *name;
    /* offset is relative to the start of the registered range; size is 1,
     * 2, 4 or 8 and always one of the declared widths, naturally split by
     * the bus otherwise (little-endian, lowest address first). */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value,
                  unsigned size);
    unsigned widths;
} vp_io_ops;

/* A register described once. */
typedef struct vp_reg_desc {
    const char *name;
    uint32_t offset;
    uint8_t size;      /* bytes */
    uint64_t reset;
    uint64_t wmask;    /* bits software may write */
    uint64_t w1c;      /* bits cleared by writing 1 */
} vp_reg_desc;

/* New value of a register after software writes `val`: read-only bits keep
 * `old`, writable bits take `val`, write-1-to-clear bits clear where `val`
 * has a 1. */
static inline uint64_t vp_reg_apply(const vp_reg_desc *d, uint64_t old,
                                    uint64_t val)
{
    uint64_t v = (old & ~d->wmask) | (val & d->wmask);
    v &= ~(val & d->w1c & old);
    return v & (d->size >= 8 ? ~0ull : ((1ull << (d->size * 8)) - 1));
}

/* Returns the descriptor at offset, or NULL. */
const vp_reg_desc *vp_reg_find(const vp_reg_desc *tab, size_t n,
                               uint32_t offset);

/* An interrupt line: a device raises or lowers it; the machine routes it
 * (ISA IRQ n goes to the PIC and to I/O APIC pin n, or pin 2 for IRQ0). */
typedef struct vp_irq_line {
    void (*set)(void *opaque, int line, int level);
    void *opaque;
    int line;
} vp_irq_line;

static inline void vp_irq_set(const vp_irq_line *l, int level)
{
    if (l->set)
        l->set(l->opaque, l->line, level);
}

/* A byte stream the frontend provides (stdout, a file, stdin). */
typedef struct vp_chardev {
    void *opaque;
    void (*write)(void *opaque, const uint8_t *buf, size_t n);
    /* Next input byte, or -1 if none is available now. May be NULL. */
    int (*read)(void *opaque);
} vp_chardev;

#endif
