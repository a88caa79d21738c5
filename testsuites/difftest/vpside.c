/* The Vanderpool side of the differential tester: one machine whose CPU
 * runs the sequences at CPL 3 in IA-32e mode, with a user space laid out
 * like the native worker's (difftest.h) and a supervisor part that catches
 * every event:
 *
 *   GDT     Linux's x86-64 layout (arch/x86/include/asm/segment.h), so the
 *           same selectors load, or fault, the same way on both sides
 *   IDT     256 present 64-bit interrupt gates, DPL 0 except #BP and #OF
 *           (DPL 3), as Linux sets them; gate v points at a stub `hlt`
 *           at STUBS + 16 v, so the halted RIP names the vector
 *   TSS     RSP0 = top of a kernel stack; I/O bitmap base beyond the
 *           limit (every port denied, as for a Linux process)
 *   paging  4-level, 4-KiB pages: the code and data pages user-writable,
 *           the read-only page user/read-only, guard pages absent; the
 *           supervisor structures above live in the top 2 GiB (linear
 *           K_LIN + physical), out of reach of 32-bit code and of the
 *           low addresses a program's registers usually hold (the native
 *           side has nothing mapped at low addresses either)
 *
 * The interrupted state comes from the interrupt frame (RIP, RFLAGS, RSP,
 * SS, error code) and the CPU (other GPRs, CR2). */
#include "testsuites/difftest/difftest.h"

#include <stdio.h>
#include <string.h>

#include "emu/cpu/cpuid.h"
#include "emu/cpu/insn.h"
#include "emu/machine.h"

/* Physical layout (RAM 16 MiB). */
#define P_PML4 0x100000ull
#define P_PDPT 0x101000ull
#define P_PD 0x102000ull
#define P_PT_K 0x103000ull   /* kernel pages, supervisor */
#define P_PT_U 0x104000ull   /* 0x10000000-0x101fffff, user */
#define P_PDPT_K 0x105000ull
#define P_PD_K 0x106000ull
#define K_LIN 0xffffffff80000000ull /* kernel linear = K_LIN + physical */
#define P_GDT 0x200000ull
#define P_IDT 0x201000ull
#define P_TSS 0x202000ull
#define P_STUBS 0x203000ull
#define P_STACK_TOP 0x206000ull
#define K_GDT (K_LIN + P_GDT)
#define K_IDT (K_LIN + P_IDT)
#define K_TSS (K_LIN + P_TSS)
#define K_STUBS (K_LIN + P_STUBS)
#define K_STACK_TOP (K_LIN + P_STACK_TOP)
#define P_CODE 0x400000ull
#define P_DATA 0x410000ull    /* data pages then the read-only page */

static struct {
    vp_machine *m;
    vp_cpu *c;
    uint8_t *mem_host;        /* host view of P_DATA (contiguous RAM) */
    uint32_t last_code_len;
    uint64_t gdt[16];
    uint8_t int3s[DT_CODE_SIZE];
} vps;

static const uint64_t gdt_init[16] = {
    [1] = 0x00cf9b000000ffffull,  /* __KERNEL32_CS */
    [2] = 0x00af9b000000ffffull,  /* __KERNEL_CS */
    [3] = 0x00cf93000000ffffull,  /* __KERNEL_DS */
    [4] = 0x00cffb000000ffffull,  /* __USER32_CS */
    [5] = 0x00cff3000000ffffull,  /* __USER_DS */
    [6] = 0x00affb000000ffffull,  /* __USER_CS */
    /* [8..9]: the TSS, filled in below */
};

static void wr64(uint64_t pa, uint64_t v)
{
    vp_phys_write_n(&vps.m->mem, pa, v, 8);
}

