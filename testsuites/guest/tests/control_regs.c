/* control_regs.c: invalid writes to CR0, CR3, CR4 and EFER raise #GP(0)
 * and leave the register unchanged.
 * engines: vanderpool bochs
 *
 * Not qemu: QEMU 7.2's TCG answers a reserved-bit MOV to CR4 outside an
 * SVM guest with an SVM_EXIT_ERR "vmexit" that loops forever instead of
 * raising #GP.
 *
 * SDM Vol 3A, "Control Registers" and "Extended Feature Enable Register";
 * SDM Vol 2B, MOV—Move to/from Control Registers (protected-mode
 * exceptions); SDM Vol 4, IA32_EFER.
 */
#include "vp.h"

struct write_case {
    int reg; /* 0, 3, 4 or -1 for EFER */
    uint64_t value;
};

static void do_write(void *arg)
{
    const struct write_case *w = arg;
    switch (w->reg) {
    case 0:
        write_cr0(w->value);
        break;
    case 3:
        write_cr3(w->value);
        break;
    case 4:
        write_cr4(w->value);
        break;
    default:
        wrmsr(MSR_EFER, w->value);
    }
}

static uint64_t read_reg(int reg)
{
    return reg == 0 ? read_cr0() : reg == 3 ? read_cr3() : reg == 4 ? read_cr4() : rdmsr(MSR_EFER);
}

static void expect_gp(const char *name, int reg, uint64_t value)
{
    uint64_t before = read_reg(reg);
    struct write_case w = {reg, value};
    int v = run_catching(do_write, &w);
    uint64_t after = read_reg(reg);
    bool ok = v == GP_VECTOR && last_exception.error_code == 0 && after == before;
    report_msg(name, ok, "vector %d error %#llx; register %#llx -> %#llx (write %#llx)", v,
               (unsigned long long)last_exception.error_code, (unsigned long long)before,
               (unsigned long long)after, (unsigned long long)value);
}

void test_main(void)
{
    uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

    expect_gp("CR4 reserved bit 15", 4, cr4 | BIT(15));
    expect_gp("CR4 reserved bit 63", 4, cr4 | BIT(63));
    expect_gp("CR4.PAE cleared in long mode", 4, cr4 & ~CR4_PAE);
    expect_gp("CR0.NW=1 with CR0.CD=0", 0, (cr0 | CR0_NW) & ~CR0_CD);
    expect_gp("CR0.PE cleared with CR0.PG=1", 0, cr0 & ~CR0_PE);
    expect_gp("CR0 bit 32 set", 0, cr0 | BIT(32));
    expect_gp("CR3 bit 62 set (above MAXPHYADDR)", 3, cr3 | BIT(62));
    expect_gp("EFER reserved bit 63", -1, efer | BIT(63));
    expect_gp("EFER.LME cleared while paging is on", -1, efer & ~EFER_LME);

    /* Legal writes still work afterwards. */
    write_cr4(cr4 | CR4_PGE);
    report_eq("CR4.PGE set", read_cr4() & CR4_PGE, CR4_PGE);
    write_cr4(cr4);
    report_eq("CR4 restored", read_cr4(), cr4);
    write_cr3(cr3);
    report_eq("CR3 reload", read_cr3(), cr3);
    report_eq("CR0 unchanged", read_cr0(), cr0);
    report_eq("EFER unchanged", rdmsr(MSR_EFER), efer);
}
