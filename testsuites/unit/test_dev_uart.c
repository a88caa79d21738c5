/* 16550A UARTs through their ports: reset values, divisor latch,
 * scratch, transmit to the chardev, word length, loopback (data and modem
 * lines), FIFOs and overrun, interrupt identification priorities, trigger
 * levels and character timeout, OUT2 gating of the IRQ, input from a
 * chardev reader (PC16550D datasheet). */
#include <string.h>

#include "testsuites/unit/lib/unit.h"

#define NS 1000000000ull

static vp_machine *m;
static uint8_t out[2][256];
static size_t nout[2];
static unit_irqs irq;
static const char *input;

static void capture(void *opaque, const uint8_t *buf, size_t n)
{
    int i = (int)(intptr_t)opaque;
    for (size_t k = 0; k < n && nout[i] < sizeof(out[i]); k++)
        out[i][nout[i]++] = buf[k];
}

static int reader(void *opaque)
{
    (void)opaque;
    if (!input || !*input)
        return -1;
    return (uint8_t)*input++;
}

static void setup(void)
{
    m = unit_machine(16);
    for (int i = 0; i < 2; i++) {
        nout[i] = 0;
        m->cfg.serial[i].write = capture;
        m->cfg.serial[i].opaque = (void *)(intptr_t)i;
    }
    input = NULL;
    unit_watch_irqs(m, &irq);
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

enum { THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6,
       SCR = 7 };
#define COM1 0x3f8
#define COM2 0x2f8

START_TEST(test_reset_values)
{
    static const uint16_t bases[] = {COM1, COM2};
    /* Table III; MSR inputs are an attached terminal's CTS, DSR, DCD. */
    static const struct { int reg; uint8_t want; } w[] = {
        {IER, 0x00}, {IIR, 0x01}, {LCR, 0x00}, {MCR, 0x00},
        {LSR, 0x60}, {MSR, 0xb0}};
    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < VP_ARRAY_SIZE(w); i++)
            ck_assert_msg(inb((uint16_t)(bases[b] + w[i].reg)) == w[i].want,
                          "port %#x", bases[b] + w[i].reg);
}
END_TEST

START_TEST(test_dlab_and_scratch)
{
    outb(COM1 + LCR, 0x83);
    outb(COM1 + THR, 0x0c);
    outb(COM1 + IER, 0x00);
    ck_assert_uint_eq(inb(COM1 + THR), 0x0c);
    ck_assert_uint_eq(inb(COM1 + IER), 0x00);
    outb(COM1 + LCR, 0x03);
    outb(COM1 + IER, 0xff); /* bits 7-4 are always 0 */
    ck_assert_uint_eq(inb(COM1 + IER), 0x0f);
    outb(COM1 + IER, 0x00);
    outb(COM1 + THR, 'x'); /* DLAB=0: the transmitter, not DLL */
    ck_assert_uint_eq(nout[0], 1);
    outb(COM1 + LCR, 0x83);
    ck_assert_uint_eq(inb(COM1 + THR), 0x0c);
    outb(COM1 + SCR, 0x5a);
    ck_assert_uint_eq(inb(COM1 + SCR), 0x5a);
    ck_assert_uint_eq(inb(COM1 + LCR), 0x83);
}
END_TEST

START_TEST(test_transmit)
{
    outb(COM1 + LCR, 0x03);
    outb(COM1 + THR, 'H');
    outb(COM1 + THR, 'i');
    outb(COM2 + LCR, 0x03);
    outb(COM2 + THR, '2');
    ck_assert_uint_eq(nout[0], 2);
    ck_assert_mem_eq(out[0], "Hi", 2);
    ck_assert_uint_eq(nout[1], 1);
    ck_assert_uint_eq(out[1][0], '2');
    /* 5-bit words carry the low five bits only. */
    outb(COM1 + LCR, 0x00);
    outb(COM1 + THR, 'A');
    ck_assert_uint_eq(out[0][2], 'A' & 0x1f);
    ck_assert_uint_eq(inb(COM1 + LSR) & 0x60, 0x60);
}
END_TEST

