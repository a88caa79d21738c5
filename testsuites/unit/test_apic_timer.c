/* Local APIC timer: one-shot, periodic and TSC-deadline modes fire at the
 * machine time the SDM's rules give (SDM Vol 3A, "APIC Timer", "TSC-Deadline
 * Mode") with the model's documented 1 GHz bus clock: one count per
 * divisor ns. Time is advanced with vp_clock_skip_to + vp_clock_run_timers. */
#include "testsuites/unit/lib/unit.h"

#include "emu/apic/apic.h"
#include "emu/cpu/cpu.h"

#define LAPIC 0xfee00000ull
#define LVT_TIMER 0x320
#define TMICT 0x380
#define TMCCT 0x390
#define TDCR 0x3e0
#define ONESHOT 0u
#define PERIODIC (1u << 17)
#define DEADLINE (2u << 17)
#define MASKED (1u << 16)

static vp_machine *m;
static vp_cpu *c;
static uint64_t t0;

static uint32_t rd(uint32_t off)
{
    return (uint32_t)vp_phys_read_n(&m->mem, LAPIC + off, 4);
}

static void wr(uint32_t off, uint32_t v)
{
    vp_phys_write_n(&m->mem, LAPIC + off, v, 4);
}

static void setup(void)
{
    m = unit_machine(16);
    c = m->cpus[0];
    m->current_cpu = c;
    wr(0xf0, 0x1ff);
    t0 = vp_clock_now(&m->clock);
}

static void teardown(void)
{
    vp_machine_destroy(m);
}

/* Moves machine time to t0 + ns and fires what is due. */
static void at(uint64_t ns)
{
    vp_clock_skip_to(&m->clock, t0 + ns);
    vp_clock_run_timers(&m->clock);
}

static bool irr(unsigned v)
{
    return (rd(0x200 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

/* Acknowledges and retires `v` if pending; returns whether it was. */
static bool took(unsigned v)
{
    if (!irr(v))
        return false;
    ck_assert(vp_apic_intr_ready(c));
    ck_assert_int_eq(vp_apic_intr_ack(c), (int)v);
    wr(0xb0, 0);
    return true;
}

START_TEST(oneshot_fires_once)
{
    wr(TDCR, 0xb); /* divide by 1 */
    wr(LVT_TIMER, ONESHOT | 0x40);
    wr(TMICT, 1000);
    ck_assert_uint_eq(rd(TMICT), 1000);
    ck_assert_uint_eq(rd(TMCCT), 1000);
    at(400);
    ck_assert_uint_eq(rd(TMCCT), 600);
    ck_assert(!irr(0x40));
    at(999);
    ck_assert_uint_eq(rd(TMCCT), 1);
    ck_assert(!irr(0x40));
    at(1000);
    ck_assert(took(0x40));
    ck_assert_uint_eq(rd(TMCCT), 0);
    at(5000);
    ck_assert(!irr(0x40));
    ck_assert_uint_eq(rd(TMCCT), 0);
    /* The initial count stays readable. */
    ck_assert_uint_eq(rd(TMICT), 1000);
}
END_TEST

START_TEST(divide_configuration)
{
    /* Bits 3, 1:0: 000b /2, 001b /4, 010b /8, 011b /16, 100b /32,
     * 101b /64, 110b /128, 111b /1. */
    static const struct { uint32_t dcr; uint64_t div; } tab[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16},
        {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1},
    };
    uint64_t base = 0;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        wr(TDCR, tab[i].dcr);
        ck_assert_uint_eq(rd(TDCR), tab[i].dcr);
        wr(LVT_TIMER, ONESHOT | 0x41);
        wr(TMICT, 3);
        at(base + 3 * tab[i].div - 1);
        ck_assert_msg(!irr(0x41), "divide %llu fired early",
                      (unsigned long long)tab[i].div);
        ck_assert_uint_eq(rd(TMCCT), 1);
        at(base + 3 * tab[i].div);
        ck_assert_msg(took(0x41), "divide %llu did not fire",
                      (unsigned long long)tab[i].div);
        base += 3 * tab[i].div + 10;
        at(base);
    }
    /* Bit 2 and bits above 3 do not exist. */
    wr(TDCR, 0xffffffffu);
    ck_assert_uint_eq(rd(TDCR), 0xb);
}
END_TEST

START_TEST(periodic_reloads)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, PERIODIC | 0x42);
    wr(TMICT, 500);
    at(499);
    ck_assert(!irr(0x42));
    at(500);
    ck_assert(took(0x42));
    ck_assert_uint_eq(rd(TMCCT), 500);
    at(750);
    ck_assert_uint_eq(rd(TMCCT), 250);
    at(999);
    ck_assert(!irr(0x42));
    at(1000);
    ck_assert(took(0x42));
    /* Missed periods coalesce into one pending interrupt, and the phase
     * is kept: the next one comes at the next multiple of the period. */
    at(3200);
    ck_assert(took(0x42));
    ck_assert_uint_eq(rd(TMCCT), 300);
    at(3499);
    ck_assert(!irr(0x42));
    at(3500);
    ck_assert(took(0x42));
    /* Divide by 4: each count is 4 ns. */
    wr(TDCR, 0x1);
    wr(TMICT, 100);
    at(3500 + 399);
    ck_assert(!irr(0x42));
    at(3500 + 400);
    ck_assert(took(0x42));
    at(3500 + 800);
    ck_assert(took(0x42));
}
END_TEST

