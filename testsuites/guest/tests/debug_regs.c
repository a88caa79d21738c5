/* debug_regs.c: hardware breakpoints in DR0-DR3 armed by DR7. An
 * instruction breakpoint is a fault (#DB before the instruction, RIP on
 * it, RF clear in the pushed RFLAGS) that RF = 1 suppresses for one
 * instruction; data breakpoints (write, read/write; lengths 1, 2, 4, 8;
 * address bits below the length ignored) are traps after the access, REP
 * string instructions included; I/O breakpoints need CR4.DE; DR6 names
 * the breakpoint (B0-B3) and single-step (BS); DR4/DR5 alias DR6/DR7
 * unless CR4.DE; fixed bits of DR6/DR7. General detect (BD) and DR6 for
 * two breakpoints at once are in debug_regs_gd.c (not on QEMU).
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3B, "Debug Registers" ("Debug Address Registers", "Debug
 * Status Register (DR6)", "Debug Control Register (DR7)", "Breakpoint
 * Field Recognition"), "Debug Exceptions" ("Instruction-Breakpoint
 * Exception Condition", "Data Memory and I/O Breakpoint Exception
 * Conditions", "General-Detect Exception Condition", "Single-Step
 * Exception Condition"); Vol 3A, "EFLAGS.RF".
 */
#include "vp.h"

#define DR6_BS BIT(14)
#define RFLAGS_RF BIT(16)
#define CR4_DE BIT(3)

/* DR7 for breakpoint n: L bit, R/W and LEN fields. */
enum { RW_X = 0, RW_W = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };
static uint64_t dr7_bp(int n, unsigned rw, unsigned len)
{
    return BIT(2 * n) | (uint64_t)rw << (16 + 4 * n) | (uint64_t)len << (18 + 4 * n);
}

/* ---- the #DB handler: records, then resumes ------------------------- */

struct db_hit {
    uint64_t rip, rflags, dr6, dr7;
};
static volatile int nhits;
static struct db_hit hits[8];
/* Instruction breakpoints: set RF in the image to resume, except on the
 * first `rehit` hits (which then recur). */
static volatile int rehit;

static void db_handler(struct intr_frame *f)
{
    int n = nhits;
    if (n < 8)
        hits[n] = (struct db_hit){f->rip, f->rflags, read_dr6(), read_dr7()};
    nhits = n + 1;
    write_dr6(0);
    if (n >= rehit)
        f->rflags |= RFLAGS_RF;
    /* A runaway breakpoint: disarm everything. */
    if (n >= 7)
        write_dr7(0);
}

static void arm(uint64_t dr7)
{
    nhits = 0;
    rehit = 0;
    memset(hits, 0, sizeof(hits));
    write_dr6(0);
    write_dr7(dr7);
}

static void disarm(void)
{
    write_dr7(0);
}

/* ---- code and data the breakpoints watch ---------------------------- */

extern char ib_func[], ib_insn[], dw_after[], rep_insn[], io_after[];
void store_byte(volatile void *p);
uint64_t rep_copy(void *dst, const void *src, uint64_t n);
void out80(void);
/* ib_func: a NOP, the watched NOP, RET. store_byte: a byte store, then
 * dw_after. rep_copy: REP MOVSB at rep_insn, returns RCX. out80: OUT to
 * port 80h, then io_after. */
__asm__(".text\n"
        ".globl ib_func, ib_insn, store_byte, dw_after, rep_copy, rep_insn\n"
        ".globl out80, io_after\n"
        "ib_func: nop\n"
        "ib_insn: nop\n"
        "ret\n"
        "store_byte: movb $1, (%rdi)\n"
        "dw_after: ret\n"
        "rep_copy: mov %rdx, %rcx\n"
        "rep_insn: rep movsb\n"
        "mov %rcx, %rax\n"
        "ret\n"
        "out80: xor %eax, %eax\n"
        "outb %al, $0x80\n"
        "io_after: ret\n");

static volatile uint64_t data[8] __attribute__((aligned(64)));
static volatile uint8_t other_on_page[64] __attribute__((aligned(64)));
static uint8_t rep_src[64], rep_dst[64] __attribute__((aligned(64)));

static void call_ib(void)
{
    __asm__ volatile("call ib_func" ::: "memory");
}

/* Loads of exactly one size. */
static uint64_t read8(volatile void *p)
{
    uint8_t v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(p) : "memory");
    return v;
}
static uint64_t read32(volatile void *p)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static bool hit_ok(int i, uint64_t rip, uint64_t b_bits)
{
    return (hits[i].dr6 & 0xF) == b_bits && hits[i].rip == rip;
}

/* ---- checks ---------------------------------------------------------- */

static void instruction_breakpoints(void)
{
    write_dr0((uint64_t)(uintptr_t)ib_insn);
    arm(dr7_bp(0, RW_X, LEN1));
    call_ib();
    disarm();
    report_eq("exec: one #DB", (uint64_t)nhits, 1);
    report_msg("exec: fault at the instruction, B0", hit_ok(0, (uint64_t)(uintptr_t)ib_insn, 1),
               "rip %#llx dr6 %#llx, want %p, B0", (unsigned long long)hits[0].rip,
               (unsigned long long)hits[0].dr6, (void *)ib_insn);
    report_eq("exec: RF clear in the pushed RFLAGS", hits[0].rflags & RFLAGS_RF, 0);
    report_eq("exec: DR6 fixed bits", hits[0].dr6 & 0xFFFF0FF0, 0xFFFF0FF0);

    /* Without RF the breakpoint fires again at once; with it, not. */
    arm(dr7_bp(0, RW_X, LEN1));
    rehit = 1;
    call_ib();
    disarm();
    report_msg("exec: RF = 0 re-raises, RF = 1 resumes",
               nhits == 2 && hit_ok(0, (uint64_t)(uintptr_t)ib_insn, 1) &&
                   hit_ok(1, (uint64_t)(uintptr_t)ib_insn, 1),
               "%d hits", nhits);

    /* RF is cleared once the instruction completes: the next call hits. */
    arm(dr7_bp(0, RW_X, LEN1));
    call_ib();
    call_ib();
    disarm();
    report_eq("exec: every execution hits", (uint64_t)nhits, 2);

    /* Disabled (no L/G bit): nothing; G instead of L works too. */
    arm(dr7_bp(0, RW_X, LEN1) & ~1ull);
    call_ib();
    disarm();
    report_eq("exec: disabled breakpoint", (uint64_t)nhits, 0);
    write_dr0(0);
    write_dr3((uint64_t)(uintptr_t)ib_insn);
    arm((dr7_bp(3, RW_X, LEN1) & ~BIT(6)) | BIT(7));
    call_ib();
    disarm();
    report_msg("exec: G3 enables, B3 reported", nhits == 1 && hit_ok(0, (uint64_t)(uintptr_t)ib_insn, 8),
               "%d hits, dr6 %#llx", nhits, (unsigned long long)hits[0].dr6);
}

