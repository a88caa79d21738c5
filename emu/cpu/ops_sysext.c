/* System and miscellaneous ISA extensions: RDRAND, RDSEED, RDTSCP, RDPID,
 * CLFLUSH/CLFLUSHOPT/CLWB, MONITOR/MWAIT, CLAC/STAC, INVPCID (SDM Vol 2
 * entries of the same names). Each raises #UD when the vCPU's CPUID does
 * not advertise it (vp_cpu_has). */
#include "emu/cpu/cpuid.h"
#include "emu/cpu/ops.h"

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
static int probe_byte(vp_cpu *c, int seg, uint64_t off, int kind)
{
    uint64_t lin, gpa;
    int r = vp_seg_check(c, seg, off, 1, kind, &lin);
    return r ? r : vp_translate(c, lin, ACC_READ, &gpa);
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

/* MONITOR (0F 01 C8) and MWAIT (0F 01 C9). #UD without CPUID.01H:ECX.
 * MONITOR, at CPL > 0 and in virtual-8086 mode; MONITOR: #GP(0) if ECX
 * (RCX) is not 0, then the byte-load checks of DS:rAX (segment override
 * allowed); MWAIT: #GP(0) if ECX[31:1] (RCX[63:1]) is not 0, or ECX[0] is
 * 1 without CPUID.05H:ECX[1].
 *
 * Vanderpool's MONITOR never arms an address range (stores into it are
 * not watched), so MWAIT resumes at once: "If the preceding MONITOR
 * instruction did not successfully arm an address range ... the processor
 * will not enter the implementation-dependent-optimized state" (SDM Vol
 * 2B, MWAIT). Software re-checks its condition after MWAIT anyway.
 *
 * MONITOR is not advertised (features.def impl 0) although these rules are
 * complete: an OS that finds MONITOR idles in MWAIT rather than HLT, and
 * an MWAIT that never waits would spin where HLT lets virtual time skip
 * to the next timer. Advertising it also needs CPUID leaf 05H in the
 * models (monitor-line sizes; no interrupt-break extension, so ECX[0] = 1
 * stays #GP) and IA32_MISC_ENABLE[18] ("ENABLE MONITOR FSM", SDM Vol 4)
 * reading 1 on Intel parts. */
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

int op_monitor(vp_cpu *c, const vp_insn *i)
{
    int r = monitor_common(c);
    if (r)
        return r;
    if (rcx_wide(c))
        return vp_raise_err(c, EXC_GP, 0);
    return probe_byte(c, i->seg, c->gpr[R_AX] & size_mask(i->asize),
                      SEG_READ);
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
    return VP_OK;
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
