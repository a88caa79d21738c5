/* paging_modes.c: #PF error codes, CR2 and accessed/dirty updates in each
 * paging mode: 32-bit paging and PAE paging (32-bit legacy protected mode,
 * entered with sys_lib.h's pm32_run), 4-level paging and, where CPUID
 * advertises LA57, 5-level paging (long mode). The error code's P, W/R,
 * U/S, RSVD and I/D bits: not-present entries at several levels, writes
 * to read-only pages with and without CR0.WP, user accesses to
 * supervisor pages (U/S = 0 at any level), execute-disable with
 * EFER.NXE (I/D) and without it (a reserved bit), I/D from SMEP alone
 * and never in 32-bit paging, reserved bits (above MAXPHYADDR, in large
 * pages, PS in a PML4E/PML5E); A set in every entry used, D in the one
 * that maps the page on writes, also after a walk that faulted at the
 * PTE; canonical addresses under LA57.
 * The reserved-bit checks run in rsvd_bits.c, which is this file built
 * with PM_RSVD (QEMU 7.2's TCG reports those faults without the P bit).
 * engines: vanderpool qemu bochs
 * vanderpool-args: --cpu vp-icx
 * qemu-args: -cpu max
 * bochsrc: cpu: model=tigerlake
 * timeout: 120
 *
 * SDM Vol 3A, "Paging": "32-Bit Paging", "PAE Paging", "4-Level Paging
 * and 5-Level Paging", "Access Rights", "Accessed and Dirty Flags",
 * "Page-Fault Exceptions" (the error code), "Linear-Address
 * Pre-Processing" (canonicality with LA57).
 */
#include "sys_lib.h"
#include "paging_lib.h"

#define CPUID7_SMEP BIT(7)
#define CPUID7_LA57 BIT(16)

extern char x_read[], x_write[], x_exec[];
void la57_switch(uint64_t cr3, uint64_t cr4);

static unsigned maxphy;
static bool have_smep;

/* Reserved-bit faults (P = 1, RSVD = 1): only in the rsvd_bits build. */
#ifdef PM_RSVD
#define rsvd_expect pl_expect
#else
#define rsvd_expect(what, kind, user, va, err) ((void)(va))
#endif

enum { PG_DATA = PL_FREE, PG_DATA2, PG_CODE, PG_UCODE32, PG_USTACK32 };

/* ---- 4-level paging ------------------------------------------------- */

