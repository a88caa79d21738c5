/* Event delivery and IRET: the frames pushed in guest memory in real,
 * protected, virtual-8086 and IA-32e mode; privilege checks and error
 * codes (EXT, IDT bit); #DF promotion and the triple fault; NMI blocking;
 * task gates. SDM Vol 3A, "Interrupt and Exception Handling", "Task
 * Management"; Vol 2 INT n and IRET. */
#include "testsuites/unit/test_cpu_sys.h"

static void idt32(vp_machine *m, int vec, uint16_t sel, uint32_t off,
                  uint8_t access)
{
    wr64(m, T_IDT + 8ull * (unsigned)vec, mkgate(sel, off, access, 0));
}

static void idt64(vp_machine *m, int vec, uint16_t sel, uint64_t off,
                  uint8_t access, uint8_t ist)
{
    wr64(m, T_IDT + 16ull * (unsigned)vec, mkgate(sel, off, access, ist));
    wr64(m, T_IDT + 16ull * (unsigned)vec + 8, off >> 32);
}

static uint32_t rd32(vp_machine *m, uint64_t a)
{
    return (uint32_t)rd(m, a, 4);
}

/* ---- real mode -------------------------------------------------------- */

START_TEST(test_real_mode_int)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    real16(c);
    vp_phys_write_n(&m->mem, 0x10 * 4, 0x12340010u, 4);   /* 1234:0010 */
    c->flags = FL_FIXED1 | FL_IF | FL_TF | FL_CF;
    vp_deliver_event(c, 0x10, EV_SWINT, false, 0, 0x7c02);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0 - 6);
    ck_assert_uint_eq(rd(m, T_STACK0 - 6, 2), 0x7c02);      /* IP */
    ck_assert_uint_eq(rd(m, T_STACK0 - 4, 2), 0);           /* CS */
    ck_assert_uint_eq(rd(m, T_STACK0 - 2, 2),
                      FL_FIXED1 | FL_IF | FL_TF | FL_CF);   /* FLAGS */
    ck_assert_uint_eq(c->seg[S_CS].base, 0x12340);
    ck_assert_uint_eq(c->rip, 0x10);
    ck_assert(!(c->flags & (FL_IF | FL_TF)));
    ck_assert(c->flags & FL_CF);
    ck_assert_int_eq(vp_iret(c, 2), VP_OK);
    ck_assert_uint_eq(c->rip, 0x7c02);
    ck_assert_uint_eq(c->seg[S_CS].base, 0);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0);
    ck_assert(c->flags & FL_IF);
    ck_assert(c->flags & FL_TF);
    vp_machine_destroy(m);
}
END_TEST

/* ---- protected mode --------------------------------------------------- */

/* External interrupt at CPL 0 through a 32-bit interrupt gate. */
START_TEST(test_prot_same_privilege)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    idt32(m, 0x20, G_CODE32, 0x6000, 0x8e);
    c->flags = FL_FIXED1 | FL_IF;
    c->rip = 0x1111;
    vp_deliver_event(c, 0x20, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6000);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0 - 12);
    ck_assert_uint_eq(rd32(m, T_STACK0 - 12), 0x1111);
    ck_assert_uint_eq(rd32(m, T_STACK0 - 8), G_CODE32);
    ck_assert_uint_eq(rd32(m, T_STACK0 - 4), FL_FIXED1 | FL_IF);
    ck_assert(!(c->flags & FL_IF));
    ck_assert_int_eq(c->delivering, -1);
    ck_assert_int_eq(vp_iret(c, 4), VP_OK);
    ck_assert_uint_eq(c->rip, 0x1111);
    ck_assert(c->flags & FL_IF);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0);
    vp_machine_destroy(m);
}
END_TEST

/* #GP with an error code from CPL 3 to a ring-0 handler: stack switch
 * from the TSS, SS:ESP pushed, RF set in the image of a fault. */
