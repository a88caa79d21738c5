/* RDMSR/WRMSR: one table row per MSR (or contiguous range) with its
 * availability on this vCPU, its read and write behaviour, and the bits a
 * write must leave clear. SDM Vol 4, "Model-Specific Registers (MSRs)";
 * AMD APM Vol 2, "MSR Cross-Reference".
 *
 * The caller (the RDMSR/WRMSR handlers) checks CPL 0 first; anything not
 * in the table, or not available on the model, raises #GP(0). */
#include "emu/cpu/cpuid.h"
#include "emu/apic/apic.h"

#include <stddef.h>

typedef struct msr_row msr_row;
typedef bool (*msr_avail_fn)(const vp_cpu *c);
/* Return 0, or -1 for #GP(0). */
typedef int (*msr_read_fn)(vp_cpu *c, const msr_row *r, uint32_t msr,
                           uint64_t *val);
typedef int (*msr_write_fn)(vp_cpu *c, const msr_row *r, uint32_t msr,
                            uint64_t val);

struct msr_row {
    uint32_t index;
    uint32_t count;          /* MSRs index .. index + count - 1 */
    const char *name;
    msr_avail_fn avail;      /* NULL: every model */
    msr_read_fn read;
    msr_write_fn write;      /* NULL: read-only (#GP on write) */
    uint64_t rsvd;           /* write bits that raise #GP(0) */
    size_t field;            /* offsetof(vp_cpu, ...) for plain storage */
};

#define CPU_FIELD(c, r) ((uint64_t *)((char *)(c) + (r)->field))

/* ---- helpers --------------------------------------------------------- */

static bool canonical(const vp_cpu *c, uint64_t a)
{
    unsigned bits = c->model->lin_bits;
    if (vp_cpu_has(c, FEAT_LA57))
        bits = 57;
    int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == a;
}

static uint64_t phys_rsvd(const vp_cpu *c)
{
    return ~((1ull << c->model->phys_bits) - 1);
}

/* Memory types for PAT and MTRRs (SDM Vol 3A, "Memory Types That Can Be
 * Encoded With PAT" / "MTRR Memory Types and Their Properties"). */
static bool pat_type_ok(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7;
}

