/* Paging-structure entry bits and the page walk's most common case, shared
 * by the walker (paging.c) and the TLB-miss path (tlb.c), which inlines
 * that case (SDM Vol 3A, "Paging"). */
#ifndef VP_MMU_PAGING_H
#define VP_MMU_PAGING_H

#include "emu/cpu/internal.h"

#include <string.h>

#define PTE_P VP_BIT(0)
#define PTE_W VP_BIT(1)
#define PTE_U VP_BIT(2)
#define PTE_A VP_BIT(5)
#define PTE_D VP_BIT(6)
#define PTE_PS VP_BIT(7)
#define PTE_G VP_BIT(8)
#define PTE_NX VP_BIT(63)

/* What vp_page_walk() does with `update` when 4- or 5-level paging finds
 * the page table in its paging-structure cache (SDM Vol 3A, "Paging-
 * Structure Caches"), the page-table entry is in RAM, present with no
 * reserved bit set (SDM Vol 3A, "Reserved Bits": bits 51:MAXPHYADDR, and
 * XD without EFER.NXE), the access rights and protection key allow the
 * access (SDM Vol 3A, "Access Rights", "Protection Keys"), and the PTE's
 * accessed flag, and for a write its dirty flag, are already set, so that
 * the walk writes nothing (SDM Vol 3A, "Accessed and Dirty Flags"): fills
 * *w exactly as the walk would and returns true. In any other case, faults
 * and flags to set included, it returns false, having changed nothing,
 * and the caller walks with vp_page_walk(). */
static VP_ALWAYS_INLINE bool vp_page_walk_cached(vp_cpu *c, uint64_t lin,
                                                 unsigned acc,
                                                 bool user_access, vp_walk *w)
{
    const vp_pde_cache *pc = &c->pdc[(lin >> 21) & (VP_PDC_SIZE - 1)];
    if (pc->tag != (lin >> 21) + 1 || pc->epoch != c->tlb_epoch ||
        !c->long_mode || !(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PAE))
        return false;
    if (pc->host == NULL)
        return false;
    uint64_t e;
    memcpy(&e, pc->host + (((lin >> 12) & 0x1ff) << 3), 8);
    unsigned kind = acc & ACC_KIND;
    uint64_t need = PTE_P | PTE_A | (kind == ACC_WRITE ? PTE_D : 0);
    /* Bits 51:12, whose part from MAXPHYADDR up is reserved: the address
     * when that part is clear. */
    uint64_t addr = e & 0x000ffffffffff000ull;
    if ((e & need) != need ||
        (addr >> (c->model ? c->model->phys_bits : 39)) ||
        ((e & PTE_NX) && !(c->efer & EFER_NXE)))
        return false;
    bool u = pc->u && (e & PTE_U);
    bool rw = pc->rw && (e & PTE_W);
    bool nx = pc->nx || (e & PTE_NX);   /* XD set only under EFER.NXE here */
    bool wp = (c->cr0 & CR0_WP) != 0;
    uint64_t cr4 = c->cr4;
    if (user_access) {
        if (!u || (kind == ACC_WRITE && !rw) || (kind == ACC_EXEC && nx))
            return false;
    } else if (kind == ACC_EXEC) {
        if (nx || (u && (cr4 & CR4_SMEP)))
            return false;
    } else {
        if (kind == ACC_WRITE && !rw && wp)
            return false;
        if (u && (cr4 & CR4_SMAP) &&
            ((acc & ACC_SUPER) || !(c->flags & FL_AC)))
            return false;
    }
    if (u && kind != ACC_EXEC && (cr4 & CR4_PKE)) {
        uint32_t ad_wd = c->pkru >> (2 * ((e >> 59) & 15));
        if ((ad_wd & 1) ||
            ((ad_wd & 2) && kind == ACC_WRITE && (user_access || wp)))
            return false;
    }
    w->gpa = addr + (lin & 0xfff);
    w->user = u;
    w->writable = rw || (!user_access && !wp);
    w->nx = nx;
    w->global = (e & PTE_G) && (cr4 & CR4_PGE);
    w->page_size = 4096;
    return true;
}

#endif
