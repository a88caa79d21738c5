/* vCPU lifecycle (placeholder core: the interpreter lands next). */
#include "emu/cpu/cpu.h"

#include <stdlib.h>
#include <string.h>

vp_cpu *vp_cpu_create(vp_machine *m, int id, const char *model, vp_error *err)
{
    (void)model;
    vp_cpu *c = calloc(1, sizeof(*c));
    if (!c) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    c->m = m;
    c->id = id;
    vp_cpu_reset(c);
    return c;
}

void vp_cpu_destroy(vp_cpu *c)
{
    free(c);
}

void vp_cpu_reset(vp_cpu *c)
{
    c->flags = FL_FIXED1;
    c->halted = true;
    c->exc.vector = -1;
    c->delivering = -1;
}

uint64_t vp_cpu_exec(vp_cpu *c, uint64_t budget)
{
    (void)budget;
    return 0;
}

uint64_t vp_cpu_tsc(const vp_cpu *c)
{
    return vp_clock_now(&c->m->clock) + c->tsc_offset;
}

void vp_cpu_setup_multiboot(vp_cpu *c, uint32_t eax, uint32_t ebx,
                            uint32_t entry)
{
    c->gpr[R_AX] = eax;
    c->gpr[R_BX] = ebx;
    c->rip = entry;
    c->halted = false;
}

int vp_cpu_setup_long_mode(vp_cpu *c, uint64_t entry, uint64_t pt_base,
                           uint64_t map_bytes, uint64_t rsp)
{
    (void)pt_base;
    (void)map_bytes;
    c->rip = entry;
    c->gpr[R_SP] = rsp;
    c->halted = false;
    return 0;
}