START_TEST(masked_timer_counts_silently)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, MASKED | PERIODIC | 0x43);
    wr(TMICT, 100);
    at(250);
    ck_assert(!irr(0x43));
    ck_assert_uint_eq(rd(TMCCT), 50);
    /* Unmasking resumes interrupts at the next zero crossing. */
    wr(LVT_TIMER, PERIODIC | 0x43);
    ck_assert(!irr(0x43));
    at(300);
    ck_assert(took(0x43));
    /* One-shot expiring while masked is lost. */
    wr(LVT_TIMER, MASKED | ONESHOT | 0x44);
    wr(TMICT, 100);
    at(500);
    ck_assert_uint_eq(rd(TMCCT), 0);
    wr(LVT_TIMER, ONESHOT | 0x44);
    at(1000);
    ck_assert(!irr(0x44));
}
END_TEST

START_TEST(stop_restart_and_divide_change)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, ONESHOT | 0x45);
    wr(TMICT, 1000);
    at(500);
    wr(TMICT, 0); /* stops */
    ck_assert_uint_eq(rd(TMCCT), 0);
    at(2000);
    ck_assert(!irr(0x45));
    /* Restart: counting starts over from the new count. */
    wr(TMICT, 1000);
    at(2500);
    wr(TMICT, 1000);
    at(3000);
    ck_assert(!irr(0x45));
    at(3500);
    ck_assert(took(0x45));
    /* Changing the divisor mid-count: the remaining counts go slower. */
    wr(TMICT, 1000);
    at(3900);
    ck_assert_uint_eq(rd(TMCCT), 600);
    wr(TDCR, 0x0); /* divide by 2 */
    ck_assert_uint_eq(rd(TMCCT), 600);
    at(3900 + 1199);
    ck_assert(!irr(0x45));
    at(3900 + 1200);
    ck_assert(took(0x45));
}
END_TEST

START_TEST(mode_change_disarms)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, ONESHOT | 0x46);
    wr(TMICT, 1000);
    at(100);
    wr(LVT_TIMER, PERIODIC | 0x46);
    ck_assert_uint_eq(rd(TMCCT), 0);
    ck_assert_uint_eq(rd(TMICT), 0);
    at(5000);
    ck_assert(!irr(0x46));
    /* Same mode: a vector change does not disarm. */
    wr(TMICT, 1000);
    wr(LVT_TIMER, PERIODIC | 0x47);
    at(6000);
    ck_assert(took(0x47));
}
END_TEST

START_TEST(tsc_deadline)
{
    uint64_t v = 0;
    wr(LVT_TIMER, DEADLINE | 0x48);
    ck_assert_uint_eq(rd(LVT_TIMER), DEADLINE | 0x48);
    /* Initial count writes are ignored; current count reads 0. */
    wr(TMICT, 50);
    ck_assert_uint_eq(rd(TMICT), 0);
    ck_assert_uint_eq(rd(TMCCT), 0);
    at(50);
    ck_assert(!irr(0x48));
    uint64_t tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 1000), 0);
    ck_assert_int_eq(vp_apic_msr_read(c, 0x6e0, &v), 0);
    ck_assert_uint_eq(v, tsc + 1000);
    at(50 + 999);
    ck_assert(!irr(0x48));
    at(50 + 1000);
    ck_assert(took(0x48));
    /* Fired: the MSR is cleared and the timer disarmed. */
    ck_assert_int_eq(vp_apic_msr_read(c, 0x6e0, &v), 0);
    ck_assert_uint_eq(v, 0);
    at(5000);
    ck_assert(!irr(0x48));
    /* A deadline already passed fires at once. */
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, 1), 0);
    ck_assert(took(0x48));
    /* Writing 0 disarms. */
    tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 100), 0);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, 0), 0);
    at(6000);
    ck_assert(!irr(0x48));
    /* Leaving TSC-deadline mode disarms and clears the MSR. */
    tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 100), 0);
    wr(LVT_TIMER, ONESHOT | 0x48);
    ck_assert_int_eq(vp_apic_msr_read(c, 0x6e0, &v), 0);
    ck_assert_uint_eq(v, 0);
    at(7000);
    ck_assert(!irr(0x48));
    /* A masked deadline expires without an interrupt but still clears. */
    wr(LVT_TIMER, MASKED | DEADLINE | 0x48);
    tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 100), 0);
    at(7100);
    ck_assert(!irr(0x48));
    wr(LVT_TIMER, DEADLINE | 0x48);
    ck_assert_int_eq(vp_apic_msr_read(c, 0x6e0, &v), 0);
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(timer_illegal_vector)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, ONESHOT | 0x0c);
    wr(TMICT, 10);
    at(10);
    for (unsigned v = 0; v < 32; v++)
        ck_assert(!irr(v));
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x40); /* Receive Illegal Vector */
}
END_TEST

