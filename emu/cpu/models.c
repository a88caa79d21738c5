/* CPU models: each mirrors one real part (vendor, signature, brand, cache
 * geometry, address sizes) with the feature flags that part has. CPUID
 * advertises a flag only when features.def marks it implemented, so a
 * model never claims what Vanderpool does not do.
 *
 * Topology is reported honestly as one core with one thread per package
 * (cpuid.c patches the APIC IDs); the cache leaves below say so too. */
#include "emu/cpu/cpuid.h"

#include <string.h>

/* Leaf 1 and leaf 80000001H flags that vp-intel and vp-icx share: both
 * parts report the same set there and differ in leaf 7 only. */
#define INTEL_CORE_F1_ECX                                                  \
    (FEAT_BIT(SSE3) | FEAT_BIT(PCLMULQDQ) | FEAT_BIT(DTES64) |             \
     FEAT_BIT(MONITOR) | FEAT_BIT(DS_CPL) | FEAT_BIT(VMX) |                \
     FEAT_BIT(SMX) | FEAT_BIT(EIST) | FEAT_BIT(TM2) |                      \
     FEAT_BIT(SSSE3) | FEAT_BIT(SDBG) | FEAT_BIT(FMA) |                    \
     FEAT_BIT(CX16) | FEAT_BIT(XTPR) | FEAT_BIT(PDCM) |                    \
     FEAT_BIT(PCID) | FEAT_BIT(SSE4_1) | FEAT_BIT(SSE4_2) |                \
     FEAT_BIT(X2APIC) | FEAT_BIT(MOVBE) | FEAT_BIT(POPCNT) |               \
     FEAT_BIT(TSC_DEADLINE) | FEAT_BIT(AES) | FEAT_BIT(XSAVE) |            \
     FEAT_BIT(AVX) | FEAT_BIT(F16C) | FEAT_BIT(RDRAND))
#define INTEL_CORE_F1_EDX                                                  \
    (FEAT_BIT(FPU) | FEAT_BIT(VME) | FEAT_BIT(DE) |                        \
     FEAT_BIT(PSE) | FEAT_BIT(TSC) | FEAT_BIT(MSR) |                       \
     FEAT_BIT(PAE) | FEAT_BIT(MCE) | FEAT_BIT(CX8) |                       \
     FEAT_BIT(APIC) | FEAT_BIT(SEP) | FEAT_BIT(MTRR) |                     \
     FEAT_BIT(PGE) | FEAT_BIT(MCA) | FEAT_BIT(CMOV) |                      \
     FEAT_BIT(PAT) | FEAT_BIT(PSE36) | FEAT_BIT(CLFSH) |                   \
     FEAT_BIT(DS) | FEAT_BIT(ACPI) | FEAT_BIT(MMX) |                       \
     FEAT_BIT(FXSR) | FEAT_BIT(SSE) | FEAT_BIT(SSE2) |                     \
     FEAT_BIT(SS) | FEAT_BIT(HTT) | FEAT_BIT(TM) | FEAT_BIT(PBE))
#define INTEL_CORE_E1_ECX                                                  \
    (FEAT_BIT(LAHF_LM) | FEAT_BIT(ABM) | FEAT_BIT(PREFETCHW))
#define INTEL_CORE_E1_EDX                                                  \
    (FEAT_BIT(SYSCALL) | FEAT_BIT(NX) | FEAT_BIT(PAGE1GB) |                \
     FEAT_BIT(RDTSCP) | FEAT_BIT(LM))

/* ---- vp-intel: Intel Core i7-6700K (Skylake-S, 06_5EH stepping 3) ---- */

