/* bootsect.S: BIOS boot block (2 sectors) that boots a guest test as a
 * Multiboot 1 loader would. tools/mkimg.py patches the parameter block and
 * appends the payload (the test's loaded segments) from LBA 2.
 *
 * Steps: the boot sector reads its second sector to 0x7E00; then read each
 * payload sector with INT 13h (AH=42h LBA extensions, or
 * AH=02h CHS) into a bounce buffer and copy it to its place above 1 MiB with
 * INT 15h AH=87h; enable A20 (INT 15h AX=2401h and port 0x92); fill in a
 * Multiboot info block (INT 12h, INT 15h E801h, E820h, boot drive); enter
 * 32-bit protected mode with flat segments and jump to the entry point with
 * EAX=0x2BADB002 and EBX=info, IF=0, paging off (Multiboot spec 0.6.96,
 * "Machine state"). Errors print a line on COM1 and halt. */

#define BOUNCE_SEG 0x1000       /* bounce buffer at 0x10000 */
#define MOVE_GDT 0x0600         /* descriptor table for INT 15h AH=87h */
#define DAP 0x0700              /* INT 13h AH=42h disk address packet */
#define MBI 0x9000              /* Multiboot info block */
#define MMAP 0x9100             /* Multiboot mmap (E820 entries) */
#define MMAP_END 0x9F00
#define BOOT_SECTORS 2          /* this file; the payload follows */

/* Multiboot info field offsets and flags. */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_BOOT_DEVICE 12
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER_NAME 64

    .code16
    .text
    .globl _start
_start:
    jmp start
    nop
    .balign 4
    .ascii "VPBS"               /* offset 4: magic mkimg.py looks for */
load_addr: .long 0              /* offset 8: where the payload goes */
entry_addr: .long 0             /* offset 12: Multiboot entry point */
nsectors: .long 0               /* offset 16: payload length in sectors */

start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7C00, %sp
    ljmp $0, $1f                /* CS:IP = 0:7Cxx whatever the BIOS used */
1:  sti
    cld
    mov %ax, drive              /* also clears use_lba */
    mov %dl, drive

    /* LBA extensions present? (INT 13h AH=41h) */
    mov $0x41, %ah
    mov $0x55AA, %bx
    int $0x13
    jc 2f
    cmp $0xAA55, %bx
    jne 2f
    testb $1, %cl
    jz 2f
    incb use_lba
    jmp 3f
    /* No: CHS geometry (INT 13h AH=08h). */
2:  mov $0x08, %ah
    mov drive, %dl
    xor %di, %di
    int $0x13
    jc disk_error
    and $0x3F, %cl
    mov %cl, spt
    movzbw %dh, %ax
    inc %ax                     /* 1..256 heads */
    mov %ax, heads

3:  /* The second half of the boot block, then the payload. */
    movl $1, lba
    mov $0x07E0, %ax
    mov %ax, %es
    call read_sector
    jmp stage2

/* Reads sector `lba` to ES:0000. Keeps ES; clobbers the rest. */
read_sector:
    cmpb $0, use_lba
    je 1f
    /* DAP: size 16, 1 sector, to ES:0, LBA lba. */
    movl $0x00010010, DAP
    movw $0, DAP + 4
    mov %es, DAP + 6
    mov lba, %eax
    mov %eax, DAP + 8
    movl $0, DAP + 12
    mov $DAP, %si
    mov $0x42, %ah
    jmp 2f
1:  mov lba, %eax
    xor %edx, %edx
    movzbl spt, %ecx
    div %ecx                    /* eax = lba / spt, edx = lba % spt */
    inc %dl
    mov %dl, %cl                /* sector (1-based), bits 0-5 */
    xor %edx, %edx
    movzwl heads, %ebx
    div %ebx                    /* eax = cylinder, edx = head */
    mov %dl, %dh
    mov %al, %ch                /* cylinder bits 0-7 */
    shl $6, %ah
    or %ah, %cl                 /* cylinder bits 8-9 */
    xor %bx, %bx
    mov $0x0201, %ax
2:  mov drive, %dl
    int $0x13
    jc disk_error
    ret

disk_error:
    mov $msg_disk, %si
fail:
    /* To COM1 directly: the harness reads the serial log. */
    mov $0x3F8, %dx
4:  lodsb
    test %al, %al
    jz 5f
    out %al, %dx
    jmp 4b
5:  cli
    hlt
    jmp 5b

msg_disk: .asciz "vpboot: INT 13h read failed\n"

    .org 510
    .byte 0x55, 0xAA

