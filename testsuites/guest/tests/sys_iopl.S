/* sys_iopl.S: 32-bit snippets for sys_iopl.c, run at CPL 3 (x32_run_user,
 * ending with INT 81h) or CPL 0 (x32_run, ending with RET). EDX = port,
 * EAX = value, EBX = an EFLAGS image. */
#define SYS_LIB_ASM
#include "sys_lib.h"

    .text
    .code32
    .globl io_out8, io_in8, io_out16, io_in16, io_in32, io_outsb, io_cli, io_sti
    .globl io_popf, io_iret, io_pushf, io_out8_k
io_out8:
    out %al, %dx
    int $PM32_EXIT_VEC
io_in8:
    in %dx, %al
    int $PM32_EXIT_VEC
io_out16:
    out %ax, %dx
    int $PM32_EXIT_VEC
io_in16:
    in %dx, %ax
    int $PM32_EXIT_VEC
io_in32:
    in %dx, %eax
    int $PM32_EXIT_VEC
/* ESI = the byte to write (DS:ESI). */
io_outsb:
    cld
    outsb
    int $PM32_EXIT_VEC
/* EAX = EFLAGS after the instruction. */
io_cli:
    cli
    pushfl
    pop %eax
    int $PM32_EXIT_VEC
io_sti:
    sti
    pushfl
    pop %eax
    cli
    int $PM32_EXIT_VEC
io_popf:
    push %ebx
    popfl
    pushfl
    pop %eax
    int $PM32_EXIT_VEC
/* IRET to the same privilege level with the image in EBX. */
io_iret:
    push %ebx
    push %cs
    push $1f
    iret
1:  pushfl
    pop %eax
    int $PM32_EXIT_VEC
io_pushf:
    pushfl
    pop %eax
    int $PM32_EXIT_VEC
/* At CPL 0 (x32_run): OUT, then RET. */
io_out8_k:
    out %al, %dx
    ret

    .code64
    .section .note.GNU-stack, "", @progbits
