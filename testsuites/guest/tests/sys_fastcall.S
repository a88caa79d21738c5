/* sys_fastcall.S: SYSCALL/SYSRET and SYSENTER/SYSEXIT entry points and
 * the ring-3 code that uses them, for sys_fastcall.c. Results: f_in (seen
 * at CPL 0), f_after (seen back at CPL 3), f_c32 (compatibility mode). */
#define SYS_LIB_ASM
#include "sys_lib.h"
#include "sys_fastcall.h"

    .text
    .code64
    .globl f_user_syscall, f_user_syscall_ret, f_lstar, f_cstar, f_cstar_ud2
    .globl f_gate_sysret, f_compat32, f_compat_syscall, f_sysret_nc, f_sysret_nc_insn
    .globl f_user_sysret, f_syscall0, f_sysret0, f_user_sysenter, f_user_sysenter_ret
    .globl f_sysenter64, f_user_sysenter_c, f_sx_compat32, f_sx_compat32_ud2
    .globl f_user_sysexit, f_sysexit_nc, f_sysexit_nc_insn, f_sysexit_ncsp
    .globl f_sysexit_ncsp_insn, f_user_sysenter_only, f_user_sysret_insn, f_sysret0_insn

/* CPL 3: RFLAGS = f_user_flags, SYSCALL, then what came back. */
f_user_syscall:
    push %rbx
    pushq f_user_flags(%rip)
    popfq
    mov %rsp, %rbx
    syscall
f_user_syscall_ret:
    pushfq
    popq f_after + 0(%rip)
    mov %cs, %eax
    mov %rax, f_after + 8(%rip)
    mov %ss, %eax
    mov %rax, f_after + 16(%rip)
    mov %rsp, f_after + 24(%rip)
    mov %rbx, f_after + 32(%rip)
    pushq $2
    popfq
    pop %rbx
    ret

/* IA32_LSTAR: what SYSCALL gave, then SYSRETQ with R11 |= f_r11_or. */
f_lstar:
    mov %rsp, f_in + 0(%rip)
    mov %rcx, f_in + 8(%rip)
    mov %r11, f_in + 16(%rip)
    pushfq
    popq f_in + 24(%rip)
    mov %cs, %eax
    mov %rax, f_in + 32(%rip)
    mov %ss, %eax
    mov %rax, f_in + 40(%rip)
    or f_r11_or(%rip), %r11
    sysretq

/* IA32_CSTAR (SYSCALL from compatibility mode, AMD): CS, then #UD. */
f_cstar:
    mov %cs, %eax
    mov %rax, f_in + 32(%rip)
    mov %rcx, f_in + 8(%rip)
f_cstar_ud2:
    ud2

/* Reached through a 64-bit call gate from CPL 3 (SS is now null): SYSRETL
 * to f_compat32 on f_ustack. */
f_gate_sysret:
    mov %ss, %eax
    mov %rax, f_in + 48(%rip)
    lea f_ustack_top(%rip), %rsp
    mov $f_compat32, %ecx
    mov $2, %r11d
    sysretl

    .code32
/* CPL 3, compatibility mode: CS, SS, a push and where it went (unless
 * f_do_push = 0: on AMD the SS left null by the call gate stays unusable
 * after SYSRET), then SYSCALL (#UD on Intel; CSTAR on AMD). */
f_compat32:
    mov %cs, %eax
    mov %eax, f_c32 + 0
    mov %ss, %eax
    mov %eax, f_c32 + 4
    cmpl $0, f_do_push
    je f_compat_syscall
    mov %esp, %ebx
    pushl $0x5AA55AA5
    mov %esp, %ecx
    mov %ebx, f_c32 + 8
    mov %ecx, f_c32 + 12
    mov (%ecx), %eax
    mov %eax, f_c32 + 16
f_compat_syscall:
    syscall
    ud2

/* SYSEXITL lands here (compatibility mode, CPL 3). */
f_sx_compat32:
    mov %cs, %eax
    mov %eax, f_c32 + 0
    mov %ss, %eax
    mov %eax, f_c32 + 4
    mov %esp, f_c32 + 8
f_sx_compat32_ud2:
    ud2
    .code64

