/* Monitor views of machine state: registers, CPUs, the software TLB, the
 * address space, one page walk, breakpoints, devices. */
#include "frontend/monitor_internal.h"

#include <stdlib.h>
#include <string.h>

#include "emu/cpu/insn.h"
#include "emu/debug/debug.h"

/* ---- registers ------------------------------------------------------- */

static const char *mode_name(const vp_cpu *c)
{
    if (!(c->cr0 & CR0_PE))
        return "real mode";
    if (c->v86)
        return "virtual-8086 mode";
    if (c->long_mode && c->code_size == 8)
        return "64-bit mode";
    if (c->long_mode)
        return c->code_size == 4 ? "compatibility mode (32-bit code)"
                                 : "compatibility mode (16-bit code)";
    return c->code_size == 4 ? "protected mode (32-bit code)"
                             : "protected mode (16-bit code)";
}

/* The segment type, in words (SDM Vol 3A, "Segment Descriptor Types",
 * "System Descriptor Types"). */
static void seg_type_text(const vp_seg *s, char *buf, size_t len)
{
    unsigned t = SEGA_TYPE(s->attr);
    if (s->attr & SEGA_UNUSABLE) {
        snprintf(buf, len, "unusable");
        return;
    }
    if (s->attr & SEGA_S) {
        if (t & 8)
            snprintf(buf, len, "code %s%s%s", (t & 2) ? "RX" : "X",
                     (t & 4) ? " conforming" : "", (t & 1) ? " accessed" : "");
        else
            snprintf(buf, len, "data %s%s%s", (t & 2) ? "RW" : "R",
                     (t & 4) ? " expand-down" : "",
                     (t & 1) ? " accessed" : "");
        return;
    }
    static const char *const sys[16] = {
        "reserved", "TSS16 available", "LDT", "TSS16 busy", "call gate16",
        "task gate", "interrupt gate16", "trap gate16", "reserved",
        "TSS available", "reserved", "TSS busy", "call gate", "reserved",
        "interrupt gate", "trap gate"};
    snprintf(buf, len, "system: %s", sys[t]);
}

static void print_seg(mon_ctx *x, const char *name, const vp_seg *s)
{
    char type[64];
    seg_type_text(s, type, sizeof(type));
    mon_printf(x, "%-4s=%04x base=%016llx limit=%08x attr=%05x DPL=%u %s%s%s"
               "%s%s\n", name, s->sel, (unsigned long long)s->base,
               s->limit, s->attr, SEGA_DPL(s->attr), type,
               (s->attr & SEGA_P) ? "" : " not-present",
               (s->attr & SEGA_L) ? " L" : "",
               (s->attr & SEGA_DB) ? " D/B" : "",
               (s->attr & SEGA_G) ? " G" : "");
}

/* What a CPU is doing, for `info registers` and `info cpus`. */
static const char *cpu_state(const vp_cpu *c)
{
    if (c->shutdown)
        return "shut down";
    if (c->halted)
        return c->mwait ? "waiting in MWAIT" : "halted";
    return "runnable";
}

