/* entry.S: Multiboot 1 header and 32-bit entry; builds the identity map of
 * the low 4 GiB, enters long mode and calls vp_runtime_main.
 * Follows SDM Vol 3A, "Initializing IA-32e Mode". */

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003 /* page-aligned modules, memory info */

#include "entry.h"

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR0_START 0x80000031 /* PG | NE | ET | PE */
#define CR4_PAE 0x20

    .section .multiboot, "a"
    .balign 4
    .long MB_HEADER_MAGIC
    .long MB_HEADER_FLAGS
    .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %esi              /* multiboot magic */
    mov %ebx, %ebp              /* multiboot info */

    zero_bss

    mov %esi, mb_magic
    mov %ebp, mb_info
    mov $boot_stack_top, %esp

    lgdt gdt_ptr32
    ljmp $SEL_CODE32, $1f
1:  load_data_segs
    build_identity_map

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $vp_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    /* The same CR0 on every engine: PE, ET, NE, PG; caches on (BIOSes may
     * leave CD/NW set), WP off. */
    mov $CR0_START, %eax
    mov %eax, %cr0
    ljmp $SEL_CODE64, $long_entry

    .code64
long_entry:
    load_data_segs
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    call vp_runtime_main
5:  cli
    hlt
    jmp 5b

    /* The runtime's GDT; selectors are listed in vp.h. The TSS slots are
     * filled in by intr.c. */
    .section .data
    .balign 16
    .globl vp_gdt
vp_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10 flat data */
    .quad 0x00CF9A000000FFFF    /* 0x18 flat 32-bit code */
    .quad 0x00009A000000FFFF    /* 0x20 16-bit code, base 0, limit 64K */
    .quad 0x000092000000FFFF    /* 0x28 16-bit data, base 0, limit 64K */
    .quad 0, 0                  /* 0x30 64-bit TSS */
    .fill 32 - 8, 8, 0          /* free for tests */
vp_gdt_end:

    .section .rodata
    .balign 8
gdt_ptr32:
    .word vp_gdt_end - vp_gdt - 1
    .long vp_gdt

    .section .bss
    .balign 4096
    .globl vp_pml4, vp_pdpt, vp_pd
vp_pml4: .skip 4096
vp_pdpt: .skip 4096
vp_pd: .skip 4 * 4096
    .balign 16
boot_stack: .skip 65536
    .globl boot_stack_top
boot_stack_top:
