/* sys_iopl.c: I/O and interrupt-flag privilege at CPL 3. IN/OUT/OUTS with
 * CPL > IOPL go through the I/O permission bitmap of the TSS: an allowed
 * port, a denied port, a multi-byte access that touches one denied port,
 * a port whose bitmap byte is the last one within the TSS limit (the CPU
 * reads two bytes, so it faults unless one more byte lies within the
 * limit), ports beyond the bitmap, no bitmap at all; IOPL = 3 and CPL 0
 * bypass the bitmap. CLI/STI at CPL 3 (#GP(0) unless IOPL = 3), POPF and
 * IRET at CPL 3 (IF changes only when CPL <= IOPL, IOPL only at CPL 0,
 * silently). Both in 32-bit legacy protected mode (32-bit TSS) and in
 * 64-bit mode (64-bit TSS).
 * engines: vanderpool qemu bochs
 *
 * SDM Vol 1, "I/O Privilege Level", "I/O Permission Bit Map", "Sensitive
 * Instructions"; Vol 3A "Task-State Segment (TSS)", "64-Bit Task State
 * Segment (TSS)"; Vol 2 IN, OUT, OUTS, CLI, STI, POPF, IRET (no VME/PVI:
 * CR4.VME = CR4.PVI = 0 here).
 */
#include "sys_lib.h"

#define SEL_IOTSS32 0x80 /* a 32-bit TSS with a bitmap */
#define SEL_IOTSS64 0x88 /* a 64-bit TSS with a bitmap (two slots) */
#define PORT 0x3FF       /* COM1 scratch register: readable and writable */
#define MAPBYTES 0x80    /* the bitmap covers ports 0-3FFh */
#define FL_IOPL(n) ((uint64_t)(n) << 12)

extern char io_out8[], io_in8[], io_out16[], io_in16[], io_in32[], io_outsb[], io_cli[];
extern char io_sti[], io_popf[], io_iret[], io_pushf[], io_out8_k[];

static struct __attribute__((packed)) {
    struct tss32 t;
    uint8_t map[MAPBYTES + 1];
} iotss32 __attribute__((aligned(128)));

static struct __attribute__((packed)) {
    struct tss64 t;
    uint8_t map[MAPBYTES + 1];
} iotss64 __attribute__((aligned(128)));

static void map_set(uint8_t *map, unsigned port, bool deny)
{
    if (deny)
        map[port / 8] |= (uint8_t)(1u << (port % 8));
    else
        map[port / 8] &= (uint8_t)~(1u << (port % 8));
}

/* ---- legacy protected mode ------------------------------------------ */

/* The 32-bit TSS descriptor with the given limit. */
static void iotss32_limit(uint32_t limit)
{
    gdt_set(SEL_IOTSS32 / 8, sys_desc(addr32(&iotss32), limit, 9, 0));
}

static int u32(void *fn, uint32_t edx, uint32_t eax, uint32_t flags, struct x32 *out)
{
    struct x32 r = {.fn = addr32(fn), .edx = edx, .eax = eax, .eflags = flags};
    static uint8_t byte = 0x42;
    r.esi = addr32(&byte);
    int v = x32_run_user(&r);
    if (out)
        *out = r;
    return v;
}

static void io32_case(const char *name, void *fn, uint32_t port, uint32_t flags, int want)
{
    char n[128];
    snprintf(n, sizeof(n), "32-bit CPL 3: %s", name);
    u32(fn, port, 0x5A, flags, NULL);
    pm32_expect(n, want, 0);
}

