/* vp.h: the guest test runtime's API (reports, console, CPU access,
 * interrupts and exceptions, memory, multiboot info). See ../README.md.
 *
 * A test is one C file that defines test_main(). The runtime calls it in
 * 64-bit long mode, ring 0, IF=0, with the low 4 GiB identity-mapped
 * (2 MiB pages, supervisor, writable, the top GiB uncached), the runtime's
 * own GDT/IDT/TSS loaded and COM1 ready. CR0 = PG|NE|ET|PE (0x80000031),
 * CR4 = PAE, EFER = LME|LMA, on every engine. Physical memory 0x1000-0x7FFF
 * is free for tests (real-mode trampolines); loaders put the multiboot
 * info higher (QEMU 0x9500, the Bochs boot block 0x9000, Vanderpool
 * 0x10000), the image is at 1 MiB, alloc_pages above it. When test_main returns the
 * runtime prints the SUMMARY line and exits through isa-debug-exit with 0
 * if nothing failed, 1 otherwise.
 */
#ifndef VP_GUEST_VP_H
#define VP_GUEST_VP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VP_FMT(f, a) __attribute__((format(printf, f, a)))
#define VP_NORETURN __attribute__((noreturn))

/* ---- The test ------------------------------------------------------- */

void test_main(void);

/* ---- Reports (one line each on COM1) --------------------------------
 *   PASS: <name>
 *   FAIL: <name>: <message>
 *   SKIP: <name>: <why>
 *   SUMMARY: <P> passed, <F> failed, <S> skipped      (printed at the end)
 * Names should be short, unique within the test, without ':' or newlines. */

void report(const char *name, bool ok);              /* message "check failed" */
void reportf(bool ok, const char *fmt, ...) VP_FMT(2, 3); /* fmt builds the name */
void report_skip(const char *name, const char *why);
/* PASS, or FAIL with a message formatted from fmt. Returns ok. */
bool report_msg(const char *name, bool ok, const char *fmt, ...) VP_FMT(3, 4);
/* PASS if got == want, else "FAIL: name: got 0x.., want 0x..". Returns ok. */
bool report_eq(const char *name, uint64_t got, uint64_t want);
/* FAIL: <name>: <message>, then the summary and exit: for states a test
 * cannot continue from. */
VP_NORETURN void report_abort(const char *name, const char *fmt, ...) VP_FMT(2, 3);
/* Prints the SUMMARY line; returns the number of failures so far. */
int report_summary(void);
int report_failures(void);

/* Exits through isa-debug-exit (port 0xF4: QEMU and Vanderpool exit with
 * status (code << 1) | 1), then Bochs's shutdown port 0x8900, then halts
 * forever. Print the summary first (report_summary) if you call it. */
VP_NORETURN void vp_exit(int code);

/* ---- Console (COM1, 0x3F8) ------------------------------------------
 * Formats: %d %i %u %x %X %o %c %s %p %% with flags '-' '0' '#', a width (or
 * '*'), and length modifiers hh h l ll z j t. No floating point. */

int printf(const char *fmt, ...) VP_FMT(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) VP_FMT(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s); /* appends '\n' */
void putchar_serial(char c);

/* ---- Freestanding libc subset ---------------------------------------- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ull << (n))

/* ---- Port I/O --------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* CMOS/RTC register `reg` through the index (0x70) and data (0x71) ports. */
static inline uint8_t cmos_read(uint8_t reg) { outb(0x70, reg); return inb(0x71); }
static inline void cmos_write(uint8_t reg, uint8_t v) { outb(0x70, reg); outb(0x71, v); }
/* A write to port 0x80: a short I/O delay, as on real PCs. */
static inline void io_delay(void) { outb(0x80, 0); }

/* ---- MMIO (volatile, exactly one access of the given width) ----------- */

static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

/* ---- CPU -------------------------------------------------------------- */

struct cpuid_regs { uint32_t a, b, c, d; };

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t sub)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}
static inline struct cpuid_regs cpuid(uint32_t leaf) { return cpuid_count(leaf, 0); }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* read_crN/write_crN and read_drN/write_drN: MOV from and to control and
 * debug registers. */
