/* CPUID for each model: vendor strings, signature, brand, the leaves'
 * consistency with the maximum leaves, topology, and — the invariant —
 * nothing advertised that Vanderpool does not implement (no x87, SSE,
 * AVX, VMX, SVM...). SDM Vol 2A, CPUID; AMD APM Vol 3, Appendix E. */
#include "testsuites/unit/test_cpu_sys.h"

static vp_machine *machine_model(const char *model, int ncpus)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = 16ull << 20;
    cfg.ncpus = ncpus;
    cfg.cpu_model = model;
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    return m;
}

static void vendor_of(vp_cpu *c, uint32_t leaf, char out[13])
{
    uint32_t r[4];
    vp_cpuid(c, leaf, 0, r);
    memcpy(out, &r[1], 4);
    memcpy(out + 4, &r[3], 4);
    memcpy(out + 8, &r[2], 4);
    out[12] = 0;
}

START_TEST(test_model_table)
{
    ck_assert_uint_ge(vp_cpu_model_count, 2);
    ck_assert_ptr_eq(vp_cpu_model_find(NULL), &vp_cpu_models[0]);
    ck_assert_str_eq(vp_cpu_model_find(NULL)->name, "vp-intel");
    ck_assert_ptr_nonnull(vp_cpu_model_find("vp-amd"));
    ck_assert_ptr_null(vp_cpu_model_find("pentium"));
    /* Each model's flags name bits that exist in features.def, in the
     * word where they live. */
    for (size_t i = 0; i < vp_cpu_model_count; i++) {
        const vp_cpu_model *mod = &vp_cpu_models[i];
        ck_assert_ptr_nonnull(mod->desc);
        for (int w = 0; w < CW_COUNT; w++) {
            uint32_t known = 0;
            for (size_t f = 0; f < vp_feature_count; f++)
                if (vp_features[f].feat / 32 == w)
                    known |= 1u << (vp_features[f].feat % 32);
            ck_assert_msg((vp_model_word(mod, w) & ~known) == 0,
                          "%s word %d has unknown bits %#x", mod->name, w,
                          vp_model_word(mod, w) & ~known);
        }
    }
}
END_TEST

static const char *const models[] = {"vp-intel", "vp-amd", "vp-icx"};

