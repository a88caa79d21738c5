/* loader_mb2.S: a Multiboot 2 header for the guest runtime (Multiboot2
 * Specification 2.0, "OS image format"). The loader enters the runtime's
 * 32-bit _start in the "I386 machine state" Multiboot 1 also promises:
 * EAX = 0x36D76289, EBX = the information's address. */

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

    .section .loader_header, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

    /* Information request (required): command line, boot loader name,
     * modules, basic memory information, memory map. */
    .balign 8
1:  .short 1, 0
    .long 2f - 1b
    .long 1, 2, 3, 4, 6
2:
    /* Module alignment: modules page-aligned. */
    .balign 8
    .short 6, 0
    .long 8

    /* End. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:

    .section .rodata
    .globl loader_protocol
loader_protocol:
    .asciz "multiboot2"
