/* The registers gdb and the monitor see: one table, and the x86-64 target
 * description generated from it (GDB manual, "Target Descriptions",
 * "i386 Features").
 *
 * The description is always the 64-bit one (architecture i386:x86-64),
 * whatever mode the guest is in: gdb fetches it once per connection, and a
 * guest moves between modes while gdb is attached. In 16- and 32-bit modes
 * the registers are the same registers with zero upper halves; RIP is the
 * offset in CS, not the linear address (docs/inspect.md, "gdbstub").
 *
 * Features: org.gnu.gdb.i386.core (GPRs, RIP, EFLAGS, selectors, x87),
 * org.gnu.gdb.i386.segments (fs_base, gs_base) and a custom feature,
 * org.vanderpool.x86.sys, with control, debug, descriptor-table and system
 * registers and MSRs (marked group "system"). There is no x87 or
 * SSE state in the emulator yet: st0-st7 and the x87 control registers,
 * which the core feature requires, read as their reset values and ignore
 * writes; the optional SSE feature is left out. */
#include "frontend/gdbstub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu/debugreg.h"
#include "emu/cpu/insn.h"
#include "emu/debug/debug.h"

enum { F_CORE, F_SEGMENTS, F_SYS, F_COUNT };

static const char *const feature_names[F_COUNT] = {
    "org.gnu.gdb.i386.core",
    "org.gnu.gdb.i386.segments",
    "org.vanderpool.x86.sys",
};

/* What a row is. */
enum {
    G_GPR,                                  /* + register number */
    G_RIP = G_GPR + 16,
    G_EFLAGS,
    G_SEL,                                  /* + S_ES.. in encoding order */
    G_ST = G_SEL + 6,                       /* + 0..7 */
    G_FCTRL = G_ST + 8, G_FSTAT, G_FTAG, G_FISEG, G_FIOFF, G_FOSEG,
    G_FOOFF, G_FOP,
    G_BASE,                                 /* + S_ES.. */
    G_CR0 = G_BASE + 6, G_CR2, G_CR3, G_CR4, G_CR8,
    G_DR0, G_DR1, G_DR2, G_DR3, G_DR6, G_DR7,
    G_EFER, G_KGSBASE,
    G_GDTR_BASE, G_GDTR_LIMIT, G_IDTR_BASE, G_IDTR_LIMIT, G_LDTR, G_TR,
    G_STAR, G_LSTAR, G_CSTAR, G_SFMASK,
    G_SYSENTER_CS, G_SYSENTER_ESP, G_SYSENTER_EIP, G_PAT, G_APIC_BASE,
};

#define GPR(n, r, t) {n, 64, t, NULL, F_CORE, G_GPR + (r)}
#define SEL(n, s) {n, 32, "int32", NULL, F_CORE, G_SEL + (s)}
#define ST(n, k) {n, 80, "i387_ext", NULL, F_CORE, G_ST + (k)}
#define X87(n, id) {n, 32, "int", "float", F_CORE, id}
#define SYS(n, t, id) {n, 64, t, "system", F_SYS, id}

