/* The host side of the differential tester: a worker process that maps the
 * code, data and read-only pages at the fixed addresses of difftest.h (a
 * memfd shared with the parent), enters each sequence in 64-bit mode or,
 * through a far jump to Linux's __USER32_CS, in 32-bit compatibility mode,
 * and records the state from the signal that ends it: the final INT3
 * (SIGTRAP) or a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL). The ucontext
 * gives every GPR, RIP, RFLAGS, the vector (trapno), the error code and
 * CR2 as the hardware reported them.
 *
 * A crash of the worker (anything the handler does not catch) or a hang is
 * reported as such and the worker is restarted. */
#define _GNU_SOURCE
#include "testsuites/difftest/difftest.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

void dt_native_enter64(void);
void dt_native_enter32(void);

/* Parent <-> worker control block (shared anonymous memory). */
typedef struct dt_ctl {
    int mode;
    uint64_t gpr[16];
    uint64_t rflags;
    dt_result res;             /* mem[] unused: the memfd holds memory */
} dt_ctl;

#define SHM_CODE 0
#define SHM_MEM DT_CODE_SIZE
#define SHM_SIZE (DT_CODE_SIZE + DT_MEM_SIZE)

static struct {
    int memfd;
    uint8_t *shm;              /* parent's view of the memfd */
    dt_ctl *ctl;
    pid_t pid;
    int cmd_fd, res_fd;        /* parent ends */
    uint32_t last_code_len;
} nat = {.memfd = -1, .pid = -1, .cmd_fd = -1, .res_fd = -1};

/* ---- worker ------------------------------------------------------------ */

static sigjmp_buf worker_jb;
static dt_ctl *worker_ctl;

static void worker_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    const ucontext_t *uc = ucv;
    const greg_t *g = uc->uc_mcontext.gregs;
    dt_result *r = &worker_ctl->res;
    uint16_t ds, es;
    /* Signal delivery does not touch DS/ES: they are the sequence's. */
    __asm__ volatile("movw %%ds, %0" : "=r"(ds));
    __asm__ volatile("movw %%es, %0" : "=r"(es));
    static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX,
                                REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8, REG_R9, REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};
    for (int k = 0; k < 16; k++)
        r->gpr[k] = (uint64_t)g[map[k]];
    r->rip = (uint64_t)g[REG_RIP];
    r->rflags = (uint64_t)g[REG_EFL];
    r->vector = (int)g[REG_TRAPNO];
    r->err = (uint32_t)g[REG_ERR];
    r->cr2 = (uint64_t)g[REG_CR2];
    r->ds = ds;
    r->es = es;
    /* CSGSFS: cs | gs << 16 | fs << 32 | ss << 48 (UC_SIGCONTEXT_SS). */
    r->ss = (uint16_t)((uint64_t)g[REG_CSGSFS] >> 48);
    r->end = DT_END_EVENT;
    siglongjmp(worker_jb, 1);
}

static void *map_fixed(uint32_t addr, size_t len, int prot, int flags,
                       int fd, off_t off)
{
    void *p = mmap((void *)(uintptr_t)addr, len, prot,
                   flags | MAP_FIXED_NOREPLACE, fd, off);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
        fprintf(stderr, "difftest worker: cannot map %#x: %s\n", addr,
                strerror(errno));
        _exit(3);
    }
    return p;
}