static void four_level(void)
{
    uint64_t cr0 = read_cr0(), efer = rdmsr(MSR_EFER);
    uint64_t d = pl_va(PG_DATA), x = pl_va(PG_CODE);
    pl_fill_ud2(PG_CODE);

    pl_set(PG_DATA, 0);
    pl_expect("4-level, not present", ACC_R, false, d, 0);
    pl_expect("4-level, not present", ACC_W, false, d, PF_W);
    pl_expect("4-level, not present", ACC_R, true, d, PF_U);
    pl_expect("4-level, not present", ACC_W, true, d, PF_U | PF_W);
    pl_expect("4-level NXE=0, not present", ACC_X, false, d, 0);
    set_efer_bits(EFER_NXE, 0);
    pl_expect("4-level NXE=1, not present", ACC_X, false, d, PF_I);
    pl_expect("4-level NXE=1, not present", ACC_X, true, d, PF_I | PF_U);
    wrmsr(MSR_EFER, efer);

    /* Read-only user page: supervisor writes need CR0.WP = 0. */
    pl_map(PG_DATA, PTE_U);
    pl_expect("4-level, read-only", ACC_R, true, d, -1);
    pl_expect("4-level, read-only", ACC_W, true, d, PF_P | PF_W | PF_U);
    write_cr0(cr0 | CR0_WP);
    pl_expect("4-level WP=1, read-only", ACC_W, false, d, PF_P | PF_W);
    write_cr0(cr0 & ~CR0_WP);
    pl_expect("4-level WP=0, read-only", ACC_W, false, d, -1);
    /* R/W = 0 in the PDE counts as much as in the PTE. */
    pl_map(PG_DATA, PTE_U | PTE_W);
    pl_pd[0] &= ~PTE_W;
    write_cr0(cr0 | CR0_WP);
    invlpg((void *)(uintptr_t)d);
    pl_expect("4-level WP=1, PDE R/W=0", ACC_W, false, d, PF_P | PF_W);
    pl_pd[0] |= PTE_W;
    write_cr0(cr0);

    /* Supervisor page. */
    pl_map(PG_DATA, PTE_W);
    pl_expect("4-level, supervisor page", ACC_R, true, d, PF_P | PF_U);
    pl_expect("4-level, supervisor page", ACC_W, true, d, PF_P | PF_W | PF_U);
    pl_expect("4-level, supervisor page", ACC_R, false, d, -1);
    /* U/S = 0 in a PDPTE only (the one for PL_BASE + 1 GiB; the user
     * code stays under PDPTE 0). */
    uint64_t *pd2 = alloc_page(), *pt2 = alloc_page();
    uint64_t far = PL_BASE + (1ull << 30);
    pt2[0] = (uint64_t)(uintptr_t)pl_frame[PG_DATA] | PTE_P | PTE_W | PTE_U;
    pd2[0] = (uint64_t)(uintptr_t)pt2 | PTE_P | PTE_W | PTE_U;
    pl_pdpt[1] = (uint64_t)(uintptr_t)pd2 | PTE_P | PTE_W;
    write_cr3(read_cr3());
    pl_expect("4-level, PDPTE U/S=0", ACC_R, true, far, PF_P | PF_U);
    pl_expect("4-level, PDPTE U/S=0", ACC_R, false, far, -1);
    pl_pdpt[1] = 0;
    write_cr3(read_cr3());

    /* Execute-disable. */
    set_efer_bits(EFER_NXE, 0);
    pl_map(PG_CODE, PTE_U | PTE_NX);
    pl_expect("4-level NXE=1, XD page", ACC_X, false, x, PF_P | PF_I);
    pl_expect("4-level NXE=1, XD page", ACC_X, true, x, PF_P | PF_I | PF_U);
    pl_expect("4-level NXE=1, XD page", ACC_R, true, x, -1);
    pl_map(PG_CODE, PTE_U);
    pl_expect("4-level NXE=1, executable page", ACC_X, true, x, -1);
    pl_map(PG_CODE, PTE_W);
    pl_expect("4-level NXE=1, supervisor page", ACC_X, true, x, PF_P | PF_I | PF_U);
    wrmsr(MSR_EFER, efer);
    pl_expect("4-level NXE=0, supervisor page", ACC_X, true, x, PF_P | PF_U);
    pl_map(PG_CODE, PTE_U | PTE_NX);
    rsvd_expect("4-level NXE=0, XD bit (reserved)", ACC_R, false, x, PF_P | PF_RSVD);
    rsvd_expect("4-level NXE=0, XD bit (reserved)", ACC_X, true, x, PF_P | PF_RSVD | PF_U);

    /* Reserved bits. */
    if (maxphy < 52) {
        pl_map(PG_DATA, PTE_U | PTE_W | BIT(maxphy));
        rsvd_expect("4-level, PTE bit MAXPHYADDR", ACC_R, false, d, PF_P | PF_RSVD);
        rsvd_expect("4-level, PTE bit MAXPHYADDR", ACC_W, true, d, PF_P | PF_RSVD | PF_W | PF_U);
    }
    pl_map(PG_DATA, PTE_U | PTE_W);
    vp_pml4[1] |= PTE_PS;
    write_cr3(read_cr3());
    rsvd_expect("4-level, PS in the PML4E", ACC_R, false, d, PF_P | PF_RSVD);
    vp_pml4[1] &= ~PTE_PS;
    write_cr3(read_cr3());

    /* Not present above the PTE. */
    pl_pd[0] &= ~PTE_P;
    write_cr3(read_cr3());
    pl_expect("4-level, PDE not present", ACC_W, false, d, PF_W);
    pl_pd[0] |= PTE_P;
    write_cr3(read_cr3());

    /* Accessed and dirty. */
    pl_map(PG_DATA, PTE_U | PTE_W);
    pl_pd[0] &= ~PTE_A;
    pl_pdpt[0] &= ~PTE_A;
    vp_pml4[1] &= ~PTE_A;
    write_cr3(read_cr3());
    pl_access(ACC_R, false, d);
    report_eq("4-level read: A in PTE, no D", pl_pt[PG_DATA] & (PTE_A | PTE_D), PTE_A);
    report_eq("4-level read: A in PDE, PDPTE, PML4E",
              (pl_pd[0] & pl_pdpt[0] & vp_pml4[1]) & PTE_A, PTE_A);
    pl_access(ACC_W, true, d);
    report_eq("4-level write: D in PTE", pl_pt[PG_DATA] & (PTE_A | PTE_D), PTE_A | PTE_D);
    report_eq("4-level write: no D in the PDE", pl_pd[0] & PTE_D, 0);
    pl_map(PG_DATA, PTE_U | PTE_W);
    pl_access(ACC_W, false, d);
    report_eq("4-level write first: A and D", pl_pt[PG_DATA] & (PTE_A | PTE_D), PTE_A | PTE_D);
    pl_map(PG_DATA, PTE_U);
    pl_access(ACC_W, true, d);
    report_eq("4-level faulting write: no D", pl_pt[PG_DATA] & PTE_D, 0);

    /* A walk that faults at the PTE caches no page table whose upper
     * entries' accessed flags are still clear ("Caches for Paging
     * Structures": none is cached before those flags are set), so the
     * next walk, once the PTE is made present without an invalidation
     * (allowed for a P flag going from 0 to 1), sets them. */
    pl_set(PG_DATA, 0);
    pl_pd[0] &= ~PTE_A;
    pl_pdpt[0] &= ~PTE_A;
    vp_pml4[1] &= ~PTE_A;
    write_cr3(read_cr3());
    pl_expect("4-level, PTE not present, A clear above", ACC_R, false, d, 0);
    pl_pt[PG_DATA] = (uint64_t)(uintptr_t)pl_frame[PG_DATA] | PTE_P | PTE_U | PTE_W;
    pl_access(ACC_R, false, d);
    report_eq("4-level read after a not-present PTE: A in PDE, PDPTE, PML4E",
              (pl_pd[0] & pl_pdpt[0] & vp_pml4[1]) & PTE_A, PTE_A);
}

