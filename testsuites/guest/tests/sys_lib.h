/* sys_lib.h: shared pieces of the sys_* guest tests (system behaviour of
 * the CPU). Not a test itself (the harness looks for .c files only).
 *
 * C side (include after vp.h): selectors for ring-3 segments, descriptor
 * builders, the runtime's 64-bit TSS, ring-3 execution in 64-bit mode
 * (user64_call), and the entry to 32-bit legacy protected mode
 * (pm32_run), where the test runs 32-bit code with its own IDT and TSS.
 *
 * Assembly side: a test's .S file does
 *     #define SYS_LIB_ASM
 *     #include "sys_lib.h"
 * once, which emits the mode-switch code, the 32-bit IDT stubs and the
 * ring-3 trampolines. Everything else in the .S is the test's own.
 *
 * SDM Vol 3A, "Initializing IA-32e Mode" (leaving and re-entering long
 * mode), "Interrupt and Exception Handling" (the 32-bit IDT), "Task
 * Management" (the 32-bit TSS with SS0:ESP0), "Privilege Levels".
 */
#ifndef SYS_LIB_H
#define SYS_LIB_H

/* ---- selectors (runtime's plus the ones sys_init adds) -------------- */
#define SL_CODE64 0x08
#define SL_DATA 0x10
#define SL_CODE32 0x18
#define SL_CODE16 0x20
#define SL_DATA16 0x28
#define SL_TSS 0x30
/* Ordered for SYSRET: STAR[63:48] = SEL_U32 gives CS = SEL_U32 (32-bit),
 * SS = SEL_U32 + 8, CS = SEL_U32 + 16 (64-bit). */
#define SEL_U32 0x40   /* 32-bit code, DPL 3 */
#define SEL_UDATA 0x48 /* flat data, DPL 3 */
#define SEL_U64 0x50   /* 64-bit code, DPL 3 */
#define SEL_TSS32 0x58 /* the 32-bit TSS pm32_run loads */
#define SYS_GDT_FREE 12 /* first GDT index free for the test */

#define PM32_EXIT_VEC 0x81 /* INT 81h (DPL 3) ends a pm32 run: result EAX */

/* Offsets in struct pm32_frame (dwords), also for assembly handlers. */
#define PF32_ES 0
#define PF32_DS 4
#define PF32_EDI 8
#define PF32_EAX 36
#define PF32_VEC 40
#define PF32_ERR 44
#define PF32_EIP 48
#define PF32_CS 52
#define PF32_EFLAGS 56
#define PF32_ESP 60
#define PF32_SS 64
#define PF32_SIZE 68

#ifndef __ASSEMBLER__

#include "vp.h"

/* ---- descriptors ----------------------------------------------------- */

/* A system descriptor (S = 0): LDT (2), TSS (9/B), gates use sys_gate. */
static inline uint64_t sys_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)(type & 0xF) << 40 | (uint64_t)(dpl & 3) << 45 | 1ull << 47 |
           (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)(base >> 24) << 56;
}

/* A 32-bit (or 16-bit) gate: call (C/4), task (5), interrupt (E/6), trap
 * (F/7). For a 64-bit call gate the second slot holds offset[63:32]. */
static inline uint64_t sys_gate(uint16_t sel, uint32_t off, unsigned type, unsigned dpl,
                                unsigned params)
{
    return (uint64_t)(off & 0xFFFF) | (uint64_t)sel << 16 | (uint64_t)(params & 0x1F) << 32 |
           (uint64_t)(type & 0xF) << 40 | (uint64_t)(dpl & 3) << 45 | 1ull << 47 |
           (uint64_t)(off >> 16) << 48;
}

#define DESC_P BIT(47)
#define DESC_A BIT(40) /* accessed */
#define DESC_BUSY BIT(41)

