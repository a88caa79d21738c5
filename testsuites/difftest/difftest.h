/* Differential tester: random general-purpose instruction sequences run in
 * ring 3 natively on the host CPU (in a child process) and in Vanderpool's
 * core, comparing registers, RFLAGS (minus the flags the SDM leaves
 * undefined), DS/ES/SS, the data area and the event that ended the run.
 *
 *   gen.c     instruction templates (the table), encoder, program assembly
 *   native.c  the host side: a worker process, signal capture
 *   vpside.c  the Vanderpool side: a machine with a ring-3 user space
 *   main.c    campaigns, comparison, minimisation, reproducers
 *
 * Both sides use the same linear addresses (below 4 GiB so that 32-bit
 * compatibility-mode code can reach them). */
#ifndef VP_DIFFTEST_H
#define VP_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the shared user address space ---------------------------------- */

#define DT_CTRL 0x0fff0000u        /* native only: trampoline registers */
#define DT_CODE 0x10000000u        /* code, read/execute */
#define DT_CODE_SIZE 0x4000u
#define DT_DATA 0x10100000u        /* scratch data, read/write */
#define DT_DATA_SIZE 0x4000u
#define DT_RO (DT_DATA + DT_DATA_SIZE) /* one read-only page */
#define DT_RO_SIZE 0x1000u
#define DT_GUARD_LO (DT_DATA - 0x1000u) /* never mapped */
#define DT_GUARD_HI (DT_RO + DT_RO_SIZE) /* never mapped */
#define DT_MEM_SIZE (DT_DATA_SIZE + DT_RO_SIZE) /* compared bytes */
/* Initial stack pointer: inside the last data page, with room both ways. */
#define DT_STACK (DT_DATA + DT_DATA_SIZE - 0x800u)
#define DT_STACK_SPAN 0x600u       /* the generator keeps RSP within +-this */

/* Linux x86-64 GDT selectors (arch/x86/include/asm/segment.h); the
 * Vanderpool side builds a GDT with the same layout. */
#define DT_SEL_KCODE32 0x08
#define DT_SEL_KCODE 0x10
#define DT_SEL_KDATA 0x18
#define DT_SEL_UCODE32 0x23
#define DT_SEL_UDATA 0x2b
#define DT_SEL_UCODE 0x33
#define DT_SEL_TSS 0x40

/* Arithmetic flags (SDM Vol 1, "EFLAGS Register"). */
#define DF_CF 0x001u
#define DF_PF 0x004u
#define DF_AF 0x010u
#define DF_ZF 0x040u
#define DF_SF 0x080u
#define DF_OF 0x800u
#define DF_ALL (DF_CF | DF_PF | DF_AF | DF_ZF | DF_SF | DF_OF)
#define DF_SZP (DF_SF | DF_ZF | DF_PF)

/* ---- test cases ------------------------------------------------------ */

typedef struct dt_case {
    int mode;                  /* 64 or 32 */
    uint64_t gpr[16];
    uint64_t rflags;
    uint32_t code_len;
    uint8_t code[DT_CODE_SIZE];
    uint8_t mem[DT_MEM_SIZE];  /* DT_DATA.. and the read-only page */
} dt_case;

/* How a run ended. */
enum { DT_END_EVENT = 0,       /* an exception/trap ended it (normal) */
       DT_END_CRASH,           /* native worker died unexpectedly */
       DT_END_TIMEOUT,         /* did not finish */
       DT_END_SHUTDOWN,        /* Vanderpool triple-faulted */
       DT_END_ERROR };         /* harness problem (message printed) */

typedef struct dt_result {
    int end;                   /* DT_END_* */
    int vector;                /* exception vector (3 for the final INT3) */
    uint32_t err;              /* error code when the vector has one */
    uint64_t cr2;              /* faulting address for #PF */
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
    uint16_t ds, es, ss;
    uint8_t mem[DT_MEM_SIZE];
} dt_result;

/* ---- generated programs ---------------------------------------------- */

#define DT_GROUP_BYTES 96

/* Relocations applied when groups are placed (minimisation moves them):
 * RIP-relative operands keep pointing at their absolute target. */