/* A 2-MiB page at PL_BASE + 2 MiB (pl_pd[1]): reserved bits 20:13, A/D. */
static void large_pages(void)
{
    uint8_t *mem = alloc_pages(1024);
    uint64_t phys = ((uint64_t)(uintptr_t)mem + (2ull << 20) - 1) & ~((2ull << 20) - 1);
    uint64_t va = PL_BASE + (2ull << 20) + 0x1234;
    pl_pd[1] = phys | PTE_P | PTE_W | PTE_U | PTE_PS;
    invlpg((void *)(uintptr_t)va);
    pl_expect("2-MiB page", ACC_W, false, va, -1);
    report_eq("2-MiB page write: A and D in the PDE", pl_pd[1] & (PTE_A | PTE_D), PTE_A | PTE_D);
    pl_pd[1] = phys | PTE_P | PTE_W | PTE_U | PTE_PS | BIT(13);
    invlpg((void *)(uintptr_t)va);
    rsvd_expect("2-MiB page, bit 13 (reserved)", ACC_R, true, va, PF_P | PF_RSVD | PF_U);
    pl_pd[1] = 0;
    invlpg((void *)(uintptr_t)va);
}

/* I/D from SMEP alone (EFER.NXE = 0). */
static void smep_id(void)
{
    uint64_t cr4 = read_cr4();
    pl_map(PG_CODE, PTE_U);
    write_cr4(cr4 | CR4_SMEP);
    pl_expect("4-level SMEP=1 NXE=0, user page", ACC_X, false, pl_va(PG_CODE), PF_P | PF_I);
    pl_set(PG_DATA, 0);
    pl_expect("4-level SMEP=1 NXE=0, not present", ACC_X, false, pl_va(PG_DATA), PF_I);
    write_cr4(cr4);
}

/* ---- 5-level paging ------------------------------------------------- */

static void canonical_read(void *p)
{
    (void)*(volatile uint8_t *)p;
}