static bool mtrr_type_ok(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* ---- availability ---------------------------------------------------- */

static bool is_intel(const vp_cpu *c) { return !vp_cpu_is_amd(c); }
static bool is_amd(const vp_cpu *c) { return vp_cpu_is_amd(c); }
static bool has_tsc(const vp_cpu *c) { return vp_cpu_has(c, FEAT_TSC); }
static bool has_apic(const vp_cpu *c) { return vp_cpu_has(c, FEAT_APIC); }
static bool has_sep(const vp_cpu *c) { return vp_cpu_has(c, FEAT_SEP); }
static bool has_mtrr(const vp_cpu *c) { return vp_cpu_has(c, FEAT_MTRR); }
static bool has_pat(const vp_cpu *c) { return vp_cpu_has(c, FEAT_PAT); }
static bool has_lm(const vp_cpu *c) { return vp_cpu_has(c, FEAT_LM); }
static bool has_x2apic(const vp_cpu *c) { return vp_cpu_has(c, FEAT_X2APIC); }
static bool has_rdtscp(const vp_cpu *c)
{
    return vp_cpu_has(c, FEAT_RDTSCP) || vp_cpu_has(c, FEAT_RDPID);
}
static bool has_tsc_adjust(const vp_cpu *c)
{
    return vp_cpu_has(c, FEAT_TSC_ADJUST);
}
static bool has_tsc_deadline(const vp_cpu *c)
{
    return vp_cpu_has(c, FEAT_TSC_DEADLINE);
}
static bool has_syscall(const vp_cpu *c)
{
    return vp_cpu_has(c, FEAT_SYSCALL) || vp_cpu_has(c, FEAT_LM);
}
static bool has_efer(const vp_cpu *c)
{
    return has_syscall(c) || vp_cpu_has(c, FEAT_NX);
}
static bool has_platform_info(const vp_cpu *c)
{
    return c->model->platform_info != 0;
}

/* ---- generic rows ---------------------------------------------------- */

static int rd_field(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t *v)
{
    *v = *CPU_FIELD(c, r);
    return 0;
}

static int wr_field(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    *CPU_FIELD(c, r) = v;
    return 0;
}

static int wr_field_canonical(vp_cpu *c, const msr_row *r, uint32_t msr,
                              uint64_t v)
{
    if (!canonical(c, v))
        return -1;
    *CPU_FIELD(c, r) = v;
    return 0;
}

static int wr_ignore(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    return 0;
}

/* ---- TSC (SDM Vol 3B, "Time-Stamp Counter", "Time-Stamp Counter
 * Adjustment") ---------------------------------------------------------- */

static int rd_tsc(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t *v)
{
    *v = vp_cpu_tsc(c);
    return 0;
}

/* Writing the TSC moves IA32_TSC_ADJUST by the same amount, and writing
 * IA32_TSC_ADJUST moves the TSC. */
static int wr_tsc(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    uint64_t delta = v - vp_cpu_tsc(c);
    c->tsc_offset += delta;
    c->tsc_adjust += delta;
    vp_apic_tsc_changed(c);     /* re-times an armed TSC deadline */
    return 0;
}

static int wr_tsc_adjust(vp_cpu *c, const msr_row *r, uint32_t msr,
                         uint64_t v)
{
    c->tsc_offset += v - c->tsc_adjust;
    c->tsc_adjust = v;
    vp_apic_tsc_changed(c);
    return 0;
}

/* ---- APIC: IA32_APIC_BASE, x2APIC registers, TSC deadline ------------ */

static int rd_apic(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t *v)
{
    return vp_apic_msr_read(c, msr, v);
}

static int wr_apic(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    return vp_apic_msr_write(c, msr, v);
}

/* ---- EFER (SDM Vol 3A, "IA32_EFER MSR"; Vol 4 "IA32_EFER") ---------- */

static uint64_t efer_writable(const vp_cpu *c)
{
    uint64_t w = 0;
    if (has_syscall(c))
        w |= EFER_SCE;
    if (vp_cpu_has(c, FEAT_LM))
        w |= EFER_LME | EFER_LMA;
    if (vp_cpu_has(c, FEAT_NX))
        w |= EFER_NXE;
    return w;
}

static int wr_efer(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    if (v & ~efer_writable(c))
        return -1;
    /* SDM Vol 3A, "Enabling and Changing Paging Modes": LME cannot change
     * while paging is enabled. LMA is read-only (the write is ignored). */
    if ((c->cr0 & CR0_PG) && ((v ^ c->efer) & EFER_LME))
        return -1;
    v = (v & ~EFER_LMA) | (c->efer & EFER_LMA);
    uint64_t old = c->efer;
    c->efer = v;
    /* NXE changes what the TLB's cached permissions mean. */
    if ((old ^ v) & EFER_NXE)
        vp_tlb_flush(c, true);
    return 0;
}

/* ---- IA32_FS_BASE / IA32_GS_BASE: the segment caches' bases --------- */

static int rd_segbase(vp_cpu *c, const msr_row *r, uint32_t msr,
                      uint64_t *v)
{
    *v = c->seg[msr == 0xc0000100 ? S_FS : S_GS].base;
    return 0;
}

static int wr_segbase(vp_cpu *c, const msr_row *r, uint32_t msr,
                      uint64_t v)
{
    if (!canonical(c, v))
        return -1;
    c->seg[msr == 0xc0000100 ? S_FS : S_GS].base = v;
    return 0;
}

/* ---- SYSENTER ---------------------------------------------------------
 * Intel checks IA32_SYSENTER_ESP/EIP for canonical addresses; AMD keeps
 * only 32 bits (APM Vol 2, "SYSENTER and SYSEXIT (Legacy Mode Only)"). */

static int wr_sysenter_addr(vp_cpu *c, const msr_row *r, uint32_t msr,
                            uint64_t v)
{
    if (vp_cpu_is_amd(c))
        v &= 0xffffffffull;
    else if (!canonical(c, v))
        return -1;
    *CPU_FIELD(c, r) = v;
    return 0;
}

/* ---- PAT ------------------------------------------------------------- */

static int wr_pat(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (!pat_type_ok((unsigned)(v >> (8 * i)) & 0xff))
            return -1;
    c->pat = v;
    vp_tlb_flush(c, true);
    return 0;
}

/* ---- MTRRs (SDM Vol 3A, "Memory Type Range Registers (MTRRs)") -------
 * Stored and read back; memory types have no effect on an emulator without
 * caches. IA32_MTRRCAP advertises what is stored: 8 variable ranges, the
 * fixed ranges and write-combining, no SMRR. */

#define MTRR_VCNT 8

static int rd_mtrrcap(vp_cpu *c, const msr_row *r, uint32_t msr,
                      uint64_t *v)
{
    *v = MTRR_VCNT | VP_BIT(8) /* FIX */ | VP_BIT(10) /* WC */;
    return 0;
}

static int wr_mtrr_def(vp_cpu *c, const msr_row *r, uint32_t msr,
                       uint64_t v)
{
    if (!mtrr_type_ok(v & 0xff))
        return -1;
    c->mtrr_def_type = v;
    return 0;
}

/* Fixed-range MSR index -> slot in c->mtrr_fixed. */
static int mtrr_fixed_slot(uint32_t msr)
{
    if (msr == 0x250)
        return 0;
    if (msr == 0x258 || msr == 0x259)
        return 1 + (int)(msr - 0x258);
    if (msr >= 0x268 && msr <= 0x26f)
        return 3 + (int)(msr - 0x268);
    return -1;
}

static int rd_mtrr_fixed(vp_cpu *c, const msr_row *r, uint32_t msr,
                         uint64_t *v)
{
    int s = mtrr_fixed_slot(msr);
    if (s < 0)
        return -1;
    *v = c->mtrr_fixed[s];
    return 0;
}

static int wr_mtrr_fixed(vp_cpu *c, const msr_row *r, uint32_t msr,
                         uint64_t v)
{
    int s = mtrr_fixed_slot(msr);
    if (s < 0)
        return -1;
    for (int i = 0; i < 8; i++)
        if (!mtrr_type_ok((unsigned)(v >> (8 * i)) & 0xff))
            return -1;
    c->mtrr_fixed[s] = v;
    return 0;
}

static int rd_mtrr_var(vp_cpu *c, const msr_row *r, uint32_t msr,
                       uint64_t *v)
{
    *v = c->mtrr_var[msr - 0x200];
    return 0;
}

/* IA32_MTRR_PHYSBASEn: type 7:0, base 12..MAXPHYADDR-1.
 * IA32_MTRR_PHYSMASKn: valid bit 11, mask 12..MAXPHYADDR-1. */
static int wr_mtrr_var(vp_cpu *c, const msr_row *r, uint32_t msr,
                       uint64_t v)
{
    bool is_mask = (msr - 0x200) & 1;
    uint64_t rsvd = phys_rsvd(c) | (is_mask ? 0x7ffull : 0xf00ull);
    if (v & rsvd)
        return -1;
    if (!is_mask && !mtrr_type_ok(v & 0xff))
        return -1;
    c->mtrr_var[msr - 0x200] = v;
    return 0;
}

/* ---- Intel model-specific -------------------------------------------- */

/* IA32_MISC_ENABLE: fast strings, automatic thermal control, ENABLE
 * MONITOR FSM, limit CPUID maxval, xTPR disable and XD disable are
 * writable; BTS/PEBS unavailable read as 1; no performance monitoring. */
#define MISC_WRITABLE (MISC_FAST_STRINGS | MISC_TCC | MISC_MONITOR |     \
                       MISC_LIMIT_CPUID | MISC_XTPR_DISABLE | MISC_XD_DISABLE)
