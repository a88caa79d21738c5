/* QEMU's firmware configuration device, traditional interface only:
 * 16-bit selector at 0x510, 8-bit data at 0x511 (x86 I/O ports). The DMA
 * interface is not implemented, so FW_CFG_ID advertises bit 0 alone and
 * nothing listens at 0x514.
 *
 * Reference: QEMU "QEMU Firmware Configuration (fw_cfg) Device"
 * specification (docs/specs/fw_cfg), sections "Selector (Control)
 * Register", "Data Register", "Register Locations", "Firmware
 * Configuration Items" (signature, revision/feature bitmap, file
 * directory), and the well-known selector keys of Linux's
 * include/uapi/linux/qemu_fw_cfg.h; the x86 keys (FW_CFG_ARCH_LOCAL + n)
 * and the "etc/e820" entry layout are QEMU's hw/i386 conventions.
 *
 * Items held:
 *   0x0000 signature "QEMU"          0x0001 ID (u32 LE, bit 0: traditional)
 *   0x0002 UUID (16 zero bytes)      0x0003 RAM size (u64 LE, bytes)
 *   0x0005 CPUs at boot (u16 LE)     0x000f maximum CPUs (u16 LE)
 *   0x0014/0x0015 kernel command line size (u32 LE, with NUL) and bytes,
 *                 when one was given
 *   0x0019 file directory            0x8002 IRQ0 override (u32 LE, 1: the
 *                                           I/O APIC sees IRQ0 on pin 2)
 *   0x0020+ files, sorted by name: "etc/e820" (RAM ranges, one entry of
 *           u64 address, u64 length, u32 type 1 each, little-endian)
 *
 * Access widths as QEMU's combined x86 port: any byte read of either port
 * reads data, a 16-bit write to 0x510 selects, byte writes are data
 * writes (ignored: no item is writable), other accesses are ignored and
 * read as all ones. */
#include <stdlib.h>
#include <string.h>

#include "emu/dev/devices.h"
#include "emu/dev/fwcfg.h"

enum {
    FW_CFG_SIGNATURE = 0x00,
    FW_CFG_ID = 0x01,
    FW_CFG_UUID = 0x02,
    FW_CFG_RAM_SIZE = 0x03,
    FW_CFG_NB_CPUS = 0x05,
    FW_CFG_MAX_CPUS = 0x0f,
    FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15,
    FW_CFG_FILE_DIR = 0x19,
    FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_WRITE_CHANNEL = 0x4000,
    FW_CFG_ARCH_LOCAL = 0x8000,
    FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2,
};

#define FW_CFG_ID_TRADITIONAL 0x1u
#define FWCFG_MAX_ITEMS 48
#define FWCFG_MAX_FILES 32
#define E820_RAM 1u

typedef struct fw_item {
    uint16_t key;
    char name[VP_FWCFG_NAME_MAX]; /* files only */
    uint8_t *data;
    uint32_t len;
} fw_item;

struct vp_fwcfg {
    vp_machine *m;
    fw_item items[FWCFG_MAX_ITEMS];  /* well-known keys */
    int nitems;
    fw_item files[FWCFG_MAX_FILES];  /* sorted by name */
    int nfiles;
    fw_item dir;
    const fw_item *cur;              /* selected item, or NULL */
    uint16_t sel;
    uint32_t off;
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A private copy of `len` bytes (a valid pointer even when len is 0), or
 * NULL when out of memory. */
static uint8_t *copy_bytes(const void *data, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy && len)
        memcpy(copy, data, len);
    return copy;
}

static int add_item(vp_fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
    if (f->nitems == FWCFG_MAX_ITEMS)
        return -1;
    uint8_t *copy = copy_bytes(data, len);
    if (!copy)
        return -1;
    f->items[f->nitems++] = (fw_item){.key = key, .data = copy, .len = len};
    return 0;
}

static int add_le(vp_fwcfg *f, uint16_t key, uint64_t v, int n)
{
    uint8_t b[8];
    put_le(b, v, n);
    return add_item(f, key, b, (uint32_t)n);
}

/* Directory: u32 BE count, then per file u32 BE size, u16 BE select,
 * u16 reserved, char name[56] ("File Directory"). */
static int rebuild_dir(vp_fwcfg *f)
{
    uint32_t len = 4 + 64u * (uint32_t)f->nfiles;
    uint8_t *d = calloc(1, len);
    if (!d)
        return -1;
    put_be(d, (uint64_t)f->nfiles, 4);
    for (int i = 0; i < f->nfiles; i++) {
        uint8_t *e = d + 4 + 64 * i;
        f->files[i].key = (uint16_t)(FW_CFG_FILE_FIRST + i);
        put_be(e, f->files[i].len, 4);
        put_be(e + 4, f->files[i].key, 2);
        memcpy(e + 8, f->files[i].name, VP_FWCFG_NAME_MAX);
    }
    free(f->dir.data);
    f->dir = (fw_item){.key = FW_CFG_FILE_DIR, .data = d, .len = len};
    return 0;
}

