/* sys_fastcall.c: SYSCALL/SYSRET and SYSENTER/SYSEXIT. SYSCALL from
 * 64-bit CPL 3 (CS/SS from IA32_STAR, RCX/R11, RFLAGS masked with
 * IA32_FMASK), SYSRETQ (RFLAGS from R11 & 3C7FD7H), SYSRETL to
 * compatibility mode (after a call gate left SS null, SYSRET must give a
 * usable flat 32-bit SS on Intel), #UD with EFER.SCE = 0, #GP at CPL 3
 * and for a non-canonical RCX; SYSENTER/SYSEXIT in IA-32e mode (64-bit
 * and compatibility-mode returns, non-canonical RCX/RDX) and in legacy
 * protected mode; the vendor differences (SYSCALL in compatibility mode,
 * SYSENTER in IA-32e mode). This file runs Intel CPUs (Vanderpool's
 * default model, QEMU "max" with an Intel vendor, Bochs Skylake-X);
 * sys_amd_fastcall.c runs the same code on AMD models. Checks a reference
 * engine gets wrong are in sys_strict_fastcall.c (QEMU wrong, proven on
 * Bochs) and sys_sysret_ss.c (Bochs wrong, proven on QEMU), built from
 * this file with FC_PART = 1 and 2.
 * engines: vanderpool qemu bochs
 * qemu-args: -cpu max,vendor=GenuineIntel
 * bochsrc: cpu: model=corei7_skylake_x
 *
 * SDM Vol 2 SYSCALL, SYSRET, SYSENTER, SYSEXIT; Vol 3A "Fast System
 * Calls in 64-Bit Mode", "Sysenter and Sysexit Instructions"; AMD APM
 * Vol 2 "SYSCALL and SYSRET", "SYSENTER and SYSEXIT (Legacy Mode Only)".
 */
#include "sys_lib.h"
#include "sys_fastcall.h"

/* FC_PART 0: the checks every engine gets right; 1: those QEMU 7.2 gets
 * wrong (sys_strict_fastcall); 2: those Bochs 2.7 gets wrong
 * (sys_sysret_ss). Every part runs the same code. */
#ifndef FC_PART
#define FC_PART 0
#endif
#define PART(n) (FC_PART == (n))

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_FMASK 0xC0000084u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define FL_IOPL3 (3ull << 12)

extern char f_user_syscall[], f_user_syscall_ret[], f_lstar[], f_cstar[], f_cstar_ud2[];
extern char f_gate_sysret[], f_compat32[], f_compat_syscall[], f_sysret_nc[];
extern char f_sysret_nc_insn[], f_user_sysret[], f_syscall0[], f_sysret0[];
extern char f_user_sysret_insn[], f_sysret0_insn[];
extern char f_user_sysenter[], f_user_sysenter_ret[], f_sysenter64[], f_user_sysenter_c[];
extern char f_sx_compat32[], f_sx_compat32_ud2[], f_user_sysexit[], f_sysexit_nc[];
extern char f_sysexit_nc_insn[], f_sysexit_ncsp[], f_sysexit_ncsp_insn[];
extern char f_user_sysenter_only[], f_u32_sysenter[], f_sysenter32[], f_u32_sysexit[];
extern char f_u32_sysenter_only[], f_ustack_top[];
extern uint64_t f_in[8], f_after[5], f_user_flags, f_r11_or;
extern uint32_t f_c32[6], f_sx_mode, f_do_push;

static uint8_t kstack[8192] __attribute__((aligned(16)));
static bool intel;

static uint64_t u64(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static void call_site(void *site)
{
    ((void (*)(void))site)();
}

struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};
static struct farptr gate_ptr = {0, FC_GATE | 3};

static void user_gate_call(void *arg)
{
    __asm__ volatile("lcall *%0" ::"m"(gate_ptr) : "memory");
}

