/* v86_vme.c: virtual-8086 mode, entered by IRETD with EFLAGS.VM from
 * 32-bit legacy protected mode (sys_lib.h's pm32_run). Without VME: CLI,
 * STI, PUSHF, POPF, INT n and IRET are IOPL-sensitive (#GP(0) at IOPL <
 * 3), IN/OUT always consult the TSS's I/O permission bit map, INT n at
 * IOPL 3 goes to the protected-mode handler. With CR4.VME: CLI/STI/PUSHF/
 * POPF/IRET work on VIF at IOPL < 3, #GP(0) when VIP and the new VIF
 * would both be set or TF would be, 32-bit forms still fault; INT n
 * follows the interrupt redirection bit map (redirected to the 8086
 * handler in the IVT, or to the protected-mode handler / #GP). With
 * CR4.PVI: CLI/STI at CPL 3 move VIF.
 * engines: vanderpool qemu bochs
 *
 * QEMU 7.2's TCG does not implement VME (CPUID.1:EDX.VME = 0 even with
 * -cpu max): the VME and PVI checks SKIP there.
 *
 * SDM Vol 3A, "8086 Emulation": "Virtual-8086 Mode", "Sensitive
 * Instructions", "Interrupt and Exception Handling in Virtual-8086 Mode",
 * "Class 3 - Software Interrupt Handling in Virtual-8086 Mode" (table
 * "Software Interrupt Handling Methods While in Virtual-8086 Mode"),
 * "Virtual Interrupt Mechanism", "Protected-Mode Virtual Interrupts";
 * Vol 1, "I/O Permission Bit Map"; Vol 2, CLI, STI, PUSHF, POPF, INT n,
 * IRET.
 */
#include "sys_lib.h"
#include "v86_vme.h"

struct v86_state {
    uint32_t eip, cs, eflags, esp, ss, es, ds, fs, gs, eax, ebx;
};
_Static_assert(sizeof(struct v86_state) == V86S_EBX + 4, "v86_state layout");

extern char v86_blob[], v86_blob_end[], v86_res[], v86_go[], p_pvi[], p_sti[];
extern char s_flags3[], s_io[], s_io_w[], s_cli[], s_sti[], s_pushf[], s_pushfd[];
extern char s_popf[], s_popf_i[], s_popfd[], s_popfd_i[], s_iret[], s_iret_i[];
extern char s_iretd[], s_iretd_i[], s_int42[], s_int42_i[], s_int43[], s_int43_i[];
extern char s_vflags[], s_redir[], s_redir_i[], h42[];

#define FL_TF BIT(8)
#define FL_IF BIT(9)
#define FL_IOPL3 (3u << 12)
#define FL_VM BIT(17)
#define FL_VIF BIT(19)
#define FL_VIP BIT(20)
#define CR4_PVI BIT(1)

#define IP(l) ((uint32_t)((l) - v86_blob))

/* The TSS for these runs: the interrupt redirection bit map right below
 * the I/O permission bit map (SDM Vol 3A, "Interrupt Redirection Bit Map"
 * figure of the TSS). */
static struct __attribute__((packed)) {
    struct tss32 t;
    uint8_t redir[32];
    uint8_t iomap[8192 + 1];
} vtss __attribute__((aligned(128)));
static uint8_t kstack[8192] __attribute__((aligned(16)));

static uint32_t ivt_saved[2];

/* The real-mode vector table entry for `vec` at linear 4 * vec (the
 * address goes through an asm so the compiler does not see a constant
 * near-null pointer). */
static volatile uint32_t *ivt(unsigned vec)
{
    uintptr_t a = 4u * vec;
    __asm__("" : "+r"(a));
    return (volatile uint32_t *)a;
}

static uint16_t res(int i)
{
    return *(volatile uint16_t *)(uintptr_t)(V86_BASE + IP(v86_res) + 4 * i);
}
static uint32_t res32(int i)
{
    return *(volatile uint32_t *)(uintptr_t)(V86_BASE + IP(v86_res) + 4 * i);
}

