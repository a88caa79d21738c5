/* loader_aout.S: a Multiboot 1 header with the address fields (flag bit
 * 16, the "a.out kludge") for the guest runtime linked as a flat binary
 * (Multiboot Specification 0.6.96, "The address fields of Multiboot
 * header"). The loader knows nothing of the format: these five fields say
 * where the file goes, where the BSS ends and where to jump. */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010003 /* page-aligned modules, memory info, addresses */

    .section .loader_header, "a"
    .balign 4
aout_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long aout_header           /* header_addr */
    .long __image_start         /* load_addr: the first byte of the file */
    .long _edata                /* load_end_addr: the last file byte + 1 */
    .long __image_end           /* bss_end_addr */
    .long _start                /* entry_addr: the runtime's 32-bit entry */

    .section .rodata
    .globl loader_protocol
loader_protocol:
    .asciz "multiboot1-aout"
