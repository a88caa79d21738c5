/* sys_task.c: hardware task switches in 32-bit protected mode: JMP to a
 * TSS (the old task freed, its state saved, the new one loaded with its
 * LDT), CALL through a task gate and to a TSS (NT, back link, the caller
 * stays busy) and IRET back, INT n through an IDT task gate, an exception
 * with an error code through a task gate (the code pushed on the new
 * task's stack), busy-bit and other checks (#GP, #TS, #NP), a fault while
 * loading the new task's segments (delivered in the new task), and the
 * CR3 switch under paging. The one check QEMU 7.2's TCG gets wrong (the
 * EIP of a fault raised after the switch committed) is in
 * sys_strict_task.c, built from this file with TASK_STRICT = 1.
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "Task Management": "Task-State Segment (TSS)", "TSS
 * Descriptor", "Task-Gate Descriptor", "Task Switching", "Task Linking"
 * (NT, previous task link, busy flag), "Task Address Space" (CR3, LDT);
 * "Interrupt 10 - Invalid TSS Exception (#TS)"; Vol 2 JMP, CALL, IRET
 * ("TASK-RETURN").
 */
#include "sys_lib.h"
#include "sys_task.h"

/* TASK_STRICT = 1: only the checks QEMU gets wrong (sys_strict_task). */
#ifndef TASK_STRICT
#define TASK_STRICT 0
#endif
#define COMMON (!TASK_STRICT)
#define STRICT (TASK_STRICT)

struct tss32 t_tss_b __attribute__((aligned(128)));
struct tss32 t_tss_c __attribute__((aligned(128)));
struct tss32 t_tss_d __attribute__((aligned(128)));
struct tss32 t_tss_e __attribute__((aligned(128)));
struct tss32 t_tss_f __attribute__((aligned(128)));
struct tss32 t_tss_x __attribute__((aligned(128)));
uint32_t t_res[32];
static uint64_t ldt_b[4] __attribute__((aligned(8)));
static uint8_t stacks[6][4096] __attribute__((aligned(16)));

extern char t_jmp_b[], t_jmp_b_next[], task_b_entry[], task_b_after[], t_call_gate[];
extern char t_call_tss[], t_call_f[], task_c_entry[], task_c_after[], task_d_entry[];
extern char task_f_entry[], task_e_entry[], t_int60[], t_gp_site[], t_gp_insn[];
extern char t_call_self[], t_iret_nt[], t_user_call_gate[], t_jmp_sel[], task_bad_entry[];
extern char t_ts_handler[];

#define EFL_NT BIT(14)
#define HI_BUSY BIT(9) /* the busy bit in the descriptor's high dword */

static void task_init(struct tss32 *t, void *entry, int stack)
{
    memset(t, 0, sizeof(*t));
    t->eip = addr32(entry);
    t->eflags = 2;
    t->esp = addr32(stacks[stack] + sizeof(stacks[stack]));
    t->cs = SL_CODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = SL_DATA;
    t->cr3 = pm32_cr3;
    t->iomap = sizeof(*t);
    t->link = 0x1230; /* must stay unless the task is entered by CALL/INT */
}

static void tss_desc(uint16_t sel, struct tss32 *t)
{
    gdt_set(sel / 8, sys_desc(addr32(t), sizeof(*t) - 1, 9, 0));
}

static bool busy(uint16_t sel)
{
    return gdt_get(sel / 8) & DESC_BUSY;
}

static void run_a(const char *name, struct x32 *r, void *fn)
{
    memset(t_res, 0xEE, sizeof(t_res));
    *r = (struct x32){.fn = addr32(fn), .ebx = r->ebx};
    int v = x32_run(r);
    report_msg(name, v < 0, "vector %d error %#x eip %#x", v, pm32_last.err, pm32_last.eip);
}

