/* exceptions.c: faults and traps delivered through the 64-bit IDT: #DE,
 * #UD, #GP, #PF (error code and CR2), #BP, #DB single-step, a software
 * INT, and handlers that resume by changing the saved RIP.
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "Exception and Interrupt Reference" (vector, class, error
 * code, saved RIP) and "Page-Fault Exceptions" (error code bits, CR2).
 * Reserved-bit page faults are in paging_rsvd.c.
 */
#include "vp.h"

/* Fault sites with known addresses. Faults save the address of the
 * faulting instruction; traps (#BP, INT n, single-step #DB) the next one. */
__asm__(".text\n"
        "ud2_site: ud2\n ret\n"
        "div0_site: xor %ecx, %ecx\n mov $1, %eax\n xor %edx, %edx\n"
        "div0_insn: div %ecx\n ret\n"
        "divov_site: mov $1, %edx\n xor %eax, %eax\n mov $1, %ecx\n"
        "divov_insn: div %ecx\n ret\n"
        "idivov_site: mov $0x80000000, %eax\n cdq\n mov $-1, %ecx\n"
        "idivov_insn: idiv %ecx\n ret\n"
        "int3_site: int3\n int3_next: ret\n"
        "int3_long_site: .byte 0xcd, 0x03\n int3_long_next: ret\n"
        "int40_site: int $0x40\n int40_next: ret\n"
        "noncanon_site: movabs $0x8000000000000000, %rax\n"
        "noncanon_insn: mov (%rax), %rax\n ret\n"
        "badsel_site: mov $0x1f8, %eax\n" /* index 63: beyond the GDT limit */
        "badsel_insn: mov %eax, %ds\n ret\n");
extern char ud2_site[], div0_insn[], div0_site[], divov_site[], divov_insn[];
extern char idivov_site[], idivov_insn[], int3_site[], int3_next[];
extern char int3_long_site[], int3_long_next[], int40_site[], int40_next[];
extern char noncanon_site[], noncanon_insn[], badsel_site[], badsel_insn[];

static void call_site(void *site)
{
    ((void (*)(void))site)();
}

