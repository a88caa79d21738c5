/* sys_modes.S: code for sys_modes.c in 64-bit mode, compatibility mode
 * (32- and 16-bit code segments under IA-32e mode), 16-bit protected mode
 * and 32-bit legacy protected mode with paging switched on and off.
 * Results go to m_res[] (see sys_modes.c). */
#define SYS_LIB_ASM
#include "sys_lib.h"
#include "sys_modes.h"

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR0_PG 0x80000000
#define CR4_PSE 0x10
#define CR4_PAE 0x20

    .text
    .code64
    .globl m_lcall, m_ljmp_compat, m_iretq_compat, m_pg_off64, m_pg_off64_insn

/* m_lcall(rdi = far pointer m16:32, esi = EAX for the callee): far CALL
 * with 32-bit operand size; the callee returns with a far RET of the same
 * size. Returns the callee's EAX. */
m_lcall:
    push %rbx
    push %rbp
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %esi, %eax
    lcalll *(%rdi)
    pop %rbp
    pop %rbx
    ret

/* Far JMP to compatibility mode (m32_jmp_target) and far JMP back. */
m_ljmp_compat:
    push %rbx
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    ljmpl *m_jmp_ptr(%rip)
m_ljmp_back:
    pop %rbx
    ret

/* IRETQ from 64-bit mode to compatibility mode (same CPL: SS:RSP popped
 * too); the target JMPs back. */
m_iretq_compat:
    push %rbx
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %rsp, %rax
    pushq $SL_DATA
    push %rax
    pushfq
    pushq $SL_CODE32
    pushq $m32_iret_target
    iretq
m_iretq_back:
    pop %rbx
    ret

/* CR0.PG cleared in 64-bit mode: #GP(0). */
m_pg_off64:
    mov %cr0, %rax
    btr $31, %rax
m_pg_off64_insn:
    mov %rax, %cr0
    ret

    .data
    .balign 8
m_jmp_ptr: .long m32_jmp_target
    .word SL_CODE32
m_back_ptr: .long m_ljmp_back
    .word SL_CODE64
m_iret_back_ptr: .long m_iretq_back
    .word SL_CODE64
    .text

/* ---- compatibility mode, 32-bit code --------------------------------- */
    .code32
    .globl m32_probe, m32_ud, m32_ud_insn, m32_after_ud, m32_jmp_target, m32_iret_target
/* CS; DEC EAX (48h); push size; EFER. */
m32_probe:
    mov %cs, %eax
    mov %eax, m_res + 4 * R32_CS
    mov $5, %eax
    .byte 0x48                      /* DEC EAX; a REX prefix in 64-bit mode */
    mov %eax, m_res + 4 * R32_DEC
    mov %esp, %ecx
    push %eax
    mov %esp, %edx
    pop %eax
    sub %edx, %ecx
    mov %ecx, m_res + 4 * R32_PUSH
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, m_res + 4 * R32_EFER
    mov %esp, %eax
    mov %eax, m_res + 4 * R32_ESP
    mov $0x600D, %eax
    lret
/* #UD in compatibility mode; the 64-bit handler skips it. */
m32_ud:
    mov %esp, m_res + 4 * R32_UD_ESP
m32_ud_insn:
    ud2
m32_after_ud:
    mov %cs, %eax
    mov %eax, m_res + 4 * R32_AFTER_UD
    lret
m32_jmp_target:
    mov %cs, %eax
    mov %eax, m_res + 4 * R32_JMP_CS
    ljmpl *m_back_ptr
m32_iret_target:
    mov %cs, %eax
    mov %eax, m_res + 4 * R32_IRET_CS
    mov %ss, %eax
    mov %eax, m_res + 4 * R32_IRET_SS
    ljmpl *m_iret_back_ptr

/* ---- 16-bit code (compatibility mode and 16-bit protected mode) ------
 * The code segment's base is m16_start; offsets are from it. */
    .code16
    .balign 16
    .globl m16_start, m16_probe, m16_ud, m16_ud_insn, m16_int70, m16_isr, m16_stack
    .globl m16_call_ret, m16_int70_ret
