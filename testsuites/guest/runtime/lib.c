/* lib.c: the freestanding libc subset, the page allocator, bounded waits
 * and the multiboot accessor. */
#include "rt.h"

/* GCC may emit calls to these even in freestanding code. */
void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (uint8_t)*a - (uint8_t)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

/* ---- Pages ---- */

extern char __image_end[];
static uint64_t heap_next, heap_limit;

void vp_mem_init(void)
{
    heap_next = ((uint64_t)(uintptr_t)__image_end + 4095) & ~4095ull;
    heap_limit = 64ull << 20; /* without mem_upper: assume 64 MiB */
    const struct multiboot_info *mbi = multiboot();
    if (mbi && (mbi->flags & MBI_MEM))
        heap_limit = (1ull << 20) + (uint64_t)mbi->mem_upper * 1024;
    if (heap_limit > 0xC0000000ull) /* stay below the MMIO hole */
        heap_limit = 0xC0000000ull;
    /* QEMU puts the multiboot info and modules after the image: skip it. */
    if (mbi && (uint64_t)mb_info + 4096 > heap_next && mb_info < heap_limit)
        heap_next = ((uint64_t)mb_info + sizeof(*mbi) + 4095) & ~4095ull;
    if (mbi && (mbi->flags & MBI_MMAP) && mbi->mmap_addr + mbi->mmap_length > heap_next &&
        mbi->mmap_addr < heap_limit)
        heap_next = ((uint64_t)mbi->mmap_addr + mbi->mmap_length + 4095) & ~4095ull;
}

void *alloc_pages(size_t n)
{
    uint64_t size = (uint64_t)n * 4096;
    if (n == 0 || heap_next + size > heap_limit)
        report_abort("alloc_pages", "out of memory (%zu pages asked, %llu KiB left)", n,
                     (unsigned long long)((heap_limit - heap_next) / 1024));
    void *p = (void *)(uintptr_t)heap_next;
    heap_next += size;
    memset(p, 0, size);
    return p;
}

/* ---- Bounded waits ---- */

void delay(uint64_t loops)
{
    while (loops--)
        pause();
}

bool wait_until(bool (*cond)(void *), void *arg, uint64_t loops)
{
    for (uint64_t i = 0; i < loops; i++) {
        if (cond(arg))
            return true;
        pause();
    }
    return cond(arg);
}

bool wait_for(volatile int *flag, uint64_t loops)
{
    for (uint64_t i = 0; i < loops; i++) {
        if (*flag)
            return true;
        pause();
    }
    return *flag != 0;
}

/* ---- Multiboot ---- */

uint32_t mb_magic, mb_info;

const struct multiboot_info *multiboot(void)
{
    if (mb_magic != MULTIBOOT_BOOT_MAGIC)
        return NULL;
    return (const struct multiboot_info *)(uintptr_t)mb_info;
}
