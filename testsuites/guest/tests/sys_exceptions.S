/* sys_exceptions.S: fault sites for sys_exceptions.c (64-bit). Each site
 * is entered with CALL and returns with RET when nothing faults. */
#define SYS_LIB_ASM
#include "sys_lib.h"

    .text
    .code64
    .globl x_noncanon, x_noncanon_insn
    .globl x_int50, x_int3, x_ud2, x_ud2_site, x_push_bad_stack, x_read_4g
    .globl x_noncanon_span, x_noncanon_span_insn, x_lock_mov, x_lock_mov_insn
    .globl x_x87_bad, x_x87_bad_insn, x_long16, x_long16_insn, x_df_ud2, x_int1
    .globl x_int1_next, x_push_noncanon, x_push_noncanon_insn, x_user_lgdt
    .globl x_user_lgdt_insn, x_user_int3, x_split_ud2_copy, x_split_ud2_len

x_int50:
    int $0x50
    ret

x_int3:
    int3
    ret

x_int1:
    .byte 0xF1              /* INT1 (ICEBP) */
x_int1_next:
    ret

x_ud2:
x_ud2_site:
    ud2
    ret

/* RSP in the unmapped region above 4 GiB, then a push. */
x_push_bad_stack:
    mov %rsp, %rax
    movabs $0x100001000, %rsp
    push %rax
    mov %rax, %rsp
    ret

x_noncanon:
    movabs $0x8000000000000000, %rax
x_noncanon_insn:
    mov (%rax), %rax
    ret

x_read_4g:
    movabs $0x100000000, %rax
    mov (%rax), %rax
    ret

/* An 8-byte read whose first four bytes are canonical (and unmapped)
 * and whose last four are not. */
x_noncanon_span:
    movabs $0x00007FFFFFFFFFFC, %rax
x_noncanon_span_insn:
    mov (%rax), %rax
    ret

/* LOCK on MOV (not a lockable instruction) with a non-canonical memory
 * operand: #UD is a decode fault and comes first. */
x_lock_mov:
    movabs $0x8000000000000000, %rax
x_lock_mov_insn:
    .byte 0xF0              /* LOCK */
    movl $0, (%rax)
    ret

/* An x87 load with CR0.TS = 1 and a non-canonical operand: #NM (decode)
 * before #GP (execution). */
x_x87_bad:
    movabs $0x8000000000000000, %rax
x_x87_bad_insn:
    flds (%rax)
    ret

/* 16 bytes: fifteen 66h prefixes and NOP. */
x_long16:
x_long16_insn:
    .fill 15, 1, 0x66
    nop
    ret

/* A push with RSP non-canonical: #SS(0). */
x_push_noncanon:
    mov %rsp, %rax
    movabs $0x8000000000001000, %rsp
x_push_noncanon_insn:
    push %rax
    mov %rax, %rsp
    ret

/* Where a redirected #DF handler resumes: a #UD for run_catching. */
x_df_ud2:
    ud2

/* At CPL 3: LGDT with its operand in an unmapped page. */
x_user_lgdt:
    movabs $0x100000000, %rax
x_user_lgdt_insn:
    lgdt (%rax)
    ret

x_user_int3:
    int3
    ret

/* Copied to the last two bytes of a page: UD2 split across the page end,
 * then RET on the next page. */
x_split_ud2_copy:
    ud2
    ret
x_split_ud2_len = . - x_split_ud2_copy

    .section .note.GNU-stack, "", @progbits