/* CPL 0: SYSRETQ with a non-canonical RCX. */
f_sysret_nc:
    movabs $0x0000800000000000, %rcx
    mov $2, %r11d
f_sysret_nc_insn:
    sysretq

/* CPL 3: SYSRET (privileged). */
f_user_sysret:
    lea 1f(%rip), %rcx
    mov $2, %r11d
f_user_sysret_insn:
    sysretq
1:  ret

/* With EFER.SCE = 0. */
f_syscall0:
    syscall
    ret
f_sysret0:
    lea 1f(%rip), %rcx
f_sysret0_insn:
    sysretq
1:  ret

/* CPL 3: SYSENTER with RDX/RCX set for SYSEXITQ. */
f_user_sysenter:
    push %rbx
    lea f_user_sysenter_ret(%rip), %rdx
    mov %rsp, %rcx
    mov %rsp, %rbx
    sysenter
f_user_sysenter_ret:
    mov %cs, %eax
    mov %rax, f_after + 8(%rip)
    mov %ss, %eax
    mov %rax, f_after + 16(%rip)
    mov %rsp, f_after + 24(%rip)
    mov %rbx, f_after + 32(%rip)
    pop %rbx
    ret

/* CPL 3: SYSENTER, returning with SYSEXITL to compatibility mode. */
f_user_sysenter_c:
    mov $f_sx_compat32, %edx
    lea f_ustack_top(%rip), %rcx
    sysenter
    ud2

/* CPL 3: SYSENTER whatever happens (for the #GP/#UD cases). */
f_user_sysenter_only:
    sysenter
    ret

/* IA32_SYSENTER_EIP in IA-32e mode. f_sx_mode: 0 SYSEXITQ, 1 SYSEXITL. */
f_sysenter64:
    mov %rsp, f_in + 0(%rip)
    pushfq
    popq f_in + 24(%rip)
    mov %cs, %eax
    mov %rax, f_in + 32(%rip)
    mov %ss, %eax
    mov %rax, f_in + 40(%rip)
    cmpl $0, f_sx_mode(%rip)
    jne 1f
    sysexitq
1:  sysexitl

/* CPL 3: SYSEXIT (privileged). */
f_user_sysexit:
    sysexitq

/* CPL 0: SYSEXITQ with a non-canonical RDX, or RCX. */
f_sysexit_nc:
    movabs $0x0000800000000000, %rdx
    mov %rsp, %rcx
f_sysexit_nc_insn:
    sysexitq
f_sysexit_ncsp:
    lea 1f(%rip), %rdx
    movabs $0x0000800000000000, %rcx
f_sysexit_ncsp_insn:
    sysexitq
1:  ud2

/* ---- legacy protected mode (x32_run_user / x32_run) ----------------- */
    .code32
    .globl f_u32_sysenter, f_sysenter32, f_u32_sysexit, f_u32_sysenter_only
f_u32_sysenter:
    mov %esp, %ebp
    mov $1f, %edx
    mov %esp, %ecx
    sysenter
1:  mov %cs, %eax
    mov %ss, %ebx
    mov %esp, %esi
    int $PM32_EXIT_VEC
f_sysenter32:
    mov %esp, f_in + 0
    pushfl
    popl f_in + 24
    mov %cs, %eax
    mov %eax, f_in + 32
    mov %ss, %eax
    mov %eax, f_in + 40
    sysexit
f_u32_sysexit:
    sysexit
f_u32_sysenter_only:
    sysenter
    int $PM32_EXIT_VEC
    .code64

    .data
    .balign 16
    .globl f_in, f_after, f_c32, f_user_flags, f_r11_or, f_sx_mode, f_ustack_top, f_do_push
f_in: .quad 0, 0, 0, 0, 0, 0, 0, 0
f_after: .quad 0, 0, 0, 0, 0
f_c32: .long 0, 0, 0, 0, 0, 0
f_user_flags: .quad 2
f_r11_or: .quad 0
f_sx_mode: .long 0
f_do_push: .long 1
    .bss
    .balign 16
f_ustack: .skip 4096
f_ustack_top:

    .text
    .section .note.GNU-stack, "", @progbits