START_TEST(test_loopback)
{
    outb(COM1 + LCR, 0x03);
    outb(COM1 + MCR, 0x1f); /* loop, OUT2, OUT1, RTS, DTR */
    /* CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2; RI's rise is no TERI. */
    ck_assert_uint_eq(inb(COM1 + MSR), 0xf0);
    outb(COM1 + MCR, 0x10);
    ck_assert_uint_eq(inb(COM1 + MSR), 0x0f); /* all four deltas */
    ck_assert_uint_eq(inb(COM1 + MSR), 0x00); /* cleared by the read */
    outb(COM1 + THR, 0x41);
    ck_assert_uint_eq(nout[0], 0); /* nothing on the line */
    ck_assert_uint_eq(inb(COM1 + LSR), 0x61);
    ck_assert_uint_eq(inb(COM1 + THR), 0x41);
    ck_assert_uint_eq(inb(COM1 + LSR), 0x60);
}
END_TEST

START_TEST(test_fifo_overrun)
{
    outb(COM1 + LCR, 0x03);
    outb(COM1 + IIR, 0x07); /* FIFOs on and cleared, trigger 1 */
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc1);
    outb(COM1 + MCR, 0x10);
    for (int i = 0; i < 17; i++)
        outb(COM1 + THR, (uint8_t)i);
    ck_assert_uint_eq(inb(COM1 + LSR), 0x63); /* DR, OE */
    ck_assert_uint_eq(inb(COM1 + LSR), 0x61); /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(inb(COM1 + THR), i); /* the 17th was lost */
    ck_assert_uint_eq(inb(COM1 + LSR), 0x60);
    /* RX FIFO reset. */
    outb(COM1 + THR, 0x55);
    outb(COM1 + IIR, 0x03);
    ck_assert_uint_eq(inb(COM1 + LSR) & 1, 0);
    /* Without FIFOs the holding register is overwritten. */
    outb(COM1 + IIR, 0x00);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x01);
    outb(COM1 + THR, 1);
    outb(COM1 + THR, 2);
    ck_assert_uint_eq(inb(COM1 + LSR), 0x63);
    ck_assert_uint_eq(inb(COM1 + THR), 2);
}
END_TEST

START_TEST(test_iir_priorities)
{
    outb(COM1 + LCR, 0x03);
    outb(COM1 + MCR, 0x10); /* loopback: CTS/DSR/DCD fall, deltas set */
    outb(COM1 + IER, 0x0f); /* THRE enabled with THR empty: pending */
    ck_assert_uint_eq(inb(COM1 + IIR), 0x02);
    outb(COM1 + IER, 0x0d);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x00); /* only modem status left */
    outb(COM1 + IER, 0x0f);
    outb(COM1 + THR, 1);
    outb(COM1 + THR, 2); /* overrun */
    ck_assert_uint_eq(inb(COM1 + IIR), 0x06); /* receiver line status */
    ck_assert_uint_eq(inb(COM1 + IIR), 0x06); /* until LSR is read */
    (void)inb(COM1 + LSR);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x04); /* received data */
    (void)inb(COM1 + THR);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x02); /* THRE ... */
    ck_assert_uint_eq(inb(COM1 + IIR), 0x00); /* ... cleared by IIR read */
    (void)inb(COM1 + MSR);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x01);
}
END_TEST

START_TEST(test_trigger_and_timeout)
{
    outb(COM1 + LCR, 0x83);
    outb(COM1 + THR, 12); /* 9600 baud: 10 bits = 1.0417 ms a character */
    outb(COM1 + IER, 0);
    outb(COM1 + LCR, 0x03);
    outb(COM1 + IIR, 0x41); /* FIFO, trigger level 4 */
    outb(COM1 + MCR, 0x10);
    outb(COM1 + IER, 0x01);
    for (int i = 0; i < 3; i++)
        outb(COM1 + THR, (uint8_t)('a' + i));
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc1);
    outb(COM1 + THR, 'd');
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc4);
    ck_assert_uint_eq(inb(COM1 + THR), 'a');
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc1); /* below the trigger */
    uint64_t t = vp_clock_now(&m->clock);
    unit_run_to_ns(m, t + 4100000);
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc1);
    unit_run_to_ns(m, t + 4200000); /* four character times without activity */
    ck_assert_uint_eq(inb(COM1 + IIR), 0xcc);
    ck_assert_uint_eq(inb(COM1 + THR), 'b'); /* a read clears it */
    ck_assert_uint_eq(inb(COM1 + IIR), 0xc1);
}
END_TEST