static inline uint32_t addr32(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

static inline uint16_t read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t read_es(void) { uint16_t v; __asm__ volatile("mov %%es, %0" : "=r"(v)); return v; }
static inline uint16_t read_tr(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }

/* ---- the 32-bit TSS (SDM Vol 3A, "32-Bit Task-State Segment") -------- */
struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap;
};
_Static_assert(sizeof(struct tss32) == 0x68, "32-bit TSS is 104 bytes");

/* ---- the 64-bit TSS (SDM Vol 3A, "64-Bit Task State Segment") -------- */
struct __attribute__((packed)) tss64 {
    uint32_t r0;
    uint64_t rsp[3];
    uint64_t r1;
    uint64_t ist[7];
    uint64_t r2;
    uint16_t r3, iomap;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

/* The runtime's TSS (from its GDT descriptor). */
static inline volatile struct tss64 *sys_tss64(void)
{
    uint64_t lo = gdt_get(SL_TSS / 8), hi = gdt_get(SL_TSS / 8 + 1);
    uint64_t base = ((lo >> 16) & 0xFFFFFF) | ((lo >> 32) & 0xFF000000ull) | (hi << 32);
    return (volatile struct tss64 *)(uintptr_t)base;
}

/* ---- the runtime's IDT --------------------------------------------- */
struct idt64_gate {
    uint16_t off0, sel;
    uint8_t ist, type_attr;
    uint16_t off1;
    uint32_t off2, rsvd;
};
static inline volatile struct idt64_gate *sys_idt64(void)
{
    struct desc_ptr p;
    sidt(&p);
    return (volatile struct idt64_gate *)(uintptr_t)p.base;
}

/* ---- set up (sys_init) ---------------------------------------------- */

/* Adds the ring-3 and TSS32 descriptors, sets the U/S bit in every entry of
 * the runtime's identity map (so ring-3 code can run anywhere), gives the
 * runtime's TSS an RSP0 and builds the 32-bit IDT and TSS for pm32_run. */
void sys_init(void);

/* ---- ring 3 in 64-bit mode ------------------------------------------
 * user64_call runs fn(arg) at CPL 3 (CS = SEL_U64|3, SS = DS = ES =
 * SEL_UDATA|3) on a user stack with RFLAGS = rflags (IF must be 0), and
 * returns -1 when fn returned, else the vector of the first exception
 * (details in last_exception, as run_catching). fn must not use ports or
 * privileged instructions unless that is the point (printf cannot run at
 * CPL 3). The return to ring 0 is a UD2 at user64_done. */
extern char user64_done[];
int user64_call_flags(void (*fn)(void *), void *arg, uint64_t rflags);
static inline int user64_call(void (*fn)(void *), void *arg)
{
    return user64_call_flags(fn, arg, 0x2);
}
/* Enters ring 3 at rip with rsp (never returns: end with an exception). */
struct user64_frame { uint64_t rip, rsp, rflags, rdi; };
void user64_jump(void *frame /* struct user64_frame * */);

/* ---- 32-bit legacy protected mode ----------------------------------
 * pm32_run(fn, arg) leaves long mode (paging off unless pm32_cr3 is set:
 * then CR4 = pm32_cr4 and CR3 = pm32_cr3 with paging on), loads the
 * 32-bit IDT (pm32_idt: interrupt gates to stubs, vector 81h DPL 3) and TR
 * = pm32_tr (SEL_TSS32 after sys_init), then calls the 32-bit function fn
 * with arg on the stack (cdecl). It comes back to long mode when fn
 * returns (pm32_last.vector = -1, result = EAX), when code executes INT
 * 81h at any CPL (vector -1, result = that EAX), or at the first
 * exception without a handler (vector, error code, EIP, ... in
 * pm32_last). pm32_handlers[v] may name a 32-bit assembly function called
 * with a struct pm32_frame * (cdecl): it returns 0 to resume (IRET with
 * the frame, which it may change) or nonzero to end the run as above.
 * GDTR, IDTR, CR3, CR4, TR are restored on the way back. */
struct pm32_frame {
    uint32_t es, ds, edi, esi, ebp, esp_, ebx, edx, ecx, eax;
    uint32_t vector, err, eip, cs, eflags, esp, ss; /* esp/ss: from outer rings */
};
_Static_assert(sizeof(struct pm32_frame) == PF32_SIZE, "pm32 frame layout");
extern struct pm32_frame pm32_last;
extern int32_t pm32_vector; /* -1: no exception */
extern uint32_t pm32_cr3, pm32_cr4;
extern uint16_t pm32_tr;
extern uint32_t pm32_handlers[256];
extern uint64_t pm32_idt[256];
extern struct tss32 pm32_tss; /* the TSS at SEL_TSS32 */
extern char pm32_stubs[];     /* 256 stubs, 16 bytes apart */
uint32_t pm32_run(uint32_t fn, uint32_t arg);
/* 32-bit helper: pm32_user(eip, esp, eflags) enters ring 3 with CS =
 * SEL_U32|3 and SS = DS = ES = FS = GS = SEL_UDATA|3. */
extern char pm32_user[];

/* Stacks for ring-3 code (64-bit and 32-bit), from alloc_pages. */
extern uint64_t sys_user_stack_top;

/* Interrupt gate (32-bit) for pm32_idt entry `vec` pointing at `target`. */
static inline void pm32_set_gate(int vec, uint32_t target, unsigned type, unsigned dpl)
{
    pm32_idt[vec] = sys_gate(SL_CODE32, target, type, dpl, 0);
}
static inline void pm32_reset_gate(int vec)
{
    pm32_set_gate(vec, addr32(pm32_stubs) + 16u * (unsigned)vec, 0xE,
                  vec == PM32_EXIT_VEC ? 3 : 0);
}

/* A report for a pm32 run: the want vector (-1 none) and error code. */
static inline bool pm32_expect(const char *name, int want_vec, uint32_t want_err)
{
    bool ok = pm32_vector == want_vec && (want_vec < 0 || pm32_last.err == want_err);
    return report_msg(name, ok, "vector %d error %#x eip %#x, want vector %d error %#x",
                      (int)pm32_vector, pm32_last.err, pm32_last.eip, want_vec, want_err);
}

/* A report for a run_catching/user64_call result. */
static inline bool expect_vec(const char *name, int got, int want_vec, uint64_t want_err)
{
    bool ok = got == want_vec && (want_vec < 0 || !vector_has_error_code(want_vec) ||
                                  last_exception.error_code == want_err);
    return report_msg(name, ok, "vector %d error %#llx rip %#llx, want vector %d error %#llx",
                      got, got < 0 ? 0ull : (unsigned long long)last_exception.error_code,
                      got < 0 ? 0ull : (unsigned long long)last_exception.rip, want_vec,
                      (unsigned long long)want_err);
}

/* A 32-bit snippet run in legacy protected mode with given registers:
 * fn is the snippet's address; eax..ebp are loaded before it runs. At CPL 0
 * (x32_run) it ends with RET and every register, EFLAGS included, is
 * written back. At CPL 3 (x32_run_user: CS = SEL_U32|3, SS = DS = ES = FS
 * = GS = SEL_UDATA|3, ESP = esp or the user stack, EFLAGS = eflags) it
 * ends with INT 81h and the registers are taken from that frame (esp and
 * ss too). Both return the vector of an exception that ended the run, or
 * -1 (pm32_last has the frame either way). */
struct x32 {
    uint32_t fn, eax, ebx, ecx, edx, esi, edi, eflags, ebp, esp, ss;
};
extern char x32_entry[], x32_user_entry[];
static inline int x32_run(struct x32 *r)
{
    pm32_run(addr32(x32_entry), addr32(r));
    return pm32_vector;
}
static inline int x32_run_user(struct x32 *r)
{
    if (!r->esp)
        r->esp = (uint32_t)sys_user_stack_top - 64;
    if (!r->eflags)
        r->eflags = 2;
    pm32_run(addr32(x32_user_entry), addr32(r));
    if (pm32_vector < 0) {
        r->eax = pm32_last.eax, r->ebx = pm32_last.ebx, r->ecx = pm32_last.ecx;
        r->edx = pm32_last.edx, r->esi = pm32_last.esi, r->edi = pm32_last.edi;
        r->ebp = pm32_last.ebp, r->eflags = pm32_last.eflags;
        r->esp = pm32_last.esp, r->ss = pm32_last.ss;
    }
    return pm32_vector;
}

/* ---- sys_init (defined once per test: the header is included by one .c;
 * a test without the assembly half defines SYS_LIB_DECLS_ONLY) ------- */
#ifndef SYS_LIB_DECLS_ONLY

extern uint64_t vp_pdpt[512], vp_pd[2048];
uint64_t sys_user_stack_top;
struct tss32 pm32_tss __attribute__((aligned(128)));
static uint8_t sys_kstack[16384] __attribute__((aligned(16)));
static uint8_t pm32_kstack[16384] __attribute__((aligned(16)));

void sys_init(void)
{
    gdt_set(SEL_U32 / 8, gdt_desc(0, 0xFFFFF, 0xB, 3, 0xC));
    gdt_set(SEL_UDATA / 8, gdt_desc(0, 0xFFFFF, 0x3, 3, 0xC));
    gdt_set(SEL_U64 / 8, gdt_desc(0, 0xFFFFF, 0xB, 3, 0xA));
    /* U/S in every level of the identity map. */
    vp_pml4[0] |= 4;
    for (int i = 0; i < 4; i++)
        vp_pdpt[i] |= 4;
    for (int i = 0; i < 2048; i++)
        vp_pd[i] |= 4;
    write_cr3(read_cr3());
    sys_tss64()->rsp[0] = (uint64_t)(uintptr_t)(sys_kstack + sizeof(sys_kstack));
    sys_user_stack_top = (uint64_t)(uintptr_t)alloc_pages(4) + 4 * 4096;

    memset(&pm32_tss, 0, sizeof(pm32_tss));
    pm32_tss.esp0 = addr32(pm32_kstack + sizeof(pm32_kstack));
    pm32_tss.ss0 = SL_DATA;
    pm32_tss.iomap = sizeof(pm32_tss); /* no I/O bitmap */
    gdt_set(SEL_TSS32 / 8, sys_desc(addr32(&pm32_tss), sizeof(pm32_tss) - 1, 9, 0));
    pm32_tr = SEL_TSS32;
    for (int v = 0; v < 256; v++)
        pm32_reset_gate(v);
}

struct user64_call_args {
    void (*fn)(void *);
    void *arg;
    uint64_t rflags;
};
extern char user64_tramp[];
static void user64_go(void *p)
{
    const struct user64_call_args *a = p;
    struct user64_frame f = {
        .rip = (uint64_t)(uintptr_t)user64_tramp,
        .rsp = sys_user_stack_top - 64,
        .rflags = a->rflags,
        .rdi = (uint64_t)(uintptr_t)a,
    };
    user64_jump(&f);
}

int user64_call_flags(void (*fn)(void *), void *arg, uint64_t rflags)
{
    struct user64_call_args a = {fn, arg, rflags};
    int v = run_catching(user64_go, &a);
    if (v == UD_VECTOR && last_exception.rip == (uint64_t)(uintptr_t)user64_done)
        return -1;
    return v;
}
#endif /* SYS_LIB_DECLS_ONLY */

#else /* __ASSEMBLER__ */
#ifdef SYS_LIB_ASM

#define SYS_MSR_EFER 0xC0000080
#define SYS_EFER_LME 0x100
#define SYS_CR0_PG 0x80000000

/* ---- ring 3, 64-bit ------------------------------------------------- */
    .text
    .code64
    .globl user64_jump, user64_tramp, user64_done
/* user64_jump(struct user64_frame *f): rip, rsp, rflags, rdi */
user64_jump:
    mov $(SEL_UDATA | 3), %eax
    mov %eax, %ds
    mov %eax, %es
    pushq $(SEL_UDATA | 3)
    pushq 8(%rdi)
    pushq 16(%rdi)
    pushq $(SEL_U64 | 3)
    pushq 0(%rdi)
    mov 24(%rdi), %rdi
    iretq

/* At CPL 3: rdi = struct user64_call_args * {fn, arg, ...}. */
user64_tramp:
    mov 0(%rdi), %rax
    mov 8(%rdi), %rdi
    call *%rax
user64_done:
    ud2

/* ---- 32-bit legacy protected mode ---------------------------------- */
    .globl pm32_run, pm32_user, pm32_stubs
pm32_run:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, pm32_saved_rsp(%rip)
    mov %edi, pm32_fn(%rip)
    mov %esi, pm32_arg(%rip)
    sgdt pm32_saved_gdtr(%rip)
    sidt pm32_saved_idtr(%rip)
    mov %cr3, %rax
    mov %rax, pm32_saved_cr3(%rip)
    mov %cr4, %rax
    mov %rax, pm32_saved_cr4(%rip)
    movl $-1, pm32_vector(%rip)
    pushq $SL_CODE32
    lea 1f(%rip), %rax
    push %rax
    lretq

