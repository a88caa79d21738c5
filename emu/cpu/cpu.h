/* One virtual x86-64 CPU: architectural state, the software TLB, and the
 * entry points the machine and the interrupt controllers use.
 * SDM Vol 3A, "Processor Management and Initialization" gives the reset
 * state; everything here is per vCPU. */
#ifndef VP_CPU_CPU_H
#define VP_CPU_CPU_H

#include "emu/base/compiler.h"
#include "emu/base/stats.h"
#include "emu/machine.h"

/* General-purpose register numbers. */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
/* Entries of vp_cpu.gpr after the registers (see there). */
enum { VP_GPR_ZERO = 16, VP_GPR_BLKRIP = 17 };

/* Segment registers in encoding order. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* Segment descriptor cache. attr uses the VMX access-rights layout
 * (SDM Vol 3C, "Guest Register State"): type 3:0, S 4, DPL 6:5, P 7,
 * AVL 12, L 13, D/B 14, G 15, unusable 16. limit is the byte limit. */
typedef struct vp_seg {
    uint64_t base;
    uint32_t limit;
    uint32_t attr;
    uint16_t sel;
} vp_seg;

#define SEGA_TYPE(a) ((a) & 0xf)
#define SEGA_S VP_BIT(4)
#define SEGA_DPL(a) (((a) >> 5) & 3)
#define SEGA_P VP_BIT(7)
#define SEGA_L VP_BIT(13)
#define SEGA_DB VP_BIT(14)
#define SEGA_G VP_BIT(15)
#define SEGA_UNUSABLE VP_BIT(16)

typedef struct vp_dtr {
    uint64_t base;
    uint16_t limit;
} vp_dtr;

/* RFLAGS bits (SDM Vol 1, "EFLAGS Register"). */
#define FL_CF VP_BIT(0)
#define FL_FIXED1 VP_BIT(1)
#define FL_PF VP_BIT(2)
#define FL_AF VP_BIT(4)
#define FL_ZF VP_BIT(6)
#define FL_SF VP_BIT(7)
#define FL_TF VP_BIT(8)
#define FL_IF VP_BIT(9)
#define FL_DF VP_BIT(10)
#define FL_OF VP_BIT(11)
#define FL_IOPL (3ull << 12)
#define FL_NT VP_BIT(14)
#define FL_RF VP_BIT(16)
#define FL_VM VP_BIT(17)
#define FL_AC VP_BIT(18)
#define FL_VIF VP_BIT(19)
#define FL_VIP VP_BIT(20)
#define FL_ID VP_BIT(21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Control register bits (SDM Vol 3A, "Control Registers"). */
#define CR0_PE VP_BIT(0)
#define CR0_MP VP_BIT(1)
#define CR0_EM VP_BIT(2)
#define CR0_TS VP_BIT(3)
#define CR0_ET VP_BIT(4)
#define CR0_NE VP_BIT(5)
#define CR0_WP VP_BIT(16)
#define CR0_AM VP_BIT(18)
#define CR0_NW VP_BIT(29)
#define CR0_CD VP_BIT(30)
#define CR0_PG VP_BIT(31)
#define CR4_VME VP_BIT(0)
#define CR4_PVI VP_BIT(1)
#define CR4_TSD VP_BIT(2)
#define CR4_DE VP_BIT(3)
#define CR4_PSE VP_BIT(4)
#define CR4_PAE VP_BIT(5)
#define CR4_MCE VP_BIT(6)
#define CR4_PGE VP_BIT(7)
#define CR4_PCE VP_BIT(8)
#define CR4_OSFXSR VP_BIT(9)
#define CR4_OSXMMEXCPT VP_BIT(10)
#define CR4_UMIP VP_BIT(11)
#define CR4_LA57 VP_BIT(12)
#define CR4_VMXE VP_BIT(13)
#define CR4_FSGSBASE VP_BIT(16)
#define CR4_PCIDE VP_BIT(17)
#define CR4_OSXSAVE VP_BIT(18)
#define CR4_SMEP VP_BIT(20)
#define CR4_SMAP VP_BIT(21)
#define CR4_PKE VP_BIT(22)
#define EFER_SCE VP_BIT(0)
#define EFER_LME VP_BIT(8)
#define EFER_LMA VP_BIT(10)
#define EFER_NXE VP_BIT(11)

