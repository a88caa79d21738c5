/* pku.c: protection keys for user pages. With CR4.PKE, bits 62:59 of the
 * entry that maps a user-mode address select a PKRU pair: AD denies data
 * reads and writes, WD denies writes by user mode and, with CR0.WP, by
 * supervisor mode; fetches are not affected, nor are supervisor pages;
 * the #PF error code has PK (bit 5). AD for supervisor accesses is
 * checked in pkru_supervisor.c (not on Bochs). RDPKRU/WRPKRU (#UD without CR4.PKE,
 * #GP(0) for ECX/EDX != 0), CPUID.7:ECX.OSPKE follows CR4.PKE, a WRPKRU
 * takes effect for translations the TLB may hold.
 * engines: vanderpool qemu bochs
 * vanderpool-args: --cpu vp-icx
 * qemu-args: -cpu max
 * bochsrc: cpu: model=tigerlake
 *
 * SDM Vol 3A, "Protection Keys", "Access Rights", "Page-Fault Exceptions";
 * Vol 2, RDPKRU, WRPKRU, CPUID (leaf 07H ECX bits 3 and 4).
 */
#include "sys_lib.h"
#include "paging_lib.h"

#define CPUID7_PKU BIT(3)
#define CPUID7_OSPKE BIT(4)

static uint32_t rdpkru(void)
{
    uint32_t a, d;
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
    return a;
}
static void wrpkru(uint32_t v)
{
    __asm__ volatile(".byte 0x0f, 0x01, 0xef" ::"a"(v), "c"(0), "d"(0) : "memory");
}

struct pk_regs {
    uint32_t eax, ecx, edx;
};
static void do_rdpkru(void *arg)
{
    struct pk_regs *r = arg;
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(r->eax), "=d"(r->edx) : "c"(r->ecx));
}
static void do_wrpkru(void *arg)
{
    struct pk_regs *r = arg;
    __asm__ volatile(".byte 0x0f, 0x01, 0xef" ::"a"(r->eax), "c"(r->ecx), "d"(r->edx) : "memory");
}

/* AD and WD of key k. */
#define AD(k) (1u << (2 * (k)))
#define WD(k) (2u << (2 * (k)))

enum { PG_K1 = PL_FREE, PG_K2, PG_SUP, PG_RO };

static void instructions(void)
{
    uint64_t cr4 = read_cr4();
    struct pk_regs r = {0, 0, 0};
    report_eq("RDPKRU without CR4.PKE: #UD", (uint64_t)(int64_t)run_catching(do_rdpkru, &r),
              UD_VECTOR);
    report_eq("WRPKRU without CR4.PKE: #UD", (uint64_t)(int64_t)run_catching(do_wrpkru, &r),
              UD_VECTOR);
    report_eq("OSPKE clear without CR4.PKE", cpuid_count(7, 0).c & CPUID7_OSPKE, 0);

    write_cr4(cr4 | CR4_PKE);
    report_eq("OSPKE set with CR4.PKE", cpuid_count(7, 0).c & CPUID7_OSPKE, CPUID7_OSPKE);
    wrpkru(0x12345678);
    r = (struct pk_regs){0, 0, 0};
    int v = run_catching(do_rdpkru, &r);
    report_msg("WRPKRU/RDPKRU round trip, EDX = 0", v == -1 && r.eax == 0x12345678 && r.edx == 0,
               "vector %d eax %#x edx %#x", v, r.eax, r.edx);
    r = (struct pk_regs){0, 1, 0};
    report_eq("RDPKRU with ECX != 0: #GP", (uint64_t)(int64_t)run_catching(do_rdpkru, &r),
              GP_VECTOR);
    r = (struct pk_regs){0, 1, 0};
    report_eq("WRPKRU with ECX != 0: #GP", (uint64_t)(int64_t)run_catching(do_wrpkru, &r),
              GP_VECTOR);
    r = (struct pk_regs){0, 0, 1};
    report_eq("WRPKRU with EDX != 0: #GP", (uint64_t)(int64_t)run_catching(do_wrpkru, &r),
              GP_VECTOR);
    report_eq("failed WRPKRU leaves PKRU", rdpkru(), 0x12345678);
    wrpkru(0);
    write_cr4(cr4);
}

