/* paging_rsvd.c: a reserved bit set in a present paging-structure entry
 * gives #PF with error code P=1 and RSVD=1 (plus W for writes) and CR2 =
 * the linear address.
 * engines: vanderpool bochs
 *
 * Not qemu: QEMU 7.2's TCG reports these faults without the P bit
 * (error 0x8 instead of 0x9).
 *
 * SDM Vol 3A, "Page-Fault Exceptions" and "Reserved Bits" (4-level paging:
 * bits above MAXPHYADDR; bits 20:13 of a PDE that maps a 2-MByte page;
 * bit 63 when IA32_EFER.NXE = 0).
 */
#include "vp.h"

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_RSVD BIT(3)

static void read_at(void *p)
{
    (void)*(volatile uint32_t *)p;
}

static void write_at(void *p)
{
    *(volatile uint32_t *)p = 1;
}

static void check(const char *name, volatile uint64_t *pde, uint64_t value, bool write,
                  uint64_t va)
{
    uint64_t orig = *pde;
    *pde = value;
    invlpg((void *)(uintptr_t)va);
    int v = run_catching(write ? write_at : read_at, (void *)(uintptr_t)va);
    *pde = orig;
    invlpg((void *)(uintptr_t)va);
    uint64_t want = PF_P | PF_RSVD | (write ? PF_W : 0);
    bool ok = v == PF_VECTOR && last_exception.error_code == want && last_exception.cr2 == va;
    report_msg(name, ok, "vector %d error %#llx cr2 %#llx, want #PF error %#llx cr2 %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.cr2, (unsigned long long)want,
               (unsigned long long)va);
}

void test_main(void)
{
    uint64_t region = alloc_2m();
    uint64_t va = region + 0x4321;
    volatile uint64_t *pde = identity_pde(region);
    uint64_t orig = *pde;

    unsigned maxphy = cpuid(0x80000000).a >= 0x80000008 ? cpuid(0x80000008).a & 0xFF : 36;
    if (maxphy < 52) {
        check("PDE bit MAXPHYADDR set, read", pde, orig | BIT(maxphy), false, va);
        check("PDE bit MAXPHYADDR set, write", pde, orig | BIT(maxphy), true, va + 4);
    } else {
        report_skip("PDE bit MAXPHYADDR set", "MAXPHYADDR is 52");
    }
    check("2 MiB PDE bit 13 set", pde, orig | BIT(13), false, va);
    report_eq("EFER.NXE is 0", rdmsr(MSR_EFER) & EFER_NXE, 0);
    check("PDE bit 63 set with EFER.NXE=0", pde, orig | BIT(63), false, va);
    read_at((void *)(uintptr_t)va);
    report_eq("PDE restored", *pde, orig);
}
