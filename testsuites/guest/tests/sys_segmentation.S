/* sys_segmentation.S: code fragments for sys_segmentation.c. 32-bit ones
 * run under x32_run / x32_run_user (registers in, registers out); 64-bit
 * ones are called from C. */
#define SYS_LIB_ASM
#include "sys_lib.h"

/* ================= 64-bit mode ========================================= */
    .text
    .code64
    .globl s64_ljmp, s64_ljmp_back, s64_target64, s64_back_ptr, s64_got_cs
    .globl s64_gate_entry, s64_gate_frame, s64_lcall
/* s64_ljmp(rdi = far pointer m16:32): far JMP; the target comes back to
 * s64_ljmp_back through s64_back_ptr. */
s64_ljmp:
    ljmpl *(%rdi)
s64_ljmp_back:
    ret

/* A JMP target in any 64-bit code segment with base 0. */
s64_target64:
    mov %cs, %eax
    mov %eax, s64_got_cs(%rip)
    ljmpl *s64_back_ptr(%rip)

/* s64_lcall(rdi = far pointer m16:32): far CALL (to a call gate). Returns
 * RSP after the call returned in RAX, and the DS/ES/SS/CS seen then in
 * s64_after[0..3]. */
s64_lcall:
    push %rbx
    mov %rsp, s64_rsp_before(%rip)
    lcalll *(%rdi)
    mov %rsp, %rax
    mov %ds, %ebx
    mov %ebx, s64_after(%rip)
    mov %es, %ebx
    mov %ebx, s64_after + 4(%rip)
    mov %ss, %ebx
    mov %ebx, s64_after + 8(%rip)
    mov %cs, %ebx
    mov %ebx, s64_after + 12(%rip)
    pop %rbx
    ret

/* Target of a 64-bit call gate: records SS, RSP, CS and the four words
 * on the new stack, loads DS = ES = SL_DATA (DPL 0) and returns with a
 * 64-bit far RET. */
s64_gate_entry:
    push %rax
    mov %ss, %eax
    mov %rax, s64_gate_frame(%rip)
    lea 8(%rsp), %rax
    mov %rax, s64_gate_frame + 8(%rip)
    mov %cs, %eax
    mov %rax, s64_gate_frame + 16(%rip)
    mov 8(%rsp), %rax
    mov %rax, s64_gate_frame + 24(%rip)
    mov 16(%rsp), %rax
    mov %rax, s64_gate_frame + 32(%rip)
    mov 24(%rsp), %rax
    mov %rax, s64_gate_frame + 40(%rip)
    mov 32(%rsp), %rax
    mov %rax, s64_gate_frame + 48(%rip)
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    pop %rax
    lretq

    .data
    .balign 8
s64_back_ptr: .long s64_ljmp_back
    .word SL_CODE64
    .balign 8
s64_got_cs: .quad 0
    .globl s64_rsp_before
s64_rsp_before: .quad 0
    .globl s64_after
s64_after: .long 0, 0, 0, 0
    .balign 8
/* SS, RSP, CS, then [RSP], [RSP+8], [RSP+16], [RSP+24] */
s64_gate_frame: .quad 0, 0, 0, 0, 0, 0, 0
    .text

/* ================= 32-bit legacy protected mode ======================= */
    .code32
    .globl s32_mov_ds, s32_mov_es, s32_mov_fs, s32_mov_ss, s32_read8, s32_read16
    .globl s32_read32, s32_write32, s32_cs_read32, s32_cs_write32
    .globl s32_ljmp, s32_target32, s32_lar, s32_lsl, s32_verr, s32_verw
    .globl s32_lldt_ds, s32_limit_code, s32_ljmp_got_cs
/* EBX = selector; EAX = the register read back. */
s32_mov_ds:
    mov %ebx, %ds
    mov %ds, %eax
    ret
s32_mov_es:
    mov %ebx, %es
    mov %es, %eax
    ret
s32_mov_fs:
    mov %ebx, %fs
    mov %fs, %eax
    push $0
    pop %fs
    ret
s32_mov_ss:
    mov %ss, %ecx
    mov %ebx, %ss
    mov %ss, %eax
    mov %ecx, %ss
    ret
/* EBX = DS selector, ESI = offset. */
s32_read8:
    mov %ebx, %ds
    movzbl (%esi), %eax
    ret
s32_read16:
    mov %ebx, %ds
    movzwl (%esi), %eax
    ret
s32_read32:
    mov %ebx, %ds
    mov (%esi), %eax
    ret
s32_write32:
    mov %ebx, %ds
    movl $0x5a5a5a5a, (%esi)
    ret
