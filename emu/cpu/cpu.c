/* vCPU lifecycle: creation, the RESET state, and the boot-protocol entry
 * states set up for loaders. */
#include "emu/cpu/insn.h"
#include "emu/cpu/cpuid.h"
#include "emu/cpu/debugreg.h"

#include <stdlib.h>
#include <string.h>

vp_block_cache *vp_bcache_new(void);
void vp_bcache_free(vp_block_cache *bc);
void vp_bcache_flush(vp_block_cache *bc);

vp_cpu *vp_cpu_create(vp_machine *m, int id, const char *model, vp_error *err)
{
    const vp_cpu_model *mod = vp_cpu_model_find(model);
    if (!mod) {
        vp_fail(err, "unknown CPU model '%s' (try --cpu help)", model);
        return NULL;
    }
    vp_cpu *c = calloc(1, sizeof(*c));
    if (!c) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    c->bcache = vp_bcache_new();
    if (!c->bcache) {
        free(c);
        vp_fail(err, "out of memory");
        return NULL;
    }
    c->m = m;
    c->id = id;
    c->model = mod;
    vp_cpu_reset(c);
    return c;
}

void vp_cpu_destroy(vp_cpu *c)
{
    if (!c)
        return;
    vp_bcache_free(c->bcache);
    free(c);
}

/* SDM Vol 3A, "Processor State After Reset" (Table "IA-32 and Intel 64
 * Processor States Following Power-up, Reset, or INIT"). */
void vp_cpu_reset(vp_cpu *c)
{
    vp_lapic *lapic = c->lapic;
    uint64_t apic_base = c->apic_base;
    memset(c->gpr, 0, sizeof(c->gpr));
    c->gpr[R_DX] = c->model->signature;
    c->flags = FL_FIXED1;
    c->lf_op = 0;
    c->rip = 0xfff0;
    c->cr0 = CR0_ET | CR0_CD | CR0_NW;
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
    c->pdpte_loaded = false;
    c->efer = 0;
    c->xcr0 = 1;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr[6] = 0xffff0ff0;
    c->dr[7] = 0x400;
    vp_dr_update(c);
    c->pkru = 0;
    for (int s = 0; s < 6; s++) {
        c->seg[s] = (vp_seg){.base = 0, .limit = 0xffff, .sel = 0,
                             .attr = SEGA_P | SEGA_S | 3};
    }
    c->seg[S_CS].sel = 0xf000;
    c->seg[S_CS].base = 0xffff0000;
    c->seg[S_CS].attr = SEGA_P | SEGA_S | 0xb;
    c->gdtr = (vp_dtr){0, 0xffff};
    c->idtr = (vp_dtr){0, 0xffff};
    c->ldtr = (vp_seg){.limit = 0xffff, .attr = SEGA_P | 2};
    c->tr = (vp_seg){.limit = 0xffff, .attr = SEGA_P | 0xb};
    c->star = c->lstar = c->cstar = c->sfmask = c->kernel_gs_base = 0;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->tsc_offset = 0;
    c->tsc_aux = c->tsc_adjust = 0;
    c->pat = 0x0007040600070406ull;
    /* Fast strings and MONITOR/MWAIT enabled, as firmware leaves them. */
    c->misc_enable = MISC_FAST_STRINGS | MISC_MONITOR;
    c->feature_control = 0;
    c->debugctl = 0;
    c->mtrr_def_type = 0;
    memset(c->mtrr_fixed, 0, sizeof(c->mtrr_fixed));
    memset(c->mtrr_var, 0, sizeof(c->mtrr_var));
    c->lapic = lapic;
    c->apic_base = apic_base;
    c->exc.vector = -1;
    c->delivering = -1;
    c->halted = c->id != 0;  /* APs wait for INIT/SIPI */
    c->mwait = c->monitor_armed = false;
    c->intr_pending = false;
    c->nmi_pending = c->nmi_blocked = false;
    c->shadow_until = 0;
    c->shutdown = false;
    vp_tlb_flush(c, true);
    if (c->bcache)
        vp_bcache_flush(c->bcache);
    vp_update_mode(c);
}

