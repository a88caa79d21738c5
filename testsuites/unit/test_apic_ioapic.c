/* I/O APIC (82093AA-compatible, version 20H) and the wiring around it:
 * ISA IRQ routing to a vector in the local APIC's IRR, level-triggered
 * remote IRR cleared by EOI (broadcast and the EOI register), masking,
 * destination modes, ExtINT through LINT0 and through pin 0 with the 8259,
 * and the 8259 pass-through while the local APIC is hardware-disabled. */
#include "testsuites/unit/lib/unit.h"

#include "emu/apic/apic.h"
#include "emu/cpu/cpu.h"

#define LAPIC 0xfee00000ull
#define IOAPIC 0xfec00000ull

#define LEVEL (1u << 15)
#define MASK (1u << 16)
#define REMOTE_IRR (1u << 14)
#define LOGICAL (1u << 11)
#define DM(x) ((uint32_t)(x) << 8)

static vp_machine *m;
static vp_cpu *c;

static uint32_t rd(uint32_t off)
{
    return (uint32_t)vp_phys_read_n(&m->mem, LAPIC + off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
    vp_phys_write_n(&m->mem, LAPIC + off, v, 4);
}

static uint32_t io_rd(uint32_t idx)
{
    vp_phys_write_n(&m->mem, IOAPIC, idx, 4);
    return (uint32_t)vp_phys_read_n(&m->mem, IOAPIC + 0x10, 4);
}

static void io_wr(uint32_t idx, uint32_t v)
{
    vp_phys_write_n(&m->mem, IOAPIC, idx, 4);
    vp_phys_write_n(&m->mem, IOAPIC + 0x10, v, 4);
}

static void redir(int pin, uint32_t lo, uint8_t dest)
{
    io_wr(0x11 + 2 * (uint32_t)pin, (uint32_t)dest << 24);
    io_wr(0x10 + 2 * (uint32_t)pin, lo);
}

static bool irr(unsigned v)
{
    return (rd(0x200 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool tmr(unsigned v)
{
    return (rd(0x180 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static void ack(unsigned v)
{
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), (int)v);
}

static void setup(void)
{
    m = unit_machine(16);
    c = m->cpus[0];
    m->current_cpu = c;
    wr(0xf0, 0x1ff);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

/* 8259 pair initialised as a PC BIOS does: vectors 0x20 / 0x28, slave on
 * IR2, 8086 mode, every line unmasked. */
static void pic_init(void)
{
    static const struct { uint16_t port; uint8_t v; } seq[] = {
        {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
        {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01},
        {0x21, 0x00}, {0xa1, 0x00},
    };
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
        vp_ioport_write(&m->io, seq[i].port, seq[i].v, 1);
}

START_TEST(registers)
{
    /* Version 20H, maximum redirection entry 23. */
    ck_assert_uint_eq(io_rd(0x01), 0x00170020u);
    ck_assert_uint_eq(io_rd(0x00), 0);
    io_wr(0x00, 0xffffffffu);
    ck_assert_uint_eq(io_rd(0x00), 0x0f000000u);
    ck_assert_uint_eq(io_rd(0x02), 0x0f000000u);   /* arbitration ID */
    io_wr(0x01, 0);
    ck_assert_uint_eq(io_rd(0x01), 0x00170020u);   /* read-only */
    for (uint32_t pin = 0; pin < 24; pin++) {
        ck_assert_uint_eq(io_rd(0x10 + 2 * pin), MASK);
        ck_assert_uint_eq(io_rd(0x11 + 2 * pin), 0);
    }
    /* Remote IRR (14) and delivery status (12) are read-only. */
    io_wr(0x10, 0xffffffffu);
    ck_assert_uint_eq(io_rd(0x10), 0xffffafffu);
    io_wr(0x11, 0xff000000u);
    ck_assert_uint_eq(io_rd(0x11), 0xff000000u);
    /* IOREGSEL keeps its index; absent registers read 0. */
    vp_phys_write_n(&m->mem, IOAPIC, 0x7f, 4);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, IOAPIC, 4), 0x7f);
    ck_assert_uint_eq(vp_phys_read_n(&m->mem, IOAPIC + 0x10, 4), 0);
    /* Any value anywhere must not crash. */
    for (uint32_t idx = 0; idx < 0x100; idx++)
        io_wr(idx, 0xa5a5a5a5u ^ idx);
    for (uint32_t off = 0; off < 0x100; off += 4)
        vp_phys_write_n(&m->mem, IOAPIC + off, 0x5a5a5a5au, 4);
}
END_TEST

START_TEST(isa_irq_to_irr)
{
    redir(4, 0x34, 0);
    vp_machine_set_isa_irq(m, 4, 1);
    ck_assert(irr(0x34));
    ck_assert(!tmr(0x34));
    ack(0x34);
    wr(0xb0, 0);
    /* Edge-triggered: no new interrupt until the line rises again. */
    vp_machine_set_isa_irq(m, 4, 1);
    ck_assert(!irr(0x34));
    vp_machine_set_isa_irq(m, 4, 0);
    vp_machine_set_isa_irq(m, 4, 1);
    ck_assert(irr(0x34));
    vp_machine_set_isa_irq(m, 4, 0);
}
END_TEST

START_TEST(irq0_goes_to_pin2)
{
    redir(2, 0x30, 0);
    redir(0, 0x31, 0);
    vp_machine_set_isa_irq(m, 0, 1);
    ck_assert(irr(0x30));
    ck_assert(!irr(0x31));
    vp_machine_set_isa_irq(m, 0, 0);
}
END_TEST

START_TEST(masked_edge_is_lost)
{
    redir(5, MASK | 0x35, 0);
    vp_machine_set_isa_irq(m, 5, 1);
    redir(5, 0x35, 0);
    ck_assert(!irr(0x35));
    vp_machine_set_isa_irq(m, 5, 0);
    vp_machine_set_isa_irq(m, 5, 1);
    ck_assert(irr(0x35));
    vp_machine_set_isa_irq(m, 5, 0);
}
END_TEST

START_TEST(level_remote_irr_eoi)
{
    redir(9, LEVEL | 0x59, 0);
    vp_machine_set_isa_irq(m, 9, 1);
    ck_assert(irr(0x59) && tmr(0x59));
    ck_assert_uint_ne(io_rd(0x10 + 18) & REMOTE_IRR, 0);
    ack(0x59);
    ck_assert(!irr(0x59));
    /* Still asserted: the EOI clears remote IRR and the pin sends again. */
    wr(0xb0, 0);
    ck_assert(irr(0x59));
    ck_assert_uint_ne(io_rd(0x10 + 18) & REMOTE_IRR, 0);
    ack(0x59);
    vp_machine_set_isa_irq(m, 9, 0);
    wr(0xb0, 0);
    ck_assert(!irr(0x59));
    ck_assert_uint_eq(io_rd(0x10 + 18) & REMOTE_IRR, 0);
}
END_TEST

START_TEST(eoi_register_with_suppression)
{
    /* SVR bit 12: the local EOI is not broadcast (advertised by version
     * bit 24); software clears remote IRR through the EOI register. */
    ck_assert_uint_ne(rd(0x30) & (1u << 24), 0);
    wr(0xf0, 0x11ff);
    redir(10, LEVEL | 0x5a, 0);
    vp_machine_set_isa_irq(m, 10, 1);
    ack(0x5a);
    vp_machine_set_isa_irq(m, 10, 0);
    wr(0xb0, 0);
    ck_assert_uint_ne(io_rd(0x10 + 20) & REMOTE_IRR, 0);
    vp_machine_set_isa_irq(m, 10, 1);
    ck_assert(!irr(0x5a));                       /* held by remote IRR */
    vp_phys_write_n(&m->mem, IOAPIC + 0x40, 0x5b, 4);  /* other vector */
    ck_assert_uint_ne(io_rd(0x10 + 20) & REMOTE_IRR, 0);
    vp_phys_write_n(&m->mem, IOAPIC + 0x40, 0x5a, 4);
    ck_assert(irr(0x5a));                        /* asserted: sent again */
    vp_machine_set_isa_irq(m, 10, 0);
}
END_TEST

START_TEST(edge_switch_clears_remote_irr)
{
    redir(11, LEVEL | 0x5b, 0);
    vp_machine_set_isa_irq(m, 11, 1);
    ack(0x5b);
    ck_assert_uint_ne(io_rd(0x10 + 22) & REMOTE_IRR, 0);
    vp_machine_set_isa_irq(m, 11, 0);
    io_wr(0x10 + 22, MASK | 0x5b);
    ck_assert_uint_eq(io_rd(0x10 + 22) & REMOTE_IRR, 0);
    wr(0xb0, 0);
}
END_TEST

START_TEST(unmask_level_delivers)
{
    redir(12, MASK | LEVEL | 0x5c, 0);
    vp_machine_set_isa_irq(m, 12, 1);
    ck_assert(!irr(0x5c));
    redir(12, LEVEL | 0x5c, 0);
    ck_assert(irr(0x5c));
    vp_machine_set_isa_irq(m, 12, 0);
}
END_TEST

START_TEST(destinations)
{
    /* Physical: only APIC ID 0 exists. */
    redir(3, 0x33, 1);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(!irr(0x33));
    vp_machine_set_isa_irq(m, 3, 0);
    /* Logical flat, LDR bit 3. */
    wr(0xd0, 0x08000000u);
    redir(3, LOGICAL | 0x33, 0x08);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(irr(0x33));
    vp_machine_set_isa_irq(m, 3, 0);
    redir(3, LOGICAL | 0x36, 0x04);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(!irr(0x36));
    vp_machine_set_isa_irq(m, 3, 0);
    /* Lowest priority, logical. */
    redir(3, LOGICAL | DM(1) | 0x37, 0xff);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(irr(0x37));
    vp_machine_set_isa_irq(m, 3, 0);
    /* NMI delivery mode. */
    c->nmi_pending = false;
    redir(3, DM(4), 0);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(c->nmi_pending);
    vp_machine_set_isa_irq(m, 3, 0);
    /* x2APIC: 8-bit physical destination matches the x2APIC ID. */
    uint64_t base = 0;
    ck_assert_int_eq(vp_apic_msr_read(c, 0x1b, &base), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x1b, base | (1u << 10)), 0);
    redir(3, 0x38, 0);
    vp_machine_set_isa_irq(m, 3, 1);
    uint64_t v = 0;
    ck_assert_int_eq(vp_apic_msr_read(c, 0x821, &v), 0);
    ck_assert_uint_eq((v >> 24) & 1, 1);
    vp_machine_set_isa_irq(m, 3, 0);
}
END_TEST

START_TEST(software_disabled_drops)
{
    wr(0xf0, 0x0ff);
    redir(6, 0x46, 0);
    vp_machine_set_isa_irq(m, 6, 1);
    ck_assert(!irr(0x46));
    vp_machine_set_isa_irq(m, 6, 0);
}
END_TEST

START_TEST(extint_through_lint0)
{
    pic_init();
    wr(0x350, DM(7));
    vp_machine_set_isa_irq(m, 1, 1);
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x21);
    /* ExtINT bypasses IRR/ISR. */
    for (uint32_t off = 0x100; off < 0x280; off += 0x10)
        ck_assert_uint_eq(rd(off), 0);
    vp_ioport_write(&m->io, 0x20, 0x20, 1);   /* 8259 EOI */
    vp_machine_set_isa_irq(m, 1, 0);
    ck_assert(!vp_apic_intr_ready(c));
    /* Masked LINT0: the 8259 cannot reach the CPU. */
    wr(0x350, MASK | DM(7));
    vp_machine_set_isa_irq(m, 1, 1);
    ck_assert(!vp_apic_intr_ready(c));
    /* Unmasking with INTR already high delivers. */
    c->intr_pending = false;
    wr(0x350, DM(7));
    ck_assert(c->intr_pending);
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x21);
    vp_ioport_write(&m->io, 0x20, 0x20, 1);
    vp_machine_set_isa_irq(m, 1, 0);
    /* ExtINT is not held back by the task priority. */
    wr(0x80, 0xff);
    vp_machine_set_isa_irq(m, 3, 1);
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x23);
    vp_ioport_write(&m->io, 0x20, 0x20, 1);
    vp_machine_set_isa_irq(m, 3, 0);
}
END_TEST

START_TEST(extint_through_ioapic_pin0)
{
    pic_init();
    redir(0, DM(7), 0);
    vp_machine_set_isa_irq(m, 4, 1);
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x24);
    vp_ioport_write(&m->io, 0x20, 0x20, 1);
    vp_machine_set_isa_irq(m, 4, 0);
}
END_TEST

