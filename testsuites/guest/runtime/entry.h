/* entry.h: the start-up steps shared by the runtime's Multiboot entry
 * (runtime/entry.S, 32-bit) and the plain-ELF64 loader entry
 * (boot/loader_elf64.S, 64-bit); assembly only. The macros use 32-bit
 * registers, which assemble and behave the same in both modes here: the
 * image and its tables lie below 2 GiB and the upper halves of the page
 * table entries stay as the zeroed .bss left them. */
#ifndef VP_ENTRY_H
#define VP_ENTRY_H

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

#define PTE_P 0x01
#define PTE_RW 0x02
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS 0x80

/* Zeroes .bss (the BIOS disk path loads only file contents; mb_magic and
 * friends live there). Clobbers EAX, ECX, EDI. */
.macro zero_bss
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
.endm

/* DS, ES, FS, GS and SS := the flat data selector. Clobbers EAX. */
.macro load_data_segs
    mov $SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
.endm

/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages
 * covering 0-4 GiB; the top GiB (MMIO) uncached. Clobbers EAX, ECX. */
.macro build_identity_map
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
.endm

#endif