static void data_breakpoints(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&data[2];

    /* Write, 4 bytes: a byte store inside the range traps after it. */
    write_dr1(base);
    arm(dr7_bp(1, RW_W, LEN4));
    store_byte((volatile uint8_t *)(uintptr_t)base + 2);
    (void)read8((volatile uint8_t *)(uintptr_t)base);
    store_byte((volatile uint8_t *)(uintptr_t)base + 4);
    other_on_page[5] = 7;
    disarm();
    report_msg("write: trap after the store, B1",
               nhits == 1 && hit_ok(0, (uint64_t)(uintptr_t)dw_after, 2),
               "%d hits, rip %#llx dr6 %#llx, want rip %p", nhits,
               (unsigned long long)hits[0].rip, (unsigned long long)hits[0].dr6, (void *)dw_after);
    report_eq("write: the store happened", data[2] & 0xFFFFFFFF, 0x00010000);
    report_eq("write: the page's other data", other_on_page[5], 7);

    /* Read/write, 2 bytes. */
    data[3] = 0x1122334455667788ull;
    write_dr2((uint64_t)(uintptr_t)&data[3]);
    arm(dr7_bp(2, RW_RW, LEN2));
    uint64_t v0 = read8((volatile uint8_t *)&data[3] + 1);
    uint64_t v1 = read8((volatile uint8_t *)&data[3] + 2);
    disarm();
    report_msg("read/write: a read of byte 1 hits, byte 2 does not",
               nhits == 1 && (hits[0].dr6 & 0xF) == 4 && v0 == 0x77 && v1 == 0x66,
               "%d hits, dr6 %#llx, values %#llx %#llx", nhits, (unsigned long long)hits[0].dr6,
               (unsigned long long)v0, (unsigned long long)v1);

    /* 8 bytes (LEN = 10b): a dword read at +4 hits; one at +8 not. */
    write_dr0((uint64_t)(uintptr_t)&data[4]);
    arm(dr7_bp(0, RW_RW, LEN8));
    (void)read32((volatile uint8_t *)&data[4] + 4);
    (void)read32(&data[5]);
    disarm();
    report_msg("len 8: hit inside, none beyond", nhits == 1 && (hits[0].dr6 & 0xF) == 1,
               "%d hits, dr6 %#llx", nhits, (unsigned long long)hits[0].dr6);

    /* Write-only breakpoints ignore reads. */
    write_dr0((uint64_t)(uintptr_t)&data[6]);
    arm(dr7_bp(0, RW_W, LEN8));
    (void)data[6];
    disarm();
    report_eq("write-only: reads do not hit", (uint64_t)nhits, 0);

    /* Two breakpoints on one store: one #DB. (Both B0 and B3 are set on
     * Vanderpool and Bochs; QEMU 7.2 reports only the first: B3 is
     * checked in debug_regs_gd.c.) */
    write_dr0((uint64_t)(uintptr_t)&data[7]);
    write_dr3((uint64_t)(uintptr_t)&data[7] + 4);
    arm(dr7_bp(0, RW_W, LEN4) | dr7_bp(3, RW_RW, LEN4));
    data[7] = 5;
    disarm();
    report_msg("one access, two breakpoints: one #DB, B0", nhits == 1 && (hits[0].dr6 & 1),
               "%d hits, dr6 %#llx", nhits, (unsigned long long)hits[0].dr6);

    /* REP MOVSB: the trap comes after the iteration that wrote the
     * watched byte, RIP still on the instruction, RCX counting the rest. */
    memset(rep_src, 0xAB, sizeof(rep_src));
    memset(rep_dst, 0, sizeof(rep_dst));
    write_dr1((uint64_t)(uintptr_t)&rep_dst[10]);
    arm(dr7_bp(1, RW_W, LEN1));
    uint64_t rcx_at_hit = rep_copy(rep_dst, rep_src, 32);
    disarm();
    report_msg("rep movsb: trap after the iteration, at the instruction",
               nhits == 1 && hit_ok(0, (uint64_t)(uintptr_t)rep_insn, 2),
               "%d hits, rip %#llx dr6 %#llx, want rip %p", nhits,
               (unsigned long long)hits[0].rip, (unsigned long long)hits[0].dr6, (void *)rep_insn);
    report_eq("rep movsb: completes", rcx_at_hit, 0);
    report_eq("rep movsb: all bytes copied", rep_dst[31], 0xAB);
}

static void io_breakpoints(void)
{
    uint64_t cr4 = read_cr4();
    write_dr2(0x80);
    /* Without CR4.DE, R/W = 10 is undefined: not tested. With it, an
     * I/O breakpoint traps after the OUT. */
    write_cr4(cr4 | CR4_DE);
    arm(dr7_bp(2, RW_IO, LEN1));
    out80();
    outb(0x81, 0);
    disarm();
    write_cr4(cr4);
    report_msg("io: trap after OUT to port 80h, B2",
               nhits == 1 && hit_ok(0, (uint64_t)(uintptr_t)io_after, 4),
               "%d hits, rip %#llx dr6 %#llx", nhits, (unsigned long long)hits[0].rip,
               (unsigned long long)hits[0].dr6);
}

static void single_step(void)
{
    arm(0);
    __asm__ volatile("pushfq\n"
                     "orq $0x100, (%%rsp)\n"
                     "popfq\n"
                     "nop\n"
                     "pushfq\n"
                     "andq $~0x100, (%%rsp)\n"
                     "popfq\n" ::: "memory", "cc");
    report_msg("single-step: BS", nhits >= 1 && (hits[0].dr6 & DR6_BS), "%d hits, dr6 %#llx",
               nhits, (unsigned long long)hits[0].dr6);
}