static void setup(void)
{
    sys_init();
    memset(&vtss, 0, sizeof(vtss));
    vtss.t.esp0 = addr32(kstack + sizeof(kstack));
    vtss.t.ss0 = SL_DATA;
    vtss.t.iomap = (uint16_t)offsetof(__typeof__(vtss), iomap);
    memset(vtss.redir, 0xFF, sizeof(vtss.redir));
    vtss.redir[0x42 / 8] &= (uint8_t)~(1u << (0x42 % 8)); /* 42h: redirect */
    memset(vtss.iomap, 0xFF, sizeof(vtss.iomap));
    vtss.iomap[0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));
    vtss.iomap[0x82 / 8] &= (uint8_t)~(1u << (0x82 % 8));
    gdt_set(SYS_GDT_FREE, sys_desc(addr32(&vtss), sizeof(vtss) - 1, 9, 0));
    pm32_tr = SYS_GDT_FREE * 8;
    /* INT 42h/43h reach the protected-mode stubs from CPL 3. */
    pm32_set_gate(0x42, addr32(pm32_stubs) + 16 * 0x42, 0xE, 3);
    pm32_set_gate(0x43, addr32(pm32_stubs) + 16 * 0x43, 0xE, 3);

    memcpy((void *)(uintptr_t)V86_BASE, v86_blob, (size_t)(v86_blob_end - v86_blob));
    /* The 8086 program's vector table at linear 0: 42h and 43h -> h42. */
    ivt_saved[0] = *ivt(0x42);
    ivt_saved[1] = *ivt(0x43);
    *ivt(0x42) = *ivt(0x43) = (uint32_t)V86_SEG << 16 | IP(h42);
    /* Some runs set IF: no interrupt may arrive. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

static void teardown(void)
{
    *ivt(0x42) = ivt_saved[0];
    *ivt(0x43) = ivt_saved[1];
}

/* One run of a snippet at `ip` in virtual-8086 mode. */
static int run_v86(uint32_t ip, uint32_t eflags, uint32_t ebx)
{
    memset((void *)(uintptr_t)(V86_BASE + IP(v86_res)), 0, 32);
    struct v86_state s = {
        .eip = ip, .cs = V86_SEG, .eflags = eflags | FL_VM | 2, .esp = V86_STACK,
        .ss = 0, .es = V86_SEG, .ds = V86_SEG, .fs = V86_SEG, .gs = V86_SEG,
        .ebx = ebx,
    };
    pm32_run(addr32(v86_go), addr32(&s));
    return pm32_vector;
}

static bool at_hlt(void)
{
    return pm32_vector == GP_VECTOR && pm32_last.err == 0 &&
           *(volatile uint8_t *)(uintptr_t)(V86_BASE + pm32_last.eip) == 0xF4;
}

/* The run ended with #GP(0) at the instruction at `ip` (not at a HLT). */
static bool expect_gp_at(const char *name, uint32_t ip)
{
    bool ok = pm32_vector == GP_VECTOR && pm32_last.err == 0 && pm32_last.eip == ip &&
              (pm32_last.eflags & FL_VM);
    return report_msg(name, ok, "vector %d error %#x eip %#x eflags %#x, want #GP(0) at %#x",
                      (int)pm32_vector, pm32_last.err, pm32_last.eip, pm32_last.eflags, ip);
}

/* The run reached the HLT that ends the snippet. */
static bool expect_done(const char *name)
{
    return report_msg(name, at_hlt() && (pm32_last.eflags & FL_VM),
                      "vector %d error %#x eip %#x eflags %#x, want #GP(0) at the final HLT",
                      (int)pm32_vector, pm32_last.err, pm32_last.eip, pm32_last.eflags);
}

/* ---- without VME ----------------------------------------------------- */

static void plain_v86(void)
{
    run_v86(IP(s_flags3), FL_IOPL3, 0);
    if (expect_done("iopl3: snippet runs")) {
        report_eq("iopl3: STI sets IF", res(0) & FL_IF, FL_IF);
        report_eq("iopl3: CLI clears IF", res(1) & FL_IF, 0);
        report_eq("iopl3: POPFD/PUSHFD image", res32(2) & 0xFFFFFF, 0x43202);
        report_eq("iopl3: POPFD leaves VIF", pm32_last.eflags & FL_VIF, 0);
    }

    run_v86(IP(s_int42), FL_IOPL3, 0);
    report_msg("iopl3: INT 42h to the protected-mode handler",
               pm32_vector == 0x42 && pm32_last.eip == IP(s_int42_i) &&
                   pm32_last.cs == V86_SEG && (pm32_last.eflags & FL_VM),
               "vector %d eip %#x cs %#x eflags %#x", (int)pm32_vector, pm32_last.eip,
               pm32_last.cs, pm32_last.eflags);

    run_v86(IP(s_iret), FL_IOPL3, 0x0202);
    if (expect_done("iopl3: IRET"))
        report_eq("iopl3: IRET loads IF, keeps IOPL",
                  pm32_last.eflags & (FL_IF | FL_IOPL3), FL_IF | FL_IOPL3);

    run_v86(IP(s_io), FL_IOPL3, 0);
    expect_gp_at("iopl3: I/O bit map denies port 83h", IP(s_io_w));
    run_v86(IP(s_io), 0, 0);
    expect_gp_at("iopl0: I/O bit map allows 80h and 82h only", IP(s_io_w));

    static const struct {
        const char *name;
        char *start, *insn;
        uint32_t ebx;
    } sens[] = {
        {"iopl0: CLI faults", s_cli, s_cli, 0},
        {"iopl0: STI faults", s_sti, s_sti, 0},
        {"iopl0: PUSHF faults", s_pushf, s_pushf, 0},
        {"iopl0: PUSHFD faults", s_pushfd, s_pushfd, 0},
        {"iopl0: POPF faults", s_popf, s_popf_i, 0x2},
        {"iopl0: POPFD faults", s_popfd, s_popfd_i, 0x2},
        {"iopl0: IRET faults", s_iret, s_iret_i, 0x2},
        {"iopl0: IRETD faults", s_iretd, s_iretd_i, 0x2},
        {"iopl0: INT n faults", s_int42, s_int42, 0},
    };
    for (size_t k = 0; k < ARRAY_SIZE(sens); k++) {
        run_v86(IP(sens[k].start), 0, sens[k].ebx);
        expect_gp_at(sens[k].name, IP(sens[k].insn));
    }
}