START_TEST(test_prot_inter_privilege)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    idt32(m, EXC_GP, G_CODE32, 0x6100, 0x8e);
    c->flags = FL_FIXED1 | FL_IF;
    c->rip = 0x2222;
    vp_deliver_event(c, EXC_GP, EV_HWEXC, true, 0x18, 0);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 24);
    ck_assert_uint_eq(rd32(m, sp), 0x18);                    /* error */
    ck_assert_uint_eq(rd32(m, sp + 4), 0x2222);              /* EIP */
    ck_assert_uint_eq(rd32(m, sp + 8), G_CODE32_U | 3);      /* CS */
    ck_assert_uint_eq(rd32(m, sp + 12), FL_FIXED1 | FL_IF | FL_RF);
    ck_assert_uint_eq(rd32(m, sp + 16), T_STACK3);           /* ESP */
    ck_assert_uint_eq(rd32(m, sp + 20), G_DATA32_U | 3);     /* SS */
    /* The handler pops the error code and returns. */
    c->gpr[R_SP] += 4;
    ck_assert_int_eq(vp_iret(c, 4), VP_OK);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_uint_eq(c->rip, 0x2222);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK3);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32_U | 3);
    ck_assert(c->flags & FL_IF);
    ck_assert(c->flags & FL_RF);
    vp_machine_destroy(m);
}
END_TEST

/* INT n checks the gate DPL: #GP(vector * 8 + 2), EXT clear, pushed EIP
 * of the INT instruction. External events set EXT. */
START_TEST(test_prot_error_codes)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    idt32(m, EXC_GP, G_CODE32, 0x6100, 0x8e);
    idt32(m, EXC_NP, G_CODE32, 0x6200, 0x8e);
    idt32(m, 0x20, G_CODE32, 0x6000, 0x8e);                 /* DPL 0 */
    c->insn_rip = 0x3000;
    c->rip = 0x3002;
    vp_deliver_event(c, 0x20, EV_SWINT, false, 0, 0x3002);
    ck_assert_uint_eq(c->rip, 0x6100);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(rd32(m, sp), 0x20 * 8 + 2);
    ck_assert_uint_eq(rd32(m, sp + 4), 0x3000);
    vp_machine_destroy(m);

    /* A gate that is not present: #NP(vector * 8 + 2 + EXT). */
    m = unit_machine(16);
    c = m->cpus[0];
    prot32(c, 0);
    idt32(m, EXC_NP, G_CODE32, 0x6200, 0x8e);
    idt32(m, 0x30, G_CODE32, 0x6000, 0x0e);
    c->rip = 0x4444;
    vp_deliver_event(c, 0x30, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6200);
    sp = c->gpr[R_SP];
    ck_assert_uint_eq(rd32(m, sp), 0x30 * 8 + 2 + 1);
    ck_assert_uint_eq(rd32(m, sp + 4), 0x4444);
    /* Beyond the IDT limit: #GP(vector * 8 + 2 + EXT). */
    c->gpr[R_SP] = T_STACK0;
    idt32(m, EXC_GP, G_CODE32, 0x6100, 0x8e);
    c->idtr.limit = 0x20 * 8 - 1;
    vp_deliver_event(c, 0x20, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6100);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), 0x20 * 8 + 2 + 1);
    /* The handler's CS is a data segment: #GP(CS + EXT). */
    c->idtr.limit = 0x7ff;
    c->gpr[R_SP] = T_STACK0;
    idt32(m, 0x21, G_DATA32, 0x6000, 0x8e);
    vp_deliver_event(c, 0x21, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6100);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), G_DATA32 + 1);
    vp_machine_destroy(m);
}
END_TEST

/* IRET at CPL 3 with IOPL 0 changes neither IF nor IOPL (SDM Vol 2 IRET:
 * IF only when CPL <= IOPL, IOPL only at CPL 0); the arithmetic flags do
 * change. */
