/* Motorola MC146818A real-time clock with its 128 bytes of CMOS RAM, at
 * index port 0x70 (bit 7: NMI mask, as on the PC/AT) and data port 0x71,
 * interrupting on ISA IRQ8.
 *
 * References: Motorola "MC146818A Real-Time Clock Plus RAM" datasheet,
 * sections "Address Map", "Time, Calendar and Alarm Locations" (Table 3,
 * BCD and binary, 12/24-hour modes, alarm "don't care" codes), "Update
 * Cycle" (UIP), "Register A" (UIP, DV2-DV0, RS3-RS0, Table 4 periodic
 * rates for the 32.768 kHz time base), "Register B" (SET, PIE, AIE, UIE,
 * SQWE, DM, 24/12, DSE), "Register C" (IRQF, PF, AF, UF; cleared by a
 * read), "Register D" (VRT), "Interrupts", "Divider Stages" ("the first
 * update cycle begins one-half second later"), "RESET". The layout of the
 * CMOS bytes above 0x0D is the IBM PC/AT BIOS convention.
 *
 * The clock is the divider chain's 32.768 kHz count since `div_origin_ns`
 * of machine time: a second rolls over every 32768 counts, periodic flags
 * come every 2^k counts. Clock seconds are Unix seconds; the date and time
 * registers are computed from them on every read and the flags of
 * register C are brought up to date lazily, so a timer is armed only when
 * an enabled interrupt can fire.
 *
 * Documented choices:
 * - the clock starts at cfg.rtc_epoch, or 2026-01-01 00:00:00 UTC, so
 *   runs are deterministic;
 * - invalid date/time register contents (a 0x99 hour, a 31st of
 *   February) are normalised by the calendar arithmetic (the datasheet
 *   leaves them undefined);
 * - the update is instantaneous at the second's rollover; UIP is 1 for the
 *   244 us before it ("UIP ... will not occur for at least 244 us when 0");
 * - the century lives in CMOS byte 0x32 as on PCs and is part of the clock;
 * - DV2-DV0 values that select a 4.194304 or 1.048576 MHz time base are
 *   run as 32.768 kHz (logged once); daylight saving (DSE) is logged once
 *   and ignored; the SQW pin is not connected on PCs. */
#include <stdlib.h>
#include <string.h>

#include "emu/dev/devices.h"

#define RTC_HZ 32768ull
#define NS_PER_S 1000000000ll
/* 2026-01-01 00:00:00 UTC. */
#define RTC_DEFAULT_EPOCH 1767225600ll

enum {
    RTC_SEC = 0x00,
    RTC_SEC_ALARM = 0x01,
    RTC_MIN = 0x02,
    RTC_MIN_ALARM = 0x03,
    RTC_HOUR = 0x04,
    RTC_HOUR_ALARM = 0x05,
    RTC_WDAY = 0x06,
    RTC_MDAY = 0x07,
    RTC_MONTH = 0x08,
    RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a,
    RTC_REG_B = 0x0b,
    RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d,
    RTC_CENTURY = 0x32,
};

#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_SQWE 0x08
#define REG_B_DM 0x04
#define REG_B_24H 0x02
#define REG_B_DSE 0x01
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_AF 0x20
#define REG_C_UF 0x10
#define REG_D_VRT 0x80

struct vp_rtc {
    vp_machine *m;
    uint8_t index;
    bool nmi_masked;
    uint8_t ram[128];      /* CMOS; clock bytes are computed, see above */
    uint8_t reg_a, reg_b, reg_c;
    bool div_running;      /* DV2-DV0 not in reset */
    int64_t div_origin_ns; /* machine ns at which the chain count was 0 */
    /* Clock seconds: base_secs at anchor_ns plus the rollovers since,
     * while running; frozen_secs while SET or the divider stops it. */
    bool clock_running;
    int64_t base_secs;
    int64_t anchor_ns;
    int64_t frozen_secs;
    int wday_adjust;       /* day-of-week register minus computed day */
    int64_t flags_ns;      /* register C is up to date to here */
    bool irq_level;
    vp_timer timer;
};

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    /* Normalise the month first, so any register contents work. */
    int64_t carry = floor_div(m - 1, 12);
    y += carry;
    m -= carry * 12;
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct rtc_tm {
    int64_t year;
    int mon, mday, hour, min, sec, wday; /* wday 0 = Sunday */
} rtc_tm;