START_TEST(hw_disabled_passthrough)
{
    pic_init();
    uint64_t base = 0;
    ck_assert_int_eq(vp_apic_msr_read(c, 0x1b, &base), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x1b, base & ~(1ull << 11)), 0);
    /* LINT0 is the INTR pin: no LVT, no priority. */
    vp_machine_set_isa_irq(m, 1, 1);
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x21);
    vp_ioport_write(&m->io, 0x20, 0x20, 1);
    vp_machine_set_isa_irq(m, 1, 0);
    ck_assert(!vp_apic_intr_ready(c));
    /* LINT1 is the NMI pin. */
    c->nmi_pending = false;
    vp_apic_nmi_line(m, 1);
    ck_assert(c->nmi_pending);
    vp_apic_nmi_line(m, 0);
}
END_TEST

START_TEST(firmware_handoff_state)
{
    /* A machine booting a kernel directly gets the virtual-wire state the
     * firmware leaves (what SeaBIOS programs before QEMU's -kernel). */
    m->cfg.kernel = "image";
    vp_apic_reset(m);
    m->cfg.kernel = NULL;
    ck_assert_uint_eq(rd(0xf0) & 0x100, 0x100);
    ck_assert_uint_eq(rd(0x350), 0x8700);
    ck_assert_uint_eq(rd(0x360), 0x8400);
    pic_init();
    vp_machine_set_isa_irq(m, 1, 1);
    ck_assert_int_eq(vp_apic_intr_ack(c), 0x21);
    vp_machine_set_isa_irq(m, 1, 0);
}
END_TEST

static Suite *apic_ioapic_suite(void)
{
    Suite *s = suite_create("apic_ioapic");
    TCase *t = tcase_create("ioapic");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, registers);
    tcase_add_test(t, isa_irq_to_irr);
    tcase_add_test(t, irq0_goes_to_pin2);
    tcase_add_test(t, masked_edge_is_lost);
    tcase_add_test(t, level_remote_irr_eoi);
    tcase_add_test(t, eoi_register_with_suppression);
    tcase_add_test(t, edge_switch_clears_remote_irr);
    tcase_add_test(t, unmask_level_delivers);
    tcase_add_test(t, destinations);
    tcase_add_test(t, software_disabled_drops);
    tcase_add_test(t, extint_through_lint0);
    tcase_add_test(t, extint_through_ioapic_pin0);
    tcase_add_test(t, hw_disabled_passthrough);
    tcase_add_test(t, firmware_handoff_state);
    suite_add_tcase(s, t);
    return s;
}

VP_UNIT_MAIN(apic_ioapic_suite)
