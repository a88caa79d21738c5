/* Helpers for the test_cpu_sys_*.c suites: descriptor and gate builders, a
 * standard GDT/IDT/TSS layout in guest memory, and mode set-up without
 * running guest code. Header-only so each suite stays one binary. */
#ifndef VP_TEST_CPU_SYS_H
#define VP_TEST_CPU_SYS_H

#include <string.h>

#include "emu/cpu/cpuid.h"
#include "emu/cpu/insn.h"
#include "testsuites/unit/lib/unit.h"

/* Guest-physical layout (paging off, so linear = physical). */
#define T_GDT 0x1000ull
#define T_IDT 0x2000ull
#define T_TSS 0x3000ull
#define T_TSS2 0x3400ull
#define T_LDT 0x3800ull
#define T_STACK0 0x8000ull     /* ring-0 stack top */
#define T_STACK3 0x9000ull     /* ring-3 stack top */
#define T_CODE 0x10000ull

/* GDT selectors of the standard layout. */
enum {
    G_CODE32 = 0x08, G_DATA32 = 0x10, G_CODE32_U = 0x18, G_DATA32_U = 0x20,
    G_TSS = 0x28, G_CODE16 = 0x30, G_DATA_RO = 0x38, G_DATA_NP = 0x40,
    G_CALLGATE = 0x48, G_CODE64 = 0x50, G_CONF = 0x58, G_LDT = 0x60,
    G_TSS2 = 0x68, G_DATA_DPL1 = 0x70, G_CODE_XO = 0x78, G_CODE64_U = 0x80,
    G_TASKGATE = 0x88, G_CALLGATE64 = 0x90, /* 16 bytes: 0x90-0x9f */
    G_END = 0xa0
};

/* A segment descriptor: access byte (P DPL S type) and the flags nibble
 * (G D/B L AVL) as in the SDM's figure "Segment Descriptor". */
static inline uint64_t mkdesc(uint32_t base, uint32_t limit, uint8_t access,
                              uint8_t flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

/* A gate: selector, offset, access byte, and the byte at 32-39
 * (parameter count or IST). */
static inline uint64_t mkgate(uint16_t sel, uint64_t off, uint8_t access,
                              uint8_t b4)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)b4 << 32) |
           ((uint64_t)access << 40) | (((off >> 16) & 0xffff) << 48);
}

static inline void wr64(vp_machine *m, uint64_t a, uint64_t v)
{
    vp_phys_write_n(&m->mem, a, v, 8);
}

static inline uint64_t rd(vp_machine *m, uint64_t a, unsigned size)
{
    return vp_phys_read_n(&m->mem, a, size);
}

static inline void set_gdt(vp_machine *m, uint16_t sel, uint64_t d)
{
    wr64(m, T_GDT + (sel & ~7u), d);
}

/* The standard GDT. Flat 4-GiB segments unless noted. */
static inline void std_gdt(vp_machine *m)
{
    set_gdt(m, 0, 0);
    set_gdt(m, G_CODE32, mkdesc(0, 0xfffff, 0x9b, 0xc));
    set_gdt(m, G_DATA32, mkdesc(0, 0xfffff, 0x93, 0xc));
    set_gdt(m, G_CODE32_U, mkdesc(0, 0xfffff, 0xfb, 0xc));
    set_gdt(m, G_DATA32_U, mkdesc(0, 0xfffff, 0xf3, 0xc));
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x67, 0x89, 0x0));
    set_gdt(m, G_CODE16, mkdesc(0, 0xffff, 0x9b, 0x0));
    set_gdt(m, G_DATA_RO, mkdesc(0, 0xfffff, 0x91, 0xc));
    set_gdt(m, G_DATA_NP, mkdesc(0, 0xfffff, 0x13, 0xc));
    set_gdt(m, G_CODE64, mkdesc(0, 0xfffff, 0x9b, 0xa));
    set_gdt(m, G_CONF, mkdesc(0, 0xfffff, 0x9f, 0xc));     /* conforming */
    set_gdt(m, G_LDT, mkdesc(T_LDT, 0x1f, 0x82, 0x0));
    set_gdt(m, G_TSS2, mkdesc(T_TSS2, 0x67, 0x89, 0x0));
    set_gdt(m, G_DATA_DPL1, mkdesc(0, 0xfffff, 0xb3, 0xc));
    set_gdt(m, G_CODE_XO, mkdesc(0, 0xfffff, 0x99, 0xc));  /* execute-only */
    set_gdt(m, G_CODE64_U, mkdesc(0, 0xfffff, 0xfb, 0xa));
    set_gdt(m, G_TASKGATE, mkgate(G_TSS2, 0, 0xe5, 0));
}

