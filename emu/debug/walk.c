/* Paging as a debugger sees it: one walk recorded level by level, and the
 * enumeration of every mapping of the current address space. Both read
 * paging structures from RAM only, ignore access rights, and change
 * nothing (no TLB fill, no accessed/dirty bits). The CPU's own walk is
 * mmu/paging.c; the monitor shows its verdict next to this record.
 *
 * SDM Vol 3A, "Paging": "32-Bit Paging", "PAE Paging", "4-Level Paging and
 * 5-Level Paging", "Access Rights". */
#include "emu/debug/debug.h"

#include <string.h>

#include "emu/cpu/internal.h"

#define E_P VP_BIT(0)
#define E_W VP_BIT(1)
#define E_U VP_BIT(2)
#define E_PS VP_BIT(7)
#define E_G VP_BIT(8)
#define E_XD VP_BIT(63)

vp_paging_mode vp_debug_paging_mode(const vp_cpu *c)
{
    if (!(c->cr0 & CR0_PG))
        return VP_PAGING_NONE;
    if (!(c->cr4 & CR4_PAE))
        return VP_PAGING_32;
    if (!c->long_mode)
        return VP_PAGING_PAE;
    return (c->cr4 & CR4_LA57) ? VP_PAGING_5LEVEL : VP_PAGING_4LEVEL;
}

const char *vp_debug_paging_mode_name(vp_paging_mode mode)
{
    switch (mode) {
    case VP_PAGING_NONE: return "paging off";
    case VP_PAGING_32: return "32-bit paging";
    case VP_PAGING_PAE: return "PAE paging";
    case VP_PAGING_4LEVEL: return "4-level paging";
    case VP_PAGING_5LEVEL: return "5-level paging";
    }
    return "?";
}

static uint64_t addr_mask(const vp_cpu *c)
{
    unsigned bits = c->model ? c->model->phys_bits : 39;
    return ((1ull << bits) - 1) & ~0xfffull;
}

static bool read_entry(vp_cpu *c, uint64_t gpa, unsigned size, uint64_t *v)
{
    uint8_t *h = vp_phys_ram(&c->m->mem, gpa);
    *v = 0;
    if (!h)
        return false;
    memcpy(v, h, size);
    return true;
}

/* Describes one paging mode's levels. */
typedef struct mode_desc {
    int top;              /* highest level number */
    unsigned esize;       /* entry bytes */
    unsigned bits;        /* index bits per level (top level of PAE: 2) */
    bool nx;              /* entries have XD */
} mode_desc;

static const char *level_name(vp_paging_mode mode, int level)
{
    static const char *const names[] = {"", "PTE", "PDE", "PDPTE", "PML4E",
                                        "PML5E"};
    if (mode == VP_PAGING_32 && level == 2)
        return "PDE";
    return names[level];
}

static unsigned level_shift(vp_paging_mode mode, int level)
{
    if (mode == VP_PAGING_32)
        return level == 2 ? 22 : 12;
    return 12 + 9 * (unsigned)(level - 1);
}

static uint64_t level_index(vp_paging_mode mode, int level, uint64_t lin)
{
    unsigned sh = level_shift(mode, level);
    if (mode == VP_PAGING_32)
        return (lin >> sh) & 0x3ff;
    if (mode == VP_PAGING_PAE && level == 3)
        return (lin >> 30) & 3;
    return (lin >> sh) & 0x1ff;
}

/* Base of the top-level table. */
static uint64_t top_table(const vp_cpu *c, vp_paging_mode mode)
{
    if (mode == VP_PAGING_32)
        return c->cr3 & 0xfffff000ull;
    if (mode == VP_PAGING_PAE)
        return c->cr3 & 0xffffffe0ull;
    return c->cr3 & addr_mask(c);
}

static int top_level(vp_paging_mode mode)
{
    switch (mode) {
    case VP_PAGING_32: return 2;
    case VP_PAGING_PAE: return 3;
    case VP_PAGING_4LEVEL: return 4;
    case VP_PAGING_5LEVEL: return 5;
    default: return 0;
    }
}

