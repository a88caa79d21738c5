/* dev_fwcfg.c: QEMU's fw_cfg device through its traditional I/O ports
 * (selector 0x510, data 0x511): signature, feature bits, RAM size (against
 * the CMOS memory bytes), CPU counts, the file directory, and etc/e820
 * (its RAM entry above 1 MiB ends where CMOS says RAM ends).
 * engines: vanderpool qemu
 * mem: 256
 *
 * QEMU "Firmware Configuration (fw_cfg) Device" specification: "Selector
 * (Control) Register", "Data Register" (reads past the end return 0),
 * "Firmware Configuration Items" (0x0000 signature, 0x0001 ID, 0x0019
 * file directory: BE count, then BE size, BE select, reserved, name[56]).
 */
#include "dev_lib.h"

#define FW_SEL 0x510
#define FW_DATA 0x511

static void fw_select(uint16_t key)
{
    outw(FW_SEL, key);
}

static uint64_t fw_le(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)inb(FW_DATA) << (8 * i);
    return v;
}

static uint64_t fw_be(int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | inb(FW_DATA);
    return v;
}

struct fw_file {
    uint32_t size;
    uint16_t key;
    char name[57];
};

static struct fw_file files[64];

void test_main(void)
{
    fw_select(0x0000);
    char sig[6] = {0};
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(FW_DATA);
    if (!report_msg("signature QEMU", !strcmp(sig, "QEMU"), "got \"%s\"", sig))
        report_abort("fw_cfg", "no fw_cfg device (signature \"%s\")", sig);
    report_eq("reads past the end are 0", inb(FW_DATA), 0);

    fw_select(0x0001);
    report_eq("ID: traditional interface", fw_le(4) & 1, 1);

    /* RAM size against CMOS: below 4 GiB from 0x34/0x35, above from
     * 0x5B-0x5D (64 KiB units). */
    uint64_t below = ((uint64_t)(cmos_read(0x34) | cmos_read(0x35) << 8) << 16) +
                     (16u << 20);
    uint64_t above = (uint64_t)(cmos_read(0x5B) | cmos_read(0x5C) << 8 |
                                (uint32_t)cmos_read(0x5D) << 16) << 16;
    fw_select(0x0003);
    uint64_t ram = fw_le(8);
    report_msg("RAM size", ram == below + above, "fw_cfg %#llx, CMOS %#llx",
               (unsigned long long)ram, (unsigned long long)(below + above));

    fw_select(0x0005);
    uint64_t ncpu = fw_le(2);
    fw_select(0x000F);
    uint64_t maxcpu = fw_le(2);
    report_msg("CPU counts", ncpu >= 1 && maxcpu >= ncpu, "%llu of %llu",
               (unsigned long long)ncpu, (unsigned long long)maxcpu);

    fw_select(0x7777);
    report_eq("absent key reads 0", fw_le(4), 0);

    fw_select(0x0019);
    uint32_t n = (uint32_t)fw_be(4);
    report_msg("file directory", n >= 1 && n <= 4096, "%u files", n);
    if (n > ARRAY_SIZE(files))
        n = ARRAY_SIZE(files);
    bool keys_ok = true, sorted = true;
    for (uint32_t i = 0; i < n; i++) {
        files[i].size = (uint32_t)fw_be(4);
        files[i].key = (uint16_t)fw_be(2);
        (void)fw_be(2);
        for (int k = 0; k < 56; k++)
            files[i].name[k] = (char)inb(FW_DATA);
        files[i].name[56] = 0;
        keys_ok &= files[i].key >= 0x20 && files[i].key < 0x4000;
        if (i > 0)
            sorted &= strcmp(files[i - 1].name, files[i].name) < 0;
    }
    report("file keys in the file range", keys_ok);
    report("directory sorted by name", sorted);

    const struct fw_file *e820 = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(files[i].name, "etc/e820"))
            e820 = &files[i];
    if (!report_msg("etc/e820 present", e820 != NULL, "not in the directory"))
        return;
    report_msg("etc/e820 size", e820->size && e820->size % 20 == 0 &&
               e820->size <= 20 * 32, "%u bytes", e820->size);
    fw_select(e820->key);
    bool found = false, types_ok = true;
    uint64_t end = 0;
    for (uint32_t i = 0; i < e820->size / 20 && i < 32; i++) {
        uint64_t addr = fw_le(8), len = fw_le(8);
        uint32_t type = (uint32_t)fw_le(4);
        printf("e820: %#llx-%#llx type %u\n", (unsigned long long)addr,
               (unsigned long long)(addr + len), type);
        types_ok &= type >= 1 && type <= 5;
        if (type == 1 && addr <= 0x100000 && addr + len > 0x100000) {
            found = true;
            end = addr + len;
        }
    }
    report("e820 entry types", types_ok);
    report("e820 RAM at 1 MiB", found);
    report_eq("e820 RAM ends where CMOS says", end, below);
}