static void rights(void)
{
    uint64_t cr4 = read_cr4(), cr0 = read_cr0();
    uint64_t k1 = pl_va(PG_K1), k2 = pl_va(PG_K2), sup = pl_va(PG_SUP), ro = pl_va(PG_RO);
    pl_fill_ud2(PG_K1);
    pl_map(PG_K1, PTE_U | PTE_W | PTE_PK(1));
    pl_map(PG_K2, PTE_U | PTE_W | PTE_PK(2));
    pl_map(PG_SUP, PTE_W | PTE_PK(1));
    pl_map(PG_RO, PTE_U | PTE_PK(1));

    /* Warm the TLB with every kind of access while PKRU allows it. */
    write_cr4(cr4 | CR4_PKE);
    wrpkru(0);
    pl_expect("pkru 0, key 1", ACC_R, true, k1, -1);
    pl_expect("pkru 0, key 1", ACC_W, true, k1, -1);
    pl_expect("pkru 0, key 1", ACC_R, false, k1, -1);
    pl_expect("pkru 0, key 1", ACC_W, false, k1, -1);

    /* AD1: data accesses to key-1 user pages fault with PK. */
    wrpkru(AD(1));
    pl_expect("AD1, key 1", ACC_R, true, k1, PF_P | PF_U | PF_PK);
    pl_expect("AD1, key 1", ACC_W, true, k1, PF_P | PF_W | PF_U | PF_PK);
    /* (Supervisor accesses under AD: pkru_supervisor.c.) */
    /* (Fetches at +800h: the writes above changed the UD2 at +0.) */
    pl_expect("AD1, key 1", ACC_X, true, k1 + 0x800, -1);
    pl_expect("AD1, key 2", ACC_W, true, k2, -1);
    pl_expect("AD1, supervisor page with key 1", ACC_W, false, sup, -1);

    /* WD1: writes only; supervisor writes only while CR0.WP. */
    wrpkru(WD(1));
    pl_expect("WD1, key 1", ACC_R, true, k1, -1);
    pl_expect("WD1, key 1", ACC_W, true, k1, PF_P | PF_W | PF_U | PF_PK);
    pl_expect("WD1, key 1", ACC_R, false, k1, -1);
    write_cr0(cr0 | CR0_WP);
    pl_expect("WD1 WP=1, key 1", ACC_W, false, k1, PF_P | PF_W | PF_PK);
    write_cr0(cr0 & ~CR0_WP);
    pl_expect("WD1 WP=0, key 1", ACC_W, false, k1, -1);
    write_cr0(cr0);
    /* PK is reported with the R/W violation it coincides with. */
    pl_expect("WD1, read-only key-1 page", ACC_W, true, ro, PF_P | PF_W | PF_U | PF_PK);
    wrpkru(AD(2) | WD(2));
    pl_expect("AD2 WD2, read-only key-1 page", ACC_W, true, ro, PF_P | PF_W | PF_U);

    /* Key 15 and the highest PKRU bits. */
    pl_map(PG_K2, PTE_U | PTE_W | PTE_PK(15));
    wrpkru(AD(15));
    pl_expect("AD15, key 15", ACC_R, true, k2, PF_P | PF_U | PF_PK);

    /* Without CR4.PKE the keys mean nothing. */
    wrpkru(AD(1) | WD(1) | AD(15));
    write_cr4(cr4);
    pl_expect("PKE=0, AD1 in PKRU, key 1", ACC_W, true, k1, -1);
    pl_expect("PKE=0, AD1 in PKRU, key 1", ACC_R, false, k1, -1);
    write_cr4(cr4 | CR4_PKE);
    report_eq("PKRU kept across CR4.PKE", rdpkru(), AD(1) | WD(1) | AD(15));
    wrpkru(0);
    write_cr4(cr4);
}

void test_main(void)
{
    if (!(cpuid_count(7, 0).c & CPUID7_PKU)) {
        report_skip("pku", "CPUID.(EAX=7,ECX=0):ECX.PKU is 0");
        return;
    }
    pl_init();
    instructions();
    rights();
}
