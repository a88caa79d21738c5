/* Software TLB and linear/segmented memory access.
 *
 * The TLB is direct-mapped, one array per access kind (read, write, fetch)
 * and privilege (supervisor, user), so a hit implies the permission check
 * already passed. Entries hold the host addend of RAM pages; MMIO, ROM and
 * pages holding decoded code (for writes) never enter it, so those
 * accesses take the slow path, which also notices self-modifying code. */
#include "emu/cpu/insn.h"
#include "emu/cpu/debugreg.h"
#include "emu/debug/debug.h"

#include <string.h>

void vp_tlb_flush(vp_cpu *c, bool include_global)
{
    c->tlb_epoch++;
    c->link_epoch++;
    if (include_global) {
        memset(&c->tlb, 0, sizeof(c->tlb));
        return;
    }
    for (int k = 0; k < TLB_KINDS; k++)
        for (int u = 0; u < 2; u++)
            for (unsigned i = 0; i < VP_TLB_SIZE; i++)
                if (!c->tlb.e[k][u][i].global)
                    c->tlb.e[k][u][i].tag = 0;
}

void vp_tlb_flush_page(vp_cpu *c, uint64_t lin)
{
    c->tlb_epoch++;
    c->link_epoch++;
    uint64_t pn = lin >> 12;
    unsigned idx = pn & (VP_TLB_SIZE - 1);
    for (int k = 0; k < TLB_KINDS; k++)
        for (int u = 0; u < 2; u++) {
            vp_tlb_entry *e = &c->tlb.e[k][u][idx];
            /* Large pages are entered per 4-KiB page, so one slot each. */
            if (e->tag == pn + 1)
                e->tag = 0;
        }
}

/* Drops write entries for a physical page that now holds decoded code. */
void vp_tlb_drop_write_gpa(vp_cpu *c, uint64_t gpa_page)
{
    for (int u = 0; u < 2; u++)
        for (unsigned i = 0; i < VP_TLB_SIZE; i++) {
            vp_tlb_entry *e = &c->tlb.e[TLB_WRITE][u][i];
            if (e->tag && e->gpa == gpa_page)
                e->tag = 0;
        }
}

static inline bool user_access(const vp_cpu *c, unsigned acc)
{
    return c->cpl == 3 && !(acc & ACC_SUPER);
}

int vp_translate(vp_cpu *c, uint64_t lin, unsigned acc, uint64_t *gpa)
{
    vp_walk w;
    uint32_t err;
    bool user = user_access(c, acc);
    if (!(acc & ACC_NOFAULT))
        c->stats.tlb_misses[acc & ACC_KIND]++;
    if (vp_page_walk(c, lin, acc, user, true, &w, &err) < 0) {
        if (acc & ACC_NOFAULT)
            return VP_EXC;
        c->cr2 = lin;
        VP_TRACE(&c->m->trace, MMU, "#PF lin %#llx err %#x",
                 (unsigned long long)lin, err & 0xffff);
        return vp_raise_err(c, EXC_PF, err & 0xffff);
    }
    *gpa = w.gpa;
    unsigned kind = acc & ACC_KIND;
    uint8_t *host = vp_phys_ram(&c->m->mem, w.gpa & VP_PAGE_MASK);
    /* With SMAP, supervisor access to user pages depends on RFLAGS.AC at
     * each access, so such translations are not cached. */
    bool smap_dep = !user && w.user && (c->cr4 & CR4_SMAP);
    /* Pages under a watchpoint stay out of the data TLB, so that every
     * access to them reaches the check in the slow path. */
    bool watched = VP_UNLIKELY(c->debug_watch) && kind != ACC_EXEC &&
                   vp_debug_page_watched(c, lin, w.gpa);
    /* Likewise pages holding an enabled data breakpoint (debugreg.c). */
    if (VP_UNLIKELY(c->dr_data) && vp_dr_page_watched(c, lin, kind))
        watched = true;
    if (host && !(acc & ACC_NOFAULT) && !smap_dep && !watched) {
        int64_t page = vp_phys_ram_page(&c->m->mem, w.gpa);
        if (kind != ACC_WRITE || !c->m->mem.code_page[page]) {
            uint64_t pn = lin >> 12;
            vp_tlb_entry *e = &c->tlb.e[kind][user][pn & (VP_TLB_SIZE - 1)];
            e->tag = pn + 1;
            e->addend = (uintptr_t)host - (uintptr_t)(lin & VP_PAGE_MASK);
            e->gpa = w.gpa & VP_PAGE_MASK;
            e->global = w.global;
            c->stats.tlb_fills[kind]++;
        }
    }
    return VP_OK;
}

