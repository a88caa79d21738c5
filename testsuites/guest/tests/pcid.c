/* pcid.c: process-context identifiers and INVPCID. CR4.PCIDE can be set
 * only with CR3[11:0] = 0; then CR3[11:0] is the PCID and MOV to CR3 with
 * bit 63 set does not store that bit; a MOV to CR3 with bit 63 clear
 * invalidates the PCID's non-global translations. INVPCID types 0-3
 * invalidate what they name; #GP(0) for a type above 3, descriptor bits
 * 63:12 set, a non-canonical address (type 0), a non-zero PCID with
 * CR4.PCIDE = 0 (types 0 and 1), and at CPL 3.
 * engines: vanderpool bochs
 * bochsrc: cpu: model=corei7_skylake_x
 *
 * Not qemu: QEMU 7.2's TCG implements neither PCID nor INVPCID.
 *
 * SDM Vol 3A, "Process-Context Identifiers (PCIDs)", "Invalidation of
 * TLBs and Paging-Structure Caches"; Vol 2, INVPCID, MOV (to CR3, CR4).
 */
#include "sys_lib.h"
#include "paging_lib.h"

#define CPUID1_PCID BIT(17)
#define CPUID7_INVPCID BIT(10)
#define STUB_INVPCID 64 /* in the user code page: INVPCID (%rdi), %rax; UD2 */

struct invpcid_args {
    uint64_t type;
    uint64_t desc[2] __attribute__((aligned(16)));
};

static void do_invpcid(void *arg)
{
    struct invpcid_args *a = arg;
    __asm__ volatile("invpcid %1, %0" ::"r"(a->type), "m"(a->desc) : "memory");
}

static int invpcid(uint64_t type, uint64_t pcid, uint64_t addr)
{
    struct invpcid_args a = {type, {pcid, addr}};
    return run_catching(do_invpcid, &a);
}

static void set_cr3(void *arg)
{
    write_cr3(*(uint64_t *)arg);
}

static void set_cr4(void *arg)
{
    write_cr4(*(uint64_t *)arg);
}

enum { PG_A = PL_FREE, PG_X = PL_FREE + 1, PG_Y = PL_FREE + 2 };

static volatile uint32_t *va_a(void)
{
    return (volatile uint32_t *)(uintptr_t)pl_va(PG_A);
}

/* Maps page A to frame X (which holds 1) and reads it through the TLB. */
static void warm(uint64_t extra)
{
    *(volatile uint32_t *)pl_frame[PG_X] = 1;
    *(volatile uint32_t *)pl_frame[PG_Y] = 2;
    pl_set(PG_A, (uint64_t)(uintptr_t)pl_frame[PG_X] | PTE_P | PTE_W | extra);
    (void)*va_a();
}

/* Points page A at frame Y without invalidating anything. */
static void retarget(uint64_t extra)
{
    pl_pt[PG_A] = (uint64_t)(uintptr_t)pl_frame[PG_Y] | PTE_P | PTE_W | extra;
}

static void pcid(void)
{
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();
    /* PCIDE needs CR3[11:0] = 0. */
    uint64_t v = cr3 | 0x8; /* PWT */
    write_cr3(v);
    v = cr4 | CR4_PCIDE;
    int vec = run_catching(set_cr4, &v);
    report_msg("PCIDE with CR3[11:0] != 0: #GP", vec == GP_VECTOR && read_cr4() == cr4,
               "vector %d cr4 %#llx", vec, (unsigned long long)read_cr4());
    write_cr3(cr3);
    vec = run_catching(set_cr4, &v);
    report_msg("PCIDE with CR3[11:0] = 0", vec == -1 && (read_cr4() & CR4_PCIDE),
               "vector %d cr4 %#llx", vec, (unsigned long long)read_cr4());

    write_cr3(cr3 | 5);
    report_eq("CR3 holds PCID 5", read_cr3(), cr3 | 5);
    write_cr3(cr3 | 5 | BIT(63));
    report_eq("CR3 bit 63 is not stored", read_cr3(), cr3 | 5);
    v = cr3 | BIT(62);
    vec = run_catching(set_cr3, &v);
    report_eq("CR3 bit 62: #GP", (uint64_t)(int64_t)vec, GP_VECTOR);

    /* MOV to CR3 without bit 63 drops the PCID's non-global entries. */
    warm(0);
    retarget(0);
    write_cr3(cr3 | 5);
    report_eq("MOV CR3 (bit 63 = 0) invalidates", *va_a(), 2);
    /* Another PCID: the translation is walked afresh too. */
    warm(0);
    retarget(0);
    write_cr3(cr3 | 6);
    report_eq("switch to PCID 6 sees the new PTE", *va_a(), 2);

    /* Clearing PCIDE flushes; CR3[11:0] is a PCID no more. */
    write_cr3(cr3);
    write_cr4(cr4);
    report_eq("PCIDE cleared", read_cr4() & CR4_PCIDE, 0);
}

