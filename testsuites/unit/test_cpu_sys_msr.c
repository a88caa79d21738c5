/* RDMSR/WRMSR: the MSR table's availability per model, reserved bits,
 * canonical checks, memory-type checks and the side effects (TSC and
 * TSC_ADJUST, FS/GS base, EFER, MISC_ENABLE). SDM Vol 4 "Model-Specific
 * Registers"; Vol 3A "IA32_EFER", "PAT", "MTRRs". */
#include "testsuites/unit/test_cpu_sys.h"

typedef struct msr_vec {
    const char *name;
    const char *model;     /* NULL: default (vp-intel) */
    uint32_t msr;
    bool write;
    uint64_t val;
    bool ok;
} msr_vec;

static const msr_vec msr_vecs[] = {
    {"unknown MSR read", NULL, 0x12345678, false, 0, false},
    {"unknown MSR write", NULL, 0xc0001234, true, 0, false},
    {"MCG_CAP: MCE not advertised", NULL, 0x179, false, 0, false},
    {"SPEC_CTRL: not advertised", NULL, 0x48, false, 0, false},
    {"TSC_AUX with RDTSCP", NULL, 0xc0000103, true, 0xffffffffull, true},
    {"TSC_AUX bits 63:32 reserved", NULL, 0xc0000103, true, 1ull << 32,
     false},
    {"EFER read", NULL, 0xc0000080, false, 0, true},
    {"EFER SCE|NXE", NULL, 0xc0000080, true, EFER_SCE | EFER_NXE, true},
    {"EFER bit 1 reserved", NULL, 0xc0000080, true, 2, false},
    {"EFER SVME without SVM", "vp-amd", 0xc0000080, true, VP_BIT(12), false},
    {"LSTAR canonical", NULL, 0xc0000082, true, 0xffff800000001000ull, true},
    {"LSTAR non-canonical", NULL, 0xc0000082, true, 0x0000800000000000ull,
     false},
    {"CSTAR non-canonical", NULL, 0xc0000083, true, 0x8000000000000000ull,
     false},
    {"KERNEL_GS_BASE non-canonical", NULL, 0xc0000102, true,
     0x0001000000000000ull, false},
    {"FS_BASE non-canonical", NULL, 0xc0000100, true, 0x00f0000000000000ull,
     false},
    {"FMASK upper half reserved", NULL, 0xc0000084, true, 1ull << 32, false},
    {"STAR any value", NULL, 0xc0000081, true, 0x0023001000000000ull, true},
    {"SYSENTER_EIP non-canonical (Intel)", NULL, 0x176, true,
     0x0000800000000000ull, false},
    {"SYSENTER_EIP high bits dropped (AMD)", "vp-amd", 0x176, true,
     0x0000800000000000ull, true},
    {"PAT valid", NULL, 0x277, true, 0x0007040600070406ull, true},
    {"PAT type 2 reserved", NULL, 0x277, true, 0x0007040600070402ull, false},
    {"PAT type 8 reserved", NULL, 0x277, true, 0x0807040600070406ull, false},
    {"MTRRcap read-only", NULL, 0xfe, true, 0, false},
    {"MTRR def type WB enabled", NULL, 0x2ff, true, 0xc06, true},
    {"MTRR def type 2 invalid", NULL, 0x2ff, true, 0xc02, false},
    {"MTRR def type bit 12", NULL, 0x2ff, true, 0x1006, false},
    {"MTRR physbase above MAXPHYADDR", NULL, 0x200, true,
     (1ull << 39) | 6, false},
    {"MTRR physmask valid", NULL, 0x201, true, 0x7ff0000800ull, true},
    {"MTRR physmask low bits", NULL, 0x201, true, 0x7ff0000801ull, false},
    {"MTRR var 8 not implemented", NULL, 0x210, false, 0, false},
    {"MTRR fixed bad type", NULL, 0x250, true, 0x0606060606060603ull, false},
    {"MTRR fixed 4K", NULL, 0x26f, true, 0x0505050505050505ull, true},
    {"PLATFORM_INFO on Intel", NULL, 0xce, false, 0, true},
    {"PLATFORM_INFO read-only", NULL, 0xce, true, 0, false},
    {"PLATFORM_INFO absent on AMD", "vp-amd", 0xce, false, 0, false},
    {"MISC_ENABLE absent on AMD", "vp-amd", 0x1a0, false, 0, false},
    {"MISC_ENABLE reserved bit", NULL, 0x1a0, true, VP_BIT(40), false},
    {"FEATURE_CONTROL VMX bit without VMX", NULL, 0x3a, true, 5, false},
    {"FEATURE_CONTROL lock", NULL, 0x3a, true, 1, true},
    {"FEATURE_CONTROL absent on AMD", "vp-amd", 0x3a, false, 0, false},
    {"TSC_ADJUST on Intel", NULL, 0x3b, false, 0, true},
    {"TSC_ADJUST absent on AMD", "vp-amd", 0x3b, false, 0, false},
    {"HWCR on AMD", "vp-amd", 0xc0010015, false, 0, true},
    {"HWCR absent on Intel", NULL, 0xc0010015, false, 0, false},
    {"DEBUGCTL 0", NULL, 0x1d9, true, 0, true},
    {"DEBUGCTL LBR not implemented", NULL, 0x1d9, true, 1, false},
    {"BIOS_SIGN_ID write accepted", NULL, 0x8b, true, 0, true},
    {"TSC_DEADLINE on Intel", NULL, 0x6e0, false, 0, true},
    {"TSC_DEADLINE absent on AMD", "vp-amd", 0x6e0, false, 0, false},
};