static uint64_t addr(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* A fault at `site` (entered with call) must give `vector` at `rip`. */
static void expect_fault(const char *name, void *site, int vector, uint64_t rip,
                         bool check_err, uint64_t err)
{
    int v = run_catching(call_site, site);
    if (v != vector) {
        report_msg(name, false, "got vector %d (%s), want %d (%s)", v,
                   v < 0 ? "none" : vector_name(v), vector, vector_name(vector));
        return;
    }
    bool ok = last_exception.rip == rip && (!check_err || last_exception.error_code == err);
    report_msg(name, ok, "rip %#llx (want %#llx), error code %#llx (want %#llx)",
               (unsigned long long)last_exception.rip, (unsigned long long)rip,
               (unsigned long long)last_exception.error_code, (unsigned long long)err);
}

static void test_simple_faults(void)
{
    expect_fault("#UD from ud2", ud2_site, UD_VECTOR, addr(ud2_site), false, 0);
    expect_fault("#DE divide by zero", div0_site, DE_VECTOR, addr(div0_insn), false, 0);
    expect_fault("#DE quotient overflow (div)", divov_site, DE_VECTOR, addr(divov_insn), false, 0);
    expect_fault("#DE INT_MIN / -1 (idiv)", idivov_site, DE_VECTOR, addr(idivov_insn), false, 0);
    expect_fault("#GP(0) non-canonical load", noncanon_site, GP_VECTOR, addr(noncanon_insn),
                 true, 0);
    expect_fault("#GP(sel) selector beyond GDT limit", badsel_site, GP_VECTOR, addr(badsel_insn),
                 true, 0x1f8);
}

/* ---- #PF ---- */

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_RSVD BIT(3)
#define PF_ID BIT(4)
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

static void read_at(void *p)
{
    (void)*(volatile uint32_t *)p;
}

static void write_at(void *p)
{
    *(volatile uint32_t *)p = 0x5a5a5a5a;
}

static void exec_at(void *p)
{
    ((void (*)(void))p)();
}

static void expect_pf(const char *name, void (*fn)(void *), uint64_t va, uint64_t err)
{
    int v = run_catching(fn, (void *)(uintptr_t)va);
    bool ok = v == PF_VECTOR && last_exception.error_code == err && last_exception.cr2 == va;
    report_msg(name, ok, "vector %d error %#llx cr2 %#llx, want #PF error %#llx cr2 %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.cr2, (unsigned long long)err,
               (unsigned long long)va);
}

static void set_pde(volatile uint64_t *pde, uint64_t v, uint64_t va)
{
    *pde = v;
    invlpg((void *)(uintptr_t)va);
}

static void test_page_faults(void)
{
    uint64_t region = alloc_2m();
    volatile uint64_t *pde = identity_pde(region);
    uint64_t orig = *pde;
    uint64_t va = region + 0x1234;

    if ((orig & (PTE_P | PTE_PS)) != (PTE_P | PTE_PS) || (orig & PTE_ADDR) != region) {
        report_msg("#PF setup", false, "PDE for %#llx is %#llx, not a 2 MiB identity page",
                   (unsigned long long)region, (unsigned long long)orig);
        return;
    }

    set_pde(pde, orig & ~PTE_P, va);
    expect_pf("#PF read, not present", read_at, va, 0);
    expect_pf("#PF write, not present", write_at, va + 8, PF_W);

    write_cr0(read_cr0() | CR0_WP);
    set_pde(pde, orig & ~PTE_RW, va);
    expect_pf("#PF write to read-only page (CR0.WP=1)", write_at, va, PF_P | PF_W);
    read_at((void *)(uintptr_t)va);
    report("read of read-only page succeeds", true);

    /* Execute-disable needs EFER.NXE; then a fetch sets the I/D bit. */
    if (cpuid(0x80000000).a >= 0x80000001 && (cpuid(0x80000001).d & BIT(20))) {
        uint64_t efer = rdmsr(MSR_EFER);
        wrmsr(MSR_EFER, efer | EFER_NXE);
        set_pde(pde, orig, va);
        *(volatile uint8_t *)(uintptr_t)va = 0xC3; /* ret */
        exec_at((void *)(uintptr_t)va);
        report("fetch from executable page", true);
        set_pde(pde, orig | PTE_NX, va);
        expect_pf("#PF fetch from NX page", exec_at, va, PF_P | PF_ID);
        set_pde(pde, orig & ~PTE_P, va);
        expect_pf("#PF fetch, not present (NXE=1)", exec_at, va, PF_ID);
        wrmsr(MSR_EFER, efer);
    } else {
        report_skip("#PF fetch from NX page", "CPUID.80000001H:EDX.NX is 0");
    }

    set_pde(pde, orig, va);
    write_cr0(read_cr0() & ~CR0_WP);
    write_at((void *)(uintptr_t)va);
    report_eq("page usable again after restore", *(volatile uint32_t *)(uintptr_t)va, 0x5a5a5a5a);
}

/* ---- Traps and handlers ---- */

static volatile int bp_count, int40_count;
static volatile uint64_t bp_rip, int40_rip, int40_cs, int40_rflags;

static void bp_handler(struct intr_frame *f)
{
    bp_count++;
    bp_rip = f->rip;
}

static void int40_handler(struct intr_frame *f)
{
    int40_count++;
    int40_rip = f->rip;
    int40_cs = f->cs;
    int40_rflags = f->rflags;
}

/* #UD handler that resumes after the 2-byte UD2. */
static volatile int ud_count;
static void ud_skip_handler(struct intr_frame *f)
{
    ud_count++;
    f->rip += 2;
}

static void test_traps(void)
{
    /* Through run_catching: a trap reports the next RIP. */
    int v = run_catching(call_site, int3_site);
    report_msg("#BP via run_catching", v == BP_VECTOR && last_exception.rip == addr(int3_next),
               "vector %d rip %#llx, want 3 and %#llx", v, (unsigned long long)last_exception.rip,
               (unsigned long long)addr(int3_next));

    set_intr_handler(BP_VECTOR, bp_handler);
    call_site(int3_site);
    report_msg("#BP handler runs and returns (int3)", bp_count == 1 && bp_rip == addr(int3_next),
               "count %d rip %#llx", bp_count, (unsigned long long)bp_rip);
    call_site(int3_long_site);
    report_msg("#BP handler runs and returns (int $3)",
               bp_count == 2 && bp_rip == addr(int3_long_next), "count %d rip %#llx", bp_count,
               (unsigned long long)bp_rip);
    set_intr_handler(BP_VECTOR, NULL);

    set_intr_handler(0x40, int40_handler);
    call_site(int40_site);
    report_msg("INT 0x40 through the IDT", int40_count == 1 && int40_rip == addr(int40_next),
               "count %d rip %#llx", int40_count, (unsigned long long)int40_rip);
    report_eq("INT 0x40 frame CS", int40_cs, SEL_CODE64);
    report_eq("INT 0x40 frame RFLAGS.IF (was 0)", int40_rflags & RFLAGS_IF, 0);
    report_eq("IF still 0 after IRETQ", read_rflags() & RFLAGS_IF, 0);
    set_intr_handler(0x40, NULL);

    set_intr_handler(UD_VECTOR, ud_skip_handler);
    call_site(ud2_site);
    report_eq("#UD handler resumes past ud2", ud_count, 1);
    set_intr_handler(UD_VECTOR, NULL);
}

/* Single-step: with RFLAGS.TF set by POPF, the instruction after POPF
 * completes and then #DB is delivered with DR6.BS set. */
static volatile int db_count;
static volatile uint64_t db_rip, db_dr6;
extern char ss_first[], ss_after[];
static void db_handler(struct intr_frame *f)
{
    db_count++;
    db_rip = f->rip;
    db_dr6 = read_dr6();
    f->rflags &= ~RFLAGS_TF;
}

__attribute__((noinline)) static void test_single_step(void)
{
    write_dr6(0xFFFF0FF0ull);
    set_intr_handler(DB_VECTOR, db_handler);
    __asm__ volatile("pushfq\n"
                     "orq $0x100, (%%rsp)\n"
                     "popfq\n"
                     "ss_first: nop\n"
                     "ss_after: nop\n" ::
                         : "memory", "cc");
    set_intr_handler(DB_VECTOR, NULL);
    report_msg("#DB single-step after POPF sets TF",
               db_count == 1 && db_rip == addr(ss_after) && (db_dr6 & BIT(14)),
               "count %d rip %#llx (want %#llx) dr6 %#llx", db_count,
               (unsigned long long)db_rip, (unsigned long long)addr(ss_after),
               (unsigned long long)db_dr6);
}

/* An exception handler's frame: error code slot and CS/SS as pushed. */
static volatile uint64_t gp_err, gp_cs, gp_ss, gp_rsp;
static void gp_frame_handler(struct intr_frame *f)
{
    gp_err = f->error_code;
    gp_cs = f->cs;
    gp_ss = f->ss;
    gp_rsp = f->rsp;
    f->rip = addr(noncanon_insn) + 3; /* skip "mov (%rax), %rax" */
}

static void test_frame(void)
{
    uint64_t rsp;
    set_intr_handler(GP_VECTOR, gp_frame_handler);
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    call_site(noncanon_site);
    set_intr_handler(GP_VECTOR, NULL);
    report_eq("#GP frame error code", gp_err, 0);
    report_eq("#GP frame CS", gp_cs, SEL_CODE64);
    report_eq("#GP frame SS", gp_ss, SEL_DATA);
    /* One return address below our RSP (call_site's call). */
    report_msg("#GP frame RSP is the faulting stack", gp_rsp < rsp && rsp - gp_rsp < 256,
               "rsp %#llx, caller rsp %#llx", (unsigned long long)gp_rsp,
               (unsigned long long)rsp);
}

void test_main(void)
{
    test_simple_faults();
    test_page_faults();
    test_traps();
    test_single_step();
    test_frame();
    /* After all of it, the runtime still catches and reports. */
    report_eq("run_catching returns -1 without exception",
              (uint64_t)(int64_t)run_catching(read_at, (void *)0x1000), (uint64_t)-1);
}
