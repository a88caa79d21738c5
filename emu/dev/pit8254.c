/* Intel 8254 programmable interval timer at 0x40-0x43, clocked at
 * 1.193182 MHz from machine time, and the AT's system control port B at
 * 0x61 (channel 2 gate, speaker enable, channel 2 OUT, refresh toggle).
 * Channel 0's OUT is ISA IRQ0; channel 1's gate is tied high and its OUT
 * is not connected (it used to time DRAM refresh); channel 2's gate is
 * port 61h bit 0 and its OUT reads back in port 61h bit 5.
 *
 * References: Intel "82C54 CHMOS Programmable Interval Timer" datasheet,
 * sections "Control Word Register", "Write Operations", "Read Operations"
 * (Counter Latch Command, Read-Back Command, Status Byte, Null Count),
 * "Mode Definitions" (Modes 0-5), "Operations Common to All Modes"
 * (gate, minimum and maximum initial counts); Intel 82371AB PIIX4
 * datasheet, "NMI Status and Control Register" (port 61h).
 *
 * Time is kept in absolute clock ticks: tick j is the j-th rising CLK edge
 * since machine time 0. A counting element loaded at tick L holds the
 * initial count N at L and is decremented on ticks L+1, L+2, ...; d = j - L
 * is the number of decrements. A count written at tick k is loaded on the
 * next CLK pulse, k + 1 ("Mode 0 ... for an initial count of N, OUT does
 * not go high until N + 1 CLK pulses after the initial count is written").
 * Counter value and OUT are functions of d, so nothing is stepped per tick;
 * channel 0 arms a timer at its next OUT change only.
 *
 * Documented choices:
 * - power-on: every channel unprogrammed (mode 0, LSB then MSB, binary,
 *   no count: not counting, OUT low); the datasheet says undefined;
 * - counts the datasheet calls illegal (1 in modes 2 and 3) do not
 *   crash: mode 2 with N=1 holds OUT low, mode 3 with N=1 holds OUT high;
 * - BCD counts with digits above 9 are taken digit by digit, modulo 10000;
 * - a new count written while mode 3 counts takes effect at the end of
 *   the current full cycle (the datasheet says half-cycle);
 * - reading the counter before a count is loaded returns the count
 *   register (undefined in the datasheet). */
#include <stdlib.h>

#include "emu/dev/devices.h"

#define PIT_HZ 1193182ull
#define NS_PER_S 1000000000ull
/* The AT requested a DRAM refresh every 15.085 us (channel 1 at count 18);
 * port 61h bit 4 toggles on each ("Refresh Cycle Toggle"). */
#define REFRESH_TICKS 18

typedef struct pit_chan {
    /* Control word. */
    uint8_t mode;          /* 0-5 */
    uint8_t mode_bits;     /* M2-M0 as written (6 and 7 alias 2 and 3) */
    uint8_t rw;            /* 1: LSB, 2: MSB, 3: LSB then MSB */
    bool bcd;
    /* Count register and byte pointers. */
    uint16_t cr;
    uint8_t cr_lsb;
    bool write_msb_next;
    bool read_msb_next;
    bool have_count;       /* a count was written since the control word */
    /* Output latch and status latch. */
    bool count_latched;
    uint16_t latch;
    bool status_latched;
    uint8_t status;
    /* Counting element. */
    bool gate;
    bool running;          /* loaded (or loading) and counting */
    uint32_t n;            /* initial count in use: 1..65536 (10000 BCD) */
    uint64_t load_tick;
    bool paused;           /* GATE low stopped counting at paused_d */
    int64_t paused_d;
    bool pend;             /* modes 2, 3: next count, at pend_tick */
    uint32_t pend_n;
    uint64_t pend_tick;
    uint64_t null_until;   /* status NULL COUNT is 1 before this tick */
} pit_chan;

struct vp_pit {
    vp_machine *m;
    pit_chan ch[3];
    uint8_t portb;         /* port 61h bits 3-0 */
    bool irq_level;        /* channel 0 OUT as last sent to IRQ0 */
    uint64_t irq_tick;     /* tick of channel 0's next OUT change */
    vp_timer irq_timer;
};