/* Exception vectors (SDM Vol 3A, "Exception and Interrupt Reference"). */
enum { EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4,
       EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10,
       EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
       EXC_AC = 17, EXC_MC = 18, EXC_XM = 19, EXC_VE = 20, EXC_CP = 21 };

/* Handler and memory-helper status. Anything non-zero leaves the current
 * block; VP_EXC means an exception is pending in cpu->exc. */
enum { VP_OK = 0, VP_EXC = 1, VP_BREAK = 2,
       VP_JUMP = 3, /* like VP_BREAK, for a taken branch inside a block:
                     * nothing but RIP changed */
       VP_SMC = 4   /* from a chained handler (exec.c): the instruction
                     * completed and was counted, and wrote a code page */ };

/* Software TLB: direct-mapped, one array per access kind and privilege,
 * holding the host addend of RAM pages (MMIO pages are never entered). */
#define VP_TLB_BITS 8
#define VP_TLB_SIZE (1u << VP_TLB_BITS)
enum { TLB_READ, TLB_WRITE, TLB_EXEC, TLB_KINDS };
_Static_assert((int)TLB_KINDS == (int)VP_STAT_TLB_KINDS &&
                   (int)TLB_EXEC == (int)VP_STAT_TLB_EXEC,
               "stats.h counts TLB accesses per TLB kind");

typedef struct vp_tlb_entry {
    uint64_t tag;       /* linear page number + 1; 0 = empty */
    uintptr_t addend;   /* host address - linear address */
    uint64_t gpa;       /* guest-physical page */
    uint8_t global;
} vp_tlb_entry;

typedef struct vp_tlb {
    vp_tlb_entry e[TLB_KINDS][2][VP_TLB_SIZE]; /* [kind][user][index] */
} vp_tlb;

/* The monitor line of MONITOR/MWAIT: CPUID leaf 05H's smallest and
 * largest monitor-line size. */
#define VP_MONITOR_LINE 64

/* Paging-structure cache for 4- and 5-level paging (SDM Vol 3A,
 * "Paging-Structure Caches"): the page table mapping a 2-MiB region and
 * the rights the levels above it grant. Valid while tlb_epoch is. */
typedef struct vp_pde_cache {
    uint64_t tag;       /* (linear >> 21) + 1; 0 = empty */
    uint64_t table;     /* guest-physical address of the page table */
    const uint8_t *host; /* its host address when in RAM, else NULL (the
                          * RAM map changes only with the A20 gate, which
                          * flushes the TLB and so this) */
    uint32_t epoch;
    uint8_t u, rw, nx;
} vp_pde_cache;
#define VP_PDC_SIZE 64

typedef struct vp_insn vp_insn;
typedef struct vp_block_cache vp_block_cache;
typedef struct vp_cpu_model vp_cpu_model;

/* Event kinds for delivery through the IDT (SDM Vol 3A, "Interrupt and
 * Exception Handling"); they differ in privilege checks and RIP pushed. */
enum { EV_EXTINT, EV_NMI, EV_HWEXC, EV_SWINT, EV_PRIV_SWEXC, EV_SWEXC };

struct vp_cpu {
    /* Hot state first. */
    /* The sixteen general registers, then two entries that effective
     * addresses (insn.h insn_ea) index like registers: VP_GPR_ZERO, always
     * 0 (REG_NONE names it), and VP_GPR_BLKRIP, the RIP the running
     * block's first record started at (exec.c), the base of RIP-relative
     * operands in cached blocks. */
    uint64_t gpr[18];
    uint64_t rip;
    uint64_t flags;            /* RFLAGS with OSZAPC possibly stale */
    /* Lazy flags: OSZAPC come from the last flag-setting operation. */
    uint64_t lf_res, lf_a, lf_b;
    uint32_t lf_op;            /* vp_lazy_op | size<<8; 0: flags valid */
    uint32_t lf_cf;            /* carry-in for INC/DEC, which keep CF */
    /* 1 from a predicating Jcc that was taken to the record it skips
     * (ops_fast.c, "predicated skips"), which reads and clears it. */
    uint64_t pred_skip;

