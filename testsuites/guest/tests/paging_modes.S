/* paging_modes.S: the assembly half of sys_lib.h, the 32-bit accesses the
 * 32-bit and PAE checks of paging_modes.c run (x32_run snippets: ESI =
 * the address, RET at the end), and the switch between 4-level and
 * 5-level paging (CR4.LA57 changes only outside IA-32e mode: SDM Vol 3A,
 * "Enabling and Changing Paging Modes"). */
#define SYS_LIB_ASM
#include "sys_lib.h"

#define MSR_EFER 0xC0000080
#define CR0_PG 0x80000000

    .text
    .code32
    .globl x_read, x_write, x_exec
x_read:
    movl (%esi), %eax
    ret
x_write:
    movl $0x11223344, (%esi)
    ret
x_exec:
    call *%esi
    ret

    .code64
/* la57_switch(cr3, cr4): leaves IA-32e mode through compatibility mode,
 * loads CR4 and CR3 with paging off, and re-enters 64-bit mode. The code,
 * the stack, the GDT and the IDT are identity-mapped in both
 * hierarchies. */
    .globl la57_switch
la57_switch:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    pushfq
    cli
    mov %rsp, la57_rsp(%rip)
    mov %edi, la57_cr3(%rip)
    mov %esi, la57_cr4(%rip)
    pushq $SL_CODE32
    lea 1f(%rip), %rax
    push %rax
    lretq

    .code32
1:  mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    mov la57_cr4, %eax
    mov %eax, %cr4
    mov la57_cr3, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    ljmp $SL_CODE64, $2f

    .code64
2:  mov $SL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov la57_rsp(%rip), %rsp
    popfq
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .data
    .balign 8
la57_rsp: .quad 0
la57_cr3: .long 0
la57_cr4: .long 0

    .section .note.GNU-stack, "", @progbits
