/* Software TLB and linear/segmented memory access.
 *
 * The TLB is direct-mapped, one array per access kind (read, write, fetch)
 * and privilege (supervisor, user), so a hit implies the permission check
 * already passed. Entries hold the host addend of RAM pages; MMIO, ROM and
 * pages holding decoded code (for writes) never enter it, so those
 * accesses take the slow path, which also notices self-modifying code.
 * A miss walks the page tables (paging.c; its most common case inline,
 * paging.h), fills the TLB, and accesses RAM through the host address it
 * found on the way. */
#include "emu/cpu/insn.h"
#include "emu/cpu/debugreg.h"
#include "emu/debug/debug.h"
#include "emu/mmu/paging.h"

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

/* A walk that failed: #PF with CR2 (SDM Vol 3A, "Page-Fault Exceptions"). */
static VP_NOINLINE void page_fault(vp_cpu *c, uint64_t lin, uint32_t err)
{
    c->cr2 = lin;
    VP_TRACE(&c->m->trace, MMU, "#PF lin %#llx err %#x",
             (unsigned long long)lin, err & 0xffff);
    (void)vp_raise_err(c, EXC_PF, err & 0xffff);
}

/* Enters the translation w of lin, whose host address is host, in the
 * TLB for `kind` and `user`. */
static VP_ALWAYS_INLINE void tlb_enter(vp_cpu *c, uint64_t lin, unsigned kind,
                                       bool user, const vp_walk *w,
                                       uint8_t *host)
{
    uint64_t pn = lin >> 12;
    vp_tlb_entry *e = &c->tlb.e[kind][user ? 1 : 0][pn & (VP_TLB_SIZE - 1)];
    e->tag = pn + 1;
    /* lin and its host address have the same offset in the page. */
    e->addend = (uintptr_t)host - (uintptr_t)lin;
    e->gpa = w->gpa & VP_PAGE_MASK;
    e->global = w->global;
    c->stats.tlb_fills[kind]++;
}

/* The full page walk of the miss path, raising #PF when it fails (unless
 * ACC_NOFAULT). */
static VP_NOINLINE int walk_or_fault(vp_cpu *c, uint64_t lin, unsigned acc,
                                     bool user, vp_walk *w)
{
    uint32_t err;
    if (vp_page_walk(c, lin, acc, user, true, w, &err) >= 0)
        return VP_OK;
    if (!(acc & ACC_NOFAULT))
        page_fault(c, lin, err);
    return VP_EXC;
}

/* The miss path: walks the page tables for lin and enters the translation
 * in the TLB where it may be cached. *host is the host address of lin
 * when it is RAM, else NULL, so that the caller accesses the data without
 * looking the page up again. */
static VP_ALWAYS_INLINE int translate(vp_cpu *c, uint64_t lin, unsigned acc,
                                      uint64_t *gpa, uint8_t **host)
{
    vp_walk w;
    bool user = user_access(c, acc);
    unsigned kind = acc & ACC_KIND;
    if (!(acc & ACC_NOFAULT))
        c->stats.tlb_misses[kind]++;
    if (VP_UNLIKELY(!vp_page_walk_cached(c, lin, acc, user, &w))) {
        vp_walk full;   /* w stays out of memory on the common path */
        if (walk_or_fault(c, lin, acc, user, &full))
            return VP_EXC;
        w = full;
    }
    *gpa = w.gpa;
    vp_physmem *pm = &c->m->mem;
    int64_t off = vp_phys_ram_offset(pm, w.gpa);
    *host = off >= 0 ? pm->ram + off : NULL;
    if (off < 0 || (acc & ACC_NOFAULT))
        return VP_OK;
    /* With SMAP, supervisor access to user pages depends on RFLAGS.AC at
     * each access, so such translations are not cached. */
    if (!user && w.user && (c->cr4 & CR4_SMAP))
        return VP_OK;
    /* Pages under a watchpoint stay out of the data TLB, so that every
     * access to them reaches the check in the slow path. */
    if (VP_UNLIKELY(c->debug_watch) && kind != ACC_EXEC &&
        vp_debug_page_watched(c, lin, w.gpa))
        return VP_OK;
    /* Likewise pages holding an enabled data breakpoint (debugreg.c). */
    if (VP_UNLIKELY(c->dr_data) && vp_dr_page_watched(c, lin, kind))
        return VP_OK;
    /* Pages holding decoded code are never writable through the TLB. */
    if (kind == ACC_WRITE && pm->code_page[off / (int64_t)VP_PAGE_SIZE])
        return VP_OK;
    tlb_enter(c, lin, kind, user, &w, *host);
    return VP_OK;
}

