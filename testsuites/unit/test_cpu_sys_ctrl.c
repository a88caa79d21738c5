/* Control registers: legal and illegal MOV to CR0/CR3/CR4/CR8, IA-32e
 * mode activation and deactivation, PAE PDPTE checks, the TLB flush on a
 * CR3 write, and the mode (CPL, code size) vp_update_mode derives.
 * SDM Vol 3A, "Control Registers", "Initializing IA-32e Mode", "PDPTE
 * Registers"; Vol 2 "MOV - Move to/from Control Registers". */
#include "testsuites/unit/test_cpu_sys.h"

/* Table of CR0/CR4 writes from a given starting state. */
typedef struct cr_vec {
    const char *name;
    int start;          /* 0 real mode, 1 prot32, 2 long64 */
    int n;
    uint64_t val;
    bool ok;
} cr_vec;

static const cr_vec cr_vecs[] = {
    {"CR0 PE", 0, 0, CR0_PE, true},
    {"CR0 PG without PE", 0, 0, CR0_PG, false},
    {"CR0 NW without CD", 0, 0, CR0_NW, false},
    {"CR0 NW with CD", 0, 0, CR0_NW | CR0_CD, true},
    {"CR0 bit 32", 1, 0, VP_BIT(32) | CR0_PE, false},
    {"CR0 paging in 32-bit mode", 1, 0, CR0_PE | CR0_PG, true},
    {"CR0 clear PG in 64-bit mode", 2, 0, CR0_PE, false},
    {"CR4 PSE PGE PAE TSD PCE", 1, 4,
     CR4_PSE | CR4_PGE | CR4_PAE | CR4_TSD | CR4_PCE, true},
    {"CR4 VMXE (VMX not advertised)", 1, 4, CR4_VMXE, false},
    {"CR4 OSFXSR (FXSR not advertised)", 1, 4, CR4_OSFXSR, false},
    {"CR4 VME PVI DE", 1, 4, CR4_VME | CR4_PVI | CR4_DE, true},
    {"CR4 SMEP SMAP", 1, 4, CR4_SMEP | CR4_SMAP, true},
    {"CR4 PCIDE in IA-32e mode", 2, 4, CR4_PAE | CR4_PCIDE, true},
    {"CR4 PCIDE outside IA-32e mode", 1, 4, CR4_PCIDE, false},
    {"CR4 PKE (PKU not on vp-intel)", 1, 4, CR4_PKE, false},
    {"CR4 LA57 (not on vp-intel)", 1, 4, CR4_LA57, false},
    {"CR4 bit 32", 1, 4, VP_BIT(32), false},
    {"CR4 clear PAE in IA-32e mode", 2, 4, 0, false},
    {"CR4 keep PAE in IA-32e mode", 2, 4, CR4_PAE | CR4_PGE, true},
    {"CR3 bit 62 in IA-32e mode", 2, 3, VP_BIT(62) | T_PML4, false},
    {"CR3 MAXPHYADDR bit 39", 2, 3, VP_BIT(39) | T_PML4, false},
    {"CR3 bit 38", 2, 3, VP_BIT(38), true},
    {"CR8 TPR 15", 2, 8, 15, true},
    {"CR8 bit 4", 2, 8, 16, false},
};

static void start_state(vp_cpu *c, int start)
{
    if (start == 0)
        real16(c);
    else if (start == 1)
        prot32(c, 0);
    else
        long64(c, 0);
}

START_TEST(test_cr_vectors)
{
    const cr_vec *v = &cr_vecs[_i];
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    start_state(c, v->start);
    uint64_t before[9] = {c->cr0, 0, c->cr2, c->cr3, c->cr4, 0, 0, 0, c->cr8};
    int r = vp_write_cr(c, v->n, v->val);
    if (v->ok) {
        ck_assert_msg(r == VP_OK, "%s: faulted", v->name);
    } else {
        ck_assert_msg(r == VP_EXC, "%s: accepted", v->name);
        ck_exc(c, EXC_GP, 0);
        uint64_t now[9] = {c->cr0, 0, c->cr2, c->cr3, c->cr4, 0, 0, 0, c->cr8};
        ck_assert_msg(now[v->n] == before[v->n], "%s: CR%d changed", v->name,
                      v->n);
    }
    vp_machine_destroy(m);
}
END_TEST