START_TEST(test_irq_gating)
{
    outb(COM1 + LCR, 0x03);
    outb(COM1 + IER, 0x02); /* THRE pending */
    ck_assert_int_eq(irq.level[4], 0); /* OUT2 inactive */
    outb(COM1 + MCR, 0x08);
    ck_assert_int_eq(irq.level[4], 1);
    ck_assert_uint_eq(inb(COM1 + IIR), 0x02);
    ck_assert_int_eq(irq.level[4], 0);
    outb(COM1 + THR, '.'); /* THR empties again: a new edge */
    ck_assert_int_eq(irq.level[4], 1);
    ck_assert_uint_eq(irq.edges[4], 2);
    outb(COM1 + MCR, 0x18); /* loopback forces OUT2 inactive */
    ck_assert_int_eq(irq.level[4], 0);
    /* COM2 is IRQ3. */
    outb(COM2 + MCR, 0x08);
    outb(COM2 + IER, 0x02);
    ck_assert_int_eq(irq.level[3], 1);
}
END_TEST

START_TEST(test_thr_write_pulses_irq)
{
    /* Each byte written while THRE interrupts are on gives the interrupt
     * controller a fresh edge. */
    outb(COM1 + MCR, 0x08);
    outb(COM1 + IER, 0x02);
    unsigned before = irq.edges[4];
    for (int i = 0; i < 5; i++)
        outb(COM1 + THR, 'x');
    ck_assert_uint_eq(irq.edges[4] - before, 5);
}
END_TEST

START_TEST(test_input_reader)
{
    m->cfg.serial[0].read = reader;
    /* Without interest nothing polls. */
    ck_assert_uint_eq(vp_clock_next_deadline(&m->clock), UINT64_MAX);
    input = "abc";
    outb(COM1 + LCR, 0x03);
    outb(COM1 + MCR, 0x08);
    outb(COM1 + IER, 0x01);
    unit_run_to_ns(m, NS / 100);
    ck_assert_int_eq(irq.level[4], 1);
    char got[4] = {0};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(inb(COM1 + LSR) & 1, 1);
        got[i] = (char)inb(COM1 + THR);
        unit_run_to_ns(m, vp_clock_now(&m->clock) + NS / 1000);
    }
    ck_assert_str_eq(got, "abc");
    ck_assert_int_eq(irq.level[4], 0);
    /* Interest lapses when the guest stops looking and RDA is off. */
    outb(COM1 + IER, 0x00);
    unit_run_to_ns(m, vp_clock_now(&m->clock) + NS);
    ck_assert_uint_eq(vp_clock_next_deadline(&m->clock), UINT64_MAX);
}
END_TEST

START_TEST(test_no_reader_no_timer)
{
    outb(COM1 + IER, 0x0f);
    outb(COM1 + MCR, 0x0b);
    (void)inb(COM1 + LSR);
    (void)inb(COM1 + THR);
    ck_assert_uint_eq(vp_clock_next_deadline(&m->clock), UINT64_MAX);
}
END_TEST

START_TEST(test_fuzz)
{
    m->cfg.serial[0].read = reader;
    uint32_t x = 99;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        if (i % 1000 == 0)
            input = "some input bytes";
        switch (r % 4) {
        case 0:
        case 1:
            outb((uint16_t)(COM1 + (r >> 3) % 8), (uint8_t)(r >> 11));
            break;
        case 2:
            (void)inb((uint16_t)(COM1 + (r >> 3) % 8));
            break;
        default:
            unit_run_to_ns(m, vp_clock_now(&m->clock) + (r >> 4) % 2000000);
            break;
        }
    }
}
END_TEST

static Suite *uart_suite(void)
{
    Suite *s = suite_create("dev_uart");
    TCase *tc = tcase_create("uart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_dlab_and_scratch);
    tcase_add_test(tc, test_transmit);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_fifo_overrun);
    tcase_add_test(tc, test_iir_priorities);
    tcase_add_test(tc, test_trigger_and_timeout);
    tcase_add_test(tc, test_irq_gating);
    tcase_add_test(tc, test_thr_write_pulses_irq);
    tcase_add_test(tc, test_input_reader);
    tcase_add_test(tc, test_no_reader_no_timer);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

VP_UNIT_MAIN(uart_suite)