static inline uint8_t *tlb_host(vp_cpu *c, uint64_t lin, unsigned kind,
                                bool user)
{
    uint64_t pn = lin >> 12;
    vp_tlb_entry *e = &c->tlb.e[kind][user][pn & (VP_TLB_SIZE - 1)];
    if (VP_LIKELY(e->tag == pn + 1)) {
        c->stats.tlb_hits[kind]++;
        return (uint8_t *)(uintptr_t)(lin + e->addend);
    }
    return NULL;
}

/* Slow path for one access that does not cross a page. */
static int access_page(vp_cpu *c, uint64_t lin, unsigned size, uint64_t *val,
                       unsigned acc)
{
    uint64_t gpa;
    int r = vp_translate(c, lin, acc, &gpa);
    if (r)
        return r;
    if ((acc & ACC_KIND) == ACC_WRITE) {
        vp_phys_write_n(&c->m->mem, gpa, *val, size);
    } else {
        /* RAM reads straight from the host mapping (the access does not
         * cross the page: the caller split it). */
        const uint8_t *h = vp_phys_ram(&c->m->mem, gpa);
        *val = h ? load_n(h, size) : vp_phys_read_n(&c->m->mem, gpa, size);
    }
    if (VP_UNLIKELY(c->debug_watch))
        vp_debug_access(c, lin, gpa, size, acc, *val);
    if (VP_UNLIKELY(c->dr_data))
        vp_dr_data_access(c, lin, size, acc);
    return VP_OK;
}

int vp_read_lin(vp_cpu *c, uint64_t lin, unsigned size, uint64_t *val,
                unsigned acc)
{
    bool user = user_access(c, acc);
    unsigned kind = acc & ACC_KIND;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, kind, user);
        if (VP_LIKELY(h != NULL)) {
            *val = load_n(h, size);
            return VP_OK;
        }
        return access_page(c, lin, size, val, acc);
    }
    /* Page-crossing: translate both pages before touching either. */
    unsigned first = 4096 - (lin & 0xfff);
    uint64_t g1, g2, lo = 0, hi = 0;
    int r = vp_translate(c, lin, acc, &g1);
    if (!r)
        r = vp_translate(c, lin + first, acc, &g2);
    if (r)
        return r;
    for (unsigned k = 0; k < first; k++)
        lo |= vp_phys_read_n(&c->m->mem, g1 + k, 1) << (8 * k);
    for (unsigned k = 0; k < size - first; k++)
        hi |= vp_phys_read_n(&c->m->mem, g2 + k, 1) << (8 * k);
    *val = lo | (hi << (8 * first));
    if (VP_UNLIKELY(c->dr_data))
        vp_dr_data_access(c, lin, size, acc);
    if (VP_UNLIKELY(c->debug_watch)) {
        vp_debug_access(c, lin, g1, first, acc, lo);
        vp_debug_access(c, lin + first, g2, size - first, acc, hi);
    }
    return VP_OK;
}

int vp_write_lin(vp_cpu *c, uint64_t lin, unsigned size, uint64_t val,
                 unsigned acc)
{
    bool user = user_access(c, acc);
    acc = (acc & ~ACC_KIND) | ACC_WRITE;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, TLB_WRITE, user);
        if (VP_LIKELY(h != NULL)) {
            store_n(h, size, val);
            return VP_OK;
        }
        return access_page(c, lin, size, &val, acc);
    }
    unsigned first = 4096 - (lin & 0xfff);
    uint64_t g1, g2;
    int r = vp_translate(c, lin, acc, &g1);
    if (!r)
        r = vp_translate(c, lin + first, acc, &g2);
    if (r)
        return r;
    for (unsigned k = 0; k < size; k++) {
        uint64_t g = k < first ? g1 + k : g2 + (k - first);
        vp_phys_write_n(&c->m->mem, g, (val >> (8 * k)) & 0xff, 1);
    }
    if (VP_UNLIKELY(c->dr_data))
        vp_dr_data_access(c, lin, size, acc);
    if (VP_UNLIKELY(c->debug_watch)) {
        uint64_t lo = val & ((1ull << (8 * first)) - 1);
        vp_debug_access(c, lin, g1, first, acc, lo);
        vp_debug_access(c, lin + first, g2, size - first, acc,
                        val >> (8 * first));
    }
    return VP_OK;
}