/* gdb's amd64 register order for the core feature. */
const vp_gdb_reg vp_gdb_regs[] = {
    GPR("rax", R_AX, "int64"), GPR("rbx", R_BX, "int64"),
    GPR("rcx", R_CX, "int64"), GPR("rdx", R_DX, "int64"),
    GPR("rsi", R_SI, "int64"), GPR("rdi", R_DI, "int64"),
    GPR("rbp", R_BP, "data_ptr"), GPR("rsp", R_SP, "data_ptr"),
    GPR("r8", R_R8, "int64"), GPR("r9", R_R9, "int64"),
    GPR("r10", R_R10, "int64"), GPR("r11", R_R11, "int64"),
    GPR("r12", R_R12, "int64"), GPR("r13", R_R13, "int64"),
    GPR("r14", R_R14, "int64"), GPR("r15", R_R15, "int64"),
    {"rip", 64, "code_ptr", NULL, F_CORE, G_RIP},
    {"eflags", 32, "i386_eflags", NULL, F_CORE, G_EFLAGS},
    SEL("cs", S_CS), SEL("ss", S_SS), SEL("ds", S_DS), SEL("es", S_ES),
    SEL("fs", S_FS), SEL("gs", S_GS),
    ST("st0", 0), ST("st1", 1), ST("st2", 2), ST("st3", 3),
    ST("st4", 4), ST("st5", 5), ST("st6", 6), ST("st7", 7),
    X87("fctrl", G_FCTRL), X87("fstat", G_FSTAT), X87("ftag", G_FTAG),
    X87("fiseg", G_FISEG), X87("fioff", G_FIOFF), X87("foseg", G_FOSEG),
    X87("fooff", G_FOOFF), X87("fop", G_FOP),
    {"fs_base", 64, "int", NULL, F_SEGMENTS, G_BASE + S_FS},
    {"gs_base", 64, "int", NULL, F_SEGMENTS, G_BASE + S_GS},
    SYS("cr0", "vp_cr0", G_CR0), SYS("cr2", "int64", G_CR2),
    SYS("cr3", "int64", G_CR3), SYS("cr4", "vp_cr4", G_CR4),
    SYS("cr8", "int64", G_CR8),
    SYS("dr0", "int64", G_DR0), SYS("dr1", "int64", G_DR1),
    SYS("dr2", "int64", G_DR2), SYS("dr3", "int64", G_DR3),
    SYS("dr6", "int64", G_DR6), SYS("dr7", "int64", G_DR7),
    SYS("efer", "vp_efer", G_EFER), SYS("k_gs_base", "int64", G_KGSBASE),
    SYS("es_base", "int64", G_BASE + S_ES),
    SYS("cs_base", "int64", G_BASE + S_CS),
    SYS("ss_base", "int64", G_BASE + S_SS),
    SYS("ds_base", "int64", G_BASE + S_DS),
    SYS("gdtr_base", "int64", G_GDTR_BASE),
    SYS("gdtr_limit", "int64", G_GDTR_LIMIT),
    SYS("idtr_base", "int64", G_IDTR_BASE),
    SYS("idtr_limit", "int64", G_IDTR_LIMIT),
    SYS("ldtr", "int64", G_LDTR), SYS("tr", "int64", G_TR),
    SYS("star", "int64", G_STAR), SYS("lstar", "int64", G_LSTAR),
    SYS("cstar", "int64", G_CSTAR), SYS("sfmask", "int64", G_SFMASK),
    SYS("sysenter_cs", "int64", G_SYSENTER_CS),
    SYS("sysenter_esp", "int64", G_SYSENTER_ESP),
    SYS("sysenter_eip", "int64", G_SYSENTER_EIP),
    SYS("pat", "int64", G_PAT), SYS("apic_base", "int64", G_APIC_BASE),
};
const int vp_gdb_nregs = (int)VP_ARRAY_SIZE(vp_gdb_regs);

/* Flags types of the description: bit fields gdb decodes when printing. */
typedef struct flag_field {
    const char *name;
    int start, end;
} flag_field;

typedef struct flags_type {
    const char *id;
    int feature;
    int size;
    flag_field fields[24];
} flags_type;

/* SDM Vol 1, "EFLAGS Register"; Vol 3A, "Control Registers",
 * "IA32_EFER MSR". */