int vp_fwcfg_add_file(vp_fwcfg *f, const char *name, const void *data,
                      uint32_t len)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl >= VP_FWCFG_NAME_MAX)
        return -1;
    uint8_t *copy = copy_bytes(data, len);
    if (!copy)
        return -1;
    int pos = 0;
    while (pos < f->nfiles && strcmp(f->files[pos].name, name) < 0)
        pos++;
    if (pos < f->nfiles && strcmp(f->files[pos].name, name) == 0) {
        free(f->files[pos].data);
    } else {
        if (f->nfiles == FWCFG_MAX_FILES) {
            free(copy);
            return -1;
        }
        memmove(&f->files[pos + 1], &f->files[pos],
                (size_t)(f->nfiles - pos) * sizeof(f->files[0]));
        f->nfiles++;
        memset(f->files[pos].name, 0, VP_FWCFG_NAME_MAX);
        memcpy(f->files[pos].name, name, nl);
    }
    f->files[pos].data = copy;
    f->files[pos].len = len;
    f->cur = NULL;
    f->sel = 0xffff;
    return rebuild_dir(f);
}

static const fw_item *find_item(const vp_fwcfg *f, uint16_t key)
{
    if (key == FW_CFG_FILE_DIR)
        return &f->dir;
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            return &f->items[i];
    for (int i = 0; i < f->nfiles; i++)
        if (f->files[i].key == key)
            return &f->files[i];
    return NULL;
}

static void fwcfg_select(vp_fwcfg *f, uint16_t v)
{
    f->sel = v;
    f->off = 0;
    /* Bit 14 asks for write access; no item here is writable. */
    f->cur = find_item(f, v & (uint16_t)~FW_CFG_WRITE_CHANNEL);
    if (!f->cur)
        VP_TRACE(&f->m->trace, DEV, "fw_cfg: key %#x not present", v);
}

static uint64_t fwcfg_io_read(void *opaque, uint64_t off, unsigned size)
{
    vp_fwcfg *f = opaque;
    (void)off;
    if (size != 1)
        return size == 2 ? 0xffff : 0xffffffffu;
    /* Past the end of the item, or with no item selected, reads 0. */
    if (!f->cur || f->off >= f->cur->len)
        return 0;
    return f->cur->data[f->off++];
}

static void fwcfg_io_write(void *opaque, uint64_t off, uint64_t v,
                           unsigned size)
{
    vp_fwcfg *f = opaque;
    if (size == 2 && off == 0)
        fwcfg_select(f, (uint16_t)v);
    else
        VP_TRACE(&f->m->trace, DEV,
                 "fw_cfg: %u-byte write of %#llx at offset %llu ignored",
                 size, (unsigned long long)v, (unsigned long long)off);
}

static const vp_io_ops fwcfg_ops = {
    .name = "fw_cfg",
    .read = fwcfg_io_read,
    .write = fwcfg_io_write,
    .widths = VP_W8 | VP_W16,
};

static int add_e820(vp_fwcfg *f)
{
    vp_ram_range r[8];
    int n = vp_phys_ram_ranges(&f->m->mem, r, (int)VP_ARRAY_SIZE(r));
    uint8_t buf[8 * 20];
    for (int i = 0; i < n; i++) {
        put_le(buf + 20 * i, r[i].base, 8);
        put_le(buf + 20 * i + 8, r[i].size, 8);
        put_le(buf + 20 * i + 16, E820_RAM, 4);
    }
    return vp_fwcfg_add_file(f, "etc/e820", buf, (uint32_t)(20 * n));
}

static void fwcfg_free_items(vp_fwcfg *f)
{
    for (int i = 0; i < f->nitems; i++)
        free(f->items[i].data);
    for (int i = 0; i < f->nfiles; i++)
        free(f->files[i].data);
    free(f->dir.data);
}

vp_fwcfg *vp_fwcfg_create(vp_machine *m, vp_error *err)
{
    vp_fwcfg *f = calloc(1, sizeof(*f));
    if (!f) {
        vp_fail(err, "out of memory");
        return NULL;
    }
    f->m = m;
    static const uint8_t uuid[16];
    int bad = add_item(f, FW_CFG_SIGNATURE, "QEMU", 4) |
              add_le(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL, 4) |
              add_item(f, FW_CFG_UUID, uuid, sizeof(uuid)) |
              add_le(f, FW_CFG_RAM_SIZE, m->mem.ram_size, 8) |
              add_le(f, FW_CFG_NB_CPUS, (uint64_t)m->ncpus, 2) |
              add_le(f, FW_CFG_MAX_CPUS, (uint64_t)m->ncpus, 2) |
              add_le(f, FW_CFG_IRQ0_OVERRIDE, 1, 4) | rebuild_dir(f);
    if (m->cfg.cmdline) {
        size_t n = strlen(m->cfg.cmdline) + 1;
        if (n > UINT32_MAX)
            n = UINT32_MAX;
        bad |= add_le(f, FW_CFG_CMDLINE_SIZE, n, 4) |
               add_item(f, FW_CFG_CMDLINE_DATA, m->cfg.cmdline, (uint32_t)n);
    }
    if (bad || add_e820(f) < 0) {
        vp_fail(err, "fw_cfg: out of memory");
        fwcfg_free_items(f);
        free(f);
        return NULL;
    }
    if (vp_ioport_register(&m->io, 0x510, 2, &fwcfg_ops, f) < 0) {
        vp_fail(err, "fw_cfg: ports 0x510-0x511 already in use");
        fwcfg_free_items(f);
        free(f);
        return NULL;
    }
    vp_fwcfg_reset(f);
    return f;
}

void vp_fwcfg_reset(vp_fwcfg *f)
{
    fwcfg_select(f, FW_CFG_SIGNATURE);
}

void vp_fwcfg_free(vp_fwcfg *f)
{
    if (!f)
        return;
    fwcfg_free_items(f);
    free(f);
}
