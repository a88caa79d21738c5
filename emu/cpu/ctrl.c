/* Control registers and the cached mode of a vCPU: MOV to CR0/CR2/CR3/
 * CR4/CR8 with their architectural checks and TLB effects, IA-32e mode
 * activation, and the recomputation of CPL, code size and RIP mask.
 * SDM Vol 3A, "Control Registers", "CPUID Qualification of Control
 * Register Flags", "Enabling and Changing Paging Modes", "Initializing
 * IA-32e Mode", "Invalidation of TLBs and Paging-Structure Caches". */
#include "emu/cpu/cpuid.h"
#include "emu/cpu/debugreg.h"
#include "emu/apic/apic.h"

#include <string.h>

/* ---- mode ------------------------------------------------------------ */

static const char *mode_name(const vp_cpu *c)
{
    if (!(c->cr0 & CR0_PE))
        return "real";
    if (c->v86)
        return "virtual-8086";
    if (c->long_mode)
        return c->code_size == 8 ? "64-bit" : "compatibility";
    return "protected";
}

/* CPL is SS.DPL in protected mode (SDM Vol 3A, "Privilege Levels": the
 * CPL "is normally equal to the RPL of CS"; SS.DPL always equals it and,
 * unlike CS.RPL, stays right across the CR0.PE switch and conforming code
 * segments, which is why VMX keeps CPL in SS.DPL too). */
void vp_update_mode(vp_cpu *c)
{
    int old_cpl = c->cpl, old_size = c->code_size;
    bool old_v86 = c->v86, old_lm = c->long_mode;
    const vp_seg *cs = &c->seg[S_CS];

    c->long_mode = (c->efer & EFER_LMA) != 0;
    if (!(c->cr0 & CR0_PE)) {
        c->cpl = 0;
        c->v86 = false;
        c->code_size = (cs->attr & SEGA_DB) ? 4 : 2;
    } else if ((c->flags & FL_VM) && !c->long_mode) {
        c->cpl = 3;
        c->v86 = true;
        c->code_size = 2;
    } else {
        c->cpl = (int)SEGA_DPL(c->seg[S_SS].attr);
        c->v86 = false;
        if (c->long_mode && (cs->attr & SEGA_L))
            c->code_size = 8;
        else
            c->code_size = (cs->attr & SEGA_DB) ? 4 : 2;
    }
    c->rip_mask = c->code_size == 8 ? ~0ull
                  : c->code_size == 4 ? 0xffffffffull : 0xffffull;

    if (c->cpl != old_cpl || c->code_size != old_size)
        c->link_epoch++;     /* block links are per CPL and code size */
    if (c->cpl != old_cpl || c->code_size != old_size ||
        c->v86 != old_v86 || c->long_mode != old_lm)
        VP_TRACE(&c->m->trace, CPU, "mode: %s, %d-bit code, CPL %d",
                 mode_name(c), c->code_size * 8, c->cpl);
}

/* ---- helpers --------------------------------------------------------- */

static uint64_t phys_rsvd(const vp_cpu *c)
{
    return ~((1ull << c->model->phys_bits) - 1);
}

static bool pae_paging(const vp_cpu *c, uint64_t cr0, uint64_t cr4)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(c->efer & EFER_LME);
}

/* PAE paging loads the four PDPTEs into registers on MOV to CR3, and on
 * MOV to CR0/CR4 that enter PAE paging or change its controls; a present
 * PDPTE with reserved bits set makes the MOV fault (SDM Vol 3A, "PDPTE
 * Registers"). On success the values are staged in c->pdpte and become
 * live when the caller commits (pdptes_commit); the walker (paging.c)
 * uses the registers, so later writes to the table in memory do not
 * matter until the next load. */
static bool pdptes_ok(vp_cpu *c, uint64_t cr3, uint64_t stage[4])
{
    uint64_t base = cr3 & 0xffffffe0ull;
    for (int i = 0; i < 4; i++) {
        uint64_t e = vp_phys_read_n(&c->m->mem, base + 8u * (unsigned)i, 8);
        if ((e & 1) && (e & (0x1e6ull | phys_rsvd(c)))) {
            VP_TRACE(&c->m->trace, CPU,
                     "PDPTE %d = %#llx has reserved bits: #GP(0)", i,
                     (unsigned long long)e);
            return false;
        }
        stage[i] = e;
    }
    return true;
}

static void pdptes_commit(vp_cpu *c, const uint64_t stage[4])
{
    memcpy(c->pdpte, stage, sizeof(c->pdpte));
    c->pdpte_loaded = true;
}

