/* string.c: the string instructions on buffers: REP STOSB, REP MOVSB,
 * REP MOVSQ, REPE CMPSB and REPNE SCASB over 4 KiB, and sixteen short
 * REP MOVSB copies (1-32 bytes, where the per-instruction set-up cost
 * dominates) per round. Instruction counts include one per iteration of
 * a repeated instruction, as Vanderpool (and Bochs) count them.
 */
#include "bench.h"

#define ROUNDS 9000u
#define WANT 0xb22f0eee8690b60eull /* the checksum every engine computes */

static uint8_t src[16384] __attribute__((aligned(64)));
static uint8_t dst[16384] __attribute__((aligned(64)));

static inline void rep_stosb(void *d, uint8_t v, size_t n)
{
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}
static inline void rep_movsb(void *d, const void *s, size_t n)
{
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static inline void rep_movsq(void *d, const void *s, size_t n)
{
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
/* Returns the count left in RCX: 0 if all n bytes compared equal. */
static inline size_t repe_cmpsb(const void *a, const void *b, size_t n)
{
    __asm__ volatile("repe cmpsb" : "+D"(b), "+S"(a), "+c"(n) : : "memory", "cc");
    return n;
}
static inline size_t repne_scasb(const void *d, uint8_t v, size_t n)
{
    __asm__ volatile("repne scasb" : "+D"(d), "+c"(n) : "a"(v) : "memory", "cc");
    return n;
}

void test_main(void)
{
    uint64_t seed = 0x0123456789ABCDEFull;
    for (unsigned k = 0; k < sizeof(src); k += 8) {
        uint64_t r = bench_rand(&seed);
        memcpy(&src[k], &r, 8);
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        rep_stosb(dst + 8192, (uint8_t)i, 4096);
        rep_movsb(dst, src + (i & 255), 4096);
        rep_movsq(dst + 4096, src + 8192, 512);
        /* One byte differs: the compare stops there. */
        unsigned pos = (i * 97u) & 4095;
        dst[pos] ^= 0xA5;
        sum += repe_cmpsb(src + (i & 255), dst, 4096);
        dst[pos] ^= 0xA5;
        sum += repne_scasb(src + 4096, (uint8_t)(i * 7u), 4096);
        for (unsigned k = 0; k < 16; k++)
            rep_movsb(dst + 12288 + k * 64, src + ((i + k * 13u) & 1023), ((i + k) & 31) + 1);
        sum = sum * 31 + dst[pos] + dst[8192 + (i & 4095)] + dst[4096 + (i & 4095)] +
              dst[12288 + (i & 1023)];
    }
    bench_done("string", sum, WANT, ROUNDS);
}