/* Decodes one entry: leaf?, reserved bits?, its permissions, the address
 * it points at (next table or page frame). */
typedef struct entry_info {
    bool present, leaf, rsvd;
    unsigned perm;
    uint64_t next;        /* next table, or the page base for a leaf */
    uint64_t page_size;
} entry_info;

static entry_info decode_entry(const vp_cpu *c, vp_paging_mode mode,
                               int level, uint64_t e)
{
    entry_info x = {0};
    bool nxe = (c->efer & EFER_NXE) != 0;
    x.present = (e & E_P) != 0;
    if (!x.present)
        return x;
    x.perm = VP_PERM_X;
    if (e & E_W)
        x.perm |= VP_PERM_W;
    if (e & E_U)
        x.perm |= VP_PERM_U;
    if (mode == VP_PAGING_32) {
        bool ps = level == 2 && (e & E_PS) && (c->cr4 & CR4_PSE);
        x.leaf = level == 1 || ps;
        if (ps) {
            x.page_size = 4ull << 20;
            x.next = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32);
            x.rsvd = (e & VP_BIT(21)) != 0;
        } else {
            x.page_size = 4096;
            x.next = e & 0xfffff000ull;
        }
        if (x.leaf && (e & E_G) && (c->cr4 & CR4_PGE))
            x.perm |= VP_PERM_G;
        return x;
    }
    uint64_t amask = addr_mask(c);
    uint64_t rsvd = ~amask & 0x000ffffffffff000ull;
    if (!nxe)
        rsvd |= E_XD;
    if (mode == VP_PAGING_PAE && level == 3) {
        /* PDPTEs grant no rights; bits 2:1, 8:5 and 63 are reserved. */
        x.perm = VP_PERM_W | VP_PERM_U | VP_PERM_X;
        x.rsvd = (e & (0x1e6ull | E_XD | rsvd)) != 0;
        x.next = e & amask;
        return x;
    }
    if (nxe && (e & E_XD))
        x.perm &= ~(unsigned)VP_PERM_X;
    bool ps = (e & E_PS) != 0;
    x.rsvd = (e & rsvd) != 0;
    if (ps && (level >= 4 || (level == 3 && mode != VP_PAGING_4LEVEL &&
                              mode != VP_PAGING_5LEVEL)))
        x.rsvd = true;
    x.leaf = level == 1 || (ps && level <= 3);
    if (x.leaf) {
        x.page_size = 1ull << level_shift(mode, level);
        if (level > 1 && (e & (x.page_size - 1) & ~0x1fffull))
            x.rsvd = true;   /* bits below the page size, except PAT */
        x.next = e & amask & ~(x.page_size - 1);
        if ((e & E_G) && (c->cr4 & CR4_PGE))
            x.perm |= VP_PERM_G;
    } else {
        x.next = e & amask;
    }
    return x;
}

int vp_debug_walk(vp_cpu *c, uint64_t lin, vp_walk_trace *t)
{
    memset(t, 0, sizeof(*t));
    t->lin = lin;
    t->mode = vp_debug_paging_mode(c);
    if (t->mode == VP_PAGING_NONE) {
        t->ok = true;
        t->gpa = c->long_mode ? lin : (lin & 0xffffffffull);
        t->page_size = 4096;
        t->perm = VP_PERM_W | VP_PERM_U | VP_PERM_X;
        return 0;
    }
    if (t->mode != VP_PAGING_4LEVEL && t->mode != VP_PAGING_5LEVEL)
        lin &= 0xffffffffull;
    unsigned esize = t->mode == VP_PAGING_32 ? 4 : 8;
    uint64_t table = top_table(c, t->mode);
    unsigned acc = VP_PERM_W | VP_PERM_U | VP_PERM_X;
    for (int level = top_level(t->mode); level >= 1; level--) {
        vp_walk_level *l = &t->lv[t->nlevels++];
        l->name = level_name(t->mode, level);
        l->level = level;
        l->index = level_index(t->mode, level, lin);
        l->entry_addr = table + l->index * esize;
        l->size = esize;
        l->readable = read_entry(c, l->entry_addr, esize, &l->entry);
        if (!l->readable) {
            t->why = "paging structure outside RAM";
            return -1;
        }
        entry_info x = decode_entry(c, t->mode, level, l->entry);
        l->present = x.present;
        if (!x.present) {
            t->why = "not present";
            return -1;
        }
        l->leaf = x.leaf;
        l->rsvd = x.rsvd;
        l->perm = x.perm;
        acc = (acc & x.perm & ~(unsigned)VP_PERM_G) | (x.perm & VP_PERM_G);
        l->perm_acc = acc;
        if (x.rsvd) {
            t->why = "reserved bit set";
            return -1;
        }
        if (x.leaf) {
            t->ok = true;
            t->page_size = x.page_size;
            t->gpa = x.next + (lin & (x.page_size - 1));
            t->perm = acc;
            return 0;
        }
        table = x.next;
    }
    t->why = "no leaf";
    return -1;
}