START_TEST(test_iret_flag_rules)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    uint64_t sp = T_STACK3 - 12;
    vp_phys_write_n(&m->mem, sp, 0x1234, 4);
    vp_phys_write_n(&m->mem, sp + 4, G_CODE32_U | 3, 4);
    vp_phys_write_n(&m->mem, sp + 8, FL_FIXED1 | FL_IOPL | FL_CF, 4);
    c->gpr[R_SP] = sp;
    c->flags = FL_FIXED1 | FL_IF;
    ck_assert_int_eq(vp_iret(c, 4), VP_OK);
    ck_assert_uint_eq(c->flags, FL_FIXED1 | FL_IF | FL_CF);
    ck_assert_uint_eq(c->rip, 0x1234);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK3);
    /* Returning to ring 0 from ring 3 is #GP(CS). */
    c->gpr[R_SP] = sp;
    vp_phys_write_n(&m->mem, sp + 4, G_CODE32, 4);
    ck_assert_int_eq(vp_iret(c, 4), VP_EXC);
    ck_exc(c, EXC_GP, G_CODE32);
    ck_assert_uint_eq(c->gpr[R_SP], sp);
    vp_machine_destroy(m);
}
END_TEST

/* From virtual-8086 mode to a ring-0 handler: GS FS DS ES pushed, data
 * segments nulled, VM cleared; IRET at CPL 0 with VM in the image returns
 * to virtual-8086 mode. */
START_TEST(test_v86_interrupt)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    idt32(m, 0x20, G_CODE32, 0x6000, 0x8e);
    c->flags = FL_FIXED1 | FL_VM | FL_IF;
    static const uint16_t sels[6] = {0x1000, 0x2000, 0x3000, 0x4000, 0x5000,
                                     0x6000}; /* ES CS SS DS FS GS */
    for (int s = 0; s < 6; s++)
        vp_seg_real(&c->seg[s], sels[s], true);
    c->gpr[R_SP] = 0xfffe;
    c->rip = 0x100;
    vp_update_mode(c);
    ck_assert(c->v86);
    vp_deliver_event(c, 0x20, EV_EXTINT, false, 0, 0);
    ck_assert(!c->v86);
    ck_assert_int_eq(c->cpl, 0);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 36);
    ck_assert_uint_eq(rd32(m, sp), 0x100);                    /* EIP */
    ck_assert_uint_eq(rd32(m, sp + 4), 0x2000);               /* CS */
    ck_assert(rd32(m, sp + 8) & FL_VM);                       /* EFLAGS */
    ck_assert_uint_eq(rd32(m, sp + 12), 0xfffe);              /* ESP */
    ck_assert_uint_eq(rd32(m, sp + 16), 0x3000);              /* SS */
    ck_assert_uint_eq(rd32(m, sp + 20), 0x1000);              /* ES */
    ck_assert_uint_eq(rd32(m, sp + 24), 0x4000);              /* DS */
    ck_assert_uint_eq(rd32(m, sp + 28), 0x5000);              /* FS */
    ck_assert_uint_eq(rd32(m, sp + 32), 0x6000);              /* GS */
    ck_assert_int_eq(c->seg[S_DS].sel, 0);
    ck_assert(c->seg[S_GS].attr & SEGA_UNUSABLE);
    ck_assert(!(c->flags & FL_VM));
    ck_assert_int_eq(vp_iret(c, 4), VP_OK);
    ck_assert(c->v86);
    ck_assert_int_eq(c->cpl, 3);
    for (int s = 0; s < 6; s++) {
        ck_assert_int_eq(c->seg[s].sel, sels[s]);
        ck_assert_uint_eq(c->seg[s].base, (uint64_t)sels[s] << 4);
    }
    ck_assert_uint_eq(c->gpr[R_SP], 0xfffe);
    ck_assert_uint_eq(c->rip, 0x100);
    vp_machine_destroy(m);
}
END_TEST

/* ---- IA-32e mode ------------------------------------------------------ */

