/* 8259A pair through its ports: initialisation, masking, priorities, EOI
 * forms, rotation, special mask mode, poll, AEOI, cascade, spurious
 * IRQ7/IRQ15, ELCR (Intel 8259A datasheet; PIIX4 ELCR). */
#include "testsuites/unit/lib/unit.h"

#include "emu/dev/pic8259.h"
#include "emu/dev/platform.h"

static vp_machine *m;

static void setup(void)
{
    m = unit_machine(16);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)vp_ioport_read(&m->io, port, 1);
}

static void outb(uint16_t port, uint8_t v)
{
    vp_ioport_write(&m->io, port, v, 1);
}

static void irq(int n, int level)
{
    vp_machine_set_isa_irq(m, n, level);
}

/* The PC initialisation: edge, cascade, ICW4 (8086, normal EOI unless
 * aeoi), master vectors 0x20-0x27 and slave 0x28-0x2F, everything
 * masked except the cascade. */
static void pic_init(bool aeoi)
{
    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, aeoi ? 0x03 : 0x01);
    outb(0xa0, 0x11);
    outb(0xa1, 0x28);
    outb(0xa1, 0x02);
    outb(0xa1, aeoi ? 0x03 : 0x01);
    outb(0x21, 0xfb);
    outb(0xa1, 0xff);
}

static uint8_t read_irr(uint16_t base)
{
    outb(base, 0x0a);
    return inb(base);
}

static uint8_t read_isr(uint16_t base)
{
    outb(base, 0x0b);
    return inb(base);
}

static void unmask(int n)
{
    uint16_t port = n < 8 ? 0x21 : 0xa1;
    outb(port, inb(port) & (uint8_t)~(1u << (n & 7)));
}

static void eoi_master(void)
{
    outb(0x20, 0x20);
}

START_TEST(test_power_on_masked)
{
    /* Before ICW1 nothing is delivered (documented choice: IMR 0xFF). */
    ck_assert_uint_eq(inb(0x21), 0xff);
    ck_assert_uint_eq(inb(0xa1), 0xff);
    irq(3, 1);
    ck_assert(!vp_pic_intr_level(m->pic));
}
END_TEST

START_TEST(test_icw1_clears_imr_and_isr)
{
    pic_init(false);
    ck_assert_uint_eq(inb(0x21), 0xfb);
    outb(0x20, 0x11); /* ICW1 clears the IMR */
    ck_assert_uint_eq(inb(0x21), 0x00);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    /* After ICW4 the data port is OCW1 again. */
    outb(0x21, 0x5a);
    ck_assert_uint_eq(inb(0x21), 0x5a);
}
END_TEST

START_TEST(test_mask_and_deliver)
{
    pic_init(false);
    irq(3, 1);
    ck_assert_uint_eq(read_irr(0x20) & 0x08, 0x08);
    ck_assert(!vp_pic_intr_level(m->pic)); /* masked */
    unmask(3);
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x23);
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    ck_assert_uint_eq(read_irr(0x20) & 0x08, 0); /* edge: IRR cleared */
    ck_assert(!vp_pic_intr_level(m->pic));
    eoi_master();
    ck_assert_uint_eq(read_isr(0x20), 0);
    /* The line is still high: no new edge, no new request. */
    ck_assert(!vp_pic_intr_level(m->pic));
    irq(3, 0);
    irq(3, 1);
    ck_assert(vp_pic_intr_level(m->pic));
}
END_TEST

START_TEST(test_fully_nested_priorities)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(5, 1);
    irq(1, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x21); /* IRQ1 outranks IRQ5 */
    /* IRQ5 waits while IRQ1 is in service ... */
    ck_assert(!vp_pic_intr_level(m->pic));
    /* ... but IRQ0 outranks IRQ1 and nests. */
    irq(0, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x03);
    eoi_master(); /* non-specific: clears the highest, IRQ0 */
    ck_assert_uint_eq(read_isr(0x20), 0x02);
    ck_assert(!vp_pic_intr_level(m->pic));
    eoi_master();
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x25);
}
END_TEST

START_TEST(test_specific_eoi)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(4, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x24);
    outb(0x20, 0x60 | 3); /* specific EOI for the wrong level */
    ck_assert_uint_eq(read_isr(0x20), 0x10);
    outb(0x20, 0x60 | 4);
    ck_assert_uint_eq(read_isr(0x20), 0);
}
END_TEST