#define MISC_RO_ONES (MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)

static int rd_misc_enable(vp_cpu *c, const msr_row *r, uint32_t msr,
                          uint64_t *v)
{
    *v = (c->misc_enable & MISC_WRITABLE) | MISC_RO_ONES;
    return 0;
}

static int wr_misc_enable(vp_cpu *c, const msr_row *r, uint32_t msr,
                          uint64_t v)
{
    /* Setting XD disable while EFER.NXE is set leaves NXE in effect until
     * the next EFER write, which then finds NXE reserved. */
    c->misc_enable = v & MISC_WRITABLE;
    return 0;
}

/* IA32_FEATURE_CONTROL (SDM Vol 3C, "Enabling and Entering VMX
 * Operation"): only the lock bit exists until VMX and SMX do; once locked,
 * writes raise #GP(0) until reset. */
static int wr_feature_control(vp_cpu *c, const msr_row *r, uint32_t msr,
                              uint64_t v)
{
    if (c->feature_control & 1)
        return -1;
    c->feature_control = v;
    return 0;
}

static int rd_platform_info(vp_cpu *c, const msr_row *r, uint32_t msr,
                            uint64_t *v)
{
    *v = c->model->platform_info;
    return 0;
}

/* IA32_BIOS_SIGN_ID: the revision in bits 63:32; writes (of 0, before a
 * CPUID to refresh it) are accepted and change nothing. */