static void five_level(void)
{
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();
    uint64_t hi = 1ull << 48; /* PML5 index 1 */
    uint64_t d = hi + (uint64_t)PG_DATA * 4096;
    int v = run_catching(canonical_read, (void *)(uintptr_t)d);
    report_eq("4-level: bit 48 set is not canonical", (uint64_t)(int64_t)v, GP_VECTOR);

    uint64_t *pml5 = alloc_page(), *pml4b = alloc_page();
    pml5[0] = (uint64_t)(uintptr_t)vp_pml4 | PTE_P | PTE_W | PTE_U;
    pml4b[0] = (uint64_t)(uintptr_t)pl_pdpt | PTE_P | PTE_W | PTE_U;
    pml5[1] = (uint64_t)(uintptr_t)pml4b | PTE_P | PTE_W | PTE_U;
    la57_switch((uint64_t)(uintptr_t)pml5, cr4 | CR4_LA57);
    report_eq("CR4.LA57 set", read_cr4() & CR4_LA57, CR4_LA57);

    *(volatile uint32_t *)pl_frame[PG_DATA] = 0x5A5A1234;
    pl_map(PG_DATA, PTE_U | PTE_W);
    report_eq("5-level: PML5 index 1 reaches the page", *(volatile uint32_t *)(uintptr_t)d,
              0x5A5A1234);
    report_eq("5-level: A in the PML5E", pml5[1] & PTE_A, PTE_A);
    pl_expect("5-level", ACC_W, true, d, -1);
    pml5[1] &= ~PTE_U;
    write_cr3(read_cr3());
    pl_expect("5-level, PML5E U/S=0", ACC_R, true, d, PF_P | PF_U);
    pml5[1] |= PTE_U | PTE_PS;
    write_cr3(read_cr3());
    rsvd_expect("5-level, PS in the PML5E", ACC_R, false, d, PF_P | PF_RSVD);
    pml5[1] &= ~PTE_PS;
    write_cr3(read_cr3());
    pl_expect("5-level, PML5E not present", ACC_W, false, 2 * hi, PF_W);
    v = run_catching(canonical_read, (void *)(uintptr_t)(1ull << 56));
    report_eq("5-level: bit 56 set is not canonical", (uint64_t)(int64_t)v, GP_VECTOR);
    v = run_catching(canonical_read, (void *)(uintptr_t)(0xFF00000000000000ull + d));
    report_msg("5-level: sign-extended bit 56 is canonical", v == PF_VECTOR || v == -1,
               "vector %d", v);

    la57_switch(cr3, cr4);
    report_eq("CR4.LA57 clear again", read_cr4() & CR4_LA57, 0);
}

/* ---- 32-bit and PAE paging (legacy protected mode) ------------------ */

#define L32_VA 0x40000000u /* the test's pages in both legacy modes */

struct legacy {
    const char *mode;
    uint32_t *pt32; /* 32-bit paging */
    uint64_t *pt64; /* PAE */
};
static struct legacy lg;

static uint32_t l32_va(unsigned i)
{
    return L32_VA + 4096u * i;
}

static void l32_set(unsigned i, uint64_t pte)
{
    if (lg.pt32)
        lg.pt32[i] = (uint32_t)pte;
    else
        lg.pt64[i] = pte;
}

static void l32_map(unsigned i, uint64_t flags)
{
    l32_set(i, (uint64_t)(uintptr_t)pl_frame[i] | PTE_P | flags);
}

static uint64_t l32_get(unsigned i)
{
    return lg.pt32 ? lg.pt32[i] : lg.pt64[i];
}

/* One access in legacy protected mode: -1 when it succeeded, else the
 * vector (frame in pm32_last). */
static int l32_access(int kind, bool user, uint32_t va)
{
    int v;
    if (!user) {
        struct x32 r = {.fn = addr32(kind == ACC_R ? x_read : kind == ACC_W ? x_write : x_exec),
                        .esi = va};
        v = x32_run(&r);
    } else {
        struct x32 r = {.fn = l32_va(PG_UCODE32) + (kind == ACC_R ? 0 : kind == ACC_W ? 16 : 32),
                        .esi = va,
                        .esp = l32_va(PG_USTACK32) + 4096 - 16};
        v = x32_run_user(&r);
    }
    if (kind == ACC_X && v == UD_VECTOR && pm32_last.eip == va)
        v = -1;
    return v;
}

