/* The library's debugger support (emu/debug): breakpoints that survive the
 * decoded-instruction cache, watchpoints that see accesses whose pages were
 * in the TLB, exact single-step (also across an exception), and the paging
 * views (one walk level by level, every mapping) in all four paging modes,
 * checked against the CPU's own walk (mmu/paging.c). */
#include <string.h>

#include "emu/cpu/insn.h"
#include "emu/debug/debug.h"
#include "testsuites/unit/lib/unit.h"

#define CODE 0x100000ull
#define DATA 0x200000ull
#define PT 0x1000ull

static vp_machine *m;
static vp_cpu *c;

static void wr(uint64_t a, uint64_t v, unsigned size)
{
    vp_phys_write_n(&m->mem, a, v, size);
}

/* 64-bit mode, identity map of 4 GiB with 2-MiB pages, code at CODE. */
static void setup(void)
{
    m = unit_machine(16);
    c = m->cpus[0];
    ck_assert_int_eq(vp_cpu_setup_long_mode(c, CODE, PT, 4ull << 30, 0x80000),
                     0);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static void code(const uint8_t *bytes, size_t n)
{
    ck_assert_int_eq(vp_phys_load(&m->mem, CODE, bytes, n), 0);
}

static int add(bool watch, bool phys, uint64_t addr, uint64_t len,
               unsigned access)
{
    vp_dbg_point p = {.watch = watch, .phys = phys, .addr = addr, .len = len,
                      .access = access};
    vp_error err;
    int id = vp_debug_add(m, &p, &err);
    ck_assert_int_gt(id, 0);
    return id;
}

/* nop; nop; inc rax; mov [DATA], eax; mov ebx, [DATA]; hlt */
static const uint8_t prog[] = {
    0x90, 0x90, 0x48, 0xff, 0xc0, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00,
    0x8b, 0x1c, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4};
#define AT_INC (CODE + 2)
#define AT_STORE (CODE + 5)
#define AT_LOAD (CODE + 12)
#define AT_HLT (CODE + 19)

START_TEST(breakpoint_survives_decoded_cache)
{
    code(prog, sizeof(prog));
    /* Run once: the block is decoded and cached, the pages are in the TLB. */
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_HALTED);
    ck_assert_uint_eq(c->gpr[R_AX], 1);
    m->stop = VP_STOP_NONE;
    c->halted = false;
    c->rip = CODE;
    int id = add(false, false, AT_INC, 1, 0);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_DEBUG);
    ck_assert_uint_eq(c->rip, AT_INC);          /* before the instruction */
    ck_assert_uint_eq(c->gpr[R_AX], 1);
    const vp_dbg_hit *h = vp_debug_last_hit(m);
    ck_assert_int_eq(h->kind, VP_HIT_BREAK);
    ck_assert_int_eq(h->id, id);
    ck_assert_uint_eq(h->gpa, AT_INC);
    /* Resuming does not hit the same breakpoint again. */
    vp_debug_resume(m);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_HALTED);
    ck_assert_uint_eq(c->gpr[R_AX], 2);
    ck_assert_uint_eq(vp_debug_point(m, 0)->hits, 1);
}
END_TEST

START_TEST(physical_breakpoint_and_removal)
{
    code(prog, sizeof(prog));
    int id = add(false, true, AT_LOAD, 1, 0);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_DEBUG);
    ck_assert_uint_eq(c->rip, AT_LOAD);
    ck_assert_int_eq(vp_debug_remove(m, id), 0);
    ck_assert_int_eq(vp_debug_remove(m, id), -1);
    ck_assert(!c->debug_on);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_HALTED);
}
END_TEST

START_TEST(write_watchpoint_stops_after_the_store)
{
    code(prog, sizeof(prog));
    c->gpr[R_AX] = 0x41;
    /* Warm the data TLB for DATA first: adding the watchpoint flushes it. */
    uint64_t v;
    ck_assert_int_eq(vp_read_lin(c, DATA, 4, &v, ACC_READ), VP_OK);
    ck_assert_int_eq(vp_write_lin(c, DATA, 4, 0, ACC_WRITE), VP_OK);
    int id = add(true, false, DATA + 2, 1, VP_WATCH_WRITE);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_DEBUG);
    ck_assert_uint_eq(c->rip, AT_LOAD);         /* after the instruction */
    const vp_dbg_hit *h = vp_debug_last_hit(m);
    ck_assert_int_eq(h->kind, VP_HIT_WATCH);
    ck_assert_int_eq(h->id, id);
    ck_assert_uint_eq(h->rip, AT_STORE);
    ck_assert_uint_eq(h->lin, DATA);
    ck_assert_uint_eq(h->gpa, DATA);
    ck_assert_uint_eq(h->size, 4);
    ck_assert_uint_eq(h->value, 0x42);
    ck_assert_uint_eq(h->access, VP_WATCH_WRITE);
    /* The load of the same bytes is not a write. */
    vp_debug_resume(m);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_HALTED);
    ck_assert_uint_eq(c->gpr[R_BX], 0x42);
}
END_TEST

