/* Loading by the header's address fields (the "a.out kludge"): Multiboot 1
 * flag bit 16 and the Multiboot 2 address tag share the same four fields
 * (Multiboot Specification, "The address fields of Multiboot header";
 * Multiboot2 Specification, "The address tag of Multiboot2 header"). */
#include "emu/boot/loader.h"

int vp_aout_load(vp_boot *b, const vp_aout *a, uint64_t entry)
{
    const vp_boot_file *f = &b->img;
    const char *p = f->path;
    uint64_t load_addr, file_start;
    if (a->load_from_start) {
        /* "Special value -1 means that the file must be loaded from its
         * beginning." */
        if (a->header_off > a->header_addr)
            return vp_fail(b->err, "%s: address fields: header_addr %#x is "
                           "below the header's file offset %#llx", p,
                           a->header_addr,
                           (unsigned long long)a->header_off);
        file_start = 0;
        load_addr = a->header_addr - a->header_off;
    } else {
        /* "load_addr must be less than or equal to header_addr." */
        if (a->load_addr > a->header_addr)
            return vp_fail(b->err, "%s: address fields: load_addr %#x is "
                           "above header_addr %#x", p, a->load_addr,
                           a->header_addr);
        uint64_t delta = (uint64_t)a->header_addr - a->load_addr;
        if (delta > a->header_off)
            return vp_fail(b->err, "%s: address fields: load_addr %#x would "
                           "start loading %#llx bytes before the beginning "
                           "of the file", p, a->load_addr,
                           (unsigned long long)(delta - a->header_off));
        file_start = a->header_off - delta;
        load_addr = a->load_addr;
    }
    uint64_t len;
    if (a->load_end_addr == 0) {
        /* "If this field is zero, the boot loader assumes that the text
         * and data segments occupy the whole OS image file." */
        len = f->size - file_start;
    } else {
        if (a->load_end_addr < load_addr)
            return vp_fail(b->err, "%s: address fields: load_end_addr %#x is "
                           "below load_addr %#llx", p, a->load_end_addr,
                           (unsigned long long)load_addr);
        len = a->load_end_addr - load_addr;
        if (len > f->size - file_start)
            return vp_fail(b->err, "%s: truncated image: the address fields "
                           "load %#llx bytes from file offset %#llx, but the "
                           "file has %zu bytes", p, (unsigned long long)len,
                           (unsigned long long)file_start, f->size);
    }
    uint64_t memsz = len;
    if (a->bss_end_addr) {
        if (a->bss_end_addr < load_addr + len)
            return vp_fail(b->err, "%s: address fields: bss_end_addr %#x is "
                           "below the end of the loaded data %#llx", p,
                           a->bss_end_addr,
                           (unsigned long long)(load_addr + len));
        memsz = a->bss_end_addr - load_addr;
    }
    if (memsz == 0)
        return vp_fail(b->err, "%s: address fields: nothing to load", p);
    if (vp_boot_load_bytes(b, load_addr, f->data + file_start, len, memsz,
                           "image") < 0)
        return -1;
    VP_TRACE(&b->m->trace, BOOT,
             "address fields: file %#llx+%#llx -> %#llx-%#llx (bss to %#llx)",
             (unsigned long long)file_start, (unsigned long long)len,
             (unsigned long long)load_addr,
             (unsigned long long)(load_addr + len),
             (unsigned long long)(load_addr + memsz));
    if (entry != UINT64_MAX &&
        (entry < load_addr || entry - load_addr >= memsz))
        return vp_fail(b->err, "%s: entry address %#llx lies outside the "
                       "loaded image %#llx-%#llx", p,
                       (unsigned long long)entry,
                       (unsigned long long)load_addr,
                       (unsigned long long)(load_addr + memsz - 1));
    return 0;
}
