/* sys_modes.c: mode switches beyond boot_modes.c. Compatibility mode with
 * a 32-bit and a 16-bit code segment under IA-32e mode (entered by far
 * CALL, far JMP and IRETQ from 64-bit mode; operand and stack sizes there;
 * exceptions from it delivered through the 64-bit IDT with a 64-bit frame
 * and IRETQ back into it); 16-bit protected mode (operand size, a 16-bit
 * stack that wraps at 64 KiB, a 16-bit interrupt gate and IRET); paging
 * switched on and off in legacy protected mode with 32-bit and PAE paging
 * (EFER.LMA stays 0); EFER.LMA following CR0.PG when EFER.LME = 1 (set in
 * compatibility mode, cleared when CR0.PG is cleared there), LMA not
 * writable, CR0.PG = 1 with LME = 1 and PAE = 0 (#GP), LME changed with
 * paging on (#GP), CR0.PG cleared in 64-bit mode (#GP). The #GP checks
 * QEMU 7.2's TCG does not make (the last three) are in
 * sys_strict_modes.c, built from this file with MODES_STRICT = 1.
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "IA-32e Mode Operation", "Initializing IA-32e Mode",
 * "IA-32e Mode Interrupts and Exceptions", "16-Bit Interrupt and Trap
 * Gates", "Mixing 16-Bit and 32-Bit Code", "Enabling and Changing Paging
 * Modes", "Extended Feature Enable Register"; Vol 2 CALL, RET, JMP, IRET.
 */
#include "sys_lib.h"
#include "sys_modes.h"

/* MODES_STRICT = 1: only the checks QEMU gets wrong (sys_strict_modes). */
#ifndef MODES_STRICT
#define MODES_STRICT 0
#endif

extern uint32_t m_res[M_RES_COUNT];
extern char m_lcall[], m_ljmp_compat[], m_iretq_compat[], m_pg_off64[], m_pg_off64_insn[];
extern char m32_probe[], m32_ud[], m32_ud_insn[], m32_after_ud[];
extern char m16_start[], m16_probe[], m16_ud[], m16_ud_insn[], m16_int70[], m16_int70_ret[];
extern char m16_isr[], m16_stack[], m16_call_ret[];
extern char m_pg32[], m_lma[], m_lme_nopae[], m_lme_pg[], m_lcall16[];

struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};

