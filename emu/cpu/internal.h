/* Interfaces between the pieces of the CPU core (not for devices).
 *
 *   exec.c      fetch/decode-cache/dispatch loop, event injection points
 *   decode.c    opcode tables -> vp_insn records
 *   mem.c       segmentation checks + software TLB + memory access helpers
 *   paging.c    page walks (32-bit, PAE, 4- and 5-level), #PF error codes
 *   flags.c     lazy flags
 *   seg.c       descriptor tables, segment register loads, privilege checks
 *   intr.c      event delivery through the IDT, #DF/triple fault, IRET
 *   ctrl.c      MOV CR/DR, mode recomputation, LGDT/LIDT/LTR/LLDT...
 *   msr.c       RDMSR/WRMSR table          cpuid.c   CPU models and CPUID
 *   ops_*.c     instruction groups
 */
#ifndef VP_CPU_INTERNAL_H
#define VP_CPU_INTERNAL_H

#include "emu/cpu/cpu.h"

/* ---- exceptions ------------------------------------------------------ */

/* Records a pending exception for the current instruction and returns
 * VP_EXC. The exec loop restores RIP to insn_rip (faults) and delivers it.
 * For #PF the caller sets cr2 before raising. */
int vp_raise(vp_cpu *c, int vector);
int vp_raise_err(vp_cpu *c, int vector, uint32_t error);

/* Delivers an event through the IDT in the current mode (SDM Vol 3A,
 * "Interrupt and Exception Handling"): kind is EV_*, `next_rip` is the RIP
 * to push for traps/software interrupts (faults push insn_rip). Handles
 * the #DF promotion and triple fault (sets c->shutdown). */
void vp_deliver_event(vp_cpu *c, int vector, int kind, bool has_error,
                      uint32_t error, uint64_t next_rip);

/* A handler that retires `n` instructions beyond itself (REP iterations)
 * counts them here, never on icount alone (exec.c's chains rely on it). */
static inline void vp_retire(vp_cpu *c, uint64_t n)
{
    c->icount += n;
    c->icount_skew += n;
}

/* ---- memory ---------------------------------------------------------- */

/* Bits 63:47 (63:56 under CR4.LA57) of a linear address all equal (SDM
 * Vol 1, "Canonical Addressing"). */
static inline bool vp_canonical(const vp_cpu *c, uint64_t a)
{
    unsigned bits = (c->cr4 & CR4_LA57) ? 57 : 48;
    int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == a;
}

/* Access flags for the helpers below. */
enum {
    ACC_READ = 0,
    ACC_WRITE = 1,
    ACC_EXEC = 2,
    ACC_KIND = 3,         /* mask of the above */
    ACC_SUPER = 1u << 4,  /* implicit supervisor access (GDT, IDT, TSS):
                             privilege checks as CPL 0 */
    ACC_NOFAULT = 1u << 5 /* probe: return VP_EXC without raising */
};

/* Linear-address access through paging and the TLB. size 1, 2, 4, 8
 * (16 for CMPXCHG16B later); any alignment, page-crossing handled. */
int vp_read_lin(vp_cpu *c, uint64_t lin, unsigned size, uint64_t *val,
                unsigned acc) VP_MUST_CHECK;
int vp_write_lin(vp_cpu *c, uint64_t lin, unsigned size, uint64_t val,
                 unsigned acc) VP_MUST_CHECK;

/* Segmented access: segment limit/type checks in protected mode (raising
 * #GP(0) or #SS(0) as the SDM requires for the segment), canonical checks
 * in 64-bit mode, then the linear access. */
int vp_read_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                uint64_t *val) VP_MUST_CHECK;
int vp_write_seg(vp_cpu *c, int seg, uint64_t off, unsigned size,
                 uint64_t val) VP_MUST_CHECK;