static const flags_type flag_types[] = {
    {"i386_eflags", F_CORE, 4,
     {{"CF", 0, 0}, {"", 1, 1}, {"PF", 2, 2}, {"AF", 4, 4}, {"ZF", 6, 6},
      {"SF", 7, 7}, {"TF", 8, 8}, {"IF", 9, 9}, {"DF", 10, 10},
      {"OF", 11, 11}, {"IOPL", 12, 13}, {"NT", 14, 14}, {"RF", 16, 16},
      {"VM", 17, 17}, {"AC", 18, 18}, {"VIF", 19, 19}, {"VIP", 20, 20},
      {"ID", 21, 21}}},
    {"vp_cr0", F_SYS, 8,
     {{"PE", 0, 0}, {"MP", 1, 1}, {"EM", 2, 2}, {"TS", 3, 3}, {"ET", 4, 4},
      {"NE", 5, 5}, {"WP", 16, 16}, {"AM", 18, 18}, {"NW", 29, 29},
      {"CD", 30, 30}, {"PG", 31, 31}}},
    {"vp_cr4", F_SYS, 8,
     {{"VME", 0, 0}, {"PVI", 1, 1}, {"TSD", 2, 2}, {"DE", 3, 3},
      {"PSE", 4, 4}, {"PAE", 5, 5}, {"MCE", 6, 6}, {"PGE", 7, 7},
      {"PCE", 8, 8}, {"OSFXSR", 9, 9}, {"OSXMMEXCPT", 10, 10},
      {"UMIP", 11, 11}, {"LA57", 12, 12}, {"VMXE", 13, 13},
      {"SMXE", 14, 14}, {"FSGSBASE", 16, 16}, {"PCIDE", 17, 17},
      {"OSXSAVE", 18, 18}, {"SMEP", 20, 20}, {"SMAP", 21, 21},
      {"PKE", 22, 22}}},
    {"vp_efer", F_SYS, 8,
     {{"SCE", 0, 0}, {"LME", 8, 8}, {"LMA", 10, 10}, {"NXE", 11, 11},
      {"SVME", 12, 12}, {"LMSLE", 13, 13}, {"FFXSR", 14, 14},
      {"TCE", 15, 15}}},
};

void vp_gdb_flags_text(const char *type, uint64_t v, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t t = 0; t < VP_ARRAY_SIZE(flag_types); t++) {
        const flags_type *ft = &flag_types[t];
        if (strcmp(ft->id, type) != 0)
            continue;
        int n = 0;
        while (ft->fields[n].name)
            n++;
        for (int i = n - 1; i >= 0; i--) {
            const flag_field *f = &ft->fields[i];
            unsigned w = (unsigned)(f->end - f->start + 1);
            uint64_t fv = (v >> f->start) & ((1ull << w) - 1);
            int k = 0;
            if (!f->name[0])
                continue;
            if (w > 1)
                k = snprintf(buf + used, len - used, "%s%s=%llu",
                             used ? " " : "", f->name,
                             (unsigned long long)fv);
            else if (fv)
                k = snprintf(buf + used, len - used, "%s%s",
                             used ? " " : "", f->name);
            if (k < 0 || (size_t)k >= len - used)
                return;
            used += (size_t)k;
        }
    }
}

/* ---- lookup ---------------------------------------------------------- */

int vp_gdb_reg_find(const char *name, bool *mask32)
{
    static const struct {
        const char *alias, *reg;
        bool m32;
    } aliases[] = {
        {"pc", "rip", false}, {"sp", "rsp", false}, {"fp", "rbp", false},
        {"flags", "eflags", false}, {"rflags", "eflags", false},
        {"eip", "rip", true}, {"eax", "rax", true}, {"ebx", "rbx", true},
        {"ecx", "rcx", true}, {"edx", "rdx", true}, {"esi", "rsi", true},
        {"edi", "rdi", true}, {"ebp", "rbp", true}, {"esp", "rsp", true},
    };
    bool m32 = false;
    for (size_t i = 0; i < VP_ARRAY_SIZE(aliases); i++) {
        if (!strcmp(name, aliases[i].alias)) {
            name = aliases[i].reg;
            m32 = aliases[i].m32;
            break;
        }
    }
    for (int i = 0; i < vp_gdb_nregs; i++) {
        if (!strcmp(vp_gdb_regs[i].name, name)) {
            if (mask32)
                *mask32 = m32;
            return i;
        }
    }
    return -1;
}

