/* loader_elf64.S: entry of the guest runtime linked as a plain ELF64
 * executable, which Vanderpool enters in 64-bit long mode (docs/usage.md,
 * "Plain ELF64"): the low 4 GiB identity-mapped by the loader's page
 * tables, RSP = 0x7FFF8 with a zero return address on top, RDI = the
 * Multiboot 2 style information, RSI = 0x36D76289.
 *
 * It records that state for the test, then makes the machine look as the
 * runtime's own 32-bit entry (runtime/entry.S) leaves it: the runtime's
 * GDT and identity map, its stack, then vp_runtime_main. */

#include "entry.h"

#define GDT_LIMIT (32 * 8 - 1)      /* VP_GDT_ENTRIES in runtime/vp.h */

    .section .text.entry, "ax"
    .code64
    .globl loader_start64
loader_start64:
    cli
    cld
    mov %rsp, %r12
    mov (%rsp), %r13
    mov %rdi, %r14
    mov %rsi, %r15

    /* .bss first: mb_magic and friends live there. */
    zero_bss

    mov %r15d, mb_magic
    mov %r14d, mb_info
    mov %r12, loader_entry_rsp
    mov %r13, loader_entry_ret
    mov %cr0, %rax
    mov %rax, loader_entry_cr0
    mov $boot_stack_top, %rsp

    lgdt gdt_ptr64
    pushq $SEL_CODE64
    pushq $1f
    lretq
1:  load_data_segs

    /* The runtime's identity map, as entry.S builds it. */
    build_identity_map
    mov $vp_pml4, %eax
    mov %rax, %cr3

    xor %ebp, %ebp
    call vp_runtime_main
5:  cli
    hlt
    jmp 5b

    .section .rodata
    .balign 8
gdt_ptr64:
    .word GDT_LIMIT
    .quad vp_gdt
    .globl loader_protocol
loader_protocol:
    .asciz "elf64"

    .section .bss
    .balign 8
    .globl loader_entry_rsp, loader_entry_ret, loader_entry_cr0
loader_entry_rsp: .skip 8
loader_entry_ret: .skip 8
loader_entry_cr0: .skip 8