START_TEST(test_cpuid_basic)
{
    const char *name = models[_i];
    vp_machine *m = machine_model(name, 1);
    vp_cpu *c = m->cpus[0];
    const vp_cpu_model *mod = c->model;
    bool amd = vp_model_is_amd(mod);
    char vendor[13];
    uint32_t r[4];

    vendor_of(c, 0, vendor);
    ck_assert_str_eq(vendor, amd ? "AuthenticAMD" : "GenuineIntel");
    vp_cpuid(c, 0, 0, r);
    ck_assert_uint_eq(r[0], mod->max_leaf);
    vp_cpuid(c, 0x80000000, 0, r);
    ck_assert_uint_eq(r[0], mod->max_ext_leaf);
    ck_assert_uint_ge(r[0], 0x80000008);
    if (amd) {
        vendor_of(c, 0x80000000, vendor);
        ck_assert_str_eq(vendor, "AuthenticAMD");
    }

    /* Leaf 1: signature, APIC ID, CLFLUSH line size, features. */
    vp_cpuid(c, 1, 0, r);
    ck_assert_uint_eq(r[0], mod->signature);
    ck_assert_uint_eq(r[1] >> 24, 0);
    ck_assert_uint_eq((r[1] >> 8) & 0xff, 8);
    ck_assert(!(r[3] & FEAT_BIT(FPU)));          /* no x87 yet */
    ck_assert(!(r[3] & (FEAT_BIT(MMX) | FEAT_BIT(FXSR) | FEAT_BIT(SSE) |
                        FEAT_BIT(SSE2))));
    ck_assert(!(r[3] & (FEAT_BIT(HTT) | FEAT_BIT(MCE) | FEAT_BIT(MCA))));
    ck_assert((r[3] & (FEAT_BIT(VME) | FEAT_BIT(DE))) ==
              (FEAT_BIT(VME) | FEAT_BIT(DE)));
    ck_assert(!(r[2] & (FEAT_BIT(SSE3) | FEAT_BIT(SSSE3) | FEAT_BIT(SSE4_1) |
                        FEAT_BIT(AVX) | FEAT_BIT(XSAVE) | FEAT_BIT(OSXSAVE) |
                        FEAT_BIT(VMX) | FEAT_BIT(HYPERVISOR))));
    ck_assert_uint_eq(!!(r[2] & FEAT_BIT(PCID)), !!(mod->f1_ecx & FEAT_BIT(PCID)));
    uint32_t want_edx = FEAT_BIT(TSC) | FEAT_BIT(MSR) | FEAT_BIT(PAE) |
                        FEAT_BIT(CX8) | FEAT_BIT(APIC) | FEAT_BIT(SEP) |
                        FEAT_BIT(PGE) | FEAT_BIT(CMOV) | FEAT_BIT(PAT) |
                        FEAT_BIT(PSE) | FEAT_BIT(PSE36) | FEAT_BIT(CLFSH);
    ck_assert_msg((r[3] & want_edx) == want_edx, "%s: leaf 1 EDX %#x", name,
                  r[3]);
    ck_assert(r[2] & FEAT_BIT(X2APIC));

    /* Leaf 7: the model's flags that are implemented, nothing else
     * (OSPKE stays clear until CR4.PKE is set). */
    vp_cpuid(c, 7, 0, r);
    ck_assert_uint_eq(r[0], 0);
    ck_assert_uint_eq(r[1], mod->f7_ebx & vp_impl_word(CW_7_EBX));
    ck_assert_uint_eq(r[2], mod->f7_ecx & vp_impl_word(CW_7_ECX));
    ck_assert_uint_eq(r[3], mod->f7_edx & vp_impl_word(CW_7_EDX));
    ck_assert(!(r[1] & (FEAT_BIT(AVX2) | FEAT_BIT(RTM) | FEAT_BIT(MPX))));
    ck_assert(!(r[2] & FEAT_BIT(OSPKE)));

    /* 80000001: LM, NX, SYSCALL, LAHF, RDTSCP, LZCNT; no SVM, FPU. */
    vp_cpuid(c, 0x80000001, 0, r);
    ck_assert(r[3] & FEAT_BIT(LM));
    ck_assert(r[3] & FEAT_BIT(NX));
    ck_assert(r[3] & FEAT_BIT(SYSCALL));
    ck_assert(r[2] & FEAT_BIT(LAHF_LM));
    ck_assert(!(r[2] & (FEAT_BIT(SVM) | FEAT_BIT(SSE4A))));
    ck_assert(r[2] & FEAT_BIT(ABM));
    ck_assert(r[3] & FEAT_BIT(RDTSCP));
    ck_assert(!(r[3] & (FEAT_BIT(E_FPU) | FEAT_BIT(E_MMX) |
                        FEAT_BIT(MMXEXT))));
    ck_assert_uint_eq(r[0], amd ? mod->signature : 0);

    /* Brand string. */
    char brand[49];
    for (uint32_t k = 0; k < 3; k++) {
        vp_cpuid(c, 0x80000002 + k, 0, r);
        memcpy(brand + 16 * k, r, 16);
    }
    brand[48] = 0;
    ck_assert_str_eq(brand, mod->brand);

    /* Address sizes. */
    vp_cpuid(c, 0x80000008, 0, r);
    ck_assert_uint_eq(r[0] & 0xff, mod->phys_bits);
    ck_assert_uint_eq((r[0] >> 8) & 0xff, mod->lin_bits);

    /* Leaves of features not advertised read as zero: XSAVE (0DH),
     * performance monitoring (0AH). */
    vp_cpuid(c, 0xd, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    vp_cpuid(c, 0xa, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    /* MONITOR (05H), advertised on every model: 64-byte lines. */
    vp_cpuid(c, 0x5, 0, r);
    ck_assert_uint_eq(r[0], 64);
    ck_assert_uint_eq(r[1], 64);
    vp_machine_destroy(m);
}
END_TEST

/* Out-of-range leaves: Intel returns the highest basic leaf, AMD zeros. */
START_TEST(test_cpuid_out_of_range)
{
    vp_machine *m = machine_model("vp-intel", 1);
    vp_cpu *c = m->cpus[0];
    uint32_t hi[4], r[4];
    vp_cpuid(c, c->model->max_leaf, 0, hi);
    vp_cpuid(c, 0x40000000, 0, r);
    ck_assert_mem_eq(r, hi, sizeof(r));
    vp_cpuid(c, 0x8000ffff, 0, r);
    ck_assert_mem_eq(r, hi, sizeof(r));
    vp_machine_destroy(m);

    m = machine_model("vp-amd", 1);
    c = m->cpus[0];
    vp_cpuid(c, 0x40000000, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    vp_cpuid(c, 0x80000040, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    vp_machine_destroy(m);
}
END_TEST

/* Topology: each vCPU a single-core, single-thread package; APIC IDs are
 * the CPU indexes. */
START_TEST(test_cpuid_topology)
{
    vp_machine *m = machine_model("vp-intel", 2);
    uint32_t r[4];
    for (int i = 0; i < 2; i++) {
        vp_cpu *c = m->cpus[i];
        vp_cpuid(c, 1, 0, r);
        ck_assert_uint_eq(r[1] >> 24, (uint32_t)i);
        ck_assert(!(r[3] & FEAT_BIT(HTT)));
        vp_cpuid(c, 0xb, 0, r);
        ck_assert_uint_eq(r[1], 1);
        ck_assert_uint_eq((r[2] >> 8) & 0xff, 1);   /* SMT level */
        ck_assert_uint_eq(r[3], (uint32_t)i);
        vp_cpuid(c, 0xb, 1, r);
        ck_assert_uint_eq(r[1], 1);
        ck_assert_uint_eq((r[2] >> 8) & 0xff, 2);   /* core level */
        vp_cpuid(c, 0xb, 2, r);
        ck_assert_uint_eq((r[2] >> 8) & 0xff, 0);   /* invalid: end */
        /* Leaf 4: one core, one thread sharing each cache. */
        for (uint32_t k = 0; k < 4; k++) {
            vp_cpuid(c, 4, k, r);
            ck_assert_uint_ne(r[0] & 0x1f, 0);
            ck_assert_uint_eq(r[0] >> 14, 0);
        }
        vp_cpuid(c, 4, 4, r);
        ck_assert_uint_eq(r[0] & 0x1f, 0);
    }
    vp_machine_destroy(m);
}
END_TEST

/* The TSC frequency leaves describe the 1 GHz virtual TSC. */
START_TEST(test_cpuid_tsc_freq)
{
    vp_machine *m = machine_model("vp-intel", 1);
    vp_cpu *c = m->cpus[0];
    uint32_t r[4];
    vp_cpuid(c, 0x15, 0, r);
    ck_assert_uint_ne(r[0], 0);
    ck_assert_uint_eq((uint64_t)r[2] * r[1] / r[0], VP_TSC_HZ);
    vp_cpuid(c, 0x16, 0, r);
    ck_assert_uint_eq(r[0], VP_TSC_HZ / 1000000);
    vp_machine_destroy(m);
}
END_TEST

/* CPUID.1:EDX.APIC follows IA32_APIC_BASE's global enable; OSXSAVE is not
 * reported without XSAVE even with CR4 bits. */
START_TEST(test_cpuid_dynamic_bits)
{
    vp_machine *m = machine_model("vp-intel", 1);
    vp_cpu *c = m->cpus[0];
    uint32_t r[4];
    vp_cpuid(c, 1, 0, r);
    ck_assert(r[3] & FEAT_BIT(APIC));
    uint64_t base;
    ck_assert_int_eq(vp_rdmsr(c, 0x1b, &base), VP_OK);
    ck_assert_int_eq(vp_wrmsr(c, 0x1b, base & ~VP_BIT(11)), VP_OK);
    vp_cpuid(c, 1, 0, r);
    ck_assert(!(r[3] & FEAT_BIT(APIC)));
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_cpu_sys_cpuid(void)
{
    Suite *s = suite_create("cpu_sys_cpuid");
    TCase *tc = tcase_create("cpuid");
    tcase_add_test(tc, test_model_table);
    tcase_add_loop_test(tc, test_cpuid_basic, 0, (int)VP_ARRAY_SIZE(models));
    tcase_add_test(tc, test_cpuid_out_of_range);
    tcase_add_test(tc, test_cpuid_topology);
    tcase_add_test(tc, test_cpuid_tsc_freq);
    tcase_add_test(tc, test_cpuid_dynamic_bits);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_sys_cpuid)