static const vp_cpuid_leaf skylake_leaves[] = {
    /* Leaf 2 descriptors: 63h 1-GiB DTLB, 03h DTLB, 76h ITLB, FFh (use
     * leaf 4), B5h ITLB, F0h 64-byte prefetch, C3h STLB. */
    {0x2, 0, {0x76036301, 0x00f0b5ff, 0x00000000, 0x00c30000}},
    /* Leaf 4 (SDM Vol 2A, CPUID, "Deterministic Cache Parameters Leaf"):
     * EAX type | level << 5 | self-init; EBX ways-1 << 22 | line-1;
     * ECX sets-1. Sharing fields say one thread, one core. */
    {0x4, 0, {0x00000121, 0x01c0003f, 0x0000003f, 0x00000000}}, /* L1d 32K */
    {0x4, 1, {0x00000122, 0x01c0003f, 0x0000003f, 0x00000000}}, /* L1i 32K */
    {0x4, 2, {0x00000143, 0x00c0003f, 0x000003ff, 0x00000000}}, /* L2 256K */
    {0x4, 3, {0x00000163, 0x03c0003f, 0x00001fff, 0x00000006}}, /* L3 8M */
    {0x80000006, 0, {0x00000000, 0x00000000, 0x01006040, 0x00000000}},
};

/* ---- vp-icx: Intel Xeon Platinum 8380 (Ice Lake-SP, 06_6AH stepping 6):
 * the Intel part with protection keys and 5-level paging. ---- */

static const vp_cpuid_leaf icelake_leaves[] = {
    /* Leaf 2: FFh (caches in leaf 4), FEh (TLBs in leaf 18H, which reads
     * as zeros here: no TLB geometry is claimed), F0h 64-byte prefetch. */
    {0x2, 0, {0x00feff01, 0x000000f0, 0x00000000, 0x00000000}},
    /* Leaf 4: L1d 48K 12-way, L1i 32K 8-way, L2 1.25M 20-way, L3 60M
     * 12-way non-inclusive with complex indexing; one thread, one core. */
    {0x4, 0, {0x00000121, 0x02c0003f, 0x0000003f, 0x00000000}},
    {0x4, 1, {0x00000122, 0x01c0003f, 0x0000003f, 0x00000000}},
    {0x4, 2, {0x00000143, 0x04c0003f, 0x000003ff, 0x00000000}},
    {0x4, 3, {0x00000163, 0x02c0003f, 0x00013fff, 0x00000004}},
    {0x80000006, 0, {0x00000000, 0x00000000, 0x05007040, 0x00000000}},
};

/* ---- vp-amd: AMD EPYC 7702 (Zen 2 "Rome", family 17h model 31h) ---- */

static const vp_cpuid_leaf rome_leaves[] = {
    /* AMD APM Vol 3, "CPUID Fn8000_0005" (L1 caches and TLBs) and
     * "Fn8000_0006" (L2/L3): 32K 8-way L1s, 512K 8-way L2, 16M 16-way
     * L3, 64-byte lines. */
    {0x80000005, 0, {0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140}},
    {0x80000006, 0, {0x48006400, 0x68006400, 0x02006140, 0x00808140}},
};

