/* National Semiconductor PC16550D UART with 16-byte FIFOs, as COM1 (0x3F8,
 * IRQ4) and COM2 (0x2F8, IRQ3). Transmission is instantaneous: a byte
 * written to THR goes to the chardev (or, in loopback, to the receiver) at
 * once, so THRE and TEMT always read 1. Input is pulled from the chardev's
 * read callback by a timer, one character time apart, while the guest
 * shows interest in the receiver (see uart_rx_interest); with no reader
 * no timer runs, so runs stay deterministic.
 *
 * References: National Semiconductor "PC16550D Universal Asynchronous
 * Receiver/Transmitter with FIFOs" datasheet, sections "Registers"
 * (Table II, Register Summary), "Line Control Register", "Line Status
 * Register", "FIFO Control Register", "Interrupt Identification Register"
 * (Table IV, interrupt priorities and reset conditions), "Interrupt Enable
 * Register", "Modem Control Register" (loopback), "Modem Status Register",
 * "Scratchpad Register", "FIFO Interrupt Mode Operation" (trigger levels,
 * character timeout), Table III "UART Reset Configuration".
 *
 * On PCs the UART's INTR reaches the interrupt controller only while
 * OUT2 is active (the serial card's IRQ driver is enabled by OUT2), and
 * loopback forces OUT2 inactive, so no interrupt leaves the chip in
 * loopback. (QEMU does not gate its IRQ on OUT2; guests that want to run
 * on both set OUT2 and stay out of loopback when they use interrupts.)
 *
 * Documented choices: the divisor latch powers on as 1 (115200 baud; the
 * master reset leaves it alone); a divisor of 0 divides by 65536; the
 * modem inputs outside loopback are those of an attached terminal (CTS,
 * DSR, DCD active, RI inactive); break and parity are not conveyed to the
 * chardev (break is logged once). */
#include <stdlib.h>

#include "emu/dev/devices.h"

#define UART_CLOCK_HZ 1843200ull /* 16 x 115200 */
#define NS_PER_S 1000000000ull
#define FIFO_SIZE 16
/* The guest counts as interested in input for this long after it last
 * looked at the receiver. */
#define RX_INTEREST_NS 100000000ull

enum { R_DATA, R_IER, R_IIR, R_LCR, R_MCR, R_LSR, R_MSR, R_SCR };

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08

#define IIR_NONE 0x01
#define IIR_MS 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO 0xc0

#define FCR_ENABLE 0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04

#define LCR_BREAK 0x40
#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct vp_uart {
    vp_machine *m;
    int index, irq;
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t lsr_err;       /* OE PE FE BI, cleared by reading LSR */
    uint8_t msr;           /* inputs in 7-4, deltas in 3-0 */
    bool fifo;             /* FCR0 */
    uint8_t trigger;       /* RCVR FIFO trigger level */
    uint8_t rx[FIFO_SIZE];
    int rx_head, rx_count;
    uint64_t rx_activity_ns;
    bool thri;             /* THRE interrupt latched */
    bool irq_level;
    uint64_t rx_interest_ns;
    vp_timer poll_timer;
    vp_timer timeout_timer;
};

static uint64_t uart_now(const vp_uart *u)
{
    return vp_clock_now(&u->m->clock);
}

/* One character's time on the line: start bit, 5-8 data bits, parity,
 * 1, 1.5 or 2 stop bits, at 1.8432 MHz / (16 x divisor). */
static uint64_t char_ns(const vp_uart *u)
{
    unsigned word = 5 + (u->lcr & 3);
    unsigned halfbits = 2 * (1 + word + ((u->lcr & 0x08) ? 1 : 0));
    halfbits += (u->lcr & 0x04) ? (word == 5 ? 3 : 4) : 2;
    uint64_t div = (uint64_t)u->dlm << 8 | u->dll;
    if (div == 0)
        div = 65536;
    return vp_dev_muldiv(halfbits * div * 8, NS_PER_S, UART_CLOCK_HZ);
}

static uint8_t word_mask(const vp_uart *u)
{
    return (uint8_t)((1u << (5 + (u->lcr & 3))) - 1);
}

/* ---- interrupts ---- */

static bool rx_data_ready(const vp_uart *u)
{
    return u->fifo ? u->rx_count >= u->trigger : u->rx_count > 0;
}

/* Character timeout: characters below the trigger level, none read or
 * received for four character times ("FIFO Interrupt Mode Operation"). */
static bool rx_timeout(const vp_uart *u, uint64_t now)
{
    return u->fifo && u->rx_count > 0 &&
           now - u->rx_activity_ns >= 4 * char_ns(u);
}

/* Interrupt identification in priority order (Table IV). */
static uint8_t uart_iir(const vp_uart *u, uint64_t now)
{
    uint8_t id = IIR_NONE;
    if ((u->ier & IER_RLS) && (u->lsr_err & LSR_ERRORS))
        id = IIR_RLS;
    else if ((u->ier & IER_RDA) && rx_data_ready(u))
        id = IIR_RDA;
    else if ((u->ier & IER_RDA) && rx_timeout(u, now))
        id = IIR_TIMEOUT;
    else if ((u->ier & IER_THRE) && u->thri)
        id = IIR_THRE;
    else if ((u->ier & IER_MS) && (u->msr & 0x0f))
        id = IIR_MS;
    return (uint8_t)(id | (u->fifo ? IIR_FIFO : 0));
}