static bool l32_expect(const char *what, int kind, bool user, uint32_t va, int want_err)
{
    int v = l32_access(kind, user, va);
    uint64_t cr2 = read_cr2();
    char name[120];
    snprintf(name, sizeof(name), "%s %s: %s %s", lg.mode, what, user ? "user" : "supervisor",
             pl_kind_name[kind]);
    bool ok = want_err < 0 ? v == -1
                           : v == PF_VECTOR && pm32_last.err == (uint32_t)want_err && cr2 == va;
    return report_msg(name, ok, "vector %d error %#x cr2 %#llx eip %#x, want %s %#x", v,
                      pm32_last.err, (unsigned long long)cr2, pm32_last.eip,
                      want_err < 0 ? "no fault" : "#PF error", want_err < 0 ? 0 : want_err);
}

#ifdef PM_RSVD
#define l32_rsvd_expect l32_expect
#else
#define l32_rsvd_expect(what, kind, user, va, err) ((void)(va))
#endif

static void legacy_common(uint32_t cr4_extra)
{
    uint64_t cr0 = read_cr0(), efer = rdmsr(MSR_EFER);
    uint32_t d = l32_va(PG_DATA), x = l32_va(PG_CODE);
    static const uint8_t ucode[] = {
        0x8B, 0x06, 0xCD, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* mov (%esi),%eax; int 81h */
        0xC7, 0x06, 0x44, 0x33, 0x22, 0x11, 0xCD, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, /* movl; int */
        0xFF, 0xE6, /* jmp *%esi */
    };
    memcpy(pl_frame[PG_UCODE32], ucode, sizeof(ucode));
    l32_map(PG_UCODE32, PTE_U);
    l32_map(PG_USTACK32, PTE_U | PTE_W);
    pl_fill_ud2(PG_CODE);
    pm32_cr4 |= cr4_extra;

    l32_set(PG_DATA, 0);
    l32_expect("not present", ACC_R, false, d, 0);
    l32_expect("not present", ACC_W, true, d, PF_W | PF_U);
    /* EFER.NXE sets I/D for fetches with PAE only. */
    set_efer_bits(EFER_NXE, 0);
    l32_expect("NXE=1, not present", ACC_X, false, d, lg.pt64 ? PF_I : 0);
    wrmsr(MSR_EFER, efer);

    l32_map(PG_DATA, PTE_U);
    l32_expect("read-only", ACC_R, true, d, -1);
    l32_expect("read-only", ACC_W, true, d, PF_P | PF_W | PF_U);
    write_cr0(cr0 | CR0_WP);
    l32_expect("WP=1, read-only", ACC_W, false, d, PF_P | PF_W);
    write_cr0(cr0 & ~CR0_WP);
    l32_expect("WP=0, read-only", ACC_W, false, d, -1);
    write_cr0(cr0);
    l32_map(PG_DATA, PTE_W);
    l32_expect("supervisor page", ACC_R, true, d, PF_P | PF_U);
    l32_expect("supervisor page", ACC_W, false, d, -1);

    /* Accessed and dirty. */
    l32_map(PG_DATA, PTE_U | PTE_W);
    l32_access(ACC_R, true, d);
    report_eq("legacy read: A, no D", l32_get(PG_DATA) & (PTE_A | PTE_D), PTE_A);
    l32_access(ACC_W, false, d);
    report_eq("legacy write: A and D", l32_get(PG_DATA) & (PTE_A | PTE_D), PTE_A | PTE_D);

    /* SMEP applies in every paging mode; I/D without NXE. */
    if (have_smep) {
        l32_map(PG_CODE, PTE_U);
        pm32_cr4 |= CR4_SMEP;
        l32_expect("SMEP=1, user page", ACC_X, false, x, PF_P | PF_I);
        l32_expect("SMEP=1, user page", ACC_X, true, x, -1);
        pm32_cr4 &= ~CR4_SMEP;
        l32_expect("SMEP=0, user page", ACC_X, false, x, -1);
    }
    pm32_cr4 &= ~cr4_extra;
}