START_TEST(test_long_mode_delivery)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 3);
    idt64(m, 0x80, G_CODE64, 0xffffffff80001000ull & 0x7fffffffull, 0xee, 0);
    c->flags = FL_FIXED1 | FL_IF;
    c->gpr[R_SP] = T_STACK3 - 8;
    c->rip = 0x5555;
    vp_deliver_event(c, 0x80, EV_SWINT, false, 0, 0x5557);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_int_eq(c->code_size, 8);
    ck_assert_int_eq(c->seg[S_SS].sel, 0);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 40);
    ck_assert_uint_eq(rd(m, sp, 8), 0x5557);
    ck_assert_uint_eq(rd(m, sp + 8, 8), G_CODE64_U | 3);
    ck_assert_uint_eq(rd(m, sp + 16, 8), FL_FIXED1 | FL_IF);
    ck_assert_uint_eq(rd(m, sp + 24, 8), T_STACK3 - 8);
    ck_assert_uint_eq(rd(m, sp + 32, 8), G_DATA32_U | 3);
    ck_assert(!(c->flags & FL_IF));
    ck_assert_int_eq(vp_iret(c, 8), VP_OK);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_uint_eq(c->rip, 0x5557);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK3 - 8);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32_U | 3);
    vp_machine_destroy(m);
}
END_TEST

/* Same privilege: RSP aligned to 16 and SS:RSP pushed anyway; IST stacks;
 * IRETQ pops SS:RSP at the same privilege too. */
START_TEST(test_long_mode_align_ist)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    idt64(m, EXC_PF, G_CODE64, 0x6000, 0x8e, 0);
    idt64(m, EXC_NMI, G_CODE64, 0x6100, 0x8e, 1);
    c->gpr[R_SP] = T_STACK0 - 8;
    c->rip = 0x7777;
    vp_deliver_event(c, EXC_PF, EV_HWEXC, true, 2, 0);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 16 - 48);
    ck_assert_uint_eq(rd(m, sp, 8), 2);
    ck_assert_uint_eq(rd(m, sp + 8, 8), 0x7777);
    ck_assert_uint_eq(rd(m, sp + 32, 8), T_STACK0 - 8);
    ck_assert_uint_eq(rd(m, sp + 40, 8), G_DATA32);
    c->gpr[R_SP] += 8;
    ck_assert_int_eq(vp_iret(c, 8), VP_OK);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0 - 8);
    ck_assert_uint_eq(c->rip, 0x7777);

    /* NMI on IST1 (0x7000); blocked until IRET. */
    vp_deliver_event(c, EXC_NMI, EV_NMI, false, 0, 0);
    ck_assert_uint_eq(c->gpr[R_SP], 0x7000 - 40);
    ck_assert(c->nmi_blocked);
    ck_assert_int_eq(vp_iret(c, 8), VP_OK);
    ck_assert(!c->nmi_blocked);
    vp_machine_destroy(m);
}
END_TEST

/* Only 64-bit gates in IA-32e mode: a 32-bit-style gate type 6 is #GP. */
START_TEST(test_long_mode_bad_gate)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    idt64(m, EXC_GP, G_CODE64, 0x6000, 0x8e, 0);
    idt64(m, 0x40, G_CODE64, 0x6100, 0x86, 0);
    /* A handler in 32-bit code: #GP(CS + EXT). */
    idt64(m, 0x41, G_CODE32, 0x6100, 0x8e, 0);
    vp_deliver_event(c, 0x40, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6000);
    ck_assert_uint_eq(rd(m, c->gpr[R_SP], 8), 0x40 * 8 + 2 + 1);
    c->gpr[R_SP] = T_STACK0;
    vp_deliver_event(c, 0x41, EV_EXTINT, false, 0, 0);
    ck_assert_uint_eq(rd(m, c->gpr[R_SP], 8), G_CODE32 + 1);
    vp_machine_destroy(m);
}
END_TEST

/* ---- double fault and triple fault ------------------------------------ */

