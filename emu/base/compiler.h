/* Compiler feature layer: the one place GNU extensions are named.
 * Define VP_PORTABLE to build with plain C17 fallbacks only. */
#ifndef VP_BASE_COMPILER_H
#define VP_BASE_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if (defined(__GNUC__) || defined(__clang__)) && !defined(VP_PORTABLE)
#define VP_GNU 1
#define VP_MUST_CHECK __attribute__((warn_unused_result))
#define VP_LIKELY(x) __builtin_expect(!!(x), 1)
#define VP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define VP_NORETURN __attribute__((noreturn))
#define VP_UNUSED __attribute__((unused))
#define VP_NOINLINE __attribute__((noinline))
#define VP_ALWAYS_INLINE inline __attribute__((always_inline))
#define VP_FALLTHROUGH __attribute__((fallthrough))
/* A call in tail position that must compile to a jump. Where the compiler
 * cannot promise it (GCC before 15), GCC's sibling-call optimization at -O2
 * makes it a jump anyway; callers never depend on it for correctness
 * (exec.c bounds the depth of handler chains). */
#if defined(__has_attribute)
#if __has_attribute(musttail)
#define VP_MUSTTAIL __attribute__((musttail))
#endif
#endif
#else
#define VP_GNU 0
#define VP_MUST_CHECK
#define VP_LIKELY(x) (x)
#define VP_UNLIKELY(x) (x)
#define VP_PRINTF(fmt, args)
#define VP_NORETURN _Noreturn
#define VP_UNUSED
#define VP_NOINLINE
#define VP_ALWAYS_INLINE inline
#define VP_FALLTHROUGH ((void)0)
#endif
#ifndef VP_MUSTTAIL
#define VP_MUSTTAIL
#endif

#define VP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VP_BIT(n) (1ull << (n))

#endif
