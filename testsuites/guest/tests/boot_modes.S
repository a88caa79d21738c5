/* boot_modes.S: the round trip behind boot_modes.c. From 64-bit mode:
 * compatibility mode -> paging and EFER.LME off (32-bit protected mode) ->
 * 16-bit protected mode -> real mode -> 32-bit protected mode -> long mode.
 * Each mode leaves its observations in the result slots (boot_modes.h).
 * SDM Vol 3A, "Initializing IA-32e Mode" (entering and leaving it) and
 * "Switching Back to Real-Address Mode". */
#include "boot_modes.h"

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define SEL_CODE16 0x20
#define SEL_DATA16 0x28
#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR0_PE 0x1
#define CR0_PG 0x80000000

/* A result slot: absolute (flat segments), or DS-relative in real mode. */
#define RES_OFF (rm_results - rm_blob_start)
#define SLOT(i) (RM_BASE + RES_OFF + 4 * (i))
#define RSLOT(i) (RES_OFF + 4 * (i))

    .text
    .code64
    .globl boot_modes_trip
boot_modes_trip:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, saved_rsp(%rip)
    sgdt saved_gdtr(%rip)
    sidt saved_idtr(%rip)
    /* Far return to 32-bit code: compatibility mode. */
    pushq $SEL_CODE32
    lea compat32(%rip), %rax
    push %rax
    lretq

    .code32
compat32:
    mov $msg_compat, %esi
    call puts32
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, SLOT(R_COMPAT_EFER)
    mov $5, %eax
    .byte 0x48                  /* DEC EAX here; a REX prefix in 64-bit mode */
    mov %eax, SLOT(R_COMPAT_DEC)

    /* Leave IA-32e mode: paging off (LMA drops), then LME off. This code
     * is identity-mapped. */
    mov %cr0, %eax
    and $~CR0_PG, %eax
    mov %eax, %cr0
    mov $MSR_EFER, %ecx
    rdmsr
    and $~EFER_LME, %eax
    wrmsr

    mov %cr0, %eax
    mov %eax, SLOT(R_PM32_CR0)
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, SLOT(R_PM32_EFER)
    mov $7, %eax
    .byte 0x48
    mov %eax, SLOT(R_PM32_DEC)
    mov $msg_pm32, %esi
    call puts32
    /* 16-bit protected mode: the blob, copied below 64 KiB. */
    ljmp $SEL_CODE16, $(RM_BASE + pm16 - rm_blob_start)

back_pm32:
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov saved_rsp, %esp
    mov %cr0, %eax
    mov %eax, SLOT(R_BACK_CR0)
    mov %cs, %ax
    movzwl %ax, %eax
    mov %eax, SLOT(R_BACK_CS)
    mov $msg_back, %esi
    call puts32
    /* Long mode again: CR4.PAE and CR3 were never changed. */
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    ljmp $SEL_CODE64, $back_lm64

/* puts32: prints the string at ESI on COM1 (polled, bounded). */
puts32:
    push %eax
    push %ecx
    push %edx
1:  lodsb
    test %al, %al
    jz 4f
    mov %al, %ah
    mov $0x3FD, %dx
    mov $100000, %ecx
2:  in %dx, %al
    test $0x20, %al
    jnz 3f
    loop 2b
3:  mov %ah, %al
    mov $0x3F8, %dx
    out %al, %dx
    jmp 1b
4:  pop %edx
    pop %ecx
    pop %eax
    ret

    .code64
back_lm64:
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov saved_rsp(%rip), %rsp
    lgdt saved_gdtr(%rip)
    lidt saved_idtr(%rip)
    mov $MSR_EFER, %ecx
    rdmsr
    mov %eax, SLOT(R_LM_EFER)
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

/* ---- The blob: runs at RM_BASE, position-dependent on RM_BASE only ---- */
    .code16
    .globl rm_blob_start, rm_blob_end, rm_results
    .balign 16
