/* entry.S: Multiboot 1 header and 32-bit entry; builds the identity map of
 * the low 4 GiB, enters long mode and calls vp_runtime_main.
 * Follows SDM Vol 3A, "Initializing IA-32e Mode". */

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003 /* page-aligned modules, memory info */

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR0_START 0x80000031 /* PG | NE | ET | PE */
#define CR4_PAE 0x20
#define PTE_P 0x01
#define PTE_RW 0x02
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS 0x80

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

    /* Zero .bss ourselves: the BIOS disk path loads only file contents. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov %esi, mb_magic
    mov %ebp, mb_info
    mov $boot_stack_top, %esp

    lgdt gdt_ptr32
    ljmp $SEL_CODE32, $1f
1:  mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB
     * pages covering 0-4 GiB; the top GiB (MMIO) uncached. */
    movl $(vp_pdpt + PTE_P + PTE_RW), vp_pml4
    mov $vp_pd, %eax
    or $(PTE_P + PTE_RW), %eax
    xor %ecx, %ecx
2:  mov %eax, vp_pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 2b

    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P + PTE_RW + PTE_PS), %eax
    cmp $1536, %ecx
    jb 4f
    or $(PTE_PCD + PTE_PWT), %eax
4:  mov %eax, vp_pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 3b

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
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
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
