/* Segmentation: descriptor decoding, segment-register loads with each
 * fault and error code, far JMP/CALL/RET (call gates with stack switch and
 * parameter copy, returns to outer privilege) and the I/O permission
 * bitmap. Expected outcomes are the SDM's (Vol 3A "Segment Descriptors",
 * "Privilege Level Checking When Accessing Data Segments", "... Loading the
 * SS Register", "Call Gates"; Vol 2 MOV, JMP, CALL, RET, IN). */
#include "testsuites/unit/test_cpu_sys.h"

/* ---- vp_desc_to_seg -------------------------------------------------- */

static const struct {
    const char *name;
    uint64_t lo, hi;
    uint64_t base;
    uint32_t limit, attr;
} desc_vecs[] = {
    {"flat 32-bit code, 4-KiB granular", 0x00cf9b000000ffffull, 0, 0,
     0xffffffff, 0xc09b},
    {"byte-granular data with a base", 0x12009334567801ffull, 0,
     0x12345678, 0x001ff, 0x0093},
    {"64-bit code has L", 0x00af9b000000ffffull, 0, 0, 0xffffffff, 0xa09b},
    {"AVL lands in bit 12", 0x001f93000000ffffull, 0, 0, 0xfffff, 0x1093},
    {"expand-down 16-bit data", 0x000097000000fff0ull, 0, 0, 0xfff0,
     0x0097},
    {"64-bit TSS takes base 63:32 from hi", 0x0000890030000067ull,
     0xffff8000ull, 0xffff800000003000ull, 0x67, 0x89},
    {"hi ignored for code and data", 0x00cf93000000ffffull, 0xdeadbeefull,
     0, 0xffffffff, 0xc093},
    {"not present DPL 3", 0x0040720000000fffull, 0, 0, 0xfff, 0x4072},
};

START_TEST(test_desc_to_seg)
{
    vp_seg s;
    for (size_t i = 0; i < VP_ARRAY_SIZE(desc_vecs); i++) {
        vp_desc_to_seg(desc_vecs[i].lo, desc_vecs[i].hi, 0x1234, &s);
        ck_assert_msg(s.base == desc_vecs[i].base, "%s: base %#llx",
                      desc_vecs[i].name, (unsigned long long)s.base);
        ck_assert_msg(s.limit == desc_vecs[i].limit, "%s: limit %#x",
                      desc_vecs[i].name, s.limit);
        ck_assert_msg(s.attr == desc_vecs[i].attr, "%s: attr %#x",
                      desc_vecs[i].name, s.attr);
        ck_assert_int_eq(s.sel, 0x1234);
    }
}
END_TEST

/* ---- segment-register loads ------------------------------------------ */

typedef struct load_vec {
    const char *name;
    unsigned cpl;
    int seg;
    uint16_t sel;
    int vec;          /* -1: loads */
    uint32_t err;
} load_vec;

static const load_vec load_vecs[] = {
    {"DS flat data", 0, S_DS, G_DATA32, -1, 0},
    {"DS null is allowed", 0, S_DS, 0, -1, 0},
    {"DS null with RPL 3", 3, S_DS, 3, -1, 0},
    {"DS readable code", 0, S_DS, G_CODE32, -1, 0},
    {"DS execute-only code", 0, S_DS, G_CODE_XO, EXC_GP, G_CODE_XO},
    {"DS not present", 0, S_DS, G_DATA_NP, EXC_NP, G_DATA_NP},
    {"DS beyond the GDT limit", 0, S_DS, G_END, EXC_GP, G_END},
    {"DS system descriptor", 0, S_DS, G_TSS, EXC_GP, G_TSS},
    {"DS DPL 0 from CPL 3", 3, S_ES, G_DATA32 | 3, EXC_GP, G_DATA32},
    {"DS RPL above DPL", 0, S_FS, G_DATA_DPL1 | 2, EXC_GP, G_DATA_DPL1},
    {"DS conforming code from CPL 3", 3, S_GS, G_CONF | 3, -1, 0},
    {"DS LDT selector without an LDT", 0, S_DS, 0x0c, EXC_GP, 0x0c},
    {"SS null in 32-bit mode", 0, S_SS, 0, EXC_GP, 0},
    {"SS read-only data", 0, S_SS, G_DATA_RO, EXC_GP, G_DATA_RO},
    {"SS RPL != CPL", 0, S_SS, G_DATA32 | 1, EXC_GP, G_DATA32},
    {"SS DPL != CPL", 0, S_SS, G_DATA_DPL1, EXC_GP, G_DATA_DPL1},
    {"SS code segment", 0, S_SS, G_CODE32, EXC_GP, G_CODE32},
    {"SS not present", 0, S_SS, G_DATA_NP, EXC_SS, G_DATA_NP},
    {"SS ring 3 stack at CPL 3", 3, S_SS, G_DATA32_U | 3, -1, 0},
    {"SS ring 3 stack at CPL 0", 0, S_SS, G_DATA32_U | 3, EXC_GP, G_DATA32_U},
};

START_TEST(test_load_seg)
{
    const load_vec *v = &load_vecs[_i];
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, v->cpl);
    vp_seg before = c->seg[v->seg];
    int r = vp_load_seg(c, v->seg, v->sel);
    if (v->vec < 0) {
        ck_assert_msg(r == VP_OK, "%s: faulted %d(%#x)", v->name,
                      c->exc.vector, c->exc.error);
        ck_assert_int_eq(c->seg[v->seg].sel, v->sel);
        if (!(v->sel & ~3u))
            ck_assert(c->seg[v->seg].attr & SEGA_UNUSABLE);
    } else {
        ck_assert_msg(r == VP_EXC, "%s: loaded", v->name);
        ck_assert_msg(c->exc.vector == v->vec && c->exc.error == v->err,
                      "%s: got %d(%#x), want %d(%#x)", v->name, c->exc.vector,
                      c->exc.error, v->vec, v->err);
        ck_assert_msg(memcmp(&before, &c->seg[v->seg], sizeof(before)) == 0,
                      "%s: register changed on a fault", v->name);
    }
    vp_machine_destroy(m);
}
END_TEST

/* The accessed bit is set in the descriptor in memory. */
START_TEST(test_load_seg_accessed)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    set_gdt(m, G_DATA_DPL1, mkdesc(0x5000, 0xfff, 0x92, 0x4));
    ck_assert_int_eq(vp_load_seg(c, S_DS, G_DATA_DPL1), VP_OK);
    ck_assert_int_eq(rd(m, T_GDT + G_DATA_DPL1 + 5, 1), 0x93);
    ck_assert_uint_eq(c->seg[S_DS].base, 0x5000);
    ck_assert_uint_eq(c->seg[S_DS].limit, 0xfff);
    ck_assert_uint_eq(c->seg[S_DS].attr, 0x4093);
    vp_machine_destroy(m);
}
END_TEST

/* LDT selectors go through LDTR. */
START_TEST(test_load_seg_ldt)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    cache_seg(c, &c->ldtr, G_LDT);
    wr64(m, T_LDT + 8, mkdesc(0x6000, 0xff, 0x93, 0x4));
    ck_assert_int_eq(vp_load_seg(c, S_ES, 0x0c), VP_OK);
    ck_assert_uint_eq(c->seg[S_ES].base, 0x6000);
    /* Index 4 is beyond the LDT limit 0x1f. */
    ck_assert_int_eq(vp_load_seg(c, S_ES, 0x24), VP_EXC);
    ck_exc(c, EXC_GP, 0x24);
    vp_machine_destroy(m);
}
END_TEST

/* Real mode: base = selector * 16, limit and attributes kept ("unreal");
 * virtual-8086 mode forces a 64-KiB DPL-3 data segment. */