static vp_machine *machine_model(const char *model)
{
    vp_config cfg = {0};
    vp_error err = {{0}};
    cfg.ram_size = 16ull << 20;
    cfg.ncpus = 1;
    cfg.cpu_model = model;
    vp_machine *m = vp_machine_create(&cfg, NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    return m;
}

START_TEST(test_msr_vectors)
{
    const msr_vec *v = &msr_vecs[_i];
    vp_machine *m = machine_model(v->model);
    vp_cpu *c = m->cpus[0];
    prot32(c, 0);
    uint64_t val = 0;
    int r = v->write ? vp_wrmsr(c, v->msr, v->val)
                     : vp_rdmsr(c, v->msr, &val);
    ck_assert_msg((r == VP_OK) == v->ok, "%s: %s", v->name,
                  r == VP_OK ? "accepted" : "#GP");
    if (!v->ok)
        ck_exc(c, EXC_GP, 0);
    if (v->ok && v->write) {
        ck_assert_int_eq(vp_rdmsr(c, v->msr, &val), VP_OK);
        if (v->msr != 0x8b && v->msr != 0x176)
            ck_assert_msg(val == v->val, "%s: read back %#llx", v->name,
                          (unsigned long long)val);
    }
    vp_machine_destroy(m);
}
END_TEST

/* FS/GS base MSRs are the segment caches' bases; SWAPGS' partner. */
START_TEST(test_msr_segbase)
{
    vp_machine *m = machine_model(NULL);
    vp_cpu *c = m->cpus[0];
    long64(c, 0);
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000100, 0xffff888000000000ull), VP_OK);
    ck_assert_uint_eq(c->seg[S_FS].base, 0xffff888000000000ull);
    c->seg[S_GS].base = 0x1000;
    uint64_t v;
    ck_assert_int_eq(vp_rdmsr(c, 0xc0000101, &v), VP_OK);
    ck_assert_uint_eq(v, 0x1000);
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000102, 0x2000), VP_OK);
    ck_assert_uint_eq(c->kernel_gs_base, 0x2000);
    vp_machine_destroy(m);
}
END_TEST

/* Writing the TSC moves TSC_ADJUST by the same amount and vice versa
 * (SDM Vol 3B, "Time-Stamp Counter Adjustment"). */