static void worker_main(int cmd_fd, int res_fd)
{
    worker_ctl = nat.ctl;
    int pop = MAP_SHARED | MAP_POPULATE;
    map_fixed(DT_CODE, DT_CODE_SIZE, PROT_READ | PROT_EXEC, pop, nat.memfd,
              SHM_CODE);
    map_fixed(DT_DATA, DT_DATA_SIZE, PROT_READ | PROT_WRITE, pop, nat.memfd,
              SHM_MEM);
    /* Populated, so a write faults with P=1 as the Vanderpool side's
     * present read-only page does. */
    map_fixed(DT_RO, DT_RO_SIZE, PROT_READ, pop, nat.memfd,
              SHM_MEM + DT_DATA_SIZE);
    map_fixed(DT_GUARD_LO, 0x1000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    map_fixed(DT_GUARD_HI, 0x1000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *ctrl = map_fixed(DT_CTRL, 0x1000, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    static uint8_t altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    if (sigaltstack(&ss, NULL) != 0)
        _exit(3);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = worker_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    static const int sigs[] = {SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
        if (sigaction(sigs[k], &sa, NULL) != 0)
            _exit(3);

    for (;;) {
        char b;
        if (read(cmd_fd, &b, 1) != 1)
            _exit(0);
        dt_ctl *ctl = worker_ctl;
        memcpy(ctrl, ctl->gpr, sizeof(ctl->gpr));
        memcpy(ctrl + 0x80, &ctl->rflags, 8);
        uint64_t rip = DT_CODE;
        memcpy(ctrl + 0x88, &rip, 8);
        uint32_t off = DT_CODE;
        uint16_t sel = DT_SEL_UCODE32;
        memcpy(ctrl + 0x90, &off, 4);
        memcpy(ctrl + 0x94, &sel, 2);
        ctl->res.end = DT_END_ERROR;
        alarm(5);
        if (sigsetjmp(worker_jb, 0) == 0) {
            if (ctl->mode == 32)
                dt_native_enter32();
            else
                dt_native_enter64();
        }
        alarm(0);
        if (write(res_fd, "r", 1) != 1)
            _exit(0);
    }
}

/* ---- parent ------------------------------------------------------------ */

static int spawn(void)
{
    int cmd[2], res[2];
    if (pipe(cmd) != 0 || pipe(res) != 0) {
        perror("difftest: pipe");
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("difftest: fork");
        return -1;
    }
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        worker_main(cmd[0], res[1]);
        _exit(0);
    }
    close(cmd[0]);
    close(res[1]);
    nat.pid = pid;
    nat.cmd_fd = cmd[1];
    nat.res_fd = res[0];
    return 0;
}

static void reap(void)
{
    if (nat.pid > 0) {
        close(nat.cmd_fd);
        close(nat.res_fd);
        kill(nat.pid, SIGKILL);
        waitpid(nat.pid, NULL, 0);
    }
    nat.pid = -1;
    nat.cmd_fd = nat.res_fd = -1;
}

int dt_native_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    nat.memfd = memfd_create("vp-difftest", 0);
    if (nat.memfd < 0 || ftruncate(nat.memfd, SHM_SIZE) != 0) {
        perror("difftest: memfd");
        return -1;
    }
    nat.shm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   nat.memfd, 0);
    nat.ctl = mmap(NULL, sizeof(dt_ctl), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (nat.shm == MAP_FAILED || nat.ctl == MAP_FAILED) {
        perror("difftest: mmap");
        return -1;
    }
    memset(nat.shm, 0xcc, DT_CODE_SIZE);
    return spawn();
}

void dt_native_stop(void)
{
    reap();
}

void dt_native_run(const dt_case *c, dt_result *r)
{
    memset(r, 0, sizeof(*r));
    if (nat.pid < 0 && spawn() != 0) {
        r->end = DT_END_ERROR;
        return;
    }
    memcpy(nat.shm + SHM_CODE, c->code, c->code_len);
    if (nat.last_code_len > c->code_len)
        memset(nat.shm + SHM_CODE + c->code_len, 0xcc,
               nat.last_code_len - c->code_len);
    nat.last_code_len = c->code_len;
    memcpy(nat.shm + SHM_MEM, c->mem, DT_MEM_SIZE);
    nat.ctl->mode = c->mode;
    memcpy(nat.ctl->gpr, c->gpr, sizeof(c->gpr));
    nat.ctl->rflags = c->rflags;

    char b;
    struct pollfd pfd = {.fd = nat.res_fd, .events = POLLIN};
    if (write(nat.cmd_fd, "c", 1) != 1 || poll(&pfd, 1, 10000) != 1 ||
        read(nat.res_fd, &b, 1) != 1) {
        int st = 0;
        bool hang = waitpid(nat.pid, &st, WNOHANG) == 0;
        r->end = hang ? DT_END_TIMEOUT : DT_END_CRASH;
        if (!hang && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
            r->end = DT_END_TIMEOUT;
        r->vector = !hang && WIFSIGNALED(st) ? WTERMSIG(st) : -1;
        reap();
        return;
    }
    *r = nat.ctl->res;
    memcpy(r->mem, nat.shm + SHM_MEM, DT_MEM_SIZE);
}

/* Whether far transfers to __USER32_CS work here: run an INT3 there. */
bool dt_native_has32(void)
{
    static dt_case c;
    dt_result r;
    memset(&c, 0, sizeof(c));
    c.mode = 32;
    c.gpr[4] = DT_STACK;
    c.rflags = 0x202;
    c.code[0] = 0xcc;
    c.code_len = 1;
    dt_native_run(&c, &r);
    return r.end == DT_END_EVENT && r.vector == 3 && r.rip == DT_CODE + 1;
}

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

bool dt_native_is_amd(void)
{
    uint32_t r[4];
    host_cpuid(0, 0, r);
    return r[1] == 0x68747541u;  /* "Auth" */
}

/* SDM Vol 2A, CPUID: leaf 1 ECX/EDX, leaf 7 EBX, leaf 80000001H ECX. */
unsigned dt_native_features(void)
{
    uint32_t l0[4], l1[4], l7[4] = {0}, e0[4], e1[4] = {0};
    host_cpuid(0, 0, l0);
    host_cpuid(1, 0, l1);
    if (l0[0] >= 7)
        host_cpuid(7, 0, l7);
    host_cpuid(0x80000000u, 0, e0);
    if (e0[0] >= 0x80000001u)
        host_cpuid(0x80000001u, 0, e1);
    unsigned f = 0;
    f |= (l7[1] >> 3 & 1u) << DT_F_BMI1;
    f |= (l7[1] >> 8 & 1u) << DT_F_BMI2;
    f |= (l7[1] >> 19 & 1u) << DT_F_ADX;
    f |= (l1[2] >> 22 & 1u) << DT_F_MOVBE;
    f |= (l1[2] >> 23 & 1u) << DT_F_POPCNT;
    f |= (e1[2] >> 5 & 1u) << DT_F_LZCNT;
    f |= (l1[2] >> 13 & 1u) << DT_F_CX16;
    f |= (l7[1] >> 23 & 1u) << DT_F_CLFLUSHOPT;
    f |= (l7[1] >> 24 & 1u) << DT_F_CLWB;
    return f;
}