static uint64_t pit_now(const vp_pit *p)
{
    return vp_dev_muldiv(vp_clock_now(&p->m->clock), PIT_HZ, NS_PER_S);
}

static uint64_t tick_to_ns(uint64_t tick)
{
    return vp_dev_muldiv_ceil(tick, NS_PER_S, PIT_HZ);
}

static uint32_t chan_modulus(const pit_chan *c)
{
    return c->bcd ? 10000u : 65536u;
}

/* Initial count N for a count register value; 0 is the maximum count. */
static uint32_t chan_decode(const pit_chan *c, uint16_t cr)
{
    uint32_t v = cr;
    if (c->bcd)
        v = vp_from_bcd((uint8_t)(cr >> 8)) * 100u +
            vp_from_bcd((uint8_t)cr);
    v %= chan_modulus(c);
    return v ? v : chan_modulus(c);
}

static uint16_t chan_encode(const pit_chan *c, uint32_t v)
{
    if (!c->bcd)
        return (uint16_t)v;
    return (uint16_t)(vp_bcd(v / 100 % 100) << 8 | vp_bcd(v % 100));
}

/* Applies a count that was waiting for the end of a period. */
static void chan_commit(pit_chan *c, uint64_t j)
{
    if (c->pend && j >= c->pend_tick) {
        c->n = c->pend_n;
        c->load_tick = c->pend_tick;
        c->pend = false;
    }
}

/* Decrements done by tick j; negative before the load. */
static int64_t chan_d(const pit_chan *c, uint64_t j)
{
    if (c->paused)
        return c->paused_d;
    return (int64_t)j - (int64_t)c->load_tick;
}

static bool chan_out(pit_chan *c, uint64_t j)
{
    chan_commit(c, j);
    int64_t d = chan_d(c, j);
    if (!c->running || d < 0)
        return c->mode != 0;
    uint64_t n = c->n, dd = (uint64_t)d;
    switch (c->mode) {
    case 0: /* interrupt on terminal count */
    case 1: /* hardware retriggerable one-shot */
        return dd >= n;
    case 2: /* rate generator: low for one clock when CE reaches 1 */
        return c->paused || dd % n != n - 1;
    case 3: /* square wave: high (N+1)/2 clocks, low N/2 clocks */
        return c->paused || dd % n < (n + 1) / 2;
    default: /* 4, 5: strobes: low for one clock when CE reaches 0 */
        return dd != n;
    }
}

static uint16_t chan_count(pit_chan *c, uint64_t j)
{
    chan_commit(c, j);
    int64_t d = chan_d(c, j);
    if (!c->running || d < 0)
        return c->cr;
    uint64_t n = c->n, dd = (uint64_t)d, mod = chan_modulus(c), v;
    switch (c->mode) {
    case 2:
        v = n - dd % n;
        break;
    case 3: {
        /* Decrements by two; each half starts from N (even N) or N - 1
         * (odd N) ("Mode 3"). */
        uint64_t p = dd % n, half = (n + 1) / 2, q;
        if (n % 2 == 0)
            q = p < n / 2 ? p : p - n / 2;
        else
            q = p < half ? p : p - half;
        v = (n % 2 == 0 ? n : n - 1) - 2 * q;
        break;
    }
    default: /* 0, 1, 4, 5 count down and wrap past zero */
        v = (n + mod - dd % mod) % mod;
        break;
    }
    return chan_encode(c, (uint32_t)(v % mod));
}

