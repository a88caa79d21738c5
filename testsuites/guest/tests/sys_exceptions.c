/* sys_exceptions.c: exception priority among events on one instruction,
 * and the double-fault rules: which pairs of exceptions become #DF
 * (contributory + contributory, page fault + page fault or contributory),
 * which are handled serially (benign first, contributory then page
 * fault), the #DF error code 0 and its IST stack, error codes of faults
 * raised while reaching a handler (IDT index, EXT). The triple fault is in
 * sys_triple.c. Checks QEMU 7.2's TCG gets wrong are in sys_strict_exc.c,
 * built from this file with EXC_STRICT = 1 (see there).
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "Exception and Interrupt Priority" (Table "Priority Among
 * Concurrent Events"), "Interrupt 8 - Double Fault Exception (#DF)"
 * (Tables "Interrupt and Exception Classes" and "Conditions for
 * Generating a Double Fault"), "Error Code", "Interrupt Stack Table",
 * "Interrupt 14 - Page-Fault Exception (#PF)"; Vol 3B "Debug Exceptions"
 * (instruction breakpoints are faults, RF); Vol 2 INT n/INTO/INT3/INT1.
 */
#include "sys_lib.h"

/* EXC_STRICT = 1: only the checks QEMU gets wrong (sys_strict_exc);
 * 0: only the others. */
#ifndef EXC_STRICT
#define EXC_STRICT 0
#endif
#define COMMON (!EXC_STRICT)
#define STRICT (EXC_STRICT)

extern char x_int50[], x_int3[], x_ud2[], x_ud2_site[], x_push_bad_stack[], x_read_4g[];
extern char x_noncanon_span[], x_noncanon_span_insn[], x_lock_mov[], x_lock_mov_insn[];
extern char x_x87_bad[], x_x87_bad_insn[], x_long16[], x_long16_insn[], x_df_ud2[], x_int1[];
extern char x_int1_next[], x_push_noncanon[], x_push_noncanon_insn[], x_user_lgdt[];
extern char x_user_lgdt_insn[], x_user_int3[], x_noncanon[], x_noncanon_insn[];

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PS BIT(7)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