START_TEST(test_cr0_bits)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    real16(c);
    /* Reserved low bits are ignored and ET reads as 1. */
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE | VP_BIT(6) | VP_BIT(17)),
                     VP_OK);
    ck_assert_uint_eq(c->cr0, CR0_PE | CR0_ET);
    /* The switch to protected mode keeps CPL 0 and 16-bit code until CS
     * is reloaded. */
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_int_eq(c->code_size, 2);
    ck_assert(!c->long_mode && !c->v86);
    /* Unknown control registers: #UD. */
    ck_assert_int_eq(vp_write_cr(c, 1, 0), VP_EXC);
    ck_assert_int_eq(c->exc.vector, EXC_UD);
    ck_assert_int_eq(vp_write_cr(c, 5, 0), VP_EXC);
    ck_assert_int_eq(c->exc.vector, EXC_UD);
    vp_machine_destroy(m);
}
END_TEST

/* IA-32e mode: activation by CR0.PG with EFER.LME and CR4.PAE, then a far
 * jump to 64-bit code; deactivation from compatibility mode. */
START_TEST(test_ia32e_activation)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    wr64(m, T_PML4, (T_PML4 + 0x1000) | 3);
    wr64(m, T_PML4 + 0x1000, 0x83);
    ck_assert_int_eq(vp_write_cr(c, 3, T_PML4), VP_OK);
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000080, EFER_LME), VP_OK);
    /* PG without PAE while LME: #GP. */
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE | CR0_PG), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    ck_assert(!(c->efer & EFER_LMA));
    ck_assert_int_eq(vp_write_cr(c, 4, CR4_PAE), VP_OK);
    /* CS.L = 1 at activation: #GP. */
    vp_seg cs = c->seg[S_CS];
    cache_seg(c, &c->seg[S_CS], G_CODE64);
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE | CR0_PG), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    c->seg[S_CS] = cs;
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE | CR0_PG), VP_OK);
    ck_assert(c->efer & EFER_LMA);
    ck_assert(c->long_mode);
    ck_assert_int_eq(c->code_size, 4);       /* compatibility mode */
    /* LME cannot change while paging is on. */
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000080, 0), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    ck_assert_int_eq(vp_far_jmp(c, G_CODE64, 0x12345), VP_OK);
    ck_assert_int_eq(c->code_size, 8);
    ck_assert_uint_eq(c->rip_mask, ~0ull);
    /* Not from 64-bit mode... */
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* ...but from compatibility mode. */
    ck_assert_int_eq(vp_far_jmp(c, G_CODE32, 0x1000), VP_OK);
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE), VP_OK);
    ck_assert(!(c->efer & EFER_LMA));
    ck_assert(!c->long_mode);
    ck_assert_int_eq(c->code_size, 4);
    vp_machine_destroy(m);
}
END_TEST

