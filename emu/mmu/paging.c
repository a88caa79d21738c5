/* Linear-to-physical page walks for the four paging modes (SDM Vol 3A,
 * "Paging": "32-Bit Paging", "PAE Paging", "4-Level Paging and 5-Level
 * Paging", "Access Rights", "Page-Fault Exceptions", "Accessed and Dirty
 * Flags"). Pure with respect to the TLB: exec.c/mem.c fill it. */
#include "emu/mmu/paging.h"

#include <string.h>

#define PFERR_P 1u
#define PFERR_W 2u
#define PFERR_U 4u
#define PFERR_RSVD 8u
#define PFERR_I 16u
#define PFERR_PK 32u

static uint64_t phys_bits_mask(const vp_cpu *c)
{
    unsigned bits = c->model ? c->model->phys_bits : 39;
    return ((1ull << bits) - 1) & ~0xfffull;
}

/* Paging-structure entries are naturally aligned, so one RAM page holds
 * each: read them through the host mapping when they are in RAM. */
static uint64_t rd_pte(vp_cpu *c, uint64_t gpa, unsigned size)
{
    const uint8_t *h = vp_phys_ram(&c->m->mem, gpa);
    if (VP_LIKELY(h != NULL && !(gpa & (size - 1)))) {
        if (size == 8) {
            uint64_t v;
            memcpy(&v, h, 8);
            return v;
        }
        uint32_t v;
        memcpy(&v, h, 4);
        return v;
    }
    return vp_phys_read_n(&c->m->mem, gpa, size);
}

static void wr_pte(vp_cpu *c, uint64_t gpa, uint64_t v, unsigned size)
{
    vp_phys_write_n(&c->m->mem, gpa, v, size);
}