START_TEST(sw_disable_silences_timer)
{
    wr(TDCR, 0xb);
    wr(LVT_TIMER, PERIODIC | 0x49);
    wr(TMICT, 100);
    wr(0xf0, 0xff); /* software-disable: LVT masked */
    at(1000);
    ck_assert(!irr(0x49));
    ck_assert_uint_ne(rd(LVT_TIMER) & MASKED, 0);
}
END_TEST

START_TEST(timer_wakes_halted_cpu)
{
    /* The run loop's all-halted path skips time to the timer; the timer
     * kicks the CPU. */
    wr(TDCR, 0xb);
    wr(LVT_TIMER, ONESHOT | 0x4a);
    wr(TMICT, 300);
    c->intr_pending = false;
    ck_assert_uint_le(vp_clock_next_deadline(&m->clock), t0 + 300);
    at(299);
    ck_assert(!vp_apic_intr_ready(c));
    at(300);
    ck_assert(c->intr_pending);
    ck_assert(vp_apic_intr_ready(c));
}
END_TEST


START_TEST(tsc_write_retimes_deadline)
{
    wr(LVT_TIMER, DEADLINE | 0x4b);
    uint64_t tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 1000), 0);
    /* The TSC jumps forward by 600: the deadline is 400 ns away now. */
    c->tsc_offset += 600;
    vp_apic_tsc_changed(c);
    at(399);
    ck_assert(!irr(0x4b));
    at(400);
    ck_assert(took(0x4b));
    /* Backwards: not due at the old time, due at the new one. */
    tsc = vp_cpu_tsc(c);
    ck_assert_int_eq(vp_apic_msr_write(c, 0x6e0, tsc + 1000), 0);
    c->tsc_offset -= 500;
    vp_apic_tsc_changed(c);
    at(400 + 1000);
    ck_assert(!irr(0x4b));
    at(400 + 1500);
    ck_assert(took(0x4b));
}
END_TEST

/* A model whose CPUID does not advertise TSC-deadline mode (vp-amd): the
 * mode bit is reserved and the timer stays in one-shot mode. */
START_TEST(no_tsc_deadline_without_cpuid)
{
    vp_config cfg = {.ram_size = 16u << 20, .ncpus = 1, .cpu_model = "vp-amd"};
    vp_error err;
    vp_machine *am = vp_machine_create(&cfg, NULL, &err);
    ck_assert_ptr_nonnull(am);
    am->current_cpu = am->cpus[0];
    vp_phys_write_n(&am->mem, LAPIC + 0xf0, 0x1ff, 4);
    vp_phys_write_n(&am->mem, LAPIC + LVT_TIMER, DEADLINE | 0x40, 4);
    ck_assert_uint_eq(vp_phys_read_n(&am->mem, LAPIC + LVT_TIMER, 4) &
                          (3u << 17), ONESHOT);
    vp_machine_destroy(am);
}
END_TEST

static Suite *apic_timer_suite(void)
{
    Suite *s = suite_create("apic_timer");
    TCase *t = tcase_create("timer");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, oneshot_fires_once);
    tcase_add_test(t, divide_configuration);
    tcase_add_test(t, periodic_reloads);
    tcase_add_test(t, masked_timer_counts_silently);
    tcase_add_test(t, stop_restart_and_divide_change);
    tcase_add_test(t, mode_change_disarms);
    tcase_add_test(t, tsc_deadline);
    tcase_add_test(t, timer_illegal_vector);
    tcase_add_test(t, sw_disable_silences_timer);
    tcase_add_test(t, timer_wakes_halted_cpu);
    tcase_add_test(t, tsc_write_retimes_deadline);
    tcase_add_test(t, no_tsc_deadline_without_cpuid);
    suite_add_tcase(s, t);
    return s;
}

VP_UNIT_MAIN(apic_timer_suite)