int dt_vp_start(const char *model)
{
    vp_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    vp_error err;
    memset(&err, 0, sizeof(err));
    cfg.ram_size = 16ull << 20;
    cfg.ncpus = 1;
    cfg.cpu_model = model;
    vps.m = vp_machine_create(&cfg, NULL, &err);
    if (!vps.m) {
        fprintf(stderr, "difftest: vp_machine_create: %s\n", err.msg);
        return -1;
    }
    vps.c = vps.m->cpus[0];
    vp_physmem *pm = &vps.m->mem;
    static const uint8_t zero[4096];
    for (uint64_t a = P_PML4; a <= P_PD_K; a += 4096)
        if (vp_phys_load(pm, a, zero, 4096))
            return -1;
    /* Paging structures: U/S and R/W set above the leaves; the leaves
     * decide (SDM Vol 3A, "Access Rights"). */
    wr64(P_PML4, P_PDPT | 7);
    wr64(P_PDPT, P_PD | 7);
    wr64(P_PD + 8 * (DT_CODE >> 21), P_PT_U | 7);
    wr64(P_PML4 + 8 * ((K_LIN >> 39) & 511), P_PDPT_K | 3);
    wr64(P_PDPT_K + 8 * ((K_LIN >> 30) & 511), P_PD_K | 3);
    wr64(P_PD_K + 8 * (((K_LIN + P_GDT) >> 21) & 511), P_PT_K | 3);
    for (uint64_t a = P_GDT; a < P_STACK_TOP; a += 4096)
        wr64(P_PT_K + 8 * (((K_LIN + a) >> 12) & 511), a | 3);
    for (uint64_t k = 0; k < DT_CODE_SIZE / 4096; k++)
        wr64(P_PT_U + 8 * (((DT_CODE >> 12) + k) & 511),
             (P_CODE + 4096 * k) | 5);
    for (uint64_t k = 0; k < DT_DATA_SIZE / 4096; k++)
        wr64(P_PT_U + 8 * (((DT_DATA >> 12) + k) & 511),
             (P_DATA + 4096 * k) | 7);
    wr64(P_PT_U + 8 * ((DT_RO >> 12) & 511), (P_DATA + DT_DATA_SIZE) | 5);

    /* GDT with a 64-bit TSS descriptor at 0x40 (busy). */
    memcpy(vps.gdt, gdt_init, sizeof(vps.gdt));
    vps.gdt[8] = 0x67 | ((K_TSS & 0xffffff) << 16) | (0x8bull << 40) |
                 ((K_TSS >> 24) & 0xff) << 56;
    vps.gdt[9] = K_TSS >> 32;
    if (vp_phys_load(pm, P_GDT, vps.gdt, sizeof(vps.gdt)))
        return -1;
    /* TSS: RSP0, I/O map base 0x68 (> limit: no bitmap). */
    wr64(P_TSS + 4, K_STACK_TOP);
    vp_phys_write_n(pm, P_TSS + 0x66, 0x68, 2);
    /* IDT and stubs. */
    for (unsigned v = 0; v < 256; v++) {
        uint64_t off = K_STUBS + 16 * v;
        unsigned dpl = (v == 3 || v == 4) ? 3 : 0;
        uint64_t lo = (off & 0xffff) | ((uint64_t)DT_SEL_KCODE << 16) |
                      ((uint64_t)(0x8e | dpl << 5) << 40) |
                      ((off >> 16) & 0xffff) << 48;
        wr64(P_IDT + 16 * v, lo);
        wr64(P_IDT + 16 * v + 8, off >> 32);
        vp_phys_write_n(pm, P_STUBS + 16 * v, 0xf4, 1); /* hlt */
    }
    vps.mem_host = vp_phys_ram(pm, P_DATA);
    /* The data and read-only pages are contiguous in host memory. */
    if (!vps.mem_host ||
        vp_phys_ram(pm, P_DATA + DT_MEM_SIZE - 1) !=
            vps.mem_host + DT_MEM_SIZE - 1)
        return -1;
    memset(vps.int3s, 0xcc, sizeof(vps.int3s));
    if (vp_phys_load(pm, P_CODE, vps.int3s, sizeof(vps.int3s)))
        return -1;
    return 0;
}

void dt_vp_stop(void)
{
    if (vps.m)
        vp_machine_destroy(vps.m);
    vps.m = NULL;
}

static void load_seg(vp_cpu *c, int s, uint16_t sel)
{
    if ((sel & ~3) == 0) {
        c->seg[s] = (vp_seg){.sel = sel, .attr = SEGA_UNUSABLE};
        return;
    }
    vp_desc_to_seg(vps.gdt[sel >> 3], 0, sel, &c->seg[s]);
}