START_TEST(test_load_seg_real_v86)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    real16(c);
    c->seg[S_DS].limit = 0xffffffff;
    ck_assert_int_eq(vp_load_seg(c, S_DS, 0x1234), VP_OK);
    ck_assert_uint_eq(c->seg[S_DS].base, 0x12340);
    ck_assert_uint_eq(c->seg[S_DS].limit, 0xffffffff);

    prot32(c, 0);
    c->flags |= FL_VM;
    vp_update_mode(c);
    ck_assert(c->v86);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(vp_load_seg(c, S_FS, 0xb800), VP_OK);
    ck_assert_uint_eq(c->seg[S_FS].base, 0xb8000);
    ck_assert_uint_eq(c->seg[S_FS].limit, 0xffff);
    ck_assert_uint_eq(c->seg[S_FS].attr, 0xf3);
    vp_machine_destroy(m);
}
END_TEST

/* 64-bit mode: null SS at CPL < 3 with RPL = CPL; FS null clears the
 * base on Intel and keeps it on AMD. */
static vp_machine *machine_model(const char *model)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = 16ull << 20;
    cfg.ncpus = 1;
    cfg.cpu_model = model;
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    return m;
}

START_TEST(test_load_seg_64)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    ck_assert_int_eq(c->code_size, 8);
    ck_assert_int_eq(vp_load_seg(c, S_SS, 0), VP_OK);
    ck_assert(c->seg[S_SS].attr & SEGA_UNUSABLE);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_int_eq(vp_load_seg(c, S_SS, 1), VP_EXC);   /* RPL != CPL */
    ck_exc(c, EXC_GP, 0);
    c->seg[S_FS].base = 0x1234000;
    ck_assert_int_eq(vp_load_seg(c, S_FS, 0), VP_OK);
    ck_assert_uint_eq(c->seg[S_FS].base, 0);
    vp_machine_destroy(m);

    m = machine_model("vp-amd");
    c = m->cpus[0];
    long64(c, 0);
    c->seg[S_FS].base = 0x1234000;
    ck_assert_int_eq(vp_load_seg(c, S_FS, 0), VP_OK);
    ck_assert_uint_eq(c->seg[S_FS].base, 0x1234000);
    vp_machine_destroy(m);

    m = unit_machine(16);
    c = m->cpus[0];
    long64(c, 3);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(vp_load_seg(c, S_SS, 3), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    vp_machine_destroy(m);
}
END_TEST

/* ---- far JMP ---------------------------------------------------------- */

START_TEST(test_far_jmp)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    ck_assert_int_eq(vp_far_jmp(c, G_CODE16, 0x1234), VP_OK);
    ck_assert_uint_eq(c->rip, 0x1234);
    ck_assert_int_eq(c->code_size, 2);
    ck_assert_int_eq(c->seg[S_CS].sel, G_CODE16);

    /* Offset beyond the 64-KiB limit: #GP(0), nothing changes. */
    vp_seg cs = c->seg[S_CS];
    ck_assert_int_eq(vp_far_jmp(c, G_CODE32, 0x5678), VP_OK);
    cs = c->seg[S_CS];
    ck_assert_int_eq(vp_far_jmp(c, G_CODE16, 0x10000), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    ck_assert_int_eq(c->seg[S_CS].sel, cs.sel);
    ck_assert_uint_eq(c->rip, 0x5678);
    ck_assert_int_eq(c->code_size, 4);

    ck_assert_int_eq(vp_far_jmp(c, G_DATA32, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_DATA32);
    ck_assert_int_eq(vp_far_jmp(c, 0, 0), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* Nonconforming DPL 3 from CPL 0. */
    ck_assert_int_eq(vp_far_jmp(c, G_CODE32_U | 3, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_CODE32_U);
    /* Not-present code segment: #NP. */
    set_gdt(m, G_DATA_DPL1, mkdesc(0, 0xfffff, 0x1b, 0xc));
    ck_assert_int_eq(vp_far_jmp(c, G_DATA_DPL1, 0), VP_EXC);
    ck_exc(c, EXC_NP, G_DATA_DPL1);
    vp_machine_destroy(m);

    /* Conforming code keeps CPL 3; CS.RPL becomes CPL. */
    m = unit_machine(16);
    c = m->cpus[0];
    prot32(c, 3);
    ck_assert_int_eq(vp_far_jmp(c, G_CONF, 0x100), VP_OK);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->seg[S_CS].sel, G_CONF | 3);
    /* JMP through a call gate never changes privilege. */
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32, 0x5000, 0xec, 0));
    ck_assert_int_eq(vp_far_jmp(c, G_CALLGATE | 3, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_CODE32);
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32_U, 0x5000, 0xec, 0));
    ck_assert_int_eq(vp_far_jmp(c, G_CALLGATE | 3, 0), VP_OK);
    ck_assert_uint_eq(c->rip, 0x5000);
    ck_assert_int_eq(c->seg[S_CS].sel, G_CODE32_U | 3);
    vp_machine_destroy(m);
}
END_TEST