START_TEST(read_watchpoint_physical)
{
    code(prog, sizeof(prog));
    add(true, true, DATA, 4, VP_WATCH_READ);
    ck_assert_int_eq(vp_machine_run(m, 0), VP_STOP_DEBUG);
    ck_assert_uint_eq(c->rip, AT_HLT);
    ck_assert_uint_eq(vp_debug_last_hit(m)->rip, AT_LOAD);
    ck_assert_uint_eq(vp_debug_last_hit(m)->access, VP_WATCH_READ);
    ck_assert_uint_eq(c->gpr[R_BX], 1);         /* the load completed */
}
END_TEST

START_TEST(watchpoint_validation)
{
    vp_dbg_point p = {.watch = true, .addr = 0, .len = 0,
                      .access = VP_WATCH_WRITE};
    vp_error err;
    ck_assert_int_eq(vp_debug_add(m, &p, &err), -1);
    p.len = 4;
    p.access = 0;
    ck_assert_int_eq(vp_debug_add(m, &p, &err), -1);
    p.access = VP_WATCH_ACCESS;
    p.addr = ~0ull - 1;
    ck_assert_int_eq(vp_debug_add(m, &p, &err), -1);
    ck_assert_int_eq(vp_debug_count(m), 0);
}
END_TEST

static vp_stop step(void)
{
    vp_debug_resume(m);
    vp_debug_step_begin(m);
    vp_stop why = vp_machine_run(m, 1);
    vp_debug_step_end(m);
    return why;
}

START_TEST(step_runs_one_instruction)
{
    code(prog, sizeof(prog));
    add(false, false, CODE, 1, 0);   /* at the first step's instruction */
    for (int i = 0; i < 3; i++) {
        uint64_t before = c->icount;
        ck_assert_int_eq(step(), VP_STOP_USER);
        ck_assert_uint_eq(c->icount, before + 1);
    }
    ck_assert_uint_eq(c->rip, AT_STORE);
    ck_assert(!c->debug_on || vp_debug_count(m) > 0);
}
END_TEST

START_TEST(step_stops_at_exception_handler)
{
    /* IDT at 0x30000 with #UD (vector 6) -> 0x101000 (a HLT). */
    static const uint8_t ud2[] = {0x0f, 0x0b};
    code(ud2, sizeof(ud2));
    wr(0x101000, 0xf4, 1);
    uint64_t idt = 0x30000, handler = 0x101000;
    uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
                  (((handler >> 16) & 0xffff) << 48);
    wr(idt + 6 * 16, lo, 8);
    wr(idt + 6 * 16 + 8, handler >> 32, 8);
    c->idtr.base = idt;
    c->idtr.limit = 0xfff;
    uint64_t before = c->icount;
    ck_assert_int_eq(step(), VP_STOP_DEBUG);
    ck_assert_int_eq(vp_debug_last_hit(m)->kind, VP_HIT_STEP);
    ck_assert_uint_eq(c->rip, handler);
    ck_assert_uint_eq(c->icount, before);       /* nothing retired */
}
END_TEST

START_TEST(debugger_memory_has_no_side_effects)
{
    uint8_t buf[8];
    ck_assert_uint_eq(vp_debug_read_phys(m, 0xfee00020, buf, 4), 0);
    ck_assert_uint_eq(buf[0], 0xff);
    ck_assert_uint_eq(vp_debug_read_phys(m, 0xffff0, buf, 4), 4);   /* ROM */
    wr(DATA, 0x1122334455667788ull, 8);
    ck_assert_uint_eq(vp_debug_read_lin(c, DATA, buf, 8), 8);
    ck_assert_uint_eq(buf[0], 0x88);
    ck_assert_uint_eq(vp_debug_write_lin(c, DATA + 1, "\xaa", 1), 1);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, DATA, 8), 0x112233445566aa88ull);
    /* Beyond the 4-GiB identity map: not mapped. */
    ck_assert_uint_eq(vp_debug_read_lin(c, 1ull << 40, buf, 8), 0);
}
END_TEST

