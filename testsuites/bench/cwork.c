/* cwork.c: a small compiled C workload, as GCC -O2 emits it for the guest
 * runtime: quicksort of pseudo-random 32-bit keys, table-driven CRC-32 of
 * the sorted array, and a sieve of Eratosthenes; repeated with new data.
 * Mixed loads and stores, compare-and-branch, calls and recursion.
 */
#include "bench.h"

#define ROUNDS 64u
#define KEYS 8192u
#define SIEVE 131072u
#define WANT 0x160348344fd51330ull /* the checksum every engine computes */

static uint32_t keys[KEYS];
static uint8_t composite[SIEVE];
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static void quicksort(uint32_t *a, long lo, long hi)
{
    while (lo < hi) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* Recurse into the smaller half, loop on the larger. */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static uint32_t sieve(uint32_t limit)
{
    for (uint32_t k = 0; k < limit; k++)
        composite[k] = 0;
    uint32_t primes = 0;
    for (uint32_t k = 2; k < limit; k++) {
        if (composite[k])
            continue;
        primes++;
        for (uint64_t m = (uint64_t)k * k; m < limit; m += k)
            composite[m] = 1;
    }
    return primes;
}

void test_main(void)
{
    crc_init();
    uint64_t seed = 0xC0FFEE1234567ull, sum = 0;
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned k = 0; k < KEYS; k++)
            keys[k] = (uint32_t)bench_rand(&seed);
        quicksort(keys, 0, KEYS - 1);
        uint32_t sorted = 1;
        for (unsigned k = 1; k < KEYS; k++)
            sorted &= keys[k - 1] <= keys[k];
        uint32_t crc = crc32(r, keys, sizeof(keys));
        uint32_t primes = sieve(SIEVE - r * 1000);
        sum = (sum * 0x100000001B3ull) ^ crc ^ ((uint64_t)primes << 32) ^ (sorted << 31);
    }
    bench_done("cwork", sum, WANT, ROUNDS);
}
