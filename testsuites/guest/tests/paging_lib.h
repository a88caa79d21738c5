/* paging_lib.h: shared pieces of the paging tests (paging_modes, pku,
 * smep_smap, pcid). Not a test itself. Include once, from the test's .c,
 * after sys_lib.h (whose .S half the test's .S emits).
 *
 * In long mode the runtime's identity map stays supervisor-only (sys_init
 * makes it user-accessible; pl_init undoes that at the PML4 level, so that
 * SMEP and SMAP leave the test's own code and data alone). The test's
 * pages live in an alias region at PML4[1] (linear 512 GiB) mapped with
 * 4-KiB pages whose PTEs the test writes (pl_set), reached with
 * supervisor accesses (pl_access) or from ring 3 (the same call with
 * user = true) through small code stubs in a user page.
 *
 * SDM Vol 3A, "4-Level Paging and 5-Level Paging", "Access Rights",
 * "Page-Fault Exceptions".
 */
#ifndef PAGING_LIB_H
#define PAGING_LIB_H

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_PK(k) ((uint64_t)(k) << 59)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)
#define PF_RSVD BIT(3)
#define PF_I BIT(4)
#define PF_PK BIT(5)

#define CR4_PCIDE BIT(17)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)
#define CR4_LA57 BIT(12)

#define PL_BASE 0x0000008000000000ull /* PML4[1] */
#define PL_PAGES 512
/* Pages of the alias region with fixed roles. */
#define PL_UCODE 0   /* user code stubs (U, read-only, executable) */
#define PL_USTACK 1  /* user stack (U, writable, NX) */
#define PL_FREE 8    /* first page for the test */

/* Offsets of the stubs in the user code page: read [rdi], write [rdi],
 * jump to rdi; each read/write is followed by UD2 (the way back). */
#define PL_STUB_READ 0
#define PL_STUB_WRITE 16
#define PL_STUB_EXEC 32

enum { ACC_R, ACC_W, ACC_X };

static uint64_t *pl_pdpt, *pl_pd, *pl_pt;
/* Physical pages behind the alias pages (identity-mapped, so also their
 * supervisor address in the runtime's map). */
static uint8_t *pl_frame[PL_PAGES];

static inline uint64_t pl_va(unsigned i)
{
    return PL_BASE + (uint64_t)i * 4096;
}

static inline void pl_set(unsigned i, uint64_t pte)
{
    pl_pt[i] = pte;
    invlpg((void *)(uintptr_t)pl_va(i));
}

/* Maps alias page i to its frame with `flags` (P added). */
static inline void pl_map(unsigned i, uint64_t flags)
{
    pl_set(i, (uint64_t)(uintptr_t)pl_frame[i] | PTE_P | flags);
}

static inline void pl_init(void)
{
    sys_init();
    vp_pml4[0] &= ~PTE_U;
    pl_pdpt = alloc_page();
    pl_pd = alloc_page();
    pl_pt = alloc_page();
    pl_pd[0] = (uint64_t)(uintptr_t)pl_pt | PTE_P | PTE_W | PTE_U;
    pl_pdpt[0] = (uint64_t)(uintptr_t)pl_pd | PTE_P | PTE_W | PTE_U;
    vp_pml4[1] = (uint64_t)(uintptr_t)pl_pdpt | PTE_P | PTE_W | PTE_U;
    for (unsigned i = 0; i < 16; i++)
        pl_frame[i] = alloc_page();
    static const uint8_t stubs[] = {
        [PL_STUB_READ] = 0x48, 0x8B, 0x07, 0x0F, 0x0B,  /* mov (%rdi),%rax; ud2 */
        [PL_STUB_WRITE] = 0xC6, 0x07, 0x01, 0x0F, 0x0B, /* movb $1,(%rdi); ud2 */
        [PL_STUB_EXEC] = 0xFF, 0xE7,                    /* jmp *%rdi */
    };
    memcpy(pl_frame[PL_UCODE], stubs, sizeof(stubs));
    write_cr3(read_cr3());
    pl_map(PL_UCODE, PTE_U);
    pl_map(PL_USTACK, PTE_U | PTE_W);
}

/* ---- accesses -------------------------------------------------------- */