int vp_translate(vp_cpu *c, uint64_t lin, unsigned acc, uint64_t *gpa)
{
    uint8_t *host;
    return translate(c, lin, acc, gpa, &host);
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

/* Slow path for one read (data or fetch) that does not cross a page and
 * missed the TLB: RAM is read straight from the host address the miss
 * path found. */
static VP_NOINLINE int read_miss(vp_cpu *c, uint64_t lin, unsigned size,
                                 uint64_t *val, unsigned acc)
{
    uint64_t gpa;
    uint8_t *h;
    int r = translate(c, lin, acc, &gpa, &h);
    if (r)
        return r;
    *val = h ? load_n(h, size) : vp_phys_read_n(&c->m->mem, gpa, size);
    if (VP_UNLIKELY(c->debug_watch))
        vp_debug_access(c, lin, gpa, size, acc, *val);
    if (VP_UNLIKELY(c->dr_data))
        vp_dr_data_access(c, lin, size, acc);
    return VP_OK;
}

/* Slow path for one write that does not cross a page and missed the TLB
 * (acc has kind ACC_WRITE). */
static VP_NOINLINE int write_miss(vp_cpu *c, uint64_t lin, unsigned size,
                                  uint64_t val, unsigned acc)
{
    uint64_t gpa;
    uint8_t *h;
    int r = translate(c, lin, acc, &gpa, &h);
    if (r)
        return r;
    vp_phys_write_n(&c->m->mem, gpa, val, size);
    if (VP_UNLIKELY(c->debug_watch))
        vp_debug_access(c, lin, gpa, size, acc, val);
    if (VP_UNLIKELY(c->dr_data))
        vp_dr_data_access(c, lin, size, acc);
    return VP_OK;
}

/* The misses of the instructions' data accesses (vp_read_seg() and
 * vp_write_seg()) in their common case: no watchpoint nor data breakpoint
 * armed, the walk's common case (vp_page_walk_cached), and a RAM page
 * whose translation the TLB takes, which is entered, with the statistics
 * translate() keeps, and accessed through its host address. Anything else
 * goes to read_miss()/write_miss(), which start over: nothing has changed
 * by then. read_miss_data() and write_miss_data() make no other call,
 * and those as jumps: no value lives across a call. */
static VP_ALWAYS_INLINE bool miss_fast(vp_cpu *c, uint64_t lin,
                                       unsigned kind, uint8_t **host)
{
    vp_walk w;
    bool user = c->cpl == 3;
    if (VP_UNLIKELY(c->debug_watch || c->dr_data) ||
        VP_UNLIKELY(!vp_page_walk_cached(c, lin, kind, user, &w)))
        return false;
    vp_physmem *pm = &c->m->mem;
    int64_t off = vp_phys_ram_offset(pm, w.gpa);
    /* translate()'s conditions for entering a translation. */
    if (VP_UNLIKELY(off < 0) ||
        VP_UNLIKELY(!user && w.user && (c->cr4 & CR4_SMAP)) ||
        (kind == ACC_WRITE && pm->code_page[off / (int64_t)VP_PAGE_SIZE]))
        return false;
    *host = pm->ram + off;
    c->stats.tlb_misses[kind]++;
    tlb_enter(c, lin, kind, user, &w, *host);
    return true;
}

static VP_NOINLINE int read_miss_data(vp_cpu *c, uint64_t lin, unsigned size,
                                      uint64_t *val)
{
    uint8_t *h;
    if (VP_UNLIKELY(!miss_fast(c, lin, ACC_READ, &h)))
        return read_miss(c, lin, size, val, ACC_READ);
    *val = load_n(h, size);
    return VP_OK;
}

/* A RAM page without decoded code: vp_phys_write_n() would store alone. */
static VP_NOINLINE int write_miss_data(vp_cpu *c, uint64_t lin,
                                       unsigned size, uint64_t val)
{
    uint8_t *h;
    if (VP_UNLIKELY(!miss_fast(c, lin, ACC_WRITE, &h)))
        return write_miss(c, lin, size, val, ACC_WRITE);
    store_n(h, size, val);
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
        return read_miss(c, lin, size, val, acc);
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
        return write_miss(c, lin, size, val, acc);
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

/* vp_seg_check()'s result, returned in registers: its callers here keep
 * no local in memory, so that their calls in tail position stay jumps. */
typedef struct seg_result {
    uint64_t lin;
    int r;
} seg_result;

static seg_result seg_fault(vp_cpu *c, int seg)
{
    return (seg_result){0, vp_raise_err(c, seg == S_SS ? EXC_SS : EXC_GP, 0)};
}

static seg_result seg_check(vp_cpu *c, int seg, uint64_t off, unsigned size,
                            int kind)
{
    const vp_seg *s = &c->seg[seg];
    if (c->code_size == 8) {
        uint64_t a = off + ((seg == S_FS || seg == S_GS) ? s->base : 0);
        if (!vp_canonical(c, a) || !vp_canonical(c, a + size - 1))
            return seg_fault(c, seg);
        return (seg_result){a, VP_OK};
    }
    if (c->cr0 & CR0_PE && !c->v86) {
        if (s->attr & SEGA_UNUSABLE)
            return seg_fault(c, seg);
        unsigned type = SEGA_TYPE(s->attr);
        bool write = kind == SEG_WRITE;
        if (type & 8) {          /* code: readable? never writable */
            if (write || (kind == SEG_READ && !(type & 2)))
                return seg_fault(c, seg);
        } else if (write && !(type & 2)) {
            return seg_fault(c, seg);
        }
        uint64_t last = off + size - 1;
        if (!(type & 8) && (type & 4)) {  /* expand-down data */
            uint64_t upper = (s->attr & SEGA_DB) ? 0xffffffffull : 0xffff;
            if (off <= s->limit || last > upper)
                return seg_fault(c, seg);
        } else if (last > s->limit) {
            return seg_fault(c, seg);
        }
    } else if (off + size - 1 > s->limit) {
        return seg_fault(c, seg);
    }
    return (seg_result){(s->base + off) & 0xffffffffull, VP_OK};
}

int vp_seg_check(vp_cpu *c, int seg, uint64_t off, unsigned size, int kind,
                 uint64_t *lin)
{
    seg_result sr = seg_check(c, seg, off, size, kind);
    if (sr.r == VP_OK)
        *lin = sr.lin;
    return sr.r;
}

/* The segment checks' fast case: in 64-bit mode only FS/GS have a base
 * and the canonical check of an access inside one page is the check of
 * its start (the canonical boundary is page-aligned). */
static inline bool seg_lin64(const vp_cpu *c, int seg, uint64_t off,
                             unsigned size, uint64_t *lin)
{
    if (VP_UNLIKELY(c->code_size != 8))
        return false;
    uint64_t a = off + (seg >= S_FS ? c->seg[seg].base : 0);
    *lin = a;
    return ((a & 0xfff) + size) <= 4096 && vp_canonical(c, a);
}

/* The linear address of an access after all the segment checks. */
static inline seg_result seg_lin(vp_cpu *c, int seg, uint64_t off,
                                 unsigned size, bool write)
{
    uint64_t a;
    if (VP_LIKELY(seg_lin64(c, seg, off, size, &a)))
        return (seg_result){a, VP_OK};
    return seg_check(c, seg, off, size, write ? SEG_WRITE : SEG_READ);
}

/* vp_read_seg() and vp_write_seg() in the cases seg_lin64() leaves. */
static VP_NOINLINE int read_seg(vp_cpu *c, int seg, uint64_t off,
                                unsigned size, uint64_t *val)
{
    seg_result sr = seg_check(c, seg, off, size, SEG_READ);
    if (sr.r)
        return sr.r;
    uint64_t lin = sr.lin;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, TLB_READ, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            *val = load_n(h, size);
            return VP_OK;
        }
        return read_miss_data(c, lin, size, val);
    }
    return vp_read_lin(c, lin, size, val, ACC_READ);
}

