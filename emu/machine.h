/* The PC machine: memory, buses, clock, CPUs and platform devices, and the
 * run loop that interleaves CPU slices with timer callbacks. */
#ifndef VP_MACHINE_H
#define VP_MACHINE_H

#include "emu/base/error.h"
#include "emu/base/trace.h"
#include "emu/bus/device.h"
#include "emu/bus/ioport.h"
#include "emu/bus/physmem.h"
#include "emu/time/clock.h"

#define VP_MAX_CPUS 16
#define VP_MAX_MODULES 16

typedef struct vp_cpu vp_cpu;
typedef struct vp_pic vp_pic;
typedef struct vp_pit vp_pit;
typedef struct vp_rtc vp_rtc;
typedef struct vp_uart vp_uart;
typedef struct vp_lapic vp_lapic;
typedef struct vp_ioapic vp_ioapic;
typedef struct vp_fwcfg vp_fwcfg;
typedef struct vp_sysctl vp_sysctl;
typedef struct vp_debug vp_debug;
typedef struct vp_machine vp_machine;

/* Why the run loop stopped. Each maps to a documented exit status. */
typedef enum vp_stop {
    VP_STOP_NONE = 0,
    VP_STOP_DEBUG_EXIT,   /* guest wrote isa-debug-exit; code in exit_code */
    VP_STOP_RESET,        /* guest asked for reset and reboot is off */
    VP_STOP_SHUTDOWN,     /* triple fault */
    VP_STOP_HALTED,       /* all CPUs halted with nothing that can wake them */
    VP_STOP_TIMEOUT,
    VP_STOP_INSN_LIMIT,
    VP_STOP_ERROR,        /* emulator-internal error, message in stop_msg */
    VP_STOP_USER,         /* the frontend asked (monitor quit, signal) */
    VP_STOP_DEBUG,        /* a breakpoint, watchpoint or step (emu/debug) */
} vp_stop;

typedef struct vp_module_spec {
    const char *path;
    const char *cmdline;
} vp_module_spec;

typedef struct vp_config {
    uint64_t ram_size;            /* bytes */
    int ncpus;
    const char *cpu_model;        /* NULL: default model */
    bool realtime;
    bool no_reboot;               /* reset stops the machine */
    bool reset_on_triple_fault;   /* triple fault resets instead of stopping */
    uint64_t max_insns;           /* 0: unlimited */
    uint64_t timeout_ms;          /* 0: none; machine time (virtual or real) */
    vp_chardev serial[2];         /* COM1, COM2; write NULL: discarded */
    vp_chardev debugcon;          /* port 0xE9 */
    int64_t rtc_epoch;            /* Unix seconds at power-on; 0: fixed default */
    /* Boot image. */
    const char *kernel;
    const char *cmdline;
    vp_module_spec modules[VP_MAX_MODULES];
    int nmodules;
} vp_config;

struct vp_machine {
    vp_config cfg;
    vp_tracer trace;
    vp_physmem mem;
    vp_ioport_map io;
    vp_clock clock;

    vp_cpu *cpus[VP_MAX_CPUS];
    int ncpus;
    vp_cpu *current_cpu;          /* the CPU executing now (for LAPIC MMIO) */

    vp_pic *pic;
    vp_pit *pit;
    vp_rtc *rtc;
    vp_uart *uart[2];
    vp_ioapic *ioapic;
    vp_fwcfg *fwcfg;
    vp_sysctl *sysctl;

    /* Receivers of ISA IRQ levels: the 8259 pair and the I/O APIC each
     * register one (vp_machine_add_isa_irq_sink). */
    struct {
        void (*set)(void *opaque, int irq, int level);
        void *opaque;
    } isa_sink[4];
    int nisa_sinks;

    vp_stop stop;
    int exit_code;                /* for VP_STOP_DEBUG_EXIT */
    char stop_msg[512];
    bool reset_requested;
    uint64_t host_start_ns;
    /* Bumped on every change of mem.a20_mask (port 0x92, 8042): CPUs that
     * cache translations of guest-physical addresses flush them. */
    uint32_t a20_gen;

    /* Breakpoints, watchpoints, stepping (emu/debug); NULL until used. */
    vp_debug *debug;
    /* Called by vp_machine_run between slices, where every CPU is between
     * instructions (the frontend polls its monitor and gdbstub there and
     * may request a stop). It must not change guest state. NULL: none. */
    void (*poll)(void *opaque);
    void *poll_opaque;
};

/* Builds the machine from cfg (copied), loads cfg->kernel. On failure
 * returns NULL and explains in err. */
vp_machine *vp_machine_create(const vp_config *cfg, const vp_tracer *trace,
                              vp_error *err);
void vp_machine_destroy(vp_machine *m);

/* Runs until something stops the machine; returns why. May be called again
 * after VP_STOP_USER or VP_STOP_DEBUG. `budget` limits instructions for
 * this call (0: none) and returns VP_STOP_USER when used up. */
vp_stop vp_machine_run(vp_machine *m, uint64_t budget);

/* Asks the machine to stop at the next opportunity (any thread-safe use is
 * the caller's business: a flag store). */
void vp_machine_request_stop(vp_machine *m, vp_stop why, int code,
                             const char *msg);

/* Platform reset (port 0xCF9, 8042, triple fault with reboot on). */
void vp_machine_request_reset(vp_machine *m);

/* ISA IRQ routing: every registered sink sees every ISA IRQ level change
 * (the I/O APIC's sink maps IRQ0 to pin 2, as the ACPI interrupt source
 * override on PCs describes). */
void vp_machine_set_isa_irq(vp_machine *m, int irq, int level);
void vp_machine_add_isa_irq_sink(vp_machine *m,
                                 void (*set)(void *opaque, int irq, int level),
                                 void *opaque);

/* Total instructions retired by all CPUs. */
uint64_t vp_machine_insns(const vp_machine *m);

#endif
