/* The CPUID instruction (SDM Vol 2A, CPUID; AMD APM Vol 3, Appendix E
 * "Obtaining Processor Information Via the CPUID Instruction").
 *
 * Leaves come from three places: feature words (the model's real flags
 * masked by what is implemented, features.def), descriptive leaves stored
 * verbatim in the model (cache geometry), and leaves computed here
 * (vendor, signature, topology, brand, address sizes, TSC frequency). */
#include "emu/cpu/cpuid.h"

#include <string.h>

const vp_feature_info vp_features[] = {
#define X(id, word, bit, impl, name) {FEAT_##id, name, impl},
#include "emu/cpu/features.def"
#undef X
};
const size_t vp_feature_count = VP_ARRAY_SIZE(vp_features);

/* The impl column indexed by FEAT_* for O(1) vp_cpu_has. */
static const bool feat_impl[CW_COUNT * 32] = {
#define X(id, word, bit, impl, name) [FEAT_##id] = (impl),
#include "emu/cpu/features.def"
#undef X
};

uint32_t vp_impl_word(int word)
{
    uint32_t m = 0;
    for (int b = 0; b < 32; b++)
        if (feat_impl[word * 32 + b])
            m |= 1u << b;
    return m;
}

uint32_t vp_model_word(const vp_cpu_model *m, int word)
{
    switch (word) {
    case CW_1_ECX: return m->f1_ecx;
    case CW_1_EDX: return m->f1_edx;
    case CW_7_EBX: return m->f7_ebx;
    case CW_7_ECX: return m->f7_ecx;
    case CW_7_EDX: return m->f7_edx;
    case CW_E1_ECX: return m->e1_ecx;
    case CW_E1_EDX: return m->e1_edx;
    default: return 0;
    }
}

bool vp_model_is_amd(const vp_cpu_model *m)
{
    return memcmp(m->vendor, "AuthenticAMD", 12) == 0;
}

uint32_t vp_cpuid_word(const vp_cpu *c, int word)
{
    uint32_t w = vp_model_word(c->model, word) & vp_impl_word(word);
    /* SDM Vol 4, IA32_MISC_ENABLE bit 34 "XD Bit Disable": CPUID stops
     * reporting NX (and EFER.NXE becomes reserved). */
    if (word == CW_E1_EDX && !vp_cpu_is_amd(c) &&
        (c->misc_enable & MISC_XD_DISABLE))
        w &= ~FEAT_BIT(NX);
    /* IA32_MISC_ENABLE bit 18 "ENABLE MONITOR FSM" clear: CPUID stops
     * reporting MONITOR, and MONITOR/MWAIT are #UD. */
    if (word == CW_1_ECX && !vp_cpu_is_amd(c) &&
        !(c->misc_enable & MISC_MONITOR))
        w &= ~FEAT_BIT(MONITOR);
    return w;
}

bool vp_cpu_has(const vp_cpu *c, int feat)
{
    if (!feat_impl[feat] || !((vp_model_word(c->model, feat / 32) >>
                               (feat % 32)) & 1))
        return false;
    if (feat == FEAT_NX && !vp_cpu_is_amd(c) &&
        (c->misc_enable & MISC_XD_DISABLE))
        return false;
    if (feat == FEAT_MONITOR && !vp_cpu_is_amd(c) &&
        !(c->misc_enable & MISC_MONITOR))
        return false;
    return true;
}

/* Leaves whose output depends on ECX (SDM Vol 2A, CPUID: "leaves with
 * sub-leaves"); for the others the sub-leaf is ignored. */
static bool has_subleaves(uint32_t leaf)
{
    switch (leaf) {
    case 0x4: case 0x7: case 0xb: case 0xd: case 0xf: case 0x10:
    case 0x12: case 0x14: case 0x17: case 0x18: case 0x1f:
    case 0x8000001d: case 0x80000020:
        return true;
    default:
        return false;
    }
}

static bool model_leaf(const vp_cpu_model *m, uint32_t leaf, uint32_t sub,
                       uint32_t out[4])
{
    if (!has_subleaves(leaf))
        sub = 0;
    for (size_t i = 0; i < m->nleaves; i++) {
        if (m->leaves[i].leaf == leaf && m->leaves[i].subleaf == sub) {
            memcpy(out, m->leaves[i].r, sizeof(m->leaves[i].r));
            return true;
        }
    }
    return false;
}

static void put_string(uint32_t *regs, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        regs[i / 4] |= (uint32_t)(uint8_t)s[i] << (8 * (i % 4));
}

/* Topology: every vCPU is its own package with one core and one thread
 * (SDM Vol 2A, CPUID, "Extended Topology Enumeration Leaf"); the x2APIC
 * and initial APIC ID are the CPU index, as emu/apic assigns them. */
static void leaf_topology(vp_cpu *c, uint32_t sub, uint32_t out[4])
{
    out[0] = 0;                         /* no ID bits at either level */
    out[3] = (uint32_t)c->id;
    if (sub == 0) {
        out[1] = 1;                     /* one logical processor: SMT */
        out[2] = (1u << 8) | sub;
    } else if (sub == 1) {
        out[1] = 1;                     /* one at the core level */
        out[2] = (2u << 8) | sub;
    } else {
        out[1] = 0;
        out[2] = sub & 0xff;            /* level type 0: invalid */
    }
}

