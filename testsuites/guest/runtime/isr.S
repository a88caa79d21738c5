/* isr.S: one stub per IDT vector, the common save/restore path around
 * vp_intr_dispatch, and the setjmp/longjmp pair run_catching uses.
 * Frame layout: struct intr_frame in vp.h. Error-code vectors: SDM Vol 3A,
 * "Exception and Interrupt Reference". */

    .text
    .code64

/* Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF
 * #AC #CP #VC #SX. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
                    (v) == 21 || (v) == 29 || (v) == 30)

    .balign 16
    .globl vp_isr_stubs
vp_isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !HAS_ERR(vec)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    /* The CPU aligned RSP to 16 before pushing its 5-word frame; with the
     * error code, the vector and 15 registers RSP is 16-aligned again. */
    call vp_intr_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* int vp_setjmp(struct vp_jmpbuf *b): rbx rbp r12-r15 rsp rip rflags. */
    .globl vp_setjmp
vp_setjmp:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax
    mov %rax, 48(%rdi)
    mov (%rsp), %rax
    mov %rax, 56(%rdi)
    pushfq
    pop %rax
    mov %rax, 64(%rdi)
    xor %eax, %eax
    ret

/* void vp_longjmp(struct vp_jmpbuf *b, int val): returns val from vp_setjmp. */
    .globl vp_longjmp
vp_longjmp:
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    push 64(%rdi)
    popfq
    mov %esi, %eax
    jmp *56(%rdi)
