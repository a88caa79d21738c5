/* alu.c: register ALU work with a load and stores to a small table on
 * every iteration (the table stays in the TLB and the L1 cache): the
 * dispatch cost of plain integer instructions and TLB-hit memory operands.
 * One iteration: 17 instructions (a load, a store, a read-modify-write,
 * add/sub/xor/and/rol/shr/lea/imul/movzx/inc, dec+jnz).
 */
#include "bench.h"

#define ITERS 14000000ull
#define WANT 0x4786ebcbe38ffa4bull /* the checksum every engine computes */

static uint64_t table[256];

void test_main(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(table); k++)
        table[k] = k * 0x9E3779B97F4A7C15ull;
    uint64_t a = 1, b = 2, i = 0, j = 0, n = ITERS;
    __asm__ volatile(
        "1:\n\t"
        "mov    (%[t],%[i],8), %%rax\n\t"   /* load */
        "add    %%rax, %[a]\n\t"
        "xor    %[a], %[b]\n\t"
        "rol    $13, %[b]\n\t"
        "lea    (%[b],%[a],2), %%rdx\n\t"
        "imul   $0x2545F491, %%rdx, %%rdx\n\t"
        "sub    %%rdx, %[a]\n\t"
        "mov    %[b], %[j]\n\t"
        "shr    $3, %%rdx\n\t"
        "and    $255, %[j]\n\t"
        "mov    %%rdx, (%[t],%[j],8)\n\t"   /* store */
        "movzbl 5(%[t],%[i],8), %%ecx\n\t"  /* narrow load */
        "add    %%rcx, (%[t],%[i],8)\n\t"   /* read-modify-write */
        "inc    %[i]\n\t"
        "and    $255, %[i]\n\t"
        "dec    %[n]\n\t"
        "jnz    1b\n\t"
        : [a] "+r"(a), [b] "+r"(b), [i] "+r"(i), [j] "+r"(j), [n] "+r"(n)
        : [t] "r"(table)
        : "rax", "rcx", "rdx", "cc", "memory");
    uint64_t sum = a ^ (b << 1);
    for (unsigned k = 0; k < ARRAY_SIZE(table); k++)
        sum = sum * 31 + table[k];
    bench_done("alu", sum, WANT, ITERS);
}
