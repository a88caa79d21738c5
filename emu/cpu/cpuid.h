/* CPUID feature flags as data (features.def) and the query every part of
 * the core uses to ask "does this vCPU have feature X": the model's real
 * part has it, Vanderpool implements it, and no MSR hides it.
 * SDM Vol 2A, CPUID; SDM Vol 3A, "CPUID Qualification of Control Register
 * Flags". */
#ifndef VP_CPU_CPUID_H
#define VP_CPU_CPUID_H

#include "emu/cpu/internal.h"

/* The CPUID output words that carry feature flags. */
enum vp_cpuid_word {
    CW_1_ECX, CW_1_EDX, CW_7_EBX, CW_7_ECX, CW_7_EDX, CW_E1_ECX, CW_E1_EDX,
    CW_COUNT
};

/* FEAT_<id> = word * 32 + bit. */
enum vp_feature {
#define X(id, word, bit, impl, name) FEAT_##id = CW_##word * 32 + (bit),
#include "emu/cpu/features.def"
#undef X
};

/* Bit of a feature inside its word, for building model tables. */
#define FEAT_BIT(id) (1u << (FEAT_##id % 32))

typedef struct vp_feature_info {
    int feat;               /* FEAT_* */
    const char *name;       /* Linux /proc/cpuinfo spelling */
    bool impl;
} vp_feature_info;

extern const vp_feature_info vp_features[];
extern const size_t vp_feature_count;

/* The model's flags for a word, before masking with what is implemented. */
uint32_t vp_model_word(const vp_cpu_model *m, int word);
/* What the implementation supports in a word (features.def impl column). */
uint32_t vp_impl_word(int word);
/* The advertised word for this vCPU (static part: model & impl, minus what
 * IA32_MISC_ENABLE hides). Dynamic bits (OSXSAVE, OSPKE, APIC enable) are
 * added by vp_cpuid itself. */
uint32_t vp_cpuid_word(const vp_cpu *c, int word);
bool vp_cpu_has(const vp_cpu *c, int feat);
bool vp_model_is_amd(const vp_cpu_model *m);
static inline bool vp_cpu_is_amd(const vp_cpu *c)
{
    return vp_model_is_amd(c->model);
}

/* IA32_MISC_ENABLE bits with architectural effects (SDM Vol 4,
 * "IA32_MISC_ENABLE"). */
#define MISC_FAST_STRINGS VP_BIT(0)
#define MISC_TCC VP_BIT(3)
#define MISC_PERFMON_AVAIL VP_BIT(7)
#define MISC_BTS_UNAVAIL VP_BIT(11)
#define MISC_PEBS_UNAVAIL VP_BIT(12)
#define MISC_MONITOR VP_BIT(18)   /* ENABLE MONITOR FSM */
#define MISC_LIMIT_CPUID VP_BIT(22)
#define MISC_XTPR_DISABLE VP_BIT(23)
#define MISC_XD_DISABLE VP_BIT(34)

/* TSC frequency the CPUID leaves 15H/16H report: the virtual TSC counts
 * nanoseconds (vp_cpu_tsc), and the local APIC timer runs from a 1 GHz
 * bus clock (emu/apic), which leaf 15H names as the core crystal. */
#define VP_TSC_HZ 1000000000u

#endif
