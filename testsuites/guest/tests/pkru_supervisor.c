/* pkru_supervisor.c: protection keys apply to supervisor-mode data
 * accesses to user-mode addresses too: with PKRU.ADi = 1 a supervisor
 * read or write of a user page with key i is a #PF with PK set, whatever
 * CR0.WP.
 * engines: vanderpool qemu
 * vanderpool-args: --cpu vp-icx
 * qemu-args: -cpu max
 *
 * Not bochs: Bochs 2.7 applies PKRU.AD to user-mode accesses only.
 *
 * SDM Vol 3A, "Protection Keys" (ADi "prevents data accesses to user-mode
 * linear addresses with protection key i"), "Page-Fault Exceptions" (the
 * PK flag: condition (4)(a) has no privilege qualifier).
 */
#include "sys_lib.h"
#include "paging_lib.h"

static void wrpkru(uint32_t v)
{
    __asm__ volatile(".byte 0x0f, 0x01, 0xef" ::"a"(v), "c"(0), "d"(0) : "memory");
}

void test_main(void)
{
    if (!(cpuid_count(7, 0).c & BIT(3))) {
        report_skip("pku", "CPUID.(EAX=7,ECX=0):ECX.PKU is 0");
        return;
    }
    pl_init();
    uint64_t cr4 = read_cr4(), cr0 = read_cr0();
    uint64_t k1 = pl_va(PL_FREE);
    pl_map(PL_FREE, PTE_U | PTE_W | PTE_PK(1));
    write_cr4(cr4 | CR4_PKE);
    wrpkru(0);
    pl_expect("pkru 0, key 1", ACC_R, false, k1, -1);
    wrpkru(1u << 2); /* AD1 */
    pl_expect("AD1 WP=0, key 1", ACC_R, false, k1, PF_P | PF_PK);
    pl_expect("AD1 WP=0, key 1", ACC_W, false, k1, PF_P | PF_W | PF_PK);
    write_cr0(cr0 | CR0_WP);
    pl_expect("AD1 WP=1, key 1", ACC_R, false, k1, PF_P | PF_PK);
    pl_expect("AD1 WP=1, key 1", ACC_W, false, k1, PF_P | PF_W | PF_PK);
    write_cr0(cr0);
    wrpkru(0);
    write_cr4(cr4);
}
