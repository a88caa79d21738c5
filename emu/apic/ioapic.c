/* I/O APIC compatible with the Intel 82093AA (datasheet 290566, "82093AA
 * I/O Advanced Programmable Interrupt Controller"), reporting version 20H
 * as the I/O (x)APICs of later chipsets do: 24 pins, and an EOI register at
 * offset 40H so that software using EOI-broadcast suppression can clear a
 * pin's remote IRR directly.
 *
 *   FEC00000H  IOREGSEL  register index (bits 7:0)
 *   FEC00010H  IOWIN     data of the selected register
 *   FEC00040H  EOI       write a vector: clears remote IRR of its entries
 *
 * Indirect registers: 00H ID (27:24), 01H version, 02H arbitration ID,
 * 10H-3FH redirection table (two 32-bit halves per pin).
 *
 * Inputs arrive as logical assertion levels (a device's IRQ asserted or
 * not); the polarity bit is stored for software but the board is assumed
 * wired as the firmware tables describe, as in QEMU and KVM. */
#include <stdlib.h>

#include "emu/apic/internal.h"

#define IOAPIC_MMIO_SIZE 0x1000
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOEOI 0x40

/* Redirection entry: remote IRR and delivery status are read-only; the
 * other bits (including 55:17, reserved on the 82093AA but used by the
 * remappable format) keep what software writes. */
#define REDIR_RO ((uint64_t)(APIC_REMOTE_IRR | APIC_DELIV_STATUS))

static unsigned redir_mode(uint64_t e)
{
    return (unsigned)((e & APIC_DM_MASK) >> APIC_DM_SHIFT);
}

/* Only fixed and lowest-priority interrupts are level-triggered with a
 * remote IRR; NMI, SMI, INIT and ExtINT are sent as edges. */
static bool redir_level(uint64_t e)
{
    unsigned dm = redir_mode(e);
    return (e & APIC_TRIGGER_LEVEL) &&
           (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

static void ioapic_deliver(vp_ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    apic_msg msg = {
        .dest = (uint32_t)(e >> 56),
        .vector = e & APIC_VECTOR_MASK,
        .mode = (uint8_t)redir_mode(e),
        .logical = (e & APIC_DEST_LOGICAL) != 0,
        .level = redir_level(e),
    };
    if (msg.mode == APIC_DM_STARTUP || msg.mode == APIC_DM_REMRD) {
        VP_UNIMPL_ONCE(&io->m->trace,
                       "I/O APIC: reserved delivery mode %u on pin %d; "
                       "interrupt dropped",
                       msg.mode, pin);
        return;
    }
    VP_TRACE(&io->m->trace, INT,
             "ioapic: pin %d -> vector %#x mode %u %s dest %#x%s", pin,
             msg.vector, msg.mode, msg.logical ? "logical" : "physical",
             msg.dest, msg.level ? " level" : "");
    int n = apic_bus_deliver(io->m, &msg);
    /* "Remote IRR ... is set to 1 after the interrupt message has been
     * accepted by the local APIC(s) and reset on the EOI message." */
    if (msg.level && n > 0)
        io->redir[pin] |= APIC_REMOTE_IRR;
}

/* A level-triggered pin that is asserted, unmasked and not awaiting an EOI
 * sends its message (again). */
static void ioapic_service(vp_ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    if (!redir_level(e) || (e & (APIC_LVT_MASKED | APIC_REMOTE_IRR)))
        return;
    if (io->pin_level & (1u << pin))
        ioapic_deliver(io, pin);
}

void ioapic_set_pin(vp_ioapic *io, int pin, bool level)
{
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool old = io->pin_level & bit;
    if (level)
        io->pin_level |= bit;
    else
        io->pin_level &= ~bit;
    if (!level)
        return;
    if (redir_level(io->redir[pin]))
        ioapic_service(io, pin);
    else if (!old && !(io->redir[pin] & APIC_LVT_MASKED))
        ioapic_deliver(io, pin); /* edge: a masked edge is lost */
}

void ioapic_eoi(vp_ioapic *io, unsigned vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((e & APIC_REMOTE_IRR) && (e & APIC_VECTOR_MASK) == vector) {
            io->redir[pin] &= ~(uint64_t)APIC_REMOTE_IRR;
            ioapic_service(io, pin);
        }
    }
}

/* ISA IRQ n goes to pin n, IRQ0 to pin 2 (the ACPI interrupt source
 * override every PC firmware reports). The ISA bus line called IRQ2 is
 * IRQ9 on the AT (the 8259 model routes it so too): pin 9. */
void ioapic_isa_irq(void *opaque, int irq, int level)
{
    vp_ioapic *io = opaque;
    if (irq < 0 || irq > 15)
        return;
    if (level)
        io->isa_level |= (uint16_t)(1u << irq);
    else
        io->isa_level &= (uint16_t)~(1u << irq);
    if (irq == 0)
        ioapic_set_pin(io, 2, level != 0);
    else if (irq == 2 || irq == 9)
        ioapic_set_pin(io, 9, (io->isa_level & (1u << 2 | 1u << 9)) != 0);
    else
        ioapic_set_pin(io, irq, level != 0);
}

static uint32_t ioapic_reg_read(vp_ioapic *io, uint32_t idx)
{
    switch (idx) {
    case 0x00:
        return io->id;
    case 0x01:
        return IOAPIC_VERSION | (uint32_t)(IOAPIC_PINS - 1) << 16;
    case 0x02:
        return io->id; /* arbitration ID, loaded from the ID */
    default:
        if (idx >= 0x10 && idx < 0x10 + 2 * IOAPIC_PINS) {
            uint64_t e = io->redir[(idx - 0x10) >> 1];
            return (uint32_t)(idx & 1 ? e >> 32 : e);
        }
        VP_TRACE(&io->m->trace, DEV, "ioapic: read of register %#x", idx);
        return 0;
    }
}

static void ioapic_reg_write(vp_ioapic *io, uint32_t idx, uint32_t val)
{
    if (idx == 0x00) {
        io->id = val & 0x0f000000u;
        return;
    }
    if (idx < 0x10 || idx >= 0x10 + 2 * IOAPIC_PINS) {
        VP_TRACE(&io->m->trace, DEV,
                 "ioapic: write %#x to read-only/absent register %#x", val,
                 idx);
        return;
    }
    int pin = (int)(idx - 0x10) >> 1;
    uint64_t old = io->redir[pin], e;
    if (idx & 1)
        e = (old & 0xffffffffull) | (uint64_t)val << 32;
    else
        e = (old & ~0xffffffffull) | (old & REDIR_RO) |
            ((uint64_t)val & ~REDIR_RO);
    /* An edge-triggered entry has no remote IRR (software switches a pin
     * to edge and back to clear it on I/O APICs without the EOI
     * register). */
    if (!(e & APIC_TRIGGER_LEVEL))
        e &= ~(uint64_t)APIC_REMOTE_IRR;
    io->redir[pin] = e;
    VP_TRACE(&io->m->trace, DEV, "ioapic: pin %d entry %#llx", pin,
             (unsigned long long)e);
    ioapic_service(io, pin);
}

/* Registers are 32 bits wide; narrower reads return the addressed bytes.
 * IOWIN takes only full 32-bit writes; IOREGSEL's index is its low byte. */
static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    vp_ioapic *io = opaque;
    uint64_t reg = offset & ~3ull;
    uint32_t v = 0;
    if (reg == IOREGSEL)
        v = io->regsel;
    else if (reg == IOWIN)
        v = ioapic_reg_read(io, io->regsel);
    uint64_t r = (uint64_t)v >> ((offset & 3) * 8);
    return size >= 4 ? r : r & ((1ull << (size * 8)) - 1);
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, uint64_t val,
                              unsigned size)
{
    vp_ioapic *io = opaque;
    switch (offset) {
    case IOREGSEL:
        io->regsel = (uint32_t)val & 0xff;
        break;
    case IOWIN:
        if (size >= 4)
            ioapic_reg_write(io, io->regsel, (uint32_t)val);
        else
            VP_UNIMPL_ONCE(&io->m->trace,
                           "I/O APIC: %u-byte IOWIN write ignored", size);
        break;
    case IOEOI:
        ioapic_eoi(io, (uint32_t)val & 0xff);
        break;
    default:
        VP_TRACE(&io->m->trace, DEV, "ioapic: write to offset %#llx ignored",
                 (unsigned long long)offset);
        break;
    }
}

