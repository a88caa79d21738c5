/* CPU core unit tests: short machine-code sequences run in 64-bit mode on
 * a bare machine; each vector states the registers and flags it expects.
 * Expected values come from the SDM's definitions of each instruction. */
#include "testsuites/unit/lib/unit.h"

#include <string.h>

#include "emu/cpu/insn.h"

#define CODE 0x200000ull
#define STACK 0x300000ull

typedef struct cpu_vec {
    const char *name;
    uint8_t code[64];
    size_t len;
    uint64_t init[16];    /* initial GPRs */
    int check_reg[4];     /* registers to check, -1 terminated */
    uint64_t want[4];
    uint64_t flags_mask;  /* arithmetic flags to compare */
    uint64_t flags_want;
} cpu_vec;

/* Every vector ends with HLT (F4), which stops vp_cpu_exec. */
static const cpu_vec vecs[] = {
    {"add sets CF ZF", {0x48, 0x01, 0xd8, 0xf4}, 4, /* add rax, rbx */
     {[R_AX] = ~0ull, [R_BX] = 1}, {R_AX, -1}, {0},
     FL_CF | FL_ZF | FL_SF | FL_OF, FL_CF | FL_ZF},
    {"sub signed overflow", {0x29, 0xd8, 0xf4}, 3, /* sub eax, ebx */
     {[R_AX] = 0x80000000ull, [R_BX] = 1}, {R_AX, -1}, {0x7fffffff},
     FL_CF | FL_ZF | FL_SF | FL_OF, FL_OF},
    {"32-bit write zero-extends", {0x89, 0xd8, 0xf4}, 3, /* mov eax, ebx */
     {[R_AX] = ~0ull, [R_BX] = 0x12345678}, {R_AX, -1}, {0x12345678}, 0, 0},
    {"byte regs without REX are AH..BH", {0x88, 0xe0, 0xf4}, 3, /* mov al, ah */
     {[R_AX] = 0x1234}, {R_AX, -1}, {0x1212}, 0, 0},
    {"byte regs with REX are SPL..DIL", {0x40, 0x88, 0xf0, 0xf4}, 4, /* mov al, sil */
     {[R_AX] = 0x1234, [R_SI] = 0x56}, {R_AX, -1}, {0x1256}, 0, 0},
    {"mul 64x64", {0x48, 0xf7, 0xe3, 0xf4}, 4, /* mul rbx */
     {[R_AX] = 1ull << 63, [R_BX] = 4}, {R_AX, R_DX, -1}, {0, 2},
     FL_CF | FL_OF, FL_CF | FL_OF},
    {"imul r, r/m, imm8 negative", {0x6b, 0xc3, 0xfd, 0xf4}, 4, /* imul eax, ebx, -3 */
     {[R_BX] = 7}, {R_AX, -1}, {0xffffffebull}, FL_CF | FL_OF, 0},
    {"div 128/64", {0x48, 0xf7, 0xf3, 0xf4}, 4, /* div rbx */
     {[R_AX] = 5, [R_DX] = 1, [R_BX] = 2}, {R_AX, R_DX, -1},
     {0x8000000000000002ull, 1}, 0, 0},
    {"idiv negative", {0xf7, 0xfb, 0xf4}, 3, /* idiv ebx */
     {[R_AX] = 0xfffffff9ull, [R_DX] = 0xffffffffull, [R_BX] = 2},
     {R_AX, R_DX, -1}, {0xfffffffdull, 0xffffffffull}, 0, 0},
    {"shl by cl sets CF", {0xd3, 0xe0, 0xf4}, 3, /* shl eax, cl */
     {[R_AX] = 0x80000001ull, [R_CX] = 1}, {R_AX, -1}, {2},
     FL_CF | FL_ZF, FL_CF},
    {"sar keeps sign", {0x48, 0xc1, 0xf8, 0x04, 0xf4}, 5, /* sar rax, 4 */
     {[R_AX] = 0xf000000000000000ull}, {R_AX, -1}, {0xff00000000000000ull},
     FL_SF, FL_SF},
    {"rol count masked to 5 bits", {0xc1, 0xc0, 0x21, 0xf4}, 4, /* rol eax, 33 */
     {[R_AX] = 0x80000000ull}, {R_AX, -1}, {1}, FL_CF, FL_CF},
    {"inc keeps CF", {0xf9, 0xff, 0xc0, 0xf4}, 4, /* stc; inc eax */
     {[R_AX] = 0x7fffffff}, {R_AX, -1}, {0x80000000ull},
     FL_CF | FL_OF | FL_SF, FL_CF | FL_OF | FL_SF},
    {"push pop", {0x53, 0x58, 0xf4}, 3, /* push rbx; pop rax */
     {[R_BX] = 0xdeadbeefcafe, [R_SP] = STACK}, {R_AX, R_SP, -1},
     {0xdeadbeefcafe, STACK}, 0, 0},
    {"call ret", {0xe8, 0x01, 0x00, 0x00, 0x00, 0xf4, 0xb0, 0x07, 0xc3}, 9,
     {[R_SP] = STACK}, {R_AX, R_SP, -1}, {7, STACK}, 0, 0},
    {"loop sums", {0x01, 0xc8, 0xe2, 0xfc, 0xf4}, 5, /* l: add eax,ecx; loop l */
     {[R_CX] = 10}, {R_AX, R_CX, -1}, {55, 0}, 0, 0},
    {"rep stosb then repe cmpsb", /* rep stosb; mov rsi,rdi-... */
     {0xf3, 0xaa, 0xf4}, 3,
     {[R_AX] = 0x5a, [R_CX] = 100, [R_DI] = STACK}, {R_CX, R_DI, -1},
     {0, STACK + 100}, 0, 0},
    {"cmovcc 32-bit clears upper half when false",
     {0x85, 0xc0, 0x0f, 0x45, 0xda, 0xf4}, 6, /* test eax,eax; cmovnz ebx,edx */
     {[R_AX] = 0, [R_BX] = ~0ull, [R_DX] = 5}, {R_BX, -1}, {0xffffffffull},
     0, 0},
    {"setcc and movzx", {0x39, 0xd8, 0x0f, 0x9c, 0xc1, 0x0f, 0xb6, 0xc9, 0xf4}, 9,
     {[R_AX] = 1, [R_BX] = 2, [R_CX] = ~0ull}, {R_CX, -1}, {1}, 0, 0},
    {"bsr and bsf", {0x0f, 0xbd, 0xc3, 0x0f, 0xbc, 0xcb, 0xf4}, 7,
     {[R_BX] = 0x00f0}, {R_AX, R_CX, -1}, {7, 4}, FL_ZF, 0},
    {"bt with register offset", {0x0f, 0xa3, 0xc8, 0xf4}, 4, /* bt eax, ecx */
     {[R_AX] = 0x10, [R_CX] = 36}, {-1}, {0}, FL_CF, FL_CF},
    {"xadd", {0x0f, 0xc1, 0xd8, 0xf4}, 4, /* xadd eax, ebx */
     {[R_AX] = 3, [R_BX] = 4}, {R_AX, R_BX, -1}, {7, 3}, 0, 0},
    {"cmpxchg success", {0x0f, 0xb1, 0xd9, 0xf4}, 4, /* cmpxchg ecx, ebx */
     {[R_AX] = 9, [R_CX] = 9, [R_BX] = 1}, {R_CX, R_AX, -1}, {1, 9}, FL_ZF, FL_ZF},
    {"cqo", {0x48, 0x99, 0xf4}, 3,
     {[R_AX] = 1ull << 63}, {R_DX, -1}, {~0ull}, 0, 0},
    {"lea with SIB", {0x48, 0x8d, 0x44, 0x8b, 0x10, 0xf4}, 6, /* lea rax,[rbx+rcx*4+16] */
     {[R_BX] = 0x1000, [R_CX] = 3}, {R_AX, -1}, {0x101c}, 0, 0},
    {"rip-relative load", {0x48, 0x8b, 0x05, 0x01, 0x00, 0x00, 0x00, 0xf4,
                           0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, 16,
     {0}, {R_AX, -1}, {0x1122334455667788ull}, 0, 0},
    {"adc chain", {0xf9, 0x11, 0xd8, 0xf4}, 4, /* stc; adc eax, ebx */
     {[R_AX] = 0xffffffff, [R_BX] = 0}, {R_AX, -1}, {0}, FL_CF | FL_ZF, FL_CF | FL_ZF},
    {"sbb borrow", {0xf9, 0x19, 0xd8, 0xf4}, 4, /* stc; sbb eax, ebx */
     {[R_AX] = 0, [R_BX] = 0}, {R_AX, -1}, {0xffffffff}, FL_CF | FL_SF, FL_CF | FL_SF},
    {"neg", {0xf7, 0xd8, 0xf4}, 3, {[R_AX] = 5}, {R_AX, -1}, {0xfffffffb},
     FL_CF | FL_SF, FL_CF | FL_SF},
    {"bswap", {0x0f, 0xc8, 0xf4}, 3, {[R_AX] = 0x11223344}, {R_AX, -1},
     {0x44332211}, 0, 0},
    {"shld", {0x0f, 0xa4, 0xd8, 0x04, 0xf4}, 5, /* shld eax, ebx, 4 */
     {[R_AX] = 0x12345678, [R_BX] = 0xabcdef01}, {R_AX, -1}, {0x2345678a}, 0, 0},
    {"lahf/sahf", {0xf9, 0x9f, 0x80, 0xe4, 0xfe, 0x9e, 0xf4}, 7,
     {0}, {-1}, {0}, FL_CF, 0},
};

static vp_machine *run_vec(const cpu_vec *v)
{
    vp_machine *m = unit_machine(64);
    vp_cpu *c = m->cpus[0];
    ck_assert_int_eq(vp_cpu_setup_long_mode(c, CODE, 0x10000, 1ull << 30, STACK), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, CODE, v->code, v->len), 0);
    for (int r = 0; r < 16; r++)
        if (v->init[r])
            c->gpr[r] = v->init[r];
    vp_cpu_exec(c, 100000);
    ck_assert_msg(c->halted, "%s: did not reach HLT (rip %#llx)", v->name,
                  (unsigned long long)c->rip);
    return m;
}