int vp_seg_check(vp_cpu *c, int seg, uint64_t off, unsigned size, int kind,
                 uint64_t *lin)
{
    const vp_seg *s = &c->seg[seg];
    int fault = seg == S_SS ? EXC_SS : EXC_GP;
    if (c->code_size == 8) {
        uint64_t a = off + ((seg == S_FS || seg == S_GS) ? s->base : 0);
        if (!vp_canonical(c, a) || !vp_canonical(c, a + size - 1))
            return vp_raise_err(c, fault, 0);
        *lin = a;
        return VP_OK;
    }
    if (c->cr0 & CR0_PE && !c->v86) {
        if (s->attr & SEGA_UNUSABLE)
            return vp_raise_err(c, fault, 0);
        unsigned type = SEGA_TYPE(s->attr);
        bool write = kind == SEG_WRITE;
        if (type & 8) {          /* code: readable? never writable */
            if (write || (kind == SEG_READ && !(type & 2)))
                return vp_raise_err(c, fault, 0);
        } else if (write && !(type & 2)) {
            return vp_raise_err(c, fault, 0);
        }
        uint64_t last = off + size - 1;
        if (!(type & 8) && (type & 4)) {  /* expand-down data */
            uint64_t upper = (s->attr & SEGA_DB) ? 0xffffffffull : 0xffff;
            if (off <= s->limit || last > upper)
                return vp_raise_err(c, fault, 0);
        } else if (last > s->limit) {
            return vp_raise_err(c, fault, 0);
        }
    } else if (off + size - 1 > s->limit) {
        return vp_raise_err(c, fault, 0);
    }
    *lin = (s->base + off) & 0xffffffffull;
    return VP_OK;
}

/* Segment + TLB fast path: in 64-bit mode only FS/GS have a base and the
 * canonical check of an access inside one page is the check of its start
 * (the canonical boundary is page-aligned). */
static inline int seg_lin(vp_cpu *c, int seg, uint64_t off, unsigned size,
                          bool write, uint64_t *lin)
{
    if (VP_LIKELY(c->code_size == 8)) {
        uint64_t a = off + (seg >= S_FS ? c->seg[seg].base : 0);
        if (VP_LIKELY(((a & 0xfff) + size) <= 4096 && vp_canonical(c, a))) {
            *lin = a;
            return VP_OK;
        }
    }
    return vp_seg_check(c, seg, off, size, write ? SEG_WRITE : SEG_READ, lin);
}

int vp_read_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                uint64_t *val)
{
    uint64_t lin;
    int r = seg_lin(c, seg, off, size, false, &lin);
    if (r)
        return r;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, TLB_READ, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            *val = load_n(h, size);
            return VP_OK;
        }
    }
    return vp_read_lin(c, lin, size, val, ACC_READ);
}

int vp_write_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                 uint64_t val)
{
    uint64_t lin;
    int r = seg_lin(c, seg, off, size, true, &lin);
    if (r)
        return r;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, TLB_WRITE, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            store_n(h, size, val);
            return VP_OK;
        }
    }
    return vp_write_lin(c, lin, size, val, ACC_WRITE);
}

/* The read half of a read-modify-write: the operand is checked for
 * writing (segment type, paging W/R and U/S, every page it spans) before
 * it is read, as the processor does, so a fault reports the write
 * (#PF error code W=1, the write-check #GP) and comes before any read. */
int vp_read_seg_rmw(vp_cpu *c, int seg, uint64_t off, unsigned size,
                    uint64_t *val)
{
    uint64_t lin, gpa;
    int r = seg_lin(c, seg, off, size, true, &lin);
    if (r)
        return r;
    if (((lin & 0xfff) + size) > 4096 || !tlb_host(c, lin, TLB_WRITE,
                                                   c->cpl == 3)) {
        r = vp_translate(c, lin, ACC_WRITE, &gpa);
        if (!r && ((lin & 0xfff) + size) > 4096)
            r = vp_translate(c, (lin | 0xfff) + 1, ACC_WRITE, &gpa);
        if (r)
            return r;
    }
    return vp_read_lin(c, lin, size, val, ACC_READ);
}

int vp_push(vp_cpu *c, unsigned size, uint64_t val)
{
    unsigned ss = stack_size(c);
    uint64_t sp = (c->gpr[R_SP] - size) & size_mask(ss);
    int r = vp_write_seg(c, S_SS, sp, size, val);
    if (r)
        return r;
    c->gpr[R_SP] = ss == 2 ? (c->gpr[R_SP] & ~0xffffull) | sp
                           : (ss == 4 ? (sp & 0xffffffffull) : sp);
    return VP_OK;
}

int vp_pop(vp_cpu *c, unsigned size, uint64_t *val)
{
    unsigned ss = stack_size(c);
    uint64_t sp = c->gpr[R_SP] & size_mask(ss);
    int r = vp_read_seg(c, S_SS, sp, size, val);
    if (r)
        return r;
    sp = (sp + size) & size_mask(ss);
    c->gpr[R_SP] = ss == 2 ? (c->gpr[R_SP] & ~0xffffull) | sp : sp;
    return VP_OK;
}