const vp_cpu_model vp_cpu_models[] = {
    {
        .name = "vp-intel",
        .desc = "Intel Core i7-6700K (Skylake), the default",
        .vendor = "GenuineIntel",
        .max_leaf = 0x16,
        .max_ext_leaf = 0x80000008,
        .signature = 0x000506e3,
        .f1_ecx = INTEL_CORE_F1_ECX,
        .f1_edx = INTEL_CORE_F1_EDX,
        .f7_ebx = FEAT_BIT(FSGSBASE) | FEAT_BIT(TSC_ADJUST) | FEAT_BIT(SGX) |
                  FEAT_BIT(BMI1) | FEAT_BIT(HLE) | FEAT_BIT(AVX2) |
                  FEAT_BIT(FDP_EXCPTN) | FEAT_BIT(SMEP) | FEAT_BIT(BMI2) |
                  FEAT_BIT(ERMS) | FEAT_BIT(INVPCID) | FEAT_BIT(RTM) |
                  FEAT_BIT(ZERO_FCS_FDS) | FEAT_BIT(MPX) | FEAT_BIT(RDSEED) |
                  FEAT_BIT(ADX) | FEAT_BIT(SMAP) | FEAT_BIT(CLFLUSHOPT) |
                  FEAT_BIT(INTEL_PT),
        .f7_ecx = 0,
        .f7_edx = FEAT_BIT(MD_CLEAR) | FEAT_BIT(SPEC_CTRL),
        .e1_ecx = INTEL_CORE_E1_ECX,
        .e1_edx = INTEL_CORE_E1_EDX,
        .brand = "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz",
        .phys_bits = 39,
        .lin_bits = 48,
        .ucode_rev = 0xf0,
        /* Maximum non-turbo ratio 10 (x 100 MHz = the 1 GHz virtual TSC)
         * in bits 15:8, maximum efficiency ratio in bits 47:40. */
        .platform_info = 0x00000a0000000a00ull,
        .leaves = skylake_leaves,
        .nleaves = VP_ARRAY_SIZE(skylake_leaves),
    },
    {
        .name = "vp-icx",
        .desc = "Intel Xeon Platinum 8380 (Ice Lake-SP): PKU, LA57",
        .vendor = "GenuineIntel",
        .max_leaf = 0x1b,
        .max_ext_leaf = 0x80000008,
        .signature = 0x000606a6,
        .f1_ecx = INTEL_CORE_F1_ECX,
        .f1_edx = INTEL_CORE_F1_EDX,
        .f7_ebx = FEAT_BIT(FSGSBASE) | FEAT_BIT(TSC_ADJUST) | FEAT_BIT(SGX) |
                  FEAT_BIT(BMI1) | FEAT_BIT(HLE) | FEAT_BIT(AVX2) |
                  FEAT_BIT(FDP_EXCPTN) | FEAT_BIT(SMEP) | FEAT_BIT(BMI2) |
                  FEAT_BIT(ERMS) | FEAT_BIT(INVPCID) | FEAT_BIT(RTM) |
                  FEAT_BIT(ZERO_FCS_FDS) | FEAT_BIT(RDSEED) | FEAT_BIT(ADX) |
                  FEAT_BIT(SMAP) | FEAT_BIT(CLFLUSHOPT) | FEAT_BIT(CLWB) |
                  FEAT_BIT(INTEL_PT) | FEAT_BIT(SHA),
        .f7_ecx = FEAT_BIT(UMIP) | FEAT_BIT(PKU) | FEAT_BIT(LA57) |
                  FEAT_BIT(RDPID),
        .f7_edx = FEAT_BIT(MD_CLEAR) | FEAT_BIT(SPEC_CTRL) |
                  FEAT_BIT(ARCH_CAP),
        .e1_ecx = INTEL_CORE_E1_ECX,
        .e1_edx = INTEL_CORE_E1_EDX,
        .brand = "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz",
        .phys_bits = 46,
        .lin_bits = 57,
        .ucode_rev = 0xd000390,
        /* As vp-intel: ratio 10 x 100 MHz = the 1 GHz virtual TSC. */
        .platform_info = 0x00000a0000000a00ull,
        .leaves = icelake_leaves,
        .nleaves = VP_ARRAY_SIZE(icelake_leaves),
    },
    {
        .name = "vp-amd",
        .desc = "AMD EPYC 7702 (Zen 2, Rome)",
        .vendor = "AuthenticAMD",
        .max_leaf = 0x10,
        .max_ext_leaf = 0x8000001f,
        .signature = 0x00830f10,
        .f1_ecx = FEAT_BIT(SSE3) | FEAT_BIT(PCLMULQDQ) | FEAT_BIT(MONITOR) |
                  FEAT_BIT(SSSE3) | FEAT_BIT(FMA) | FEAT_BIT(CX16) |
                  FEAT_BIT(SSE4_1) | FEAT_BIT(SSE4_2) | FEAT_BIT(X2APIC) |
                  FEAT_BIT(MOVBE) | FEAT_BIT(POPCNT) | FEAT_BIT(AES) |
                  FEAT_BIT(XSAVE) | FEAT_BIT(AVX) | FEAT_BIT(F16C) |
                  FEAT_BIT(RDRAND),
        .f1_edx = FEAT_BIT(FPU) | FEAT_BIT(VME) | FEAT_BIT(DE) |
                  FEAT_BIT(PSE) | FEAT_BIT(TSC) | FEAT_BIT(MSR) |
                  FEAT_BIT(PAE) | FEAT_BIT(MCE) | FEAT_BIT(CX8) |
                  FEAT_BIT(APIC) | FEAT_BIT(SEP) | FEAT_BIT(MTRR) |
                  FEAT_BIT(PGE) | FEAT_BIT(MCA) | FEAT_BIT(CMOV) |
                  FEAT_BIT(PAT) | FEAT_BIT(PSE36) | FEAT_BIT(CLFSH) |
                  FEAT_BIT(MMX) | FEAT_BIT(FXSR) | FEAT_BIT(SSE) |
                  FEAT_BIT(SSE2) | FEAT_BIT(HTT),
        .f7_ebx = FEAT_BIT(FSGSBASE) | FEAT_BIT(BMI1) | FEAT_BIT(AVX2) |
                  FEAT_BIT(SMEP) | FEAT_BIT(BMI2) | FEAT_BIT(RDSEED) |
                  FEAT_BIT(ADX) | FEAT_BIT(SMAP) | FEAT_BIT(CLFLUSHOPT) |
                  FEAT_BIT(CLWB) | FEAT_BIT(SHA),
        .f7_ecx = FEAT_BIT(UMIP) | FEAT_BIT(RDPID),
        .f7_edx = 0,
        .e1_ecx = FEAT_BIT(LAHF_LM) | FEAT_BIT(CMP_LEGACY) | FEAT_BIT(SVM) |
                  FEAT_BIT(EXTAPIC) | FEAT_BIT(CR8_LEGACY) | FEAT_BIT(ABM) |
                  FEAT_BIT(SSE4A) | FEAT_BIT(MISALIGNSSE) |
                  FEAT_BIT(PREFETCHW) | FEAT_BIT(OSVW) | FEAT_BIT(IBS) |
                  FEAT_BIT(SKINIT) | FEAT_BIT(WDT) | FEAT_BIT(TCE) |
                  FEAT_BIT(TOPOEXT) | FEAT_BIT(PERFCTR_CORE) |
                  FEAT_BIT(PERFCTR_NB) | FEAT_BIT(BPEXT) |
                  FEAT_BIT(PERFCTR_LLC) | FEAT_BIT(MWAITX),
        .e1_edx = FEAT_BIT(E_FPU) | FEAT_BIT(E_VME) | FEAT_BIT(E_DE) |
                  FEAT_BIT(E_PSE) | FEAT_BIT(E_TSC) | FEAT_BIT(E_MSR) |
                  FEAT_BIT(E_PAE) | FEAT_BIT(E_MCE) | FEAT_BIT(E_CX8) |
                  FEAT_BIT(E_APIC) | FEAT_BIT(SYSCALL) | FEAT_BIT(E_MTRR) |
                  FEAT_BIT(E_PGE) | FEAT_BIT(E_MCA) | FEAT_BIT(E_CMOV) |
                  FEAT_BIT(E_PAT) | FEAT_BIT(E_PSE36) | FEAT_BIT(NX) |
                  FEAT_BIT(MMXEXT) | FEAT_BIT(E_MMX) | FEAT_BIT(E_FXSR) |
                  FEAT_BIT(FFXSR) | FEAT_BIT(PAGE1GB) | FEAT_BIT(RDTSCP) |
                  FEAT_BIT(LM),
        .brand = "AMD EPYC 7702 64-Core Processor",
        .phys_bits = 48,
        .lin_bits = 48,
        .ucode_rev = 0x08301055,
        .platform_info = 0,
        .leaves = rome_leaves,
        .nleaves = VP_ARRAY_SIZE(rome_leaves),
    },
};

const size_t vp_cpu_model_count = VP_ARRAY_SIZE(vp_cpu_models);

const vp_cpu_model *vp_cpu_model_find(const char *name)
{
    if (!name || !*name)
        return &vp_cpu_models[0];
    for (size_t i = 0; i < vp_cpu_model_count; i++)
        if (strcmp(vp_cpu_models[i].name, name) == 0)
            return &vp_cpu_models[i];
    return NULL;
}