static const vp_io_ops ioapic_mmio_ops = {
    .name = "ioapic",
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .widths = VP_W8 | VP_W16 | VP_W32,
};

void ioapic_reset(vp_ioapic *io)
{
    io->regsel = 0;
    io->id = 0;
    /* Every entry masked after reset (82093AA, "I/O Redirection Table
     * Registers"); pin levels are the wires' and are kept. */
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = APIC_LVT_MASKED;
}

vp_ioapic *ioapic_create(vp_machine *m, vp_error *err)
{
    vp_ioapic *io = calloc(1, sizeof(*io));
    if (!io) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    io->m = m;
    ioapic_reset(io);
    if (vp_physmem_add_mmio(&m->mem, IOAPIC_BASE, IOAPIC_MMIO_SIZE,
                            &ioapic_mmio_ops, io) < 0) {
        vp_fail(err, "cannot map the I/O APIC at %#llx",
                (unsigned long long)IOAPIC_BASE);
        free(io);
        return NULL;
    }
    vp_machine_add_isa_irq_sink(m, ioapic_isa_irq, io);
    return io;
}

void ioapic_free(vp_ioapic *io)
{
    if (!io)
        return;
    vp_machine *m = io->m;
    if (vp_physmem_move_mmio(&m->mem, &ioapic_mmio_ops, io, 0, false) < 0)
        VP_TRACE(&m->trace, DEV, "ioapic: MMIO region already gone");
    /* Unhook the ISA sink so nothing calls into freed memory. */
    for (int i = 0; i < m->nisa_sinks; i++) {
        if (m->isa_sink[i].opaque == io) {
            for (int j = i; j + 1 < m->nisa_sinks; j++)
                m->isa_sink[j] = m->isa_sink[j + 1];
            m->nisa_sinks--;
            break;
        }
    }
    free(io);
}

void vp_ioapic_set_irq(vp_machine *m, int gsi, int level)
{
    if (m->ioapic)
        ioapic_set_pin(m->ioapic, gsi, level != 0);
}
