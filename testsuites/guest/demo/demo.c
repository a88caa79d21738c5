/* demo.c: `make demo`. A long-mode guest that describes the machine it
 * booted on: how it was booted, the CPU and its mode, memory, the APIC,
 * and above all what hardware virtualization (VT-x, AMD-V) the CPU offers,
 * which is what Vanderpool exists to emulate. Read-only: it changes
 * nothing and always exits with code 0.
 * engines: vanderpool qemu bochs
 */
#include "vp.h"

static void print_flags(const char *label, uint32_t word, const char *const names[32])
{
    bool any = false;
    for (int i = 0; i < 32; i++)
        any |= (word & (1u << i)) && names[i];
    if (!any)
        return;
    printf("  %-14s", label);
    int col = 16;
    for (int i = 0; i < 32; i++) {
        if (!(word & (1u << i)) || !names[i])
            continue;
        int len = (int)strlen(names[i]) + 1;
        if (col + len > 78) {
            printf("\n  %-14s", "");
            col = 16;
        }
        printf(" %s", names[i]);
        col += len;
    }
    printf("\n");
}

static const char *const leaf1_edx[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL, "sep",
    "mtrr", "pge", "mca", "cmov", "pat", "pse36", "psn", "clflush", NULL, "ds", "acpi", "mmx",
    "fxsr", "sse", "sse2", "ss", "htt", "tm", NULL, "pbe",
};
static const char *const leaf1_ecx[32] = {
    "sse3", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "VMX", "smx", "est", "tm2", "ssse3",
    "cnxt-id", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca", "sse4.1", "sse4.2",
    "x2apic", "movbe", "popcnt", "tsc-deadline", "aes", "xsave", "osxsave", "avx", "f16c",
    "rdrand", "hypervisor",
};
static const char *const leaf7_ebx[32] = {
    "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep", "bmi2", "erms",
    "invpcid", "rtm", NULL, NULL, "mpx", NULL, "avx512f", "avx512dq", "rdseed", "adx", "smap",
    NULL, NULL, "clflushopt", "clwb", "pt", NULL, NULL, NULL, "sha", NULL, NULL,
};
static const char *const ext1_edx[32] = {
    [11] = "syscall", [20] = "nx", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
};
static const char *const ext1_ecx[32] = {
    [0] = "lahf-lm", [2] = "SVM", [5] = "lzcnt", [6] = "sse4a", [8] = "prefetchw",
};

static bool has_ext(uint32_t leaf)
{
    return cpuid(0x80000000).a >= leaf;
}

/* RDMSR that survives an MSR the CPU does not have. */
static uint64_t msr_value;
static void rdmsr_fn(void *arg)
{
    msr_value = rdmsr((uint32_t)(uintptr_t)arg);
}
static bool read_msr(uint32_t msr, uint64_t *v)
{
    if (run_catching(rdmsr_fn, (void *)(uintptr_t)msr) >= 0)
        return false;
    *v = msr_value;
    return true;
}

static const char *yes(bool b)
{
    return b ? "yes" : "no";
}

static void show_boot(void)
{
    const struct multiboot_info *mbi = multiboot();
    printf("Boot\n");
    printf("  multiboot      magic %#x, info at %#x\n", mb_magic, mb_info);
    if (!mbi)
        return;
    if (mbi->flags & MBI_LOADER_NAME)
        printf("  loader         %s\n", (const char *)(uintptr_t)mbi->boot_loader_name);
    if ((mbi->flags & MBI_CMDLINE) && mbi->cmdline && *(const char *)(uintptr_t)mbi->cmdline)
        printf("  command line   \"%s\"\n", (const char *)(uintptr_t)mbi->cmdline);
    if (mbi->flags & MBI_MEM)
        printf("  memory         %u KiB below 1 MiB, %u KiB above\n", mbi->mem_lower,
               mbi->mem_upper);
    if (mbi->flags & MBI_MMAP) {
        printf("  memory map\n");
        uint32_t off = 0;
        while (off + 4 <= mbi->mmap_length) {
            const struct multiboot_mmap_entry *e =
                (const void *)(uintptr_t)(mbi->mmap_addr + off);
            printf("    %016llx-%016llx  %s\n", (unsigned long long)e->addr,
                   (unsigned long long)(e->addr + e->len - 1),
                   e->type == 1 ? "RAM" : e->type == 3 ? "ACPI data" : "reserved");
            off += e->size + 4;
        }
    }
}