m16_start:
m16_probe:
    mov %cs, %ax
    movzwl %ax, %eax
    addr32 mov %eax, m_res + 4 * R16_CS
    mov $0x11110000, %eax
    .byte 0xB8                      /* MOV AX, imm16: 16-bit operand size */
    .word 0x2222
    addr32 mov %eax, m_res + 4 * R16_MOV
    mov %esp, %ecx
    push %ax
    mov %esp, %edx
    pop %ax
    sub %edx, %ecx
    addr32 mov %ecx, m_res + 4 * R16_PUSH
    mov %esp, %ecx
    call m16_call_ret               /* near CALL pushes IP: 2 bytes */
m16_call_ret:
    mov %esp, %edx
    pop %ax
    sub %edx, %ecx
    addr32 mov %ecx, m_res + 4 * R16_CALL
    movzwl %ax, %eax
    addr32 mov %eax, m_res + 4 * R16_CALL_IP
    mov $0x600D, %eax
    lretl                           /* 66 CB: pops EIP and CS as dwords */
m16_ud:
m16_ud_insn:
    ud2
    mov $0x700D, %eax
    lretl

/* 16-bit protected mode: INT 70h through a 16-bit interrupt gate. */
m16_int70:
    mov %esp, %eax
    addr32 mov %eax, m_res + 4 * R16_INT_ESP
    int $0x70
m16_int70_ret:
    mov $0x800D, %eax
    lretl
/* The handler: the 6-byte frame (IP, CS, FLAGS), then a 16-bit IRET. */
m16_isr:
    mov %esp, %eax
    addr32 mov %eax, m_res + 4 * R16_ISR_ESP
    movzwl (%esp), %eax
    addr32 mov %eax, m_res + 4 * R16_ISR_IP
    movzwl 2(%esp), %eax
    addr32 mov %eax, m_res + 4 * R16_ISR_CS
    movzwl 4(%esp), %eax
    addr32 mov %eax, m_res + 4 * R16_ISR_FL
    iret

/* A 16-bit stack (SS.B = 0, selector in BX): two word pushes from SP = 2
 * wrap SP to FFFEh; ESP[31:16] is kept. ECX = ESP after. */
m16_stack:
    mov %ss, %dx
    mov %esp, %edi
    mov %bx, %ss
    mov $0x00010002, %esp
    pushw $0xBEEF
    pushw $0xCAFE
    mov %esp, %ecx
    mov %dx, %ss
    mov %edi, %esp
    lretl
m16_end:

/* ---- 32-bit legacy protected mode (x32_run) -------------------------- */
    .code32
    .globl m_pg32, m_lma, m_lme_nopae, m_lme_pg, m_lcall16
/* EBX = CR3, ECX = CR4 bits to set (PSE or PAE), ESI = probe address.
 * ECX out = the value read with paging on, EDX = with paging off, EDI =
 * EFER with paging on. */
m_pg32:
    mov %cr4, %eax
    and $~(CR4_PSE | CR4_PAE), %eax
    or %ecx, %eax
    mov %eax, %cr4
    mov %ebx, %cr3
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    mov (%esi), %ebp
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, %edi
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    mov (%esi), %edx
    mov %ebp, %ecx
    ret

/* EBX = the IA-32e page tables (PML4). ESI = EFER with LME = 1 before
 * paging, EDI = EFER after CR0.PG = 1 (compatibility mode), EDX = EFER
 * after CR0.PG = 0 again, EAX = CS in compatibility mode. */
m_lma:
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    rdmsr
    mov %eax, %esi
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov %ebx, %cr3
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    rdmsr
    mov %eax, %edi
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    rdmsr
    mov %eax, %ebp
    and $~EFER_LME, %eax
    wrmsr
    mov %ebp, %edx
    mov %cs, %eax
    ret

/* CR0.PG = 1 with EFER.LME = 1 and CR4.PAE = 0: #GP(0). */
m_lme_nopae:
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr4, %eax
    and $~CR4_PAE, %eax
    mov %eax, %cr4
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    ret

/* EBX = a 32-bit page directory: paging on, then EFER.LME = 1: #GP(0). */
m_lme_pg:
    mov %cr4, %eax
    or $CR4_PSE, %eax
    and $~CR4_PAE, %eax
    mov %eax, %cr4
    mov %ebx, %cr3
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    ret

/* ESI = far pointer to 16-bit code (m16:32): far CALL, EAX back. */
m_lcall16:
    lcall *(%esi)
    ret

    .data
    .balign 16
    .globl m_res
m_res: .fill M_RES_COUNT, 4, 0xFFFFFFFF
    .text
    .code64
    .section .note.GNU-stack, "", @progbits