/* ---- Second sector (0x7E00) ---- */
stage2:
    /* Clear the AH=87h table and the Multiboot info. */
    xor %ax, %ax
    mov %ax, %es
    mov $MOVE_GDT, %di
    mov $0x30, %cx
    rep stosb
    mov $MBI, %di
    mov $0x100, %cx
    rep stosb
    movl $BOOT_SECTORS, lba

read_loop:
    mov nsectors, %eax
    test %eax, %eax
    jz loaded
    mov $BOUNCE_SEG, %ax
    mov %ax, %es
    call read_sector
    xor %ax, %ax
    mov %ax, %es

    /* INT 15h AH=87h: copy 512 bytes from 0x10000 to dest. Descriptors:
     * limit 0xFFFF, 24-bit base, access 0x93, base bits 24-31. */
    mov $MOVE_GDT + 0x10, %di
    movw $0xFFFF, (%di)
    movl $(0x93000000 + (BOUNCE_SEG << 4)), 2(%di)
    movw $0xFFFF, 8(%di)
    mov load_addr, %eax
    mov %eax, 10(%di)
    movb $0x93, 13(%di)
    shr $24, %eax
    mov %al, 15(%di)
    mov $MOVE_GDT, %si
    mov $256, %cx               /* words */
    mov $0x87, %ah
    int $0x15
    jc move_error
    addl $512, load_addr
    incl lba
    decl nsectors
    jmp read_loop

loaded:
    /* A20: ask the BIOS, then the fast gate at port 0x92. */
    mov $0x2401, %ax
    int $0x15
    in $0x92, %al
    or $2, %al
    and $0xFE, %al
    out %al, $0x92

    /* Lower memory (INT 12h) and upper memory below the first hole
     * (INT 15h E801h: KiB 1-16 MiB in AX/CX, 64 KiB blocks above in BX/DX). */
    int $0x12
    movzwl %ax, %eax
    mov %eax, MBI + MBI_MEM_LOWER
    mov $0xE801, %ax
    xor %cx, %cx
    xor %dx, %dx
    int $0x15
    jc 4f
    jcxz 5f
    mov %cx, %ax
    mov %dx, %bx
5:  movzwl %ax, %eax
    movzwl %bx, %ebx
    shl $6, %ebx
    add %ebx, %eax
    mov %eax, MBI + MBI_MEM_UPPER
    orb $0x01, MBI + MBI_FLAGS  /* mem_lower/mem_upper valid */

4:  /* Boot device: BIOS drive number, no partition. */
    movzbl drive, %eax
    shl $24, %eax
    or $0x00FFFFFF, %eax
    mov %eax, MBI + MBI_BOOT_DEVICE
    orb $0x02, MBI + MBI_FLAGS

    /* E820 into Multiboot mmap entries: each is a 4-byte size (20)
     * followed by exactly the 20 bytes E820 returns. */
    xor %ebx, %ebx
    mov $MMAP + 4, %di
6:  mov $0xE820, %eax
    mov $0x534D4150, %edx       /* 'SMAP' */
    mov $20, %ecx
    int $0x15
    jc 7f
    cmp $0x534D4150, %eax
    jne 7f
    movl $20, -4(%di)
    add $24, %di
    test %ebx, %ebx
    jz 7f
    cmp $MMAP_END, %di
    jb 6b
7:  sub $MMAP + 4, %di
    jz 8f
    movzwl %di, %edi
    mov %edi, MBI + MBI_MMAP_LENGTH
    movl $MMAP, MBI + MBI_MMAP_ADDR
    orb $0x40, MBI + MBI_FLAGS
8:  movl $loader_name, MBI + MBI_LOADER_NAME
    orw $0x200, MBI + MBI_FLAGS

    /* 32-bit protected mode, flat segments, IF=0. */
    cli
    lgdtl gdt_ptr
    mov %cr0, %eax
    or $1, %al
    mov %eax, %cr0
    ljmpl $0x08, $pm32

    .code32
pm32:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov $0x7C00, %esp
    mov $0x2BADB002, %eax
    mov $MBI, %ebx
    jmp *entry_addr

    .code16
move_error:
    mov $msg_move, %si
    jmp fail

msg_move: .asciz "vpboot: INT 15h AH=87h copy failed\n"
loader_name: .asciz "vanderpool bootsect"

    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    /* 0x08 flat 32-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10 flat data */
gdt_ptr:
    .word gdt_ptr - gdt - 1
    .long gdt

    /* Variables live past the sector, below the stack. */
    .set drive, 0x0500
    .set use_lba, 0x0501
    .set spt, 0x0502
    .set heads, 0x0504         /* word */
    .set lba, 0x0508           /* dword */

    .org 1024
    .section .note.GNU-stack, "", @progbits