    .code32
1:  mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    /* Leave IA-32e mode: paging off (LMA = 0), then LME off. */
    mov %cr0, %eax
    and $~SYS_CR0_PG, %eax
    mov %eax, %cr0
    mov $SYS_MSR_EFER, %ecx
    rdmsr
    and $~SYS_EFER_LME, %eax
    wrmsr
    mov pm32_cr3, %eax
    test %eax, %eax
    jz 2f
    mov pm32_cr4, %edx
    mov %edx, %cr4
    mov %eax, %cr3
    mov %cr0, %eax
    or $SYS_CR0_PG, %eax
    mov %eax, %cr0
2:  lidt pm32_idtr
    movzwl pm32_tr, %eax
    test %eax, %eax
    jz 3f
    and $~7, %eax
    andb $~2, vp_gdt+5(%eax)       /* available, so that LTR accepts it */
    movzwl pm32_tr, %eax
    ltr %ax
3:  mov %esp, pm32_saved_esp
    pushl pm32_arg
    call *pm32_fn
    mov %eax, pm32_last + PF32_EAX

/* Back to long mode from any ring-0 32-bit state with a usable DS. */
pm32_back:
    lgdt pm32_saved_gdtr
    ljmp $SL_CODE32, $4f
4:  mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov pm32_saved_esp, %esp
    pushl $2
    popfl
    clts
    mov %cr0, %eax
    and $~SYS_CR0_PG, %eax
    mov %eax, %cr0
    mov pm32_saved_cr4, %eax
    mov %eax, %cr4
    mov pm32_saved_cr3, %eax
    mov %eax, %cr3
    mov $SYS_MSR_EFER, %ecx
    rdmsr
    or $SYS_EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $SYS_CR0_PG, %eax
    mov %eax, %cr0
    ljmp $SL_CODE64, $5f