/* ---- with VME -------------------------------------------------------- */

static void vme(void)
{
    run_v86(IP(s_vflags), FL_VIF, 0);
    if (expect_done("vme: CLI/STI/PUSHF run at IOPL 0")) {
        report_eq("vme: PUSHF after CLI: IF image 0, IOPL image 3",
                  res(0) & (FL_IF | FL_IOPL3), FL_IOPL3);
        report_eq("vme: PUSHF after STI: IF image 1", res(1) & FL_IF, FL_IF);
        report_eq("vme: STI sets VIF, not IF", pm32_last.eflags & (FL_VIF | FL_IF | FL_IOPL3),
                  FL_VIF);
    }

    run_v86(IP(s_popf), 0, 0x0202);
    if (expect_done("vme: POPF with IF image"))
        report_eq("vme: POPF sets VIF, not IF", pm32_last.eflags & (FL_VIF | FL_IF), FL_VIF);
    run_v86(IP(s_popf), FL_VIF, 0x0002);
    if (expect_done("vme: POPF without IF image"))
        report_eq("vme: POPF clears VIF", pm32_last.eflags & (FL_VIF | FL_IF), 0);
    run_v86(IP(s_popf), 0, 0x0102);
    expect_gp_at("vme: POPF with TF image faults", IP(s_popf_i));

    run_v86(IP(s_sti), FL_VIP, 0);
    expect_gp_at("vme: STI with VIP faults", IP(s_sti));
    run_v86(IP(s_popf), FL_VIP, 0x0202);
    expect_gp_at("vme: POPF IF=1 with VIP faults", IP(s_popf_i));
    run_v86(IP(s_popf), FL_VIP, 0x0002);
    expect_done("vme: POPF IF=0 with VIP runs");
    run_v86(IP(s_cli), FL_VIP, 0);
    if (expect_done("vme: CLI with VIP runs"))
        report_eq("vme: CLI keeps VIP", pm32_last.eflags & (FL_VIF | FL_VIP), FL_VIP);
    /* "If the processor finds that both the VIF and VIP flags are set at
     * the beginning of an instruction, it generates a general-protection
     * exception" ("Virtual Interrupt Mechanism"): here right after the
     * IRET into virtual-8086 mode. */
    run_v86(IP(s_cli), FL_VIP | FL_VIF, 0);
    expect_gp_at("vme: VIF and VIP set on entry: #GP at the first instruction", IP(s_cli));

    run_v86(IP(s_pushfd), 0, 0);
    expect_gp_at("vme: PUSHFD faults", IP(s_pushfd));
    run_v86(IP(s_popfd), 0, 0x2);
    expect_gp_at("vme: POPFD faults", IP(s_popfd_i));
    run_v86(IP(s_iretd), 0, 0x2);
    expect_gp_at("vme: IRETD faults", IP(s_iretd_i));

    run_v86(IP(s_iret), 0, 0x0202);
    if (expect_done("vme: IRET with IF image"))
        report_eq("vme: IRET sets VIF, not IF", pm32_last.eflags & (FL_VIF | FL_IF), FL_VIF);
    run_v86(IP(s_iret), 0, 0x0102);
    expect_gp_at("vme: IRET with TF image faults", IP(s_iret_i));
    run_v86(IP(s_iret), FL_VIP, 0x0202);
    expect_gp_at("vme: IRET IF=1 with VIP faults", IP(s_iret_i));

    /* Method 6 (VME, IOPL < 3, bit clear): to the IVT handler with VIF. */
    run_v86(IP(s_redir), FL_VIF, 0);
    if (expect_done("vme iopl0: INT 42h redirected") && report_eq("vme iopl0: handler ran", res(3), 1)) {
        report_eq("vme iopl0: handler sees VIF clear", res(0) & (FL_IF | FL_IOPL3), FL_IOPL3);
        report_eq("vme iopl0: image IF = VIF, IOPL 3", res(1) & (FL_IF | FL_IOPL3),
                  FL_IF | FL_IOPL3);
        report_eq("vme iopl0: IRET restores VIF", res(2) & FL_IF, FL_IF);
        report_eq("vme iopl0: IF untouched", pm32_last.eflags & (FL_IF | FL_VIF), FL_VIF);
    }
    /* Method 3 (VME, IOPL < 3, bit set): #GP. */
    run_v86(IP(s_int43), FL_VIF, 0);
    expect_gp_at("vme iopl0: INT 43h (bit set) faults", IP(s_int43));

    /* Method 5 (VME, IOPL 3, bit clear): to the IVT handler with IF. */
    run_v86(IP(s_redir), FL_IOPL3 | FL_IF, 0);
    if (expect_done("vme iopl3: INT 42h redirected") && report_eq("vme iopl3: handler ran", res(3), 1)) {
        report_eq("vme iopl3: handler runs with IF clear", res(0) & (FL_IF | FL_IOPL3), FL_IOPL3);
        report_eq("vme iopl3: image has IF", res(1) & FL_IF, FL_IF);
        report_eq("vme iopl3: IRET restores IF", res(2) & FL_IF, FL_IF);
    }
    /* Method 4 (VME, IOPL 3, bit set): the protected-mode handler. */
    run_v86(IP(s_int43), FL_IOPL3, 0);
    report_msg("vme iopl3: INT 43h (bit set) to the protected-mode handler",
               pm32_vector == 0x43 && pm32_last.eip == IP(s_int43_i) &&
                   (pm32_last.eflags & FL_VM),
               "vector %d eip %#x eflags %#x", (int)pm32_vector, pm32_last.eip,
               pm32_last.eflags);
}

