/* Private helpers shared by the system-architecture files of the core:
 * seg.c (descriptors, segment loads, far transfers), intr.c (IDT
 * delivery, IRET), task.c (task switches) and io.c (I/O permission).
 * SDM Vol 3A, "Protected-Mode Memory Management", "Protection",
 * "Interrupt and Exception Handling", "Task Management". */
#ifndef VP_CPU_SYS_H
#define VP_CPU_SYS_H

#include "emu/cpu/cpuid.h"
#include "emu/cpu/insn.h"

/* ---- descriptors ----------------------------------------------------- */

/* System descriptor and gate types (SDM Vol 3A, "System Descriptor
 * Types"); in IA-32e mode 9/B are the 64-bit TSS and C/E/F the 64-bit
 * gates. */
enum {
    DT_TSS16 = 0x1, DT_LDT = 0x2, DT_TSS16_BUSY = 0x3, DT_CALL16 = 0x4,
    DT_TASK = 0x5, DT_INT16 = 0x6, DT_TRAP16 = 0x7, DT_TSS32 = 0x9,
    DT_TSS32_BUSY = 0xb, DT_CALL32 = 0xc, DT_INT32 = 0xe, DT_TRAP32 = 0xf,
};

static inline unsigned desc_type(uint64_t lo) { return (lo >> 40) & 0xf; }
static inline bool desc_s(uint64_t lo) { return (lo >> 44) & 1; }
static inline unsigned desc_dpl(uint64_t lo) { return (lo >> 45) & 3; }
static inline bool desc_present(uint64_t lo) { return (lo >> 47) & 1; }
/* Gate fields (call, interrupt, trap, task gates). */
static inline uint16_t gate_sel(uint64_t lo) { return (uint16_t)(lo >> 16); }
static inline uint64_t gate_off(uint64_t lo, uint64_t hi, unsigned size)
{
    uint64_t off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull);
    if (size == 2)
        return off & 0xffff;
    if (size == 8)
        off |= (hi & 0xffffffffull) << 32;
    return off;
}

/* Segment-cache predicates on the attr word. */
static inline bool seg_code(uint32_t a) { return (a & SEGA_S) && (a & 8); }
static inline bool seg_data(uint32_t a) { return (a & SEGA_S) && !(a & 8); }
static inline bool seg_conforming(uint32_t a) { return seg_code(a) && (a & 4); }
static inline bool seg_readable(uint32_t a)
{
    return seg_data(a) || (seg_code(a) && (a & 2));
}
static inline bool seg_writable(uint32_t a) { return seg_data(a) && (a & 2); }
static inline bool seg_tss32(uint32_t a)
{
    return !(a & SEGA_S) && (SEGA_TYPE(a) == DT_TSS32 ||
                              SEGA_TYPE(a) == DT_TSS32_BUSY);
}

/* Error code for a selector (SDM Vol 3A, "Error Code"): index and TI from
 * the selector, EXT when the event is external to the program. */
static inline uint32_t sel_err(uint16_t sel, uint32_t ext)
{
    return (sel & 0xfffcu) | ext;
}

/* Reads a descriptor like vp_fetch_desc, with the EXT bit for the error
 * code; *addr gets its linear address (for accessed/busy updates). */
int vp_desc_read(vp_cpu *c, uint16_t sel, int vec, uint32_t ext,
                 uint64_t *lo, uint64_t *hi, bool wide, uint64_t *addr)
    VP_MUST_CHECK;
/* Sets bits in the access byte (byte 5) of the descriptor at addr
 * (accessed bit of segments, busy bit of TSS descriptors). */
int vp_desc_set_bits(vp_cpu *c, uint64_t addr, uint64_t lo, uint8_t bits)
    VP_MUST_CHECK;
int vp_desc_clear_bits(vp_cpu *c, uint64_t addr, uint64_t lo, uint8_t bits)
    VP_MUST_CHECK;

/* Protected-mode checks of a stack segment for a privilege level (used by
 * inter-privilege CALL and interrupt delivery, SDM Vol 3A "Stack Switching"):
 * faults are #TS(sel + ext) and #SS(sel + ext) for not present. */
int vp_check_new_ss(vp_cpu *c, uint16_t sel, unsigned cpl, uint32_t ext,
                    vp_seg *out, uint64_t *addr, uint64_t *lo) VP_MUST_CHECK;