static int rd_ucode_rev(vp_cpu *c, const msr_row *r, uint32_t msr,
                        uint64_t *v)
{
    *v = vp_cpu_is_amd(c) ? c->model->ucode_rev
                          : (uint64_t)c->model->ucode_rev << 32;
    return 0;
}

static int rd_zero(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t *v)
{
    *v = 0;
    return 0;
}

/* IA32_DEBUGCTL: LBR, BTF and the rest are not implemented; writing 0 is
 * accepted, anything else is #GP(0) with a log line. */
static int wr_debugctl(vp_cpu *c, const msr_row *r, uint32_t msr,
                       uint64_t v)
{
    if (v) {
        VP_UNIMPL_ONCE(&c->m->trace,
                       "IA32_DEBUGCTL features (LBR, BTF, ...): #GP(0)");
        return -1;
    }
    c->debugctl = 0;
    return 0;
}

/* ---- AMD model-specific ---------------------------------------------- */

/* HWCR (AMD BKDG/PPR, MSRC001_0015 "Hardware Configuration"): reads
 * show the TSC counting at the P0 frequency (TscFreqSel, bit 24); writes
 * are accepted and ignored (none of its controls exist here). */
static int rd_hwcr(vp_cpu *c, const msr_row *r, uint32_t msr, uint64_t *v)
{
    *v = VP_BIT(24);
    return 0;
}

/* ---- the table ------------------------------------------------------- */

#define F(f) offsetof(vp_cpu, f)

static const msr_row msr_table[] = {
    {0x00000010, 1, "IA32_TIME_STAMP_COUNTER", has_tsc, rd_tsc, wr_tsc, 0, 0},
    {0x00000017, 1, "IA32_PLATFORM_ID", is_intel, rd_zero, NULL, 0, 0},
    {0x0000001b, 1, "IA32_APIC_BASE", has_apic, rd_apic, wr_apic, 0, 0},
    {0x0000003a, 1, "IA32_FEATURE_CONTROL", is_intel, rd_field,
     wr_feature_control, ~1ull, F(feature_control)},
    {0x0000003b, 1, "IA32_TSC_ADJUST", has_tsc_adjust, rd_field,
     wr_tsc_adjust, 0, F(tsc_adjust)},
    {0x0000008b, 1, "IA32_BIOS_SIGN_ID", NULL, rd_ucode_rev, wr_ignore, 0, 0},
    {0x000000ce, 1, "MSR_PLATFORM_INFO", has_platform_info,
     rd_platform_info, NULL, 0, 0},
    {0x000000fe, 1, "IA32_MTRRCAP", has_mtrr, rd_mtrrcap, NULL, 0, 0},
    {0x00000174, 1, "IA32_SYSENTER_CS", has_sep, rd_field, wr_field, 0,
     F(sysenter_cs)},
    {0x00000175, 1, "IA32_SYSENTER_ESP", has_sep, rd_field, wr_sysenter_addr,
     0, F(sysenter_esp)},
    {0x00000176, 1, "IA32_SYSENTER_EIP", has_sep, rd_field, wr_sysenter_addr,
     0, F(sysenter_eip)},
    {0x000001a0, 1, "IA32_MISC_ENABLE", is_intel, rd_misc_enable,
     wr_misc_enable, ~(MISC_WRITABLE | MISC_RO_ONES), 0},
    {0x000001d9, 1, "IA32_DEBUGCTL", NULL, rd_field, wr_debugctl, 0,
     F(debugctl)},
    {0x00000200, 2 * MTRR_VCNT, "IA32_MTRR_PHYSBASE/MASK", has_mtrr,
     rd_mtrr_var, wr_mtrr_var, 0, 0},
    {0x00000250, 1, "IA32_MTRR_FIX64K_00000", has_mtrr, rd_mtrr_fixed,
     wr_mtrr_fixed, 0, 0},
    {0x00000258, 2, "IA32_MTRR_FIX16K", has_mtrr, rd_mtrr_fixed,
     wr_mtrr_fixed, 0, 0},
    {0x00000268, 8, "IA32_MTRR_FIX4K", has_mtrr, rd_mtrr_fixed,
     wr_mtrr_fixed, 0, 0},
    {0x00000277, 1, "IA32_PAT", has_pat, rd_field, wr_pat, 0, F(pat)},
    {0x000002ff, 1, "IA32_MTRR_DEF_TYPE", has_mtrr, rd_field, wr_mtrr_def,
     ~0xcffull, F(mtrr_def_type)},
    {0x000006e0, 1, "IA32_TSC_DEADLINE", has_tsc_deadline, rd_apic, wr_apic,
     0, 0},
    {0x00000800, 0x100, "x2APIC registers", has_x2apic, rd_apic, wr_apic, 0,
     0},
    {0xc0000080, 1, "IA32_EFER", has_efer, rd_field, wr_efer, 0, F(efer)},
    {0xc0000081, 1, "IA32_STAR", has_syscall, rd_field, wr_field, 0, F(star)},
    {0xc0000082, 1, "IA32_LSTAR", has_lm, rd_field, wr_field_canonical, 0,
     F(lstar)},
    {0xc0000083, 1, "IA32_CSTAR", has_lm, rd_field, wr_field_canonical, 0,
     F(cstar)},
    {0xc0000084, 1, "IA32_FMASK", has_syscall, rd_field, wr_field,
     ~0xffffffffull, F(sfmask)},
    {0xc0000100, 1, "IA32_FS_BASE", has_lm, rd_segbase, wr_segbase, 0, 0},
    {0xc0000101, 1, "IA32_GS_BASE", has_lm, rd_segbase, wr_segbase, 0, 0},
    {0xc0000102, 1, "IA32_KERNEL_GS_BASE", has_lm, rd_field,
     wr_field_canonical, 0, F(kernel_gs_base)},
    {0xc0000103, 1, "IA32_TSC_AUX", has_rdtscp, rd_field, wr_field,
     ~0xffffffffull, F(tsc_aux)},
    {0xc0010015, 1, "HWCR", is_amd, rd_hwcr, wr_ignore, 0, 0},
};