    uint64_t insn_rip;         /* RIP of the instruction executing */
    uint64_t icount;           /* instructions retired */
    uint64_t icount_limit;     /* end of the current vp_cpu_exec budget */
    /* Instructions a handler retired beyond its own one (REP iterations,
     * vp_retire); exec.c finds where a chain of handlers stopped from the
     * difference of icount and this. */
    uint64_t icount_skew;
    /* icount when the running block's first record started (vp_sync,
     * insn.h); its RIP is gpr[VP_GPR_BLKRIP]. */
    uint64_t blk_icount;
    struct vp_block *cur_blk;  /* the block running (exec.c) */
    /* icount up to which handler chains may go on into other blocks
     * (exec.c): the budget's end or a bound on a chain's length; 0 while
     * something needs the loop: an interrupt that can be taken,
     * TF/RF/VIP, a shadow, code other than 64-bit. vp_cpu_kick clears it,
     * the loop recomputes it. */
    uint64_t chain_limit;
    /* Where the out-of-line memory paths return a value read for the
     * inline ones (insn.h), so that handlers take no local's address and
     * their calls in tail position stay jumps. */
    uint64_t mem_scratch;
    uint32_t a20_gen;          /* machine a20_gen the TLB was filled under */
    uint32_t tlb_epoch;        /* bumped by every TLB flush */
    /* Bumped by whatever can make a remembered block successor wrong: a
     * TLB flush, a change of CPL or code size, a block built or flushed
     * (exec.c's block links). */
    uint32_t link_epoch;
    int cpl;
    int code_size;             /* 2, 4 or 8: default operand size of CS */
    uint64_t rip_mask;         /* 0xffff, 0xffffffff or ~0 */
    bool long_mode;            /* EFER.LMA */
    bool v86;                  /* RFLAGS.VM in protected mode */
    /* Set by emu/debug when watchpoints exist (slow-path data accesses
     * are checked). */
    bool debug_watch;

    vp_seg seg[6];
    vp_seg ldtr, tr;
    vp_dtr gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    /* PAE paging's PDPTE registers, loaded by MOV to CR0/CR3/CR4 (SDM Vol
     * 3A, "PDPTE Registers"); the walker uses these, not memory. */
    uint64_t pdpte[4];
    bool pdpte_loaded;
    uint64_t dr[8];
    /* Breakpoints DR7 arms (debugreg.c recomputes these on every write
     * of DR0-DR3/DR7 and CR4.DE): masks of DR0-DR3 by kind, and the
     * B0-B3 bits of data/I-O breakpoints hit by the current instruction. */
    uint8_t dr_exec, dr_data, dr_io;
    uint8_t dr_pending;
    uint32_t pkru;             /* protection-key rights (SDM Vol 3A, "PKRU") */
    uint64_t efer;
    uint64_t xcr0;

    /* MSRs (SDM Vol 4, "Model-Specific Registers"). */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc_offset, tsc_aux, tsc_adjust;
    uint64_t pat, misc_enable, feature_control, debugctl;
    uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    uint64_t apic_base;

    /* Pending exception raised by the instruction being executed. */
    struct {
        int vector;            /* -1: none */
        uint32_t error;
        bool has_error;
        int kind;              /* EV_* */
    } exc;
    int delivering;            /* vector being delivered, -1 if none (for #DF) */