/* Contributory while delivering contributory: #DF with error code 0. */
START_TEST(test_double_fault)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    idt32(m, EXC_DF, G_CODE32, 0x6800, 0x8e);
    idt32(m, EXC_GP, G_CODE32, 0x6100, 0x0e);      /* not present */
    c->rip = 0x1000;
    vp_deliver_event(c, EXC_GP, EV_HWEXC, true, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6800);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), 0);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP] + 4), 0x1000);
    ck_assert(!c->shutdown);

    /* #PF then a contributory fault: #DF. */
    c->gpr[R_SP] = T_STACK0;
    idt32(m, EXC_PF, G_CODE32, 0x6100, 0x0e);
    vp_deliver_event(c, EXC_PF, EV_HWEXC, true, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6800);

    /* Benign first: the second exception is delivered serially. */
    c->gpr[R_SP] = T_STACK0;
    idt32(m, EXC_NP, G_CODE32, 0x6200, 0x8e);
    idt32(m, EXC_UD, G_CODE32, 0x6100, 0x0e);
    c->rip = 0x1000;
    vp_deliver_event(c, EXC_UD, EV_HWEXC, false, 0, 0);
    ck_assert_uint_eq(c->rip, 0x6200);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), EXC_UD * 8 + 2 + 1);

    /* Software INT n through a missing gate: #NP, not #DF. */
    c->gpr[R_SP] = T_STACK0;
    c->insn_rip = 0x2000;
    idt32(m, 0x50, G_CODE32, 0x6000, 0x6e);         /* DPL 3, not present */
    vp_deliver_event(c, 0x50, EV_SWINT, false, 0, 0x2002);
    ck_assert_uint_eq(c->rip, 0x6200);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), 0x50 * 8 + 2);
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP] + 4), 0x2000);
    vp_machine_destroy(m);
}
END_TEST

/* A fault while delivering #DF shuts the processor down. */
START_TEST(test_triple_fault)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    idt32(m, EXC_GP, G_CODE32, 0x6100, 0x0e);
    idt32(m, EXC_DF, G_CODE32, 0x6800, 0x0e);
    c->rip = 0x1000;
    vp_deliver_event(c, EXC_GP, EV_HWEXC, true, 0, 0);
    ck_assert(c->shutdown);
    ck_assert(c->halted);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0);
    ck_assert_int_eq(c->delivering, -1);
    vp_machine_destroy(m);

    /* Real mode: an IVT limit too small for every vector. */
    m = unit_machine(16);
    c = m->cpus[0];
    real16(c);
    c->idtr.limit = 0;
    vp_deliver_event(c, EXC_GP, EV_HWEXC, false, 0, 0);
    ck_assert(c->shutdown);
    vp_machine_destroy(m);
}
END_TEST

/* The machine stops with VP_STOP_SHUTDOWN when a guest triple-faults. */
START_TEST(test_triple_fault_machine)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    c->idtr.limit = 0;
    static const uint8_t code[] = {0x0f, 0x0b};   /* ud2 */
    ck_assert_int_eq(vp_phys_load(&m->mem, T_CODE, code, sizeof(code)), 0);
    vp_stop why = vp_machine_run(m, 1000);
    ck_assert_int_eq(why, VP_STOP_SHUTDOWN);
    vp_machine_destroy(m);
}
END_TEST

/* ---- task gates ------------------------------------------------------- */

static void task2_setup(vp_machine *m)
{
    /* The new task: flat ring-0 segments, EIP 0x7700, ESP 0x7f00. */
    for (unsigned i = 0; i < 0x68; i += 4)
        vp_phys_write_n(&m->mem, T_TSS2 + i, 0, 4);
    vp_phys_write_n(&m->mem, T_TSS2 + 0x20, 0x7700, 4);      /* EIP */
    vp_phys_write_n(&m->mem, T_TSS2 + 0x24, FL_FIXED1, 4);   /* EFLAGS */
    vp_phys_write_n(&m->mem, T_TSS2 + 0x28, 0xaaaa, 4);      /* EAX */
    vp_phys_write_n(&m->mem, T_TSS2 + 0x38, 0x7f00, 4);      /* ESP */
    static const uint16_t segs[6] = {G_DATA32, G_CODE32, G_DATA32,
                                     G_DATA32, G_DATA32, G_DATA32};
    for (int s = 0; s < 6; s++)
        vp_phys_write_n(&m->mem, T_TSS2 + 0x48 + 4u * (unsigned)s, segs[s],
                        2);
}