/* First tick after j at which OUT may change, or UINT64_MAX. */
static uint64_t chan_next_change(pit_chan *c, uint64_t j)
{
    chan_commit(c, j);
    uint64_t best = c->pend ? c->pend_tick : UINT64_MAX;
    if (!c->running)
        return best;
    int64_t d = chan_d(c, j);
    if (d < 0)
        return c->load_tick < best ? c->load_tick : best;
    uint64_t n = c->n, dd = (uint64_t)d, t = UINT64_MAX;
    switch (c->mode) {
    case 0:
    case 1:
        if (!c->paused && dd < n)
            t = j + (n - dd);
        break;
    case 2:
        if (!c->paused && n > 1) {
            uint64_t p = dd % n;
            t = j + (p < n - 1 ? n - 1 - p : 1);
        }
        break;
    case 3:
        if (!c->paused && n > 1) {
            uint64_t p = dd % n, half = (n + 1) / 2;
            t = j + (p < half ? half - p : n - p);
        }
        break;
    default:
        if (!c->paused && dd < n)
            t = j + (n - dd);
        else if (!c->paused && dd == n)
            t = j + 1;
        break;
    }
    return t < best ? t : best;
}

static bool chan_null_count(const pit_chan *c, uint64_t j)
{
    return j < c->null_until;
}

/* ---- IRQ0 ---- */

static void pit_irq_set(vp_pit *p, bool level)
{
    if (level != p->irq_level) {
        p->irq_level = level;
        vp_machine_set_isa_irq(p->m, 0, level);
    }
}

static void pit_irq_arm(vp_pit *p, uint64_t tick)
{
    p->irq_tick = tick;
    if (tick == UINT64_MAX)
        vp_timer_del(&p->m->clock, &p->irq_timer);
    else
        vp_timer_mod(&p->m->clock, &p->irq_timer, tick_to_ns(tick));
}

/* Channel 0 was reprogrammed: OUT now, and when it changes next. */
static void pit_irq_resched(vp_pit *p, uint64_t j)
{
    pit_irq_set(p, chan_out(&p->ch[0], j));
    pit_irq_arm(p, chan_next_change(&p->ch[0], j));
}

static void pit_irq_timer(void *opaque)
{
    vp_pit *p = opaque;
    pit_chan *c = &p->ch[0];
    uint64_t now = pit_now(p), t = p->irq_tick;
    /* Replay the changes due by now, so that a late timer still shows the
     * interrupt controllers every edge; far behind (a host stall in
     * real-time mode), coalesce into one rising edge. */
    for (int i = 0; i < 4 && t <= now; i++) {
        pit_irq_set(p, chan_out(c, t));
        t = chan_next_change(c, t);
    }
    if (t <= now) {
        bool out = chan_out(c, now);
        if (out && p->irq_level)
            pit_irq_set(p, false);
        pit_irq_resched(p, now);
        return;
    }
    pit_irq_arm(p, t);
}

/* ---- programming ---- */

static void chan_load(pit_chan *c, uint64_t j)
{
    uint32_t n = chan_decode(c, c->cr);
    c->have_count = true;
    switch (c->mode) {
    case 0:
    case 4:
        /* Loaded on the next CLK; GATE low holds it there. */
        c->n = n;
        c->running = true;
        c->load_tick = j + 1;
        c->pend = false;
        c->paused = !c->gate;
        c->paused_d = 0;
        c->null_until = j + 1;
        break;
    case 1:
    case 5:
        /* Used from the next trigger on; the current one-shot goes on. */
        c->null_until = UINT64_MAX;
        break;
    default: { /* 2, 3 */
        int64_t d = chan_d(c, j);
        if (c->running && !c->paused && d >= 0) {
            /* "Writing a new count while counting does not affect the
             * current counting sequence": it is loaded when the counter
             * next reloads. */
            c->pend = true;
            c->pend_n = n;
            c->pend_tick = c->load_tick + ((uint64_t)d / c->n + 1) * c->n;
            c->null_until = c->pend_tick;
        } else if (c->running && !c->paused) {
            c->n = n; /* not loaded yet: the earlier count is replaced */
            c->null_until = c->load_tick;
        } else if (c->gate) {
            c->running = true;
            c->paused = false;
            c->pend = false;
            c->n = n;
            c->load_tick = j + 1;
            c->null_until = j + 1;
        } else {
            c->null_until = UINT64_MAX; /* loaded when GATE rises */
        }
        break;
    }
    }
}