static const msr_row *msr_lookup(const vp_cpu *c, uint32_t msr)
{
    for (size_t i = 0; i < VP_ARRAY_SIZE(msr_table); i++) {
        const msr_row *r = &msr_table[i];
        if (msr - r->index < r->count)
            return (!r->avail || r->avail(c)) ? r : NULL;
    }
    return NULL;
}

int vp_rdmsr(vp_cpu *c, uint32_t msr, uint64_t *val)
{
    const msr_row *r = msr_lookup(c, msr);
    if (!r) {
        VP_TRACE(&c->m->trace, CPU, "rdmsr %#x: no such MSR on %s, #GP(0)",
                 msr, c->model->name);
        return vp_raise_err(c, EXC_GP, 0);
    }
    if (r->read(c, r, msr, val) < 0) {
        VP_TRACE(&c->m->trace, CPU, "rdmsr %#x (%s): #GP(0)", msr, r->name);
        return vp_raise_err(c, EXC_GP, 0);
    }
    VP_TRACE(&c->m->trace, CPU, "rdmsr %#x (%s) -> %#llx", msr, r->name,
             (unsigned long long)*val);
    return VP_OK;
}

int vp_wrmsr(vp_cpu *c, uint32_t msr, uint64_t val)
{
    const msr_row *r = msr_lookup(c, msr);
    if (!r) {
        VP_TRACE(&c->m->trace, CPU,
                 "wrmsr %#x <- %#llx: no such MSR on %s, #GP(0)", msr,
                 (unsigned long long)val, c->model->name);
        return vp_raise_err(c, EXC_GP, 0);
    }
    if (!r->write || (val & r->rsvd) || r->write(c, r, msr, val) < 0) {
        VP_TRACE(&c->m->trace, CPU, "wrmsr %#x (%s) <- %#llx: #GP(0)", msr,
                 r->name, (unsigned long long)val);
        return vp_raise_err(c, EXC_GP, 0);
    }
    VP_TRACE(&c->m->trace, CPU, "wrmsr %#x (%s) <- %#llx", msr, r->name,
             (unsigned long long)val);
    return VP_OK;
}