/* ---- paging views against the CPU's walk ----------------------------- */

static void check_against_cpu(uint64_t lin)
{
    vp_walk_trace t;
    vp_walk w;
    uint32_t err;
    int mine = vp_debug_walk(c, lin, &t);
    int cpu = vp_page_walk(c, lin, ACC_READ, false, false, &w, &err);
    ck_assert_msg(mine == cpu, "lin %#llx: walk %d, CPU %d",
                  (unsigned long long)lin, mine, cpu);
    if (mine == 0) {
        ck_assert_uint_eq(t.gpa, w.gpa);
        ck_assert_uint_eq(t.page_size, w.page_size);
        ck_assert_int_eq(!!(t.perm & VP_PERM_U), w.user);
    }
}

typedef struct leaves {
    int n;
    uint64_t lin[8], gpa[8], size[8];
    unsigned perm[8];
} leaves;

static int leaf(void *opaque, uint64_t lin, uint64_t gpa, uint64_t size,
                unsigned perm)
{
    leaves *l = opaque;
    if (l->n < 8) {
        l->lin[l->n] = lin;
        l->gpa[l->n] = gpa;
        l->size[l->n] = size;
        l->perm[l->n] = perm;
    }
    l->n++;
    return 0;
}

START_TEST(walk_four_level_with_4k_pages)
{
    /* Replace the 2-MiB page at 0x40000000 by a page table: page 1 maps
     * 0x300000 read-only, user, no-execute. */
    uint64_t pd1 = vp_phys_read_n(&m->mem, PT + 0x1000 + 8, 8) & ~0xfffull;
    uint64_t pt = 0x50000;
    wr(pt + 8, 0x300000 | 0x5 | (1ull << 63), 8);
    wr(pd1, pt | 0x7, 8);
    c->efer |= EFER_NXE;
    vp_walk_trace t;
    ck_assert_int_eq(vp_debug_walk(c, 0x40001234, &t), 0);
    ck_assert_int_eq(t.mode, VP_PAGING_4LEVEL);
    ck_assert_int_eq(t.nlevels, 4);
    ck_assert_str_eq(t.lv[0].name, "PML4E");
    ck_assert_str_eq(t.lv[3].name, "PTE");
    ck_assert_uint_eq(t.lv[3].entry_addr, pt + 8);
    ck_assert_uint_eq(t.gpa, 0x300234);
    ck_assert_uint_eq(t.page_size, 4096);
    /* The PTE grants U only; the upper levels (P|W) grant W but not U. */
    ck_assert_uint_eq(t.lv[3].perm, VP_PERM_U);
    ck_assert_uint_eq(t.lv[0].perm, VP_PERM_W | VP_PERM_X);
    ck_assert_uint_eq(t.perm, 0);
    ck_assert_int_eq(vp_debug_walk(c, 0x40002000, &t), -1);
    ck_assert_str_eq(t.why, "not present");
    for (uint64_t a = 0x40000000; a < 0x40003000; a += 0x800)
        check_against_cpu(a);
    check_against_cpu(0x12345);
    check_against_cpu(1ull << 40);
    uint64_t g;
    ck_assert_int_eq(vp_debug_translate(c, 0x40001000, &g), 0);
    ck_assert_uint_eq(g, 0x300000);
}
END_TEST

