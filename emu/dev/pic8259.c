/* Intel 8259A programmable interrupt controller: a master at 0x20/0x21 and
 * a slave at 0xA0/0xA1 whose INT output drives the master's IR2, as on
 * every PC/AT, plus the edge/level control registers of the PIIX/ICH
 * south bridges at 0x4D0/0x4D1.
 *
 * References: Intel "8259A Programmable Interrupt Controller" datasheet,
 * sections "Interrupt Sequence", "Initialization Command Words",
 * "Operation Command Words", "Fully Nested Mode", "End of Interrupt",
 * "Automatic Rotation", "Specific Rotation", "Special Mask Mode",
 * "Poll Command", "Reading the 8259A Status", "Edge and Level Triggered
 * Modes", "The Special Fully Nested Mode", "Cascade Mode"; Intel 82371AB
 * PIIX4 datasheet, "ELCR1/ELCR2 - Edge/Level Control Registers".
 *
 * Priorities are kept as a rotation base: level `prio_base` has the highest
 * priority, (prio_base + 7) & 7 the lowest; fully nested mode is base 0.
 *
 * Documented choices where the datasheet leaves state undefined:
 * - power-on: not initialised, IMR = 0xFF (nothing is delivered before
 *   software writes ICW1), vector base 0;
 * - as the datasheet's "Edge and Level Triggered Modes" describes, the
 *   request latch is transparent: in both modes a request is withdrawn
 *   when its line falls before the acknowledge (an acknowledge then finds
 *   nothing and answers IR7). Devices therefore hold an edge-triggered
 *   line high until they are serviced; a zero-length pulse (raise then
 *   lower at once) reaches the I/O APIC but not the 8259A;
 * - ICW1 clears ISR and the edge requests in IRR, and keeps the line
 *   levels, so a line that is high must fall and rise again (edge) or
 *   reasserts at once (level). */
#include "emu/dev/pic8259.h"

#include <stdlib.h>

#include "emu/apic/apic.h"
#include "emu/dev/devices.h"

typedef struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;         /* IR input levels */
    uint8_t elcr, elcr_mask;
    uint8_t vector_base;   /* ICW2 T7-T3 */
    uint8_t prio_base;     /* level with the highest priority */
    uint8_t icw3;
    uint8_t init_step;     /* 0: ready, 1: expect ICW2, 2: ICW3, 3: ICW4 */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_aeoi, sfnm, mcs80;
    bool special_mask, poll, read_isr;
    bool is_master;
    vp_pic *owner;
} pic_chip;

struct vp_pic {
    vp_machine *m;
    pic_chip chip[2];      /* [0] master, [1] slave */
    bool intr;             /* master INT output */
};

/* ---- one 8259A ---- */