/* Real mode far JMP loads CS like a real-mode segment. */
START_TEST(test_far_jmp_real)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    real16(c);
    ck_assert_int_eq(vp_far_jmp(c, 0x1000, 0x20), VP_OK);
    ck_assert_uint_eq(c->seg[S_CS].base, 0x10000);
    ck_assert_uint_eq(c->rip, 0x20);
    ck_assert_int_eq(c->code_size, 2);
    vp_machine_destroy(m);
}
END_TEST

/* ---- far CALL / RET --------------------------------------------------- */

START_TEST(test_far_call_same)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    c->rip = 0x11223344;
    ck_assert_int_eq(vp_far_call(c, G_CODE32, 0x4000, 4), VP_OK);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0 - 8);
    ck_assert_uint_eq(rd(m, T_STACK0 - 8, 4), 0x11223344);
    ck_assert_uint_eq(rd(m, T_STACK0 - 4, 4), G_CODE32);
    ck_assert_uint_eq(c->rip, 0x4000);
    ck_assert_int_eq(vp_far_ret(c, 4, 0), VP_OK);
    ck_assert_uint_eq(c->rip, 0x11223344);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0);

    /* 16-bit call from real mode. */
    real16(c);
    c->rip = 0x7c05;
    ck_assert_int_eq(vp_far_call(c, 0x2000, 0x10, 2), VP_OK);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK0 - 4);
    ck_assert_uint_eq(rd(m, T_STACK0 - 4, 2), 0x7c05);
    ck_assert_uint_eq(rd(m, T_STACK0 - 2, 2), 0);
    ck_assert_uint_eq(c->seg[S_CS].base, 0x20000);
    ck_assert_int_eq(vp_far_ret(c, 2, 0), VP_OK);
    ck_assert_uint_eq(c->rip, 0x7c05);
    ck_assert_uint_eq(c->seg[S_CS].base, 0);
    vp_machine_destroy(m);
}
END_TEST

/* CALL through a 32-bit call gate from ring 3 to ring 0 with two
 * parameters, then RETF 8 back (SDM Vol 3A, "Stack Switching",
 * "Returning from a Called Procedure"). */
START_TEST(test_call_gate_32)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32, 0x5000, 0xec, 2));
    uint64_t sp3 = T_STACK3 - 8;
    c->gpr[R_SP] = sp3;
    vp_phys_write_n(&m->mem, sp3, 0x11111111, 4);
    vp_phys_write_n(&m->mem, sp3 + 4, 0x22222222, 4);
    c->rip = 0x1234;
    ck_assert_int_eq(vp_far_call(c, G_CALLGATE | 3, 0, 4), VP_OK);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_int_eq(c->seg[S_CS].sel, G_CODE32);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32);
    ck_assert_uint_eq(c->rip, 0x5000);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 24);
    ck_assert_uint_eq(rd(m, sp, 4), 0x1234);                 /* EIP */
    ck_assert_uint_eq(rd(m, sp + 4, 4), G_CODE32_U | 3);     /* CS */
    ck_assert_uint_eq(rd(m, sp + 8, 4), 0x11111111);         /* param 0 */
    ck_assert_uint_eq(rd(m, sp + 12, 4), 0x22222222);        /* param 1 */
    ck_assert_uint_eq(rd(m, sp + 16, 4), sp3);               /* ESP */
    ck_assert_uint_eq(rd(m, sp + 20, 4), G_DATA32_U | 3);    /* SS */

    /* Ring 0 loads a DPL-0 data segment into DS; the return to ring 3
     * must null it. */
    ck_assert_int_eq(vp_load_seg(c, S_DS, G_DATA32), VP_OK);
    ck_assert_int_eq(vp_far_ret(c, 4, 8), VP_OK);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_uint_eq(c->rip, 0x1234);
    ck_assert_uint_eq(c->gpr[R_SP], sp3 + 8);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32_U | 3);
    ck_assert_int_eq(c->seg[S_DS].sel, 0);
    ck_assert(c->seg[S_DS].attr & SEGA_UNUSABLE);
    ck_assert_int_eq(c->seg[S_ES].sel, G_DATA32_U | 3);
    vp_machine_destroy(m);
}
END_TEST

