/* debug_regs_gd.c: general detect and DR6 for simultaneous breakpoints.
 * With DR7.GD set, a MOV to or from a debug register is a #DB fault with
 * DR6.BD set, and the processor clears GD on entry to the handler. One
 * access that meets two data breakpoints' conditions sets both B bits.
 * engines: vanderpool bochs
 *
 * Not qemu: QEMU 7.2's TCG implements neither general detect (MOV DR
 * with DR7.GD runs, GD stays set) nor more than one B bit per #DB.
 *
 * SDM Vol 3B, "Debug Control Register (DR7)" (GD), "Debug Status Register
 * (DR6)", "General-Detect Exception Condition".
 */
#include "vp.h"

#define DR6_BD BIT(13)
#define DR7_GD BIT(13)

static volatile uint64_t data[2] __attribute__((aligned(16)));
static volatile uint64_t db_dr6;
static volatile int db_hits;

static void db_handler(struct intr_frame *f)
{
    db_dr6 = read_dr6();
    db_hits++;
    write_dr6(0);
}

static void mov_to_dr0(void *arg)
{
    write_dr0(0);
}

static void mov_from_dr0(void *arg)
{
    (void)read_dr0();
}

static void general_detect(const char *name, void (*fn)(void *))
{
    write_dr6(0);
    write_dr7(0x400 | DR7_GD);
    int vec = run_catching(fn, NULL);
    uint64_t dr7 = read_dr7(), dr6 = read_dr6();
    uint64_t rip = last_exception.rip;
    write_dr6(0);
    write_dr7(0);
    /* The fault points at the MOV: its bytes are 0F 21/23. */
    bool at_mov = vec == DB_VECTOR && ((const uint8_t *)(uintptr_t)rip)[0] == 0x0F;
    report_msg(name, at_mov && (dr6 & DR6_BD) && !(dr7 & DR7_GD),
               "vector %d rip %#llx dr6 %#llx dr7 %#llx", vec, (unsigned long long)rip,
               (unsigned long long)dr6, (unsigned long long)dr7);
}

void test_main(void)
{
    general_detect("GD: MOV to DR0 faults with BD, GD cleared", mov_to_dr0);
    general_detect("GD: MOV from DR0 faults with BD, GD cleared", mov_from_dr0);

    /* One 8-byte store meets DR0 (bytes 0-3) and DR3 (bytes 4-7). */
    set_intr_handler(DB_VECTOR, db_handler);
    write_dr0((uint64_t)(uintptr_t)&data[0]);
    write_dr3((uint64_t)(uintptr_t)&data[0] + 4);
    write_dr6(0);
    /* L0, L3; R/W0 = 01 LEN0 = 11; R/W3 = 11 LEN3 = 11. */
    write_dr7(0x400 | BIT(0) | BIT(6) | 0xDull << 16 | 0xFull << 28);
    data[0] = 5;
    write_dr7(0);
    set_intr_handler(DB_VECTOR, NULL);
    report_msg("one access, two breakpoints: B0 and B3", db_hits == 1 && (db_dr6 & 0xF) == 9,
               "%d hits, dr6 %#llx", db_hits, (unsigned long long)db_dr6);
}