/* Loads a segment cache straight from the GDT (no checks). */
static inline void cache_seg(vp_cpu *c, vp_seg *s, uint16_t sel)
{
    uint64_t lo = rd(c->m, T_GDT + (sel & ~7u), 8);
    vp_desc_to_seg(lo, 0, sel, s);
}

/* The segment state of the standard layout at privilege `cpl`: CS from
 * `cs`, the data segments flat (G_DATA32, or G_DATA32_U at CPL 3), TR the
 * busy TSS at G_TSS, no LDT; the ring's stack, RIP = T_CODE. */
static inline void std_segs(vp_cpu *c, unsigned cpl, uint16_t cs)
{
    uint16_t ds = cpl == 3 ? G_DATA32_U | 3 : G_DATA32;
    cache_seg(c, &c->seg[S_CS], cs);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            cache_seg(c, &c->seg[s], ds);
    cache_seg(c, &c->tr, G_TSS);
    c->tr.attr |= 2;
    c->ldtr = (vp_seg){.attr = SEGA_UNUSABLE};
    c->gpr[R_SP] = cpl == 3 ? T_STACK3 : T_STACK0;
    c->rip = T_CODE;
    c->insn_rip = T_CODE;
    vp_update_mode(c);
}

/* 32-bit protected mode, paging off, flat segments at privilege `cpl`,
 * the standard GDT, an IDT at T_IDT and the 32-bit TSS in TR. */
static inline void prot32(vp_cpu *c, unsigned cpl)
{
    vp_machine *m = c->m;
    std_gdt(m);
    c->gdtr = (vp_dtr){T_GDT, G_END - 1};
    c->idtr = (vp_dtr){T_IDT, 0x7ff};
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    c->efer = 0;
    c->flags = FL_FIXED1;
    c->lf_op = 0;
    /* TSS: SS0:ESP0 = data32:T_STACK0, I/O bitmap base beyond the limit. */
    wr64(m, T_TSS + 4, T_STACK0 | ((uint64_t)G_DATA32 << 32));
    vp_phys_write_n(&m->mem, T_TSS + 0x66, 0x68, 2);
    std_segs(c, cpl, cpl == 3 ? G_CODE32_U | 3 : G_CODE32);
}

/* 64-bit mode with 4-level identity paging of the first 1 GiB (one
 * user-accessible 1-GiB page), the standard GDT, a 64-bit TSS at T_TSS
 * (RSP0 = T_STACK0, IST1 = 0x7000) and the IDT at T_IDT. */
#define T_PML4 0x100000ull
static inline void long64(vp_cpu *c, unsigned cpl)
{
    vp_machine *m = c->m;
    wr64(m, T_PML4, (T_PML4 + 0x1000) | 7);
    wr64(m, T_PML4 + 0x1000, 0x87);
    c->cr3 = T_PML4;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    c->cr0 = CR0_PE | CR0_ET | CR0_PG | CR0_WP | CR0_NE;
    c->flags = FL_FIXED1;
    c->lf_op = 0;
    c->halted = false;
    vp_tlb_flush(c, true);
    std_gdt(m);
    /* 64-bit TSS (16-byte descriptor at G_TSS). */
    set_gdt(m, G_TSS, mkdesc(T_TSS, 0x67, 0x89, 0x0));
    wr64(m, T_GDT + G_TSS + 8, 0);
    wr64(m, T_GDT + G_CALLGATE64, mkgate(G_CODE64, 0x40000, 0xec, 0));
    wr64(m, T_GDT + G_CALLGATE64 + 8, 0);
    wr64(m, T_TSS + 4, T_STACK0);
    wr64(m, T_TSS + 0x24, 0x7000);
    c->gdtr = (vp_dtr){T_GDT, G_END - 1};
    c->idtr = (vp_dtr){T_IDT, 0xfff};
    std_segs(c, cpl, cpl == 3 ? G_CODE64_U | 3 : G_CODE64);
}

/* Real mode with the IVT at 0. */
static inline void real16(vp_cpu *c)
{
    vp_cpu_reset(c);
    c->halted = false;
    vp_seg_real(&c->seg[S_CS], 0, false);
    vp_seg_real(&c->seg[S_SS], 0, false);
    c->idtr = (vp_dtr){0, 0x3ff};
    c->gpr[R_SP] = T_STACK0;
    c->rip = 0x7c00;
    c->insn_rip = 0x7c00;
    vp_update_mode(c);
}

/* Pending exception after a call that returned VP_EXC. */
#define ck_exc(c, vec, err)                                                \
    do {                                                                   \
        ck_assert_msg((c)->exc.vector == (vec),                            \
                      "exception %d, want %d", (c)->exc.vector, (vec));    \
        ck_assert_msg((c)->exc.error == (uint32_t)(err),                   \
                      "error code %#x, want %#x", (c)->exc.error,          \
                      (uint32_t)(err));                                    \
        (c)->exc.vector = -1;                                              \
    } while (0)

#endif
