/* Guest physical address space of a PC: RAM with the legacy holes, ROM,
 * and MMIO regions registered by devices.
 *
 *   0x00000000-0x0009ffff  RAM (640 KiB conventional memory)
 *   0x000a0000-0x000bffff  legacy VGA window (unassigned: reads all ones)
 *   0x000c0000-0x000fffff  ROM (option ROMs and BIOS; writes ignored)
 *   0x00100000-low_end     RAM (low_end = min(ram, 3 GiB))
 *   0xc0000000-0xffffffff  MMIO window (I/O APIC, local APIC, ...)
 *   0x100000000-...        RAM above 4 GiB (ram beyond 3 GiB)
 */
#ifndef VP_BUS_PHYSMEM_H
#define VP_BUS_PHYSMEM_H

#include "emu/bus/device.h"
#include "emu/base/trace.h"

#define VP_PAGE_SIZE 4096ull
#define VP_PAGE_MASK (~(VP_PAGE_SIZE - 1))

#define VP_LOW_HOLE_START 0xa0000ull
#define VP_ROM_START 0xc0000ull
#define VP_ROM_END 0x100000ull
#define VP_MMIO_WINDOW 0xc0000000ull
#define VP_HIGH_RAM_START 0x100000000ull

typedef struct vp_mmio_region {
    uint64_t base, size;
    const vp_io_ops *ops;
    void *opaque;
} vp_mmio_region;

#define VP_MMIO_MAX 32

typedef struct vp_ram_range {
    uint64_t base, size;
} vp_ram_range;

typedef struct vp_physmem {
    uint8_t *ram;          /* host backing: low RAM, then high RAM */
    uint64_t ram_size;     /* total bytes of RAM */
    uint64_t low_size;     /* bytes mapped from 0 (includes the 640K-1M
                              hole's backing, which is not guest-visible) */
    uint64_t high_size;    /* bytes mapped from 4 GiB */
    uint8_t rom[VP_ROM_END - VP_ROM_START];
    vp_mmio_region mmio[VP_MMIO_MAX];
    int nmmio;
    uint64_t a20_mask;     /* ~0 or ~(1 << 20) */
    /* One counter per RAM page, bumped on every write to a page holding
     * decoded code; the decoded-instruction cache compares it. */
    uint32_t *code_gen;
    uint8_t *code_page;    /* 1 if the page holds cached decoded code */
    bool smc_flag;         /* a code page was written since last cleared */
    uint32_t code_epoch;   /* bumped by every write to a code page */
    uint64_t npages;
    vp_tracer *trace;
} vp_physmem;

int vp_physmem_init(vp_physmem *pm, uint64_t ram_size) VP_MUST_CHECK;
void vp_physmem_free(vp_physmem *pm);

int vp_physmem_add_mmio(vp_physmem *pm, uint64_t base, uint64_t size,
                        const vp_io_ops *ops, void *opaque) VP_MUST_CHECK;

/* Moves the MMIO region registered with (ops, opaque) to new_base, or
 * disables it when enable is false (LAPIC base relocation). */
int vp_physmem_move_mmio(vp_physmem *pm, const vp_io_ops *ops, void *opaque,
                         uint64_t new_base, bool enable) VP_MUST_CHECK;

/* Offset of gpa (after A20 masking) in pm->ram if it is RAM, else -1.
 * Every region boundary is page-aligned, so the offset of an address is
 * the offset of its page plus its offset in the page. Inline for the
 * TLB-miss path; vp_phys_ram() and vp_phys_ram_page() wrap it. */
static inline int64_t vp_phys_ram_offset(const vp_physmem *pm, uint64_t gpa)
{
    gpa &= pm->a20_mask;
    if (gpa < pm->low_size) {
        if (gpa - VP_LOW_HOLE_START < VP_ROM_END - VP_LOW_HOLE_START)
            return -1;
        return (int64_t)gpa;
    }
    if (gpa - VP_HIGH_RAM_START < pm->high_size)
        return (int64_t)(pm->low_size + (gpa - VP_HIGH_RAM_START));
    return -1;
}

/* Host pointer for gpa if it is RAM (after A20 masking), else NULL.
 * The pointer is valid to the end of the 4 KiB page. */
uint8_t *vp_phys_ram(vp_physmem *pm, uint64_t gpa);

/* RAM page index of gpa for the code-page tracking arrays, or -1. */
int64_t vp_phys_ram_page(const vp_physmem *pm, uint64_t gpa);

/* Byte-granular access to any region; MMIO gets naturally-sized pieces.
 * Unassigned addresses read as all ones and ignore writes. */
void vp_phys_read(vp_physmem *pm, uint64_t gpa, void *buf, size_t len);
void vp_phys_write(vp_physmem *pm, uint64_t gpa, const void *buf, size_t len);
uint64_t vp_phys_read_n(vp_physmem *pm, uint64_t gpa, unsigned size);
void vp_phys_write_n(vp_physmem *pm, uint64_t gpa, uint64_t v, unsigned size);

/* Loader access: writes bytes into RAM, failing (not ignoring) when any
 * byte is not RAM. Returns 0 or -1. */
int vp_phys_load(vp_physmem *pm, uint64_t gpa, const void *buf, uint64_t len)
    VP_MUST_CHECK;
/* Whether [gpa, gpa+len) is entirely guest RAM. */
bool vp_phys_is_ram(const vp_physmem *pm, uint64_t gpa, uint64_t len);

/* Guest-visible RAM ranges, in address order. Returns the count. */
int vp_phys_ram_ranges(const vp_physmem *pm, vp_ram_range *out, int max);

/* Notes a write to a RAM page that may hold decoded code. */
static inline void vp_phys_note_write(vp_physmem *pm, int64_t page)
{
    if (page >= 0 && pm->code_page[page]) {
        pm->code_gen[page]++;
        pm->code_epoch++;
        pm->smc_flag = true;
    }
}

#endif