static void print_cpu_regs(mon_ctx *x, vp_cpu *c)
{
    static const char *const gpr[16] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"};
    static const int order[16] = {R_AX, R_BX, R_CX, R_DX, R_SI, R_DI, R_BP,
                                  R_SP, R_R8, R_R9, R_R10, R_R11, R_R12,
                                  R_R13, R_R14, R_R15};
    static const char *const segn[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    char t[256], sym[160];
    mon_printf(x, "CPU %d: %s, CPL %d, %s, %llu instructions retired\n",
               c->id, mode_name(c), c->cpl,
               cpu_state(c),
               (unsigned long long)c->icount);
    for (int i = 0; i < 16; i++)
        mon_printf(x, "%-3s=%016llx%s", gpr[order[i]],
                   (unsigned long long)c->gpr[order[i]],
                   (i % 4 == 3) ? "\n" : " ");
    uint64_t fl = vp_flags(c);
    mon_printf(x, "RIP=%016llx%s\n", (unsigned long long)c->rip,
               mon_symbolize(x->s, c->rip, sym, sizeof(sym)));
    vp_gdb_flags_text("i386_eflags", fl, t, sizeof(t));
    mon_printf(x, "RFL=%016llx [%s]\n", (unsigned long long)fl, t);
    for (int s = 0; s < 6; s++)
        print_seg(x, segn[s], &c->seg[s]);
    print_seg(x, "LDTR", &c->ldtr);
    print_seg(x, "TR", &c->tr);
    mon_printf(x, "GDTR base=%016llx limit=%04x\n",
               (unsigned long long)c->gdtr.base, c->gdtr.limit);
    mon_printf(x, "IDTR base=%016llx limit=%04x\n",
               (unsigned long long)c->idtr.base, c->idtr.limit);
    vp_gdb_flags_text("vp_cr0", c->cr0, t, sizeof(t));
    mon_printf(x, "CR0=%016llx [%s]\n", (unsigned long long)c->cr0, t);
    mon_printf(x, "CR2=%016llx CR3=%016llx CR8=%016llx\n",
               (unsigned long long)c->cr2, (unsigned long long)c->cr3,
               (unsigned long long)c->cr8);
    vp_gdb_flags_text("vp_cr4", c->cr4, t, sizeof(t));
    mon_printf(x, "CR4=%016llx [%s]\n", (unsigned long long)c->cr4, t);
    mon_printf(x, "DR0=%016llx DR1=%016llx DR2=%016llx DR3=%016llx\n",
               (unsigned long long)c->dr[0], (unsigned long long)c->dr[1],
               (unsigned long long)c->dr[2], (unsigned long long)c->dr[3]);
    mon_printf(x, "DR6=%016llx DR7=%016llx\n", (unsigned long long)c->dr[6],
               (unsigned long long)c->dr[7]);
    vp_gdb_flags_text("vp_efer", c->efer, t, sizeof(t));
    mon_printf(x, "EFER=%016llx [%s]\n", (unsigned long long)c->efer, t);
    mon_printf(x, "STAR=%016llx LSTAR=%016llx CSTAR=%016llx SFMASK=%016llx\n",
               (unsigned long long)c->star, (unsigned long long)c->lstar,
               (unsigned long long)c->cstar, (unsigned long long)c->sfmask);
    mon_printf(x, "FS_BASE=%016llx GS_BASE=%016llx KERNEL_GS_BASE=%016llx\n",
               (unsigned long long)c->seg[S_FS].base,
               (unsigned long long)c->seg[S_GS].base,
               (unsigned long long)c->kernel_gs_base);
    mon_printf(x, "SYSENTER_CS=%016llx SYSENTER_ESP=%016llx "
               "SYSENTER_EIP=%016llx\n",
               (unsigned long long)c->sysenter_cs,
               (unsigned long long)c->sysenter_esp,
               (unsigned long long)c->sysenter_eip);
    mon_printf(x, "APIC_BASE=%016llx PAT=%016llx XCR0=%016llx\n",
               (unsigned long long)c->apic_base, (unsigned long long)c->pat,
               (unsigned long long)c->xcr0);
}

void cmd_info_registers(mon_ctx *x)
{
    vp_machine *m = x->s->m;
    if (x->argc == 1 && !strcmp(x->argv[0], "-a")) {
        for (int i = 0; i < m->ncpus; i++)
            print_cpu_regs(x, m->cpus[i]);
        return;
    }
    if (x->argc) {
        mon_printf(x, "usage: info registers [-a]\n");
        return;
    }
    print_cpu_regs(x, mon_cpu(x));
}

void cmd_info_cpus(mon_ctx *x)
{
    vp_machine *m = x->s->m;
    char sym[160];
    for (int i = 0; i < m->ncpus; i++) {
        vp_cpu *c = m->cpus[i];
        mon_printf(x, "%c CPU %d: RIP=%016llx%s %s, %s\n",
                   i == x->s->cpu ? '*' : ' ', i, (unsigned long long)c->rip,
                   mon_symbolize(x->s, c->rip, sym, sizeof(sym)),
                   mode_name(c),
                   cpu_state(c));
    }
}

/* ---- TLB ------------------------------------------------------------- */

typedef struct tlb_row {
    uint64_t lin, gpa;
    unsigned kinds;     /* bit per TLB kind */
    int user;
    bool global;
} tlb_row;

static int tlb_row_cmp(const void *a, const void *b)
{
    const tlb_row *x = a, *y = b;
    if (x->lin != y->lin)
        return x->lin < y->lin ? -1 : 1;
    return x->user - y->user;
}

void cmd_info_tlb(mon_ctx *x)
{
    vp_cpu *c = mon_cpu(x);
    size_t cap = TLB_KINDS * 2 * VP_TLB_SIZE, n = 0;
    tlb_row *rows = calloc(cap, sizeof(*rows));
    if (!rows)
        return;
    for (int k = 0; k < TLB_KINDS; k++) {
        for (int u = 0; u < 2; u++) {
            for (unsigned i = 0; i < VP_TLB_SIZE; i++) {
                const vp_tlb_entry *e = &c->tlb.e[k][u][i];
                if (!e->tag)
                    continue;
                uint64_t lin = (e->tag - 1) << 12;
                size_t j;
                for (j = 0; j < n; j++)
                    if (rows[j].lin == lin && rows[j].user == u &&
                        rows[j].gpa == e->gpa)
                        break;
                if (j == n)
                    rows[n++] = (tlb_row){lin, e->gpa, 0, u, false};
                rows[j].kinds |= 1u << k;
                rows[j].global |= e->global != 0;
            }
        }
    }
    qsort(rows, n, sizeof(*rows), tlb_row_cmp);
    mon_printf(x, "software TLB of CPU %d: %zu pages (direct-mapped, %u "
               "entries per access kind and privilege)\n", c->id, n,
               VP_TLB_SIZE);
    if (n)
        mon_printf(x, "  linear page         physical page     access  priv "
                   "global\n");
    for (size_t i = 0; i < n; i++) {
        const tlb_row *r = &rows[i];
        mon_printf(x, "  %016llx -> %016llx  %c%c%c     %s %s\n",
                   (unsigned long long)r->lin, (unsigned long long)r->gpa,
                   (r->kinds & (1u << TLB_READ)) ? 'r' : '-',
                   (r->kinds & (1u << TLB_WRITE)) ? 'w' : '-',
                   (r->kinds & (1u << TLB_EXEC)) ? 'x' : '-',
                   r->user ? "user" : "sup ", r->global ? "G" : "");
    }
    free(rows);
}

/* ---- address space --------------------------------------------------- */

static void perm_text(unsigned perm, char out[6])
{
    out[0] = 'r';
    out[1] = (perm & VP_PERM_W) ? 'w' : '-';
    out[2] = (perm & VP_PERM_X) ? 'x' : '-';
    out[3] = (perm & VP_PERM_U) ? 'u' : 's';
    out[4] = (perm & VP_PERM_G) ? 'g' : '-';
    out[5] = 0;
}

typedef struct mem_ctx {
    mon_ctx *x;
    bool have;
    uint64_t lin, gpa, size;
    unsigned perm;
    uint64_t ranges, pages;
} mem_ctx;

/* Ranges printed by one `info mem` at most. */
#define MEM_MAX_RANGES 100000

static void mem_flush(mem_ctx *mc)
{
    if (!mc->have)
        return;
    char p[6];
    perm_text(mc->perm, p);
    mon_printf(mc->x, "%016llx-%016llx %016llx %016llx %s\n",
               (unsigned long long)mc->lin,
               (unsigned long long)(mc->lin + mc->size - 1),
               (unsigned long long)mc->size, (unsigned long long)mc->gpa, p);
    mc->ranges++;
    mc->have = false;
}

static int mem_leaf(void *opaque, uint64_t lin, uint64_t gpa, uint64_t size,
                    unsigned perm)
{
    mem_ctx *mc = opaque;
    mc->pages++;
    if (mc->have && mc->perm == perm && mc->lin + mc->size == lin &&
        mc->gpa + mc->size == gpa) {
        mc->size += size;
        return 0;
    }
    mem_flush(mc);
    *mc = (mem_ctx){mc->x, true, lin, gpa, size, perm, mc->ranges,
                    mc->pages};
    return mc->ranges >= MEM_MAX_RANGES;
}

void cmd_info_mem(mon_ctx *x)
{
    vp_cpu *c = mon_cpu(x);
    vp_paging_mode mode = vp_debug_paging_mode(c);
    mon_printf(x, "CPU %d: %s, CR3=%016llx\n", c->id,
               vp_debug_paging_mode_name(mode), (unsigned long long)c->cr3);
    mon_printf(x, "linear range                      size             "
               "physical         rights\n");
    mem_ctx mc = {.x = x};
    bool complete;
    vp_debug_mappings(c, mem_leaf, &mc, &complete);
    mem_flush(&mc);
    if (!complete || mc.ranges > MEM_MAX_RANGES)
        mon_printf(x, "... (stopped early: the tables describe more than "
                   "this lists)\n");
    mon_printf(x, "%llu range%s, %llu leaf entr%s (rights: r, w, x, u=user "
               "s=supervisor, g=global)\n", (unsigned long long)mc.ranges,
               mc.ranges == 1 ? "" : "s", (unsigned long long)mc.pages,
               mc.pages == 1 ? "y" : "ies");
}

/* ---- one walk -------------------------------------------------------- */

static void entry_flags(uint64_t e, unsigned size, int level, char *buf,
                        size_t len)
{
    static const struct {
        int bit;
        const char *name;
    } f[] = {{0, "P"}, {1, "W"}, {2, "U"}, {3, "PWT"}, {4, "PCD"},
             {5, "A"}, {6, "D"}, {7, "PS"}, {8, "G"}, {63, "XD"}};
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < VP_ARRAY_SIZE(f); i++) {
        if (f[i].bit >= (int)size * 8 || !((e >> f[i].bit) & 1))
            continue;
        /* Bit 7 of a PTE is PAT, not PS. */
        const char *name = f[i].bit == 7 && level == 1 ? "PAT" : f[i].name;
        int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                         name);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

static const char *size_text(uint64_t size)
{
    switch (size) {
    case 4096: return "4 KiB";
    case 2ull << 20: return "2 MiB";
    case 4ull << 20: return "4 MiB";
    case 1ull << 30: return "1 GiB";
    default: return "?";
    }
}

/* The CPU's own verdict (mmu/paging.c) for each access kind. */
static void walk_verdict(mon_ctx *x, vp_cpu *c, uint64_t lin)
{
    static const struct {
        unsigned acc;
        const char *name;
    } kinds[] = {{ACC_READ, "read"}, {ACC_WRITE, "write"},
                 {ACC_EXEC, "fetch"}};
    for (int user = 0; user < 2; user++) {
        mon_printf(x, "  %-10s", user ? "user:" : "supervisor:");
        for (size_t k = 0; k < VP_ARRAY_SIZE(kinds); k++) {
            vp_walk w;
            uint32_t err = 0;
            int r = vp_page_walk(c, lin, kinds[k].acc, user != 0, false, &w,
                                 &err);
            if (r == 0)
                mon_printf(x, " %s ok", kinds[k].name);
            else
                mon_printf(x, " %s #PF(%#x)", kinds[k].name, err & 0xffff);
            mon_printf(x, k + 1 < VP_ARRAY_SIZE(kinds) ? "," : "\n");
        }
    }
}

void cmd_walk(mon_ctx *x)
{
    uint64_t lin;
    if (x->argc < 1) {
        mon_printf(x, "usage: walk ADDR\n");
        return;
    }
    char expr[256] = "";
    size_t used = 0;
    for (int i = 0; i < x->argc; i++)
        used += (size_t)snprintf(expr + used, sizeof(expr) - used, "%s%s",
                                 i ? " " : "", x->argv[i]);
    if (mon_eval(x, expr, &lin) < 0)
        return;
    vp_cpu *c = mon_cpu(x);
    vp_walk_trace t;
    int r = vp_debug_walk(c, lin, &t);
    char sym[160], p[6];
    mon_printf(x, "linear %#llx%s: %s, CR3=%#llx\n", (unsigned long long)lin,
               mon_symbolize(x->s, lin, sym, sizeof(sym)),
               vp_debug_paging_mode_name(t.mode), (unsigned long long)c->cr3);
    bool all_ram = true;
    for (int i = 0; i < t.nlevels; i++) {
        const vp_walk_level *l = &t.lv[i];
        char fl[64];
        if (!l->readable) {
            mon_printf(x, "  %-5s[%3llu] at %#llx: not in RAM\n", l->name,
                       (unsigned long long)l->index,
                       (unsigned long long)l->entry_addr);
            all_ram = false;
            break;
        }
        entry_flags(l->entry, l->size, l->level, fl, sizeof(fl));
        mon_printf(x, "  %-5s[%3llu] at %#011llx = %0*llx  %-18s", l->name,
                   (unsigned long long)l->index,
                   (unsigned long long)l->entry_addr, (int)l->size * 2,
                   (unsigned long long)l->entry, fl);
        if (!l->present) {
            mon_printf(x, " not present\n");
            break;
        }
        perm_text(l->perm, p);
        mon_printf(x, " grants %.4s", p);
        if (l->rsvd)
            mon_printf(x, "  RESERVED BIT SET\n");
        else if (l->leaf)
            mon_printf(x, "  -> %s page\n", size_text(t.page_size));
        else
            mon_printf(x, "  -> table\n");
    }
    if (r == 0) {
        perm_text(t.perm, p);
        mon_printf(x, "  physical %#llx (%s page), rights %s\n",
                   (unsigned long long)t.gpa, size_text(t.page_size), p);
    } else {
        mon_printf(x, "  not mapped: %s\n", t.why);
    }
    if (t.mode != VP_PAGING_NONE && all_ram) {
        mon_printf(x, "  the CPU's walk with the current CR0.WP, CR4.SMEP/"
                   "SMAP, EFER.NXE, RFLAGS.AC:\n");
        walk_verdict(x, c, lin);
    }
}

/* ---- breakpoints, devices -------------------------------------------- */

void cmd_info_break(mon_ctx *x)
{
    vp_machine *m = x->s->m;
    int n = vp_debug_count(m);
    if (!n) {
        mon_printf(x, "no breakpoints or watchpoints\n");
        return;
    }
    mon_printf(x, "  id type       address            len  access  owner    "
               "hits\n");
    char sym[160];
    for (int i = 0; i < n; i++) {
        const vp_dbg_point *p = vp_debug_point(m, i);
        const char *acc = !p->watch ? "exec"
                          : p->access == VP_WATCH_READ ? "r"
                          : p->access == VP_WATCH_WRITE ? "w" : "rw";
        mon_printf(x, "%4d %-10s %s%016llx %4llu  %-6s  %-7s %llu%s\n",
                   p->id, p->watch ? "watch" : "break", p->phys ? "p:" : "  ",
                   (unsigned long long)p->addr, (unsigned long long)p->len,
                   acc, p->owner == VP_DBG_OWNER_GDB ? "gdb" : "monitor",
                   (unsigned long long)p->hits,
                   p->phys ? "" : mon_symbolize(x->s, p->addr, sym,
                                                sizeof(sym)));
    }
}

typedef struct region {
    uint64_t base, size;
    const char *what, *owner;
} region;

static int region_cmp(const void *a, const void *b)
{
    const region *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

void cmd_info_devices(mon_ctx *x)
{
    vp_machine *m = x->s->m;
    mon_printf(x, "I/O ports:\n");
    for (int i = 0; i < m->io.nranges; i++) {
        const vp_ioport_range *r = &m->io.ranges[i];
        mon_printf(x, "  %04x-%04x  %s\n", r->base, r->base + r->len - 1,
                   r->ops && r->ops->name ? r->ops->name : "?");
    }
    /* RAM, ROM and MMIO in address order. */
    region rg[8 + VP_MMIO_MAX];
    int n = 0;
    vp_ram_range rr[4];
    int nr = vp_phys_ram_ranges(&m->mem, rr, 4);
    for (int i = 0; i < nr; i++)
        rg[n++] = (region){rr[i].base, rr[i].size, "RAM", ""};
    rg[n++] = (region){VP_ROM_START, VP_ROM_END - VP_ROM_START, "ROM", ""};
    for (int i = 0; i < m->mem.nmmio; i++) {
        const vp_mmio_region *r = &m->mem.mmio[i];
        rg[n++] = (region){r->base, r->size, "MMIO",
                           r->ops && r->ops->name ? r->ops->name : "?"};
    }
    qsort(rg, (size_t)n, sizeof(rg[0]), region_cmp);
    mon_printf(x, "physical memory:\n");
    for (int i = 0; i < n; i++)
        mon_printf(x, "  %016llx-%016llx  %s%s%s\n",
                   (unsigned long long)rg[i].base,
                   (unsigned long long)(rg[i].base + rg[i].size - 1),
                   rg[i].what, rg[i].owner[0] ? " " : "", rg[i].owner);
}