/* CR4 bits this vCPU may set: those whose feature CPUID advertises
 * (SDM Vol 3A, "CPUID Qualification of Control Register Flags"); PCE
 * needs no feature. */
static uint64_t cr4_allowed(const vp_cpu *c)
{
    uint64_t a = CR4_PCE;
    if (vp_cpu_has(c, FEAT_VME)) a |= CR4_VME | CR4_PVI;
    if (vp_cpu_has(c, FEAT_TSC)) a |= CR4_TSD;
    if (vp_cpu_has(c, FEAT_DE)) a |= CR4_DE;
    if (vp_cpu_has(c, FEAT_PSE)) a |= CR4_PSE;
    if (vp_cpu_has(c, FEAT_PAE)) a |= CR4_PAE;
    if (vp_cpu_has(c, FEAT_MCE)) a |= CR4_MCE;
    if (vp_cpu_has(c, FEAT_PGE)) a |= CR4_PGE;
    if (vp_cpu_has(c, FEAT_FXSR)) a |= CR4_OSFXSR;
    if (vp_cpu_has(c, FEAT_SSE)) a |= CR4_OSXMMEXCPT;
    if (vp_cpu_has(c, FEAT_UMIP)) a |= CR4_UMIP;
    if (vp_cpu_has(c, FEAT_LA57)) a |= CR4_LA57;
    if (vp_cpu_has(c, FEAT_VMX)) a |= CR4_VMXE;
    if (vp_cpu_has(c, FEAT_SMX)) a |= VP_BIT(14); /* SMXE */
    if (vp_cpu_has(c, FEAT_FSGSBASE)) a |= CR4_FSGSBASE;
    if (vp_cpu_has(c, FEAT_PCID)) a |= CR4_PCIDE;
    if (vp_cpu_has(c, FEAT_XSAVE)) a |= CR4_OSXSAVE;
    if (vp_cpu_has(c, FEAT_SMEP)) a |= CR4_SMEP;
    if (vp_cpu_has(c, FEAT_SMAP)) a |= CR4_SMAP;
    if (vp_cpu_has(c, FEAT_PKU)) a |= CR4_PKE;
    return a;
}

static int gp0(vp_cpu *c, int n, uint64_t val, const char *why)
{
    VP_TRACE(&c->m->trace, CPU, "mov cr%d <- %#llx: %s: #GP(0)", n,
             (unsigned long long)val, why);
    return vp_raise_err(c, EXC_GP, 0);
}

/* ---- CR0 ------------------------------------------------------------- */

#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | \
                     CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)

static int write_cr0(vp_cpu *c, uint64_t val)
{
    if (val >> 32)
        return gp0(c, 0, val, "bits 63:32 are reserved");
    /* Reserved bits 28:19, 17, 15:6 are ignored; ET is hardwired to 1
     * (SDM Vol 3A, "CR0"). */
    uint64_t v = (val & CR0_DEFINED) | CR0_ET;
    uint64_t old = c->cr0;
    if ((v & CR0_PG) && !(v & CR0_PE))
        return gp0(c, 0, val, "PG without PE");
    if ((v & CR0_NW) && !(v & CR0_CD))
        return gp0(c, 0, val, "NW without CD");

    uint64_t efer = c->efer;
    if (!(old & CR0_PG) && (v & CR0_PG) && (c->efer & EFER_LME)) {
        /* SDM Vol 3A, "Initializing IA-32e Mode". */
        if (!(c->cr4 & CR4_PAE))
            return gp0(c, 0, val, "IA-32e activation without CR4.PAE");
        if (c->seg[S_CS].attr & SEGA_L)
            return gp0(c, 0, val, "IA-32e activation with CS.L = 1");
        efer |= EFER_LMA;
    }
    if ((old & CR0_PG) && !(v & CR0_PG) && (c->efer & EFER_LMA)) {
        /* Leaving IA-32e mode is done from compatibility mode. */
        if (c->code_size == 8)
            return gp0(c, 0, val, "clearing PG in 64-bit mode");
        if (c->cr4 & CR4_PCIDE)
            return gp0(c, 0, val, "clearing PG with CR4.PCIDE = 1");
        efer &= ~EFER_LMA;
    }
    uint64_t stage[4];
    bool load = pae_paging(c, v, c->cr4) &&
                ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW));
    if (load && !pdptes_ok(c, c->cr3, stage))
        return vp_raise_err(c, EXC_GP, 0);

    if (load)
        pdptes_commit(c, stage);
    c->cr0 = v;
    if (efer != c->efer)
        VP_TRACE(&c->m->trace, CPU, "IA-32e mode %s",
                 (efer & EFER_LMA) ? "activated" : "deactivated");
    c->efer = efer;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        vp_tlb_flush(c, true);
    vp_update_mode(c);
    return VP_OK;
}