START_TEST(test_vectors)
{
    const cpu_vec *v = &vecs[_i];
    vp_machine *m = run_vec(v);
    vp_cpu *c = m->cpus[0];
    for (int k = 0; k < 4 && v->check_reg[k] >= 0; k++)
        ck_assert_msg(c->gpr[v->check_reg[k]] == v->want[k],
                      "%s: reg %d = %#llx, want %#llx", v->name,
                      v->check_reg[k],
                      (unsigned long long)c->gpr[v->check_reg[k]],
                      (unsigned long long)v->want[k]);
    if (v->flags_mask) {
        uint64_t f = vp_flags(c) & v->flags_mask;
        ck_assert_msg(f == v->flags_want, "%s: flags %#llx want %#llx",
                      v->name, (unsigned long long)f,
                      (unsigned long long)v->flags_want);
    }
    vp_machine_destroy(m);
}
END_TEST

/* Self-modifying code: a store into the next instruction's immediate must
 * be seen even though the block was already decoded. */
START_TEST(test_smc)
{
    static const uint8_t code[] = {
        0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2a, /* mov byte [rip+1], 42 */
        0xb0, 0x00,                               /* mov al, 0 (patched) */
        0xf4};
    vp_machine *m = unit_machine(64);
    vp_cpu *c = m->cpus[0];
    ck_assert_int_eq(vp_cpu_setup_long_mode(c, CODE, 0x10000, 1ull << 30, STACK), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, CODE, code, sizeof(code)), 0);
    vp_cpu_exec(c, 1000);
    ck_assert(c->halted);
    ck_assert_int_eq(c->gpr[R_AX] & 0xff, 42);
    vp_machine_destroy(m);
}
END_TEST

