/* Hardware breakpoints of the debug registers: DR0-DR3 addresses, DR7
 * enables, kinds and lengths, DR6 status. SDM Vol 3B, "Debug Registers",
 * "Debug Exceptions" ("Instruction-Breakpoint Exception Condition",
 * "Data Memory and I/O Breakpoint Exception Conditions"), "Breakpoint
 * Field Recognition"; Vol 3A, "EFLAGS.RF". The hooks and their cost are
 * described in debugreg.h. */
#include "emu/cpu/debugreg.h"
#include "emu/cpu/insn.h"

/* DR7 fields for breakpoint n (SDM Vol 3B, "Debug Control Register"). */
static unsigned dr7_rw(uint64_t dr7, int n)
{
    return (unsigned)(dr7 >> (16 + 4 * n)) & 3;
}

/* LENn: 00 one byte, 01 two, 11 four, 10 eight (processors with IA-32e
 * mode support, in every mode). */
static unsigned dr7_len(uint64_t dr7, int n)
{
    static const unsigned len[4] = {1, 2, 8, 4};
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RDWR = 3 };

void vp_dr_update(vp_cpu *c)
{
    uint64_t dr7 = c->dr[7];
    uint8_t exec = 0, data = 0, io = 0;
    for (int n = 0; n < 4; n++) {
        if (!((dr7 >> (2 * n)) & 3))      /* neither Ln nor Gn */
            continue;
        switch (dr7_rw(dr7, n)) {
        case RW_EXEC: exec |= (uint8_t)(1u << n); break;
        case RW_WRITE:
        case RW_RDWR: data |= (uint8_t)(1u << n); break;
        default:
            /* R/W = 10: I/O breakpoint with CR4.DE = 1; undefined (here:
             * no breakpoint) with CR4.DE = 0. */
            if (c->cr4 & CR4_DE)
                io |= (uint8_t)(1u << n);
            break;
        }
    }
    bool flush = c->dr_data || data;
    c->dr_exec = exec;
    c->dr_data = data;
    c->dr_io = io;
    c->dr_active = exec | data | io;
    c->dr_pending = 0;
    /* Pages that now hold a data breakpoint may be in the TLB (and pages
     * kept out of it for an old one may enter it again). */
    if (flush)
        vp_tlb_flush(c, true);
}

int vp_dr_write(vp_cpu *c, int n, uint64_t v)
{
    if ((n == 6 || n == 7) && (v >> 32))
        return vp_raise_err(c, EXC_GP, 0);
    switch (n) {
    case 6:
        /* B0-B3, BD, BS, BT are writable; bits 4-11 and 16-31 read as 1
         * (bit 16 is RTM, not advertised), 12 as 0. */
        c->dr[6] = (v & 0xe00full) | DR6_FIXED1;
        return VP_OK;
    case 7:
        /* L0-G3, LE, GE, GD, R/W and LEN writable; bit 10 reads as 1,
         * 11 (RTM), 12, 14 and 15 as 0. */
        c->dr[7] = (v & 0xffff23ffull) | DR7_FIXED1;
        break;
    default:
        c->dr[n] = v;
        break;
    }
    vp_dr_update(c);
    return VP_OK;
}

/* Linear addresses are 32 bits outside IA-32e mode, and so is the part of
 * DR0-DR3 the comparison uses there. */
static uint64_t lin_mask(const vp_cpu *c)
{
    return c->long_mode ? ~0ull : 0xffffffffull;
}

void vp_dr_raise_db(vp_cpu *c, uint64_t bits)
{
    /* B0-B3 report this exception's breakpoints only; BD, BS and BT are
     * never cleared by the processor. The handler runs with GD clear so
     * that it can use the debug registers. */
    c->dr[6] = (c->dr[6] & ~0xfull) | bits | DR6_FIXED1;
    c->dr[7] &= ~DR7_GD;
    c->dr_pending = 0;
    c->halted = false;
    c->insn_rip = c->rip;
    vp_flags(c);
    c->stats.exceptions[EXC_DB]++;
    VP_TRACE(&c->m->trace, EXC, "#DB dr6 %#llx at %#llx",
             (unsigned long long)c->dr[6], (unsigned long long)c->rip);
    vp_deliver_event(c, EXC_DB, EV_HWEXC, false, 0, c->rip);
}