/* Call-gate faults: gate DPL < CPL, gate not present, bad TSS stack. */
START_TEST(test_call_gate_faults)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32, 0x5000, 0x8c, 0));  /* DPL 0 */
    ck_assert_int_eq(vp_far_call(c, G_CALLGATE | 3, 0, 4), VP_EXC);
    ck_exc(c, EXC_GP, G_CALLGATE);
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32, 0x5000, 0x6c, 0));  /* !P */
    ck_assert_int_eq(vp_far_call(c, G_CALLGATE | 3, 0, 4), VP_EXC);
    ck_exc(c, EXC_NP, G_CALLGATE);
    /* TSS SS0 read-only: #TS(SS0). */
    set_gdt(m, G_CALLGATE, mkgate(G_CODE32, 0x5000, 0xec, 0));
    wr64(m, T_TSS + 4, T_STACK0 | ((uint64_t)G_DATA_RO << 32));
    uint64_t sp = c->gpr[R_SP];
    ck_assert_int_eq(vp_far_call(c, G_CALLGATE | 3, 0, 4), VP_EXC);
    ck_exc(c, EXC_TS, G_DATA_RO);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_uint_eq(c->gpr[R_SP], sp);
    ck_assert_int_eq(c->seg[S_SS].sel, G_DATA32_U | 3);
    vp_machine_destroy(m);
}
END_TEST

/* 64-bit call gate from CPL 3: RSP0 from the TSS, null SS, 8-byte frame;
 * RETF (REX.W) back to ring 3. */
START_TEST(test_call_gate_64)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 3);
    c->rip = 0x123456;
    ck_assert_int_eq(vp_far_call(c, G_CALLGATE64 | 3, 0, 8), VP_OK);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_uint_eq(c->rip, 0x40000);
    ck_assert_int_eq(c->seg[S_SS].sel, 0);
    uint64_t sp = c->gpr[R_SP];
    ck_assert_uint_eq(sp, T_STACK0 - 32);
    ck_assert_uint_eq(rd(m, sp, 8), 0x123456);
    ck_assert_uint_eq(rd(m, sp + 8, 8), G_CODE64_U | 3);
    ck_assert_uint_eq(rd(m, sp + 16, 8), T_STACK3);
    ck_assert_uint_eq(rd(m, sp + 24, 8), G_DATA32_U | 3);
    ck_assert_int_eq(vp_far_ret(c, 8, 0), VP_OK);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->code_size, 8);
    ck_assert_uint_eq(c->rip, 0x123456);
    ck_assert_uint_eq(c->gpr[R_SP], T_STACK3);
    vp_machine_destroy(m);
}
END_TEST

