/* intr.c: GDT helpers, the 64-bit TSS with IST stacks, the IDT, the C side
 * of interrupt dispatch and run_catching. SDM Vol 3A, "Interrupt and
 * Exception Handling in 64-bit Mode" and "Task Management in 64-bit Mode". */
#include "rt.h"

extern uint64_t vp_gdt[VP_GDT_ENTRIES];
extern char vp_isr_stubs[]; /* 256 stubs, 16 bytes apart */
#define ISR_STUB_SIZE 16

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

struct idt_gate {
    uint16_t offset0;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset1;
    uint32_t offset2;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

#define IST_DF 1
#define IST_NMI 2
#define IST_STACK_SIZE 16384

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_stacks[2][IST_STACK_SIZE] __attribute__((aligned(16)));
static intr_handler handlers[256];

struct exception_info last_exception;
static struct vp_jmpbuf catch_buf;
static volatile bool catching;
static int dispatch_depth;
static int stray_interrupts;

uint64_t gdt_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned flags)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)(type & 0xF) << 40 | 1ull << 44 /* S: code/data */ |
           (uint64_t)(dpl & 3) << 45 | 1ull << 47 /* P */ |
           (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)(flags & 0xF) << 52 |
           (uint64_t)(base >> 24) << 56;
}

void gdt_set(int index, uint64_t descriptor)
{
    if (index <= 0 || index >= VP_GDT_ENTRIES)
        report_abort("gdt_set", "index %d out of range", index);
    vp_gdt[index] = descriptor;
}

uint64_t gdt_get(int index)
{
    return index >= 0 && index < VP_GDT_ENTRIES ? vp_gdt[index] : 0;
}

static void set_gate(int vector, uint64_t target, int ist)
{
    idt[vector] = (struct idt_gate){
        .offset0 = (uint16_t)target,
        .selector = SEL_CODE64,
        .ist = (uint8_t)ist,
        .type_attr = 0x8E, /* present, DPL 0, 64-bit interrupt gate */
        .offset1 = (uint16_t)(target >> 16),
        .offset2 = (uint32_t)(target >> 32),
    };
}

void vp_intr_init(void)
{
    tss.ist[IST_DF - 1] = (uint64_t)(uintptr_t)(ist_stacks[0] + IST_STACK_SIZE);
    tss.ist[IST_NMI - 1] = (uint64_t)(uintptr_t)(ist_stacks[1] + IST_STACK_SIZE);
    tss.iomap_base = sizeof(tss); /* no I/O bitmap */
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    /* Type 9: available 64-bit TSS (system descriptor, S=0). */
    vp_gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
                          ((base >> 24) & 0xFF) << 56;
    vp_gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));

    for (int v = 0; v < 256; v++) {
        int ist = v == DF_VECTOR ? IST_DF : v == NMI_VECTOR ? IST_NMI : 0;
        set_gate(v, (uint64_t)(uintptr_t)(vp_isr_stubs + v * ISR_STUB_SIZE), ist);
    }
    struct desc_ptr p = {.limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(p));
}

void set_intr_handler(int vector, intr_handler fn)
{
    if (vector >= 0 && vector < 256)
        handlers[vector] = fn;
}

bool vector_has_error_code(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

const char *vector_name(int v)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
        "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
        "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
    };
    return v >= 0 && v < 32 ? names[v] : "IRQ";
}

static void dump_frame(const struct intr_frame *f)
{
    printf("  rip=%016llx cs=%04llx rflags=%08llx rsp=%016llx ss=%04llx\n",
           (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
           (unsigned long long)f->rsp, (unsigned long long)f->ss);
    printf("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", (unsigned long long)f->rax,
           (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    printf("  rsi=%016llx rdi=%016llx rbp=%016llx\n", (unsigned long long)f->rsi,
           (unsigned long long)f->rdi, (unsigned long long)f->rbp);
    printf("  cr0=%016llx cr3=%016llx cr4=%016llx\n", (unsigned long long)read_cr0(),
           (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

/* Where a caught exception resumes: unwinds to run_catching. */
static void catch_resume(void)
{
    vp_longjmp(&catch_buf, 1);
}

void vp_intr_dispatch(struct intr_frame *f);
void vp_intr_dispatch(struct intr_frame *f)
{
    int v = (int)f->vector;
    dispatch_depth++;
    if (handlers[v]) {
        handlers[v](f);
    } else if (v < 32 && catching) {
        catching = false;
        last_exception = (struct exception_info){
            .vector = v,
            .error_code = f->error_code,
            .rip = f->rip,
            .cr2 = read_cr2(),
            .rflags = f->rflags,
        };
        /* Resume in 64-bit ring 0 on a stack below run_catching's frame,
         * whatever state the faulting code left. */
        f->rip = (uint64_t)(uintptr_t)catch_resume;
        f->cs = SEL_CODE64;
        f->ss = SEL_DATA;
        f->rsp = (catch_buf.rsp - 512) & ~15ull;
        f->rsp -= 8; /* as if catch_resume had been called */
        f->rflags = catch_buf.rflags & ~RFLAGS_TF;
    } else if (v < 32) {
        uint64_t cr2 = read_cr2();
        if (dispatch_depth > 1) {
            printf("FAIL: nested exception: %s (vector %d) error %#llx rip %#llx cr2 %#llx\n",
                   vector_name(v), v, (unsigned long long)f->error_code,
                   (unsigned long long)f->rip, (unsigned long long)cr2);
            vp_exit(1);
        }
        printf("unexpected exception %s (vector %d):\n", vector_name(v), v);
        dump_frame(f);
        char msg[160];
        snprintf(msg, sizeof(msg), "%s (vector %d) error %#llx rip %#llx cr2 %#llx",
                 vector_name(v), v, (unsigned long long)f->error_code,
                 (unsigned long long)f->rip, (unsigned long long)cr2);
        vp_report_line("FAIL", "unexpected exception", msg);
        report_summary();
        vp_exit(1);
    } else {
        char msg[64];
        snprintf(msg, sizeof(msg), "vector %d at rip %#llx", v, (unsigned long long)f->rip);
        vp_report_line("FAIL", "unexpected interrupt", msg);
        if (++stray_interrupts >= 20)
            report_abort("unexpected interrupt", "too many, giving up");
    }
    dispatch_depth--;
}

int run_catching(void (*fn)(void *), void *arg)
{
    if (vp_setjmp(&catch_buf))
        return last_exception.vector;
    catching = true;
    barrier();
    fn(arg);
    barrier();
    catching = false;
    return -1;
}