enum { FIX_NONE, FIX_RIP_DISP32 };

typedef struct dt_fix {
    uint8_t kind;              /* FIX_* */
    uint8_t at;                /* offset of the 32-bit field in the group */
    uint8_t end;               /* FIX_RIP_DISP32: end of that instruction */
    int32_t val;               /* the absolute target */
} dt_fix;

/* A group: the instruction under test with the setup instructions that
 * make its operands known (addresses, counts), as one unit that the
 * minimiser keeps or drops whole. */
typedef struct dt_group {
    uint8_t bytes[DT_GROUP_BYTES];
    uint8_t len;
    uint8_t ninsn;             /* instructions in the group */
    uint16_t tmpl;             /* template index */
    uint16_t rd;               /* arithmetic flags read (must be defined) */
    uint16_t def;              /* flags written with defined values */
    uint16_t undef;            /* flags the SDM leaves undefined */
    int16_t sp_delta;          /* net RSP change */
    uint8_t nfix;
    dt_fix fix[3];
} dt_group;

#define DT_MAX_GROUPS 96

typedef struct dt_prog {
    int mode;
    uint64_t seed, index;
    uint64_t gpr[16];
    uint64_t rflags;
    uint8_t mem[DT_MEM_SIZE];
    int ngroups;
    dt_group g[DT_MAX_GROUPS];
} dt_prog;

/* Where each group landed in the assembled code, for mapping an event's
 * RIP back to a group and choosing the flags mask. */
typedef struct dt_layout {
    int n;
    uint32_t off[DT_MAX_GROUPS + 1];   /* off[n] = the final INT3 */
    uint16_t undef_before[DT_MAX_GROUPS + 1];
    uint16_t undef_after[DT_MAX_GROUPS + 1];
    uint32_t ninsn_before[DT_MAX_GROUPS + 1];
    uint16_t gidx[DT_MAX_GROUPS + 1];  /* index of the group in the program */
} dt_layout;

/* Optional instruction-set extensions the generator may use: a template
 * needing one runs only when both the host and the Vanderpool CPU model
 * advertise it in CPUID (bit k of a mask: DT_F_*). */
enum { DT_F_NONE, DT_F_BMI1, DT_F_BMI2, DT_F_ADX, DT_F_MOVBE, DT_F_POPCNT,
       DT_F_LZCNT, DT_F_CX16, DT_F_CLFLUSHOPT, DT_F_CLWB, DT_F_COUNT };

/* gen.c */
typedef struct dt_gen_opts {
    const char *only;          /* template name filter (substring) or NULL */
    bool all;                  /* include templates disabled by default */
    int mode;                  /* 0: mixed, 32 or 64 */
    int max_groups;
} dt_gen_opts;

void dt_generate(dt_prog *p, uint64_t seed, uint64_t index,
                 const dt_gen_opts *o);
/* Places the groups selected by keep (NULL: all) and appends INT3.
 * Returns false when the selection is not a valid program (reads flags
 * left undefined, or moves RSP out of its area). */
bool dt_assemble(const dt_prog *p, const bool *keep, dt_case *c,
                 dt_layout *l);
const char *dt_tmpl_name(unsigned tmpl);
unsigned dt_tmpl_count(void);
/* Every template: modes, weight, feature, and why some are off by
 * default (for --list). */
void dt_list_templates(void);
void dt_set_features(unsigned have);   /* mask of DT_F_* on both sides */
const char *dt_feature_name(int f);

/* native.c */
int dt_native_start(void);         /* 0 or -1 (message printed) */
bool dt_native_has32(void);        /* 32-bit user code segment usable */
unsigned dt_native_features(void); /* DT_F_* mask from the host's CPUID */
bool dt_native_is_amd(void);
void dt_native_stop(void);
void dt_native_run(const dt_case *c, dt_result *r);

/* vpside.c */
int dt_vp_start(const char *model);
unsigned dt_vp_features(void);     /* DT_F_* mask of the vCPU's CPUID */
void dt_vp_stop(void);
void dt_vp_run(const dt_case *c, dt_result *r);

#endif