/* RETF to an outer level with a bad SS: #GP(SS), nothing changes. */
START_TEST(test_far_ret_faults)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    uint64_t sp = T_STACK0 - 16;
    c->gpr[R_SP] = sp;
    vp_phys_write_n(&m->mem, sp, 0x100, 4);
    vp_phys_write_n(&m->mem, sp + 4, G_CODE32_U | 3, 4);
    vp_phys_write_n(&m->mem, sp + 8, T_STACK3, 4);
    vp_phys_write_n(&m->mem, sp + 12, G_DATA32 | 3, 4);   /* DPL 0 */
    ck_assert_int_eq(vp_far_ret(c, 4, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_DATA32);
    ck_assert_uint_eq(c->gpr[R_SP], sp);
    ck_assert_int_eq(c->cpl, 0);
    /* Return to a more privileged level: #GP(CS). */
    vp_phys_write_n(&m->mem, sp + 4, G_CODE32_U | 3, 4);
    prot32(c, 3);
    c->gpr[R_SP] = sp;
    vp_phys_write_n(&m->mem, sp + 4, G_CODE32, 4);
    ck_assert_int_eq(vp_far_ret(c, 4, 0), VP_EXC);
    ck_exc(c, EXC_GP, G_CODE32);
    vp_machine_destroy(m);
}
END_TEST

/* ---- I/O permission bitmap -------------------------------------------- */

START_TEST(test_io_bitmap)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 3);
    /* No bitmap (base beyond the limit): every port is denied. */
    ck_assert_int_eq(vp_io_allowed(c, 0x60, 1), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* A bitmap of 0x400 ports allowing 0x60 and 0x61 only. */
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x68 + 0x80, 0x8b, 0));
    cache_seg(c, &c->tr, G_TSS);
    for (unsigned i = 0; i < 0x80; i++)
        vp_phys_write_n(&m->mem, T_TSS + 0x68 + i, 0xff, 1);
    vp_phys_write_n(&m->mem, T_TSS + 0x68 + 0x60 / 8, 0xfc, 1);
    ck_assert_int_eq(vp_io_allowed(c, 0x60, 1), VP_OK);
    ck_assert_int_eq(vp_io_allowed(c, 0x60, 2), VP_OK);
    ck_assert_int_eq(vp_io_allowed(c, 0x61, 2), VP_EXC);   /* 0x62 denied */
    ck_exc(c, EXC_GP, 0);
    ck_assert_int_eq(vp_io_allowed(c, 0x5f, 1), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* Port 0x400's bitmap byte lies beyond the TSS limit. */
    ck_assert_int_eq(vp_io_allowed(c, 0x400, 1), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* CPL <= IOPL: no bitmap check. */
    c->flags |= FL_IOPL;
    ck_assert_int_eq(vp_io_allowed(c, 0x3f8, 1), VP_OK);
    /* Virtual-8086 mode checks the bitmap whatever IOPL is. */
    c->flags |= FL_VM;
    vp_update_mode(c);
    ck_assert_int_eq(vp_io_allowed(c, 0x3f8, 1), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    ck_assert_int_eq(vp_io_allowed(c, 0x61, 1), VP_OK);
    /* Real mode: always allowed. */
    real16(c);
    ck_assert_int_eq(vp_io_allowed(c, 0x3f8, 1), VP_OK);
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_cpu_sys_seg(void)
{
    Suite *s = suite_create("cpu_sys_seg");
    TCase *tc = tcase_create("seg");
    tcase_add_test(tc, test_desc_to_seg);
    tcase_add_loop_test(tc, test_load_seg, 0, (int)VP_ARRAY_SIZE(load_vecs));
    tcase_add_test(tc, test_load_seg_accessed);
    tcase_add_test(tc, test_load_seg_ldt);
    tcase_add_test(tc, test_load_seg_real_v86);
    tcase_add_test(tc, test_load_seg_64);
    tcase_add_test(tc, test_far_jmp);
    tcase_add_test(tc, test_far_jmp_real);
    tcase_add_test(tc, test_far_call_same);
    tcase_add_test(tc, test_call_gate_32);
    tcase_add_test(tc, test_call_gate_faults);
    tcase_add_test(tc, test_call_gate_64);
    tcase_add_test(tc, test_far_ret_faults);
    tcase_add_test(tc, test_io_bitmap);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_sys_seg)