static void invpcid_checks(bool have_pcid)
{
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();
    uint64_t a = pl_va(PG_A);
    if (have_pcid) {
        write_cr4(cr4 | CR4_PCIDE);
        write_cr3(cr3 | 7);
    }
    uint64_t pcid = have_pcid ? 7 : 0;

    warm(0);
    retarget(0);
    int vec = invpcid(0, pcid, a);
    report_msg("type 0 (address) invalidates", vec == -1 && *va_a() == 2, "vector %d value %u",
               vec, *va_a());
    warm(0);
    retarget(0);
    vec = invpcid(1, pcid, 0);
    report_msg("type 1 (context) invalidates", vec == -1 && *va_a() == 2, "vector %d value %u",
               vec, *va_a());
    uint64_t cr4g = read_cr4();
    write_cr4(cr4g | CR4_PGE);
    warm(PTE_G);
    retarget(PTE_G);
    vec = invpcid(2, 0, 0);
    report_msg("type 2 (all, globals too) invalidates a global page",
               vec == -1 && *va_a() == 2, "vector %d value %u", vec, *va_a());
    warm(0);
    retarget(0);
    vec = invpcid(3, 0, 0);
    report_msg("type 3 (all but globals) invalidates", vec == -1 && *va_a() == 2,
               "vector %d value %u", vec, *va_a());
    write_cr4(cr4g);

    report_eq("type 4: #GP", (uint64_t)(int64_t)invpcid(4, 0, 0), GP_VECTOR);
    report_eq("descriptor bits 63:12: #GP", (uint64_t)(int64_t)invpcid(1, 0x1000, 0), GP_VECTOR);
    report_eq("type 0, non-canonical address: #GP",
              (uint64_t)(int64_t)invpcid(0, pcid, 0x0000800000000000ull), GP_VECTOR);
    static const uint8_t stub[] = {0x66, 0x0F, 0x38, 0x82, 0x07, 0x0F, 0x0B};
    memcpy(pl_frame[PL_UCODE] + STUB_INVPCID, stub, sizeof(stub));
    vec = pl_user(pl_va(PL_UCODE) + STUB_INVPCID, pl_va(PL_USTACK));
    report_msg("at CPL 3: #GP", vec == GP_VECTOR && last_exception.rip == pl_va(PL_UCODE) + STUB_INVPCID,
               "vector %d rip %#llx", vec, (unsigned long long)last_exception.rip);

    if (have_pcid) {
        write_cr3(cr3);
        write_cr4(cr4);
    }
    /* CR4.PCIDE = 0: only PCID 0 may be named by types 0 and 1. */
    report_eq("PCIDE=0, type 1 with PCID 3: #GP", (uint64_t)(int64_t)invpcid(1, 3, 0), GP_VECTOR);
    report_eq("PCIDE=0, type 0 with PCID 3: #GP", (uint64_t)(int64_t)invpcid(0, 3, a), GP_VECTOR);
    report_eq("PCIDE=0, type 2 with PCID 3", (uint64_t)(int64_t)invpcid(2, 3, 0), (uint64_t)-1);
}

void test_main(void)
{
    bool have_pcid = cpuid(1).c & CPUID1_PCID;
    bool have_invpcid = cpuid_count(7, 0).b & CPUID7_INVPCID;
    if (!have_pcid && !have_invpcid) {
        report_skip("pcid", "CPUID.1:ECX.PCID and CPUID.7:EBX.INVPCID are 0");
        return;
    }
    pl_init();
    if (have_pcid)
        pcid();
    else
        report_skip("pcid", "CPUID.1:ECX.PCID is 0");
    if (have_invpcid)
        invpcid_checks(have_pcid);
    else
        report_skip("invpcid", "CPUID.(EAX=7,ECX=0):EBX.INVPCID is 0");
}