/* ---- CR3 ------------------------------------------------------------- */

static int write_cr3(vp_cpu *c, uint64_t val)
{
    uint64_t v = val;
    if (c->long_mode) {
        /* With CR4.PCIDE, bit 63 asks not to invalidate the PCID's
         * entries; it is not stored. Our TLB is not tagged by PCID, so it
         * must be flushed anyway (flushing is always allowed). */
        if (c->cr4 & CR4_PCIDE)
            v &= ~VP_BIT(63);
        if (v & phys_rsvd(c))
            return gp0(c, 3, val, "bits above MAXPHYADDR");
    } else {
        v &= 0xffffffffull;
        if (pae_paging(c, c->cr0, c->cr4)) {
            uint64_t stage[4];
            if (!pdptes_ok(c, v, stage))
                return vp_raise_err(c, EXC_GP, 0);
            pdptes_commit(c, stage);
        }
    }
    c->cr3 = v;
    vp_tlb_flush(c, false);
    return VP_OK;
}

/* ---- CR4 ------------------------------------------------------------- */

static int write_cr4(vp_cpu *c, uint64_t val)
{
    uint64_t old = c->cr4;
    if (val & ~cr4_allowed(c))
        return gp0(c, 4, val, "reserved bit or feature not advertised");
    if ((c->efer & EFER_LMA) && !(val & CR4_PAE))
        return gp0(c, 4, val, "clearing PAE in IA-32e mode");
    if ((c->efer & EFER_LMA) && ((old ^ val) & CR4_LA57))
        return gp0(c, 4, val, "changing LA57 in IA-32e mode");
    if (!(old & CR4_PCIDE) && (val & CR4_PCIDE)) {
        if (!(c->efer & EFER_LMA))
            return gp0(c, 4, val, "PCIDE outside IA-32e mode");
        if (c->cr3 & 0xfff)
            return gp0(c, 4, val, "PCIDE with CR3[11:0] != 0");
    }
    uint64_t stage[4];
    bool load = pae_paging(c, c->cr0, val) &&
                ((old ^ val) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP |
                                CR4_SMAP));
    if (load && !pdptes_ok(c, c->cr3, stage))
        return vp_raise_err(c, EXC_GP, 0);

    if (load)
        pdptes_commit(c, stage);
    c->cr4 = val;
    /* SDM Vol 3A, "Operations that Invalidate TLBs and Paging-Structure
     * Caches": changing PGE, or PCIDE from 1 to 0, flushes everything;
     * PAE, PSE, SMEP, SMAP, PKE and LA57 change what cached entries mean. */
    uint64_t chg = old ^ val;
    if ((chg & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP |
                CR4_PKE | CR4_LA57)) ||
        ((old & CR4_PCIDE) && !(val & CR4_PCIDE)))
        vp_tlb_flush(c, true);
    /* CR4.DE turns R/W = 10 breakpoints into I/O breakpoints. */
    if (chg & CR4_DE)
        vp_dr_update(c);
    return VP_OK;
}

/* ---- CR8 ------------------------------------------------------------- */

/* CR8[3:0] is the local APIC's TPR[7:4] (SDM Vol 3A, "Task Priority in
 * IA-32e Mode"); bits 63:4 are reserved. */
static int write_cr8(vp_cpu *c, uint64_t val)
{
    if (val & ~0xfull)
        return gp0(c, 8, val, "bits 63:4 are reserved");
    if (c->lapic)
        vp_apic_write_cr8(c, val);
    else
        c->cr8 = val;
    vp_cpu_kick(c);
    return VP_OK;
}

int vp_write_cr(vp_cpu *c, int n, uint64_t val)
{
    int r;
    switch (n) {
    case 0: r = write_cr0(c, val); break;
    case 2: c->cr2 = val; r = VP_OK; break;
    case 3: r = write_cr3(c, val); break;
    case 4: r = write_cr4(c, val); break;
    case 8: r = write_cr8(c, val); break;
    default: return vp_raise(c, EXC_UD);  /* CR1, CR5-7, CR9-15 */
    }
    if (r == VP_OK) {
        VP_TRACE(&c->m->trace, CPU, "mov cr%d <- %#llx", n,
                 (unsigned long long)val);
        /* Writes of CR0, CR3 and CR4 (LMSW and task switches included)
         * trigger the monitor of MONITOR/MWAIT (SDM Vol 3A, "MONITOR/
         * MWAIT Instruction": architectural TLB invalidations). */
        if (n != 2 && n != 8)
            c->monitor_armed = false;
    }
    return r;
}