/* ---- PVI: CLI/STI at CPL 3 in protected mode ------------------------- */

static void pvi(void)
{
    uint64_t cr4 = read_cr4();
    struct x32 r = {.fn = addr32(p_pvi)};
    int v = x32_run_user(&r);
    report_eq("no pvi: CLI at CPL 3, IOPL 0 faults", (uint64_t)(int64_t)v, GP_VECTOR);

    write_cr4(cr4 | CR4_PVI);
    r = (struct x32){.fn = addr32(p_pvi), .eflags = 2};
    v = x32_run_user(&r);
    if (report_eq("pvi: CLI/STI run at CPL 3", (uint64_t)(int64_t)v, (uint64_t)-1)) {
        report_eq("pvi: CLI clears VIF", r.eax & (FL_VIF | FL_IF), 0);
        report_eq("pvi: STI sets VIF, not IF", r.ebx & (FL_VIF | FL_IF), FL_VIF);
    }
    r = (struct x32){.fn = addr32(p_sti), .eflags = 2 | FL_VIP};
    v = x32_run_user(&r);
    report_msg("pvi: STI with VIP faults",
               v == GP_VECTOR && pm32_last.eip == addr32(p_sti) && pm32_last.err == 0,
               "vector %d eip %#x", v, pm32_last.eip);
    r = (struct x32){.fn = addr32(p_pvi), .eflags = 2 | FL_VIP | FL_VIF};
    v = x32_run_user(&r);
    report_msg("pvi: VIF and VIP set on entry: #GP at the first instruction",
               v == GP_VECTOR && pm32_last.eip == addr32(p_pvi) && pm32_last.err == 0,
               "vector %d eip %#x", v, pm32_last.eip);
    write_cr4(cr4);
}

void test_main(void)
{
    if (v86_blob_end - v86_blob > V86_BLOB_MAX)
        report_abort("v86 blob", "%d bytes", (int)(v86_blob_end - v86_blob));
    setup();
    plain_v86();
    if (cpuid(1).d & BIT(1)) {
        uint64_t cr4 = read_cr4();
        write_cr4(cr4 | CR4_VME);
        vme();
        write_cr4(cr4);
        pvi();
    } else {
        report_skip("vme", "CPUID.1:EDX.VME is 0");
        report_skip("pvi", "CPUID.1:EDX.VME is 0");
    }
    teardown();
}
