/* Debugger support in the library: execution breakpoints, watchpoints and
 * single-step for every CPU of a machine, plus side-effect-free views of
 * guest memory and paging for the monitor and the gdbstub.
 *
 * Breakpoints survive the decoded-instruction cache: nothing is patched in
 * guest memory. While any breakpoint, watchpoint or step is active, each
 * CPU runs its blocks through the per-instruction loop (exec.c), which asks
 * vp_debug_before_insn before every instruction; otherwise the cost is one
 * predictable branch per block. Watchpoints keep their pages out of the
 * software TLB so that every data access to them takes the slow path,
 * where vp_debug_access checks it.
 *
 * A hit stops the machine with VP_STOP_DEBUG: before the instruction for a
 * breakpoint, after it for a watchpoint. vp_debug_last_hit says what hit.
 * The machine can be run again; a breakpoint at the instruction where a
 * CPU resumes does not hit again (vp_debug_resume), as in gdb. */
#ifndef VP_DEBUG_DEBUG_H
#define VP_DEBUG_DEBUG_H

#include "emu/machine.h"

#define VP_DBG_MAX_POINTS 64

/* Watchpoint access kinds (a bit mask). */
enum { VP_WATCH_READ = 1, VP_WATCH_WRITE = 2, VP_WATCH_ACCESS = 3 };

/* Who set a point: each frontend removes only its own. */
enum { VP_DBG_OWNER_MONITOR, VP_DBG_OWNER_GDB };

typedef struct vp_dbg_point {
    int id;             /* > 0, assigned by vp_debug_add */
    bool watch;         /* false: execution breakpoint */
    bool phys;          /* addr is guest-physical; else linear */
    unsigned access;    /* watchpoints: VP_WATCH_* */
    uint64_t addr;
    uint64_t len;       /* watchpoints: bytes (1 to 2^32); breakpoints: 1 */
    int owner;          /* VP_DBG_OWNER_* */
    uint64_t hits;
} vp_dbg_point;

typedef enum vp_hit_kind {
    VP_HIT_NONE,
    VP_HIT_BREAK,       /* stopped before the instruction at lin/gpa */
    VP_HIT_WATCH,       /* stopped after the instruction that accessed */
    VP_HIT_STEP,        /* a step ended early (an event was delivered) */
} vp_hit_kind;

typedef struct vp_dbg_hit {
    vp_hit_kind kind;
    int id;             /* the point that hit (0 for a step) */
    int cpu;
    uint64_t rip;       /* RIP of the instruction that hit */
    uint64_t lin, gpa;  /* address executed or accessed */
    unsigned size;      /* watch: access size in bytes */
    unsigned access;    /* watch: VP_WATCH_READ or VP_WATCH_WRITE */
    uint64_t value;     /* watch: the value read or written */
} vp_dbg_hit;

/* Adds a point (p->id, p->hits ignored). Returns its id, or -1 with the
 * reason in err: the table is full, a length is zero or too large, an
 * access kind is missing. Adding a watchpoint flushes every CPU's TLB. */
int vp_debug_add(vp_machine *m, const vp_dbg_point *p, vp_error *err);
/* Removes the point with this id. Returns 0, or -1 if there is none. */
int vp_debug_remove(vp_machine *m, int id);
/* Removes the first point of `owner` with exactly these properties
 * (gdb's z packets). Returns 0, or -1 if there is none. */
int vp_debug_remove_match(vp_machine *m, int owner, bool watch, bool phys,
                          unsigned access, uint64_t addr, uint64_t len);
/* Removes every point of one owner (a debugger detaching). */
void vp_debug_remove_owner(vp_machine *m, int owner);
/* The points, in the order they were added. */
int vp_debug_count(const vp_machine *m);
const vp_dbg_point *vp_debug_point(const vp_machine *m, int index);

/* Frees the debug state (vp_machine_destroy calls it). */
void vp_debug_free(vp_machine *m);

/* What stopped the machine with VP_STOP_DEBUG (kind VP_HIT_NONE if
 * nothing has hit yet). */
const vp_dbg_hit *vp_debug_last_hit(const vp_machine *m);

/* Call before running the machine on a user's "continue" or "step": each
 * CPU then ignores a breakpoint at the instruction it resumes at. (Not
 * needed between the slices of one run.) */
void vp_debug_resume(vp_machine *m);

/* Single-step: vp_debug_step_begin(m), vp_machine_run(m, 1),
 * vp_debug_step_end(m) runs exactly one instruction on each CPU that is
 * not halted; an interrupt or exception delivered before it ends the step
 * at the first instruction of the handler (kind VP_HIT_STEP). */
void vp_debug_step_begin(vp_machine *m);
void vp_debug_step_end(vp_machine *m);

/* ---- hooks for the CPU core (emu/cpu, emu/mmu) ----------------------- */

/* Before each instruction while c->debug_on: `gpa` is the instruction's
 * guest-physical address. Returns true if the machine must stop before
 * it (a stop has been requested). */