uint64_t vp_gdb_reg_get(vp_cpu *c, int i)
{
    int id = vp_gdb_regs[i].id;
    if (id >= G_GPR && id < G_GPR + 16)
        return c->gpr[id - G_GPR];
    if (id >= G_SEL && id < G_SEL + 6)
        return c->seg[id - G_SEL].sel;
    if (id >= G_BASE && id < G_BASE + 6)
        return c->seg[id - G_BASE].base;
    if (id >= G_ST && id < G_ST + 8)
        return 0;
    switch (id) {
    case G_RIP: return c->rip;
    case G_EFLAGS: return vp_flags(c);
    case G_FCTRL: return 0x37f;      /* x87 reset values (FINIT) */
    case G_FTAG: return 0xffff;
    case G_FSTAT: case G_FISEG: case G_FIOFF: case G_FOSEG: case G_FOOFF:
    case G_FOP: return 0;
    case G_CR0: return c->cr0;
    case G_CR2: return c->cr2;
    case G_CR3: return c->cr3;
    case G_CR4: return c->cr4;
    case G_CR8: return c->cr8;
    case G_DR0: case G_DR1: case G_DR2: case G_DR3:
        return c->dr[id - G_DR0];
    case G_DR6: return c->dr[6];
    case G_DR7: return c->dr[7];
    case G_EFER: return c->efer;
    case G_KGSBASE: return c->kernel_gs_base;
    case G_GDTR_BASE: return c->gdtr.base;
    case G_GDTR_LIMIT: return c->gdtr.limit;
    case G_IDTR_BASE: return c->idtr.base;
    case G_IDTR_LIMIT: return c->idtr.limit;
    case G_LDTR: return c->ldtr.sel;
    case G_TR: return c->tr.sel;
    case G_STAR: return c->star;
    case G_LSTAR: return c->lstar;
    case G_CSTAR: return c->cstar;
    case G_SFMASK: return c->sfmask;
    case G_SYSENTER_CS: return c->sysenter_cs;
    case G_SYSENTER_ESP: return c->sysenter_esp;
    case G_SYSENTER_EIP: return c->sysenter_eip;
    case G_PAT: return c->pat;
    case G_APIC_BASE: return c->apic_base;
    }
    return 0;
}

/* A selector written by the debugger: the cache is loaded from the
 * descriptor table as the CPU would, without the privilege checks. */
static int load_selector(vp_cpu *c, int s, uint16_t sel)
{
    if (!(c->cr0 & CR0_PE) || c->v86) {
        vp_seg_real(&c->seg[s], sel, c->v86);
        vp_update_mode(c);
        return 0;
    }
    if ((sel & ~3u) == 0 && !(sel & 4)) {
        if (s == S_CS || (s == S_SS && !c->long_mode))
            return -1;
        c->seg[s].sel = sel;
        c->seg[s].attr |= SEGA_UNUSABLE;
        return 0;
    }
    uint64_t tbase = c->gdtr.base, tlimit = c->gdtr.limit;
    if (sel & 4) {
        tbase = c->ldtr.base;
        tlimit = c->ldtr.limit;
    }
    uint64_t off = sel & ~7u;
    uint64_t lo;
    if (off + 7 > tlimit ||
        vp_debug_read_lin(c, tbase + off, &lo, 8) != 8 || !(lo & VP_BIT(47)))
        return -1;
    vp_desc_to_seg(lo, 0, sel, &c->seg[s]);
    vp_update_mode(c);
    return 0;
}