#define VP_DEFINE_SYSREG(kind, n)                                                    \
    static inline uint64_t read_##kind##n(void)                                      \
    { uint64_t v; __asm__ volatile("mov %%" #kind #n ", %0" : "=r"(v)); return v; }  \
    static inline void write_##kind##n(uint64_t v)                                   \
    { __asm__ volatile("mov %0, %%" #kind #n ::"r"(v) : "memory"); }
VP_DEFINE_SYSREG(cr, 0)
VP_DEFINE_SYSREG(cr, 2)
VP_DEFINE_SYSREG(cr, 3)
VP_DEFINE_SYSREG(cr, 4)
VP_DEFINE_SYSREG(cr, 8)
VP_DEFINE_SYSREG(dr, 0)
VP_DEFINE_SYSREG(dr, 1)
VP_DEFINE_SYSREG(dr, 2)
VP_DEFINE_SYSREG(dr, 3)
VP_DEFINE_SYSREG(dr, 6)
VP_DEFINE_SYSREG(dr, 7)
#undef VP_DEFINE_SYSREG

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}
static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* STI; HLT back to back: an interrupt cannot slip in between (STI shadow). */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void invlpg(const void *p) { __asm__ volatile("invlpg (%0)" ::"r"(p) : "memory"); }

struct __attribute__((packed)) desc_ptr { uint16_t limit; uint64_t base; };
static inline void sgdt(struct desc_ptr *p) { __asm__ volatile("sgdt %0" : "=m"(*p)); }
static inline void sidt(struct desc_ptr *p) { __asm__ volatile("sidt %0" : "=m"(*p)); }

/* CR0 / CR4 / EFER / RFLAGS bits the runtime and tests commonly need. */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR4_VME BIT(0)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_VMXE BIT(13)
#define MSR_EFER 0xC0000080u
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)
#define MSR_IA32_APIC_BASE 0x1Bu
#define RFLAGS_CF BIT(0)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_AC BIT(18)

/* ---- The runtime's GDT ------------------------------------------------
 * Fixed selectors; entries VP_GDT_FREE.. are free for tests (gdt_set). */
#define SEL_CODE64 0x08 /* 64-bit ring-0 code */
#define SEL_DATA 0x10   /* flat 4 GiB ring-0 data */
#define SEL_CODE32 0x18 /* flat 4 GiB 32-bit ring-0 code */
#define SEL_CODE16 0x20 /* 16-bit code, base 0, limit 0xFFFF */
#define SEL_DATA16 0x28 /* 16-bit data, base 0, limit 0xFFFF */
#define SEL_TSS 0x30    /* 64-bit TSS (two slots) */
#define VP_GDT_FREE 8   /* first free index */
#define VP_GDT_ENTRIES 32
void gdt_set(int index, uint64_t descriptor);
uint64_t gdt_get(int index);
/* A code/data descriptor from its fields (type = the 4-bit type field,
 * flags = the G/DB/L/AVL nibble, e.g. 0xC for G=1 D/B=1). */
uint64_t gdt_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned flags);

/* ---- Interrupts and exceptions -----------------------------------------
 * Every vector has a stub that saves the GPRs in a struct intr_frame and
 * calls the runtime. Dispatch order: (1) a handler installed with
 * set_intr_handler; (2) for vectors 0-31, an active run_catching; (3)
 * otherwise an unexpected exception prints the vector, error code, RIP and
 * CR2, fails the run and exits; an unexpected interrupt (32-255) is
 * reported as a FAIL and ignored. A handler may modify the frame (e.g.
 * advance rip); the stub restores it with IRETQ. #DF (8) and NMI (2) run
 * on their own IST stacks. */

struct intr_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code; /* 0 for vectors that push none */
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*intr_handler)(struct intr_frame *f);
/* fn == NULL restores the default behaviour. */
void set_intr_handler(int vector, intr_handler fn);
/* Whether the CPU pushes an error code for this exception vector. */
bool vector_has_error_code(int vector);
/* "#GP", "#PF", ...; "IRQ" for vectors >= 32. */
const char *vector_name(int vector);