/* PAE paging: present PDPTEs with reserved bits make the MOV fault. */
START_TEST(test_pae_pdptes)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    uint64_t pdpt = 0x20000;
    for (int i = 0; i < 4; i++)
        wr64(m, pdpt + 8 * i, 0);
    wr64(m, pdpt, 0x21000 | 1);
    ck_assert_int_eq(vp_write_cr(c, 3, pdpt), VP_OK);
    ck_assert_int_eq(vp_write_cr(c, 4, CR4_PAE), VP_OK);
    ck_assert_int_eq(vp_write_cr(c, 0, CR0_PE | CR0_PG), VP_OK);
    /* Bit 1 (RW) is reserved in a PDPTE. */
    wr64(m, pdpt + 0x40, 0x21000 | 3);
    ck_assert_int_eq(vp_write_cr(c, 3, pdpt + 0x40), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    ck_assert_uint_eq(c->cr3, pdpt);
    /* Not-present entries are not checked. */
    wr64(m, pdpt + 0x40, 0x21000 | 2);
    ck_assert_int_eq(vp_write_cr(c, 3, pdpt + 0x40), VP_OK);
    /* An address bit above MAXPHYADDR (39). */
    wr64(m, pdpt + 0x48, (1ull << 40) | 1);
    ck_assert_int_eq(vp_write_cr(c, 3, pdpt + 0x40), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    /* Outside IA-32e mode CR3 is 32 bits wide. */
    wr64(m, pdpt + 0x48, 0);
    ck_assert_int_eq(vp_write_cr(c, 3, (1ull << 32) | pdpt), VP_OK);
    ck_assert_uint_eq(c->cr3, pdpt);
    vp_machine_destroy(m);
}
END_TEST

/* MOV to CR3 flushes the (non-global) TLB: the new tables are used. */
START_TEST(test_cr3_flush)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    /* Two address spaces mapping 1 GiB (2-MiB pages via a PD) differently
     * at linear 0x40000000. */
    uint64_t a = 0x110000, b = 0x120000;
    for (int k = 0; k < 2; k++) {
        uint64_t pml4 = k ? b : a;
        wr64(m, pml4, (pml4 + 0x1000) | 7);
        wr64(m, pml4 + 0x1000, 0x87);                   /* 0-1G */
        wr64(m, pml4 + 0x1000 + 8, (pml4 + 0x2000) | 7); /* 1-2G */
        wr64(m, pml4 + 0x2000, (k ? 0x400000ull : 0x200000ull) | 0x87);
    }
    wr64(m, 0x200000, 0xaaaa);
    wr64(m, 0x400000, 0xbbbb);
    uint64_t v;
    ck_assert_int_eq(vp_write_cr(c, 3, a), VP_OK);
    ck_assert_int_eq(vp_read_lin(c, 0x40000000, 8, &v, ACC_READ), VP_OK);
    ck_assert_uint_eq(v, 0xaaaa);
    ck_assert_int_eq(vp_write_cr(c, 3, b), VP_OK);
    ck_assert_int_eq(vp_read_lin(c, 0x40000000, 8, &v, ACC_READ), VP_OK);
    ck_assert_uint_eq(v, 0xbbbb);
    vp_machine_destroy(m);
}
END_TEST

/* CR8 is the APIC's TPR[7:4]. */
START_TEST(test_cr8)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    ck_assert_int_eq(vp_write_cr(c, 8, 9), VP_OK);
    ck_assert_uint_eq(c->cr8, 9);
    ck_assert_int_eq(vp_write_cr(c, 8, 0), VP_OK);
    ck_assert_uint_eq(c->cr8, 0);
    vp_machine_destroy(m);
}
END_TEST

/* vp_update_mode: CPL from SS.DPL, V86, code sizes. */
START_TEST(test_update_mode)
{
    vp_machine *m = unit_machine(16);
    vp_cpu *c = m->cpus[0];
    real16(c);
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_uint_eq(c->rip_mask, 0xffff);
    prot32(c, 3);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->code_size, 4);
    ck_assert_uint_eq(c->rip_mask, 0xffffffff);
    c->flags |= FL_VM;
    vp_update_mode(c);
    ck_assert(c->v86);
    ck_assert_int_eq(c->code_size, 2);
    long64(c, 3);
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->code_size, 8);
    /* RFLAGS.VM is ignored in IA-32e mode. */
    c->flags |= FL_VM;
    vp_update_mode(c);
    ck_assert(!c->v86);
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_cpu_sys_ctrl(void)
{
    Suite *s = suite_create("cpu_sys_ctrl");
    TCase *tc = tcase_create("ctrl");
    tcase_add_loop_test(tc, test_cr_vectors, 0, (int)VP_ARRAY_SIZE(cr_vecs));
    tcase_add_test(tc, test_cr0_bits);
    tcase_add_test(tc, test_ia32e_activation);
    tcase_add_test(tc, test_pae_pdptes);
    tcase_add_test(tc, test_cr3_flush);
    tcase_add_test(tc, test_cr8);
    tcase_add_test(tc, test_update_mode);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_sys_ctrl)