/* Far RET and IRET (seg.c, intr.c). The code segment returned to: not
 * null, a present code segment with RPL >= CPL, DPL = RPL (nonconforming)
 * or DPL <= RPL (conforming), not L and D together in IA-32e mode.
 * Then, returning to an outer privilege level, the stack: a present
 * writable data segment with RPL = DPL = cs's RPL, or null when returning
 * to 64-bit code at CPL < 3. Faults are #GP(sel), #NP(sel) for a
 * not-present CS, #SS(sel) for a not-present SS. The caller marks the
 * descriptors accessed (*lo and *addr as from vp_desc_read; not set for
 * a null SS). */
int vp_check_return_cs(vp_cpu *c, uint16_t sel, vp_seg *cs, uint64_t *lo,
                       uint64_t *addr) VP_MUST_CHECK;
int vp_check_return_ss(vp_cpu *c, uint16_t sel, const vp_seg *cs, vp_seg *ss,
                       uint64_t *addr, uint64_t *lo) VP_MUST_CHECK;

/* Marks ES, DS, FS and GS unusable when the new CPL may not use them
 * (return to an outer privilege level). */
void vp_null_outer_segs(vp_cpu *c);

/* Loads the null selector into a data segment register (64-bit rules). */
void vp_seg_null(vp_cpu *c, vp_seg *s, uint16_t sel);
/* The same for SS, whose DPL then reads as `cpl`. */
void vp_seg_null_ss(vp_cpu *c, vp_seg *ss, uint16_t sel, unsigned cpl);

/* ---- TSS ------------------------------------------------------------- */

/* SS:ESP for privilege level `dpl` from the current 16- or 32-bit TSS. */
int vp_tss_stack(vp_cpu *c, unsigned dpl, uint32_t ext, uint16_t *ss,
                 uint64_t *sp) VP_MUST_CHECK;
/* An 8-byte field of the 64-bit TSS at byte offset `off`: RSPn at
 * 4 + 8n, ISTn at 0x24 + 8(n - 1); #TS(TR + ext) beyond the limit. */
int vp_tss_read64(vp_cpu *c, unsigned off, uint32_t ext, uint64_t *val)
    VP_MUST_CHECK;

/* Task switch (task.c). source: why the switch happens. */
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
int vp_task_switch(vp_cpu *c, uint16_t sel, int source, uint32_t ext,
                   bool has_err, uint32_t err, uint64_t ret_rip,
                   bool *committed) VP_MUST_CHECK;

/* ---- stack frames ---------------------------------------------------- */

/* A stack being built or unwound: pushes and pops move `sp` only; the
 * caller commits it to RSP when the whole transfer succeeded. */
typedef struct vp_stack {
    const vp_seg *ss;
    uint64_t sp;
    unsigned ssize;      /* stack-address size: 2, 4 or 8 */
    int vec;             /* fault for a limit violation: #SS */
    uint32_t err;        /* its error code */
} vp_stack;

void vp_stack_init(vp_cpu *c, vp_stack *s, const vp_seg *ss, uint64_t sp,
                   uint32_t err);
int vp_stack_push(vp_cpu *c, vp_stack *s, unsigned size, uint64_t v)
    VP_MUST_CHECK;
int vp_stack_pop(vp_cpu *c, vp_stack *s, unsigned size, uint64_t *v)
    VP_MUST_CHECK;
/* Reads at sp + off without moving. */
int vp_stack_peek(vp_cpu *c, const vp_stack *s, uint64_t off, unsigned size,
                  uint64_t *v) VP_MUST_CHECK;
/* Writes the stack pointer register with the stack-address size rules. */
void vp_set_sp(vp_cpu *c, unsigned ssize, uint64_t sp);
/* The IRET frame on the current stack (intr.c): IP, CS and FLAGS of
 * `size` bytes each; *st is left past them. */
int vp_pop_iret_frame(vp_cpu *c, vp_stack *st, unsigned size, uint64_t *ip,
                      uint64_t *cs, uint64_t *fl) VP_MUST_CHECK;

/* ---- atomic transfers ------------------------------------------------ */

/* State a far transfer may change before it can fail; restored when it
 * faults so that the fault is delivered in the old context. */
typedef struct vp_xstate {
    vp_seg seg[6];
    vp_seg ldtr, tr;
    uint64_t rsp, rip, flags;
} vp_xstate;

void vp_xsave(vp_cpu *c, vp_xstate *x);
void vp_xrestore(vp_cpu *c, const vp_xstate *x);

/* Loads CS for a control transfer to `off` in code segment `s`, with the
 * target-offset check (limit, or canonical when the target is 64-bit
 * code): #GP(ext) on failure. Sets RPL to `cpl` and recomputes the mode. */
int vp_enter_cs(vp_cpu *c, const vp_seg *s, uint16_t sel, unsigned cpl,
                uint64_t off, uint32_t ext) VP_MUST_CHECK;

#endif