int vp_debug_translate(vp_cpu *c, uint64_t lin, uint64_t *gpa)
{
    vp_walk_trace t;
    if (vp_debug_walk(c, lin, &t) < 0)
        return -1;
    *gpa = t.gpa;
    return 0;
}

/* ---- enumeration ------------------------------------------------------ */

typedef struct enum_ctx {
    vp_cpu *c;
    vp_paging_mode mode;
    vp_mapping_fn fn;
    void *opaque;
    uint64_t count;
    uint64_t entries;     /* read so far (VP_DBG_MAX_ENTRIES) */
    bool stop;
    bool truncated;
} enum_ctx;

static uint64_t canonical(vp_paging_mode mode, uint64_t lin)
{
    unsigned bits = mode == VP_PAGING_5LEVEL ? 57 : 48;
    if (mode != VP_PAGING_4LEVEL && mode != VP_PAGING_5LEVEL)
        return lin;
    return (uint64_t)((int64_t)(lin << (64 - bits)) >> (64 - bits));
}

static void enum_table(enum_ctx *x, uint64_t table, int level, uint64_t base,
                       unsigned acc)
{
    vp_paging_mode mode = x->mode;
    unsigned esize = mode == VP_PAGING_32 ? 4 : 8;
    unsigned n = mode == VP_PAGING_32 ? 1024
                 : (mode == VP_PAGING_PAE && level == 3) ? 4 : 512;
    unsigned shift = mode == VP_PAGING_PAE && level == 3
                         ? 30 : level_shift(mode, level);
    for (unsigned i = 0; i < n && !x->stop; i++) {
        uint64_t e;
        if (++x->entries > VP_DBG_MAX_ENTRIES) {
            x->stop = x->truncated = true;
            return;
        }
        if (!read_entry(x->c, table + (uint64_t)i * esize, esize, &e))
            return;
        entry_info d = decode_entry(x->c, mode, level, e);
        if (!d.present || d.rsvd)
            continue;
        uint64_t lin = canonical(mode, base + ((uint64_t)i << shift));
        unsigned a = (acc & d.perm) | (d.perm & VP_PERM_G);
        if (d.leaf) {
            x->count++;
            if (x->fn(x->opaque, lin, d.next, d.page_size, a))
                x->stop = true;
        } else if (level > 1) {
            enum_table(x, d.next, level - 1, lin, a & ~(unsigned)VP_PERM_G);
        }
    }
}

uint64_t vp_debug_mappings(vp_cpu *c, vp_mapping_fn fn, void *opaque,
                           bool *complete)
{
    enum_ctx x = {.c = c, .mode = vp_debug_paging_mode(c), .fn = fn,
                  .opaque = opaque};
    if (complete)
        *complete = true;
    if (x.mode == VP_PAGING_NONE) {
        uint64_t size = 1ull << 32;
        if (c->long_mode && c->model)
            size = 1ull << c->model->phys_bits;
        fn(opaque, 0, 0, size, VP_PERM_W | VP_PERM_U | VP_PERM_X);
        return 1;
    }
    enum_table(&x, top_table(c, x.mode), top_level(x.mode), 0,
               VP_PERM_W | VP_PERM_U | VP_PERM_X);
    if (complete)
        *complete = !x.truncated;
    return x.count;
}