static void test_jmp(void)
{
    struct x32 r = {0};
    task_init(&t_tss_b, task_b_entry, 0);
    t_tss_b.ebx = 0xB0B0B0B0;
    t_tss_b.ldt = SEL_LDT_B;
    t_tss_b.ds = 0x0C; /* LDT entry 1 */
    ldt_b[1] = gdt_desc(0, 0xFFFFF, 0x3, 0, 0xC);
    gdt_set(SEL_LDT_B / 8, sys_desc(addr32(ldt_b), sizeof(ldt_b) - 1, 2, 0));
    tss_desc(SEL_TSS_B, &t_tss_b);
    pm32_tss.link = 0;

    run_a("JMP to TSS B and back: completes", &r, t_jmp_b);
    report_eq("JMP: TR in task B", t_res[0], SEL_TSS_B);
    report_eq("JMP: NT = 0 in task B (not nested)", t_res[1] & EFL_NT, 0);
    report_eq("JMP: CR0.TS set by the switch", t_res[2] & CR0_TS, CR0_TS);
    report_eq("JMP: old task's busy bit cleared", t_res[3] & HI_BUSY, 0);
    report_eq("JMP: new task's busy bit set", t_res[4] & HI_BUSY, HI_BUSY);
    report_eq("JMP: task B's EBX from its TSS", t_res[5], 0xB0B0B0B0);
    report_eq("JMP: task B's DS from its TSS, through its LDT", t_res[6], 0x0C);
    report_eq("JMP: LDTR from task B's TSS", t_res[7], SEL_LDT_B);
    report_eq("JMP: back link of task B not written", t_res[8], 0x1230);
    report_eq("JMP: task B's ESP from its TSS", t_res[9], addr32(stacks[0] + sizeof(stacks[0])));
    report_eq("JMP: old task's EIP saved (next instruction)", pm32_tss.eip, addr32(t_jmp_b_next));
    report_eq("JMP back: TR is task A again", r.eax, SEL_TSS32);
    report_eq("JMP back: task A's EBX restored from its TSS", r.ebx, 0x12345678);
    report_eq("JMP back: task A's ESI restored from its TSS", r.esi, 0x9ABCDEF0);
    report_eq("JMP back: task B's EIP saved", t_tss_b.eip, addr32(task_b_after));
    report_eq("JMP back: task B's EBX saved", t_tss_b.ebx, 0x0B0B0B0B);
    report("JMP back: task B no longer busy", !busy(SEL_TSS_B));
    report("JMP back: task A busy again", busy(SEL_TSS32));
}

static void check_nested(const char *how, uint32_t *res, uint16_t sel, uint32_t ebx)
{
    char n[96];
    snprintf(n, sizeof(n), "%s: TR in the new task", how);
    report_eq(n, res[0], sel);
    snprintf(n, sizeof(n), "%s: NT = 1 in the new task", how);
    report_eq(n, res[1] & EFL_NT, EFL_NT);
    snprintf(n, sizeof(n), "%s: back link = the old task", how);
    report_eq(n, res[2], SEL_TSS32);
    snprintf(n, sizeof(n), "%s: the old task stays busy", how);
    report_eq(n, res[3] & HI_BUSY, HI_BUSY);
    snprintf(n, sizeof(n), "%s: the new task is busy", how);
    report_eq(n, res[4] & HI_BUSY, HI_BUSY);
    snprintf(n, sizeof(n), "%s: new task's EBX from its TSS", how);
    report_eq(n, res[5], ebx);
}

static void test_call_iret(void)
{
    struct x32 r = {0};
    task_init(&t_tss_c, task_c_entry, 1);
    t_tss_c.ebx = 0xC0C0C0C0;
    tss_desc(SEL_TSS_C, &t_tss_c);
    gdt_set(SEL_GATE_C / 8, sys_gate(SEL_TSS_C, 0, 5, 0, 0));

    run_a("CALL through a task gate, IRET back: completes", &r, t_call_gate);
    check_nested("CALL via task gate", t_res, SEL_TSS_C, 0xC0C0C0C0);
    report_eq("IRET (task return): NT clear in the caller", r.ecx & EFL_NT, 0);
    report_eq("IRET (task return): caller's EBX restored", r.ebx, 0x12345678);
    report("IRET (task return): the returning task is no longer busy", !busy(SEL_TSS_C));
    report_eq("IRET (task return): NT cleared in the returning task's saved EFLAGS",
              t_tss_c.eflags & EFL_NT, 0);
    report_eq("IRET (task return): the returning task's EIP saved", t_tss_c.eip,
              addr32(task_c_after));

    task_init(&t_tss_c, task_c_entry, 1);
    t_tss_c.ebx = 0xC1C1C1C1;
    tss_desc(SEL_TSS_C, &t_tss_c);
    run_a("CALL to a TSS, IRET back: completes", &r, t_call_tss);
    check_nested("CALL to TSS", t_res, SEL_TSS_C, 0xC1C1C1C1);
    report("CALL to TSS: after IRET the task is free again", !busy(SEL_TSS_C));
}