int vp_gdb_reg_set(vp_cpu *c, int i, uint64_t v)
{
    int id = vp_gdb_regs[i].id;
    if (vp_gdb_reg_get(c, i) == v)
        return 0;       /* gdb's G packet rewrites every register */
    if (id >= G_GPR && id < G_GPR + 16) {
        c->gpr[id - G_GPR] = v;
        return 0;
    }
    if (id >= G_SEL && id < G_SEL + 6)
        return v > 0xffff ? -1 : load_selector(c, id - G_SEL, (uint16_t)v);
    if (id >= G_BASE && id < G_BASE + 6) {
        c->seg[id - G_BASE].base = v;
        return 0;
    }
    if ((id >= G_ST && id < G_ST + 8) || (id >= G_FCTRL && id <= G_FOP))
        return 0;       /* no x87 state: writes are ignored */
    int r = VP_OK;
    switch (id) {
    case G_RIP:
        c->rip = v & c->rip_mask;
        return 0;
    case G_EFLAGS: {
        uint64_t writable = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL |
                            FL_NT | FL_RF | FL_VM | FL_AC | FL_VIF | FL_VIP |
                            FL_ID;
        vp_flags(c);
        c->flags = (v & writable) | FL_FIXED1;
        vp_update_mode(c);
        return 0;
    }
    case G_CR0: r = vp_write_cr(c, 0, v); break;
    case G_CR2: c->cr2 = v; break;
    case G_CR3: r = vp_write_cr(c, 3, v); break;
    case G_CR4: r = vp_write_cr(c, 4, v); break;
    case G_CR8: r = vp_write_cr(c, 8, v); break;
    case G_DR0: case G_DR1: case G_DR2: case G_DR3:
        r = vp_dr_write(c, id - G_DR0, v);
        break;
    case G_DR6: r = vp_dr_write(c, 6, v); break;
    case G_DR7: r = vp_dr_write(c, 7, v); break;
    case G_EFER: r = vp_wrmsr(c, 0xc0000080, v); break;
    case G_KGSBASE: c->kernel_gs_base = v; break;
    case G_GDTR_BASE: c->gdtr.base = v; break;
    case G_GDTR_LIMIT:
        if (v > 0xffff)
            return -1;
        c->gdtr.limit = (uint16_t)v;
        break;
    case G_IDTR_BASE: c->idtr.base = v; break;
    case G_IDTR_LIMIT:
        if (v > 0xffff)
            return -1;
        c->idtr.limit = (uint16_t)v;
        break;
    case G_STAR: c->star = v; break;
    case G_LSTAR: c->lstar = v; break;
    case G_CSTAR: c->cstar = v; break;
    case G_SFMASK: c->sfmask = v; break;
    case G_SYSENTER_CS: c->sysenter_cs = v; break;
    case G_SYSENTER_ESP: c->sysenter_esp = v; break;
    case G_SYSENTER_EIP: c->sysenter_eip = v; break;
    case G_PAT: r = vp_wrmsr(c, 0x277, v); break;
    default:
        return -1;      /* LDTR, TR, APIC base: not writable here */
    }
    if (r != VP_OK) {
        c->exc.vector = -1;    /* the write was refused: no fault */
        return -1;
    }
    return 0;
}

/* ---- the target description ------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) VP_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL,
                          b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
}

static char *build_xml(void)
{
    sbuf b = {0};
    sb_printf(&b, "<?xml version=\"1.0\"?>\n"
              "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
              "<target version=\"1.0\">\n"
              "  <architecture>i386:x86-64</architecture>\n");
    for (int f = 0; f < F_COUNT; f++) {
        sb_printf(&b, "  <feature name=\"%s\">\n", feature_names[f]);
        for (size_t t = 0; t < VP_ARRAY_SIZE(flag_types); t++) {
            const flags_type *ft = &flag_types[t];
            if (ft->feature != f)
                continue;
            sb_printf(&b, "    <flags id=\"%s\" size=\"%d\">\n", ft->id,
                      ft->size);
            for (const flag_field *x = ft->fields; x->name; x++)
                sb_printf(&b, "      <field name=\"%s\" start=\"%d\" "
                          "end=\"%d\"/>\n", x->name, x->start, x->end);
            sb_printf(&b, "    </flags>\n");
        }
        for (int i = 0; i < vp_gdb_nregs; i++) {
            const vp_gdb_reg *r = &vp_gdb_regs[i];
            if (r->feature != f)
                continue;
            sb_printf(&b, "    <reg name=\"%s\" bitsize=\"%u\" type=\"%s\" "
                      "regnum=\"%d\"", r->name, r->bits, r->type, i);
            if (r->group)
                sb_printf(&b, " group=\"%s\"", r->group);
            sb_printf(&b, "/>\n");
        }
        sb_printf(&b, "  </feature>\n");
    }
    sb_printf(&b, "</target>\n");
    return b.p;
}

const char *vp_gdb_target_xml(const char *annex)
{
    static char *xml;
    if (strcmp(annex, "target.xml") != 0)
        return NULL;
    if (!xml)
        xml = build_xml();
    return xml;
}
