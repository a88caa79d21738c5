#!/usr/bin/python3
"""mkimg.py BOOTSECT ELF IMG: a BIOS-bootable disk image of a guest test.

The image is the boot block (boot/bootsect.S, built flat) followed by the
payload: the file-backed bytes of the ELF's PT_LOAD segments laid out from
the lowest physical address, as a loader would place them. The boot block's
parameter block (after the "VPBS" magic at offset 4) gets the load address,
the entry point and the payload length in sectors. The image is padded to a
whole number of 16-head, 63-sector cylinders so Bochs can infer the
geometry of a flat disk image.
"""
import struct
import sys

SECTOR = 512
CYLINDER = 16 * 63 * SECTOR
PT_LOAD = 1


def load_segments(elf):
    """[(paddr, bytes)] of the PT_LOAD segments' file contents, and entry."""
    if elf[:4] != b"\x7fELF":
        raise SystemExit("mkimg: not an ELF file")
    cls = elf[4]
    if cls == 2:
        entry, phoff = struct.unpack_from("<QQ", elf, 24)
        phentsize, phnum = struct.unpack_from("<HH", elf, 54)
        fmt = "<IIQQQQQQ"
    elif cls == 1:
        entry, phoff = struct.unpack_from("<II", elf, 24)
        phentsize, phnum = struct.unpack_from("<HH", elf, 42)
        fmt = "<IIIIIIII"
    else:
        raise SystemExit("mkimg: unknown ELF class %d" % cls)
    segs = []
    for i in range(phnum):
        f = struct.unpack_from(fmt, elf, phoff + i * phentsize)
        if cls == 2:
            p_type, _, offset, _, paddr, filesz = f[:6]
        else:
            p_type, offset, _, paddr, filesz = f[:5]
        if p_type == PT_LOAD and filesz:
            segs.append((paddr, elf[offset:offset + filesz]))
    if not segs:
        raise SystemExit("mkimg: no loadable segment")
    return segs, entry


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: mkimg.py BOOTSECT ELF IMG")
    boot = bytearray(open(argv[1], "rb").read())
    elf = open(argv[2], "rb").read()
    if len(boot) != 2 * SECTOR or boot[510:512] != b"\x55\xaa" or boot[4:8] != b"VPBS":
        raise SystemExit("mkimg: %s is not the 2-sector vanderpool boot block" % argv[1])

    segs, entry = load_segments(elf)
    base = min(p for p, _ in segs)
    end = max(p + len(d) for p, d in segs)
    if base < 0x100000 or end > 0xFFFFFFFF:
        raise SystemExit("mkimg: payload %#x-%#x outside 1 MiB..4 GiB" % (base, end))
    payload = bytearray(end - base)
    for paddr, data in segs:
        payload[paddr - base:paddr - base + len(data)] = data
    payload += bytes(-len(payload) % SECTOR)

    struct.pack_into("<III", boot, 8, base, entry, len(payload) // SECTOR)
    image = boot + payload
    image += bytes(-len(image) % CYLINDER)
    with open(argv[3], "wb") as out:
        out.write(image)


if __name__ == "__main__":
    main(sys.argv)