/* A compare and the conditional branch after it (which Vanderpool runs as
 * one fused handler) trap one at a time, as do a register copy and a
 * shift of the copy, and a decrement and JNZ. */
extern char ss_jz[], ss_taken[], ss_shl[], ss_dec[], ss_jnz[], ss_after[];
__attribute__((noinline)) static void single_step_pairs(void)
{
    uint32_t copy;
    arm(0);
    __asm__ volatile("pushfq\n"
                     "orq $0x100, (%%rsp)\n"
                     "popfq\n"
                     "ss_cmp: cmp $1, %%eax\n"
                     "ss_jz: jz ss_taken\n"
                     "ud2\n"
                     "ss_taken: mov %%eax, %%edx\n"
                     "ss_shl: shl $3, %%edx\n"
                     "ss_dec: dec %%ecx\n"
                     "ss_jnz: jnz ss_cmp\n"
                     "ss_after: pushfq\n"
                     "andq $~0x100, (%%rsp)\n"
                     "popfq\n"
                     : "=d"(copy) : "a"(1), "c"(1) : "memory", "cc");
    /* TF set by POPF traps from the next instruction on: after cmp (at
     * ss_jz), jz (taken), mov, shl, dec, jnz (not taken), then pushfq,
     * andq and the popfq that clears it. */
    static const char *const want[] = {ss_jz, ss_taken, ss_shl, ss_dec, ss_jnz, ss_after};
    bool ok = nhits == 9 && copy == 8;
    for (int k = 0; ok && k < 6; k++)
        ok = hits[k].rip == (uint64_t)(uintptr_t)want[k] && (hits[k].dr6 & DR6_BS);
    report_msg("single-step: CMP+JZ, MOV+SHL and DEC+JNZ trap one instruction at a time", ok,
               "%d hits (want 9), edx %#x (want 8), first at %#llx, %#llx, %#llx, %#llx, "
               "%#llx; from %p", nhits, copy,
               (unsigned long long)hits[0].rip, (unsigned long long)hits[1].rip,
               (unsigned long long)hits[2].rip, (unsigned long long)hits[3].rip,
               (unsigned long long)hits[4].rip, (void *)ss_jz);
}

static void mov_from_dr4(void *arg)
{
    uint64_t v;
    __asm__ volatile("mov %%dr4, %0" : "=r"(v));
    *(uint64_t *)arg = v;
}

static void registers(void)
{
    write_dr6(0);
    report_eq("DR6 reads fixed ones", read_dr6(), 0xFFFF0FF0);
    write_dr7(0);
    report_eq("DR7 bit 10 reads 1", read_dr7(), 0x400);
    write_dr7(0x400 | (dr7_bp(1, RW_W, LEN2) & ~BIT(2))); /* fields, not enabled */
    report_eq("DR7 keeps R/W and LEN", read_dr7(), 0x400 | (0x5ull << 20));
    write_dr7(0);

    /* DR4/DR5 alias DR6/DR7 with CR4.DE = 0, #UD with CR4.DE = 1. */
    uint64_t cr4 = read_cr4(), v = 0;
    write_cr4(cr4 & ~CR4_DE);
    write_dr6(0x1);
    int vec = run_catching(mov_from_dr4, &v);
    report_msg("DR4 aliases DR6 without CR4.DE", vec == -1 && v == 0xFFFF0FF1,
               "vector %d value %#llx", vec, (unsigned long long)v);
    write_cr4(cr4 | CR4_DE);
    vec = run_catching(mov_from_dr4, &v);
    write_cr4(cr4);
    report_eq("DR4 is #UD with CR4.DE", (uint64_t)(int64_t)vec, UD_VECTOR);
}

void test_main(void)
{
    set_intr_handler(DB_VECTOR, db_handler);
    instruction_breakpoints();
    data_breakpoints();
    io_breakpoints();
    single_step();
    single_step_pairs();
    registers();
    write_dr7(0);
    set_intr_handler(DB_VECTOR, NULL);
}