static VP_NOINLINE int write_seg(vp_cpu *c, int seg, uint64_t off,
                                 unsigned size, uint64_t val)
{
    seg_result sr = seg_check(c, seg, off, size, SEG_WRITE);
    if (sr.r)
        return sr.r;
    uint64_t lin = sr.lin;
    if (VP_LIKELY(((lin & 0xfff) + size) <= 4096)) {
        uint8_t *h = tlb_host(c, lin, TLB_WRITE, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            store_n(h, size, val);
            return VP_OK;
        }
        return write_miss_data(c, lin, size, val);
    }
    return vp_write_lin(c, lin, size, val, ACC_WRITE);
}

/* The fast case on its own, so that it saves no registers for the call
 * of seg_check() in the others. */
int vp_read_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                uint64_t *val)
{
    uint64_t lin;
    if (VP_LIKELY(seg_lin64(c, seg, off, size, &lin))) {
        uint8_t *h = tlb_host(c, lin, TLB_READ, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            *val = load_n(h, size);
            return VP_OK;
        }
        return read_miss_data(c, lin, size, val);
    }
    return read_seg(c, seg, off, size, val);
}

int vp_write_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                 uint64_t val)
{
    uint64_t lin;
    if (VP_LIKELY(seg_lin64(c, seg, off, size, &lin))) {
        uint8_t *h = tlb_host(c, lin, TLB_WRITE, c->cpl == 3);
        if (VP_LIKELY(h != NULL)) {
            store_n(h, size, val);
            return VP_OK;
        }
        return write_miss_data(c, lin, size, val);
    }
    return write_seg(c, seg, off, size, val);
}

/* The read half of a read-modify-write: the operand is checked for
 * writing (segment type, paging W/R and U/S, every page it spans) before
 * it is read, as the processor does, so a fault reports the write
 * (#PF error code W=1, the write-check #GP) and comes before any read. */
int vp_read_seg_rmw(vp_cpu *c, int seg, uint64_t off, unsigned size,
                    uint64_t *val)
{
    uint64_t gpa;
    seg_result sr = seg_lin(c, seg, off, size, true);
    if (sr.r)
        return sr.r;
    uint64_t lin = sr.lin;
    if (((lin & 0xfff) + size) > 4096 || !tlb_host(c, lin, TLB_WRITE,
                                                   c->cpl == 3)) {
        int r = vp_translate(c, lin, ACC_WRITE, &gpa);
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
