/* Symbols of the boot image (its ELF .symtab, ELF32 or ELF64) so that
 * monitor addresses can be names ("break ring_push") and addresses print
 * as <name+offset>. Every offset and size of the file is checked before
 * use; an image without symbols simply has none. */
#include "frontend/monitor_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct sym {
    uint64_t addr, size;
    char *name;
} sym;

struct vp_syms {
    sym *v;
    size_t n;
    char *strings;      /* the string table (names point into it) */
};

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int sym_cmp(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->size > y->size ? -1 : x->size < y->size;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            if (cap > (256u << 20))
                break;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

vp_syms *mon_syms_load(const char *path)
{
    size_t len;
    uint8_t *f = read_file(path, &len);
    if (!f)
        return NULL;
    vp_syms *s = NULL;
    if (len < 52 || memcmp(f, "\177ELF", 4) || f[5] != 1)
        goto out;
    bool e64 = f[4] == 2;
    unsigned ehsize = e64 ? 64 : 52;
    if (len < ehsize)
        goto out;
    uint64_t shoff = e64 ? rd(f + 0x28, 8) : rd(f + 0x20, 4);
    unsigned shentsize = (unsigned)rd(f + (e64 ? 0x3a : 0x2e), 2);
    unsigned shnum = (unsigned)rd(f + (e64 ? 0x3c : 0x30), 2);
    if (shentsize < (e64 ? 64u : 40u) || shoff > len ||
        (uint64_t)shnum * shentsize > len - shoff)
        goto out;
    for (unsigned i = 0; i < shnum && !s; i++) {
        const uint8_t *sh = f + shoff + (uint64_t)i * shentsize;
        if (rd(sh + 4, 4) != 2)     /* SHT_SYMTAB */
            continue;
        uint64_t off = e64 ? rd(sh + 0x18, 8) : rd(sh + 0x10, 4);
        uint64_t size = e64 ? rd(sh + 0x20, 8) : rd(sh + 0x14, 4);
        unsigned link = (unsigned)rd(sh + (e64 ? 0x28 : 0x18), 4);
        uint64_t entsize = e64 ? rd(sh + 0x38, 8) : rd(sh + 0x24, 4);
        if (link >= shnum || entsize < (e64 ? 24u : 16u) || off > len ||
            size > len - off)
            continue;
        const uint8_t *str = f + shoff + (uint64_t)link * shentsize;
        uint64_t stroff = e64 ? rd(str + 0x18, 8) : rd(str + 0x10, 4);
        uint64_t strsize = e64 ? rd(str + 0x20, 8) : rd(str + 0x14, 4);
        if (stroff > len || strsize > len - stroff || strsize == 0)
            continue;
        s = calloc(1, sizeof(*s));
        if (!s)
            goto out;
        s->strings = malloc(strsize + 1);
        s->v = calloc(size / entsize + 1, sizeof(sym));
        if (!s->strings || !s->v) {
            mon_syms_free(s);
            s = NULL;
            goto out;
        }
        memcpy(s->strings, f + stroff, strsize);
        s->strings[strsize] = 0;
        for (uint64_t k = 0; k < size / entsize; k++) {
            const uint8_t *e = f + off + k * entsize;
            uint64_t name = rd(e, 4);
            unsigned info = e64 ? e[4] : e[12];
            unsigned shndx = (unsigned)rd(e + (e64 ? 6 : 14), 2);
            uint64_t value = e64 ? rd(e + 8, 8) : rd(e + 4, 4);
            uint64_t ssize = e64 ? rd(e + 16, 8) : rd(e + 8, 4);
            unsigned type = info & 0xf;
            /* Functions, objects and plain labels, defined. */
            if (type > 2 || shndx == 0 || shndx >= 0xff00 || !name ||
                name >= strsize || !s->strings[name])
                continue;
            s->v[s->n++] = (sym){value, ssize, s->strings + name};
        }
        qsort(s->v, s->n, sizeof(sym), sym_cmp);
    }
out:
    free(f);
    if (s && s->n == 0) {
        mon_syms_free(s);
        s = NULL;
    }
    return s;
}

void mon_syms_free(vp_syms *s)
{
    if (!s)
        return;
    free(s->v);
    free(s->strings);
    free(s);
}

int mon_sym_lookup(const vp_syms *s, const char *name, uint64_t *addr)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (!strcmp(s->v[i].name, name)) {
            *addr = s->v[i].addr;
            return 0;
        }
    }
    return -1;
}

const char *mon_sym_find(const vp_syms *s, uint64_t addr, uint64_t *off)
{
    if (!s || !s->n || addr < s->v[0].addr)
        return NULL;
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {       /* last symbol with addr <= the address */
        size_t mid = (lo + hi) / 2;
        if (s->v[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    /* Among symbols at that address the biggest sorts first. */
    while (lo > 0 && s->v[lo - 1].addr == s->v[lo].addr)
        lo--;
    const sym *b = &s->v[lo];
    uint64_t d = addr - b->addr;
    if ((b->size && d >= b->size) || (!b->size && d >= 0x10000))
        return NULL;
    *off = d;
    return b->name;
}
