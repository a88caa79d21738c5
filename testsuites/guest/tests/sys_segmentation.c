/* sys_segmentation.c: protected-mode segmentation from 64-bit mode and
 * from 32-bit legacy protected mode: segment-register loads (null
 * selectors, descriptor types, presence, DPL/RPL/CPL), the accessed bit,
 * LAR/LSL/VERR/VERW, far JMP/CALL/RET directly and through call gates
 * with a privilege change (stack from the TSS, parameter copy, data
 * segments nulled on the way out), conforming code. The checks QEMU's TCG
 * does not make (segment limits on data and stack accesses and on
 * fetches, accesses through a null DS, and a few rules listed there)
 * are in sys_strict_seg.c, built from this file with SEG_STRICT = 1.
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 3A, "Segment Descriptors", "Segment Selectors", "Limit
 * Checking", "Type Checking", "Privilege Level Checking When Accessing
 * Data Segments", "Privilege Level Checking When Loading the SS
 * Register", "Privilege Level Checking When Transferring Program Control
 * Between Code Segments", "Call Gates", "IA-32e Mode Call Gates",
 * "Returning from a Called Procedure", "Pointer Validation", "Segment
 * Loading Instructions in IA-32e Mode"; Vol 2 MOV (segment registers),
 * JMP, CALL, RET, LAR, LSL, VERR/VERW.
 */
#include "sys_lib.h"

/* SEG_STRICT = 1: only the checks QEMU 7.2 TCG gets wrong (sys_strict_seg);
 * 0: only the others. */
#ifndef SEG_STRICT
#define SEG_STRICT 0
#endif
#define COMMON (!SEG_STRICT)
#define STRICT (SEG_STRICT)

#define T0 12      /* 0x60: the descriptor under test */
#define T1 13      /* 0x68 */
#define GATE64 14  /* 0x70: 64-bit call gate (two slots) */
#define CONF64 16  /* 0x80: conforming 64-bit code, DPL 0 */
#define CONF32 17  /* 0x88: conforming 32-bit code, DPL 0 */
#define GATE32 18  /* 0x90: 32-bit call gate */
#define LDTD 20    /* 0xA0: LDT descriptor (two slots in IA-32e mode) */
#define STK3 22    /* 0xB0: a ring-3 stack segment */
#define LIMC 23    /* 0xB8: code segment for the fetch limit check */
#define GATE64B 24 /* 0xC0: another 64-bit call gate (two slots) */
#define SEL(i) ((uint16_t)((i) * 8))

#define DATA_RW(dpl) gdt_desc(0, 0xFFFFF, 0x3, dpl, 0xC)
#define DATA_RO(dpl) gdt_desc(0, 0xFFFFF, 0x1, dpl, 0xC)
#define CODE_XO(dpl) gdt_desc(0, 0xFFFFF, 0x9, dpl, 0xC)
#define CODE_XR(dpl) gdt_desc(0, 0xFFFFF, 0xB, dpl, 0xC)
#define CODE_CXR(dpl) gdt_desc(0, 0xFFFFF, 0xF, dpl, 0xC) /* conforming */
#define CODE64(dpl) gdt_desc(0, 0xFFFFF, 0xB, dpl, 0xA)
#define NP(d) ((d) & ~DESC_P)

extern char s64_ljmp[], s64_target64[], s64_gate_entry[], s64_lcall[];
extern uint64_t s64_gate_frame[7];
extern uint32_t s64_after[4];
extern uint64_t s64_got_cs, s64_rsp_before;
extern struct __attribute__((packed)) { uint32_t off; uint16_t sel; } s64_back_ptr;
extern char s32_mov_ds[], s32_mov_es[], s32_mov_fs[], s32_mov_ss[], s32_read8[], s32_read16[];
extern char s32_read32[], s32_write32[], s32_cs_read32[], s32_cs_write32[];
extern char s32_ljmp[], s32_target32[], s32_lar[], s32_lsl[], s32_verr[], s32_verw[];
extern char s32_lldt_ds[], s32_limit_code[];
extern char u32_mov_ds[], u32_mov_ss[], u32_lcall[], u32_ljmp[], u32_push3[], u32_ss_read[];
extern char u32_lret_inner[], s32_gate_entry[], s32_conf_entry[];
extern uint32_t s32_gate_frame[9];

struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};