    /* Conditions the interpreter loop must look at before running a
     * block, overlaid on one word so that one load tests them all. */
    union {
        struct {
            bool halted;
            bool nmi_pending;
            bool shutdown;     /* triple fault happened */
            /* Set by emu/debug: breakpoints, watchpoints or a step are
             * active (blocks run through the per-instruction loop). */
            bool debug_on;
            /* Breakpoints DR7 arms (debugreg.c recomputes these on every
             * write of DR0-DR3/DR7 and CR4.DE). */
            uint8_t dr_active;  /* any breakpoint enabled: check per insn */
            /* A record runs outside its block (exec.c's run_one): no
             * chaining into other blocks. */
            bool slow_run;
            uint8_t attn_pad_[2];
        };
        uint64_t attn_word;
    };

    /* Interrupt state. */
    bool intr_pending;         /* set by vp_cpu_kick: re-check controllers */
    bool nmi_blocked;
    uint64_t shadow_until;     /* STI / MOV SS shadow: icount it ends at */

    /* MONITOR/MWAIT (ops_sysext.c): the line MONITOR armed and its bytes
     * then; `mwait` while halted says the CPU waits in MWAIT (not HLT),
     * with interrupts waking it even under IF = 0 if `mwait_ibe`. */
    bool monitor_armed;
    bool mwait, mwait_ibe;
    uint64_t monitor_gpa;      /* guest-physical, VP_MONITOR_LINE-aligned */
    uint8_t monitor_line[VP_MONITOR_LINE];

    vp_tlb tlb;
    vp_pde_cache pdc[VP_PDC_SIZE];
    vp_cpu_stats stats;        /* counters for --stats (emu/base/stats.h) */
    vp_block_cache *bcache;
    vp_lapic *lapic;
    vp_machine *m;
    const vp_cpu_model *model;
    int id;
};

vp_cpu *vp_cpu_create(vp_machine *m, int id, const char *model, vp_error *err);
void vp_cpu_destroy(vp_cpu *c);
/* Power-on / RESET state (SDM Vol 3A, "Processor State After Reset"). */
void vp_cpu_reset(vp_cpu *c);

/* Whether the line armed by the last MONITOR changed since (or is not
 * RAM any more): what ends a wait in MWAIT besides events (ops_sysext.c). */
bool vp_mwait_triggered(vp_cpu *c);

/* Runs up to `budget` instructions (stops early on halt, shutdown, or a
 * machine stop request). Returns instructions retired. */
uint64_t vp_cpu_exec(vp_cpu *c, uint64_t budget);

/* The execution mode as trace events and filters name it. */
static inline enum vp_trace_mode vp_cpu_mode(const vp_cpu *c)
{
    if (!(c->cr0 & CR0_PE))
        return VP_MODE_REAL;
    if (c->v86)
        return VP_MODE_V86;
    if (c->long_mode)
        return c->code_size == 8 ? VP_MODE_LONG : VP_MODE_COMPAT;
    return c->code_size == 4 ? VP_MODE_PROT32 : VP_MODE_PROT16;
}

/* An interrupt controller's state changed: re-check at the next boundary. */
static inline void vp_cpu_kick(vp_cpu *c)
{
    c->intr_pending = true;
    c->chain_limit = 0;
}

/* Time-stamp counter as the guest reads it (1 GHz virtual TSC). */
uint64_t vp_cpu_tsc(const vp_cpu *c);

/* Sets up 32-bit protected mode with flat segments as the Multiboot
 * specifications define the boot state. */
void vp_cpu_setup_multiboot(vp_cpu *c, uint32_t eax, uint32_t ebx,
                            uint32_t entry);
/* Sets up 64-bit long mode with identity paging (2-MiB pages) of the first
 * `map_bytes` (rounded up to 1 GiB, at most 512 GiB) for a plain ELF64
 * entry. Uses 3 + ceil(map_bytes / 1 GiB) pages of RAM at `pt_base`: PML4,
 * PDPT, the page directories, then a GDT (null, code64 0x08, data 0x10). */
int vp_cpu_setup_long_mode(vp_cpu *c, uint64_t entry, uint64_t pt_base,
                           uint64_t map_bytes, uint64_t rsp) VP_MUST_CHECK;

#endif