#define DE_VECTOR 0
#define DB_VECTOR 1
#define NMI_VECTOR 2
#define BP_VECTOR 3
#define OF_VECTOR 4
#define BR_VECTOR 5
#define UD_VECTOR 6
#define NM_VECTOR 7
#define DF_VECTOR 8
#define TS_VECTOR 10
#define NP_VECTOR 11
#define SS_VECTOR 12
#define GP_VECTOR 13
#define PF_VECTOR 14
#define MF_VECTOR 16
#define AC_VECTOR 17
#define MC_VECTOR 18
#define XM_VECTOR 19

/* What the last caught exception was. */
struct exception_info {
    int vector;
    uint64_t error_code; /* 0 when the vector pushes none */
    uint64_t rip;        /* faulting (or, for traps, next) RIP */
    uint64_t cr2;        /* CR2 read in the handler */
    uint64_t rflags;
};
extern struct exception_info last_exception;

/* Calls fn(arg). If an exception (vector 0-31) is raised before fn returns,
 * unwinds back here and returns its vector (details in last_exception);
 * returns -1 if fn returned normally. Not re-entrant: fn must not nest
 * another run_catching. */
int run_catching(void (*fn)(void *), void *arg);

/* ---- Memory ------------------------------------------------------------ */

/* Zeroed, 4 KiB-aligned pages from a bump allocator above the image;
 * never freed. Aborts the run when memory runs out. */
void *alloc_pages(size_t n);
static inline void *alloc_page(void) { return alloc_pages(1); }
/* The PML4 the runtime built (identity map of the low 4 GiB). */
extern uint64_t vp_pml4[512];

/* A 2-MiB-aligned 2 MiB of RAM of the test's own: one 2-MiB page of the
 * runtime's map. */
static inline uint64_t alloc_2m(void)
{
    uint64_t p = (uint64_t)(uintptr_t)alloc_pages(1024);
    return (p + (2ull << 20) - 1) & ~((2ull << 20) - 1);
}

/* The page-directory entry of the runtime's map for `va` (below 4 GiB;
 * a 2-MiB page unless the test changed it). */
static inline volatile uint64_t *identity_pde(uint64_t va)
{
    const uint64_t addr = 0x000FFFFFFFFFF000ull;
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(vp_pml4[(va >> 39) & 511] & addr);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[(va >> 30) & 511] & addr);
    return &pd[(va >> 21) & 511];
}

/* ---- Time: bounded loops, no timer hardware ---------------------------- */

/* Loop count that is "long" on every engine (QEMU TCG, Bochs, Vanderpool)
 * yet ends in a few seconds at worst. */
#define SPIN_LONG 20000000ull
/* Executes `loops` PAUSE instructions. */
void delay(uint64_t loops);
/* Polls cond(arg) up to `loops` times (PAUSE between); true once it holds. */
bool wait_until(bool (*cond)(void *), void *arg, uint64_t loops);
/* Polls *flag up to `loops` times; true once it is nonzero. */
bool wait_for(volatile int *flag, uint64_t loops);

/* ---- Multiboot 1 information ------------------------------------------- */

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002u
extern uint32_t mb_magic; /* EAX at entry */
extern uint32_t mb_info;  /* EBX at entry: physical address of the info */

#define MBI_MEM BIT(0)
#define MBI_BOOTDEV BIT(1)
#define MBI_CMDLINE BIT(2)
#define MBI_MODS BIT(3)
#define MBI_MMAP BIT(6)
#define MBI_LOADER_NAME BIT(9)

struct __attribute__((packed)) multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper; /* KiB below 640K, KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
};
struct __attribute__((packed)) multiboot_mmap_entry {
    uint32_t size; /* of the rest of the entry; next = (char *)&size + 4 + size */
    uint64_t addr, len;
    uint32_t type; /* 1 = available RAM */
};
/* mb_info as a pointer, or NULL if the magic was wrong. */
const struct multiboot_info *multiboot(void);

#endif
