/* branch.c: data-dependent branches nobody can predict. Each iteration
 * steps a xorshift64 generator and takes four conditional branches on its
 * bits (taken 1/2, 1/2, 1/2 and 1/3 of the time), an indirect call through
 * a four-entry table and its return: the cost of control transfers, of
 * block lookups and of condition codes computed from lazy flags.
 * One iteration: 26 to 31 instructions (29 on average), 7 control transfers.
 */
#include "bench.h"

#define ITERS 8000000ull
#define WANT 0x6a2109c3fe8d6b1eull /* the checksum every engine computes */

uint64_t branch_loop(uint64_t iterations, uint64_t seed);

__asm__(
    "    .text\n"
    "    .globl branch_loop\n"
    "    .type branch_loop, @function\n"
    "branch_loop:\n"                 /* rdi = iterations, rsi = seed */
    "    xor %eax, %eax\n"          /* a */
    "    xor %ecx, %ecx\n"          /* b */
    "    mov %rsi, %r8\n"           /* x */
    "1:  mov %r8, %rdx\n"
    "    shl $13, %rdx\n"
    "    xor %rdx, %r8\n"
    "    mov %r8, %rdx\n"
    "    shr $7, %rdx\n"
    "    xor %rdx, %r8\n"
    "    mov %r8, %rdx\n"
    "    shl $17, %rdx\n"
    "    xor %rdx, %r8\n"
    "    test $1, %r8b\n"
    "    jz 2f\n"
    "    add $3, %rax\n"
    "2:  test $2, %r8b\n"
    "    jnz 3f\n"
    "    xor %r8, %rcx\n"
    "3:  bt $5, %r8\n"
    "    jnc 4f\n"
    "    sub %rcx, %rax\n"
    "4:  mov %r8, %rdx\n"
    "    shr $8, %rdx\n"
    "    cmp $0x55, %dl\n"
    "    jb 5f\n"
    "    rol $1, %rcx\n"
    "5:  mov %r8, %rdx\n"
    "    shr $16, %rdx\n"
    "    and $3, %edx\n"
    "    call *branch_targets(,%rdx,8)\n"
    "    dec %rdi\n"
    "    jnz 1b\n"
    "    xor %rcx, %rax\n"
    "    ret\n"
    "branch_t0: add $1, %rax\n"
    "    ret\n"
    "branch_t1: sub $1, %rcx\n"
    "    ret\n"
    "branch_t2: xor $0x55, %rax\n"
    "    ret\n"
    "branch_t3: ret\n"
    "    .size branch_loop, . - branch_loop\n"
    "    .section .rodata\n"
    "    .balign 8\n"
    "branch_targets: .quad branch_t0, branch_t1, branch_t2, branch_t3\n"
    "    .text\n");

void test_main(void)
{
    uint64_t sum = branch_loop(ITERS, 0x9E3779B97F4A7C15ull);
    bench_done("branch", sum, WANT, ITERS);
}