static void uart_update_irq(vp_uart *u)
{
    uint64_t now = uart_now(u);
    bool pending = !(uart_iir(u, now) & IIR_NONE);
    bool level = pending && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    if (level != u->irq_level) {
        u->irq_level = level;
        vp_machine_set_isa_irq(u->m, u->irq, level);
    }
    /* A timeout that can interrupt needs a timer to be noticed. */
    if (u->fifo && u->rx_count > 0 && (u->ier & IER_RDA) &&
        !rx_timeout(u, now))
        vp_timer_mod(&u->m->clock, &u->timeout_timer,
                     u->rx_activity_ns + 4 * char_ns(u));
    else
        vp_timer_del(&u->m->clock, &u->timeout_timer);
}

static void uart_timeout_timer(void *opaque)
{
    uart_update_irq(opaque);
}

/* ---- receiver ---- */

static void uart_receive(vp_uart *u, uint8_t b)
{
    int depth = u->fifo ? FIFO_SIZE : 1;
    b &= word_mask(u);
    if (u->rx_count == depth) {
        /* Overrun: in FIFO mode the new character is lost; without FIFOs
         * it overwrites the holding register ("Line Status Register"). */
        u->lsr_err |= LSR_OE;
        if (!u->fifo)
            u->rx[u->rx_head] = b;
    } else {
        u->rx[(u->rx_head + u->rx_count) % FIFO_SIZE] = b;
        u->rx_count++;
    }
    u->rx_activity_ns = uart_now(u);
    uart_update_irq(u);
}

static bool rx_room(const vp_uart *u)
{
    return u->rx_count < (u->fifo ? FIFO_SIZE : 1);
}

static void uart_poll_arm(vp_uart *u)
{
    if (!u->poll_timer.armed)
        vp_timer_mod(&u->m->clock, &u->poll_timer, uart_now(u) + char_ns(u));
}

/* The guest looked at the receiver (LSR, RBR) or enabled its interrupt:
 * poll the chardev for a while. */
static void uart_rx_interest(vp_uart *u)
{
    if (!u->m->cfg.serial[u->index].read)
        return;
    u->rx_interest_ns = uart_now(u);
    uart_poll_arm(u);
}

static void uart_poll_timer(void *opaque)
{
    vp_uart *u = opaque;
    const vp_chardev *cd = &u->m->cfg.serial[u->index];
    if (!cd->read)
        return;
    /* In loopback the receiver is disconnected from the line. Without
     * room the byte stays in the chardev (flow control, in effect). */
    if (!(u->mcr & MCR_LOOP) && rx_room(u)) {
        int c = cd->read(cd->opaque);
        if (c >= 0)
            uart_receive(u, (uint8_t)c);
    }
    uint64_t now = uart_now(u);
    if ((u->ier & IER_RDA) || now - u->rx_interest_ns < RX_INTEREST_NS)
        vp_timer_mod(&u->m->clock, &u->poll_timer, now + char_ns(u));
}

static uint8_t uart_read_rbr(vp_uart *u)
{
    uint8_t v = 0;
    if (u->rx_count > 0) {
        v = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
        u->rx_count--;
    } else {
        v = u->rx[(u->rx_head + FIFO_SIZE - 1) % FIFO_SIZE];
    }
    u->rx_activity_ns = uart_now(u);
    uart_rx_interest(u);
    uart_update_irq(u);
    return v;
}

/* ---- transmitter ---- */

static void uart_write_thr(vp_uart *u, uint8_t v)
{
    uint8_t b = v & word_mask(u);
    /* Writing THR clears the THRE interrupt; the byte moves on at once
     * and THR is empty again, which raises it anew. The drop in between
     * is a fresh edge for an edge-triggered controller. */
    u->thri = false;
    uart_update_irq(u);
    if (u->mcr & MCR_LOOP) {
        uart_receive(u, b);
    } else {
        const vp_chardev *cd = &u->m->cfg.serial[u->index];
        if (cd->write)
            cd->write(cd->opaque, &b, 1);
    }
    u->thri = true;
    uart_update_irq(u);
}

/* ---- modem lines ---- */

static uint8_t modem_inputs(const vp_uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    /* Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
    uint8_t v = 0;
    if (u->mcr & MCR_RTS)
        v |= MSR_CTS;
    if (u->mcr & MCR_DTR)
        v |= MSR_DSR;
    if (u->mcr & MCR_OUT1)
        v |= MSR_RI;
    if (u->mcr & MCR_OUT2)
        v |= MSR_DCD;
    return v;
}

static void uart_update_msr(vp_uart *u)
{
    uint8_t in = modem_inputs(u), old = u->msr & 0xf0, delta = 0;
    if ((in ^ old) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((in ^ old) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(in & MSR_RI))
        delta |= MSR_TERI; /* trailing edge of RI */
    if ((in ^ old) & MSR_DCD)
        delta |= MSR_DDCD;
    u->msr = (uint8_t)(in | (u->msr & 0x0f) | delta);
}

