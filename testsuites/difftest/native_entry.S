/* Entry into a test sequence on the host CPU (difftest native worker).
 *
 * void dt_native_enter64(void), dt_native_enter32(void): never return; the
 * sequence ends in a trap or fault whose signal handler longjmps back.
 * Registers come from the control page at DT_CTRL (0x0fff0000, see
 * difftest.h): GPRs at 0x00..0x78 in encoding order, RFLAGS at 0x80, the
 * 64-bit entry RIP at 0x88 and the 32-bit far pointer (offset, selector
 * 0x23 = Linux __USER32_CS) at 0x90. DS and ES get __USER_DS (0x2b) so
 * that compatibility-mode code can use them (a 64-bit process runs with
 * null DS/ES). Nothing after POPFQ changes a flag. */

#define CTRL 0x0fff0000

    .macro load_gprs
    movw $0x2b, %ax
    movw %ax, %ds
    movw %ax, %es
    pushq CTRL + 0x80
    popfq
    movq CTRL + 0x00, %rax
    movq CTRL + 0x08, %rcx
    movq CTRL + 0x10, %rdx
    movq CTRL + 0x18, %rbx
    movq CTRL + 0x28, %rbp
    movq CTRL + 0x30, %rsi
    movq CTRL + 0x38, %rdi
    movq CTRL + 0x40, %r8
    movq CTRL + 0x48, %r9
    movq CTRL + 0x50, %r10
    movq CTRL + 0x58, %r11
    movq CTRL + 0x60, %r12
    movq CTRL + 0x68, %r13
    movq CTRL + 0x70, %r14
    movq CTRL + 0x78, %r15
    movq CTRL + 0x20, %rsp
    .endm

    .text
    .globl dt_native_enter64
    .type dt_native_enter64, @function
dt_native_enter64:
    load_gprs
    jmp *CTRL + 0x88
    .size dt_native_enter64, . - dt_native_enter64

    .globl dt_native_enter32
    .type dt_native_enter32, @function
dt_native_enter32:
    load_gprs
    ljmpl *CTRL + 0x90
    .size dt_native_enter32, . - dt_native_enter32

    .section .note.GNU-stack, "", @progbits