static void test_io32(void)
{
    const uint32_t full = sizeof(struct tss32) + MAPBYTES; /* limit with the extra byte */
    memset(&iotss32, 0, sizeof(iotss32));
    iotss32.t.esp0 = pm32_tss.esp0;
    iotss32.t.ss0 = pm32_tss.ss0;
    iotss32.t.iomap = sizeof(struct tss32);
    memset(iotss32.map, 0xFF, sizeof(iotss32.map));
    map_set(iotss32.map, PORT, false);
    map_set(iotss32.map, 0x3FE, false);
    iotss32_limit(full);
    pm32_tr = SEL_IOTSS32;

    struct x32 r;
    int v = u32(io_out8, PORT, 0xA5, 2, NULL);
    report_msg("32-bit CPL 3 IOPL 0: OUT to a port the bitmap allows", v < 0,
               "vector %d error %#x", v, pm32_last.err);
    v = u32(io_in8, PORT, 0, 2, &r);
    report_msg("32-bit CPL 3 IOPL 0: IN from it reads the value back", v < 0 && (r.eax & 0xFF) == 0xA5,
               "vector %d error %#x value %#x", v, pm32_last.err, r.eax & 0xFF);
    io32_case("IN from a port the bitmap denies: #GP(0)", io_in8, 0x3FD, 2, GP_VECTOR);
    io32_case("OUTSB to a denied port: #GP(0)", io_outsb, 0x3FD, 2, GP_VECTOR);
    io32_case("16-bit IN from two allowed ports", io_in16, 0x3FE, 2, -1);
    io32_case("16-bit IN with the second port denied: #GP(0)", io_in16, 0x3FD, 2, GP_VECTOR);
    io32_case("32-bit IN with the last port denied: #GP(0)", io_in32, 0x3FC, 2, GP_VECTOR);
    io32_case("IN from a port beyond the bitmap (byte past the limit): #GP(0)", io_in8, 0x400, 2,
              GP_VECTOR);
    io32_case("IOPL 3: IN from a denied port", io_in8, 0x3FD, 2 | FL_IOPL(3), -1);
    io32_case("IOPL 2 < CPL 3: the bitmap decides", io_in8, 0x3FD, 2 | FL_IOPL(2), GP_VECTOR);

    /* The port's bitmap byte is the last within the limit: the CPU reads
     * two bytes, the second lies beyond the limit -> #GP(0) although the
     * port's bit is clear. */
    iotss32_limit(full - 1);
    io32_case("allowed port in the bitmap byte at the TSS limit: #GP(0)", io_in8, PORT, 2,
              GP_VECTOR);
    map_set(iotss32.map, 0x3F7, false);
    io32_case("allowed port in the byte before the last: allowed", io_in8, 0x3F7, 2, -1);
    /* No bitmap: I/O map base at the limit. */
    iotss32_limit(full);
    iotss32.t.iomap = (uint16_t)(full + 1);
    io32_case("no I/O bitmap (base beyond the limit): #GP(0)", io_in8, PORT, 2, GP_VECTOR);
    io32_case("no I/O bitmap, IOPL 3: allowed", io_in8, PORT, 2 | FL_IOPL(3), -1);
    iotss32.t.iomap = sizeof(struct tss32);
    /* CPL 0 with IOPL 0 never looks at the bitmap. */
    map_set(iotss32.map, 0x80, true);
    struct x32 k = {.fn = addr32(io_out8_k), .edx = 0x80, .eax = 0};
    v = x32_run(&k);
    report_msg("32-bit CPL 0 IOPL 0: OUT to a port the bitmap denies", v < 0, "vector %d", v);

    /* CLI/STI/POPF/IRET at CPL 3. */
    io32_case("CLI with IOPL 0: #GP(0)", io_cli, 0, 2, GP_VECTOR);
    io32_case("STI with IOPL 0: #GP(0)", io_sti, 0, 2, GP_VECTOR);
    v = u32(io_cli, 0, 0, 2 | FL_IOPL(3) | RFLAGS_IF, &r);
    report_msg("32-bit CPL 3: CLI with IOPL 3 clears IF", v < 0 && !(r.eax & RFLAGS_IF),
               "vector %d EFLAGS %#x", v, r.eax);
    v = u32(io_sti, 0, 0, 2 | FL_IOPL(3), &r);
    report_msg("32-bit CPL 3: STI with IOPL 3 sets IF", v < 0 && (r.eax & RFLAGS_IF),
               "vector %d EFLAGS %#x", v, r.eax);
    struct {
        const char *name;
        void *fn;
        uint32_t flags, image, want;
    } pf[] = {
        {"POPF with IOPL 0: IF and IOPL unchanged, no fault", io_popf, 2,
         2 | RFLAGS_IF | FL_IOPL(3) | RFLAGS_CF, 2 | RFLAGS_CF},
        {"POPF with IOPL 3: IF changes, IOPL does not", io_popf, 2 | FL_IOPL(3),
         2 | RFLAGS_IF | RFLAGS_ZF, 2 | RFLAGS_IF | RFLAGS_ZF | FL_IOPL(3)},
        {"IRET with IOPL 0: IF and IOPL unchanged", io_iret, 2,
         2 | RFLAGS_IF | FL_IOPL(3) | RFLAGS_CF, 2 | RFLAGS_CF},
        {"IRET with IOPL 3: IF changes, IOPL does not", io_iret, 2 | FL_IOPL(3),
         2 | RFLAGS_IF, 2 | RFLAGS_IF | FL_IOPL(3)},
        {"PUSHF shows IOPL", io_pushf, 2 | FL_IOPL(2), 0, 2 | FL_IOPL(2)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(pf); i++) {
        struct x32 q = {.fn = addr32(pf[i].fn), .ebx = pf[i].image, .eflags = pf[i].flags};
        v = x32_run_user(&q);
        char n[128];
        snprintf(n, sizeof(n), "32-bit CPL 3: %s", pf[i].name);
        report_msg(n, v < 0 && (q.eax & 0x3FFFFF) == pf[i].want,
                   "vector %d error %#x EFLAGS %#x, want %#x", v, pm32_last.err, q.eax,
                   pf[i].want);
    }
    pm32_tr = SEL_TSS32;
}

/* ---- 64-bit mode ------------------------------------------------------ */

struct io64 {
    uint16_t port;
    uint32_t val;
    uint64_t flags;
};

static void u_out8(void *a) { struct io64 *p = a; outb(p->port, (uint8_t)p->val); }
static void u_in8(void *a) { struct io64 *p = a; p->val = inb(p->port); }
static void u_in16(void *a) { struct io64 *p = a; p->val = inw(p->port); }
static void u_in32(void *a) { struct io64 *p = a; p->val = inl(p->port); }
static void u_cli(void *a) { __asm__ volatile("cli" ::: "memory"); }
static void u_sti(void *a)
{
    struct io64 *p = a;
    __asm__ volatile("sti\n pushfq\n pop %0\n cli" : "=r"(p->flags)::"memory");
}
static void u_popf(void *a)
{
    struct io64 *p = a;
    __asm__ volatile("push %1\n popfq\n pushfq\n pop %0" : "=r"(p->flags) : "r"(p->flags) : "cc", "memory");
}

static void ltr64(uint32_t limit)
{
    uint64_t base = (uint64_t)(uintptr_t)&iotss64;
    gdt_set(SEL_IOTSS64 / 8, sys_desc((uint32_t)base, limit, 9, 0));
    gdt_set(SEL_IOTSS64 / 8 + 1, base >> 32);
    __asm__ volatile("ltr %w0" ::"r"(SEL_IOTSS64));
}

static void io64_case(const char *name, void (*fn)(void *), uint16_t port, uint64_t flags, int want)
{
    struct io64 p = {port, 0x5A, 0};
    char n[128];
    snprintf(n, sizeof(n), "64-bit CPL 3: %s", name);
    expect_vec(n, user64_call_flags(fn, &p, flags), want, 0);
}

static void test_io64(void)
{
    const uint32_t full = sizeof(struct tss64) + MAPBYTES;
    volatile struct tss64 *rt = sys_tss64();
    memset(&iotss64, 0, sizeof(iotss64));
    iotss64.t.rsp[0] = rt->rsp[0];
    for (int i = 0; i < 7; i++)
        iotss64.t.ist[i] = rt->ist[i];
    iotss64.t.iomap = sizeof(struct tss64);
    memset(iotss64.map, 0xFF, sizeof(iotss64.map));
    map_set(iotss64.map, PORT, false);
    map_set(iotss64.map, 0x3FE, false);
    ltr64(full);

    struct io64 p = {PORT, 0x3C, 0};
    int v = user64_call_flags(u_out8, &p, 2);
    report_msg("64-bit CPL 3 IOPL 0: OUT to a port the bitmap allows", v < 0, "vector %d", v);
    p.val = 0;
    v = user64_call_flags(u_in8, &p, 2);
    report_msg("64-bit CPL 3 IOPL 0: IN reads the value back", v < 0 && p.val == 0x3C,
               "vector %d value %#x", v, p.val);
    io64_case("IN from a denied port: #GP(0)", u_in8, 0x3FD, 2, GP_VECTOR);
    io64_case("16-bit IN from two allowed ports", u_in16, 0x3FE, 2, -1);
    io64_case("16-bit IN with the second port denied: #GP(0)", u_in16, 0x3FD, 2, GP_VECTOR);
    io64_case("32-bit IN with the last port denied: #GP(0)", u_in32, 0x3FC, 2, GP_VECTOR);
    io64_case("IN beyond the bitmap: #GP(0)", u_in8, 0x400, 2, GP_VECTOR);
    io64_case("IOPL 3: IN from a denied port", u_in8, 0x3FD, 2 | FL_IOPL(3), -1);
    gdt_set(SEL_IOTSS64 / 8, gdt_get(SEL_IOTSS64 / 8) & ~DESC_BUSY);
    ltr64(full - 1);
    io64_case("allowed port in the bitmap byte at the TSS limit: #GP(0)", u_in8, PORT, 2,
              GP_VECTOR);
    gdt_set(SEL_IOTSS64 / 8, gdt_get(SEL_IOTSS64 / 8) & ~DESC_BUSY);
    ltr64(full);

    io64_case("CLI with IOPL 0: #GP(0)", u_cli, 0, 2, GP_VECTOR);
    io64_case("STI with IOPL 0: #GP(0)", u_sti, 0, 2, GP_VECTOR);
    p.flags = 0;
    v = user64_call_flags(u_sti, &p, 2 | FL_IOPL(3));
    report_msg("64-bit CPL 3: STI with IOPL 3 sets IF", v < 0 && (p.flags & RFLAGS_IF),
               "vector %d RFLAGS %#llx", v, (unsigned long long)p.flags);
    p.flags = 2 | RFLAGS_IF | FL_IOPL(3) | RFLAGS_CF;
    v = user64_call_flags(u_popf, &p, 2);
    report_msg("64-bit CPL 3: POPFQ with IOPL 0: IF and IOPL unchanged",
               v < 0 && (p.flags & 0x3FFFFF) == (2 | RFLAGS_CF), "vector %d RFLAGS %#llx", v,
               (unsigned long long)p.flags);
    p.flags = 2 | RFLAGS_IF;
    v = user64_call_flags(u_popf, &p, 2 | FL_IOPL(3));
    report_msg("64-bit CPL 3: POPFQ with IOPL 3: IF changes, IOPL does not",
               v < 0 && (p.flags & 0x3FFFFF) == (2 | RFLAGS_IF | FL_IOPL(3)),
               "vector %d RFLAGS %#llx", v, (unsigned long long)p.flags);
    /* CPL 0: POPF changes IOPL. */
    uint64_t f = 2 | FL_IOPL(1), got;
    __asm__ volatile("pushfq\n push %1\n popfq\n pushfq\n pop %0\n popfq" : "=r"(got) : "r"(f)
                     : "cc", "memory");
    report_eq("64-bit CPL 0: POPFQ changes IOPL", got & FL_IOPL(3), FL_IOPL(1));

    gdt_set(SL_TSS / 8, gdt_get(SL_TSS / 8) & ~DESC_BUSY);
    __asm__ volatile("ltr %w0" ::"r"(SL_TSS));
}

void test_main(void)
{
    sys_init();
    /* No external interrupts while tests set IF at CPL 3. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    test_io32();
    test_io64();
}