START_TEST(test_msr_tsc)
{
    vp_machine *m = machine_model(NULL);
    vp_cpu *c = m->cpus[0];
    uint64_t t0 = vp_cpu_tsc(c), v;
    ck_assert_int_eq(vp_wrmsr(c, 0x10, t0 + 1000000), VP_OK);
    ck_assert_int_eq(vp_rdmsr(c, 0x10, &v), VP_OK);
    ck_assert_uint_eq(v, t0 + 1000000);      /* virtual time stood still */
    ck_assert_int_eq(vp_rdmsr(c, 0x3b, &v), VP_OK);
    ck_assert_uint_eq(v, 1000000);
    ck_assert_int_eq(vp_wrmsr(c, 0x3b, 0), VP_OK);
    ck_assert_uint_eq(vp_cpu_tsc(c), t0);
    vp_machine_destroy(m);
}
END_TEST

/* IA32_MISC_ENABLE: XD disable hides NX and reserves EFER.NXE; limit
 * CPUID maxval caps leaf 0 at 2; BTS/PEBS unavailable read as 1. */
START_TEST(test_msr_misc_enable)
{
    vp_machine *m = machine_model(NULL);
    vp_cpu *c = m->cpus[0];
    uint64_t v;
    uint32_t out[4];
    ck_assert_int_eq(vp_rdmsr(c, 0x1a0, &v), VP_OK);
    ck_assert(v & MISC_BTS_UNAVAIL);
    ck_assert(v & MISC_PEBS_UNAVAIL);
    ck_assert(v & MISC_FAST_STRINGS);
    ck_assert_int_eq(vp_wrmsr(c, 0x1a0, v | MISC_XD_DISABLE | MISC_LIMIT_CPUID),
                     VP_OK);
    vp_cpuid(c, 0x80000001, 0, out);
    ck_assert(!(out[3] & FEAT_BIT(NX)));
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000080, EFER_NXE), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    vp_cpuid(c, 0, 0, out);
    ck_assert_uint_eq(out[0], 2);
    ck_assert_int_eq(vp_wrmsr(c, 0x1a0, v), VP_OK);
    vp_cpuid(c, 0x80000001, 0, out);
    ck_assert(out[3] & FEAT_BIT(NX));
    ck_assert_int_eq(vp_wrmsr(c, 0xc0000080, EFER_NXE), VP_OK);
    vp_machine_destroy(m);
}
END_TEST

/* IA32_FEATURE_CONTROL: once locked, writes fault until reset. */
START_TEST(test_msr_feature_control_lock)
{
    vp_machine *m = machine_model(NULL);
    vp_cpu *c = m->cpus[0];
    ck_assert_int_eq(vp_wrmsr(c, 0x3a, 0), VP_OK);
    ck_assert_int_eq(vp_wrmsr(c, 0x3a, 1), VP_OK);
    ck_assert_int_eq(vp_wrmsr(c, 0x3a, 1), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    vp_machine_destroy(m);
}
END_TEST

/* The APIC base and x2APIC MSRs reach the local APIC. */
START_TEST(test_msr_apic)
{
    vp_machine *m = machine_model(NULL);
    vp_cpu *c = m->cpus[0];
    uint64_t v;
    ck_assert_int_eq(vp_rdmsr(c, 0x1b, &v), VP_OK);
    ck_assert_uint_eq(v & 0xfffff000ull, 0xfee00000ull);
    ck_assert(v & VP_BIT(11));         /* enabled */
    ck_assert(v & VP_BIT(8));          /* BSP */
    /* x2APIC registers fault while the APIC is in xAPIC mode. */
    ck_assert_int_eq(vp_rdmsr(c, 0x802, &v), VP_EXC);
    ck_exc(c, EXC_GP, 0);
    vp_machine_destroy(m);
}
END_TEST

static Suite *suite_cpu_sys_msr(void)
{
    Suite *s = suite_create("cpu_sys_msr");
    TCase *tc = tcase_create("msr");
    tcase_add_loop_test(tc, test_msr_vectors, 0, (int)VP_ARRAY_SIZE(msr_vecs));
    tcase_add_test(tc, test_msr_segbase);
    tcase_add_test(tc, test_msr_tsc);
    tcase_add_test(tc, test_msr_misc_enable);
    tcase_add_test(tc, test_msr_feature_control_lock);
    tcase_add_test(tc, test_msr_apic);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(suite_cpu_sys_msr)