/* The segment checks of the helpers above alone (SDM Vol 3A, "Limit
 * Checking", "Type Checking", "Segment Registers in 64-Bit Mode"): the
 * linear address of `size` bytes at seg:off in *lin, or #GP(0) (#SS(0)
 * for SS). `kind` is what the segment type must allow: */
enum {
    SEG_READ,       /* data, or readable code */
    SEG_WRITE,      /* writable data */
    SEG_READ_XO     /* a byte-load check that execute-only code passes too
                       (CLFLUSH, SDM Vol 2A) */
};
int vp_seg_check(vp_cpu *c, int seg, uint64_t off, unsigned size, int kind,
                 uint64_t *lin) VP_MUST_CHECK;

/* The read of a read-modify-write operand: checked for writing first. */
int vp_read_seg_rmw(vp_cpu *c, int seg, uint64_t off, unsigned size,
                    uint64_t *val) VP_MUST_CHECK;

/* Stack helpers using SS, the current stack-address size and RSP. */
int vp_push(vp_cpu *c, unsigned size, uint64_t val) VP_MUST_CHECK;
int vp_pop(vp_cpu *c, unsigned size, uint64_t *val) VP_MUST_CHECK;

/* Translates a linear address (no segment) for the given access, walking
 * the page tables on a TLB miss. On a fault raises #PF (unless
 * ACC_NOFAULT) and returns VP_EXC. */
int vp_translate(vp_cpu *c, uint64_t lin, unsigned acc, uint64_t *gpa)
    VP_MUST_CHECK;

/* Paging walk without side effects on the TLB (used by the TLB fill and
 * by the inspection tools). Returns 0 and the gpa, or the #PF error code
 * with bit 31 set on a fault. Sets accessed/dirty bits when `update`. */
typedef struct vp_walk {
    uint64_t gpa;
    bool user;      /* user-accessible */
    bool writable;  /* writable at this privilege given CR0.WP */
    bool nx;
    bool global;
    uint64_t page_size;
} vp_walk;
int vp_page_walk(vp_cpu *c, uint64_t lin, unsigned acc, bool user_access,
                 bool update, vp_walk *w, uint32_t *pf_error);

void vp_tlb_flush(vp_cpu *c, bool include_global);
void vp_tlb_flush_page(vp_cpu *c, uint64_t lin);
void vp_tlb_drop_write_gpa(vp_cpu *c, uint64_t gpa_page);

/* ---- modes and control ---------------------------------------------- */

/* Recomputes cached mode fields (cpl, code_size, rip_mask, long_mode, v86)
 * from CR0, EFER, RFLAGS and the segment caches. Call after anything that
 * changes them. */
void vp_update_mode(vp_cpu *c);

/* Writes CRn with the architectural checks (#GP on reserved bits and
 * invalid combinations, SDM Vol 3A "Control Registers"); flushes the TLB
 * as required. Returns VP_OK or VP_EXC. */
int vp_write_cr(vp_cpu *c, int n, uint64_t val) VP_MUST_CHECK;

/* Loads a segment register from a selector with all protected-mode checks
 * (SDM Vol 3A "Segment Descriptors", "Privilege Level Checking When
 * Accessing Data Segments" / "... Stack Segment"). Real and V86 mode load
 * base = sel << 4. Returns VP_OK or VP_EXC. */
int vp_load_seg(vp_cpu *c, int seg, uint16_t sel) VP_MUST_CHECK;

/* Reads the 8-byte descriptor for a selector from the GDT/LDT (16 bytes
 * for system descriptors in long mode when `wide`). Raises err_vector
 * (#GP or #TS) with the selector error code when outside the table. */
int vp_fetch_desc(vp_cpu *c, uint16_t sel, int err_vector, uint64_t *lo,
                  uint64_t *hi, bool wide) VP_MUST_CHECK;
/* Decodes a descriptor into a segment cache. */
void vp_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t sel, vp_seg *s);
/* Sets the real-mode/V86 cache for a selector. */
void vp_seg_real(vp_seg *s, uint16_t sel, bool v86);

