/* 64x64->128 multiply and 128/64 divide, with GNU __int128 when the
 * compiler feature layer allows it and a portable fallback otherwise. */
#ifndef VP_BASE_WIDE_H
#define VP_BASE_WIDE_H

#include "emu/base/compiler.h"

#if VP_GNU && defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 vp_u128;
__extension__ typedef __int128 vp_s128;

static inline uint64_t vp_mulu64(uint64_t a, uint64_t b, uint64_t *hi)
{
    vp_u128 r = (vp_u128)a * b;
    *hi = (uint64_t)(r >> 64);
    return (uint64_t)r;
}
#else
static inline uint64_t vp_mulu64(uint64_t a, uint64_t b, uint64_t *hi)
{
    uint64_t al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff,
             bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (mid << 32) | (ll & 0xffffffff);
}
#endif

/* Signed 64x64 -> 128. */
static inline uint64_t vp_muls64(int64_t a, int64_t b, int64_t *hi)
{
    uint64_t h;
    uint64_t lo = vp_mulu64((uint64_t)a, (uint64_t)b, &h);
    if (a < 0)
        h -= (uint64_t)b;
    if (b < 0)
        h -= (uint64_t)a;
    *hi = (int64_t)h;
    return lo;
}

/* Unsigned (hi:lo) / d with hi < d (no overflow): quotient, remainder. */
static inline uint64_t vp_divu128(uint64_t hi, uint64_t lo, uint64_t d,
                                  uint64_t *rem)
{
    uint64_t q = 0, r = hi;
    for (int b = 63; b >= 0; b--) {
        bool carry = r >> 63;
        r = (r << 1) | ((lo >> b) & 1);
        if (carry || r >= d) {
            r -= d;
            q |= 1ull << b;
        }
    }
    *rem = r;
    return q;
}

#endif