uint64_t vp_cpu_tsc(const vp_cpu *c)
{
    return vp_clock_now(&c->m->clock) + c->tsc_offset;
}

static void flat_seg(vp_seg *s, uint16_t sel, unsigned type, bool code64)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = type | SEGA_S | SEGA_P | SEGA_G |
              (code64 ? SEGA_L : SEGA_DB);
}

/* Multiboot 1 and 2 machine state: 32-bit protected mode, paging off,
 * flat 4-GiB code and data segments, IF clear, A20 on. The GDTR is
 * undefined per the specification; we leave it empty. */
void vp_cpu_setup_multiboot(vp_cpu *c, uint32_t eax, uint32_t ebx,
                            uint32_t entry)
{
    memset(c->gpr, 0, sizeof(c->gpr));
    c->gpr[R_AX] = eax;
    c->gpr[R_BX] = ebx;
    c->rip = entry;
    c->flags = FL_FIXED1;
    c->lf_op = 0;
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    c->pdpte_loaded = false;
    c->efer = 0;
    flat_seg(&c->seg[S_CS], 0x08, 0xb, false);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            flat_seg(&c->seg[s], 0x10, 0x3, false);
    c->halted = false;
    c->shutdown = false;
    c->m->mem.a20_mask = ~0ull;
    vp_tlb_flush(c, true);
    vp_update_mode(c);
}

/* Long-mode entry for plain ELF64 images: identity-mapped with 2-MiB
 * pages, PAE + LME + PG, a flat 64-bit code segment. */
int vp_cpu_setup_long_mode(vp_cpu *c, uint64_t entry, uint64_t pt_base,
                           uint64_t map_bytes, uint64_t rsp)
{
    vp_physmem *pm = &c->m->mem;
    uint64_t npd = (map_bytes + (1ull << 30) - 1) >> 30; /* 1 GiB each */
    if (npd == 0 || npd > 512)
        return -1;
    uint64_t pml4 = pt_base, pdpt = pt_base + 4096, pd = pt_base + 8192;
    uint64_t gdt = pd + npd * 4096;
    if (!vp_phys_is_ram(pm, pt_base, (3 + npd) * 4096))
        return -1;
    /* A GDT the guest can keep using: null, 64-bit code 0x08, data 0x10. */
    static const uint64_t gdt_desc[3] = {0, 0x00af9b000000ffffull,
                                         0x00cf93000000ffffull};
    if (vp_phys_load(pm, gdt, gdt_desc, sizeof(gdt_desc)))
        return -1;
    c->gdtr = (vp_dtr){gdt, sizeof(gdt_desc) - 1};
    uint64_t zero[512] = {0};
    if (vp_phys_load(pm, pml4, zero, 4096) || vp_phys_load(pm, pdpt, zero, 4096))
        return -1;
    vp_phys_write_n(pm, pml4, pdpt | 3, 8);
    for (uint64_t g = 0; g < npd; g++) {
        vp_phys_write_n(pm, pdpt + g * 8, (pd + g * 4096) | 3, 8);
        for (uint64_t k = 0; k < 512; k++) {
            uint64_t a = (g << 30) | (k << 21);
            vp_phys_write_n(pm, pd + g * 4096 + k * 8, a | 0x83, 8);
        }
    }
    memset(c->gpr, 0, sizeof(c->gpr));
    c->gpr[R_SP] = rsp;
    c->rip = entry;
    c->flags = FL_FIXED1;
    c->lf_op = 0;
    c->cr3 = pml4;
    c->pdpte_loaded = false;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA | (vp_cpu_has(c, FEAT_NX) ? EFER_NXE : 0);
    c->cr0 = CR0_PE | CR0_ET | CR0_PG | CR0_WP | CR0_NE;
    flat_seg(&c->seg[S_CS], 0x08, 0xb, true);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            flat_seg(&c->seg[s], 0x10, 0x3, false);
    c->halted = false;
    c->shutdown = false;
    vp_tlb_flush(c, true);
    vp_update_mode(c);
    return 0;
}
