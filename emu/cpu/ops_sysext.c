/* System and miscellaneous ISA extensions: RDRAND, RDSEED, RDTSCP, RDPID,
 * CLFLUSH/CLFLUSHOPT/CLWB, MONITOR/MWAIT, CLAC/STAC, INVPCID (SDM Vol 2
 * entries of the same names). Each raises #UD when the vCPU's CPUID does
 * not advertise it (vp_cpu_has). */
#include "emu/cpu/cpuid.h"
#include "emu/cpu/ops.h"

#include <string.h>

/* ---- RDRAND, RDSEED --------------------------------------------------- */

/* SplitMix64's output function (Steele, Lea and Flood, "Fast Splittable
 * Pseudorandom Number Generators", 2014). */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* RDRAND (sub 0) and RDSEED (sub 1) r16/r32/r64 (the ModRM.rm register).
 * The numbers are a deterministic function of the vCPU and its retired-
 * instruction count, never the host's entropy, so two runs of one image
 * read the same values (docs/architecture.md, "Time"). The source never
 * runs dry: CF = 1 ("valid random value"), OF SF ZF AF PF = 0. */
int op_rdrand(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, i->sub ? FEAT_RDSEED : FEAT_RDRAND))
        return vp_raise(c, EXC_UD);
    uint64_t seed = c->icount ^ ((uint64_t)c->id << 48) ^
                    (i->sub ? 0x5eed5eed00000000ull : 0x7a4d000000000000ull);
    reg_write(c, i->rm, i->osize, false, mix64(mix64(seed)));
    c->flags = (vp_flags(c) & ~FL_ARITH) | FL_CF;
    return VP_OK;
}

/* ---- RDTSCP, RDPID ------------------------------------------------------ */

/* RDTSCP: RDTSC (same CR4.TSD rule, in op_rdtsc) plus ECX := TSC_AUX. */
int op_rdtscp(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_RDTSCP))
        return vp_raise(c, EXC_UD);
    int r = op_rdtsc(c, i);
    if (r)
        return r;
    c->gpr[R_CX] = c->tsc_aux & 0xffffffffull;
    return VP_OK;
}

/* RDPID r32 (r64 in 64-bit mode, zero-extended): IA32_TSC_AUX, at any
 * privilege level. */
int op_rdpid(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_RDPID))
        return vp_raise(c, EXC_UD);
    reg_write(c, i->rm, c->code_size == 8 ? 8 : 4, false,
              c->tsc_aux & 0xffffffffull);
    return VP_OK;
}

/* ---- cache-line instructions, MONITOR ----------------------------------- */

/* The checks of a byte load at seg:off without the load itself: CLFLUSH,
 * CLFLUSHOPT, CLWB and MONITOR are "subject to all permission checking and
 * faults associated with a byte load", and reading would give MMIO
 * registers a side effect. CLFLUSH* may also name an execute-only code
 * segment (kind SEG_READ_XO). */
static int probe_byte_gpa(vp_cpu *c, int seg, uint64_t off, int kind,
                          uint64_t *gpa)
{
    uint64_t lin;
    int r = vp_seg_check(c, seg, off, 1, kind, &lin);
    return r ? r : vp_translate(c, lin, ACC_READ, gpa);
}

static int probe_byte(vp_cpu *c, int seg, uint64_t off, int kind)
{
    uint64_t gpa;
    return probe_byte_gpa(c, seg, off, kind, &gpa);
}

/* 0F AE memory forms: CLFLUSH (sub 0, NP /7), CLFLUSHOPT (sub 1, 66 /7),
 * CLWB (sub 2, 66 /6). There are no caches to write back, so each is its
 * byte-load checks. */
int op_cacheline(vp_cpu *c, const vp_insn *i)
{
    static const int feat[3] = {FEAT_CLFSH, FEAT_CLFLUSHOPT, FEAT_CLWB};
    if (!vp_cpu_has(c, feat[i->sub]))
        return vp_raise(c, EXC_UD);
    return probe_byte(c, i->seg, insn_ea(c, i), SEG_READ_XO);
}

/* MONITOR (0F 01 C8) and MWAIT (0F 01 C9), SDM Vol 2B "MONITOR",
 * "MWAIT" and Vol 3A "MONITOR/MWAIT Instruction". #UD without CPUID.01H:
 * ECX.MONITOR (which IA32_MISC_ENABLE[18] clears on Intel parts), at
 * CPL > 0 and in virtual-8086 mode; MONITOR: #GP(0) if ECX (RCX) is not
 * 0, then the checks and faults of a byte load at DS:rAX (segment override
 * allowed); MWAIT: #GP(0) if ECX[31:1] (RCX[63:1]) is not 0, or ECX[0] is
 * 1 without CPUID.05H:ECX[1].
 *
 * MONITOR arms the 64-byte line (CPUID leaf 05H's size) of the address's
 * physical page when it is RAM, and keeps a copy of its bytes. MWAIT then
 * waits like HLT, the CPU halted with `mwait` set, unless the line
 * already changed or nothing is armed ("the processor will not enter the
 * implementation-dependent-optimized state"). It ends on an interrupt
 * (delivered when IF = 1; with ECX[0] = 1 also under IF = 0, staying
 * pending), an NMI, INIT or reset, and on a store to the line by any CPU
 * or device, which the CPU finds by comparing the line with its copy
 * whenever it is scheduled (vp_mwait_triggered). Events delivered and
 * CR0/CR3/CR4 writes between MONITOR and MWAIT disarm the monitor (intr.c,
 * ctrl.c), so that MWAIT then does not wait (SDM Vol 3A, "MONITOR/MWAIT
 * Instruction"). A store that leaves the bytes as they were is not seen:
 * the wait goes on until another event, which is a difference in timing
 * only (software re-checks its condition after MWAIT, and MWAIT may end
 * early or late for any reason). Every end of the wait disarms the
 * monitor; the next MWAIT needs a new MONITOR.
 * The hints in EAX select nothing: every wait is the same C1-like state
 * (CPUID leaf 05H reports one C1 sub-state). */
