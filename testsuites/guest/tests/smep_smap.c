/* smep_smap.c: supervisor-mode execution and access prevention. With
 * CR4.SMEP a supervisor fetch from a user-mode address is a #PF with I/D
 * set (NXE or not); with CR4.SMAP explicit supervisor data accesses to
 * user-mode addresses fault unless RFLAGS.AC = 1 (STAC/CLAC, #UD at CPL
 * 3), and with AC = 1 and CR0.WP = 0 even read-only user pages are
 * writable. A user-mode address needs U/S = 1 at every level. Changing
 * the CR4 bits takes effect for translations the TLB may hold.
 * engines: vanderpool qemu bochs
 * qemu-args: -cpu max
 * bochsrc: cpu: model=tigerlake
 *
 * SDM Vol 3A, "Access Rights" ("Determination of Access Rights"),
 * "Page-Fault Exceptions", "Invalidation of TLBs and Paging-Structure
 * Caches" (MOV to CR4 changing SMEP or SMAP); Vol 2, CLAC, STAC.
 */
#include "sys_lib.h"
#include "paging_lib.h"

#define CPUID7_SMEP BIT(7)
#define CPUID7_SMAP BIT(20)
#define STUB_CLAC 48   /* in the user code page: CLAC; UD2 */

enum { PG_USER = PL_FREE, PG_SUP, PG_RO };

static void smep(void)
{
    uint64_t cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
    uint64_t u = pl_va(PG_USER), s = pl_va(PG_SUP);
    pl_fill_ud2(PG_USER);
    pl_fill_ud2(PG_SUP);
    pl_map(PG_USER, PTE_U | PTE_W);
    pl_map(PG_SUP, PTE_W);

    pl_expect("SMEP=0, user page", ACC_X, false, u, -1);
    write_cr4(cr4 | CR4_SMEP);
    pl_expect("SMEP=1, user page", ACC_X, false, u, PF_P | PF_I);
    pl_expect("SMEP=1, user page", ACC_X, true, u, -1);
    pl_expect("SMEP=1, user page", ACC_R, false, u, -1);
    pl_expect("SMEP=1, supervisor page", ACC_X, false, s, -1);
    pl_set(PG_USER, 0);
    pl_expect("SMEP=1, not present", ACC_X, false, u, PF_I);
    pl_map(PG_USER, PTE_U | PTE_W);
    /* I/D with SMEP does not need EFER.NXE; with both it is the same. */
    set_efer_bits(EFER_NXE, 0);
    pl_expect("SMEP=1 NXE=1, user page", ACC_X, false, u, PF_P | PF_I);
    wrmsr(MSR_EFER, efer);
    /* U/S = 0 in the PDE: a supervisor-mode address, whatever the PTE. */
    pl_pd[0] &= ~PTE_U;
    invlpg((void *)(uintptr_t)u);
    pl_expect("SMEP=1, PDE U/S=0 PTE U/S=1", ACC_X, false, u, -1);
    pl_pd[0] |= PTE_U;
    invlpg((void *)(uintptr_t)u);
    write_cr4(cr4);
    pl_expect("SMEP=0 again, user page", ACC_X, false, u, -1);
}

static uint64_t rflags_after(bool stac)
{
    uint64_t f;
    if (stac)
        __asm__ volatile("stac; pushfq; popq %0; clac" : "=r"(f)::"memory", "cc");
    else
        __asm__ volatile("clac; pushfq; popq %0" : "=r"(f)::"memory", "cc");
    return f;
}

static void stac(void) { __asm__ volatile("stac" ::: "memory", "cc"); }
static void clac(void) { __asm__ volatile("clac" ::: "memory", "cc"); }

static void smap(void)
{
    uint64_t cr4 = read_cr4(), cr0 = read_cr0();
    uint64_t u = pl_va(PG_USER), s = pl_va(PG_SUP), ro = pl_va(PG_RO);
    pl_map(PG_USER, PTE_U | PTE_W);
    pl_map(PG_SUP, PTE_W);
    pl_map(PG_RO, PTE_U);

    report_eq("STAC sets AC", rflags_after(true) & RFLAGS_AC, RFLAGS_AC);
    report_eq("CLAC clears AC", rflags_after(false) & RFLAGS_AC, 0);
    static const uint8_t clac_ud2[] = {0x0F, 0x01, 0xCA, 0x0F, 0x0B};
    memcpy(pl_frame[PL_UCODE] + STUB_CLAC, clac_ud2, sizeof(clac_ud2));
    int v = pl_user(pl_va(PL_UCODE) + STUB_CLAC, 0);
    report_msg("CLAC at CPL 3: #UD", v == UD_VECTOR && last_exception.rip == pl_va(PL_UCODE) + STUB_CLAC,
               "vector %d rip %#llx", v, (unsigned long long)last_exception.rip);

    /* Warm the TLB, then turn SMAP on. */
    pl_expect("SMAP=0, user page", ACC_R, false, u, -1);
    pl_expect("SMAP=0, user page", ACC_W, false, u, -1);
    write_cr4(cr4 | CR4_SMAP);
    clac();
    pl_expect("SMAP=1 AC=0, user page", ACC_R, false, u, PF_P);
    pl_expect("SMAP=1 AC=0, user page", ACC_W, false, u, PF_P | PF_W);
    pl_expect("SMAP=1 AC=0, supervisor page", ACC_W, false, s, -1);
    pl_expect("SMAP=1 AC=0, user page", ACC_W, true, u, -1);
    stac();
    pl_expect("SMAP=1 AC=1, user page", ACC_R, false, u, -1);
    pl_expect("SMAP=1 AC=1, user page", ACC_W, false, u, -1);
    /* AC = 1 with CR0.WP = 0: read-only user pages too; WP = 1: no. */
    write_cr0(cr0 & ~CR0_WP);
    pl_expect("SMAP=1 AC=1 WP=0, read-only user page", ACC_W, false, ro, -1);
    write_cr0(cr0 | CR0_WP);
    pl_expect("SMAP=1 AC=1 WP=1, read-only user page", ACC_W, false, ro, PF_P | PF_W);
    write_cr0(cr0);
    /* After the accesses with AC = 1, AC = 0 faults again. */
    clac();
    pl_expect("SMAP=1 AC=0 again, user page", ACC_R, false, u, PF_P);
    /* Fetches are SMEP's business. */
    pl_fill_ud2(PG_USER);
    pl_expect("SMAP=1 SMEP=0, user page", ACC_X, false, u, -1);
    write_cr4(cr4);
    pl_expect("SMAP=0 again, user page", ACC_R, false, u, -1);
}

void test_main(void)
{
    uint32_t b = cpuid_count(7, 0).b;
    if (!(b & (CPUID7_SMEP | CPUID7_SMAP))) {
        report_skip("smep/smap", "CPUID.(EAX=7,ECX=0):EBX.SMEP and SMAP are 0");
        return;
    }
    pl_init();
    if (b & CPUID7_SMEP)
        smep();
    else
        report_skip("smep", "CPUID.(EAX=7,ECX=0):EBX.SMEP is 0");
    if (b & CPUID7_SMAP)
        smap();
    else
        report_skip("smap", "CPUID.(EAX=7,ECX=0):EBX.SMAP is 0");
}