static uint8_t chip_level_mask(const pic_chip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

static void chip_set_line(pic_chip *c, int n, bool level)
{
    uint8_t bit = (uint8_t)(1u << n);
    if (level) {
        /* A level input requests while high; an edge input on low-to-high. */
        if ((chip_level_mask(c) & bit) || !(c->lines & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
        c->irr &= (uint8_t)~bit;
    }
}

/* Priority rank (0 = highest) of the best level in mask, 8 if none. */
static int chip_rank(const pic_chip *c, uint8_t mask)
{
    for (int r = 0; r < 8; r++)
        if (mask & (1u << ((r + c->prio_base) & 7)))
            return r;
    return 8;
}

/* The level the chip would request the CPU for, or -1. "Fully Nested
 * Mode": a request is served only if it outranks every in-service level;
 * in special mask mode the masked in-service levels do not block; in
 * special fully nested mode the master lets a cascade input (IR2)
 * interrupt its own in-service level. */
static int chip_pending(const pic_chip *c)
{
    int want = chip_rank(c, c->irr & (uint8_t)~c->imr);
    if (want == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= (uint8_t)~c->imr;
    if (c->sfnm && c->is_master && !c->single)
        in_service &= (uint8_t)~(1u << 2);
    if (want < chip_rank(c, in_service))
        return (want + c->prio_base) & 7;
    return -1;
}

/* Acknowledge of level n: IRR to ISR ("Interrupt Sequence"), or an
 * automatic EOI at the end of the acknowledge in AEOI mode. */
static void chip_ack(pic_chip *c, int n)
{
    uint8_t bit = (uint8_t)(1u << n);
    if (!(chip_level_mask(c) & bit))
        c->irr &= (uint8_t)~bit;
    if (c->auto_eoi) {
        if (c->rotate_aeoi)
            c->prio_base = (uint8_t)((n + 1) & 7);
    } else {
        c->isr |= bit;
    }
}

static void chip_init_reset(pic_chip *c)
{
    c->irr = c->lines & chip_level_mask(c);
    c->isr = 0;
    c->imr = 0;
    c->prio_base = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->auto_eoi = false;
    c->rotate_aeoi = false;
    c->sfnm = false;
    c->mcs80 = false;
}

static void chip_power_on(vp_pic *p, pic_chip *c, bool master)
{
    *c = (pic_chip){0};
    c->owner = p;
    c->is_master = master;
    c->imr = 0xff;
    /* ELCR1 bits 0-2 (IRQ0-2) and ELCR2 bits 0 and 5 (IRQ8, IRQ13) are
     * reserved and read 0: those IRQs are always edge triggered. */
    c->elcr_mask = master ? 0xf8 : 0xde;
}

/* ---- the pair ---- */

static void pic_update(vp_pic *p)
{
    pic_chip *ma = &p->chip[0], *sl = &p->chip[1];
    chip_set_line(ma, 2, chip_pending(sl) >= 0);
    bool out = chip_pending(ma) >= 0;
    if (out != p->intr) {
        p->intr = out;
        vp_apic_pic_intr(p->m, out);
    }
}

static void pic_isa_irq(void *opaque, int irq, int level)
{
    vp_pic *p = opaque;
    if (irq < 0 || irq > 15)
        return;
    /* IRQ2 is the cascade input; ISA IRQ2 is wired to IRQ9 on the AT. */
    if (irq == 2)
        irq = 9;
    chip_set_line(&p->chip[irq >> 3], irq & 7, level != 0);
    pic_update(p);
}

int vp_pic_intack(vp_pic *p)
{
    pic_chip *ma = &p->chip[0], *sl = &p->chip[1];
    int vec;
    int n = chip_pending(ma);
    if (n < 0) {
        /* No request left when INTA came: the master answers IR7
         * ("Edge and Level Triggered Modes"), without setting ISR. */
        vec = ma->vector_base | 7;
        VP_TRACE(&p->m->trace, DEV, "pic: spurious IRQ7 (vector %#x)", vec);
    } else {
        chip_ack(ma, n);
        if (n == 2 && !ma->single) {
            int s = chip_pending(sl);
            if (s < 0) {
                vec = sl->vector_base | 7;
                VP_TRACE(&p->m->trace, DEV,
                         "pic: spurious IRQ15 (vector %#x)", vec);
            } else {
                chip_ack(sl, s);
                vec = sl->vector_base | s;
            }
        } else {
            vec = ma->vector_base | n;
        }
    }
    pic_update(p);
    /* INTR stays high if another request is pending: present it again as
     * a new request, as the 8259A raises INT after the acknowledge. */
    if (p->intr)
        vp_apic_pic_intr(p->m, 1);
    return vec;
}

bool vp_pic_intr_level(const vp_pic *p)
{
    return p->intr;
}

/* ---- register interface ---- */

static void chip_write_cmd(vp_pic *p, pic_chip *c, uint8_t v)
{
    if (v & 0x10) {
        /* ICW1: A0=0, D4=1. */
        c->ltim = v & 0x08;
        c->single = v & 0x02;
        c->icw4_needed = v & 0x01;
        chip_init_reset(c);
        c->init_step = 1;
        /* Without ICW4 every ICW4 function is zero, uPM included. */
        c->mcs80 = !c->icw4_needed;
        if (c->mcs80)
            VP_UNIMPL_ONCE(&p->m->trace,
                           "8259A: ICW1 without ICW4 selects MCS-80/85 "
                           "mode; vectors are delivered as in 8086 mode");
        if (v & 0xe0)
            VP_UNIMPL_ONCE(&p->m->trace,
                           "8259A: ICW1 A7-A5 (MCS-80/85 vector address) "
                           "ignored");
        VP_TRACE(&p->m->trace, DEV, "pic %s: ICW1 %#x",
                 c->is_master ? "master" : "slave", v);
    } else if (v & 0x08) {
        /* OCW3: D4=0, D3=1. */
        if (v & 0x04)
            c->poll = true;
        if (v & 0x02)
            c->read_isr = v & 0x01;
        if (v & 0x40)
            c->special_mask = v & 0x20;
    } else {
        /* OCW2: R SL EOI in D7-D5, level in D2-D0. */
        int level = v & 7;
        switch (v >> 5) {
        case 0: /* rotate in AEOI mode (clear) */
            c->rotate_aeoi = false;
            break;
        case 4: /* rotate in AEOI mode (set) */
            c->rotate_aeoi = true;
            break;
        case 1: /* non-specific EOI */
        case 5: { /* rotate on non-specific EOI */
            /* In special mask mode the masked ISR bits are not cleared
             * by a non-specific EOI ("Special Mask Mode"). */
            uint8_t mask = c->isr;
            if (c->special_mask)
                mask &= (uint8_t)~c->imr;
            int r = chip_rank(c, mask);
            if (r < 8) {
                int n = (r + c->prio_base) & 7;
                c->isr &= (uint8_t)~(1u << n);
                if (v >> 5 == 5)
                    c->prio_base = (uint8_t)((n + 1) & 7);
            }
            break;
        }
        case 3: /* specific EOI */
            c->isr &= (uint8_t)~(1u << level);
            break;
        case 7: /* rotate on specific EOI */
            c->isr &= (uint8_t)~(1u << level);
            c->prio_base = (uint8_t)((level + 1) & 7);
            break;
        case 6: /* set priority: `level` becomes the lowest */
            c->prio_base = (uint8_t)((level + 1) & 7);
            break;
        default: /* 2: no operation */
            break;
        }
    }
    pic_update(p);
}

static void chip_write_data(vp_pic *p, pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 1: /* ICW2 */
        c->vector_base = v & 0xf8;
        c->init_step = c->single ? (c->icw4_needed ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: slave mask (master) or slave ID (slave) */
        c->icw3 = v;
        if (c->is_master ? !(v & 0x04) : (v & 7) != 2)
            VP_TRACE(&p->m->trace, DEV,
                     "pic %s: ICW3 %#x does not describe the PC cascade "
                     "(slave on IR2); the wiring stays",
                     c->is_master ? "master" : "slave", v);
        c->init_step = c->icw4_needed ? 3 : 0;
        break;
    case 3: /* ICW4 */
        c->mcs80 = !(v & 0x01);
        c->auto_eoi = v & 0x02;
        c->sfnm = v & 0x10;
        if (c->mcs80)
            VP_UNIMPL_ONCE(&p->m->trace,
                           "8259A: MCS-80/85 mode (ICW4 uPM=0); vectors are "
                           "delivered as in 8086 mode");
        c->init_step = 0;
        break;
    default: /* OCW1 */
        c->imr = v;
        break;
    }
    pic_update(p);
}

static uint8_t chip_read(vp_pic *p, pic_chip *c, bool a0)
{
    if (c->poll) {
        /* Poll command: this read is the acknowledge ("Poll Command"). */
        c->poll = false;
        int n = chip_pending(c);
        uint8_t v = 0;
        if (n >= 0) {
            chip_ack(c, n);
            v = (uint8_t)(0x80 | n);
        }
        pic_update(p);
        return v;
    }
    if (a0)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint64_t chip_io_read(void *opaque, uint64_t off, unsigned size)
{
    pic_chip *c = opaque;
    (void)size;
    return chip_read(c->owner, c, off & 1);
}

static void chip_io_write(void *opaque, uint64_t off, uint64_t v,
                          unsigned size)
{
    pic_chip *c = opaque;
    (void)size;
    if (off & 1)
        chip_write_data(c->owner, c, (uint8_t)v);
    else
        chip_write_cmd(c->owner, c, (uint8_t)v);
}

static uint64_t elcr_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_pic *p = opaque;
    (void)size;
    return p->chip[off & 1].elcr;
}

static void elcr_io_write(void *opaque, uint64_t off, uint64_t v,
                          unsigned size)
{
    vp_pic *p = opaque;
    pic_chip *c = &p->chip[off & 1];
    (void)size;
    c->elcr = (uint8_t)v & c->elcr_mask;
    /* A level input that is high now requests; an edge input keeps what
     * it latched. */
    c->irr = (uint8_t)((c->irr & ~chip_level_mask(c)) |
                       (c->lines & chip_level_mask(c)));
    pic_update(p);
}

static const vp_io_ops master_ops = {
    .name = "pic-master",
    .read = chip_io_read,
    .write = chip_io_write,
    .widths = VP_W8,
};

static const vp_io_ops slave_ops = {
    .name = "pic-slave",
    .read = chip_io_read,
    .write = chip_io_write,
    .widths = VP_W8,
};

static const vp_io_ops elcr_ops = {
    .name = "elcr",
    .read = elcr_io_read,
    .write = elcr_io_write,
    .widths = VP_W8,
};

vp_pic *vp_pic_create(vp_machine *m, vp_error *err)
{
    vp_pic *p = calloc(1, sizeof(*p));
    if (!p) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    p->m = m;
    chip_power_on(p, &p->chip[0], true);
    chip_power_on(p, &p->chip[1], false);
    if (vp_ioport_register(&m->io, 0x20, 2, &master_ops, &p->chip[0]) < 0 ||
        vp_ioport_register(&m->io, 0xa0, 2, &slave_ops, &p->chip[1]) < 0 ||
        vp_ioport_register(&m->io, 0x4d0, 2, &elcr_ops, p) < 0) {
        vp_fail(err, "8259A: I/O ports already in use");
        free(p);
        return NULL;
    }
    vp_machine_add_isa_irq_sink(m, pic_isa_irq, p);
    return p;
}

void vp_pic_reset(vp_pic *p)
{
    uint8_t lines0 = p->chip[0].lines, lines1 = p->chip[1].lines;
    chip_power_on(p, &p->chip[0], true);
    chip_power_on(p, &p->chip[1], false);
    /* The input lines are driven by the devices, not by the controller. */
    p->chip[0].lines = lines0 & (uint8_t)~(1u << 2);
    p->chip[1].lines = lines1;
    pic_update(p);
}

void vp_pic_free(vp_pic *p)
{
    free(p);
}