static int monitor_common(vp_cpu *c)
{
    if (!vp_cpu_has(c, FEAT_MONITOR) || c->v86 ||
        ((c->cr0 & CR0_PE) && c->cpl))
        return vp_raise(c, EXC_UD);
    return VP_OK;
}

static uint64_t rcx_wide(const vp_cpu *c)
{
    return c->code_size == 8 ? c->gpr[R_CX] : c->gpr[R_CX] & 0xffffffffull;
}

/* The armed line's bytes now, or NULL if it is not RAM. */
static const uint8_t *monitor_host(vp_cpu *c)
{
    return vp_phys_ram(&c->m->mem, c->monitor_gpa);
}

int op_monitor(vp_cpu *c, const vp_insn *i)
{
    int r = monitor_common(c);
    if (r)
        return r;
    if (rcx_wide(c))
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t gpa;
    r = probe_byte_gpa(c, i->seg, c->gpr[R_AX] & size_mask(i->asize),
                       SEG_READ, &gpa);
    if (r)
        return r;
    c->monitor_gpa = gpa & ~(uint64_t)(VP_MONITOR_LINE - 1);
    const uint8_t *h = monitor_host(c);
    c->monitor_armed = h != NULL;   /* only RAM is write-back memory */
    if (h)
        memcpy(c->monitor_line, h, VP_MONITOR_LINE);
    return VP_OK;
}

bool vp_mwait_triggered(vp_cpu *c)
{
    const uint8_t *h = monitor_host(c);
    return !h || memcmp(h, c->monitor_line, VP_MONITOR_LINE) != 0;
}

int op_mwait(vp_cpu *c, const vp_insn *i)
{
    int r = monitor_common(c);
    if (r)
        return r;
    uint64_t ecx = rcx_wide(c);
    if (ecx >> 1)
        return vp_raise_err(c, EXC_GP, 0);
    if (ecx & 1) {
        uint32_t l5[4];
        vp_cpuid(c, 5, 0, l5);
        if (!(l5[2] & 2))
            return vp_raise_err(c, EXC_GP, 0);
    }
    if (!c->monitor_armed || vp_mwait_triggered(c)) {
        c->monitor_armed = false;
        return VP_OK;
    }
    c->monitor_armed = false;   /* the copy stays for the wait's checks */
    c->halted = true;
    c->mwait = true;
    c->mwait_ibe = ecx & 1;
    return VP_BREAK;
}

/* ---- CLAC, STAC --------------------------------------------------------- */

/* CLAC (sub 0) / STAC (sub 1): RFLAGS.AC := 0 / 1. #UD without SMAP, at
 * CPL > 0 and in virtual-8086 mode. SMAP-dependent translations are never
 * cached in the TLB (mmu/tlb.c), so nothing is flushed. */
int op_clac_stac(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_SMAP) || c->v86 ||
        ((c->cr0 & CR0_PE) && c->cpl))
        return vp_raise(c, EXC_UD);
    vp_flags(c);
    if (i->sub)
        c->flags |= FL_AC;
    else
        c->flags &= ~FL_AC;
    return VP_OK;
}

/* ---- INVPCID ------------------------------------------------------------ */

/* INVPCID r32/r64 (type), m128 (descriptor: PCID in bits 11:0, bits 63:12
 * reserved, linear address in bits 127:64). Exceptions in the SDM's
 * order: #UD (no INVPCID, register operand), #GP(0) in virtual-8086 mode
 * and at CPL > 0, then the type (> 3: #GP(0)), the memory operand, and
 * the descriptor (reserved bits; a non-zero PCID for types 0 and 1 while
 * CR4.PCIDE = 0; a non-canonical address for type 0). The software TLB is
 * not tagged by PCID: types 0 and 1/3 flush the page or every non-global
 * entry, type 2 everything, which is more than required and always
 * allowed (SDM Vol 3A, "Invalidation of TLBs and Paging-Structure
 * Caches"). */
int op_invpcid(vp_cpu *c, const vp_insn *i)
{
    if (!vp_cpu_has(c, FEAT_INVPCID) || !(i->flags & I_MEM))
        return vp_raise(c, EXC_UD);
    if (c->v86 || ((c->cr0 & CR0_PE) && c->cpl))
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t type = reg_read(c, i->reg, i->osize, false);
    if (type > 3)
        return vp_raise_err(c, EXC_GP, 0);
    uint64_t lo, hi;
    int r = rd_m_pair(c, i, 8, &lo, 8, &hi);
    if (r)
        return r;
    if (lo >> 12)
        return vp_raise_err(c, EXC_GP, 0);
    if (type <= 1 && (lo & 0xfff) && !(c->cr4 & CR4_PCIDE))
        return vp_raise_err(c, EXC_GP, 0);
    if (type == 0 && !vp_canonical(c, hi))
        return vp_raise_err(c, EXC_GP, 0);
    switch (type) {
    case 0: vp_tlb_flush_page(c, hi); break;
    case 2: vp_tlb_flush(c, true); break;
    default: vp_tlb_flush(c, false); break;
    }
    return VP_BREAK;
}