static rtc_tm tm_from_secs(int64_t secs)
{
    rtc_tm t;
    int64_t days = floor_div(secs, 86400), rem = secs - days * 86400;
    t.hour = (int)(rem / 3600);
    t.min = (int)(rem / 60 % 60);
    t.sec = (int)(rem % 60);
    t.wday = (int)(days + 4 - floor_div(days + 4, 7) * 7); /* 1970: Thu */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t.mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    t.mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    t.year = yoe + era * 400 + (t.mon <= 2);
    return t;
}

static int64_t secs_from_tm(const rtc_tm *t)
{
    return days_from_civil(t->year, t->mon, t->mday) * 86400 +
           (int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
}

/* ---- divider chain and clock ---- */

static int64_t rtc_now(const vp_rtc *r)
{
    return (int64_t)vp_clock_now(&r->m->clock);
}

static uint64_t chain_count(const vp_rtc *r, int64_t t)
{
    if (t <= r->div_origin_ns)
        return 0;
    return vp_dev_muldiv((uint64_t)(t - r->div_origin_ns), RTC_HZ,
                         (uint64_t)NS_PER_S);
}

static int64_t chain_secs(const vp_rtc *r, int64_t t)
{
    return t <= r->div_origin_ns ? 0 : (t - r->div_origin_ns) / NS_PER_S;
}

static int64_t clock_secs(const vp_rtc *r, int64_t t)
{
    if (!r->clock_running)
        return r->frozen_secs;
    return r->base_secs + chain_secs(r, t) - chain_secs(r, r->anchor_ns);
}

static void clock_set(vp_rtc *r, int64_t t, int64_t secs)
{
    if (r->clock_running) {
        r->base_secs = secs;
        r->anchor_ns = t;
    } else {
        r->frozen_secs = secs;
    }
}

/* Updates run while the divider runs and SET is 0. */
static void clock_update_running(vp_rtc *r, int64_t t)
{
    bool run = r->div_running && !(r->reg_b & REG_B_SET);
    if (run == r->clock_running)
        return;
    if (run) {
        r->base_secs = r->frozen_secs;
        r->anchor_ns = t;
    } else {
        r->frozen_secs = clock_secs(r, t);
    }
    r->clock_running = run;
}

/* Periodic interrupt period in chain counts (Table 4, 32.768 kHz), or 0. */
static uint64_t periodic_counts(const vp_rtc *r)
{
    unsigned rs = r->reg_a & 15;
    if (rs == 0)
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

/* ---- register encodings ---- */

static uint8_t enc(const vp_rtc *r, unsigned v)
{
    return (r->reg_b & REG_B_DM) ? (uint8_t)v : vp_bcd(v);
}

static unsigned dec(const vp_rtc *r, uint8_t v)
{
    return (r->reg_b & REG_B_DM) ? v : vp_from_bcd(v);
}

static uint8_t enc_hour(const vp_rtc *r, int h)
{
    if (r->reg_b & REG_B_24H)
        return enc(r, (unsigned)h);
    int h12 = h % 12 == 0 ? 12 : h % 12;
    return (uint8_t)(enc(r, (unsigned)h12) | (h >= 12 ? 0x80 : 0));
}

static int dec_hour(const vp_rtc *r, uint8_t v)
{
    if (r->reg_b & REG_B_24H)
        return (int)dec(r, v);
    int h = (int)dec(r, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

static bool alarm_field_match(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static bool alarm_match(const vp_rtc *r, int64_t secs)
{
    rtc_tm t = tm_from_secs(secs);
    return alarm_field_match(r->ram[RTC_SEC_ALARM], enc(r, (unsigned)t.sec)) &&
           alarm_field_match(r->ram[RTC_MIN_ALARM], enc(r, (unsigned)t.min)) &&
           alarm_field_match(r->ram[RTC_HOUR_ALARM], enc_hour(r, t.hour));
}

/* ---- flags and IRQ8 ---- */

/* Brings PF, UF and AF up to date for the interval (flags_ns, t]. Every
 * change of the clock's configuration syncs first, so the interval is
 * homogeneous. */
static void rtc_sync(vp_rtc *r, int64_t t)
{
    if (t <= r->flags_ns)
        return;
    uint64_t per = periodic_counts(r);
    if (r->div_running && per &&
        chain_count(r, t) / per > chain_count(r, r->flags_ns) / per)
        r->reg_c |= REG_C_PF;
    if (r->clock_running) {
        int64_t n = chain_secs(r, t) - chain_secs(r, r->flags_ns);
        if (n > 0) {
            r->reg_c |= REG_C_UF;
            /* Each update compares the new time with the alarm; a day of
             * updates covers every time of day. */
            int64_t secs = clock_secs(r, t);
            for (int64_t i = 0; i < n && i < 86400; i++) {
                if (alarm_match(r, secs - i)) {
                    r->reg_c |= REG_C_AF;
                    break;
                }
            }
        }
    }
    r->flags_ns = t;
}

static bool rtc_irqf(const vp_rtc *r)
{
    return ((r->reg_c & REG_C_PF) && (r->reg_b & REG_B_PIE)) ||
           ((r->reg_c & REG_C_AF) && (r->reg_b & REG_B_AIE)) ||
           ((r->reg_c & REG_C_UF) && (r->reg_b & REG_B_UIE));
}

static bool alarm_can_match(const vp_rtc *r)
{
    static const struct { int idx; unsigned max; } f[] = {
        {RTC_SEC_ALARM, 59}, {RTC_MIN_ALARM, 59}, {RTC_HOUR_ALARM, 23}};
    for (size_t i = 0; i < VP_ARRAY_SIZE(f); i++) {
        uint8_t a = r->ram[f[i].idx];
        if ((a & 0xc0) == 0xc0)
            continue;
        bool ok = false;
        for (unsigned v = 0; v <= f[i].max && !ok; v++)
            ok = (f[i].idx == RTC_HOUR_ALARM ? enc_hour(r, (int)v)
                                             : enc(r, v)) == a;
        if (!ok)
            return false;
    }
    return true;
}

/* Drives IRQ8 from IRQF and arms the timer for the next event that can
 * set it. While IRQF is 1 nothing new can be signalled until register C
 * is read, so no timer runs. */
static void rtc_update(vp_rtc *r, int64_t t)
{
    bool level = rtc_irqf(r);
    if (level != r->irq_level) {
        r->irq_level = level;
        vp_machine_set_isa_irq(r->m, 8, level);
    }
    int64_t next = INT64_MAX;
    if (!level) {
        uint64_t per = periodic_counts(r);
        if ((r->reg_b & REG_B_PIE) && r->div_running && per) {
            uint64_t c = (chain_count(r, t) / per + 1) * per;
            int64_t ns = r->div_origin_ns +
                         (int64_t)vp_dev_muldiv_ceil(c, (uint64_t)NS_PER_S,
                                                     RTC_HZ);
            if (ns < next)
                next = ns;
        }
        if (r->clock_running &&
            ((r->reg_b & REG_B_UIE) ||
             ((r->reg_b & REG_B_AIE) && alarm_can_match(r)))) {
            int64_t ns = r->div_origin_ns +
                         (chain_secs(r, t) + 1) * NS_PER_S;
            if (ns < next)
                next = ns;
        }
    }
    if (next == INT64_MAX)
        vp_timer_del(&r->m->clock, &r->timer);
    else
        vp_timer_mod(&r->m->clock, &r->timer, (uint64_t)next);
}

static void rtc_timer(void *opaque)
{
    vp_rtc *r = opaque;
    int64_t t = rtc_now(r);
    rtc_sync(r, t);
    rtc_update(r, t);
}

/* ---- register access ---- */

static uint8_t rtc_read_reg(vp_rtc *r, uint8_t idx, int64_t t)
{
    rtc_tm tm = tm_from_secs(clock_secs(r, t));
    switch (idx) {
    case RTC_SEC:
        return enc(r, (unsigned)tm.sec);
    case RTC_MIN:
        return enc(r, (unsigned)tm.min);
    case RTC_HOUR:
        return enc_hour(r, tm.hour);
    case RTC_WDAY:
        return enc(r, (unsigned)((tm.wday + r->wday_adjust) % 7 + 1));
    case RTC_MDAY:
        return enc(r, (unsigned)tm.mday);
    case RTC_MONTH:
        return enc(r, (unsigned)tm.mon);
    case RTC_YEAR:
        return enc(r, (unsigned)((tm.year % 100 + 100) % 100));
    case RTC_CENTURY:
        return enc(r, (unsigned)((floor_div(tm.year, 100) % 100 + 100) % 100));
    case RTC_REG_A: {
        uint8_t v = r->reg_a;
        /* UIP: an update begins within 244 us (8 chain counts). */
        if (r->clock_running && chain_count(r, t) % RTC_HZ >= RTC_HZ - 8)
            v |= REG_A_UIP;
        return v;
    }
    case RTC_REG_B:
        return r->reg_b;
    case RTC_REG_C: {
        rtc_sync(r, t);
        uint8_t v = r->reg_c | (rtc_irqf(r) ? REG_C_IRQF : 0);
        r->reg_c = 0;
        rtc_update(r, t);
        return v;
    }
    case RTC_REG_D:
        return REG_D_VRT;
    default:
        return r->ram[idx];
    }
}

static void rtc_write_time(vp_rtc *r, uint8_t idx, uint8_t v, int64_t t)
{
    rtc_tm tm = tm_from_secs(clock_secs(r, t));
    int wday_reg = (tm.wday + r->wday_adjust) % 7;
    switch (idx) {
    case RTC_SEC:
        tm.sec = (int)dec(r, v);
        break;
    case RTC_MIN:
        tm.min = (int)dec(r, v);
        break;
    case RTC_HOUR:
        tm.hour = dec_hour(r, v);
        break;
    case RTC_WDAY:
        /* An independent counter: software sets it, the chip advances it. */
        wday_reg = (int)((dec(r, v) + 6) % 7);
        break;
    case RTC_MDAY:
        tm.mday = (int)dec(r, v);
        break;
    case RTC_MONTH:
        tm.mon = (int)dec(r, v);
        break;
    case RTC_YEAR:
        tm.year = floor_div(tm.year, 100) * 100 + dec(r, v);
        break;
    default: /* RTC_CENTURY */
        tm.year = (int64_t)dec(r, v) * 100 + (tm.year % 100 + 100) % 100;
        break;
    }
    int64_t secs = secs_from_tm(&tm);
    clock_set(r, t, secs);
    rtc_tm now = tm_from_secs(secs);
    r->wday_adjust = ((wday_reg - now.wday) % 7 + 7) % 7;
}

static void rtc_write_reg(vp_rtc *r, uint8_t idx, uint8_t v, int64_t t)
{
    rtc_sync(r, t);
    switch (idx) {
    case RTC_SEC:
    case RTC_MIN:
    case RTC_HOUR:
    case RTC_WDAY:
    case RTC_MDAY:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        rtc_write_time(r, idx, v, t);
        break;
    case RTC_REG_A: {
        unsigned dv = (v >> 4) & 7;
        bool run = dv != 6 && dv != 7;
        if (run && dv != 2)
            VP_UNIMPL_ONCE(&r->m->trace,
                           "MC146818: DV2-DV0=%u selects a 4.194304 or "
                           "1.048576 MHz time base; run as 32.768 kHz", dv);
        r->reg_a = v & 0x7f;
        if (run && !r->div_running) {
            /* Leaving divider reset: "the first update cycle begins
             * one-half second later". */
            r->div_origin_ns = t - NS_PER_S / 2;
            r->div_running = true;
            r->flags_ns = t;
        } else if (!run && r->div_running) {
            r->div_running = false;
        }
        clock_update_running(r, t);
        break;
    }
    case RTC_REG_B:
        /* Setting SET also clears UIE ("Register B"). */
        if (v & REG_B_SET)
            v &= (uint8_t)~REG_B_UIE;
        if (v & REG_B_DSE)
            VP_UNIMPL_ONCE(&r->m->trace,
                           "MC146818: daylight saving (DSE) ignored");
        r->reg_b = v;
        clock_update_running(r, t);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        r->ram[idx] = v;
        break;
    }
    rtc_update(r, t);
}

static uint64_t rtc_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_rtc *r = opaque;
    (void)size;
    if (off == 0)
        return 0xff; /* the index register is write-only */
    return rtc_read_reg(r, r->index, rtc_now(r));
}

static void rtc_io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    vp_rtc *r = opaque;
    (void)size;
    if (off == 0) {
        r->index = v & 0x7f;
        if (r->nmi_masked != ((v & 0x80) != 0))
            VP_TRACE(&r->m->trace, DEV, "NMI %s (port 70h bit 7)",
                     (v & 0x80) ? "masked" : "unmasked");
        r->nmi_masked = v & 0x80;
        return;
    }
    rtc_write_reg(r, r->index, (uint8_t)v, rtc_now(r));
}

static const vp_io_ops rtc_ops = {
    .name = "rtc",
    .read = rtc_io_read,
    .write = rtc_io_write,
    .widths = VP_W8,
};

/* The memory-size and CPU-count bytes the PC BIOS convention puts in CMOS,
 * and the checksum over 0x10-0x2D at 0x2E (high byte) and 0x2F. */
static void rtc_fill_cmos(vp_rtc *r)
{
    const vp_physmem *pm = &r->m->mem;
    uint8_t *c = r->ram;
    const uint64_t mib = 1ull << 20;

    c[0x15] = 640 & 0xff; /* base memory, KiB */
    c[0x16] = 640 >> 8;
    uint64_t ext = pm->low_size > mib ? (pm->low_size - mib) >> 10 : 0;
    if (ext > 0xffff)
        ext = 0xffff;
    c[0x17] = c[0x30] = (uint8_t)ext; /* extended memory, KiB */
    c[0x18] = c[0x31] = (uint8_t)(ext >> 8);
    uint64_t above16 =
        pm->low_size > 16 * mib ? (pm->low_size - 16 * mib) >> 16 : 0;
    if (above16 > 0xffff)
        above16 = 0xffff;
    c[0x34] = (uint8_t)above16; /* 16 MiB - 4 GiB, 64 KiB units */
    c[0x35] = (uint8_t)(above16 >> 8);
    uint64_t above4g = pm->high_size >> 16;
    if (above4g > 0xffffff)
        above4g = 0xffffff;
    c[0x5b] = (uint8_t)above4g; /* above 4 GiB, 64 KiB units */
    c[0x5c] = (uint8_t)(above4g >> 8);
    c[0x5d] = (uint8_t)(above4g >> 16);
    c[0x5f] = (uint8_t)(r->m->ncpus - 1);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += c[i];
    c[0x2e] = (uint8_t)(sum >> 8);
    c[0x2f] = (uint8_t)sum;
}

vp_rtc *vp_rtc_create(vp_machine *m, vp_error *err)
{
    vp_rtc *r = calloc(1, sizeof(*r));
    if (!r) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    r->m = m;
    vp_timer_init(&r->timer, rtc_timer, r);
    int64_t t = rtc_now(r);
    /* Battery-backed state as firmware leaves it: 32.768 kHz time base,
     * 1024 Hz periodic rate, 24-hour BCD. */
    r->reg_a = 0x26;
    r->reg_b = REG_B_24H;
    r->div_running = true;
    r->div_origin_ns = t;
    r->clock_running = true;
    r->base_secs = m->cfg.rtc_epoch ? m->cfg.rtc_epoch : RTC_DEFAULT_EPOCH;
    r->anchor_ns = t;
    r->flags_ns = t;
    rtc_fill_cmos(r);
    if (vp_ioport_register(&m->io, 0x70, 2, &rtc_ops, r) < 0) {
        vp_fail(err, "MC146818: I/O ports already in use");
        free(r);
        return NULL;
    }
    return r;
}

/* RESET pin: clears PIE, AIE, UIE, SQWE and the flags; time, alarm and
 * RAM are battery-backed and stay. */
void vp_rtc_reset(vp_rtc *r)
{
    int64_t t = rtc_now(r);
    rtc_sync(r, t);
    r->reg_b &= (uint8_t)~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    r->reg_c = 0;
    r->index = 0;
    r->nmi_masked = false;
    rtc_update(r, t);
}

void vp_rtc_free(vp_rtc *r)
{
    if (!r)
        return;
    vp_timer_del(&r->m->clock, &r->timer);
    free(r);
}
