/* Debug-register breakpoints (debugreg.c): the narrow hooks the exec loop,
 * the TLB, port I/O and MOV DR use. SDM Vol 3B, "Debug Registers" and
 * "Debug Exceptions".
 *
 * Cost model: while DR7 enables no breakpoint, c->dr_active is 0 and the
 * hooks below are never called (one predictable branch per block in the
 * exec loop, one in the memory slow path). While one is enabled the exec
 * loop runs one instruction per iteration, checks instruction breakpoints
 * before it and delivers the data/I-O breakpoint traps after it; pages
 * holding an enabled data breakpoint never enter the data TLB, so every
 * access to them reaches the slow path, which reports hits here. */
#ifndef VP_CPU_DEBUGREG_H
#define VP_CPU_DEBUGREG_H

#include "emu/cpu/internal.h"

/* DR6 and DR7 bits (SDM Vol 3B, "Debug Status Register (DR6)", "Debug
 * Control Register (DR7)"). */
#define DR6_B(n) VP_BIT(n)
#define DR6_BD VP_BIT(13)
#define DR6_BS VP_BIT(14)
#define DR6_BT VP_BIT(15)
#define DR6_FIXED1 0xffff0ff0ull   /* reads as 1 (bit 16: no RTM) */
#define DR7_GD VP_BIT(13)
#define DR7_FIXED1 VP_BIT(10)

/* Recomputes c->dr_active/dr_exec/dr_data/dr_io from DR7 and CR4.DE and
 * flushes the TLB when data breakpoints were or are enabled (it may hold
 * pages that now hold one).
 * Call after any change of DR0-DR3, DR7 or CR4.DE, and after reset. */
void vp_dr_update(vp_cpu *c);

/* Writes DRn (n = 0-3, 6, 7; aliases already resolved) with the fixed
 * bits of DR6/DR7 applied. Returns VP_OK or VP_EXC (#GP(0) for bits
 * 63:32 of DR6/DR7). */
int vp_dr_write(vp_cpu *c, int n, uint64_t val) VP_MUST_CHECK;

/* Before an instruction at c->rip (only when c->dr_active): forgets
 * breakpoint hits of an instruction that faulted and, unless RFLAGS.RF,
 * checks the instruction breakpoints; on a hit delivers the #DB fault and
 * returns true. */
bool vp_dr_insn_breakpoint(vp_cpu *c);

/* True when translations of the page holding `lin` must not enter the TLB
 * for this access kind (TLB_READ/TLB_WRITE): an enabled data breakpoint
 * lies in it. Only called when c->dr_data. */
bool vp_dr_page_watched(const vp_cpu *c, uint64_t lin, unsigned kind);

/* A data access of `size` bytes at `lin` through the slow path (only when
 * c->dr_data): records the data breakpoints it hits in c->dr_pending. */
void vp_dr_data_access(vp_cpu *c, uint64_t lin, unsigned size, unsigned acc);

/* An I/O access (only when c->dr_io): records the I/O breakpoints hit. */
void vp_dr_io_access(vp_cpu *c, uint16_t port, unsigned size);

/* Delivers #DB with `bits` (B0-B3, BS, ...) reported in DR6: B0-B3 are
 * replaced, BD/BS/BT accumulate. Fault or trap is the caller's choice of
 * c->rip (the instruction, or the next one). Clears DR7.GD. */
void vp_dr_raise_db(vp_cpu *c, uint64_t bits);

#endif