START_TEST(test_cascade)
{
    pic_init(false);
    unmask(10);
    irq(10, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x2a);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
    ck_assert_uint_eq(read_isr(0xa0), 0x04);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0);
    ck_assert_uint_eq(read_isr(0xa0), 0);
    /* ISA IRQ2 is wired to IRQ9 on the AT. */
    unmask(9);
    irq(2, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x29);
}
END_TEST

START_TEST(test_spurious_irq7)
{
    pic_init(false);
    unmask(4);
    irq(4, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    /* The request goes away (masked) before the acknowledge. */
    outb(0x21, 0xff);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x27);
    ck_assert_uint_eq(read_isr(0x20), 0); /* no ISR bit for a spurious IR7 */
}
END_TEST

START_TEST(test_line_drop_is_default_ir7)
{
    /* "If the IR input goes low before [the first INTA] a DEFAULT IR7 will
     * occur": the request latch is transparent, edge mode included. */
    pic_init(false);
    unmask(4);
    irq(4, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    irq(4, 0);
    ck_assert_uint_eq(read_irr(0x20) & 0x10, 0);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x27);
}
END_TEST

START_TEST(test_slave_withdrawn)
{
    /* The master's IR2 follows the slave's INT: a slave request that is
     * withdrawn before the acknowledge leaves the master with nothing,
     * so it answers its own default IR7 and nothing is in service. */
    pic_init(false);
    unmask(11);
    irq(11, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_uint_eq(read_irr(0x20) & 0x04, 0x04);
    outb(0xa1, 0xff);
    ck_assert(!vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x27);
    ck_assert_uint_eq(read_isr(0xa0), 0);
    ck_assert_uint_eq(read_isr(0x20), 0);
}
END_TEST

START_TEST(test_elcr_level)
{
    pic_init(false);
    /* Reserved ELCR bits read 0: IRQ0-2, IRQ8, IRQ13 are edge only. */
    outb(0x4d0, 0xff);
    outb(0x4d1, 0xff);
    ck_assert_uint_eq(inb(0x4d0), 0xf8);
    ck_assert_uint_eq(inb(0x4d1), 0xde);
    outb(0x4d0, 0x00);
    outb(0x4d1, 0x04); /* IRQ10 level-triggered */
    unmask(10);
    irq(10, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x2a);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    /* Still high after EOI: level-triggered requests again. */
    ck_assert(vp_pic_intr_level(m->pic));
    irq(10, 0);
    ck_assert(!vp_pic_intr_level(m->pic));
    ck_assert_uint_eq(read_irr(0xa0) & 0x04, 0);
}
END_TEST

START_TEST(test_ltim_level)
{
    /* ICW1 LTIM makes every input level-triggered. */
    outb(0x20, 0x19);
    outb(0x21, 0x40);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0x21, 0xf7);
    irq(3, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x43);
    eoi_master();
    ck_assert(vp_pic_intr_level(m->pic));
    irq(3, 0);
    ck_assert(!vp_pic_intr_level(m->pic));
}
END_TEST

START_TEST(test_aeoi)
{
    pic_init(true);
    unmask(6);
    irq(6, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x26);
    ck_assert_uint_eq(read_isr(0x20), 0);
    /* Nothing in service: a lower-priority request goes through at once. */
    unmask(7);
    irq(7, 1);
    ck_assert(vp_pic_intr_level(m->pic));
}
END_TEST

START_TEST(test_rotate_on_eoi)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(1, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x21);
    outb(0x20, 0xa0); /* rotate on non-specific EOI: IRQ1 lowest */
    irq(1, 0);
    irq(1, 1);
    irq(3, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x23);
    outb(0x20, 0x20);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x21);
}
END_TEST

START_TEST(test_set_priority)
{
    pic_init(false);
    outb(0x21, 0x00);
    outb(0x20, 0xc0 | 4); /* IRQ4 lowest, so IRQ5 highest */
    irq(0, 1);
    irq(5, 1);
    irq(4, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x25);
    outb(0x20, 0x20);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x20);
    outb(0x20, 0x20);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x24);
}
END_TEST

START_TEST(test_rotate_specific_eoi)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(6, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x26);
    outb(0x20, 0xe0 | 6); /* rotate on specific EOI 6: IRQ7 highest */
    ck_assert_uint_eq(read_isr(0x20), 0);
    irq(0, 1);
    irq(7, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x27);
}
END_TEST