static uint64_t u64(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* ================= 64-bit mode: segment-register loads ================ */

enum { R_DS, R_ES, R_FS, R_GS, R_SS };
static const char *const seg_names[] = {"DS", "ES", "FS", "GS", "SS"};

struct load {
    int seg;
    uint16_t sel, restore, got;
};

/* Loads a segment register, reads it back, restores it. Works at CPL 0
 * and CPL 3 (restore is a selector usable there). */
static void load_seg(void *arg)
{
    struct load *l = arg;
    uint16_t got = 0;
    switch (l->seg) {
    case R_DS:
        __asm__ volatile("mov %1, %%ds\n mov %%ds, %0\n mov %2, %%ds"
                         : "=&r"(got) : "r"(l->sel), "r"(l->restore));
        break;
    case R_ES:
        __asm__ volatile("mov %1, %%es\n mov %%es, %0\n mov %2, %%es"
                         : "=&r"(got) : "r"(l->sel), "r"(l->restore));
        break;
    case R_FS:
        __asm__ volatile("mov %1, %%fs\n mov %%fs, %0\n mov %2, %%fs"
                         : "=&r"(got) : "r"(l->sel), "r"((uint16_t)0));
        break;
    case R_GS:
        __asm__ volatile("mov %1, %%gs\n mov %%gs, %0\n mov %2, %%gs"
                         : "=&r"(got) : "r"(l->sel), "r"((uint16_t)0));
        break;
    default:
        __asm__ volatile("mov %%ss, %%cx\n mov %1, %%ss\n mov %%ss, %0\n mov %%cx, %%ss"
                         : "=&r"(got) : "r"(l->sel) : "rcx");
        break;
    }
    l->got = got;
}

/* One load of `sel` (T0 holds desc unless sel names another entry). */
static void load_case(const char *name, bool user, int seg, uint64_t desc, uint16_t sel,
                      int want, uint32_t err)
{
    if (desc)
        gdt_set(T0, desc);
    struct load l = {seg, sel, user ? SEL_UDATA | 3 : SL_DATA, 0xFFFF};
    int v = user ? user64_call(load_seg, &l) : run_catching(load_seg, &l);
    char full[128];
    snprintf(full, sizeof(full), "64-bit CPL %d: %s <- %#x: %s", user ? 3 : 0, seg_names[seg],
             sel, name);
    if (want < 0)
        report_msg(full, v < 0 && l.got == sel, "vector %d (error %#llx), read back %#x", v,
                   (unsigned long long)last_exception.error_code, l.got);
    else
        expect_vec(full, v, want, err);
}

static void test_loads64(void)
{
    const uint16_t t0 = SEL(T0);

    if (STRICT) {
        /* QEMU accepts a null SS whose RPL differs from CPL. */
        load_case("null selector with RPL 3 != CPL: #GP(0)", false, R_SS, 0, 3, GP_VECTOR, 0);
        load_case("null selector with RPL 1 != CPL: #GP(0)", false, R_SS, 0, 1, GP_VECTOR, 0);
        return;
    }

    /* Null selectors: DS-ES-FS-GS take them in any mode; SS only in
     * 64-bit mode at CPL < 3 with RPL = CPL (Vol 2 MOV, 64-bit mode
     * exceptions; Vol 3A "Segment Loading Instructions in IA-32e Mode"). */
    load_case("null selector", false, R_DS, 0, 0, -1, 0);
    load_case("null selector with RPL 3", false, R_DS, 0, 3, -1, 0);
    load_case("null selector", false, R_ES, 0, 0, -1, 0);
    load_case("null selector at CPL 0, RPL 0", false, R_SS, 0, 0, -1, 0);

    /* Descriptor type: data, or readable code, for DS-GS; writable data
     * for SS; anything else #GP(selector) (Vol 2 MOV). */
    load_case("writable data", false, R_DS, DATA_RW(0), t0, -1, 0);
    load_case("read-only data", false, R_DS, DATA_RO(0), t0, -1, 0);
    load_case("readable code", false, R_DS, CODE_XR(0), t0, -1, 0);
    load_case("readable code", false, R_FS, CODE_XR(0), t0, -1, 0);
    load_case("execute-only code: #GP(sel)", false, R_DS, CODE_XO(0), t0, GP_VECTOR, t0);
    load_case("execute-only code: #GP(sel)", false, R_GS, CODE_XO(0), t0, GP_VECTOR, t0);
    load_case("LDT descriptor (system): #GP(sel)", false, R_ES,
              sys_desc(0x1000, 0xFF, 2, 0), t0, GP_VECTOR, t0);
    load_case("the 64-bit TSS: #GP(sel)", false, R_DS, 0, SL_TSS, GP_VECTOR, SL_TSS);
    load_case("writable data", false, R_SS, DATA_RW(0), t0, -1, 0);
    load_case("expand-down writable data", false, R_SS, gdt_desc(0, 0xFFF, 0x7, 0, 0x4), t0,
              -1, 0);
    load_case("read-only data: #GP(sel)", false, R_SS, DATA_RO(0), t0, GP_VECTOR, t0);
    load_case("readable code: #GP(sel)", false, R_SS, CODE_XR(0), t0, GP_VECTOR, t0);

    /* Presence is checked after type and privilege: #NP(selector) for
     * DS-GS, #SS(selector) for SS. */
    load_case("not present: #NP(sel)", false, R_DS, NP(DATA_RW(0)), t0, NP_VECTOR, t0);
    load_case("not present: #NP(sel)", false, R_FS, NP(DATA_RW(0)), t0, NP_VECTOR, t0);
    load_case("not present execute-only code: #GP before #NP", false, R_DS, NP(CODE_XO(0)), t0,
              GP_VECTOR, t0);
    load_case("not present: #SS(sel)", false, R_SS, NP(DATA_RW(0)), t0, SS_VECTOR, t0);
    load_case("not present read-only data: #GP before #SS", false, R_SS, NP(DATA_RO(0)), t0,
              GP_VECTOR, t0);

    /* Privilege: data and nonconforming code need DPL >= max(CPL, RPL);
     * conforming code is exempt. SS needs RPL = DPL = CPL. */
    load_case("DPL 0 data with RPL 3: #GP(sel)", false, R_DS, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load_case("DPL 3 data with RPL 3", false, R_DS, DATA_RW(3), t0 | 3, -1, 0);
    load_case("DPL 0 conforming code with RPL 3", false, R_ES, CODE_CXR(0), t0 | 3, -1, 0);
    load_case("DPL 0 nonconforming code with RPL 3: #GP(sel)", false, R_ES, CODE_XR(0), t0 | 3,
              GP_VECTOR, t0);
    load_case("DPL 3 data at CPL 0: #GP(sel)", false, R_SS, DATA_RW(3), t0, GP_VECTOR, t0);
    load_case("RPL 3 != CPL 0: #GP(sel)", false, R_SS, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load_case("DPL 3 RPL 3 at CPL 0: #GP(sel)", false, R_SS, DATA_RW(3), t0 | 3, GP_VECTOR, t0);

    /* Table limits: beyond the GDT limit, or TI = 1 with a null LDTR. */
    load_case("index beyond the GDT limit: #GP(sel)", false, R_DS, 0, 0x100, GP_VECTOR, 0x100);
    load_case("TI = 1 with a null LDTR: #GP(sel)", false, R_DS, 0, 0x0C, GP_VECTOR, 0x0C);

    /* CPL 3. */
    load_case("DPL 0 data, RPL 3: #GP(sel)", true, R_DS, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load_case("DPL 0 data, RPL 0 (CPL > DPL): #GP(sel)", true, R_DS, DATA_RW(0), t0, GP_VECTOR,
              t0);
    load_case("DPL 3 data", true, R_DS, DATA_RW(3), t0 | 3, -1, 0);
    load_case("DPL 0 conforming readable code", true, R_DS, CODE_CXR(0), t0 | 3, -1, 0);
    load_case("DPL 0 nonconforming readable code: #GP(sel)", true, R_ES, CODE_XR(0), t0 | 3,
              GP_VECTOR, t0);
    load_case("DPL 3 writable data, RPL 3", true, R_SS, DATA_RW(3), t0 | 3, -1, 0);
    load_case("null selector at CPL 3: #GP(0)", true, R_SS, 0, 3, GP_VECTOR, 0);
    load_case("DPL 0 data, RPL 0 != CPL 3: #GP(sel)", true, R_SS, DATA_RW(0), t0, GP_VECTOR, t0);
    load_case("DPL 3 read-only data: #GP(sel)", true, R_SS, DATA_RO(3), t0 | 3, GP_VECTOR, t0);
}

/* The accessed bit of the descriptor is set by a load that succeeds
 * (SDM Vol 3A, "Segment Descriptors": type bit 0, "set by the processor
 * when the segment is accessed"), not by LAR, nor by a load that faults. */
static void test_accessed64(void)
{
    if (STRICT)
        return;
    struct load l = {R_DS, SEL(T0), SL_DATA, 0};
    gdt_set(T0, gdt_desc(0, 0xFFFFF, 0x2, 0, 0xC));
    uint32_t v = 0;
    uint8_t zf;
    __asm__ volatile("lar %w2, %0\n setz %1" : "+r"(v), "=q"(zf) : "r"(SEL(T0)) : "cc");
    report("accessed bit: LAR leaves it clear", zf && !(gdt_get(T0) & DESC_A));
    l.sel = SEL(T0) | 3; /* RPL 3 > DPL 0: faults */
    (void)run_catching(load_seg, &l);
    report("accessed bit: a faulting load leaves it clear", !(gdt_get(T0) & DESC_A));
    l.sel = SEL(T0);
    (void)run_catching(load_seg, &l);
    report("accessed bit: MOV DS sets it in the GDT", gdt_get(T0) & DESC_A);

    gdt_set(T0, gdt_desc(0, 0xFFFFF, 0x2, 0, 0xC));
    l.seg = R_SS;
    (void)run_catching(load_seg, &l);
    report("accessed bit: MOV SS sets it", gdt_get(T0) & DESC_A);
}

/* QEMU does not set the accessed bit of a code segment on a far JMP. */
static void test_accessed_jmp64(void)
{
    gdt_set(T0, gdt_desc(0, 0xFFFFF, 0xA, 0, 0xA)); /* 64-bit code, A = 0 */
    struct farptr p = {(uint32_t)u64(s64_target64), SEL(T0)};
    s64_back_ptr.sel = SL_CODE64;
    s64_got_cs = 0;
    int vec = run_catching((void (*)(void *))s64_ljmp, &p);
    report_msg("accessed bit: far JMP sets it in the code descriptor",
               vec < 0 && s64_got_cs == SEL(T0) && (gdt_get(T0) & DESC_A),
               "vector %d cs %#llx desc %#llx", vec, (unsigned long long)s64_got_cs,
               (unsigned long long)gdt_get(T0));
}

/* In 64-bit mode DS/ES/SS bases and all limits are ignored; FS and GS
 * keep their bases (SDM Vol 3A, "Segmentation in IA-32e Mode"). */
static void test_flat64(void)
{
    static volatile uint32_t buf[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
    uint32_t base = addr32((const void *)&buf[2]);
    gdt_set(T0, gdt_desc(base, 0, 0x3, 0, 0x0)); /* base = &buf[2], limit 0 bytes */
    uint32_t via_ds, via_fs, via_gs;
    __asm__ volatile("mov %3, %%ds\n"
                     "mov (%4), %0\n"
                     "mov %5, %%ds\n"
                     "mov %3, %%fs\n"
                     "mov %%fs:4, %1\n"
                     "mov %3, %%gs\n"
                     "mov %%gs:0, %2\n"
                     "xor %%eax, %%eax\n"
                     "mov %%eax, %%fs\n"
                     "mov %%eax, %%gs\n"
                     : "=&r"(via_ds), "=&r"(via_fs), "=&r"(via_gs)
                     : "r"(SEL(T0)), "r"(&buf[1]), "r"(SL_DATA)
                     : "rax", "memory");
    report_eq("64-bit mode: DS base and limit ignored", via_ds, 0x22222222);
    report_eq("64-bit mode: FS base from the descriptor", via_fs, 0x44444444);
    report_eq("64-bit mode: GS base from the descriptor", via_gs, 0x33333333);
}

/* ================= 64-bit mode: LAR LSL VERR VERW ===================== */

struct probe {
    int op; /* 0 LAR, 1 LSL, 2 VERR, 3 VERW */
    uint16_t sel;
    uint32_t val;
    bool zf;
};

static void do_probe(void *arg)
{
    struct probe *p = arg;
    uint32_t v = 0xA5A5A5A5;
    uint8_t zf = 0;
    switch (p->op) {
    case 0:
        __asm__ volatile("lar %w2, %0\n setz %1" : "+r"(v), "=q"(zf) : "r"(p->sel) : "cc");
        break;
    case 1:
        __asm__ volatile("lsl %w2, %0\n setz %1" : "+r"(v), "=q"(zf) : "r"(p->sel) : "cc");
        break;
    case 2:
        __asm__ volatile("verr %w1\n setz %0" : "=q"(zf) : "r"(p->sel) : "cc");
        break;
    default:
        __asm__ volatile("verw %w1\n setz %0" : "=q"(zf) : "r"(p->sel) : "cc");
        break;
    }
    p->val = v;
    p->zf = zf;
}

static const char *const probe_names[] = {"LAR", "LSL", "VERR", "VERW"};

/* want_val is checked only for LAR/LSL with ZF = 1; with ZF = 0 the
 * destination must keep its old value (Vol 2 LAR, LSL). */
static void probe_case(const char *what, bool user, int op, uint64_t desc, uint64_t desc_hi,
                       uint16_t sel, bool want_zf, uint32_t want_val, uint32_t mask)
{
    if (desc) {
        gdt_set(T0, desc);
        gdt_set(T0 + 1, desc_hi);
    }
    struct probe p = {op, sel, 0, false};
    int v = user ? user64_call(do_probe, &p) : run_catching(do_probe, &p);
    char name[128];
    snprintf(name, sizeof(name), "64-bit CPL %d: %s %s", user ? 3 : 0, probe_names[op], what);
    bool val_ok = op >= 2 || (want_zf ? (p.val & mask) == (want_val & mask) : p.val == 0xA5A5A5A5);
    report_msg(name, v < 0 && p.zf == want_zf && val_ok,
               "vector %d ZF %d (want %d) value %#x (want %#x under mask %#x)", v, p.zf, want_zf,
               p.val, want_zf ? want_val : 0xA5A5A5A5, mask);
}

static void test_probes64(void)
{
    const uint16_t t0 = SEL(T0);
    const uint32_t arm = 0x00F0FF00; /* bits 19:16 are undefined (Vol 2 LAR) */
    uint64_t d;

    if (STRICT) {
        /* QEMU accepts the 16-bit TSS type in IA-32e mode. */
        probe_case("16-bit TSS type: invalid in IA-32e mode", false, 0,
                   sys_desc(0x2000, 0x2B, 1, 0), 0, t0, false, 0, 0);
        return;
    }

    d = gdt_desc(0, 0x12345, 0x3, 0, 0x4);
    probe_case("writable data", false, 0, d, 0, t0, true, (uint32_t)(d >> 32), arm);
    probe_case("limit, byte granular", false, 1, d, 0, t0, true, 0x12345, ~0u);
    d = gdt_desc(0, 0x12345, 0x3, 0, 0xC);
    probe_case("limit, 4-KiB granular", false, 1, d, 0, t0, true, 0x12345FFF, ~0u);
    probe_case("the 64-bit TSS (busy)", false, 0, 0, 0, SL_TSS, true, 0x00008B00, arm);
    probe_case("the 64-bit TSS", false, 1, 0, 0, SL_TSS, true, 103, ~0u);
    d = sys_gate(SL_CODE64, 0x1000, 0xC, 3, 0);
    probe_case("64-bit call gate", false, 0, d, 0, t0, true, 0x0000EC00, arm);
    probe_case("64-bit call gate: not for LSL", false, 1, d, 0, t0, false, 0, 0);
    d = sys_desc(0x2000, 0x7F, 2, 0);
    probe_case("LDT descriptor", false, 0, d, 0, t0, true, 0x00008200, arm);
    probe_case("LDT descriptor", false, 1, d, 0, t0, true, 0x7F, ~0u);
    /* In IA-32e mode types 1, 3 (16-bit TSS), 4, 5, 6, 7 are invalid;
     * 0xE is an interrupt gate (Vol 2 LAR, "IA-32e mode" column). */
    probe_case("interrupt gate: not for LAR", false, 0, sys_gate(SL_CODE64, 0, 0xE, 0, 0), 0, t0,
               false, 0, 0);
    probe_case("null selector", false, 0, 0, 0, 0, false, 0, 0);
    probe_case("beyond the GDT limit", false, 1, 0, 0, 0x100, false, 0, 0);
    probe_case("DPL 0 data with RPL 3", false, 0, DATA_RW(0), 0, t0 | 3, false, 0, 0);
    probe_case("DPL 0 data", true, 0, DATA_RW(0), 0, t0 | 3, false, 0, 0);
    d = CODE_CXR(0);
    probe_case("DPL 0 conforming code", true, 0, d, 0, t0 | 3, true, (uint32_t)(d >> 32), arm);
    d = DATA_RW(3);
    probe_case("DPL 3 data", true, 1, d, 0, t0 | 3, true, 0xFFFFFFFF, ~0u);

    probe_case("readable code", false, 2, CODE_XR(0), 0, t0, true, 0, 0);
    probe_case("execute-only code", false, 2, CODE_XO(0), 0, t0, false, 0, 0);
    probe_case("read-only data", false, 2, DATA_RO(0), 0, t0, true, 0, 0);
    probe_case("writable data", false, 3, DATA_RW(0), 0, t0, true, 0, 0);
    probe_case("read-only data", false, 3, DATA_RO(0), 0, t0, false, 0, 0);
    probe_case("readable code", false, 3, CODE_XR(0), 0, t0, false, 0, 0);
    probe_case("system descriptor", false, 2, sys_desc(0x2000, 0x7F, 2, 0), 0, t0, false, 0, 0);
    probe_case("DPL 0 data", true, 3, DATA_RW(0), 0, t0 | 3, false, 0, 0);
    probe_case("DPL 3 data", true, 3, DATA_RW(3), 0, t0 | 3, true, 0, 0);
    probe_case("DPL 0 conforming readable code", true, 2, CODE_CXR(0), 0, t0 | 3, true, 0, 0);
}

/* ================= 64-bit mode: far transfers ========================= */

static void far_jmp(void *p)
{
    ((void (*)(void *))s64_ljmp)(p);
}

static void jmp_case(const char *name, bool user, uint16_t sel, uint64_t off, uint16_t back,
                     int want, uint32_t err, uint16_t want_cs)
{
    struct farptr p = {(uint32_t)off, sel};
    s64_back_ptr.sel = back;
    s64_got_cs = 0;
    int v = user ? user64_call(far_jmp, &p) : run_catching(far_jmp, &p);
    char full[128];
    snprintf(full, sizeof(full), "64-bit CPL %d: far JMP %#x: %s", user ? 3 : 0, sel, name);
    if (want < 0)
        report_msg(full, v < 0 && s64_got_cs == want_cs, "vector %d, CS at the target %#llx (want %#x)",
                   v, (unsigned long long)s64_got_cs, want_cs);
    else
        expect_vec(full, v, want, err);
}

struct lcall {
    uint16_t sel;
    uint64_t rsp_before, rsp_after;
};

static void far_call(void *arg)
{
    struct lcall *c = arg;
    struct farptr p = {0, c->sel};
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    c->rsp_before = rsp;
    c->rsp_after = ((uint64_t(*)(void *))s64_lcall)(&p);
}

static void set_gate64(int idx, uint64_t target, uint16_t cs, unsigned dpl, uint64_t hi_extra)
{
    gdt_set(idx, sys_gate(cs, (uint32_t)target, 0xC, dpl, 0));
    gdt_set(idx + 1, (target >> 32) | hi_extra);
}

static void call_case(const char *name, bool user, uint16_t sel, int want, uint32_t err)
{
    struct lcall c = {sel, 0, 0};
    int v = user ? user64_call(far_call, &c) : run_catching(far_call, &c);
    char full[128];
    snprintf(full, sizeof(full), "64-bit CPL %d: far CALL %#x: %s", user ? 3 : 0, sel, name);
    expect_vec(full, v, want, err);
}

static void test_far64(void)
{
    const uint16_t t0 = SEL(T0), gate = SEL(GATE64);
    uint64_t tgt = u64(s64_target64);

    if (STRICT) {
        /* QEMU lets a far JMP load a code segment with L = 1 and D = 1
         * (Vol 2 JMP: "IF L-bit = 1 and D-bit = 1 and IA32_EFER.LMA = 1
         * THEN #GP(new code segment selector)"). */
        gdt_set(T0, gdt_desc(0, 0xFFFFF, 0xB, 0, 0xE));
        jmp_case("L = 1 with D = 1: #GP(sel)", false, t0, tgt, SL_CODE64, GP_VECTOR, t0, 0);
        return;
    }

    /* Direct far JMP (Vol 2 JMP, "far jump to a conforming or
     * nonconforming code segment"). */
    gdt_set(T0, CODE64(0));
    jmp_case("64-bit code, DPL 0", false, t0, tgt, SL_CODE64, -1, 0, t0);
    jmp_case("null selector: #GP(0)", false, 0, tgt, SL_CODE64, GP_VECTOR, 0, 0);
    gdt_set(T0, DATA_RW(0));
    jmp_case("data segment: #GP(sel)", false, t0, tgt, SL_CODE64, GP_VECTOR, t0, 0);
    gdt_set(T0, NP(CODE64(0)));
    jmp_case("not present: #NP(sel)", false, t0, tgt, SL_CODE64, NP_VECTOR, t0, 0);
    gdt_set(T0, CODE64(3));
    jmp_case("DPL 3 nonconforming at CPL 0: #GP(sel)", false, t0, tgt, SL_CODE64, GP_VECTOR, t0, 0);
    gdt_set(T0, CODE64(0));
    jmp_case("DPL 0 nonconforming: #GP(sel)", true, t0 | 3, tgt, SEL_U64 | 3, GP_VECTOR, t0, 0);
    /* Conforming code runs at the caller's CPL: CS.RPL stays 3 (Vol 3A,
     * "Accessing Conforming Code Segments"). */
    jmp_case("DPL 0 conforming: CPL stays 3", true, SEL(CONF64) | 3, tgt, SEL_U64 | 3, -1, 0,
             SEL(CONF64) | 3);
    jmp_case("DPL 0 conforming, selector RPL 0: CS.RPL = CPL 3", true, SEL(CONF64), tgt,
             SEL_U64 | 3, -1, 0, SEL(CONF64) | 3);

    /* Far CALL through a 64-bit call gate from CPL 3 to CPL 0: RSP from
     * TSS.RSP0, SS = null selector with RPL 0, SS:RSP:CS:RIP pushed as
     * 8-byte items, no parameter copy (Vol 3A, "Call Gates" and "Stack
     * Switching in IA-32e Mode"). The far RET back to CPL 3 loads DS and
     * ES with null because their DPL 0 < CPL 3 (Vol 2 RET). */
    set_gate64(GATE64, u64(s64_gate_entry), SL_CODE64, 3, 0);
    memset(s64_gate_frame, 0xEE, sizeof(s64_gate_frame));
    struct lcall c = {gate | 3, 0, 0};
    int v = user64_call(far_call, &c);
    uint64_t rsp0 = sys_tss64()->rsp[0];
    report_msg("64-bit call gate CPL 3 -> 0: completes", v < 0, "vector %d error %#llx rip %#llx",
               v, (unsigned long long)last_exception.error_code,
               (unsigned long long)last_exception.rip);
    report_eq("64-bit call gate CPL 3 -> 0: SS is null with RPL 0", s64_gate_frame[0], 0);
    report_eq("64-bit call gate CPL 3 -> 0: RSP = TSS.RSP0 - 32", s64_gate_frame[1], rsp0 - 32);
    report_eq("64-bit call gate CPL 3 -> 0: CS = target selector", s64_gate_frame[2], SL_CODE64);
    report_eq("64-bit call gate CPL 3 -> 0: pushed CS", s64_gate_frame[4], SEL_U64 | 3);
    report_eq("64-bit call gate CPL 3 -> 0: pushed RSP", s64_gate_frame[5], s64_rsp_before);
    report_eq("64-bit call gate CPL 3 -> 0: pushed SS", s64_gate_frame[6], SEL_UDATA | 3);
    report_eq("far RET to CPL 3: RSP restored", c.rsp_after, s64_rsp_before);
    report_eq("far RET to CPL 3: DS (DPL 0) becomes null", s64_after[0], 0);
    report_eq("far RET to CPL 3: ES (DPL 0) becomes null", s64_after[1], 0);
    report_eq("far RET to CPL 3: SS", s64_after[2], SEL_UDATA | 3);
    report_eq("far RET to CPL 3: CS", s64_after[3], SEL_U64 | 3);

    /* The same gate at CPL 0: no stack switch, CS:RIP pushed as 8 bytes. */
    memset(s64_gate_frame, 0xEE, sizeof(s64_gate_frame));
    c = (struct lcall){gate, 0, 0};
    v = run_catching(far_call, &c);
    report_msg("64-bit call gate CPL 0 -> 0: no stack switch",
               v < 0 && s64_gate_frame[0] == SL_DATA && s64_gate_frame[1] == s64_rsp_before - 16 &&
                   s64_gate_frame[4] == SL_CODE64 && c.rsp_after == s64_rsp_before,
               "vector %d SS %#llx RSP %#llx (caller %#llx) CS %#llx", v,
               (unsigned long long)s64_gate_frame[0], (unsigned long long)s64_gate_frame[1],
               (unsigned long long)s64_rsp_before, (unsigned long long)s64_gate_frame[4]);

    /* Gate checks (Vol 2 CALL, "CALL-GATE"). */
    set_gate64(GATE64, u64(s64_gate_entry), SL_CODE64, 0, 0);
    call_case("gate DPL 0 < CPL 3: #GP(gate)", true, gate | 3, GP_VECTOR, gate);
    call_case("gate DPL 0 < RPL 3: #GP(gate)", false, gate | 3, GP_VECTOR, gate);
    set_gate64(GATE64, u64(s64_gate_entry), SL_CODE64, 3, 0);
    gdt_set(GATE64, gdt_get(GATE64) & ~DESC_P);
    call_case("gate not present: #NP(gate)", true, gate | 3, NP_VECTOR, gate);
    set_gate64(GATE64, u64(s64_gate_entry), SL_CODE32, 3, 0);
    call_case("gate to 32-bit code: #GP(target)", true, gate | 3, GP_VECTOR, SL_CODE32);
    gdt_set(T0, NP(CODE64(0)));
    set_gate64(GATE64, u64(s64_gate_entry), t0, 3, 0);
    call_case("gate to a not-present segment: #NP(target)", true, gate | 3, NP_VECTOR, t0);
    gdt_set(T0, DATA_RW(0));
    call_case("gate to a data segment: #GP(target)", true, gate | 3, GP_VECTOR, t0);
    set_gate64(GATE64, u64(s64_gate_entry), SL_CODE64, 3, 0x0C0000000000ull);
    call_case("gate with a nonzero type in its upper half: #GP(gate)", true, gate | 3, GP_VECTOR,
              gate);
    set_gate64(GATE64, u64(s64_gate_entry), 0, 3, 0);
    call_case("gate naming the null selector: #GP(0)", true, gate | 3, GP_VECTOR, 0);

    /* JMP through a call gate: no privilege change allowed (target
     * nonconforming DPL must equal CPL). */
    set_gate64(GATE64B, tgt, SL_CODE64, 3, 0);
    jmp_case("through a gate to CPL 0 code: #GP(target)", true, SEL(GATE64B) | 3, 0, SEL_U64 | 3,
             GP_VECTOR, SL_CODE64, 0);
    jmp_case("through a gate to code at CPL 0", false, SEL(GATE64B), 0, SL_CODE64, -1, 0,
             SL_CODE64);
    set_gate64(GATE64B, tgt, SEL(CONF64), 3, 0);
    jmp_case("through a gate to conforming code: CPL stays 3", true, SEL(GATE64B) | 3, 0,
             SEL_U64 | 3, -1, 0, SEL(CONF64) | 3);
}

/* A far RET at CPL 3 to a CPL-0 code selector: #GP(selector) (Vol 2 RET,
 * "return code segment selector RPL < CPL"). */
static void ret_inner(void *arg)
{
    __asm__ volatile("pushq %0\n lea 1f(%%rip), %%rax\n push %%rax\n lretq\n 1:" ::"i"(SL_CODE64)
                     : "rax", "memory");
}

/* ================= 32-bit legacy protected mode ======================= */

static int x32_case(const char *name, bool user, uint32_t fn, uint32_t ebx, uint32_t esi,
                    int want, uint32_t err, struct x32 *out)
{
    struct x32 r = {.fn = fn, .ebx = ebx, .esi = esi, .eax = 0xA5A5A5A5};
    int v = user ? x32_run_user(&r) : x32_run(&r);
    char full[128];
    snprintf(full, sizeof(full), "32-bit CPL %d: %s", user ? 3 : 0, name);
    pm32_expect(full, want, err);
    if (out)
        *out = r;
    return v;
}

static void load32(const char *name, bool user, uint32_t fn, uint64_t desc, uint16_t sel,
                   int want, uint32_t err)
{
    if (desc)
        gdt_set(T0, desc);
    struct x32 r;
    char full[128];
    snprintf(full, sizeof(full), "%s <- %#x: %s",
             fn == addr32(s32_mov_ss) || fn == addr32(u32_mov_ss) ? "SS"
             : fn == addr32(s32_mov_es)                           ? "ES"
             : fn == addr32(s32_mov_fs)                           ? "FS"
                                                                  : "DS",
             sel, name);
    int v = x32_case(full, user, fn, sel, 0, want, err, &r);
    if (want < 0 && v < 0 && r.eax != sel)
        report_msg(full, false, "read back %#x", r.eax);
}

static void test_loads32(void)
{
    const uint16_t t0 = SEL(T0);
    const uint32_t ds = addr32(s32_mov_ds), ss = addr32(s32_mov_ss), es = addr32(s32_mov_es);
    const uint32_t fs = addr32(s32_mov_fs);

    if (STRICT) {
        /* A null DS loads fine but any access through it faults (Vol 3A,
         * "Segment Selectors": a memory reference through a segment
         * register holding a null selector causes #GP). QEMU skips this. */
        x32_case("access through a null DS: #GP(0)", false, addr32(s32_read32), 0, 0x1000,
                 GP_VECTOR, 0, NULL);
        return;
    }

    load32("null selector", false, ds, 0, 0, -1, 0);
    load32("null selector, RPL 3", false, es, 0, 3, -1, 0);
    load32("null selector: #GP(0) outside 64-bit mode", false, ss, 0, 0, GP_VECTOR, 0);
    load32("writable data", false, ds, DATA_RW(0), t0, -1, 0);
    load32("readable code", false, fs, CODE_XR(0), t0, -1, 0);
    load32("execute-only code: #GP(sel)", false, ds, CODE_XO(0), t0, GP_VECTOR, t0);
    load32("the 32-bit TSS: #GP(sel)", false, ds, 0, SEL_TSS32, GP_VECTOR, SEL_TSS32);
    load32("call gate: #GP(sel)", false, es, sys_gate(SL_CODE32, 0, 0xC, 3, 0), t0, GP_VECTOR, t0);
    load32("not present: #NP(sel)", false, ds, NP(DATA_RW(0)), t0, NP_VECTOR, t0);
    load32("writable data", false, ss, DATA_RW(0), t0, -1, 0);
    load32("read-only data: #GP(sel)", false, ss, DATA_RO(0), t0, GP_VECTOR, t0);
    load32("execute-only code: #GP(sel)", false, ss, CODE_XO(0), t0, GP_VECTOR, t0);
    load32("not present: #SS(sel)", false, ss, NP(DATA_RW(0)), t0, SS_VECTOR, t0);
    load32("DPL 3 data at CPL 0: #GP(sel)", false, ss, DATA_RW(3), t0, GP_VECTOR, t0);
    load32("RPL 3 != CPL 0: #GP(sel)", false, ss, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load32("DPL 0 data with RPL 3: #GP(sel)", false, es, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load32("DPL 0 conforming code with RPL 3", false, ds, CODE_CXR(0), t0 | 3, -1, 0);
    load32("index beyond the GDT limit: #GP(sel)", false, ds, 0, 0x108, GP_VECTOR, 0x108);

    const uint32_t uds = addr32(u32_mov_ds), uss = addr32(u32_mov_ss);
    load32("DPL 0 data: #GP(sel)", true, uds, DATA_RW(0), t0 | 3, GP_VECTOR, t0);
    load32("DPL 3 data", true, uds, DATA_RW(3), t0 | 3, -1, 0);
    load32("DPL 0 conforming readable code", true, uds, CODE_CXR(0), t0 | 3, -1, 0);
    load32("DPL 3 writable data", true, uss, DATA_RW(3), t0 | 3, -1, 0);
    load32("DPL 3 data, RPL 0 != CPL: #GP(sel)", true, uss, DATA_RW(3), t0, GP_VECTOR, t0);
    load32("null selector: #GP(0)", true, uss, 0, 3, GP_VECTOR, 0);

    /* The accessed bit. */
    gdt_set(T0, gdt_desc(0, 0xFFFFF, 0x2, 0, 0xC));
    x32_case("DS <- data with A = 0", false, ds, t0, 0, -1, 0, NULL);
    report("32-bit: MOV DS sets the accessed bit", gdt_get(T0) & DESC_A);

    /* A selector from the LDT (TI = 1). */
    static uint64_t ldt[4];
    ldt[1] = DATA_RW(0);
    ldt[2] = NP(DATA_RW(0));
    gdt_set(LDTD, sys_desc(addr32(ldt), sizeof(ldt) - 1, 2, 0));
    gdt_set(LDTD + 1, 0);
    struct x32 r = {.fn = addr32(s32_lldt_ds), .ebx = 0x0C, .ecx = SEL(LDTD)};
    int v = x32_run(&r);
    report_msg("32-bit: DS <- LDT selector 0x0C", v < 0 && r.eax == 0x0C && (ldt[1] & DESC_A),
               "vector %d (error %#x) DS %#x LDT[1] %#llx", v, pm32_last.err, r.eax,
               (unsigned long long)ldt[1]);
    r = (struct x32){.fn = addr32(s32_lldt_ds), .ebx = 0x14, .ecx = SEL(LDTD)};
    x32_run(&r);
    pm32_expect("32-bit: DS <- not-present LDT entry: #NP(sel)", NP_VECTOR, 0x14);
    r = (struct x32){.fn = addr32(s32_lldt_ds), .ebx = 0x24, .ecx = SEL(LDTD)};
    x32_run(&r);
    pm32_expect("32-bit: DS <- beyond the LDT limit: #GP(sel)", GP_VECTOR, 0x24);
    gdt_set(LDTD, gdt_get(LDTD) & ~DESC_P);
    r = (struct x32){.fn = addr32(s32_lldt_ds), .ebx = 0x0C, .ecx = SEL(LDTD)};
    x32_run(&r);
    pm32_expect("32-bit: LLDT of a not-present LDT: #NP(sel)", NP_VECTOR, SEL(LDTD));
}

/* Limit checks: every byte of an access must lie within the segment
 * (SDM Vol 3A, "Limit Checking": expand-up offsets 0..limit, expand-down
 * limit+1..FFFFH or FFFFFFFFH by the B flag; G scales the limit by 4 KiB). */
struct lim_case {
    const char *name;
    uint32_t base_adj; /* base = buffer - base_adj */
    uint32_t limit;
    unsigned type, flags;
    char kind; /* b w d: read byte/word/dword; W: write dword */
    uint32_t off;
    int want;
};

static void test_limits32(void)
{
    if (COMMON)
        return; /* QEMU checks no data or stack segment limits */
    static uint8_t buf[0x3000] __attribute__((aligned(4096)));
    const uint16_t t0 = SEL(T0);
    const uint32_t b = addr32(buf);
    static const struct lim_case cases[] = {
        {"expand-up: last dword inside", 0, 0xFFF, 3, 0x4, 'd', 0xFFC, -1},
        {"expand-up: dword crossing the limit", 0, 0xFFF, 3, 0x4, 'd', 0xFFD, GP_VECTOR},
        {"expand-up: word crossing the limit", 0, 0xFFF, 3, 0x4, 'w', 0xFFF, GP_VECTOR},
        {"expand-up: last byte", 0, 0xFFF, 3, 0x4, 'b', 0xFFF, -1},
        {"expand-up: first byte past the limit", 0, 0xFFF, 3, 0x4, 'b', 0x1000, GP_VECTOR},
        {"expand-up, G = 1, limit 0: offset 0xFFC", 0, 0, 3, 0xC, 'd', 0xFFC, -1},
        {"expand-up, G = 1, limit 0: offset 0x1000", 0, 0, 3, 0xC, 'b', 0x1000, GP_VECTOR},
        {"expand-up, limit 0: byte 0", 0, 0, 3, 0x4, 'b', 0, -1},
        {"expand-up, limit 0: byte 1", 0, 0, 3, 0x4, 'b', 1, GP_VECTOR},
        {"expand-down B=1: offset limit+1", 0x1000, 0xFFF, 7, 0x4, 'd', 0x1000, -1},
        {"expand-down B=1: offset limit", 0x1000, 0xFFF, 7, 0x4, 'b', 0xFFF, GP_VECTOR},
        {"expand-down B=1: dword across limit+1", 0x1000, 0xFFF, 7, 0x4, 'd', 0xFFE, GP_VECTOR},
        {"expand-down B=1: offset 0", 0x1000, 0xFFF, 7, 0x4, 'b', 0, GP_VECTOR},
        {"expand-down B=1: top dword FFFFFFFC", 0u - 4, 0xFFF, 7, 0x4, 'd', 0xFFFFFFFC, -1},
        {"expand-down B=0: top dword FFFC", 0xE000, 0xFFF, 7, 0x0, 'd', 0xFFFC, -1},
        {"expand-down B=0: dword across FFFF", 0xE000, 0xFFF, 7, 0x0, 'd', 0xFFFD, GP_VECTOR},
        {"expand-down B=0: offset 10000", 0xF000, 0xFFF, 7, 0x0, 'b', 0x10000, GP_VECTOR},
        {"expand-down B=0: offset limit+1", 0x1000, 0xFFF, 7, 0x0, 'w', 0x1000, -1},
        {"expand-down, G = 1, limit 0: offset 0xFFF", 0x1000, 0, 7, 0xC, 'b', 0xFFF, GP_VECTOR},
        {"expand-down, G = 1, limit 0: offset 0x1000", 0x1000, 0, 7, 0xC, 'b', 0x1000, -1},
        {"write to read-only data: #GP(0)", 0, 0xFFF, 1, 0x4, 'W', 0, GP_VECTOR},
        {"write to writable data", 0, 0xFFF, 3, 0x4, 'W', 0, -1},
        {"write to read-only expand-down data: #GP(0)", 0x1000, 0xFFF, 5, 0x4, 'W', 0x1000,
         GP_VECTOR},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct lim_case *c = &cases[i];
        gdt_set(T0, gdt_desc(b + 0x1000 - c->base_adj, c->limit, c->type, 0, c->flags));
        uint32_t fn = c->kind == 'b' ? addr32(s32_read8) : c->kind == 'w' ? addr32(s32_read16)
                      : c->kind == 'd' ? addr32(s32_read32) : addr32(s32_write32);
        char name[128];
        snprintf(name, sizeof(name), "DS limit: %s", c->name);
        x32_case(name, false, fn, t0, c->off, c->want, 0, NULL);
    }

    /* Through CS: code is never writable (Vol 3A, "Type Checking"). */
    x32_case("CS read of readable code", false, addr32(s32_cs_read32), 0, b, -1, 0, NULL);
    x32_case("CS write: #GP(0)", false, addr32(s32_cs_write32), 0, b, GP_VECTOR, 0, NULL);
}

/* Far JMPs in legacy mode, including the code-segment limit on fetch
 * (Vol 3A "Limit Checking": an instruction whose bytes are not all within
 * CS.limit raises #GP(0)). */
static void test_far32(void)
{
    const uint16_t t0 = SEL(T0);
    static struct farptr fp;
    struct x32 r;

    fp = (struct farptr){addr32(s32_target32), t0};
    gdt_set(T0, gdt_desc(0, 0xFFFFF, 0xA, 0, 0xC)); /* code, A = 0 */
    x32_case("far JMP to 32-bit code", false, addr32(s32_ljmp), 0, addr32(&fp), -1, 0, &r);
    if (STRICT) {
        report_msg("32-bit: far JMP sets the accessed bit", gdt_get(T0) & DESC_A, "desc %#llx",
                   (unsigned long long)gdt_get(T0));
        /* Fetch limit: CS base = s32_limit_code, limit 4. */
        gdt_set(LIMC, gdt_desc(addr32(s32_limit_code), 4, 0xB, 0, 0x4));
        fp = (struct farptr){0, SEL(LIMC)};
        x32_case("instruction crossing the CS limit: #GP(0)", false, addr32(s32_ljmp), 0,
                 addr32(&fp), GP_VECTOR, 0, NULL);
        report_eq("32-bit: fetch limit fault at the crossing instruction", pm32_last.eip, 4);
        gdt_set(LIMC, gdt_desc(addr32(s32_limit_code), 3, 0xB, 0, 0x4));
        x32_case("execution running past the CS limit: #GP(0)", false, addr32(s32_ljmp), 0,
                 addr32(&fp), GP_VECTOR, 0, NULL);
        report_eq("32-bit: fetch limit fault at the first byte beyond", pm32_last.eip, 4);
        return;
    }
    report_eq("32-bit: far JMP: CS at the target", r.eax, t0);
    gdt_set(T0, DATA_RW(0));
    x32_case("far JMP to data: #GP(sel)", false, addr32(s32_ljmp), 0, addr32(&fp), GP_VECTOR, t0,
             NULL);
    gdt_set(T0, NP(CODE_XR(0)));
    x32_case("far JMP to a not-present segment: #NP(sel)", false, addr32(s32_ljmp), 0,
             addr32(&fp), NP_VECTOR, t0, NULL);
    gdt_set(T0, gdt_desc(0, 0xFFF, 0xB, 0, 0x4));
    fp.off = 0x2000;
    x32_case("far JMP beyond the limit: #GP(0)", false, addr32(s32_ljmp), 0, addr32(&fp),
             GP_VECTOR, 0, NULL);
    gdt_set(T0, CODE_XR(3));
    fp.off = addr32(s32_target32);
    x32_case("far JMP to DPL 3 nonconforming code: #GP(sel)", false, addr32(s32_ljmp), 0,
             addr32(&fp), GP_VECTOR, t0, NULL);
}

static void test_probes32(void)
{
    if (STRICT)
        return;
    const uint16_t t0 = SEL(T0);
    const uint32_t arm = 0x00F0FF00;
    struct {
        const char *name;
        uint64_t desc;
        int op; /* 0 LAR 1 LSL 2 VERR 3 VERW */
        bool zf;
        uint32_t val, mask;
    } cases[] = {
        {"LAR 32-bit call gate", sys_gate(SL_CODE32, 0, 0xC, 3, 2), 0, true, 0xEC00, arm},
        {"LAR 16-bit call gate", sys_gate(SL_CODE32, 0, 0x4, 0, 0), 0, true, 0x8400, arm},
        {"LAR task gate", sys_gate(SEL_TSS32, 0, 0x5, 0, 0), 0, true, 0x8500, arm},
        {"LAR 16-bit TSS", sys_desc(0x3000, 0x2B, 1, 0), 0, true, 0x8100, arm},
        {"LAR busy 32-bit TSS", sys_desc(0x3000, 0x67, 0xB, 0), 0, true, 0x8B00, arm},
        {"LAR LDT", sys_desc(0x3000, 0x1F, 2, 0), 0, true, 0x8200, arm},
        {"LAR interrupt gate: ZF = 0", sys_gate(SL_CODE32, 0, 0xE, 0, 0), 0, false, 0, 0},
        {"LAR trap gate: ZF = 0", sys_gate(SL_CODE32, 0, 0xF, 0, 0), 0, false, 0, 0},
        {"LAR reserved type 0: ZF = 0", sys_desc(0, 0, 0, 0), 0, false, 0, 0},
        {"LAR reserved type 8: ZF = 0", sys_desc(0, 0, 8, 0), 0, false, 0, 0},
        {"LAR reserved type A: ZF = 0", sys_desc(0, 0, 0xA, 0), 0, false, 0, 0},
        {"LAR reserved type D: ZF = 0", sys_desc(0, 0, 0xD, 0), 0, false, 0, 0},
        {"LSL LDT", sys_desc(0x3000, 0x1F, 2, 0), 1, true, 0x1F, ~0u},
        {"LSL 16-bit TSS", sys_desc(0x3000, 0x2B, 1, 0), 1, true, 0x2B, ~0u},
        {"LSL 32-bit TSS", sys_desc(0x3000, 0x67, 9, 0), 1, true, 0x67, ~0u},
        {"LSL 32-bit call gate: ZF = 0", sys_gate(SL_CODE32, 0, 0xC, 3, 0), 1, false, 0, 0},
        {"LSL task gate: ZF = 0", sys_gate(SEL_TSS32, 0, 0x5, 0, 0), 1, false, 0, 0},
        {"LSL expand-down data", gdt_desc(0, 0x0FFF, 7, 0, 0x4), 1, true, 0x0FFF, ~0u},
        {"VERR conforming execute-only code: ZF = 0", gdt_desc(0, 0xFFFFF, 0xD, 0, 0xC), 2, false,
         0, 0},
        {"VERR readable code", CODE_XR(0), 2, true, 0, 0},
        {"VERW writable data", DATA_RW(0), 3, true, 0, 0},
        {"VERW read-only data: ZF = 0", DATA_RO(0), 3, false, 0, 0},
        {"VERW call gate: ZF = 0", sys_gate(SL_CODE32, 0, 0xC, 3, 0), 3, false, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        gdt_set(T0, cases[i].desc);
        uint32_t fn = cases[i].op == 0 ? addr32(s32_lar) : cases[i].op == 1 ? addr32(s32_lsl)
                      : cases[i].op == 2 ? addr32(s32_verr) : addr32(s32_verw);
        struct x32 r = {.fn = fn, .ebx = t0, .eax = 0xA5A5A5A5};
        int v = x32_run(&r);
        bool zf = r.eflags & RFLAGS_ZF;
        bool val_ok = cases[i].op >= 2 ||
                      (cases[i].zf ? (r.eax & cases[i].mask) == (cases[i].val & cases[i].mask)
                                   : r.eax == 0xA5A5A5A5);
        char name[128];
        snprintf(name, sizeof(name), "32-bit CPL 0: %s", cases[i].name);
        report_msg(name, v < 0 && zf == cases[i].zf && val_ok,
                   "vector %d ZF %d (want %d) EAX %#x (want %#x)", v, zf, cases[i].zf, r.eax,
                   cases[i].zf ? cases[i].val : 0xA5A5A5A5);
    }
}

/* Stack limits at CPL 3 (#SS(0) is delivered on the ring-0 stack). */
static void test_stack_limits32(void)
{
    static uint8_t stk[0x2000] __attribute__((aligned(4096)));
    const uint32_t sb = addr32(stk);
    struct x32 r;
    int v;

    /* Expand-up ring-3 stack, limit 0xFFF: ESP = 8 allows two pushes, the
     * third (to offset 0xFFFFFFFC, beyond the limit) is #SS(0). */
    gdt_set(STK3, gdt_desc(sb, 0xFFF, 3, 3, 0x4));
    r = (struct x32){.fn = addr32(u32_push3), .ebx = SEL(STK3) | 3, .ecx = 8};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: push below an expand-up stack's base: #SS(0) after 2 pushes",
               v == SS_VECTOR && pm32_last.err == 0 && pm32_last.edi == 2,
               "vector %d error %#x pushes done %u", v, pm32_last.err, pm32_last.edi);
    report_eq("32-bit CPL 3: #SS handler got SS:ESP of the faulting push", pm32_last.esp, 0);
    /* Expand-down, B = 1, limit 0xFFF: ESP = 0x1008 allows two pushes. */
    gdt_set(STK3, gdt_desc(sb - 0x1000, 0xFFF, 7, 3, 0x4));
    r = (struct x32){.fn = addr32(u32_push3), .ebx = SEL(STK3) | 3, .ecx = 0x1008};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: push below an expand-down stack's limit: #SS(0) after 2 pushes",
               v == SS_VECTOR && pm32_last.err == 0 && pm32_last.edi == 2,
               "vector %d error %#x pushes done %u", v, pm32_last.err, pm32_last.edi);
    r = (struct x32){.fn = addr32(u32_push3), .ebx = SEL(STK3) | 3, .ecx = 0x100C};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: three pushes within an expand-down stack",
               v < 0 && r.esp == 0x1000 && r.edi == 3, "vector %d ESP %#x pushes %u", v, r.esp,
               r.edi);
    /* [EBP] addresses SS: the same limit rules there raise #SS(0) (Vol
     * 3A, "Interrupt 12 - Stack Fault Exception (#SS)"). At CPL 3 so that
     * the #SS is delivered on the ring-0 stack. */
    gdt_set(STK3, gdt_desc(sb, 0xFFF, 3, 3, 0x4));
    r = (struct x32){.fn = addr32(u32_ss_read), .ebx = SEL(STK3) | 3, .ebp = 0xFFC};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: [EBP] within the SS limit", v < 0, "vector %d error %#x", v,
               pm32_last.err);
    r = (struct x32){.fn = addr32(u32_ss_read), .ebx = SEL(STK3) | 3, .ebp = 0xFFE};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: [EBP] across the SS limit: #SS(0)",
               v == SS_VECTOR && pm32_last.err == 0, "vector %d error %#x", v, pm32_last.err);

}

/* Ring 3 in legacy mode: stack limits through SS (#SS(0)), call gates
 * with a parameter copy, conforming code, RET to an inner level. */
static void test_ring3_32(void)
{
    struct x32 r;
    int v;

    if (STRICT) {
        test_stack_limits32();
        return;
    }

    /* Call gate CPL 3 -> CPL 0 with two parameters: SS:ESP from
     * TSS.SS0:ESP0, then old SS, old ESP, the parameters, CS, EIP (Vol 3A,
     * "Stack Switching"). RET 8 releases the parameters on both stacks and
     * nulls DS and ES (DPL 0 < CPL 3). */
    static struct farptr fp;
    gdt_set(GATE32, sys_gate(SL_CODE32, addr32(s32_gate_entry), 0xC, 3, 2));
    fp = (struct farptr){0, SEL(GATE32) | 3};
    memset(s32_gate_frame, 0xEE, sizeof(s32_gate_frame));
    r = (struct x32){.fn = addr32(u32_lcall), .esi = addr32(&fp)};
    v = x32_run_user(&r);
    uint32_t esp0 = pm32_tss.esp0;
    report_msg("32-bit call gate CPL 3 -> 0: completes", v < 0, "vector %d error %#x eip %#x", v,
               pm32_last.err, pm32_last.eip);
    report_eq("32-bit call gate: SS = TSS.SS0", s32_gate_frame[0], SL_DATA);
    report_eq("32-bit call gate: ESP = TSS.ESP0 - 24", s32_gate_frame[1], esp0 - 24);
    report_eq("32-bit call gate: CS", s32_gate_frame[2], SL_CODE32);
    report_eq("32-bit call gate: pushed CS", s32_gate_frame[4], SEL_U32 | 3);
    report_eq("32-bit call gate: parameter 0 copied", s32_gate_frame[5], 0x22222222);
    report_eq("32-bit call gate: parameter 1 copied", s32_gate_frame[6], 0x11111111);
    report_eq("32-bit call gate: pushed ESP", s32_gate_frame[7], r.edi);
    report_eq("32-bit call gate: pushed SS", s32_gate_frame[8], SEL_UDATA | 3);
    report_eq("32-bit RET 8 to CPL 3: ESP past the parameters", r.ebp, r.edi + 8);
    report_eq("32-bit RET 8 to CPL 3: DS (DPL 0) becomes null", r.eax, 0);
    report_eq("32-bit RET 8 to CPL 3: ES (DPL 0) becomes null", r.ecx, 0);
    report_eq("32-bit RET 8 to CPL 3: SS", r.edx, SEL_UDATA | 3);
    report_eq("32-bit RET 8 to CPL 3: CS", r.ebx, SEL_U32 | 3);

    /* Gate checks at CPL 3. */
    gdt_set(GATE32, sys_gate(SL_CODE32, addr32(s32_gate_entry), 0xC, 0, 2));
    r = (struct x32){.fn = addr32(u32_lcall), .esi = addr32(&fp)};
    x32_run_user(&r);
    pm32_expect("32-bit CPL 3: call gate with DPL 0: #GP(gate)", GP_VECTOR, SEL(GATE32));
    gdt_set(GATE32, sys_gate(SL_CODE32, addr32(s32_gate_entry), 0xC, 3, 2) & ~DESC_P);
    x32_run_user(&r);
    pm32_expect("32-bit CPL 3: call gate not present: #NP(gate)", NP_VECTOR, SEL(GATE32));
    gdt_set(T0, DATA_RW(0));
    gdt_set(GATE32, sys_gate(SEL(T0), addr32(s32_gate_entry), 0xC, 3, 2));
    x32_run_user(&r);
    pm32_expect("32-bit CPL 3: call gate to a data segment: #GP(target)", GP_VECTOR, SEL(T0));
    gdt_set(GATE32, sys_gate(SL_CODE32, addr32(s32_gate_entry), 0xC, 3, 2));
    r = (struct x32){.fn = addr32(u32_ljmp), .esi = addr32(&fp)};
    x32_run_user(&r);
    pm32_expect("32-bit CPL 3: JMP through a call gate to CPL 0: #GP(target)", GP_VECTOR,
                SL_CODE32);

    /* Conforming code called from CPL 3 runs at CPL 3: same stack, CS.RPL
     * = 3 (Vol 3A, "Accessing Conforming Code Segments"). */
    gdt_set(CONF32, gdt_desc(0, 0xFFFFF, 0xF, 0, 0xC));
    fp = (struct farptr){addr32(s32_conf_entry), SEL(CONF32) | 3};
    r = (struct x32){.fn = addr32(u32_lcall), .esi = addr32(&fp)};
    v = x32_run_user(&r);
    report_msg("32-bit CPL 3: far CALL to DPL 0 conforming code runs at CPL 3",
               v < 0 && s32_gate_frame[0] == (SEL(CONF32) | 3) &&
                   s32_gate_frame[1] == (SEL_UDATA | 3) && r.ebp == r.edi + 8 &&
                   r.ebx == (SEL_U32 | 3),
               "vector %d error %#x, CS there %#x SS there %#x, ESP after %#x (before %#x) CS "
               "after %#x", v, pm32_last.err, s32_gate_frame[0], s32_gate_frame[1], r.ebp, r.edi,
               r.ebx);
    /* RET to an inner privilege level is #GP(selector). */
    r = (struct x32){.fn = addr32(u32_lret_inner)};
    x32_run_user(&r);
    pm32_expect("32-bit CPL 3: far RET to CPL 0 code: #GP(sel)", GP_VECTOR, SL_CODE32);
}

void test_main(void)
{
    sys_init();
    /* LDTR keeps its reset value (base 0, limit FFFFH) until loaded. */
    __asm__ volatile("lldt %w0" ::"r"(0));
    gdt_set(CONF64, gdt_desc(0, 0xFFFFF, 0xF, 0, 0xA));

    test_loads64();
    test_accessed64();
    if (STRICT)
        test_accessed_jmp64();
    if (COMMON)
        test_flat64();
    test_probes64();
    test_far64();
    if (COMMON)
        expect_vec("64-bit CPL 3: far RET to CPL 0 code: #GP(sel)", user64_call(ret_inner, NULL),
                   GP_VECTOR, SL_CODE64);

    test_loads32();
    test_limits32();
    test_far32();
    test_probes32();
    test_ring3_32();
}