bool vp_debug_before_insn(vp_cpu *c, uint64_t gpa);
/* A data access of the slow path while c->debug_watch (acc: ACC_* of
 * emu/cpu/internal.h). Records a hit and requests a stop; the CPU stops
 * after the current instruction. */
void vp_debug_access(vp_cpu *c, uint64_t lin, uint64_t gpa, unsigned size,
                     unsigned acc, uint64_t value);
/* Whether a TLB entry for this linear page / physical page must not be
 * filled because a watchpoint covers it. */
bool vp_debug_page_watched(const vp_cpu *c, uint64_t lin, uint64_t gpa);

/* ---- inspection without side effects ---------------------------------- */

/* Linear -> guest-physical through the CPU's current paging, ignoring
 * access rights, without touching the TLB or accessed/dirty bits.
 * Returns 0, or -1 if the address is not mapped. */
int vp_debug_translate(vp_cpu *c, uint64_t lin, uint64_t *gpa);
/* Guest memory as a debugger sees it: RAM and ROM; MMIO and unassigned
 * bytes read as 0xff and are not touched (device reads have side
 * effects). Return the number of bytes that came from RAM or ROM.
 * Writes go to RAM only (ROM and MMIO are skipped) and keep the decoded
 * instruction cache coherent; they return the bytes written. */
size_t vp_debug_read_phys(vp_machine *m, uint64_t gpa, void *buf, size_t len);
size_t vp_debug_write_phys(vp_machine *m, uint64_t gpa, const void *buf,
                           size_t len);
/* Linear versions: bytes up to the first unmapped page or non-RAM byte
 * (the rest of buf is 0xff). */
size_t vp_debug_read_lin(vp_cpu *c, uint64_t lin, void *buf, size_t len);
size_t vp_debug_write_lin(vp_cpu *c, uint64_t lin, const void *buf,
                          size_t len);

/* ---- paging views (walk.c) ------------------------------------------- */

typedef enum vp_paging_mode {
    VP_PAGING_NONE,     /* CR0.PG = 0: linear = physical */
    VP_PAGING_32,       /* 32-bit paging */
    VP_PAGING_PAE,
    VP_PAGING_4LEVEL,
    VP_PAGING_5LEVEL,
} vp_paging_mode;

vp_paging_mode vp_debug_paging_mode(const vp_cpu *c);
const char *vp_debug_paging_mode_name(vp_paging_mode mode);

/* Permissions of a translation, accumulated over the levels as the SDM's
 * "Access Rights" section combines them. */
enum {
    VP_PERM_W = 1,      /* every level has R/W = 1 */
    VP_PERM_U = 2,      /* every level has U/S = 1 */
    VP_PERM_X = 4,      /* no level has XD = 1 (with EFER.NXE) */
    VP_PERM_G = 8,      /* the leaf is global (with CR4.PGE) */
};

typedef struct vp_walk_level {
    const char *name;   /* "PML5E", "PML4E", "PDPTE", "PDE", "PTE" */
    int level;          /* 5..1 */
    uint64_t entry_addr;/* guest-physical address of the entry */
    uint64_t entry;
    unsigned size;      /* 4 or 8 bytes */
    uint64_t index;     /* index in its table */
    bool present;
    bool leaf;          /* maps a page (PS=1 above level 1, or a PTE) */
    bool rsvd;          /* a reserved bit is set */
    bool readable;      /* the entry is in RAM (else: not readable) */
    unsigned perm;      /* VP_PERM_* granted by this entry alone */
    unsigned perm_acc;  /* accumulated down to this level */
} vp_walk_level;

typedef struct vp_walk_trace {
    vp_paging_mode mode;
    uint64_t lin;
    int nlevels;
    vp_walk_level lv[5];
    bool ok;            /* a page is mapped */
    uint64_t gpa;       /* when ok */
    uint64_t page_size;
    unsigned perm;      /* accumulated VP_PERM_* when ok */
    const char *why;    /* when !ok: "not present", "reserved bit set", ... */
} vp_walk_trace;

/* Every level of the walk for one linear address, with the entry values
 * and the permissions each level grants. Reads RAM only; no side effects.
 * Returns 0 when a page is mapped, -1 otherwise (t->why says why). */
int vp_debug_walk(vp_cpu *c, uint64_t lin, vp_walk_trace *t);

/* The mapped pages of the current address space, in linear-address order,
 * one call per leaf entry (a 4-KiB, 2-MiB, 4-MiB or 1-GiB page). With
 * paging off, one call for [0, 4 GiB) (or the physical address width in
 * long mode) identity-mapped. `fn` returns nonzero to stop early.
 * A guest's tables can describe far more than can be listed (tables that
 * point at themselves at every level), so the walk reads at most
 * VP_DBG_MAX_ENTRIES entries. Returns the number of leaves reported, and
 * sets *complete (if non-NULL) to whether every entry was looked at. */
#define VP_DBG_MAX_ENTRIES (1ull << 24)
typedef int (*vp_mapping_fn)(void *opaque, uint64_t lin, uint64_t gpa,
                             uint64_t size, unsigned perm);
uint64_t vp_debug_mappings(vp_cpu *c, vp_mapping_fn fn, void *opaque,
                           bool *complete);

#endif