bool vp_dr_insn_breakpoint(vp_cpu *c)
{
    /* Hits recorded by an instruction that then faulted are void: it will
     * run again. A MOV SS/POP SS shadow defers them past one instruction. */
    if (c->shadow_until <= c->icount)
        c->dr_pending = 0;
    if (!c->dr_exec || (c->flags & FL_RF))
        return false;
    /* The linear address of the instruction's first byte (prefixes
     * included), compared with the whole of DRn: LEN must be 00. */
    uint64_t m = lin_mask(c);
    uint64_t lin = c->code_size == 8 ? c->rip
                                     : (c->seg[S_CS].base + c->rip) & m;
    uint64_t hit = 0;
    for (int n = 0; n < 4; n++)
        if (((c->dr_exec >> n) & 1) && (c->dr[n] & m) == lin)
            hit |= DR6_B(n);
    if (!hit)
        return false;
    /* A fault: RIP stays on the instruction. RF is clear in the pushed
     * image (instruction breakpoints are the one fault that does not set
     * it); the handler sets it to resume. */
    vp_dr_raise_db(c, hit);
    return true;
}

/* Breakpoint n's address range [lo, lo + len): the low bits below the
 * length are ignored (SDM Vol 3B, "Breakpoint Field Recognition"). */
static uint64_t bp_base(const vp_cpu *c, int n, unsigned len)
{
    return c->dr[n] & ~(uint64_t)(len - 1) & lin_mask(c);
}

bool vp_dr_page_watched(const vp_cpu *c, uint64_t lin, unsigned kind)
{
    if (kind != TLB_READ && kind != TLB_WRITE)
        return false;
    uint64_t dr7 = c->dr[7], page = lin >> 12;
    for (int n = 0; n < 4; n++) {
        if (!((c->dr_data >> n) & 1))
            continue;
        if (kind == TLB_READ && dr7_rw(dr7, n) != RW_RDWR)
            continue;
        /* An aligned range of at most 8 bytes lies in one page. */
        if ((bp_base(c, n, dr7_len(dr7, n)) >> 12) == page)
            return true;
    }
    return false;
}

void vp_dr_data_access(vp_cpu *c, uint64_t lin, unsigned size, unsigned acc)
{
    unsigned kind = acc & ACC_KIND;
    /* Data breakpoints watch the instruction's data reads and writes:
     * not fetches, probes, nor the implicit supervisor accesses to
     * descriptor tables and the TSS (a choice Bochs makes too). */
    if (kind == ACC_EXEC || (acc & (ACC_NOFAULT | ACC_SUPER)))
        return;
    uint64_t dr7 = c->dr[7];
    lin &= lin_mask(c);
    for (int n = 0; n < 4; n++) {
        if (!((c->dr_data >> n) & 1))
            continue;
        if (kind == ACC_READ && dr7_rw(dr7, n) != RW_RDWR)
            continue;
        unsigned len = dr7_len(dr7, n);
        uint64_t lo = bp_base(c, n, len);
        /* Any byte of the access inside the range. */
        if (lin < lo + len && lo < lin + size)
            c->dr_pending |= (uint8_t)(1u << n);
    }
}

void vp_dr_io_access(vp_cpu *c, uint16_t port, unsigned size)
{
    uint64_t dr7 = c->dr[7];
    for (int n = 0; n < 4; n++) {
        if (!((c->dr_io >> n) & 1))
            continue;
        unsigned len = dr7_len(dr7, n);
        uint64_t lo = c->dr[n] & 0xffff & ~(uint64_t)(len - 1);
        if (port < lo + len && lo < (uint64_t)port + size)
            c->dr_pending |= (uint8_t)(1u << n);
    }
}