/* Far transfers (SDM Vol 2 JMP/CALL/RET/IRET), in seg.c / intr.c. A far
 * transfer that faults leaves the state as it was, except after a task
 * switch committed: then the fault belongs to the new task (insn_rip is
 * set to the new task's EIP). */
int vp_far_jmp(vp_cpu *c, uint16_t sel, uint64_t off) VP_MUST_CHECK;
int vp_far_call(vp_cpu *c, uint16_t sel, uint64_t off, unsigned osize)
    VP_MUST_CHECK;
int vp_far_ret(vp_cpu *c, unsigned osize, uint16_t imm) VP_MUST_CHECK;
int vp_iret(vp_cpu *c, unsigned osize) VP_MUST_CHECK;

/* Virtual-8086 mode (v86.c). INT n: redirects through the 8086 program's
 * vector table when CR4.VME and the TSS's redirection bit map say so
 * (*redirected), raises #GP(0) where IOPL < 3 traps to the monitor, else
 * leaves delivery through the IDT to the caller. IRET with VME and
 * IOPL < 3. */
int vp_v86_int(vp_cpu *c, unsigned vec, uint64_t next_ip, bool *redirected)
    VP_MUST_CHECK;
int vp_v86_iret_vme(vp_cpu *c, unsigned osize) VP_MUST_CHECK;
/* At an instruction boundary with RFLAGS.VIP set (exec.c): delivers #GP(0)
 * and returns true when VIF is set too at CPL 3 under VME or PVI. */
bool vp_vip_pending_fault(vp_cpu *c);

/* MSRs and CPUID. Return VP_OK, or VP_EXC after raising #GP(0). The
 * RDMSR/WRMSR handlers check CPL 0 before calling (msr.c checks only the
 * MSR itself). Feature tests: vp_cpu_has() in cpuid.h. */
int vp_rdmsr(vp_cpu *c, uint32_t msr, uint64_t *val) VP_MUST_CHECK;
int vp_wrmsr(vp_cpu *c, uint32_t msr, uint64_t val) VP_MUST_CHECK;
void vp_cpuid(vp_cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* CPU models (models.c): vendor, family/model/stepping, and the CPUID
 * feature flags of the real part the model mirrors. CPUID advertises a
 * flag only when it is also implemented (features.def): test features with
 * vp_cpu_has() (cpuid.h), not with these words. */
typedef struct vp_cpuid_leaf {
    uint32_t leaf, subleaf;
    uint32_t r[4];           /* EAX, EBX, ECX, EDX */
} vp_cpuid_leaf;
struct vp_cpu_model {
    const char *name;
    const char *desc;
    char vendor[13];
    uint32_t max_leaf, max_ext_leaf;
    uint32_t signature;      /* CPUID.1:EAX */
    uint32_t f1_ecx, f1_edx; /* CPUID.1 feature flags */
    uint32_t f7_ebx, f7_ecx, f7_edx;
    uint32_t e1_ecx, e1_edx; /* CPUID.80000001h */
    char brand[49];
    uint8_t phys_bits, lin_bits;
    uint32_t ucode_rev;      /* IA32_BIOS_SIGN_ID[63:32] / AMD patch level */
    uint64_t platform_info;  /* MSR_PLATFORM_INFO (Intel), 0: no such MSR */
    /* Descriptive leaves returned verbatim (cache and TLB geometry). */
    const vp_cpuid_leaf *leaves;
    size_t nleaves;
};
const vp_cpu_model *vp_cpu_model_find(const char *name);
extern const vp_cpu_model vp_cpu_models[];
extern const size_t vp_cpu_model_count;

/* ---- I/O ------------------------------------------------------------ */

/* IN/OUT permission (SDM Vol 1 "I/O Permission Bit Map"): VP_OK or
 * VP_EXC (#GP(0)). */
int vp_io_allowed(vp_cpu *c, uint16_t port, unsigned size) VP_MUST_CHECK;

#endif