static uint64_t u64(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static void call_site(void *site)
{
    ((void (*)(void))site)();
}

#define ANY_ERR (~0ull) /* error code not checked (see sys_strict_exc) */

static void expect_at(const char *name, void *site, int vec, uint64_t err, uint64_t rip)
{
    int v = run_catching(call_site, site);
    bool ok = v == vec &&
              (!vector_has_error_code(vec) || err == ANY_ERR || last_exception.error_code == err) &&
              (rip == 0 || last_exception.rip == rip);
    report_msg(name, ok, "vector %d error %#llx rip %#llx; want vector %d error %#llx rip %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.rip, vec, (unsigned long long)err,
               (unsigned long long)rip);
}

/* ---- IDT editing ------------------------------------------------------ */

static struct idt64_gate saved_gates[256];

static void gate_save(int v)
{
    saved_gates[v] = *(struct idt64_gate *)(uintptr_t)&sys_idt64()[v];
}

static void gate_restore(int v)
{
    volatile struct idt64_gate *g = &sys_idt64()[v];
    *g = saved_gates[v];
}

static void gate_set_present(int v, bool p)
{
    volatile struct idt64_gate *g = &sys_idt64()[v];
    g->type_attr = (uint8_t)((g->type_attr & 0x7F) | (p ? 0x80 : 0));
}

/* ---- #DF with its frame checked -------------------------------------- */

static volatile uint64_t df_frame_addr, df_err, df_cs, df_count;
static uint8_t df_resume_stack[4096] __attribute__((aligned(16)));

/* Records the #DF frame and resumes at a UD2 (on a scratch stack) that
 * run_catching reports: #DF is an abort, its saved RIP is undefined. */
static void df_handler(struct intr_frame *f)
{
    df_count++;
    df_frame_addr = (uint64_t)(uintptr_t)f;
    df_err = f->error_code;
    df_cs = f->cs;
    f->rip = u64(x_df_ud2);
    f->cs = SL_CODE64;
    f->ss = SL_DATA;
    f->rsp = u64(df_resume_stack + sizeof(df_resume_stack));
    f->rflags = 2;
}

/* The run ends in #DF on the IST1 stack with error code 0. */
static void expect_df(const char *name, void *site)
{
    df_count = 0;
    df_frame_addr = 0;
    df_err = 0xDEAD;
    set_intr_handler(DF_VECTOR, df_handler);
    int v = run_catching(call_site, site);
    set_intr_handler(DF_VECTOR, NULL);
    uint64_t ist1 = sys_tss64()->ist[0];
    bool on_ist = df_frame_addr < ist1 && df_frame_addr >= ist1 - 16384;
    char full[128];
    snprintf(full, sizeof(full), "%s: #DF", name);
    report_msg(full, df_count == 1 && v == UD_VECTOR && last_exception.rip == u64(x_df_ud2),
               "#DF count %llu, then vector %d at %#llx", (unsigned long long)df_count, v,
               (unsigned long long)last_exception.rip);
    if (df_count == 1) {
        snprintf(full, sizeof(full), "%s: #DF error code 0, CS", name);
        report_msg(full, df_err == 0 && df_cs == SL_CODE64, "error %#llx CS %#llx",
                   (unsigned long long)df_err, (unsigned long long)df_cs);
        snprintf(full, sizeof(full), "%s: #DF on the IST1 stack", name);
        report_msg(full, on_ist, "frame at %#llx, IST1 %#llx", (unsigned long long)df_frame_addr,
                   (unsigned long long)ist1);
    }
}

/* ---- double-fault rules ----------------------------------------------- */

static void user_int3(void *arg)
{
    call_site(x_user_int3);
}

/* Error codes of faults met on the way to a handler: the index field
 * holds the vector (not its byte offset, although IA-32e gates are 16
 * bytes), IDT = 1, EXT = 1 for events external to the program (hardware
 * exceptions), 0 for INT n, INT3, INTO (Vol 3A, "Error Code"). QEMU
 * reports vector * 16 + 2 in IA-32e mode. */
static void test_idt_error_codes(void)
{
    gate_set_present(0x50, false);
    expect_at("INT 50h through a not-present gate: #NP(50h*8+2), EXT = 0", x_int50, NP_VECTOR,
              0x50 * 8 + 2, u64(x_int50));
    gate_restore(0x50);
    /* #UD through a not-present gate gives #NP with the IDT bit and EXT =
     * 1 (a hardware exception). */
    gate_set_present(UD_VECTOR, false);
    expect_at("#UD through a not-present gate: #NP(6*8+2+EXT)", x_ud2, NP_VECTOR, 6 * 8 + 3,
              u64(x_ud2_site));
    gate_restore(UD_VECTOR);
    /* INT3 is a software exception: EXT = 0. */
    gate_set_present(BP_VECTOR, false);
    expect_at("INT3 through a not-present gate: #NP(3*8+2)", x_int3, NP_VECTOR, 3 * 8 + 2,
              u64(x_int3));
    gate_restore(BP_VECTOR);

    /* An IDT limit that stops short of the vector: #GP(vector*8+2). */
    struct desc_ptr idtr, small;
    sidt(&idtr);
    small = idtr;
    small.limit = 0x50 * 16 - 1;
    __asm__ volatile("lidt %0" ::"m"(small));
    int vv = run_catching(call_site, x_int50);
    __asm__ volatile("lidt %0" ::"m"(idtr));
    report_msg("INT 50h beyond the IDT limit: #GP(50h*8+2)",
               vv == GP_VECTOR && last_exception.error_code == 0x50 * 8 + 2,
               "vector %d error %#llx", vv, (unsigned long long)last_exception.error_code);
    /* The gate's last byte must be within the limit too. */
    small.limit = 0x51 * 16 - 2;
    __asm__ volatile("lidt %0" ::"m"(small));
    vv = run_catching(call_site, x_int50);
    __asm__ volatile("lidt %0" ::"m"(idtr));
    report_msg("INT 50h with the gate's last byte beyond the IDT limit: #GP(50h*8+2)",
               vv == GP_VECTOR && last_exception.error_code == 0x50 * 8 + 2,
               "vector %d error %#llx", vv, (unsigned long long)last_exception.error_code);
    expect_vec("CPL 3: INT3 through a DPL 0 gate: #GP(3*8+2)", user64_call(user_int3, NULL),
               GP_VECTOR, 3 * 8 + 2);
}


static void test_double_faults(void)
{
    volatile struct idt64_gate *idt = sys_idt64();
    for (int v = 0; v < 256; v++)
        gate_save(v);

    if (STRICT) {
        test_idt_error_codes();
        return;
    }

    /* Contributory while delivering contributory: #NP (IDT[0x50] not
     * present), then #NP again (IDT[11] not present) -> #DF. */
    gate_set_present(0x50, false);
    expect_at("INT 50h through a not-present gate: #NP", x_int50, NP_VECTOR, ANY_ERR,
              u64(x_int50));
    gate_set_present(NP_VECTOR, false);
    expect_df("#NP while delivering #NP", x_int50);
    gate_restore(NP_VECTOR);

    /* #GP while delivering #NP: IDT[11] has an invalid type (0). */
    idt[NP_VECTOR].type_attr = 0x80;
    expect_df("#GP while delivering #NP", x_int50);
    gate_restore(NP_VECTOR);
    gate_restore(0x50);

    /* #PF while delivering #PF: the stack is unmapped, and so is the
     * frame the #PF handler would get. */
    expect_df("#PF while delivering #PF", x_push_bad_stack);

    /* Contributory (#GP: null handler CS) while delivering #PF -> #DF. */
    idt[PF_VECTOR].sel = 0;
    expect_df("#GP while delivering #PF", x_read_4g);
    gate_restore(PF_VECTOR);

    /* #PF while delivering #GP: handled serially, the #PF is delivered
     * (its error code: write, not present; CR2 the first frame slot).
     * IDT[13] uses IST3, pointed at unmapped memory. */
    volatile struct tss64 *tss = sys_tss64();
    uint64_t ist3 = tss->ist[2];
    tss->ist[2] = 0x100002000ull;
    idt[GP_VECTOR].ist = 3;
    int v = run_catching(call_site, x_noncanon);
    report_msg("#PF while delivering #GP: handled serially as #PF",
               v == PF_VECTOR && last_exception.error_code == 2 &&
                   last_exception.cr2 == 0x100001FF8ull && last_exception.rip == u64(x_noncanon_insn),
               "vector %d error %#llx cr2 %#llx rip %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.cr2, (unsigned long long)last_exception.rip);
    gate_restore(GP_VECTOR);
    tss->ist[2] = ist3;

    /* #SS while delivering #SS -> #DF: at CPL 0 without IST the #SS frame
     * goes to the same non-canonical RSP (Vol 3A, "Interrupt Handling in
     * 64-bit Mode": no stack switch). */
    expect_df("#SS while delivering #SS (non-canonical RSP at CPL 0)", x_push_noncanon);

    /* Benign first, then contributory: handled serially. */
    gate_set_present(UD_VECTOR, false);
    expect_at("#UD through a not-present gate: #NP delivered", x_ud2, NP_VECTOR, ANY_ERR,
              u64(x_ud2_site));
    gate_restore(UD_VECTOR);
}

/* ---- software interrupts and privilege -------------------------------- */

static void user_int1(void *arg)
{
    call_site(x_int1);
}

static void user_lgdt(void *arg)
{
    call_site(x_user_lgdt);
}

static volatile int db_count;
static volatile uint64_t db_rip, db_dr6, db_cs;
static void db_handler(struct intr_frame *f)
{
    db_count++;
    db_rip = f->rip;
    db_cs = f->cs;
    db_dr6 = read_dr6();
    f->rflags |= BIT(16); /* RF: do not hit the instruction breakpoint again */
}

static void test_software(void)
{
    if (COMMON) {
        /* The CPL check of LGDT comes before its memory operand is read. */
        int vl = user64_call(user_lgdt, NULL);
        report_msg("CPL 3: LGDT with an unmapped operand: #GP(0) before #PF",
                   vl == GP_VECTOR && last_exception.error_code == 0 &&
                       last_exception.rip == u64(x_user_lgdt_insn),
                   "vector %d error %#llx rip %#llx", vl,
                   (unsigned long long)last_exception.error_code,
                   (unsigned long long)last_exception.rip);
        return;
    }
    /* A push at CPL 3 with a non-canonical RSP: #SS(0) (Vol 2 PUSH,
     * 64-bit mode exceptions), delivered on the RSP0 stack; QEMU raises
     * #GP(0). */
    expect_vec("CPL 3: push with a non-canonical RSP: #SS(0)",
               user64_call(call_site, x_push_noncanon), SS_VECTOR, 0);
    report_eq("CPL 3: push with a non-canonical RSP: at the push", last_exception.rip,
              u64(x_push_noncanon_insn));
    /* The gate DPL check applies to INT n, INT3, INTO, not to INT1 (Vol 2
     * INT n); QEMU 7.2 does not raise #DB for INT1 (F1). */
    db_count = 0;
    set_intr_handler(DB_VECTOR, db_handler);
    int v = user64_call(user_int1, NULL);
    set_intr_handler(DB_VECTOR, NULL);
    report_msg("CPL 3: INT1 through a DPL 0 gate: #DB (no DPL check), a trap",
               v < 0 && db_count == 1 && db_rip == u64(x_int1_next) && (db_cs & 3) == 3,
               "vector %d, #DB count %d rip %#llx cs %#llx", v, db_count,
               (unsigned long long)db_rip, (unsigned long long)db_cs);
}

/* ---- priority on one instruction ---------------------------------------- */

/* A 2-MiB region of its own, remapped with 4-KiB pages: page 0 present,
 * page 1 not present. */
static uint8_t *split_region(void)
{
    uint64_t region = alloc_2m();
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(vp_pml4[0] & PTE_ADDR);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[(region >> 30) & 511] & PTE_ADDR);
    uint64_t *pt = alloc_page();
    for (int i = 0; i < 512; i++)
        pt[i] = (region + (uint64_t)i * 4096) | PTE_P | PTE_RW | PTE_US;
    pt[1] &= ~PTE_P;
    pd[(region >> 21) & 511] = u64(pt) | PTE_P | PTE_RW | PTE_US;
    write_cr3(read_cr3());
    return (uint8_t *)(uintptr_t)region;
}

static void test_priority(void)
{
    uint8_t *r = split_region();
    uint64_t page1 = u64(r) + 4096;
    uint64_t efer = rdmsr(MSR_EFER);
    bool nx = cpuid(0x80000000).a >= 0x80000001 && (cpuid(0x80000001).d & BIT(20));
    if (nx)
        wrmsr(MSR_EFER, efer | EFER_NXE); /* so that #PF reports I/D */
    uint64_t id = nx ? BIT(4) : 0;
    int v;

    if (STRICT) {
        /* Class 9 before class 10: LOCK MOV is #UD whatever its operand
         * (QEMU 7.2 ignores LOCK on MOV). */
        expect_at("LOCK MOV with a non-canonical operand: #UD before #GP", x_lock_mov, UD_VECTOR,
                  0, u64(x_lock_mov_insn));
        /* Within class 10 the linear address is checked (canonical) before
         * it is translated: a read whose first bytes are canonical but
         * unmapped and whose last bytes are not canonical is #GP(0), not
         * #PF (QEMU translates the first part first). */
        expect_at("read spanning the canonical boundary: #GP(0) before #PF", x_noncanon_span,
                  GP_VECTOR, 0, u64(x_noncanon_span_insn));
        if (nx)
            wrmsr(MSR_EFER, efer);
        return;
    }

    /* Class 8 (fetching the next instruction: code page fault) before
     * class 9 (decoding it: invalid opcode). UD2 split over the page end. */
    r[4095] = 0x0F;
    v = run_catching(call_site, r + 4095);
    report_msg("UD2 crossing into a not-present page: #PF (fetch) before #UD (decode)",
               v == PF_VECTOR && last_exception.cr2 == page1 && last_exception.error_code == id &&
                   last_exception.rip == u64(r) + 4095,
               "vector %d error %#llx cr2 %#llx rip %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.cr2, (unsigned long long)last_exception.rip);

    /* Class 9 before class 10: #NM (CR0.TS with an x87 instruction) before
     * #GP for its operand. */
    uint64_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_TS);
    expect_at("x87 load with CR0.TS = 1 and a non-canonical operand: #NM before #GP", x_x87_bad,
              NM_VECTOR, 0, u64(x_x87_bad_insn));
    write_cr0(cr0);
    /* More than 15 bytes: #GP(0), a decode fault. */
    expect_at("16-byte instruction: #GP(0)", x_long16, GP_VECTOR, 0, u64(x_long16_insn));

    /* Class 7 (instruction breakpoint) before class 8 (code page fault):
     * DR0 on the first byte of the not-present page. The #DB handler sets
     * RF, the fetch is retried and faults. */
    write_dr0(page1);
    write_dr6(0xFFFF0FF0ull);
    db_count = 0;
    set_intr_handler(DB_VECTOR, db_handler);
    write_dr7(0x401); /* L0, R/W0 = 00 (execute), LEN0 = 00 */
    v = run_catching(call_site, (void *)(uintptr_t)page1);
    write_dr7(0x400);
    set_intr_handler(DB_VECTOR, NULL);
    report_msg("instruction breakpoint on a not-present page: #DB (B0) first",
               db_count == 1 && db_rip == page1 && (db_dr6 & 0xF) == 1,
               "#DB count %d rip %#llx dr6 %#llx", db_count, (unsigned long long)db_rip,
               (unsigned long long)db_dr6);
    report_msg("instruction breakpoint on a not-present page: then #PF (RF set)",
               v == PF_VECTOR && last_exception.cr2 == page1 &&
                   last_exception.error_code == id,
               "vector %d error %#llx cr2 %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.cr2);

    /* Class 7 before class 9: a breakpoint on UD2. */
    write_dr0(u64(x_ud2_site));
    write_dr6(0xFFFF0FF0ull);
    db_count = 0;
    set_intr_handler(DB_VECTOR, db_handler);
    write_dr7(0x401);
    v = run_catching(call_site, x_ud2);
    write_dr7(0x400);
    set_intr_handler(DB_VECTOR, NULL);
    report_msg("instruction breakpoint on UD2: #DB (B0) then #UD",
               db_count == 1 && db_rip == u64(x_ud2_site) && (db_dr6 & 0xF) == 1 &&
                   v == UD_VECTOR && last_exception.rip == u64(x_ud2_site),
               "#DB count %d rip %#llx dr6 %#llx; then vector %d at %#llx", db_count,
               (unsigned long long)db_rip, (unsigned long long)db_dr6, v,
               (unsigned long long)last_exception.rip);
    write_dr0(0ull);

    if (nx)
        wrmsr(MSR_EFER, efer);
}

void test_main(void)
{
    sys_init();
    test_priority();
    test_software();
    test_double_faults();
    /* The runtime still works after all of it. */
    if (COMMON)
        expect_at("afterwards: #UD still delivered", x_ud2, UD_VECTOR, 0, u64(x_ud2_site));
}