/* ---- register interface ---- */

static uint64_t uart_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_uart *u = opaque;
    (void)size;
    switch (off) {
    case R_DATA:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        return uart_read_rbr(u);
    case R_IER:
        if (u->lcr & LCR_DLAB)
            return u->dlm;
        return u->ier;
    case R_IIR: {
        uint8_t v = uart_iir(u, uart_now(u));
        /* Reading IIR clears a THRE interrupt it reports. */
        if ((v & 0x0f) == IIR_THRE) {
            u->thri = false;
            uart_update_irq(u);
        }
        return v;
    }
    case R_LCR:
        return u->lcr;
    case R_MCR:
        return u->mcr;
    case R_LSR: {
        uint8_t v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_err);
        if (u->rx_count > 0)
            v |= LSR_DR;
        u->lsr_err = 0;
        uart_rx_interest(u);
        uart_update_irq(u);
        return v;
    }
    case R_MSR: {
        uint8_t v = u->msr;
        u->msr &= 0xf0;
        uart_update_irq(u);
        return v;
    }
    default:
        return u->scr;
    }
}

static void uart_write_fcr(vp_uart *u, uint8_t v)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    bool en = v & FCR_ENABLE;
    if (en != u->fifo) {
        /* Changing FCR0 clears both FIFOs. */
        u->rx_count = 0;
        u->rx_head = 0;
        u->fifo = en;
    }
    /* The other bits are programmed only together with FCR0 = 1. */
    if (en) {
        if (v & FCR_RX_RESET) {
            u->rx_count = 0;
            u->rx_head = 0;
        }
        u->trigger = levels[v >> 6];
    }
    u->rx_activity_ns = uart_now(u);
}

static void uart_io_write(void *opaque, uint64_t off, uint64_t val,
                          unsigned size)
{
    vp_uart *u = opaque;
    uint8_t v = (uint8_t)val;
    (void)size;
    switch (off) {
    case R_DATA:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            uart_write_thr(u, v);
        return;
    case R_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            return;
        }
        /* Enabling the THRE interrupt while THR is empty raises it. */
        if ((v & IER_THRE) && !(u->ier & IER_THRE))
            u->thri = true;
        u->ier = v & 0x0f;
        if (u->ier & IER_RDA)
            uart_rx_interest(u);
        break;
    case R_IIR:
        uart_write_fcr(u, v);
        break;
    case R_LCR:
        if ((v & LCR_BREAK) && !(u->lcr & LCR_BREAK))
            VP_UNIMPL_ONCE(&u->m->trace,
                           "16550: break condition not sent to the chardev");
        u->lcr = v;
        break;
    case R_MCR:
        u->mcr = v & 0x1f;
        uart_update_msr(u);
        break;
    case R_LSR:
        /* Factory test use only ("Line Status Register"): ignored. */
        break;
    case R_MSR:
        break;
    default:
        u->scr = v;
        break;
    }
    uart_update_irq(u);
}

static const vp_io_ops uart_ops = {
    .name = "uart16550",
    .read = uart_io_read,
    .write = uart_io_write,
    .widths = VP_W8,
};

/* Master reset (Table III): registers to their reset values, FIFOs
 * cleared; the divisor latch and the scratchpad keep their contents. */
static void uart_master_reset(vp_uart *u)
{
    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr_err = 0;
    u->fifo = false;
    u->trigger = 1;
    u->rx_count = 0;
    u->rx_head = 0;
    u->thri = false;
    u->msr = modem_inputs(u);
    u->rx_activity_ns = uart_now(u);
}

vp_uart *vp_uart_create(vp_machine *m, int index, uint16_t base, int irq,
                        vp_error *err)
{
    vp_uart *u = calloc(1, sizeof(*u));
    if (!u) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    u->m = m;
    u->index = index;
    u->irq = irq;
    u->dll = 1;
    vp_timer_init(&u->poll_timer, uart_poll_timer, u);
    vp_timer_init(&u->timeout_timer, uart_timeout_timer, u);
    uart_master_reset(u);
    if (vp_ioport_register(&m->io, base, 8, &uart_ops, u) < 0) {
        vp_fail(err, "16550 at %#x: I/O ports already in use", base);
        free(u);
        return NULL;
    }
    return u;
}

void vp_uart_reset(vp_uart *u)
{
    uart_master_reset(u);
    vp_timer_del(&u->m->clock, &u->poll_timer);
    uart_update_irq(u);
}

void vp_uart_free(vp_uart *u)
{
    if (!u)
        return;
    vp_timer_del(&u->m->clock, &u->poll_timer);
    vp_timer_del(&u->m->clock, &u->timeout_timer);
    free(u);
}