static void legacy32(void)
{
    uint32_t *pd = alloc_page(), *pt = alloc_page();
    for (unsigned i = 0; i < 256; i++) /* 0-1 GiB: 4-MiB pages */
        pd[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
    pd[L32_VA >> 22] = addr32(pt) | PTE_P | PTE_W | PTE_U;
    lg = (struct legacy){.mode = "32-bit", .pt32 = pt};
    pm32_cr3 = addr32(pd);
    pm32_cr4 = CR4_PSE;
    legacy_common(0);

    /* 4-MiB page: bit 21 is reserved; A and D in the PDE. */
    uint32_t big = L32_VA + (4u << 20);
    pd[big >> 22] = (2u << 22) | PTE_P | PTE_W | PTE_PS | PTE_U;
    l32_expect("4-MiB page", ACC_W, true, big + 0x10, -1);
    report_eq("32-bit 4-MiB page write: A and D in the PDE", pd[big >> 22] & (PTE_A | PTE_D),
              PTE_A | PTE_D);
    pd[big >> 22] |= BIT(21);
    l32_rsvd_expect("4-MiB page, bit 21 (reserved)", ACC_R, false, big + 0x10, PF_P | PF_RSVD);
    pm32_cr3 = pm32_cr4 = 0;
}

static void legacy_pae(void)
{
    uint64_t *pdpt = alloc_page(), *pd0 = alloc_page(), *pd1 = alloc_page(), *pt = alloc_page();
    for (unsigned i = 0; i < 512; i++) /* 0-1 GiB: 2-MiB pages */
        pd0[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
    pd1[0] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W | PTE_U;
    pdpt[0] = (uint64_t)(uintptr_t)pd0 | PTE_P;
    pdpt[1] = (uint64_t)(uintptr_t)pd1 | PTE_P;
    lg = (struct legacy){.mode = "PAE", .pt64 = pt};
    pm32_cr3 = addr32(pdpt);
    pm32_cr4 = CR4_PAE;
    legacy_common(0);

    uint64_t efer = rdmsr(MSR_EFER);
    uint32_t x = l32_va(PG_CODE), d = l32_va(PG_DATA);
    set_efer_bits(EFER_NXE, 0);
    l32_map(PG_CODE, PTE_U | PTE_NX);
    l32_expect("NXE=1, XD page", ACC_X, false, x, PF_P | PF_I);
    l32_expect("NXE=1, XD page", ACC_X, true, x, PF_P | PF_I | PF_U);
    l32_expect("NXE=1, XD page", ACC_R, true, x, -1);
    wrmsr(MSR_EFER, efer);
    l32_rsvd_expect("NXE=0, XD bit (reserved)", ACC_R, false, x, PF_P | PF_RSVD);
    if (maxphy < 52) {
        l32_map(PG_DATA, PTE_U | PTE_W | BIT(maxphy));
        l32_rsvd_expect("PTE bit MAXPHYADDR", ACC_W, true, d, PF_P | PF_RSVD | PF_W | PF_U);
    }
    /* 2-MiB page: bits 20:13 reserved. */
    uint32_t big = L32_VA + (2u << 20);
    pd1[1] = (4ull << 20) | PTE_P | PTE_W | PTE_U | PTE_PS | BIT(14);
    l32_rsvd_expect("2-MiB page, bit 14 (reserved)", ACC_R, true, big, PF_P | PF_RSVD | PF_U);
    pd1[1] = 0;
    l32_expect("PDE not present", ACC_R, true, big, PF_U);
    pm32_cr3 = pm32_cr4 = 0;
}

void test_main(void)
{
    maxphy = cpuid(0x80000000).a >= 0x80000008 ? cpuid(0x80000008).a & 0xFF : 36;
    have_smep = cpuid_count(7, 0).b & CPUID7_SMEP;
    pl_init();
    four_level();
    large_pages();
    if (have_smep)
        smep_id();
    else
        report_skip("4-level SMEP", "CPUID.(EAX=7,ECX=0):EBX.SMEP is 0");
    if (cpuid_count(7, 0).c & CPUID7_LA57)
        five_level();
    else
        report_skip("5-level paging", "CPUID.(EAX=7,ECX=0):ECX.LA57 is 0");
    legacy32();
    legacy_pae();
}