static uint32_t max_basic(const vp_cpu *c)
{
    uint32_t max = c->model->max_leaf;
    /* IA32_MISC_ENABLE bit 22 "Limit CPUID Maxval" (Intel). */
    if (!vp_cpu_is_amd(c) && (c->misc_enable & MISC_LIMIT_CPUID) && max > 2)
        max = 2;
    return max;
}

void vp_cpuid(vp_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    const vp_cpu_model *m = c->model;
    bool amd = vp_cpu_is_amd(c);
    uint32_t maxb = max_basic(c);
    memset(out, 0, 4 * sizeof(uint32_t));

    /* Out-of-range leaves: Intel returns the highest basic leaf, AMD
     * returns zeros (SDM Vol 2A, CPUID, "If a value entered for CPUID.EAX
     * is higher than the maximum input value ..."). */
    bool ext = leaf >= 0x80000000u;
    if ((!ext && leaf > maxb) || (ext && leaf > m->max_ext_leaf)) {
        if (amd)
            goto done;
        leaf = maxb;
        ext = false;
    }

    switch (leaf) {
    case 0x0:
        out[0] = maxb;
        put_string(&out[1], m->vendor, 4);      /* EBX */
        put_string(&out[3], m->vendor + 4, 4);  /* EDX */
        put_string(&out[2], m->vendor + 8, 4);  /* ECX */
        break;
    case 0x1:
        out[0] = m->signature;
        /* EBX: brand index 0, CLFLUSH line size in 8-byte units, one
         * addressable logical processor, initial APIC ID. */
        out[1] = (vp_cpu_has(c, FEAT_CLFSH) ? 8u << 8 : 0) | (1u << 16) |
                 ((uint32_t)c->id << 24);
        out[2] = vp_cpuid_word(c, CW_1_ECX);
        out[3] = vp_cpuid_word(c, CW_1_EDX);
        if (vp_cpu_has(c, FEAT_XSAVE) && (c->cr4 & CR4_OSXSAVE))
            out[2] |= FEAT_BIT(OSXSAVE);
        /* SDM Vol 3A, "Enabling or Disabling the Local APIC": with
         * IA32_APIC_BASE[11] clear, CPUID.1:EDX.APIC reads 0. */
        if (!c->lapic || !(c->apic_base & VP_BIT(11)))
            out[3] &= ~FEAT_BIT(APIC);
        break;
    case 0x7:
        if (sub == 0) {
            out[0] = 0;                         /* highest sub-leaf */
            out[1] = vp_cpuid_word(c, CW_7_EBX);
            out[2] = vp_cpuid_word(c, CW_7_ECX);
            out[3] = vp_cpuid_word(c, CW_7_EDX);
            if (vp_cpu_has(c, FEAT_PKU) && (c->cr4 & CR4_PKE))
                out[2] |= FEAT_BIT(OSPKE);
        }
        break;
    case 0x5:
        /* MONITOR/MWAIT (SDM Vol 2A, CPUID, "MONITOR/MWAIT Leaf"; AMD
         * Fn0000_0005): 64-byte monitor lines, the MWAIT extensions
         * enumerated (EMX) with interrupts as break events (IBE), and one
         * C1 sub-state: every MWAIT hint is the same wait (ops_sysext.c),
         * so no deeper C-state is claimed. */
        if (vp_cpu_has(c, FEAT_MONITOR)) {
            out[0] = VP_MONITOR_LINE;
            out[1] = VP_MONITOR_LINE;
            out[2] = 3;
            out[3] = 1u << 4;
        }
        break;
    case 0xb:
        if (!amd)
            leaf_topology(c, sub, out);
        break;
    case 0x15:
        /* TSC / core crystal ratio and crystal frequency: TSC = crystal
         * * EBX / EAX. The crystal is the APIC timer's 1 GHz clock. */
        out[0] = 1;
        out[1] = 1;
        out[2] = VP_TSC_HZ;
        break;
    case 0x16:
        /* Base, maximum and bus frequencies in MHz. */
        out[0] = VP_TSC_HZ / 1000000u;
        out[1] = VP_TSC_HZ / 1000000u;
        out[2] = VP_TSC_HZ / 1000000u;
        break;
    case 0x80000000:
        out[0] = m->max_ext_leaf;
        if (amd) {
            put_string(&out[1], m->vendor, 4);
            put_string(&out[3], m->vendor + 4, 4);
            put_string(&out[2], m->vendor + 8, 4);
        }
        break;
    case 0x80000001:
        out[0] = amd ? m->signature : 0;
        out[2] = vp_cpuid_word(c, CW_E1_ECX);
        out[3] = vp_cpuid_word(c, CW_E1_EDX);
        if (!c->lapic || !(c->apic_base & VP_BIT(11)))
            out[3] &= ~FEAT_BIT(E_APIC);
        break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
        put_string(out, m->brand + 16 * (leaf - 0x80000002), 16);
        break;
    case 0x80000008:
        /* Physical and linear address sizes; AMD ECX[7:0] = cores - 1. */
        out[0] = m->phys_bits | ((uint32_t)m->lin_bits << 8);
        break;
    default:
        /* Descriptive leaves (caches, TLBs); anything else is a leaf for
         * a feature not advertised, which reads as zeros. */
        model_leaf(m, leaf, sub, out);
        break;
    }
done:
    VP_TRACE(&c->m->trace, CPU, "cpuid %#x.%u -> %08x %08x %08x %08x", leaf,
             sub, out[0], out[1], out[2], out[3]);
}
