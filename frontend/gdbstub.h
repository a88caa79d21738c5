/* The gdbstub: GDB's remote serial protocol over TCP (GDB manual,
 * "Remote Protocol"), and the register table it shares with the monitor.
 *
 * Registers are one table (gdbstub_regs.c): name, size, gdb type, group,
 * target-description feature, and how to read and write it. The target
 * description gdb fetches with qXfer:features:read is generated from it. */
#ifndef VP_FRONTEND_GDBSTUB_H
#define VP_FRONTEND_GDBSTUB_H

#include <poll.h>
#include <stddef.h>

#include "emu/machine.h"

/* ---- registers (gdbstub_regs.c) -------------------------------------- */

typedef struct vp_gdb_reg {
    const char *name;
    unsigned bits;          /* 32, 64 or 80 */
    const char *type;       /* gdb type or a flags type of the description */
    const char *group;      /* NULL: gdb's default for the type */
    int feature;            /* index into the features of the description */
    int id;                 /* what it is (gdbstub_regs.c) */
} vp_gdb_reg;

extern const vp_gdb_reg vp_gdb_regs[];
extern const int vp_gdb_nregs;

/* Index of a register by gdb name (or a monitor alias: pc, sp, flags,
 * rflags, eip, esp, ...; *mask32 is then set for the 32-bit names), or -1. */
int vp_gdb_reg_find(const char *name, bool *mask32);
/* Value of register i (80-bit x87 registers read as 0). */
uint64_t vp_gdb_reg_get(vp_cpu *c, int i);
/* Writes register i with the checks a MOV to it would make (control
 * registers, EFER) or directly (GPRs, RIP, bases). Returns 0, or -1 if
 * the value is refused (the register is unchanged). */
int vp_gdb_reg_set(vp_cpu *c, int i, uint64_t v);

/* The set bits of a value of a flags type of the description ("i386_eflags",
 * "vp_cr0", "vp_cr4", "vp_efer") by name, e.g. "PG ET PE" (highest first);
 * multi-bit fields as NAME=value. */
void vp_gdb_flags_text(const char *type, uint64_t v, char *buf, size_t len);

/* The target description (XML), generated once; `annex` is the file name
 * gdb asks for ("target.xml"). NULL if there is no such annex. */
const char *vp_gdb_target_xml(const char *annex);

/* ---- the stub (gdbstub.c) -------------------------------------------- */

typedef struct vp_session vp_session;
typedef struct vp_gdbstub vp_gdbstub;

/* Listens on spec ("tcp::PORT", "tcp:HOST:PORT", ":PORT"; an empty host is
 * 127.0.0.1; port 0 picks a free one). Returns NULL with a problem. */
vp_gdbstub *vp_gdb_open(vp_session *s, const char *spec, char *msg,
                        size_t len);
void vp_gdb_close(vp_gdbstub *g);
/* "HOST:PORT" the stub listens on. */
const char *vp_gdb_address(const vp_gdbstub *g);

/* The descriptors to poll (listener, client); returns how many. */
int vp_gdb_pollfds(vp_gdbstub *g, struct pollfd *fds, int max);
/* Handles whatever poll reported on those descriptors. */
void vp_gdb_service(vp_gdbstub *g, const struct pollfd *fds, int n);
bool vp_gdb_connected(const vp_gdbstub *g);

/* The machine stopped (breakpoint, watchpoint, step, interrupt): sends the
 * stop reply if gdb is waiting for one. `sigint` for an interrupt. */
void vp_gdb_notify_stop(vp_gdbstub *g, bool sigint);
/* The machine stopped for good: "exited with status". */
void vp_gdb_notify_exit(vp_gdbstub *g, int status);

#endif