    .code64
5:  mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov pm32_saved_rsp(%rip), %rsp
    lgdt pm32_saved_gdtr(%rip)
    lidt pm32_saved_idtr(%rip)
    xor %eax, %eax
    lldt %ax
    andb $~2, vp_gdt + SL_TSS + 5(%rip)
    mov $SL_TSS, %eax
    ltr %ax
    mov pm32_last + PF32_EAX(%rip), %eax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .code32
/* pm32_user(eip, esp, eflags): IRET to ring 3. */
pm32_user:
    mov 4(%esp), %eax
    mov 8(%esp), %edx
    mov 12(%esp), %ecx
    mov $(SEL_UDATA | 3), %ebx
    mov %ebx, %ds
    mov %ebx, %es
    mov %ebx, %fs
    mov %ebx, %gs
    pushl $(SEL_UDATA | 3)
    push %edx
    push %ecx
    pushl $(SEL_U32 | 3)
    push %eax
    iret


/* x32_entry(struct x32 *r): registers from r, call r->fn, registers back. */
    .globl x32_entry, x32_user_entry
x32_entry:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov 20(%esp), %ebp
    push %ebp
    mov 4(%ebp), %eax
    mov 8(%ebp), %ebx
    mov 12(%ebp), %ecx
    mov 16(%ebp), %edx
    mov 20(%ebp), %esi
    mov 24(%ebp), %edi
    push 0(%ebp)
    mov 32(%ebp), %ebp
    call *(%esp)
    lea 4(%esp), %esp
    pushfl
    push %ebp
    mov 8(%esp), %ebp
    mov %eax, 4(%ebp)
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov 4(%ebp), %eax
    mov %ebx, 8(%ebp)
    mov %ecx, 12(%ebp)
    mov %edx, 16(%ebp)
    mov %esi, 20(%ebp)
    mov %edi, 24(%ebp)
    popl 32(%ebp)
    popl 28(%ebp)
    add $4, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

/* x32_user_entry(struct x32 *r): IRET to r->fn at CPL 3. */
x32_user_entry:
    mov 4(%esp), %ebp
    mov $(SEL_UDATA | 3), %eax
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    pushl $(SEL_UDATA | 3)
    pushl 36(%ebp)
    pushl 28(%ebp)
    pushl $(SEL_U32 | 3)
    pushl 0(%ebp)
    mov 8(%ebp), %ebx
    mov 12(%ebp), %ecx
    mov 16(%ebp), %edx
    mov 20(%ebp), %esi
    mov 24(%ebp), %edi
    mov 4(%ebp), %eax
    push 32(%ebp)
    mov $(SEL_UDATA | 3), %ebp
    mov %ebp, %ds
    pop %ebp
    iret

#define SYS_HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)
    .balign 16
pm32_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !SYS_HAS_ERR(vec)
    pushl $0
    .endif
    pushl $vec
    jmp pm32_common
    .set vec, vec + 1
    .endr

pm32_common:
    pushal
    push %ds
    push %es
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    cld
    mov PF32_VEC(%esp), %eax
    cmp $PM32_EXIT_VEC, %eax
    je 7f
    mov pm32_handlers(,%eax,4), %edx
    test %edx, %edx
    jz 6f
    push %esp
    call *%edx
    add $4, %esp
    test %eax, %eax
    jnz 6f
    pop %es
    pop %ds
    popal
    add $8, %esp
    iret
6:  mov PF32_VEC(%esp), %eax
    mov %eax, pm32_vector
    jmp 8f
7:  movl $-1, pm32_vector
8:  mov %esp, %esi
    mov $pm32_last, %edi
    mov $(PF32_SIZE / 4), %ecx
    rep movsl
    jmp pm32_back

    .data
    .balign 16
    .globl pm32_cr3, pm32_cr4, pm32_tr, pm32_handlers, pm32_idt, pm32_last, pm32_vector
pm32_saved_rsp: .quad 0
pm32_saved_cr3: .quad 0
pm32_saved_cr4: .quad 0
pm32_saved_esp: .long 0
pm32_fn: .long 0
pm32_arg: .long 0
pm32_cr3: .long 0
pm32_cr4: .long 0
pm32_vector: .long -1
pm32_tr: .word 0
    .balign 16
pm32_saved_gdtr: .skip 16
pm32_saved_idtr: .skip 16
    .balign 8
pm32_idtr:
    .word 256 * 8 - 1
    .long pm32_idt
    .balign 16
pm32_last: .skip PF32_SIZE
    .balign 16
pm32_handlers: .skip 256 * 4
    .balign 16
pm32_idt: .skip 256 * 8
    .text
    .code64

#endif /* SYS_LIB_ASM */
#endif /* __ASSEMBLER__ */
#endif /* SYS_LIB_H */