/* Decoder: lengths of a few encodings with prefixes (SDM Vol 2 Ch. 2). */
START_TEST(test_decode_lengths)
{
    static const struct { uint8_t b[16]; int code; int len; } t[] = {
        {{0x90}, 8, 1},
        {{0x66, 0x90}, 8, 2},
        {{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 8, 10},     /* mov rax, imm64 */
        {{0xb8, 1, 2, 3, 4}, 8, 5},                        /* mov eax, imm32 */
        {{0x66, 0xb8, 1, 2}, 8, 4},
        {{0xc7, 0x84, 0x24, 1, 0, 0, 0, 2, 0, 0, 0}, 4, 11}, /* SIB + disp32 + imm32 */
        {{0x8b, 0x46, 0x02}, 2, 3},                        /* mov ax,[bp+2] */
        {{0x67, 0x8b, 0x06, 0x34, 0x12}, 4, 5},            /* 16-bit addr disp16 */
        {{0xf6, 0xc0, 0x01}, 8, 3},                        /* test al, imm8 */
        {{0xf7, 0xc0, 1, 0, 0, 0}, 8, 6},                  /* test eax, imm32 */
        {{0xea, 0, 0, 0, 0, 0x08, 0}, 4, 7},               /* jmp far ptr16:32 */
        {{0xc8, 0x10, 0, 1}, 4, 4},                        /* enter */
        {{0x0f, 0x84, 0, 0, 0, 0}, 8, 6},                  /* jz rel32 */
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        vp_insn in;
        int len = vp_decode(t[k].b, 16, t[k].code, &in);
        ck_assert_msg(len == t[k].len, "entry %zu: len %d want %d", k, len,
                      t[k].len);
    }
    /* More than 15 bytes of prefixes is #GP (returns -1). */
    uint8_t many[16];
    memset(many, 0x66, sizeof(many));
    vp_insn in;
    ck_assert_int_eq(vp_decode(many, 16, 8, &in), -1);
    /* A truncated instruction asks for more bytes. */
    ck_assert_int_eq(vp_decode((const uint8_t[]){0xb8, 1}, 2, 4, &in), 0);
}
END_TEST

/* BOUND in 32-bit protected mode: in range passes, below and above raise
 * #BR (SDM Vol 2, "BOUND"); in 64-bit mode 62 is not BOUND (#UD here). */
START_TEST(test_bound)
{
    vp_machine *m = unit_machine(64);
    vp_cpu *c = m->cpus[0];
    vp_cpu_setup_multiboot(c, 0, 0, CODE);
    uint32_t bounds[2] = {(uint32_t)-5, 10};
    ck_assert_int_eq(vp_phys_load(&m->mem, 0x1000, bounds, sizeof(bounds)), 0);
    static const uint8_t code[] = {0x62, 0x05, 0x00, 0x10, 0x00, 0x00};
    vp_insn in;
    ck_assert_int_eq(vp_decode(code, sizeof(code), 4, &in), 6);
    static const struct { int32_t idx; int want; } t[] = {
        {-5, VP_OK}, {0, VP_OK}, {10, VP_OK}, {-6, VP_EXC}, {11, VP_EXC}};
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        c->gpr[R_AX] = (uint32_t)t[k].idx;
        c->exc.vector = -1;
        int r = in.fn(c, &in);
        ck_assert_msg(r == t[k].want, "index %d: status %d", t[k].idx, r);
        if (r == VP_EXC)
            ck_assert_int_eq(c->exc.vector, EXC_BR);
    }
    ck_assert_int_eq(vp_decode(code, sizeof(code), 8, &in), 6);
    ck_assert_int_eq(in.fn(c, &in), VP_EXC);
    ck_assert_int_eq(c->exc.vector, EXC_UD);
    vp_machine_destroy(m);
}
END_TEST