START_TEST(test_special_mask_mode)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(3, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x23);
    irq(5, 1);
    ck_assert(!vp_pic_intr_level(m->pic)); /* blocked by IRQ3 in service */
    outb(0x20, 0x68);                      /* OCW3: set special mask mode */
    outb(0x21, 0x08);                      /* mask IRQ3 */
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x25);
    ck_assert_uint_eq(read_isr(0x20), 0x28);
    /* A non-specific EOI skips the masked in-service IRQ3. */
    outb(0x20, 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    outb(0x20, 0x48); /* reset special mask mode */
    outb(0x20, 0x63);
    ck_assert_uint_eq(read_isr(0x20), 0);
}
END_TEST

START_TEST(test_poll)
{
    pic_init(false);
    irq(5, 1); /* masked: the poll sees unmasked requests only */
    outb(0x20, 0x0c);
    ck_assert_uint_eq(inb(0x20), 0x00);
    unmask(5);
    outb(0x20, 0x0c);
    ck_assert_uint_eq(inb(0x20), 0x85);
    ck_assert_uint_eq(read_isr(0x20), 0x20);
    /* The poll is one read only. */
    ck_assert_uint_eq(inb(0x21), 0xdb);
}
END_TEST

START_TEST(test_sfnm)
{
    /* Special fully nested mode on the master: a higher slave request
     * nests while another slave request is in service. */
    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x11);
    outb(0xa0, 0x11);
    outb(0xa1, 0x28);
    outb(0xa1, 0x02);
    outb(0xa1, 0x01);
    outb(0x21, 0x00);
    outb(0xa1, 0x00);
    irq(12, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x2c);
    irq(9, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x29);
}
END_TEST

START_TEST(test_no_sfnm_blocks_slave)
{
    pic_init(false);
    outb(0x21, 0x00);
    outb(0xa1, 0x00);
    irq(12, 1);
    ck_assert_int_eq(vp_pic_intack(m->pic), 0x2c);
    irq(9, 1);
    /* Fully nested: the master's IR2 is in service, so nothing. */
    ck_assert(!vp_pic_intr_level(m->pic));
}
END_TEST

START_TEST(test_reset_masks)
{
    pic_init(false);
    outb(0x21, 0x00);
    irq(3, 1);
    ck_assert(vp_pic_intr_level(m->pic));
    vp_platform_reset(m);
    ck_assert(!vp_pic_intr_level(m->pic));
    ck_assert_uint_eq(inb(0x21), 0xff);
    ck_assert_uint_eq(read_isr(0x20), 0);
}
END_TEST

/* Every write to every port, interleaved with IRQ changes and
 * acknowledges, leaves the controller answering with a vector built from
 * a programmed base. */
START_TEST(test_fuzz)
{
    static const uint16_t ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        switch (r % 5) {
        case 0:
        case 1:
            outb(ports[(r >> 4) % 6], (uint8_t)(r >> 12));
            break;
        case 2:
            (void)inb(ports[(r >> 4) % 6]);
            break;
        case 3:
            irq((int)((r >> 4) % 16), (r >> 9) & 1);
            break;
        default: {
            int v = vp_pic_intack(m->pic);
            ck_assert_int_ge(v, 0);
            ck_assert_int_le(v, 255);
            break;
        }
        }
    }
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("dev_pic");
    TCase *tc = tcase_create("pic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_power_on_masked);
    tcase_add_test(tc, test_icw1_clears_imr_and_isr);
    tcase_add_test(tc, test_mask_and_deliver);
    tcase_add_test(tc, test_fully_nested_priorities);
    tcase_add_test(tc, test_specific_eoi);
    tcase_add_test(tc, test_cascade);
    tcase_add_test(tc, test_spurious_irq7);
    tcase_add_test(tc, test_line_drop_is_default_ir7);
    tcase_add_test(tc, test_slave_withdrawn);
    tcase_add_test(tc, test_elcr_level);
    tcase_add_test(tc, test_ltim_level);
    tcase_add_test(tc, test_aeoi);
    tcase_add_test(tc, test_rotate_on_eoi);
    tcase_add_test(tc, test_set_priority);
    tcase_add_test(tc, test_rotate_specific_eoi);
    tcase_add_test(tc, test_special_mask_mode);
    tcase_add_test(tc, test_poll);
    tcase_add_test(tc, test_sfnm);
    tcase_add_test(tc, test_no_sfnm_blocks_slave);
    tcase_add_test(tc, test_reset_masks);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(pic_suite)