static inline void pl_sup_read(void *p)
{
    __asm__ volatile("movb (%0), %%al" ::"r"(p) : "rax", "memory");
}
static inline void pl_sup_write(void *p)
{
    __asm__ volatile("movb $1, (%0)" ::"r"(p) : "memory");
}
/* Executes at p: the page holds UD2 there, so success is #UD at p. */
static inline void pl_sup_exec(void *p)
{
    __asm__ volatile("call *%0" ::"r"(p) : "memory");
}

struct pl_user_frame {
    uint64_t rip, rsp, rdi;
};
static inline void pl_user_go(void *arg)
{
    const struct pl_user_frame *f = arg;
    __asm__ volatile("pushq %[ss]\n"
                     "pushq %[rsp]\n"
                     "pushq $2\n"
                     "pushq %[cs]\n"
                     "pushq %[rip]\n"
                     "iretq" ::[ss] "i"(SEL_UDATA | 3),
                     [rsp] "r"(f->rsp), [cs] "i"(SEL_U64 | 3), [rip] "r"(f->rip), "D"(f->rdi)
                     : "memory");
}

/* Runs code at `rip` in ring 3 (64-bit) with RDI = rdi: the vector that
 * ended it (last_exception has the details). */
static inline int pl_user(uint64_t rip, uint64_t rdi)
{
    struct pl_user_frame f = {rip, pl_va(PL_USTACK) + 4096 - 64, rdi};
    return run_catching(pl_user_go, &f);
}

/* One access of `kind` at linear `va` by supervisor or user code. Returns
 * -1 when it succeeded, else the vector (error code and CR2 in
 * last_exception). Execute targets must hold UD2 at va. */
static inline int pl_access(int kind, bool user, uint64_t va)
{
    void *p = (void *)(uintptr_t)va;
    int v;
    if (!user) {
        v = run_catching(kind == ACC_R ? pl_sup_read : kind == ACC_W ? pl_sup_write : pl_sup_exec,
                         p);
        if (kind == ACC_X && v == UD_VECTOR && last_exception.rip == va)
            v = -1;
        return v;
    }
    unsigned off = kind == ACC_R ? PL_STUB_READ : kind == ACC_W ? PL_STUB_WRITE : PL_STUB_EXEC;
    uint64_t rip = pl_va(PL_UCODE) + off;
    v = pl_user(rip, va);
    uint64_t done = kind == ACC_X ? va : rip + 3;
    if (v == UD_VECTOR && last_exception.rip == done)
        v = -1;
    return v;
}

static const char *const pl_kind_name[] = {"read", "write", "fetch"};

/* Checks one access: want_err < 0 for success, else #PF with that error
 * code and CR2 = va. */
static inline bool pl_expect(const char *what, int kind, bool user, uint64_t va, int want_err)
{
    int v = pl_access(kind, user, va);
    char name[120];
    snprintf(name, sizeof(name), "%s: %s %s", what, user ? "user" : "supervisor",
             pl_kind_name[kind]);
    bool ok = want_err < 0 ? v == -1
                           : v == PF_VECTOR && last_exception.error_code == (uint64_t)want_err &&
                                 last_exception.cr2 == va;
    if (want_err < 0)
        return report_msg(name, ok, "vector %d error %#llx cr2 %#llx, want no fault", v,
                          (unsigned long long)last_exception.error_code,
                          (unsigned long long)last_exception.cr2);
    return report_msg(name, ok, "vector %d error %#llx cr2 %#llx, want #PF error %#x cr2 %#llx",
                      v, (unsigned long long)last_exception.error_code,
                      (unsigned long long)last_exception.cr2, want_err,
                      (unsigned long long)va);
}

/* A test page: its frame filled with UD2 (so fetches succeed as #UD). */
static inline void pl_fill_ud2(unsigned i)
{
    for (int k = 0; k < 4096; k += 2) {
        pl_frame[i][k] = 0x0F;
        pl_frame[i][k + 1] = 0x0B;
    }
}

static inline void set_efer_bits(uint64_t set, uint64_t clear)
{
    wrmsr(MSR_EFER, (rdmsr(MSR_EFER) | set) & ~clear);
}

#endif