START_TEST(walk_32bit_and_pae)
{
    /* 32-bit paging: PDE 0 -> page table at 0x60000 (PTE 5 -> 0x7000),
     * PDE 1 a 4-MiB page at 0x800000 (CR4.PSE). */
    c->efer = 0;
    c->cr4 = CR4_PSE;
    c->cr3 = 0x61000;
    wr(0x61000, 0x60000 | 0x7, 4);
    wr(0x61004, 0x800000 | 0x83, 4);
    wr(0x60000 + 5 * 4, 0x7000 | 0x3, 4);
    vp_update_mode(c);
    ck_assert_int_eq(vp_debug_paging_mode(c), VP_PAGING_32);
    vp_walk_trace t;
    ck_assert_int_eq(vp_debug_walk(c, 0x5abc, &t), 0);
    ck_assert_uint_eq(t.gpa, 0x7abc);
    ck_assert_int_eq(t.nlevels, 2);
    ck_assert_int_eq(vp_debug_walk(c, 0x412345, &t), 0);
    ck_assert_uint_eq(t.gpa, 0x812345);
    ck_assert_uint_eq(t.page_size, 4ull << 20);
    for (uint64_t a = 0; a < 0x800000; a += 0x1000)
        check_against_cpu(a);
    leaves l = {0};
    vp_debug_mappings(c, leaf, &l, NULL);
    ck_assert_int_eq(l.n, 2);
    ck_assert_uint_eq(l.lin[0], 0x5000);
    ck_assert_uint_eq(l.gpa[0], 0x7000);
    ck_assert_uint_eq(l.perm[0], VP_PERM_W | VP_PERM_X);
    ck_assert_uint_eq(l.lin[1], 0x400000);
    ck_assert_uint_eq(l.size[1], 4ull << 20);

    /* PAE: PDPTE 3 -> PD at 0x63000, PDE 0 a 2-MiB page at 0x600000. */
    c->cr4 = CR4_PAE;
    c->cr3 = 0x62000;
    memset(vp_phys_ram(&m->mem, 0x62000), 0, 4096);
    memset(vp_phys_ram(&m->mem, 0x63000), 0, 4096);
    wr(0x62000 + 3 * 8, 0x63000 | 0x1, 8);
    wr(0x63000, 0x600000 | 0x83, 8);
    vp_update_mode(c);
    ck_assert_int_eq(vp_debug_paging_mode(c), VP_PAGING_PAE);
    ck_assert_int_eq(vp_debug_walk(c, 0xc0012345, &t), 0);
    ck_assert_uint_eq(t.gpa, 0x612345);
    ck_assert_str_eq(t.lv[0].name, "PDPTE");
    check_against_cpu(0xc0012345);
    check_against_cpu(0x80000000);
    memset(&l, 0, sizeof(l));
    vp_debug_mappings(c, leaf, &l, NULL);
    ck_assert_int_eq(l.n, 1);
    ck_assert_uint_eq(l.lin[0], 0xc0000000);
    /* A reserved bit (bit 13 of a 2-MiB PDE) fails both walks. */
    wr(0x63000, 0x600000 | 0x83 | (1u << 13), 8);
    ck_assert_int_eq(vp_debug_walk(c, 0xc0012345, &t), -1);
    ck_assert_str_eq(t.why, "reserved bit set");
    check_against_cpu(0xc0012345);
}
END_TEST

START_TEST(mappings_of_identity_map)
{
    leaves l = {0};
    bool complete;
    uint64_t n = vp_debug_mappings(c, leaf, &l, &complete);
    ck_assert_uint_eq(n, 2048);                 /* 4 GiB of 2-MiB pages */
    ck_assert(complete);
    ck_assert_uint_eq(l.lin[1], 2ull << 20);
    ck_assert_uint_eq(l.size[0], 2ull << 20);
}
END_TEST

static int count_only(void *opaque, uint64_t lin, uint64_t gpa,
                      uint64_t size, unsigned perm)
{
    (*(uint64_t *)opaque)++;
    return 0;
}

START_TEST(mappings_of_self_referencing_tables_end)
{
    /* Every PML4 entry points at the PML4 itself: as a 4-level tree that
     * is 512^4 pages. The enumeration stops, and says so. */
    uint64_t pml4 = 0x70000;
    for (int i = 0; i < 512; i++)
        wr(pml4 + 8 * (uint64_t)i, pml4 | 0x3, 8);
    c->cr3 = pml4;
    uint64_t n = 0;
    bool complete = true;
    vp_debug_mappings(c, count_only, &n, &complete);
    ck_assert(!complete);
    ck_assert_uint_le(n, VP_DBG_MAX_ENTRIES);
    vp_walk_trace t;
    ck_assert_int_eq(vp_debug_walk(c, 0x12345678, &t), 0);
    ck_assert_int_eq(t.nlevels, 4);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("debug");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, breakpoint_survives_decoded_cache);
    tcase_add_test(t, physical_breakpoint_and_removal);
    tcase_add_test(t, write_watchpoint_stops_after_the_store);
    tcase_add_test(t, read_watchpoint_physical);
    tcase_add_test(t, watchpoint_validation);
    tcase_add_test(t, step_runs_one_instruction);
    tcase_add_test(t, step_stops_at_exception_handler);
    tcase_add_test(t, debugger_memory_has_no_side_effects);
    tcase_add_test(t, walk_four_level_with_4k_pages);
    tcase_add_test(t, walk_32bit_and_pae);
    tcase_add_test(t, mappings_of_identity_map);
    tcase_add_test(t, mappings_of_self_referencing_tables_end);
    suite_add_tcase(s, t);
    return s;
}

VP_UNIT_MAIN(suite)