rm_blob_start:
pm16:
    /* 16-bit protected mode: load 64 KiB data segments so real mode
     * inherits real-mode-like limits. */
    mov $SEL_DATA16, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov $0x11110000, %eax
    .byte 0xB8                  /* MOV AX, imm16 with 16-bit default size */
    .word 0x2222
    mov %eax, SLOT(R_PM16_EAX)
    lidt RM_BASE + (rm_idtr - rm_blob_start)
    mov %cr0, %eax
    and $~CR0_PE, %eax
    mov %eax, %cr0
    ljmp $RM_SEG, $(rm_entry - rm_blob_start)

rm_entry:
    /* Real mode. */
    mov %cs, %ax
    mov %ax, %ds
    xor %ax, %ax
    mov %ax, %ss
    mov $RM_STACK, %esp
    mov $(msg_real - rm_blob_start), %si
    call puts16
    mov %cr0, %eax
    mov %eax, RSLOT(R_RM_CR0)
    mov %cs, %ax
    movzwl %ax, %eax
    mov %eax, RSLOT(R_RM_CS)

    /* One linear address, three segment:offset pairs. */
    movw $0xBEEF, (rm_scratch - rm_blob_start)
    mov $(RM_SEG + 1), %ax
    mov %ax, %es
    movzwl %es:(rm_scratch - rm_blob_start - 16), %eax
    mov %eax, RSLOT(R_RM_ALIAS1)
    xor %ax, %ax
    mov %ax, %fs
    movzwl %fs:(RM_BASE + rm_scratch - rm_blob_start), %eax
    mov %eax, RSLOT(R_RM_ALIAS2)

    lcall $RM_SEG, $(rm_sum - rm_blob_start)
    movzwl %ax, %eax
    mov %eax, RSLOT(R_RM_SUM)

    /* FFFF:0010 is linear 0x100000 (the multiboot header) with A20 on,
     * and would wrap to 0 without it. */
    mov $0xFFFF, %ax
    mov %ax, %es
    mov %es:0x10, %eax
    mov %eax, RSLOT(R_RM_A20)

    mov $0x33330000, %eax
    .byte 0xB8
    .word 0x4444
    mov %eax, RSLOT(R_RM_OPSIZE)

    mov %sp, %dx
    pushw $0x1234
    mov %sp, %cx
    popw %bx
    sub %cx, %dx
    movzwl %bx, %eax
    shl $16, %eax
    mov %dx, %ax
    mov %eax, RSLOT(R_RM_STACK)

    /* Back to protected mode; the GDTR survived real mode. */
    cli
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl $SEL_CODE32, $back_pm32

/* Far-called: AX = sum of rm_table (10 words). */
rm_sum:
    push %si
    push %cx
    push %bx
    mov $(rm_table - rm_blob_start), %si
    mov $10, %cx
    xor %bx, %bx
    cld
1:  lodsw
    add %ax, %bx
    loop 1b
    mov %bx, %ax
    pop %bx
    pop %cx
    pop %si
    lret

/* puts16: prints DS:SI on COM1. */
puts16:
    push %ax
    push %cx
    push %dx
1:  lodsb
    test %al, %al
    jz 4f
    mov %al, %ah
    mov $0x3FD, %dx
    mov $0xFFFF, %cx
2:  in %dx, %al
    test $0x20, %al
    jnz 3f
    loop 2b
3:  mov %ah, %al
    mov $0x3F8, %dx
    out %al, %dx
    jmp 1b
4:  pop %dx
    pop %cx
    pop %ax
    ret

rm_table:
    .word 0x0101, 0x0202, 0x0303, 0x0404, 0x0505
    .word 0x0606, 0x0707, 0x0808, 0x0909, 0x0A0A
rm_idtr:
    .word 0x3FF
    .long 0
msg_real:
    .asciz "boot_modes: real mode\n"
    .balign 16
rm_scratch:
    .word 0
    .balign 4
rm_results:
    .fill R_COUNT, 4, RES_UNSET
rm_blob_end:

    .section .rodata
msg_compat: .asciz "boot_modes: compatibility mode\n"
msg_pm32: .asciz "boot_modes: 32-bit protected mode, paging off\n"
msg_back: .asciz "boot_modes: protected mode again\n"

    .data
    .balign 16
saved_rsp: .quad 0
saved_gdtr: .skip 10
    .balign 16
saved_idtr: .skip 10

    .section .note.GNU-stack, "", @progbits