static void cpu_state(vp_cpu *c, const dt_case *k)
{
    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    c->cr4 = CR4_PAE;
    c->cr3 = P_PML4;
    c->efer = EFER_SCE | EFER_LME | EFER_LMA;
    c->gdtr = (vp_dtr){K_GDT, sizeof(vps.gdt) - 1};
    c->idtr = (vp_dtr){K_IDT, 0xfff};
    c->ldtr = (vp_seg){.attr = SEGA_UNUSABLE};
    c->tr = (vp_seg){.sel = DT_SEL_TSS, .base = K_TSS, .limit = 0x67,
                     .attr = 0x8b};
    load_seg(c, S_CS, k->mode == 32 ? DT_SEL_UCODE32 : DT_SEL_UCODE);
    load_seg(c, S_SS, DT_SEL_UDATA);
    load_seg(c, S_DS, DT_SEL_UDATA);
    load_seg(c, S_ES, DT_SEL_UDATA);
    load_seg(c, S_FS, 0);
    load_seg(c, S_GS, 0);
    memcpy(c->gpr, k->gpr, sizeof(k->gpr));
    c->rip = DT_CODE;
    c->flags = k->rflags;
    c->lf_op = 0;
    c->halted = false;
    c->shutdown = false;
    c->exc.vector = -1;
    c->delivering = -1;
    c->shadow_until = 0;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->intr_pending = false;
    vp_update_mode(c);
}

void dt_vp_run(const dt_case *k, dt_result *r)
{
    vp_cpu *c = vps.c;
    vp_physmem *pm = &vps.m->mem;
    memset(r, 0, sizeof(*r));
    /* Code through the physical-write path so decoded blocks are dropped. */
    vp_phys_write(pm, P_CODE, k->code, k->code_len);
    if (vps.last_code_len > k->code_len)
        vp_phys_write(pm, P_CODE + k->code_len, vps.int3s,
                      vps.last_code_len - k->code_len);
    vps.last_code_len = k->code_len;
    memcpy(vps.mem_host, k->mem, DT_MEM_SIZE);
    cpu_state(c, k);

    vp_cpu_exec(c, 2000000);
    memcpy(r->mem, vps.mem_host, DT_MEM_SIZE);
    if (c->shutdown) {
        r->end = DT_END_SHUTDOWN;
        return;
    }
    if (!c->halted || c->cpl != 0 || c->rip < K_STUBS + 1 ||
        c->rip > K_STUBS + 16 * 255 + 1 || ((c->rip - K_STUBS - 1) & 15)) {
        r->end = DT_END_TIMEOUT;
        memcpy(r->gpr, c->gpr, sizeof(r->gpr));
        r->rip = c->rip;
        r->rflags = vp_flags(c);
        return;
    }
    int vec = (int)((c->rip - K_STUBS - 1) / 16);
    /* SDM Vol 3A, "Interrupt Handling in 64-bit Mode": SS, RSP, RFLAGS,
     * CS, RIP and the error code, pushed from a 16-byte aligned RSP0. */
    uint64_t f[6];
    for (int k2 = 0; k2 < 6; k2++)
        f[k2] = vp_phys_read_n(pm, P_STACK_TOP - 8 * (k2 + 1), 8);
    bool has_err = c->gpr[R_SP] == K_STACK_TOP - 48;
    memcpy(r->gpr, c->gpr, sizeof(r->gpr));
    r->end = DT_END_EVENT;
    r->vector = vec;
    r->gpr[R_SP] = f[1];
    r->rflags = f[2];
    r->rip = f[4];
    r->err = has_err ? (uint32_t)f[5] : 0;
    r->cr2 = c->cr2;
    r->ss = (uint16_t)f[0];
    r->ds = c->seg[S_DS].sel;
    r->es = c->seg[S_ES].sel;
}

unsigned dt_vp_features(void)
{
    const vp_cpu *c = vps.c;
    unsigned f = 0;
    f |= (unsigned)vp_cpu_has(c, FEAT_BMI1) << DT_F_BMI1;
    f |= (unsigned)vp_cpu_has(c, FEAT_BMI2) << DT_F_BMI2;
    f |= (unsigned)vp_cpu_has(c, FEAT_ADX) << DT_F_ADX;
    f |= (unsigned)vp_cpu_has(c, FEAT_MOVBE) << DT_F_MOVBE;
    f |= (unsigned)vp_cpu_has(c, FEAT_POPCNT) << DT_F_POPCNT;
    f |= (unsigned)vp_cpu_has(c, FEAT_ABM) << DT_F_LZCNT;
    f |= (unsigned)vp_cpu_has(c, FEAT_CX16) << DT_F_CX16;
    f |= (unsigned)vp_cpu_has(c, FEAT_CLFLUSHOPT) << DT_F_CLFLUSHOPT;
    f |= (unsigned)vp_cpu_has(c, FEAT_CLWB) << DT_F_CLWB;
    return f;
}
