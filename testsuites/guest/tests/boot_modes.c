/* boot_modes.c: the real -> protected -> long mode path, both ways: from
 * long mode down to 32-bit protected mode without paging, 16-bit protected
 * mode and real mode (segment arithmetic, a far call, the stack, A20; no
 * BIOS), then back up to long mode. The mode changes are in boot_modes.S.
 * engines: vanderpool qemu bochs
 */
#include "vp.h"
#include "boot_modes.h"

extern char rm_blob_start[], rm_blob_end[], rm_results[];
void boot_modes_trip(void);

static uint32_t slot(int i)
{
    return *(volatile uint32_t *)(uintptr_t)(RM_BASE + (rm_results - rm_blob_start) + 4 * i);
}

static void ud2_fn(void *arg)
{
    __asm__ volatile("ud2");
}

static void check_slot(int trip, const char *what, int i, uint32_t mask, uint32_t want)
{
    char name[96];
    snprintf(name, sizeof(name), "trip %d: %s", trip, what);
    uint32_t got = slot(i);
    report_msg(name, got != RES_UNSET && (got & mask) == want,
               "slot %d = %#x (%s), want %#x under mask %#x", i, got,
               got == RES_UNSET ? "never written: the step did not run" : "wrong value", want,
               mask);
}

static void one_trip(int trip)
{
    size_t n = (size_t)(rm_blob_end - rm_blob_start);
    memcpy((void *)(uintptr_t)RM_BASE, rm_blob_start, n);
    boot_modes_trip();
    printf("boot_modes: long mode again\n");

    const uint32_t lme = (uint32_t)EFER_LME, lma = (uint32_t)EFER_LMA;
    const uint32_t pe = (uint32_t)CR0_PE, pg = (uint32_t)CR0_PG;
    check_slot(trip, "compatibility mode: EFER.LME=1 LMA=1", R_COMPAT_EFER, lme | lma, lme | lma);
    check_slot(trip, "compatibility mode: 0x48 is DEC EAX", R_COMPAT_DEC, ~0u, 4);
    check_slot(trip, "protected mode: CR0.PE=1 PG=0", R_PM32_CR0, pe | pg, pe);
    check_slot(trip, "protected mode: EFER.LME=0 LMA=0", R_PM32_EFER, lme | lma, 0);
    check_slot(trip, "protected mode: 0x48 is DEC EAX", R_PM32_DEC, ~0u, 6);
    check_slot(trip, "16-bit protected mode: B8 iw is MOV AX", R_PM16_EAX, ~0u, 0x11112222);
    check_slot(trip, "real mode: CR0.PE=0 PG=0", R_RM_CR0, pe | pg, 0);
    check_slot(trip, "real mode: CS", R_RM_CS, ~0u, RM_SEG);
    check_slot(trip, "real mode: seg+1:off-16 aliases seg:off", R_RM_ALIAS1, ~0u, 0xBEEF);
    check_slot(trip, "real mode: 0:linear aliases seg:off", R_RM_ALIAS2, ~0u, 0xBEEF);
    check_slot(trip, "real mode: far call, LODSW sum", R_RM_SUM, ~0u, 0x0101 * 55);
    check_slot(trip, "real mode: FFFF:0010 is 1 MiB (A20 on)", R_RM_A20, ~0u, 0x1BADB002);
    check_slot(trip, "real mode: B8 iw is MOV AX", R_RM_OPSIZE, ~0u, 0x33334444);
    check_slot(trip, "real mode: PUSH imm16 takes 2 bytes", R_RM_STACK, ~0u, 0x12340002);
    check_slot(trip, "protected mode again: CR0.PE=1 PG=0", R_BACK_CR0, pe | pg, pe);
    check_slot(trip, "protected mode again: CS", R_BACK_CS, ~0u, SEL_CODE32);
    check_slot(trip, "long mode again: EFER.LME=1 LMA=1", R_LM_EFER, lme | lma, lme | lma);
}

void test_main(void)
{
    report_msg("start in long mode",
               (rdmsr(MSR_EFER) & EFER_LMA) && (read_cr0() & CR0_PG) && (read_cr4() & CR4_PAE),
               "EFER %#llx CR0 %#llx CR4 %#llx", (unsigned long long)rdmsr(MSR_EFER),
               (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
    report_eq("start: CS is the 64-bit code segment", read_cs(), SEL_CODE64);
    if (rm_blob_end - rm_blob_start > RM_BLOB_MAX)
        report_abort("real-mode blob", "%d bytes, more than %d",
                     (int)(rm_blob_end - rm_blob_start), RM_BLOB_MAX);

    for (int trip = 1; trip <= 2; trip++)
        one_trip(trip);

    report_eq("after: CS is the 64-bit code segment", read_cs(), SEL_CODE64);
    report_eq("after: IDT still delivers #UD", (uint64_t)run_catching(ud2_fn, NULL), UD_VECTOR);
    report_eq("after: IF still 0", read_rflags() & RFLAGS_IF, 0);
}