int vp_page_walk(vp_cpu *c, uint64_t lin, unsigned acc, bool user_access,
                 bool update, vp_walk *w, uint32_t *pf_error)
{
    unsigned kind = acc & ACC_KIND;
    bool write = kind == ACC_WRITE, fetch = kind == ACC_EXEC;
    bool nxe = (c->efer & EFER_NXE) != 0;
    uint32_t err = (write ? PFERR_W : 0) | (user_access ? PFERR_U : 0);
    /* I/D: fetches, when SMEP or execute-disable (PAE-format entries with
     * EFER.NXE) is in force (SDM Vol 3A, "Page-Fault Exceptions"). */
    if (fetch && ((nxe && (c->cr4 & CR4_PAE)) || (c->cr4 & CR4_SMEP)))
        err |= PFERR_I;

    if (!(c->cr0 & CR0_PG)) {
        w->gpa = c->long_mode ? lin : (lin & 0xffffffffull);
        w->user = w->writable = true;
        w->nx = false;
        w->global = false;
        w->page_size = 4096;
        return 0;
    }

    uint64_t pmask = phys_bits_mask(c);
    uint64_t entries[5], addrs[5];
    unsigned sizes[5];
    int nlev = 0;
    bool u = true, rw = true, nx = false;
    uint64_t gpa = 0, psize = 4096;
    uint64_t leaf = 0;      /* the entry that maps the page (4/5-level) */
    bool pk = false;        /* a protection key denies the access */
    bool global = false;
    vp_pde_cache pdc = {0}; /* the page table's entry, tag 0: none */

    if (!(c->cr4 & CR4_PAE)) {
        /* 32-bit paging: two levels of 4-byte entries. */
        uint32_t l = (uint32_t)lin;
        uint64_t pde_a = (c->cr3 & 0xfffff000ull) + ((l >> 22) << 2);
        uint64_t pde = rd_pte(c, pde_a, 4);
        addrs[nlev] = pde_a; entries[nlev] = pde; sizes[nlev++] = 4;
        if (!(pde & PTE_P))
            goto notpresent;
        u &= !!(pde & PTE_U);
        rw &= !!(pde & PTE_W);
        if ((pde & PTE_PS) && (c->cr4 & CR4_PSE)) {
            /* 4-MiB page; PSE-36 bits 20:13 give address bits 39:32. */
            unsigned pb = c->model ? c->model->phys_bits : 39;
            uint64_t hibits = (pde >> 13) & 0xff;
            if (pb > 40)
                pb = 40;
            if ((pde & VP_BIT(21)) || (hibits >> (pb - 32)))
                goto rsvd;
            gpa = ((pde & 0xffc00000ull) | (hibits << 32)) + (l & 0x3fffff);
            psize = 4ull << 20;
            global = (pde & PTE_G) && (c->cr4 & CR4_PGE);
        } else {
            uint64_t pte_a = (pde & 0xfffff000ull) + (((l >> 12) & 0x3ff) << 2);
            uint64_t pte = rd_pte(c, pte_a, 4);
            addrs[nlev] = pte_a; entries[nlev] = pte; sizes[nlev++] = 4;
            if (!(pte & PTE_P))
                goto notpresent;
            u &= !!(pte & PTE_U);
            rw &= !!(pte & PTE_W);
            gpa = (pte & 0xfffff000ull) + (l & 0xfff);
            psize = 4096;
            global = (pte & PTE_G) && (c->cr4 & CR4_PGE);
        }
    } else {
        int levels;
        uint64_t table;
        uint64_t rsvd_hi = ~pmask & 0x000ffffffffff000ull; /* 51:MAXPHY */
        if (!nxe)
            rsvd_hi |= PTE_NX;
        if (!c->long_mode) {
            /* PAE: the PDPTE selected by bits 31:30. */
            uint64_t pdpte_a = (c->cr3 & 0xffffffe0ull) + (((lin >> 30) & 3) << 3);
            /* From the PDPTE registers when loaded (SDM Vol 3A, "PDPTE
             * Registers"); a state set up without a MOV to CR reads them
             * from memory. */
            uint64_t pdpte = c->pdpte_loaded ? c->pdpte[(lin >> 30) & 3]
                                             : rd_pte(c, pdpte_a, 8);
            if (!(pdpte & PTE_P)) {
                addrs[nlev] = pdpte_a; entries[nlev] = pdpte; sizes[nlev++] = 8;
                goto notpresent;
            }
            /* PDPTE reserved bits: 2:1, 8:5, 63 and above MAXPHYADDR. */
            if (pdpte & (0x1e6ull | PTE_NX | (~pmask & 0x000ffffffffff000ull)))
                goto rsvd;
            table = pdpte & pmask;
            levels = 2;
        } else {
            levels = (c->cr4 & CR4_LA57) ? 5 : 4;
            table = c->cr3 & pmask;
            /* A cached page table for this 2-MiB region skips the upper
             * levels (their accessed bits were set when it was cached). */
            vp_pde_cache *pc = &c->pdc[(lin >> 21) & (VP_PDC_SIZE - 1)];
            if (update && pc->tag == (lin >> 21) + 1 &&
                pc->epoch == c->tlb_epoch) {
                table = pc->table;
                u = pc->u;
                rw = pc->rw;
                nx = pc->nx;
                levels = 1;
            }
        }
        for (int lvl = levels; lvl >= 1; lvl--) {
            if (lvl == 1 && update && c->long_mode) {
                /* Cached once the walk succeeded and the upper levels'
                 * accessed flags are set (below). */
                pdc = (vp_pde_cache){(lin >> 21) + 1, table,
                                     vp_phys_ram(&c->m->mem, table),
                                     c->tlb_epoch, u, rw, nx};
            }
            unsigned shift = 12 + 9 * (unsigned)(lvl - 1);
            uint64_t ea = table + (((lin >> shift) & 0x1ff) << 3);
            uint64_t e = rd_pte(c, ea, 8);
            addrs[nlev] = ea; entries[nlev] = e; sizes[nlev++] = 8;
            if (!(e & PTE_P))
                goto notpresent;
            if (e & rsvd_hi)
                goto rsvd;
            u &= !!(e & PTE_U);
            rw &= !!(e & PTE_W);
            nx |= nxe && (e & PTE_NX);
            bool ps = (e & PTE_PS) != 0;
            if (lvl >= 4 && ps)
                goto rsvd;          /* no 512-GiB pages */
            if (lvl == 3 && ps && !(c->long_mode))
                goto rsvd;
            if (lvl == 1 || (ps && lvl <= 3)) {
                if (lvl > 1) {
                    /* Large page: bits below the page size (except PAT at
                     * bit 12) are reserved. */
                    uint64_t lowmask = ((1ull << shift) - 1) & ~0x1fffull;
                    if (e & lowmask)
                        goto rsvd;
                }
                psize = 1ull << shift;
                gpa = (e & pmask & ~(psize - 1)) + (lin & (psize - 1));
                global = (e & PTE_G) && (c->cr4 & CR4_PGE);
                leaf = e;
                break;
            }
            table = e & pmask;
        }
    }

    /* Access rights (SDM Vol 3A, "Access Rights"). */
    bool wp = (c->cr0 & CR0_WP) != 0;
    /* Protection keys (SDM Vol 3A, "Protection Keys"): with CR4.PKE in
     * IA-32e mode, bits 62:59 of the entry mapping a user-mode address
     * select a PKRU pair: AD denies data accesses, WD writes by user mode
     * and, with CR0.WP, by supervisor mode. Fetches are not affected.
     * The TLB keeps only translations that passed; WRPKRU flushes it. */
    if (u && !fetch && c->long_mode && (c->cr4 & CR4_PKE)) {
        uint32_t ad_wd = c->pkru >> (2 * ((leaf >> 59) & 15));
        pk = (ad_wd & 1) || ((ad_wd & 2) && write && (user_access || wp));
    }
    if (pk)
        goto protection;
    if (user_access) {
        if (!u || (write && !rw) || (fetch && nx))
            goto protection;
    } else {
        if (write && !rw && wp)
            goto protection;
        if (fetch && (nx || (u && (c->cr4 & CR4_SMEP))))
            goto protection;
        if (!fetch && u && (c->cr4 & CR4_SMAP) &&
            ((acc & ACC_SUPER) || !(c->flags & FL_AC)))
            goto protection;
    }

    if (update) {
        for (int k = 0; k < nlev; k++) {
            uint64_t e = entries[k];
            uint64_t ne = e | PTE_A;
            if (k == nlev - 1 && write)
                ne |= PTE_D;
            if (ne != e)
                wr_pte(c, addrs[k], ne, sizes[k]);
        }
        /* A paging-structure-cache entry only after the accessed flags of
         * the entries it skips are set (SDM Vol 3A, "Paging-Structure
         * Caches"): a walk that faults at the page table caches nothing. */
        if (pdc.tag)
            c->pdc[(lin >> 21) & (VP_PDC_SIZE - 1)] = pdc;
    }
    w->gpa = gpa;
    w->user = u;
    w->writable = rw || (!user_access && !wp);
    w->nx = nx;
    w->global = global;
    w->page_size = psize;
    return 0;

notpresent:
    *pf_error = err | 0x80000000u;
    return -1;
rsvd:
    *pf_error = err | PFERR_P | PFERR_RSVD | 0x80000000u;
    return -1;
protection:
    /* PK reports the key's verdict even when another right was missing. */
    *pf_error = err | PFERR_P | (pk ? PFERR_PK : 0) | 0x80000000u;
    return -1;
}