static void chan_set_gate(pit_chan *c, bool gate, uint64_t j)
{
    if (gate == c->gate)
        return;
    chan_commit(c, j);
    c->gate = gate;
    switch (c->mode) {
    case 0:
    case 4:
        /* GATE low disables counting; high enables it again. */
        if (!c->running)
            break;
        if (!gate) {
            int64_t d = chan_d(c, j);
            c->paused_d = d < 0 ? 0 : d;
            c->paused = true;
        } else if (c->paused) {
            c->paused = false;
            c->load_tick = j - (uint64_t)c->paused_d;
        }
        break;
    case 1:
    case 5:
        /* A rising GATE triggers: CE loaded on the next CLK. */
        if (gate && c->have_count) {
            c->n = chan_decode(c, c->cr);
            c->running = true;
            c->load_tick = j + 1;
            c->null_until = j + 1;
        }
        break;
    default: /* 2, 3 */
        if (!gate) {
            /* Counting stops and OUT goes high at once. */
            if (c->running) {
                int64_t d = chan_d(c, j);
                c->paused_d = d < 0 ? 0 : d;
                c->paused = true;
                c->pend = false;
            }
        } else if (c->have_count) {
            /* A rising GATE reloads the counter on the next CLK. */
            c->n = chan_decode(c, c->cr);
            c->running = true;
            c->paused = false;
            c->pend = false;
            c->load_tick = j + 1;
            if (c->null_until > j + 1)
                c->null_until = j + 1;
        }
        break;
    }
}

static void chan_latch_count(pit_chan *c, uint64_t j)
{
    /* A second latch before the count is read is ignored. */
    if (!c->count_latched) {
        c->latch = chan_count(c, j);
        c->count_latched = true;
    }
}

static void chan_latch_status(pit_chan *c, uint64_t j)
{
    if (!c->status_latched) {
        c->status = (uint8_t)((chan_out(c, j) ? 0x80 : 0) |
                              (chan_null_count(c, j) ? 0x40 : 0) |
                              c->rw << 4 | c->mode_bits << 1 |
                              (c->bcd ? 1 : 0));
        c->status_latched = true;
    }
}

static void pit_control(vp_pit *p, uint8_t v, uint64_t j)
{
    int sc = v >> 6;
    if (sc == 3) {
        /* Read-back: D5 = !COUNT, D4 = !STATUS, D3-D1 = counters 2-0. */
        for (int i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & 0x20))
                chan_latch_count(&p->ch[i], j);
            if (!(v & 0x10))
                chan_latch_status(&p->ch[i], j);
        }
        return;
    }
    pit_chan *c = &p->ch[sc];
    int rw = (v >> 4) & 3;
    if (rw == 0) {
        chan_latch_count(c, j);
        return;
    }
    /* A control word resets the counter's control logic; OUT goes to its
     * initial state (low in mode 0, high otherwise) and counting stops
     * until a count is written. */
    c->rw = (uint8_t)rw;
    c->mode_bits = (v >> 1) & 7;
    c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
    c->bcd = v & 1;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
    c->have_count = false;
    c->running = false;
    c->paused = false;
    c->pend = false;
    c->null_until = UINT64_MAX;
    VP_TRACE(&p->m->trace, DEV, "pit: channel %d mode %d rw %d%s", sc,
             c->mode, rw, c->bcd ? " bcd" : "");
    if (sc == 0)
        pit_irq_resched(p, j);
}

static void pit_write_count(vp_pit *p, int i, uint8_t v, uint64_t j)
{
    pit_chan *c = &p->ch[i];
    switch (c->rw) {
    case 1:
        c->cr = v;
        break;
    case 2:
        c->cr = (uint16_t)(v << 8);
        break;
    default:
        if (!c->write_msb_next) {
            c->cr_lsb = v;
            c->write_msb_next = true;
            /* Mode 0: "writing the first byte disables counting". */
            if (c->mode == 0 && c->running && !c->paused) {
                chan_commit(c, j);
                int64_t d = chan_d(c, j);
                c->paused_d = d < 0 ? 0 : d;
                c->paused = true;
                if (i == 0)
                    pit_irq_resched(p, j);
            }
            return;
        }
        c->cr = (uint16_t)(c->cr_lsb | v << 8);
        c->write_msb_next = false;
        break;
    }
    chan_load(c, j);
    if (i == 0)
        pit_irq_resched(p, j);
}

