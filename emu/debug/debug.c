/* Breakpoints, watchpoints and single-step (the contract is in debug.h).
 *
 * The points of a machine are one small array; every CPU checks them only
 * while c->debug_on, which this file keeps equal to "some point exists or
 * a step is armed". */
#include "emu/debug/debug.h"

#include <stdio.h>
#include <stdlib.h>

#include "emu/cpu/internal.h"

struct vp_debug {
    vp_dbg_point pt[VP_DBG_MAX_POINTS];
    int npt;
    int nbreak, nwatch;
    int next_id;
    vp_dbg_hit hit;
    /* A breakpoint at the instruction a CPU resumes at does not hit: it is
     * recognised by the CPU's instruction count and linear RIP. */
    struct {
        bool armed;
        uint64_t icount, lin;
    } skip[VP_MAX_CPUS];
    bool stepping;
    struct {
        uint64_t icount, rip;
    } step[VP_MAX_CPUS];
};

static vp_debug *dbg_get(vp_machine *m)
{
    if (!m->debug) {
        m->debug = calloc(1, sizeof(*m->debug));
        if (m->debug)
            m->debug->next_id = 1;
    }
    return m->debug;
}

void vp_debug_free(vp_machine *m)
{
    free(m->debug);
    m->debug = NULL;
}

/* Recomputes the per-CPU flags the hot paths test. */
static void sync_cpus(vp_machine *m)
{
    vp_debug *d = m->debug;
    bool on = d && (d->npt || d->stepping);
    bool watch = d && d->nwatch;
    for (int i = 0; i < m->ncpus; i++) {
        m->cpus[i]->debug_on = on;
        m->cpus[i]->debug_watch = watch;
    }
}

static void recount(vp_debug *d)
{
    d->nbreak = d->nwatch = 0;
    for (int i = 0; i < d->npt; i++) {
        if (d->pt[i].watch)
            d->nwatch++;
        else
            d->nbreak++;
    }
}

int vp_debug_add(vp_machine *m, const vp_dbg_point *p, vp_error *err)
{
    vp_debug *d = dbg_get(m);
    if (!d)
        return vp_fail(err, "out of memory");
    if (d->npt >= VP_DBG_MAX_POINTS)
        return vp_fail(err, "too many breakpoints and watchpoints (at most "
                       "%d)", VP_DBG_MAX_POINTS);
    vp_dbg_point np = *p;
    if (np.watch) {
        if (np.len == 0 || np.len > (1ull << 32))
            return vp_fail(err, "a watchpoint covers 1 byte to 4 GiB");
        if (np.addr + np.len - 1 < np.addr)
            return vp_fail(err, "the watched range wraps around");
        if (!(np.access & VP_WATCH_ACCESS))
            return vp_fail(err, "a watchpoint needs r, w or rw");
        np.access &= VP_WATCH_ACCESS;
    } else {
        np.len = 1;
        np.access = 0;
    }
    np.id = d->next_id++;
    np.hits = 0;
    d->pt[d->npt++] = np;
    recount(d);
    sync_cpus(m);
    if (np.watch) {
        /* Pages under the new watchpoint may be in the TLBs already. */
        for (int i = 0; i < m->ncpus; i++)
            vp_tlb_flush(m->cpus[i], true);
    }
    return np.id;
}

static void remove_at(vp_machine *m, int i)
{
    vp_debug *d = m->debug;
    for (; i + 1 < d->npt; i++)
        d->pt[i] = d->pt[i + 1];
    d->npt--;
    recount(d);
    sync_cpus(m);
}

int vp_debug_remove(vp_machine *m, int id)
{
    vp_debug *d = m->debug;
    for (int i = 0; d && i < d->npt; i++) {
        if (d->pt[i].id == id) {
            remove_at(m, i);
            return 0;
        }
    }
    return -1;
}

int vp_debug_remove_match(vp_machine *m, int owner, bool watch, bool phys,
                          unsigned access, uint64_t addr, uint64_t len)
{
    vp_debug *d = m->debug;
    for (int i = 0; d && i < d->npt; i++) {
        const vp_dbg_point *p = &d->pt[i];
        if (p->owner == owner && p->watch == watch && p->phys == phys &&
            p->addr == addr &&
            (!watch || (p->len == len && p->access == access))) {
            remove_at(m, i);
            return 0;
        }
    }
    return -1;
}

void vp_debug_remove_owner(vp_machine *m, int owner)
{
    vp_debug *d = m->debug;
    for (int i = 0; d && i < d->npt;) {
        if (d->pt[i].owner == owner)
            remove_at(m, i);
        else
            i++;
    }
}

int vp_debug_count(const vp_machine *m)
{
    return m->debug ? m->debug->npt : 0;
}

const vp_dbg_point *vp_debug_point(const vp_machine *m, int index)
{
    if (!m->debug || index < 0 || index >= m->debug->npt)
        return NULL;
    return &m->debug->pt[index];
}

const vp_dbg_hit *vp_debug_last_hit(const vp_machine *m)
{
    static const vp_dbg_hit none = {.kind = VP_HIT_NONE};
    return m->debug ? &m->debug->hit : &none;
}

static uint64_t insn_lin(const vp_cpu *c)
{
    if (c->code_size == 8)
        return c->rip;
    return (c->seg[S_CS].base + c->rip) & 0xffffffffull;
}