static uint64_t u64(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static uint32_t off16(const char *p)
{
    return (uint32_t)(p - m16_start);
}

static uint32_t lcall(uint16_t sel, uint32_t off)
{
    struct farptr p = {off, sel};
    return ((uint32_t(*)(void *, uint32_t))(void *)m_lcall)(&p, 0);
}

static void reset_res(void)
{
    memset(m_res, 0xFF, sizeof(uint32_t) * M_RES_COUNT);
}

static void call_site(void *site)
{
    ((void (*)(void))site)();
}

/* #UD handler: records the 64-bit frame, skips the 2-byte UD2. */
static volatile uint64_t ud_cs, ud_rip, ud_ss, ud_rsp, ud_top;
static void ud_skip(struct intr_frame *f)
{
    ud_cs = f->cs;
    ud_rip = f->rip;
    ud_ss = f->ss;
    ud_rsp = f->rsp;
    ud_top = (uint64_t)(uintptr_t)(&f->ss + 1);
    f->rip += 2;
}

static void test_compat32(void)
{
    reset_res();
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    uint32_t eax = lcall(SL_CODE32, (uint32_t)u64(m32_probe));
    report_eq("64-bit -> compatibility mode by far CALL, far RET back", eax, 0x600D);
    report_eq("compatibility mode: CS", m_res[R32_CS], SL_CODE32);
    report_eq("compatibility mode: 48h is DEC EAX", m_res[R32_DEC], 4);
    report_eq("compatibility mode: PUSH takes 4 bytes", m_res[R32_PUSH], 4);
    report_eq("compatibility mode: EFER.LME = LMA = 1", m_res[R32_EFER] & (EFER_LME | EFER_LMA),
              EFER_LME | EFER_LMA);
    report_msg("compatibility mode: ESP is RSP[31:0] (2 dwords pushed by the far CALL)",
               m_res[R32_ESP] < (uint32_t)rsp && (uint32_t)rsp - m_res[R32_ESP] < 64,
               "ESP %#x, RSP before %#llx", m_res[R32_ESP], (unsigned long long)rsp);

    /* An exception in compatibility mode goes through the 64-bit IDT:
     * 64-bit frame with SS:RSP, RSP aligned to 16, IRETQ returns into
     * compatibility mode (Vol 3A, "IA-32e Mode Interrupts and Exceptions"). */
    set_intr_handler(UD_VECTOR, ud_skip);
    ud_cs = ud_rip = 0;
    eax = lcall(SL_CODE32, (uint32_t)u64(m32_ud));
    set_intr_handler(UD_VECTOR, NULL);
    report_eq("compatibility mode #UD: frame CS", ud_cs, SL_CODE32);
    report_eq("compatibility mode #UD: frame RIP", ud_rip, u64(m32_ud_insn));
    report_eq("compatibility mode #UD: frame SS", ud_ss, SL_DATA);
    report_eq("compatibility mode #UD: frame RSP = ESP zero-extended", ud_rsp, m_res[R32_UD_ESP]);
    report_eq("compatibility mode #UD: frame ends 16-byte aligned", ud_top & 15, 0);
    report_eq("compatibility mode #UD: IRETQ back into compatibility mode",
              m_res[R32_AFTER_UD], SL_CODE32);

    reset_res();
    ((void (*)(void))(void *)m_ljmp_compat)();
    report_eq("64-bit -> compatibility mode by far JMP (and back)", m_res[R32_JMP_CS], SL_CODE32);
    ((void (*)(void))(void *)m_iretq_compat)();
    report_eq("64-bit -> compatibility mode by IRETQ: CS", m_res[R32_IRET_CS], SL_CODE32);
    report_eq("64-bit -> compatibility mode by IRETQ: SS", m_res[R32_IRET_SS], SL_DATA);
}

static void check16(const char *mode, uint32_t eax)
{
    char n[128];
    snprintf(n, sizeof(n), "%s: far CALL in, 32-bit far RET out", mode);
    report_eq(n, eax, 0x600D);
    snprintf(n, sizeof(n), "%s: CS", mode);
    report_eq(n, m_res[R16_CS], SEL_C16);
    snprintf(n, sizeof(n), "%s: B8 iw is MOV AX, imm16", mode);
    report_eq(n, m_res[R16_MOV], 0x11112222);
    snprintf(n, sizeof(n), "%s: PUSH AX takes 2 bytes (32-bit SS)", mode);
    report_eq(n, m_res[R16_PUSH], 2);
    snprintf(n, sizeof(n), "%s: near CALL pushes a 2-byte IP", mode);
    report_eq(n, m_res[R16_CALL], 2);
    snprintf(n, sizeof(n), "%s: the IP pushed is the offset in CS", mode);
    report_eq(n, m_res[R16_CALL_IP], off16(m16_call_ret));
}

static void test_compat16(void)
{
    reset_res();
    check16("16-bit compatibility mode", lcall(SEL_C16, off16(m16_probe)));

    set_intr_handler(UD_VECTOR, ud_skip);
    ud_cs = ud_rip = 0;
    uint32_t eax = lcall(SEL_C16, off16(m16_ud));
    set_intr_handler(UD_VECTOR, NULL);
    report_eq("16-bit compatibility mode #UD: frame CS", ud_cs, SEL_C16);
    report_eq("16-bit compatibility mode #UD: frame RIP = IP", ud_rip, off16(m16_ud_insn));
    report_eq("16-bit compatibility mode #UD: IRETQ back, continues", eax, 0x700D);
}

static int lcall16(uint32_t off, uint32_t ebx, struct x32 *r)
{
    static struct farptr fp;
    fp = (struct farptr){off, SEL_C16};
    *r = (struct x32){.fn = addr32(m_lcall16), .esi = addr32(&fp), .ebx = ebx};
    return x32_run(r);
}

static void test_pm16(void)
{
    struct x32 r;
    reset_res();
    int v = lcall16(off16(m16_probe), 0, &r);
    if (v >= 0)
        report_msg("16-bit protected mode: entered", false, "vector %d error %#x eip %#x", v,
                   pm32_last.err, pm32_last.eip);
    check16("16-bit protected mode", r.eax);

    /* A 16-bit interrupt gate pushes FLAGS, CS, IP as words; 16-bit IRET. */
    pm32_idt[0x70] = sys_gate(SEL_C16, off16(m16_isr), 0x6, 0, 0);
    reset_res();
    v = lcall16(off16(m16_int70), 0, &r);
    pm32_reset_gate(0x70);
    report_msg("16-bit interrupt gate: INT 70h and IRET", v < 0 && r.eax == 0x800D,
               "vector %d error %#x eax %#x", v, pm32_last.err, r.eax);
    report_eq("16-bit interrupt gate: 6-byte frame", m_res[R16_INT_ESP] - m_res[R16_ISR_ESP], 6);
    report_eq("16-bit interrupt gate: pushed IP", m_res[R16_ISR_IP], off16(m16_int70_ret));
    report_eq("16-bit interrupt gate: pushed CS", m_res[R16_ISR_CS], SEL_C16);
    report_eq("16-bit interrupt gate: pushed FLAGS (bit 1 set, IF clear)",
              m_res[R16_ISR_FL] & (2 | RFLAGS_IF), 2);

    /* A 16-bit stack segment: SP wraps within 64 KiB, ESP[31:16] kept
     * (Vol 3A, "Stack-Segment Size": B = 0 uses SP). */
    static uint8_t stk[0x10000] __attribute__((aligned(16)));
    memset(stk, 0, sizeof(stk));
    gdt_set(SEL_S16 / 8, gdt_desc(addr32(stk), 0xFFFF, 0x3, 0, 0x0));
    v = lcall16(off16(m16_stack), SEL_S16, &r);
    report_msg("16-bit stack: two pushes from SP = 2", v < 0, "vector %d error %#x", v,
               pm32_last.err);
    report_eq("16-bit stack: SP wrapped to FFFEh, ESP[31:16] kept", r.ecx, 0x0001FFFE);
    report_eq("16-bit stack: first push at SS:0", *(uint16_t *)stk, 0xBEEF);
    report_eq("16-bit stack: second push at SS:FFFEh", *(uint16_t *)(stk + 0xFFFE), 0xCAFE);
}

/* Paging on and off in legacy protected mode: VA x maps to the page y. */
static void test_paging(void)
{
    uint32_t *x = alloc_page(), *y = alloc_page();
    x[0] = 0x1111AAAA;
    y[0] = 0x2222BBBB;
    uint32_t xa = addr32(x), ya = addr32(y);

    /* 32-bit paging: 4-MiB pages everywhere, 4-KiB pages around x. */
    uint32_t *pd = alloc_page(), *pt = alloc_page();
    for (uint32_t i = 0; i < 1024; i++)
        pd[i] = (i << 22) | 0x83;
    for (uint32_t i = 0; i < 1024; i++)
        pt[i] = ((xa & ~0x3FFFFFu) + (i << 12)) | 3;
    pt[(xa >> 12) & 1023] = ya | 3;
    pd[xa >> 22] = addr32(pt) | 3;
    struct x32 r;
    int v;
    if (MODES_STRICT)
        goto strict;
    r = (struct x32){.fn = addr32(m_pg32), .ebx = addr32(pd), .ecx = CR4_PSE, .esi = xa};
    v = x32_run(&r);
    report_msg("32-bit paging on and off: completes", v < 0, "vector %d error %#x eip %#x", v,
               pm32_last.err, pm32_last.eip);
    report_eq("32-bit paging on: the VA reads the page it maps to", r.ecx, 0x2222BBBB);
    report_eq("32-bit paging off again: the address is physical", r.edx, 0x1111AAAA);
    report_eq("32-bit paging: EFER.LME = LMA = 0", r.edi & (EFER_LME | EFER_LMA), 0);

    /* PAE paging (EFER.LME = 0): 2-MiB pages, 4-KiB pages around x. */
    uint64_t *pdpt = alloc_page(), *pds = alloc_pages(4), *pt64 = alloc_page();
    for (uint64_t k = 0; k < 4; k++) {
        pdpt[k] = u64(pds + 512 * k) | 1;
        for (uint64_t i = 0; i < 512; i++)
            pds[512 * k + i] = ((k * 512 + i) << 21) | 0x83;
    }
    for (uint64_t i = 0; i < 512; i++)
        pt64[i] = ((xa & ~0x1FFFFFull) + (i << 12)) | 3;
    pt64[(xa >> 12) & 511] = ya | 3;
    pds[xa >> 21] = u64(pt64) | 3;
    r = (struct x32){.fn = addr32(m_pg32), .ebx = addr32(pdpt), .ecx = CR4_PAE, .esi = xa};
    v = x32_run(&r);
    report_msg("PAE paging on and off: completes", v < 0, "vector %d error %#x eip %#x", v,
               pm32_last.err, pm32_last.eip);
    report_eq("PAE paging on: the VA reads the page it maps to", r.ecx, 0x2222BBBB);
    report_eq("PAE paging off again: the address is physical", r.edx, 0x1111AAAA);
    report_eq("PAE paging with LME = 0: EFER.LMA = 0", r.edi & (EFER_LME | EFER_LMA), 0);
strict:

    if (MODES_STRICT) {
        /* EFER.LME with paging on: #GP(0) (Vol 3A, "Extended Feature
         * Enable Register": LME cannot change while CR0.PG = 1); QEMU sets
         * it. */
        r = (struct x32){.fn = addr32(m_lme_pg), .ebx = addr32(pd)};
        x32_run(&r);
        pm32_expect("EFER.LME set while 32-bit paging is on: #GP(0)", GP_VECTOR, 0);
        /* CR0.PG = 1 with LME = 1 and PAE = 0: #GP(0) (Vol 2 MOV CR,
         * "If an attempt is made to activate IA-32e mode ... while
         * CR4.PAE = 0"); QEMU turns on paging. */
        r = (struct x32){.fn = addr32(m_lme_nopae)};
        x32_run(&r);
        pm32_expect("CR0.PG = 1 with EFER.LME = 1 and CR4.PAE = 0: #GP(0)", GP_VECTOR, 0);
    }
}

/* IA-32e mode is left from compatibility mode only: clearing CR0.PG in
 * 64-bit mode is #GP(0) (Vol 2 MOV CR, "If an attempt is made to clear
 * CR0.PG while in 64-bit mode"); QEMU clears it and loses its way. */
static void test_pg_off64(void)
{
    int g = run_catching(call_site, m_pg_off64);
    report_msg("CR0.PG cleared in 64-bit mode: #GP(0)",
               g == GP_VECTOR && last_exception.error_code == 0 &&
                   last_exception.rip == u64(m_pg_off64_insn),
               "vector %d error %#llx rip %#llx", g, (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.rip);
    report("CR0.PG still set", read_cr0() & CR0_PG);
}

static void test_lma(void)
{
    /* From legacy protected mode: LME = 1 alone does not activate IA-32e
     * mode; CR0.PG = 1 does (LMA = 1, compatibility mode with the 32-bit
     * CS); clearing CR0.PG there leaves it (LMA = 0). */
    struct x32 r = {.fn = addr32(m_lma), .ebx = addr32(vp_pml4)};
    int v = x32_run(&r);
    report_msg("IA-32e mode entered and left from legacy protected mode", v < 0,
               "vector %d error %#x eip %#x", v, pm32_last.err, pm32_last.eip);
    report_eq("EFER.LME = 1 with paging off: LMA = 0", r.esi & (EFER_LME | EFER_LMA), EFER_LME);
    report_eq("CR0.PG = 1 with LME = 1: LMA = 1", r.edi & (EFER_LME | EFER_LMA),
              EFER_LME | EFER_LMA);
    report_eq("CR0.PG = 0 in compatibility mode: LMA = 0, LME kept", r.edx & (EFER_LME | EFER_LMA),
              EFER_LME);
    report_eq("the 32-bit code segment ran on through all of it", r.eax, SL_CODE32);


    /* LMA is read-only: a WRMSR that clears it is ignored for that bit. */
    uint64_t efer = rdmsr(MSR_EFER);
    wrmsr(MSR_EFER, efer & ~EFER_LMA);
    report_eq("WRMSR EFER with LMA = 0 in IA-32e mode: LMA stays 1", rdmsr(MSR_EFER) & EFER_LMA,
              EFER_LMA);
    wrmsr(MSR_EFER, efer);

}

void test_main(void)
{
    sys_init();
    gdt_set(SEL_C16 / 8, gdt_desc(addr32(m16_start), 0xFFFF, 0xB, 0, 0x0));
    if (MODES_STRICT) {
        test_paging();
        test_pg_off64();
        return;
    }
    test_compat32();
    test_compat16();
    test_pm16();
    test_paging();
    test_lma();
}