static void expect_at(const char *name, int v, int vec, uint64_t rip)
{
    bool ok = v == vec && (vec < 0 || ((!vector_has_error_code(vec) ||
                                        last_exception.error_code == 0) &&
                                       last_exception.rip == rip));
    report_msg(name, ok, "vector %d error %#llx rip %#llx; want vector %d rip %#llx", v,
               (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.rip, vec, (unsigned long long)rip);
}

static void test_syscall64(void)
{
    uint64_t fmask = RFLAGS_DF | RFLAGS_AC;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, (uint64_t)SEL_U32 << 48 | (uint64_t)SL_CODE64 << 32);
    wrmsr(MSR_LSTAR, u64(f_lstar));
    wrmsr(MSR_CSTAR, u64(f_cstar));
    wrmsr(MSR_FMASK, fmask);
    if (PART(0)) {
        report_eq("IA32_STAR reads back", rdmsr(MSR_STAR),
                  (uint64_t)SEL_U32 << 48 | (uint64_t)SL_CODE64 << 32);
        report_eq("IA32_LSTAR reads back", rdmsr(MSR_LSTAR), u64(f_lstar));
        report_eq("IA32_FMASK reads back", rdmsr(MSR_FMASK), fmask);
    }

    memset(f_in, 0, 64);
    memset(f_after, 0, 40);
    f_user_flags = 2 | RFLAGS_CF | RFLAGS_DF | RFLAGS_AC;
    /* SYSRET loads RFLAGS from (R11 & 3C7FD7H) | 2: IOPL and ZF come
     * back, RF (16), bit 3 and bit 5 do not. */
    f_r11_or = RFLAGS_ZF | FL_IOPL3 | BIT(16) | BIT(3) | BIT(5);
    int v = user64_call(call_site, f_user_syscall);
    if (PART(1)) {
        /* QEMU clears CF, which IA32_FMASK does not name. */
        report_eq("SYSCALL: RFLAGS &= ~IA32_FMASK", f_in[3], f_user_flags & ~fmask);
    }
    if (PART(0)) {
        report_msg("SYSCALL/SYSRETQ from 64-bit CPL 3: completes", v < 0,
                   "vector %d error %#llx rip %#llx", v,
                   (unsigned long long)last_exception.error_code,
                   (unsigned long long)last_exception.rip);
        report_eq("SYSCALL: CS = IA32_STAR[47:32]", f_in[4], SL_CODE64);
        report_eq("SYSCALL: SS = IA32_STAR[47:32] + 8", f_in[5], SL_DATA);
        report_eq("SYSCALL: RCX = the next RIP", f_in[1], u64(f_user_syscall_ret));
        report_eq("SYSCALL: R11 = RFLAGS", f_in[2], f_user_flags);
        report_eq("SYSCALL: DF and AC (in IA32_FMASK) cleared", f_in[3] & fmask, 0);
        report_eq("SYSCALL: RSP unchanged", f_in[0], f_after[4]);
        report_eq("SYSRETQ: CS = IA32_STAR[63:48] + 16, RPL 3", f_after[1], SEL_U64 | 3);
        report_eq("SYSRETQ: SS = IA32_STAR[63:48] + 8, RPL 3", f_after[2], SEL_UDATA | 3);
        report_eq("SYSRETQ: RFLAGS = (R11 & 3C7FD7H) | 2", f_after[0],
                  ((f_user_flags | f_r11_or) & 0x3C7FD7) | 2);
        report_eq("SYSRETQ: RSP unchanged", f_after[3], f_after[4]);
    }

    /* SYSRETL to compatibility mode, from a CPL-0 context whose SS is the
     * null selector (entered through a call gate). */
    gdt_set(FC_GATE / 8, sys_gate(SL_CODE64, (uint32_t)u64(f_gate_sysret), 0xC, 3, 0));
    gdt_set(FC_GATE / 8 + 1, u64(f_gate_sysret) >> 32);
    memset(f_in, 0, 64);
    memset(f_c32, 0, sizeof(uint32_t) * 6);
    f_do_push = intel;
    v = user64_call(user_gate_call, NULL);
    if (PART(0)) {
        report_eq("call gate to CPL 0: SS null before SYSRET", f_in[6], 0);
        report_eq("SYSRETL: CS = IA32_STAR[63:48], RPL 3 (32-bit)", f_c32[0], SEL_U32 | 3);
        report_eq("SYSRETL: SS = IA32_STAR[63:48] + 8, RPL 3", f_c32[1], SEL_UDATA | 3);
    }
    if (intel) {
        /* Intel: SYSRET sets SS to a flat 32-bit writable data segment,
         * whatever SS held (Vol 2 SYSRET: "Set rest of SS to a fixed
         * value": base 0, B = 1, G = 1). Bochs keeps SS.B and the base
         * (the AMD behaviour) even for Intel models. */
        if (PART(2)) {
            report_eq("SYSRETL: a 4-byte push in compatibility mode (SS.B = 1)",
                      f_c32[2] - f_c32[3], 4);
            report_eq("SYSRETL: the push went to [ESP] (SS base 0)", f_c32[4], 0x5AA55AA5);
        }
        /* Intel: SYSCALL is #UD outside 64-bit mode (Vol 2 SYSCALL); QEMU
         * enters at IA32_CSTAR whatever the vendor. */
        if (PART(1))
            expect_at("Intel: SYSCALL in compatibility mode: #UD", v, UD_VECTOR,
                      u64(f_compat_syscall));
    } else if (PART(0)) {
        /* AMD: SYSCALL in compatibility mode enters at IA32_CSTAR. */
        expect_at("AMD: SYSCALL in compatibility mode enters at CSTAR", v, UD_VECTOR,
                  u64(f_cstar_ud2));
        report_eq("AMD: SYSCALL from compatibility mode: CS", f_in[4], SL_CODE64);
        report_eq("AMD: SYSCALL from compatibility mode: RCX", f_in[1],
                  u64(f_compat_syscall) + 2);
    }

    /* Faults. */
    if (PART(1) && intel) /* QEMU does not check RCX */
        expect_at("Intel: SYSRETQ with a non-canonical RCX: #GP(0) at CPL 0",
                  run_catching(call_site, f_sysret_nc), GP_VECTOR, u64(f_sysret_nc_insn));
    if (!PART(0))
        return;
    expect_at("SYSRET at CPL 3: #GP(0)", user64_call(call_site, f_user_sysret), GP_VECTOR,
              u64(f_user_sysret_insn));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
    expect_at("SYSCALL with EFER.SCE = 0: #UD", run_catching(call_site, f_syscall0), UD_VECTOR,
              u64(f_syscall0));
    expect_at("SYSRET with EFER.SCE = 0: #UD", run_catching(call_site, f_sysret0), UD_VECTOR,
              u64(f_sysret0_insn));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

static void test_sysenter64(void)
{
    uint64_t esp = u64(kstack + sizeof(kstack));
    wrmsr(MSR_SYSENTER_CS, SX64);
    wrmsr(MSR_SYSENTER_ESP, esp);
    wrmsr(MSR_SYSENTER_EIP, u64(f_sysenter64));
    if (PART(1) && intel) {
        /* QEMU does not check RCX and RDX. */
        expect_at("SYSEXITQ with a non-canonical RDX: #GP(0)",
                  run_catching(call_site, f_sysexit_nc), GP_VECTOR, u64(f_sysexit_nc_insn));
        expect_at("SYSEXITQ with a non-canonical RCX: #GP(0)",
                  run_catching(call_site, f_sysexit_ncsp), GP_VECTOR, u64(f_sysexit_ncsp_insn));
    }
    if (!PART(0))
        return;
    report_eq("IA32_SYSENTER_CS reads back", rdmsr(MSR_SYSENTER_CS), SX64);

    if (!intel) {
        /* AMD: SYSENTER and SYSEXIT are #UD in long mode. */
        expect_at("AMD: SYSENTER in 64-bit mode: #UD", user64_call(call_site, f_user_sysenter_only),
                  UD_VECTOR, u64(f_user_sysenter_only));
        expect_at("AMD: SYSEXIT in 64-bit mode: #UD", run_catching(call_site, f_sysexit_nc),
                  UD_VECTOR, u64(f_sysexit_nc_insn));
        return;
    }
    memset(f_in, 0, 64);
    memset(f_after, 0, 40);
    f_sx_mode = 0;
    int v = user64_call(call_site, f_user_sysenter);
    report_msg("Intel: SYSENTER/SYSEXITQ from 64-bit CPL 3: completes", v < 0,
               "vector %d error %#llx rip %#llx", v, (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.rip);
    report_eq("SYSENTER: CS = IA32_SYSENTER_CS", f_in[4], SX64);
    report_eq("SYSENTER: SS = IA32_SYSENTER_CS + 8", f_in[5], SX64 + 8);
    report_eq("SYSENTER: RSP = IA32_SYSENTER_ESP", f_in[0], esp);
    report_eq("SYSENTER: IF and VM clear", f_in[3] & (RFLAGS_IF | BIT(17)), 0);
    report_eq("SYSEXITQ: CS = IA32_SYSENTER_CS + 32, RPL 3", f_after[1], (SX64 + 32) | 3);
    report_eq("SYSEXITQ: SS = IA32_SYSENTER_CS + 40, RPL 3", f_after[2], (SX64 + 40) | 3);
    report_eq("SYSEXITQ: RSP = RCX", f_after[3], f_after[4]);

    memset(f_c32, 0, sizeof(uint32_t) * 6);
    f_sx_mode = 1;
    v = user64_call(call_site, f_user_sysenter_c);
    f_sx_mode = 0;
    expect_at("SYSEXITL returns to compatibility mode (EIP = EDX)", v, UD_VECTOR,
              u64(f_sx_compat32_ud2));
    report_eq("SYSEXITL: CS = IA32_SYSENTER_CS + 16, RPL 3", f_c32[0], (SX64 + 16) | 3);
    report_eq("SYSEXITL: SS = IA32_SYSENTER_CS + 24, RPL 3", f_c32[1], (SX64 + 24) | 3);
    report_eq("SYSEXITL: ESP = ECX", f_c32[2], (uint32_t)u64(f_ustack_top));

    expect_at("SYSEXIT at CPL 3: #GP(0)", user64_call(call_site, f_user_sysexit), GP_VECTOR,
              u64(f_user_sysexit));
    wrmsr(MSR_SYSENTER_CS, 0);
    expect_at("SYSENTER with IA32_SYSENTER_CS = 0: #GP(0)",
              user64_call(call_site, f_user_sysenter_only), GP_VECTOR, u64(f_user_sysenter_only));
    wrmsr(MSR_SYSENTER_CS, SX64);
}

/* Legacy protected mode (both vendors). */
static void test_sysenter32(void)
{
    static uint8_t stack32[4096] __attribute__((aligned(16)));
    uint32_t esp = addr32(stack32 + sizeof(stack32));
    wrmsr(MSR_SYSENTER_CS, SX32);
    wrmsr(MSR_SYSENTER_ESP, esp);
    wrmsr(MSR_SYSENTER_EIP, addr32(f_sysenter32));
    memset(f_in, 0, 64);
    struct x32 r = {.fn = addr32(f_u32_sysenter)};
    int v = x32_run_user(&r);
    report_msg("legacy: SYSENTER/SYSEXIT from CPL 3: completes", v < 0, "vector %d error %#x eip %#x",
               v, pm32_last.err, pm32_last.eip);
    report_eq("legacy SYSENTER: CS = IA32_SYSENTER_CS", f_in[4], SX32);
    report_eq("legacy SYSENTER: SS = IA32_SYSENTER_CS + 8", f_in[5], SX32 + 8);
    report_eq("legacy SYSENTER: ESP = IA32_SYSENTER_ESP", f_in[0], esp);
    report_eq("legacy SYSENTER: IF and VM clear", f_in[3] & (RFLAGS_IF | BIT(17)), 0);
    report_eq("legacy SYSEXIT: CS = IA32_SYSENTER_CS + 16, RPL 3", r.eax, (SX32 + 16) | 3);
    report_eq("legacy SYSEXIT: SS = IA32_SYSENTER_CS + 24, RPL 3", r.ebx, (SX32 + 24) | 3);
    report_eq("legacy SYSEXIT: ESP = ECX", r.esi, r.ebp);

    r = (struct x32){.fn = addr32(f_u32_sysexit)};
    x32_run_user(&r);
    pm32_expect("legacy: SYSEXIT at CPL 3: #GP(0)", GP_VECTOR, 0);
    wrmsr(MSR_SYSENTER_CS, 0);
    r = (struct x32){.fn = addr32(f_u32_sysenter_only)};
    x32_run_user(&r);
    pm32_expect("legacy: SYSENTER with IA32_SYSENTER_CS = 0: #GP(0)", GP_VECTOR, 0);
    wrmsr(MSR_SYSENTER_CS, SX32);
}

void test_main(void)
{
    struct cpuid_regs id = cpuid(0);
    intel = id.b == 0x756E6547 && id.d == 0x49656E69 && id.c == 0x6C65746E; /* GenuineIntel */
    printf("sys_fastcall: %s CPU\n", intel ? "Intel" : "non-Intel (AMD rules)");
    sys_init();
    /* SYSENTER selector blocks (Vol 2 SYSENTER/SYSEXIT: fixed offsets). */
    gdt_set(SX64 / 8 + 0, gdt_desc(0, 0xFFFFF, 0xB, 0, 0xA));
    gdt_set(SX64 / 8 + 1, gdt_desc(0, 0xFFFFF, 0x3, 0, 0xC));
    gdt_set(SX64 / 8 + 2, gdt_desc(0, 0xFFFFF, 0xB, 3, 0xC));
    gdt_set(SX64 / 8 + 3, gdt_desc(0, 0xFFFFF, 0x3, 3, 0xC));
    gdt_set(SX64 / 8 + 4, gdt_desc(0, 0xFFFFF, 0xB, 3, 0xA));
    gdt_set(SX64 / 8 + 5, gdt_desc(0, 0xFFFFF, 0x3, 3, 0xC));
    gdt_set(SX32 / 8 + 0, gdt_desc(0, 0xFFFFF, 0xB, 0, 0xC));
    gdt_set(SX32 / 8 + 1, gdt_desc(0, 0xFFFFF, 0x3, 0, 0xC));
    gdt_set(SX32 / 8 + 2, gdt_desc(0, 0xFFFFF, 0xB, 3, 0xC));
    gdt_set(SX32 / 8 + 3, gdt_desc(0, 0xFFFFF, 0x3, 3, 0xC));

    if (!(cpuid(0x80000001).d & BIT(11)))
        report_skip("SYSCALL/SYSRET", "CPUID.80000001H:EDX.SYSCALL is 0");
    else
        test_syscall64();
    if (!(cpuid(1).d & BIT(11))) {
        report_skip("SYSENTER/SYSEXIT", "CPUID.1:EDX.SEP is 0");
        return;
    }
    test_sysenter64();
    if (PART(0))
        test_sysenter32();
}
