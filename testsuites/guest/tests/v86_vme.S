/* v86_vme.S: the 32-bit entry into virtual-8086 mode and the 16-bit
 * snippets v86_vme.c runs there. The blob between v86_blob and
 * v86_blob_end is copied to V86_BASE and runs with CS = DS = V86_SEG; each
 * snippet ends with HLT, which faults (#GP) in virtual-8086 mode and so
 * returns to pm32_run with the frame in pm32_last. Results go to the
 * words at R(i).
 * SDM Vol 3A, "Entering Virtual-8086 Mode" (IRET with EFLAGS.VM). */
#define SYS_LIB_ASM
#include "sys_lib.h"
#include "v86_vme.h"

#define R(i) (v86_res - v86_blob + 4 * (i))
#define OFF(l) ((l) - v86_blob)

    .text
    .code32
/* v86_go(struct v86_state *s): IRET to virtual-8086 mode with the frame
 * and EAX/EBX from s (cdecl, CPL 0). Never returns: the snippet ends with
 * an exception. */
    .globl v86_go
v86_go:
    mov 4(%esp), %esi
    pushl V86S_GS(%esi)
    pushl V86S_FS(%esi)
    pushl V86S_DS(%esi)
    pushl V86S_ES(%esi)
    pushl V86S_SS(%esi)
    pushl V86S_ESP(%esi)
    pushl V86S_EFLAGS(%esi)
    pushl V86S_CS(%esi)
    pushl V86S_EIP(%esi)
    mov V86S_EAX(%esi), %eax
    mov V86S_EBX(%esi), %ebx
    iret

/* Protected-mode virtual interrupts (CR4.PVI) at CPL 3: EAX = EFLAGS
 * after CLI, EBX = EFLAGS after STI. */
    .globl p_pvi, p_sti
p_pvi:
    cli
    pushfl
    popl %eax
    sti
    pushfl
    popl %ebx
    int $PM32_EXIT_VEC
p_sti:
    sti
    int $PM32_EXIT_VEC

    .code16
    .globl v86_blob, v86_blob_end, v86_res
    .balign 16
v86_blob:

/* IOPL 3: CLI/STI act on IF; PUSHFD clears VM and RF in its image. */
    .globl s_flags3
s_flags3:
    sti
    pushf
    pop %ax
    mov %ax, R(0)
    cli
    pushf
    pop %ax
    mov %ax, R(1)
    pushl $0x000f3202           /* VIF AC VM RF IOPL=3 IF */
    popfl
    pushfl
    popl %eax
    mov %eax, R(2)
    cli
    hlt

/* The I/O permission bit map, whatever IOPL: 80h and 82h allowed, 83h
 * denied (so a word at 82h faults). */
    .globl s_io, s_io_w
s_io:
    outb %al, $0x80
    outb %al, $0x82
s_io_w:
    outw %ax, $0x82
    hlt

/* One IOPL-sensitive instruction each, then HLT. */
    .globl s_cli, s_sti, s_pushf, s_pushfd, s_popf, s_popf_i, s_popfd
    .globl s_popfd_i, s_iret, s_iret_i, s_iretd, s_iretd_i, s_int42
    .globl s_int42_i, s_int43, s_int43_i
s_cli:
    cli
    hlt
s_sti:
    sti
    hlt
s_pushf:
    pushf
    hlt
s_pushfd:
    pushfl
    hlt
s_popf:
    push %bx
s_popf_i:
    popf
    hlt
s_popfd:
    pushl %ebx
s_popfd_i:
    popfl
    hlt
s_iret:
    push %bx
    push %cs
    push $OFF(1f)
s_iret_i:
    iret
1:  hlt
s_iretd:
    pushl %ebx
    xor %eax, %eax
    mov %cs, %ax
    pushl %eax
    pushl $OFF(1f)
s_iretd_i:
    iretl
1:  hlt
s_int42:
    int $0x42
s_int42_i:
    hlt
s_int43:
    int $0x43
s_int43_i:
    hlt

/* VME, IOPL < 3: CLI/STI move VIF, PUSHF shows VIF as IF and IOPL 3. */
    .globl s_vflags
s_vflags:
    cli
    pushf
    pop %ax
    mov %ax, R(0)
    sti
    pushf
    pop %ax
    mov %ax, R(1)
    hlt

/* A software interrupt that may be redirected to h42 through the IVT:
 * R(0) = FLAGS inside the handler, R(1) = the FLAGS image it got, R(2) =
 * FLAGS after its IRET, R(3) = 1 once the handler ran. */
    .globl s_redir, s_redir_i, h42
s_redir:
    movw $0, R(3)
s_redir_i:
    int $0x42
    pushf
    pop %ax
    mov %ax, R(2)
    hlt
h42:
    pushf
    pop %ax
    mov %ax, R(0)
    mov %sp, %bp
    mov 4(%bp), %ax
    mov %ax, R(1)
    movw $1, R(3)
    iret

    .balign 4
v86_res:
    .fill 8, 4, 0
v86_blob_end:

    .section .note.GNU-stack, "", @progbits