void vp_debug_resume(vp_machine *m)
{
    vp_debug *d = dbg_get(m);
    if (!d)
        return;
    for (int i = 0; i < m->ncpus; i++) {
        d->skip[i].armed = true;
        d->skip[i].icount = m->cpus[i]->icount;
        d->skip[i].lin = insn_lin(m->cpus[i]);
    }
}

void vp_debug_step_begin(vp_machine *m)
{
    vp_debug *d = dbg_get(m);
    if (!d)
        return;
    for (int i = 0; i < m->ncpus; i++) {
        d->step[i].icount = m->cpus[i]->icount;
        d->step[i].rip = m->cpus[i]->rip;
    }
    d->stepping = true;
    sync_cpus(m);
}

void vp_debug_step_end(vp_machine *m)
{
    if (m->debug)
        m->debug->stepping = false;
    sync_cpus(m);
}

static void stop(vp_cpu *c, const vp_dbg_hit *h, const char *what)
{
    vp_debug *d = c->m->debug;
    char msg[200];
    d->hit = *h;
    if (h->kind == VP_HIT_WATCH)
        snprintf(msg, sizeof(msg), "%s %d: %s of %u bytes at %#llx (physical "
                 "%#llx) by RIP %#llx on CPU %d, value %#llx", what, h->id,
                 h->access == VP_WATCH_WRITE ? "write" : "read", h->size,
                 (unsigned long long)h->lin, (unsigned long long)h->gpa,
                 (unsigned long long)h->rip, h->cpu,
                 (unsigned long long)h->value);
    else if (h->kind == VP_HIT_BREAK)
        snprintf(msg, sizeof(msg), "%s %d at RIP %#llx (linear %#llx, "
                 "physical %#llx) on CPU %d", what, h->id,
                 (unsigned long long)h->rip, (unsigned long long)h->lin,
                 (unsigned long long)h->gpa, h->cpu);
    else
        snprintf(msg, sizeof(msg), "%s at RIP %#llx on CPU %d", what,
                 (unsigned long long)h->rip, h->cpu);
    vp_machine_request_stop(c->m, VP_STOP_DEBUG, 0, msg);
}

bool vp_debug_before_insn(vp_cpu *c, uint64_t gpa)
{
    vp_debug *d = c->m->debug;
    if (!d)
        return false;
    int id = c->id;
    if (d->stepping &&
        (c->icount != d->step[id].icount || c->rip != d->step[id].rip)) {
        /* The stepped instruction retired, or an event moved RIP before
         * it ran: the step ends here. */
        vp_dbg_hit h = {.kind = VP_HIT_STEP, .cpu = id, .rip = c->rip,
                        .lin = insn_lin(c), .gpa = gpa};
        stop(c, &h, "step ended");
        return true;
    }
    if (!d->nbreak)
        return false;
    uint64_t lin = insn_lin(c);
    for (int i = 0; i < d->npt; i++) {
        vp_dbg_point *p = &d->pt[i];
        if (p->watch || p->addr != (p->phys ? gpa : lin))
            continue;
        if (d->skip[id].armed && d->skip[id].icount == c->icount &&
            d->skip[id].lin == lin) {
            d->skip[id].armed = false;
            return false;
        }
        p->hits++;
        d->skip[id].armed = true;
        d->skip[id].icount = c->icount;
        d->skip[id].lin = lin;
        vp_dbg_hit h = {.kind = VP_HIT_BREAK, .id = p->id, .cpu = id,
                        .rip = c->rip, .lin = lin, .gpa = gpa};
        stop(c, &h, "breakpoint");
        return true;
    }
    return false;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a <= b + (blen - 1) && b <= a + (alen - 1);
}

void vp_debug_access(vp_cpu *c, uint64_t lin, uint64_t gpa, unsigned size,
                     unsigned acc, uint64_t value)
{
    vp_debug *d = c->m->debug;
    unsigned kind = acc & ACC_KIND;
    if (!d || kind == ACC_EXEC || (acc & ACC_NOFAULT))
        return;
    unsigned bit = kind == ACC_WRITE ? VP_WATCH_WRITE : VP_WATCH_READ;
    for (int i = 0; i < d->npt; i++) {
        vp_dbg_point *p = &d->pt[i];
        if (!p->watch || !(p->access & bit) ||
            !overlaps(p->addr, p->len, p->phys ? gpa : lin, size))
            continue;
        p->hits++;
        /* The first hit of an instruction is the one reported. */
        if (c->m->stop == VP_STOP_NONE) {
            vp_dbg_hit h = {.kind = VP_HIT_WATCH, .id = p->id, .cpu = c->id,
                            .rip = c->insn_rip, .lin = lin, .gpa = gpa,
                            .size = size, .access = bit, .value = value};
            stop(c, &h, "watchpoint");
        }
        return;
    }
}

bool vp_debug_page_watched(const vp_cpu *c, uint64_t lin, uint64_t gpa)
{
    const vp_debug *d = c->m->debug;
    if (!d)
        return false;
    for (int i = 0; i < d->npt; i++) {
        const vp_dbg_point *p = &d->pt[i];
        if (p->watch && overlaps(p->addr, p->len,
                                 (p->phys ? gpa : lin) & VP_PAGE_MASK,
                                 VP_PAGE_SIZE))
            return true;
    }
    return false;
}
