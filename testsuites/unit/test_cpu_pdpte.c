/* PAE paging's PDPTE registers (SDM Vol 3A, "PDPTE Registers"): loaded by
 * MOV to CR3 (and CR0/CR4), used by every walk until the next load, so a
 * later change to the table in memory is not seen until CR3 is written
 * again; a present PDPTE with reserved bits makes the MOV fault. */
#include "testsuites/unit/lib/unit.h"

#include "emu/cpu/insn.h"

#define PDPT 0x10000ull
#define PD 0x12000ull

static vp_cpu *pae_cpu(vp_machine *m)
{
    vp_cpu *c = m->cpus[0];
    vp_cpu_setup_multiboot(c, 0, 0, 0x100000);
    uint64_t pdpte = PD | 1, pde = 0x200000 | 0x83; /* 2 MiB page */
    ck_assert_int_eq(vp_phys_load(&m->mem, PDPT, &pdpte, 8), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, PD, &pde, 8), 0);
    ck_assert_int_eq(vp_write_cr(c, 3, PDPT), VP_OK);
    ck_assert_int_eq(vp_write_cr(c, 4, CR4_PAE), VP_OK);
    ck_assert_int_eq(vp_write_cr(c, 0, c->cr0 | CR0_PG), VP_OK);
    return c;
}

static int walk(vp_cpu *c, uint64_t lin, uint64_t *gpa)
{
    vp_walk w;
    uint32_t err;
    int r = vp_page_walk(c, lin, ACC_READ, false, false, &w, &err);
    *gpa = w.gpa;
    return r;
}

START_TEST(test_registers_not_memory)
{
    vp_machine *m = unit_machine(64);
    vp_cpu *c = pae_cpu(m);
    uint64_t gpa = 0, zero = 0;
    ck_assert_int_eq(walk(c, 0x1234, &gpa), 0);
    ck_assert_uint_eq(gpa, 0x201234);
    /* Clear the PDPTE in memory: the register still maps the address. */
    ck_assert_int_eq(vp_phys_load(&m->mem, PDPT, &zero, 8), 0);
    ck_assert_int_eq(walk(c, 0x1234, &gpa), 0);
    /* Reloading CR3 loads the (now not present) PDPTE: the walk faults. */
    ck_assert_int_eq(vp_write_cr(c, 3, PDPT), VP_OK);
    ck_assert_int_ne(walk(c, 0x1234, &gpa), 0);
    vp_machine_destroy(m);
}
END_TEST

START_TEST(test_reserved_bits_fault_on_load)
{
    vp_machine *m = unit_machine(64);
    vp_cpu *c = pae_cpu(m);
    /* A second table whose PDPTE 1 has bit 5 (reserved) set. */
    uint64_t good = PD | 1, bad = PD | 1 | (1ull << 5);
    ck_assert_int_eq(vp_phys_load(&m->mem, PDPT + 0x1000, &good, 8), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, PDPT + 0x1008, &bad, 8), 0);
    ck_assert_int_eq(vp_write_cr(c, 3, PDPT + 0x1000), VP_EXC);
    ck_assert_int_eq(c->exc.vector, EXC_GP);
    ck_assert_uint_eq(c->cr3, PDPT); /* unchanged by the faulting MOV */
    /* Not present entries may hold anything. */
    bad &= ~1ull;
    ck_assert_int_eq(vp_phys_load(&m->mem, PDPT + 0x1008, &bad, 8), 0);
    ck_assert_int_eq(vp_write_cr(c, 3, PDPT + 0x1000), VP_OK);
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_pdpte(void)
{
    Suite *s = suite_create("cpu_pdpte");
    TCase *tc = tcase_create("pdpte");
    tcase_add_test(tc, test_registers_not_memory);
    tcase_add_test(tc, test_reserved_bits_fault_on_load);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_pdpte)