static void show_cpu(void)
{
    struct cpuid_regs r = cpuid(0);
    char vendor[13];
    memcpy(vendor, &r.b, 4);
    memcpy(vendor + 4, &r.d, 4);
    memcpy(vendor + 8, &r.c, 4);
    vendor[12] = 0;
    uint32_t max_leaf = r.a;
    struct cpuid_regs l1 = cpuid(1);
    printf("CPU\n");
    printf("  vendor         %s (max leaf %#x, max extended leaf %#x)\n", vendor, max_leaf,
           cpuid(0x80000000).a);
    if (has_ext(0x80000004)) {
        char brand[49];
        for (int i = 0; i < 3; i++) {
            struct cpuid_regs b = cpuid(0x80000002 + i);
            memcpy(brand + 16 * i, &b, 16);
        }
        brand[48] = 0;
        const char *p = brand;
        while (*p == ' ')
            p++;
        printf("  brand          %s\n", p);
    }
    unsigned fam = (l1.a >> 8) & 0xF, model = (l1.a >> 4) & 0xF;
    if (fam == 0xF)
        fam += (l1.a >> 20) & 0xFF;
    if (fam == 0x6 || fam >= 0xF)
        model |= ((l1.a >> 16) & 0xF) << 4;
    printf("  signature      family %#x model %#x stepping %u\n", fam, model, l1.a & 0xF);
    print_flags("features", l1.d, leaf1_edx);
    print_flags("", l1.c, leaf1_ecx);
    if (max_leaf >= 7)
        print_flags("", cpuid_count(7, 0).b, leaf7_ebx);
    if (has_ext(0x80000001)) {
        print_flags("extended", cpuid(0x80000001).d, ext1_edx);
        print_flags("", cpuid(0x80000001).c, ext1_ecx);
    }
    if (has_ext(0x80000008)) {
        uint32_t a = cpuid(0x80000008).a;
        printf("  address bits   %u physical, %u linear\n", a & 0xFF, (a >> 8) & 0xFF);
    }

    uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
    printf("Mode\n");
    printf("  now            %s, ring %u, paging %s\n",
           (efer & EFER_LMA) ? "64-bit long mode" : "not long mode?", read_cs() & 3,
           (cr4 & BIT(12)) ? "5-level" : "4-level");
    printf("  CR0 %#llx  CR3 %#llx  CR4 %#llx  EFER %#llx\n", (unsigned long long)cr0,
           (unsigned long long)read_cr3(), (unsigned long long)cr4, (unsigned long long)efer);
}

static void show_apic(void)
{
    bool apic = cpuid(1).d & BIT(9);
    printf("Interrupt controller\n");
    printf("  local APIC     %s", yes(apic));
    uint64_t base;
    if (apic && read_msr(MSR_IA32_APIC_BASE, &base)) {
        uint64_t pa = base & ~0xFFFull;
        printf(", IA32_APIC_BASE %#llx (%s%s%s)\n", (unsigned long long)base,
               (base & BIT(8)) ? "BSP, " : "", (base & BIT(11)) ? "enabled" : "disabled",
               (base & BIT(10)) ? ", x2APIC mode" : "");
        if ((base & BIT(11)) && !(base & BIT(10)) && pa < (4ull << 30)) {
            uint32_t id = mmio_read32(pa + 0x20), ver = mmio_read32(pa + 0x30);
            printf("  APIC ID %u, version %#x, %u LVT entries\n", id >> 24, ver & 0xFF,
                   ((ver >> 16) & 0xFF) + 1);
        }
    } else {
        printf("\n");
    }
    printf("  x2APIC         %s\n", yes(cpuid(1).c & BIT(21)));
}

static void show_vmx(void)
{
    bool vmx = cpuid(1).c & BIT(5);
    printf("  Intel VT-x     %s\n", vmx ? "advertised (CPUID.1:ECX.VMX)" : "not advertised");
    if (!vmx)
        return;
    uint64_t fc, basic, pin, proc, proc2 = 0, ept = 0;
    if (read_msr(0x3A, &fc))
        printf("    IA32_FEATURE_CONTROL %#llx: %s, VMX outside SMX %s\n",
               (unsigned long long)fc, (fc & 1) ? "locked" : "unlocked",
               (fc & 4) ? "allowed" : "not allowed yet");
    if (!read_msr(0x480, &basic)) {
        printf("    IA32_VMX_BASIC cannot be read\n");
        return;
    }
    printf("    VMCS revision %#llx, region %llu bytes%s\n",
           (unsigned long long)(basic & 0x7FFFFFFF), (unsigned long long)((basic >> 32) & 0x1FFF),
           (basic & BIT(55)) ? ", TRUE controls" : "");
    if (read_msr(0x481, &pin) && read_msr(0x482, &proc)) {
        bool sec = (proc >> 32) & BIT(31);
        if (sec)
            read_msr(0x48B, &proc2);
        uint32_t p2 = (uint32_t)(proc2 >> 32);
        if (p2 & (BIT(1) | BIT(5)))
            read_msr(0x48C, &ept);
        printf("    EPT %s, VPID %s, unrestricted guest %s, VMCS shadowing %s\n",
               yes(p2 & BIT(1)), yes(p2 & BIT(5)), yes(p2 & BIT(7)), yes(p2 & BIT(14)));
        printf("    APIC virtualization %s, virtual interrupt delivery %s, posted "
               "interrupts %s\n",
               yes(p2 & BIT(8)), yes(p2 & BIT(9)), yes((pin >> 32) & BIT(7)));
        if (ept)
            printf("    EPT/VPID capabilities %#llx\n", (unsigned long long)ept);
    }
}

static void show_svm(void)
{
    bool svm = has_ext(0x80000001) && (cpuid(0x80000001).c & BIT(2));
    printf("  AMD-V          %s\n", svm ? "advertised (CPUID.80000001H:ECX.SVM)" : "not advertised");
    if (!svm || !has_ext(0x8000000A))
        return;
    struct cpuid_regs r = cpuid(0x8000000A);
    printf("    SVM revision %u, %u ASIDs, nested paging %s, AVIC %s, next-RIP save %s\n",
           r.a & 0xFF, r.b, yes(r.d & BIT(0)), yes(r.d & BIT(13)), yes(r.d & BIT(3)));
}

void test_main(void)
{
    printf("\n==== Vanderpool demo guest: the machine as seen from inside ====\n");
    show_boot();
    show_cpu();
    show_apic();
    printf("Hardware virtualization (what Vanderpool is for)\n");
    show_vmx();
    show_svm();
    if (!(cpuid(1).c & BIT(5)) &&
        !(has_ext(0x80000001) && (cpuid(0x80000001).c & BIT(2))))
        printf("  A hypervisor needs one of them; this CPU offers neither.\n");
    printf("==== end of demo ====\n");
    vp_exit(0);
}