START_TEST(test_task_gate_interrupt)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x67, 0x8b, 0));   /* busy: current */
    task2_setup(m);
    wr64(m, T_IDT + 8 * EXC_DF, mkgate(G_TSS2, 0, 0x85, 0));
    c->gpr[R_AX] = 0x1234;
    c->rip = 0x1000;
    vp_deliver_event(c, EXC_DF, EV_HWEXC, true, 0, 0);
    ck_assert_int_eq(c->tr.sel, G_TSS2);
    ck_assert_uint_eq(c->rip, 0x7700);
    ck_assert_uint_eq(c->gpr[R_AX], 0xaaaa);
    ck_assert(c->flags & FL_NT);
    ck_assert(c->cr0 & CR0_TS);
    /* The error code is pushed on the new task's stack. */
    ck_assert_uint_eq(c->gpr[R_SP], 0x7f00 - 4);
    ck_assert_uint_eq(rd32(m, 0x7f00 - 4), 0);
    /* Back link and busy bits; the old state saved in the old TSS. */
    ck_assert_uint_eq(rd(m, T_TSS2, 2), G_TSS);
    ck_assert_uint_eq(rd(m, T_GDT + G_TSS2 + 5, 1) & 0xf, 0xb);
    ck_assert_uint_eq(rd(m, T_GDT + G_TSS + 5, 1) & 0xf, 0xb);
    ck_assert_uint_eq(rd32(m, T_TSS + 0x20), 0x1000);
    ck_assert_uint_eq(rd32(m, T_TSS + 0x28), 0x1234);

    /* IRET with NT returns to the old task and frees the new TSS. */
    ck_assert_int_eq(vp_iret(c, 4), VP_OK);
    ck_assert_int_eq(c->tr.sel, G_TSS);
    ck_assert_uint_eq(c->rip, 0x1000);
    ck_assert_uint_eq(c->gpr[R_AX], 0x1234);
    ck_assert(!(c->flags & FL_NT));
    ck_assert_uint_eq(rd(m, T_GDT + G_TSS2 + 5, 1) & 0xf, 0x9);
    vp_machine_destroy(m);
}
END_TEST

/* JMP to a TSS: the old TSS is freed, no link, NT clear; JMP to a busy
 * TSS is #GP(selector). */
START_TEST(test_task_jmp)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x67, 0x8b, 0));
    task2_setup(m);
    c->rip = 0x1005;
    ck_assert_int_eq(vp_far_jmp(c, G_TSS2, 0), VP_OK);
    ck_assert_int_eq(c->tr.sel, G_TSS2);
    ck_assert_uint_eq(c->rip, 0x7700);
    ck_assert(!(c->flags & FL_NT));
    ck_assert_uint_eq(rd(m, T_GDT + G_TSS + 5, 1) & 0xf, 0x9);
    ck_assert_uint_eq(rd32(m, T_TSS + 0x20), 0x1005);
    ck_assert_int_eq(vp_far_jmp(c, G_TSS2, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_TSS2);
    /* Through a task gate. */
    ck_assert_int_eq(vp_far_jmp(c, G_TASKGATE, 0), VP_EXC);   /* busy */
    ck_exc(c, EXC_GP, G_TSS2);
    vp_machine_destroy(m);
}
END_TEST

/* The T flag of the new TSS (bit 0 at offset 0x64): #DB once the switch
 * is complete, delivered in the new task before its first instruction,
 * with DR6.BT set (SDM Vol 3A, "Task-State Segment (TSS)"). */