static void test_int_gate(void)
{
    struct x32 r = {0};
    task_init(&t_tss_d, task_d_entry, 2);
    t_tss_d.ebx = 0xD0D0D0D0;
    tss_desc(SEL_TSS_D, &t_tss_d);
    pm32_idt[0x60] = sys_gate(SEL_TSS_D, 0, 5, 0, 0);
    run_a("INT 60h through an IDT task gate: completes", &r, t_int60);
    check_nested("INT via task gate", t_res + 8, SEL_TSS_D, 0xD0D0D0D0);
    report("INT via task gate: after IRET the task is free", !busy(SEL_TSS_D));
    pm32_reset_gate(0x60);

    /* An exception with an error code through a task gate: the code is
     * pushed on the new task's stack (Vol 3A, "Interrupt Tasks"). */
    task_init(&t_tss_e, task_e_entry, 3);
    tss_desc(SEL_TSS_E, &t_tss_e);
    pm32_idt[GP_VECTOR] = sys_gate(SEL_TSS_E, 0, 5, 0, 0);
    run_a("#GP through an IDT task gate: handled by task E, resumed", &r, t_gp_site);
    pm32_reset_gate(GP_VECTOR);
    report_eq("#GP via task gate: the faulting task continues past the fault", r.eax, 0x600D);
    report_eq("#GP via task gate: TR in the handler task", t_res[16], SEL_TSS_E);
    report_eq("#GP via task gate: error code on the new task's stack", t_res[17], 0x1F8);
    report_eq("#GP via task gate: NT = 1 in the handler task", t_res[18] & EFL_NT, EFL_NT);
    report_eq("#GP via task gate: back link", t_res[19], SEL_TSS32);
    report_eq("#GP via task gate: one dword (the error code) on the stack", t_res[20],
              addr32(stacks[3] + sizeof(stacks[3])) - 4);
    report_eq("#GP via task gate: the faulting EIP was saved in the old TSS (then skipped)",
              pm32_tss.eip, addr32(t_gp_insn) + 2);
}

/* Busy bits and descriptor checks (Vol 2 JMP/CALL "TASK-GATE",
 * "TASK-STATE-SEGMENT"; IRET "TASK-RETURN"). */
static void fault_case(const char *name, void *fn, uint32_t ebx, bool user, int vec, uint32_t err)
{
    struct x32 r = {.fn = addr32(fn), .ebx = ebx};
    if (user)
        x32_run_user(&r);
    else
        x32_run(&r);
    pm32_expect(name, vec, err);
}

/* A fault while loading the new task's segment registers happens in the
 * new task, after the commit (Vol 3A, "Task Switching": "Any errors
 * associated with the loading and qualification of segment descriptors
 * occur in the context of the new task"): DS names a system descriptor. */
static void test_fault_after_commit(void)
{
    task_init(&t_tss_x, task_bad_entry, 4);
    t_tss_x.ds = SEL_TSS32;
    gdt_set(SEL_TSS_X / 8, sys_desc(addr32(&t_tss_x), 0x67, 9, 0));
    pm32_handlers[TS_VECTOR] = addr32(t_ts_handler);
    t_res[24] = 0;
    struct x32 r = {.fn = addr32(t_jmp_sel), .ebx = SEL_TSS_X};
    x32_run(&r);
    pm32_handlers[TS_VECTOR] = 0;
    if (STRICT) {
        /* QEMU reports the old task's EIP. */
        report_msg("#TS while loading DS: at the new task's EIP",
                   pm32_vector == TS_VECTOR && pm32_last.eip == addr32(task_bad_entry),
                   "vector %d eip %#x, want %#x", (int)pm32_vector, pm32_last.eip,
                   addr32(task_bad_entry));
        return;
    }
    pm32_expect("new task's DS is a system descriptor: #TS(DS selector)", TS_VECTOR, SEL_TSS32);
    report_eq("#TS while loading DS: delivered in the new task (TR)", t_res[24], SEL_TSS_X);
    report_eq("#TS while loading DS: with the new task's CS", pm32_last.cs, SL_CODE32);
}