s32_cs_read32:
    mov %cs:(%esi), %eax
    ret
s32_cs_write32:
    mov %eax, %cs:(%esi)
    ret
/* ESI = far pointer (m16:32); EAX = CS seen at the target. */
s32_ljmp:
    ljmpl *(%esi)
s32_ljmp_back:
    mov s32_ljmp_got_cs, %eax
    ret
/* A JMP target in any 32-bit code segment with base 0. */
s32_target32:
    mov %cs, %eax
    mov %eax, s32_ljmp_got_cs
    ljmpl $SL_CODE32, $s32_ljmp_back
/* EBX = selector; EAX in = a marker that must stay when ZF = 0. */
s32_lar:
    lar %bx, %eax
    ret
s32_lsl:
    lsl %bx, %eax
    ret
s32_verr:
    verr %bx
    ret
s32_verw:
    verw %bx
    ret
/* ECX = LDT selector, EBX = a selector to load into DS from it. */
s32_lldt_ds:
    lldt %cx
    mov %ebx, %ds
    mov %ds, %eax
    xor %ecx, %ecx
    lldt %cx
    ret

/* Code for a segment whose base is s32_limit_code and whose limit is 4:
 * four one-byte instructions, then a two-byte one that crosses it. */
    .balign 16
s32_limit_code:
    nop
    nop
    nop
    nop
    mov %eax, %eax
    ud2

    .data
    .balign 4
s32_ljmp_got_cs: .long 0
    .text

/* ---- ring 3 (x32_run_user) ------------------------------------------- */
    .globl u32_mov_ds, u32_mov_ss, u32_lcall, u32_ljmp, u32_push3, u32_ss_read
    .globl u32_lret_inner, s32_gate_entry, s32_gate_frame, s32_conf_entry
u32_mov_ds:
    mov %ebx, %ds
    mov %ds, %eax
    int $PM32_EXIT_VEC
u32_mov_ss:
    mov %ss, %ecx
    mov %ebx, %ss
    mov %ss, %eax
    mov %ecx, %ss
    int $PM32_EXIT_VEC
/* ESI = far pointer. Pushes two parameters, calls, and reports ESP
 * before (EDI) and after (EBP), DS (EAX), ES (ECX), SS (EDX), CS (EBX). */
u32_lcall:
    pushl $0x11111111
    pushl $0x22222222
    mov %esp, %edi
    lcall *%ss:(%esi)
    mov %esp, %ebp
    mov %ds, %eax
    mov %es, %ecx
    mov %ss, %edx
    mov %cs, %ebx
    int $PM32_EXIT_VEC
/* ESI = far pointer: a far JMP at CPL 3 (the target ends the run). */
u32_ljmp:
    ljmpl *(%esi)
/* EBX = SS selector, ECX = ESP: three pushes, EDI counts those done. */
u32_push3:
    xor %edi, %edi
    mov %ebx, %ss
    mov %ecx, %esp
    push %eax
    inc %edi
    push %eax
    inc %edi
    push %eax
    inc %edi
    int $PM32_EXIT_VEC
/* EBX = SS selector, EBP = offset: one SS-relative read. */
u32_ss_read:
    mov %ebx, %ss
    mov (%ebp), %eax
    int $PM32_EXIT_VEC
/* A far RET from CPL 3 to the CPL-0 code segment: #GP(selector). */
u32_lret_inner:
    pushl $SL_CODE32
    pushl $s32_ljmp_back
    lret

/* Target of a 32-bit call gate (2 parameters): records SS, ESP, CS and
 * six dwords of the new stack, loads DS = ES = SL_DATA, RET 8. */
s32_gate_entry:
    mov %ss, %eax
    mov %eax, s32_gate_frame
    mov %esp, s32_gate_frame + 4
    mov %cs, %eax
    mov %eax, s32_gate_frame + 8
    mov $0, %ecx
1:  mov (%esp,%ecx,4), %eax
    mov %eax, s32_gate_frame + 12(,%ecx,4)
    inc %ecx
    cmp $6, %ecx
    jne 1b
    mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    lret $8
/* Conforming code (base 0): CS and SS as seen there, in s32_gate_frame[0..1]. */
s32_conf_entry:
    mov %cs, %eax
    mov %eax, %ss:s32_gate_frame
    mov %ss, %eax
    mov %eax, %ss:s32_gate_frame + 4
    lret $8

    .data
    .balign 4
s32_gate_frame: .long 0, 0, 0, 0, 0, 0, 0, 0, 0
    .text
    .code64

    .section .note.GNU-stack, "", @progbits