START_TEST(test_task_trap_flag)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x67, 0x8b, 0));
    task2_setup(m);
    vp_phys_write_n(&m->mem, T_TSS2 + 0x64, 1, 2);           /* T */
    wr64(m, T_IDT + 8 * EXC_DB, mkgate(G_CODE32, 0x7800, 0x8e, 0));
    c->rip = 0x1005;
    ck_assert_int_eq(vp_far_jmp(c, G_TSS2, 0), VP_OK);
    ck_assert_int_eq(c->tr.sel, G_TSS2);
    ck_assert_uint_eq(c->rip, 0x7800);                        /* in #DB */
    ck_assert(c->dr[6] & (1ull << 15));                       /* BT */
    /* The frame returns to the new task's first instruction. */
    ck_assert_uint_eq(rd32(m, c->gpr[R_SP]), 0x7700);
    vp_machine_destroy(m);
}
END_TEST

/* ---- through the interpreter ------------------------------------------ */

/* INT 0x80 in 64-bit mode to a handler that sets EAX and returns with
 * IRETQ; the program then halts. */
START_TEST(test_exec_int_iretq)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    idt64(m, 0x80, G_CODE64, 0x40000, 0x8e, 0);
    static const uint8_t main_code[] = {0xcd, 0x80, 0xf4};   /* int; hlt */
    static const uint8_t handler[] = {0xb8, 0x2a, 0, 0, 0,   /* mov eax,42 */
                                      0x48, 0xcf};           /* iretq */
    ck_assert_int_eq(vp_phys_load(&m->mem, T_CODE, main_code,
                                  sizeof(main_code)), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, 0x40000, handler,
                                  sizeof(handler)), 0);
    vp_cpu_exec(c, 100);
    ck_assert(c->halted);
    ck_assert_uint_eq(c->gpr[R_AX], 42);
    ck_assert_uint_eq(c->rip, T_CODE + 3);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0);
    vp_machine_destroy(m);
}
END_TEST

/* A #UD raised by the interpreter pushes the faulting RIP. */
START_TEST(test_exec_fault_rip)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    idt64(m, EXC_UD, G_CODE64, 0x40000, 0x8e, 0);
    static const uint8_t main_code[] = {0x90, 0x0f, 0x0b};   /* nop; ud2 */
    static const uint8_t handler[] = {0xf4};
    ck_assert_int_eq(vp_phys_load(&m->mem, T_CODE, main_code,
                                  sizeof(main_code)), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, 0x40000, handler,
                                  sizeof(handler)), 0);
    vp_cpu_exec(c, 100);
    ck_assert(c->halted);
    ck_assert_uint_eq(rd(m, c->gpr[R_SP], 8), T_CODE + 1);
    ck_assert(rd(m, c->gpr[R_SP] + 16, 8) & FL_RF);
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_cpu_sys_intr(void)
{
    Suite *s = suite_create("cpu_sys_intr");
    TCase *tc = tcase_create("intr");
    tcase_add_test(tc, test_real_mode_int);
    tcase_add_test(tc, test_prot_same_privilege);
    tcase_add_test(tc, test_prot_inter_privilege);
    tcase_add_test(tc, test_prot_error_codes);
    tcase_add_test(tc, test_iret_flag_rules);
    tcase_add_test(tc, test_v86_interrupt);
    tcase_add_test(tc, test_long_mode_delivery);
    tcase_add_test(tc, test_long_mode_align_ist);
    tcase_add_test(tc, test_long_mode_bad_gate);
    tcase_add_test(tc, test_double_fault);
    tcase_add_test(tc, test_triple_fault);
    tcase_add_test(tc, test_triple_fault_machine);
    tcase_add_test(tc, test_task_gate_interrupt);
    tcase_add_test(tc, test_task_jmp);
    tcase_add_test(tc, test_task_trap_flag);
    tcase_add_test(tc, test_exec_int_iretq);
    tcase_add_test(tc, test_exec_fault_rip);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_sys_intr)