static uint8_t pit_read_count(vp_pit *p, int i, uint64_t j)
{
    pit_chan *c = &p->ch[i];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->count_latched ? c->latch : chan_count(c, j);
    switch (c->rw) {
    case 1:
        c->count_latched = false;
        return (uint8_t)v;
    case 2:
        c->count_latched = false;
        return (uint8_t)(v >> 8);
    default:
        if (!c->read_msb_next) {
            c->read_msb_next = true;
            return (uint8_t)v;
        }
        c->read_msb_next = false;
        c->count_latched = false;
        return (uint8_t)(v >> 8);
    }
}

static uint64_t pit_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_pit *p = opaque;
    (void)size;
    if (off == 3)
        return 0xff; /* control word register: write-only, no drive */
    return pit_read_count(p, (int)off, pit_now(p));
}

static void pit_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    vp_pit *p = opaque;
    (void)size;
    if (off == 3)
        pit_control(p, (uint8_t)v, pit_now(p));
    else
        pit_write_count(p, (int)off, (uint8_t)v, pit_now(p));
}

/* ---- port 61h ---- */

static uint64_t portb_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_pit *p = opaque;
    (void)off;
    (void)size;
    uint64_t j = pit_now(p);
    uint8_t v = p->portb;
    if ((j / REFRESH_TICKS) & 1)
        v |= 0x10;
    if (chan_out(&p->ch[2], j))
        v |= 0x20;
    /* Bits 7 (SERR#) and 6 (IOCHK#) NMI sources: none on this board. */
    return v;
}

static void portb_io_write(void *opaque, uint64_t off, uint64_t v,
                           unsigned size)
{
    vp_pit *p = opaque;
    (void)off;
    (void)size;
    uint8_t old = p->portb;
    p->portb = (uint8_t)v & 0x0f;
    chan_set_gate(&p->ch[2], v & 1, pit_now(p));
    if ((old ^ p->portb) & 2)
        VP_TRACE(&p->m->trace, DEV, "pc speaker %s (no sound output)",
                 (p->portb & 2) ? "on" : "off");
}

static const vp_io_ops pit_ops = {
    .name = "pit",
    .read = pit_io_read,
    .write = pit_io_write,
    .widths = VP_W8,
};

static const vp_io_ops portb_ops = {
    .name = "port61",
    .read = portb_io_read,
    .write = portb_io_write,
    .widths = VP_W8,
};

static void pit_power_on(vp_pit *p)
{
    for (int i = 0; i < 3; i++) {
        pit_chan *c = &p->ch[i];
        *c = (pit_chan){0};
        c->rw = 3;
        c->gate = i != 2;
        c->null_until = UINT64_MAX;
    }
    p->portb = 0;
}

vp_pit *vp_pit_create(vp_machine *m, vp_error *err)
{
    vp_pit *p = calloc(1, sizeof(*p));
    if (!p) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    p->m = m;
    vp_timer_init(&p->irq_timer, pit_irq_timer, p);
    pit_power_on(p);
    if (vp_ioport_register(&m->io, 0x40, 4, &pit_ops, p) < 0 ||
        vp_ioport_register(&m->io, 0x61, 1, &portb_ops, p) < 0) {
        vp_fail(err, "8254: I/O ports already in use");
        free(p);
        return NULL;
    }
    return p;
}

void vp_pit_reset(vp_pit *p)
{
    pit_power_on(p);
    pit_irq_resched(p, pit_now(p));
}

void vp_pit_free(vp_pit *p)
{
    if (!p)
        return;
    vp_timer_del(&p->m->clock, &p->irq_timer);
    free(p);
}