/* A Jcc over one register ALU instruction runs as its predicate
 * (ops_fast.c, "predicated skips"): the loop below takes it half of the
 * time. The result, the flags and above all the count of retired
 * instructions (the skipped ADD is not counted) must be those of running
 * it one instruction at a time, at every point a budget can stop it. */
static const uint8_t pred_loop[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
    0xf6, 0xc1, 0x01,             /* 1: test cl, 1 */
    0x74, 0x04,                   /* jz 2f */
    0x48, 0x83, 0xc0, 0x03,       /* add rax, 3 */
    0xff, 0xc9,                   /* 2: dec ecx */
    0x75, 0xf3,                   /* jnz 1b */
    0xf4};                        /* hlt */
#define PRED_LOOP_INSNS (1 + 100 * 4 + 50)

static vp_machine *pred_machine(void)
{
    vp_machine *m = unit_machine(64);
    vp_cpu *c = m->cpus[0];
    ck_assert_int_eq(vp_cpu_setup_long_mode(c, CODE, 0x10000, 1ull << 30, STACK), 0);
    ck_assert_int_eq(vp_phys_load(&m->mem, CODE, pred_loop, sizeof(pred_loop)), 0);
    return m;
}

START_TEST(test_predicated_skip)
{
    /* The reference: one instruction per call, RIP and RAX after each. */
    vp_machine *m1 = pred_machine();
    vp_cpu *c1 = m1->cpus[0];
    static uint64_t rip[PRED_LOOP_INSNS + 1], rax[PRED_LOOP_INSNS + 1];
    uint64_t base = c1->icount;
    for (unsigned k = 1; k <= PRED_LOOP_INSNS; k++) {
        vp_cpu_exec(c1, 1);
        ck_assert_uint_eq(c1->icount - base, k);
        rip[k] = c1->rip;
        rax[k] = c1->gpr[R_AX];
    }
    ck_assert_uint_eq(c1->gpr[R_AX], 150);
    ck_assert_uint_eq(rip[PRED_LOOP_INSNS], CODE + sizeof(pred_loop) - 1);

    /* Budgets of 1 to 7 instructions in turn, and one run to the end. */
    vp_machine *m2 = pred_machine();
    vp_cpu *c2 = m2->cpus[0];
    uint64_t done = 0;
    for (unsigned step = 1; done < PRED_LOOP_INSNS; step = step % 7 + 1) {
        uint64_t n = step;
        if (done + n > PRED_LOOP_INSNS)
            n = PRED_LOOP_INSNS - done;
        vp_cpu_exec(c2, n);
        done = c2->icount - base;
        ck_assert_msg(done <= PRED_LOOP_INSNS, "ran past the budget");
        ck_assert_msg(c2->rip == rip[done] && c2->gpr[R_AX] == rax[done],
                      "after %llu instructions: rip %#llx rax %llu, "
                      "stepping gave rip %#llx rax %llu",
                      (unsigned long long)done, (unsigned long long)c2->rip,
                      (unsigned long long)c2->gpr[R_AX],
                      (unsigned long long)rip[done],
                      (unsigned long long)rax[done]);
    }
    vp_machine *m3 = pred_machine();
    vp_cpu *c3 = m3->cpus[0];
    vp_cpu_exec(c3, 100000);
    ck_assert(c3->halted);
    ck_assert_uint_eq(c3->gpr[R_AX], 150);
    ck_assert_uint_eq(c3->icount - base, PRED_LOOP_INSNS + 1);  /* and HLT */
    ck_assert_uint_eq(vp_flags(c3) & (FL_ZF | FL_CF), FL_ZF);
    vp_machine_destroy(m1);
    vp_machine_destroy(m2);
    vp_machine_destroy(m3);
}
END_TEST

static Suite *suite_cpu_core(void)
{
    Suite *s = suite_create("cpu_core");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_vectors, 0, (int)(sizeof(vecs) / sizeof(vecs[0])));
    tcase_add_test(tc, test_smc);
    tcase_add_test(tc, test_decode_lengths);
    tcase_add_test(tc, test_bound);
    tcase_add_test(tc, test_predicated_skip);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_core)