static void test_checks(void)
{
    fault_case("CALL to the current (busy) TSS: #GP(sel)", t_call_self, 0, false, GP_VECTOR,
               SEL_TSS32);
    task_init(&t_tss_b, task_b_entry, 0);
    tss_desc(SEL_TSS_B, &t_tss_b);
    gdt_set(SEL_TSS_B / 8, gdt_get(SEL_TSS_B / 8) | DESC_BUSY);
    fault_case("JMP to a busy TSS: #GP(sel)", t_jmp_sel, SEL_TSS_B, false, GP_VECTOR, SEL_TSS_B);
    tss_desc(SEL_TSS_B, &t_tss_b);
    pm32_tss.link = SEL_TSS_B;
    fault_case("IRET with NT = 1 to a task that is not busy: #TS(link)", t_iret_nt, 0, false,
               TS_VECTOR, SEL_TSS_B);
    pm32_tss.link = 0;

    task_init(&t_tss_x, task_bad_entry, 4);
    gdt_set(SEL_TSS_X / 8, sys_desc(addr32(&t_tss_x), 0x5F, 9, 0));
    fault_case("JMP to a TSS with limit < 67h: #TS(sel)", t_jmp_sel, SEL_TSS_X, false, TS_VECTOR,
               SEL_TSS_X);
    gdt_set(SEL_TSS_X / 8, sys_desc(addr32(&t_tss_x), 0x67, 9, 0) & ~DESC_P);
    fault_case("JMP to a not-present TSS: #NP(sel)", t_jmp_sel, SEL_TSS_X, false, NP_VECTOR,
               SEL_TSS_X);
    gdt_set(SEL_TSS_X / 8, sys_desc(addr32(&t_tss_x), 0x67, 9, 0));
    fault_case("CPL 3: CALL to a DPL 0 TSS: #GP(sel)", t_user_call_gate, SEL_TSS_X | 3, true,
               GP_VECTOR, SEL_TSS_X);
    gdt_set(SEL_GATE_X / 8, sys_gate(SEL_TSS_X, 0, 5, 0, 0));
    fault_case("CPL 3: CALL through a DPL 0 task gate: #GP(gate)", t_user_call_gate,
               SEL_GATE_X | 3, true, GP_VECTOR, SEL_GATE_X);
    gdt_set(SEL_GATE_X / 8, sys_gate(SEL_TSS_X, 0, 5, 0, 0) & ~DESC_P);
    fault_case("JMP through a not-present task gate: #NP(gate)", t_jmp_sel, SEL_GATE_X, false,
               NP_VECTOR, SEL_GATE_X);
    gdt_set(SEL_GATE_X / 8, sys_gate(SL_DATA, 0, 5, 0, 0));
    fault_case("JMP through a task gate naming a data segment: #GP(that selector)", t_jmp_sel,
               SEL_GATE_X, false, GP_VECTOR, SL_DATA);
    report("no fault case left task X busy", !busy(SEL_TSS_X));
}

/* CR3 comes from the new task's TSS under paging (Vol 3A, "Task Address
 * Space"); it is not saved in the old TSS. 32-bit paging with 4-MiB pages
 * (PSE), VA_PROBE mapped to different pages in the two address spaces. */
static void test_cr3(void)
{
    if (!(cpuid(1).d & BIT(3))) {
        report_skip("CR3 switch", "CPUID.1:EDX.PSE is 0");
        return;
    }
    uint32_t *pd_a = alloc_page(), *pd_f = alloc_page();
    uint32_t *pt_a = alloc_page(), *pt_f = alloc_page();
    uint32_t *page_a = alloc_page(), *page_f = alloc_page();
    for (uint32_t i = 0; i < 1024; i++)
        pd_a[i] = pd_f[i] = (i << 22) | 0x87; /* 4 MiB, P RW US PS */
    pd_a[VA_PROBE >> 22] = addr32(pt_a) | 7;
    pd_f[VA_PROBE >> 22] = addr32(pt_f) | 7;
    pt_a[0] = addr32(page_a) | 7;
    pt_f[0] = addr32(page_f) | 7;
    page_a[0] = 0xAAAA0001;
    page_f[0] = 0xFFFF000F;

    pm32_cr3 = addr32(pd_a);
    pm32_cr4 = CR4_PSE;
    pm32_tss.cr3 = pm32_cr3;
    task_init(&t_tss_f, task_f_entry, 5);
    t_tss_f.cr3 = addr32(pd_f);
    tss_desc(SEL_TSS_F, &t_tss_f);
    struct x32 r = {0};
    run_a("CALL to a task with another CR3 (32-bit paging): completes", &r, t_call_f);
    pm32_cr3 = 0;
    pm32_cr4 = 0;
    report_eq("CR3 switch: task A reads its page before", r.eax, 0xAAAA0001);
    report_eq("CR3 switch: task F's CR3 from its TSS", t_res[0], addr32(pd_f));
    report_eq("CR3 switch: task F reads its own page", t_res[1], 0xFFFF000F);
    report_eq("CR3 switch: back in task A, its CR3", r.ecx, addr32(pd_a));
    report_eq("CR3 switch: task A reads its page after", r.edx, 0xAAAA0001);
    report_eq("CR3 switch: task F's TSS CR3 field unchanged (not saved)", t_tss_f.cr3,
              addr32(pd_f));
}

void test_main(void)
{
    sys_init();
    if (STRICT) {
        test_fault_after_commit();
        return;
    }
    test_jmp();
    test_call_iret();
    test_int_gate();
    test_checks();
    test_fault_after_commit();
    test_cr3();
}
