"""The vanderpool command line: help and version, every bad option and
value, every bad boot input, and the documented exit statuses.

Self-contained: builds its images in tmp_path and runs build/vanderpool
(and build-asan/vanderpool when `make asan` has built it). Statuses and
messages are those of docs/usage.md:
  2  usage error: "vanderpool: <problem>" + "Try 'vanderpool --help'."
  4  load error:  "vanderpool: <file>: <problem>" (one line)
"""
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARIES = [p for p in (ROOT / "build" / "vanderpool", ROOT / "build-asan" / "vanderpool")
            if p.exists()]

pytestmark = pytest.mark.cli

HINT = "Try 'vanderpool --help'."


@pytest.fixture(params=BINARIES or [None], ids=lambda p: p.parent.name if p else "none")
def vp(request):
    if request.param is None:
        pytest.skip("build/vanderpool is not built (make)")
    return request.param


def run(vp, *args, timeout=30, stdin=subprocess.DEVNULL):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    return subprocess.run([str(vp)] + [str(a) for a in args], stdin=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=env)


def err_lines(p):
    return p.stderr.decode("utf-8", errors="replace").strip().splitlines()


def out_text(p):
    return p.stdout.decode("utf-8", errors="replace")


# ---- images -------------------------------------------------------------

MB1_MAGIC = 0x1BADB002
MB2_MAGIC = 0xE85250D6


def elf32(entry, segs, machine=3, etype=2):
    """ELF32 executable; segs = [(offset, paddr, filesz, memsz)]."""
    eh = bytearray(52)
    eh[0:16] = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    struct.pack_into("<HHIIIIIHHHHHH", eh, 16, etype, machine, 1, entry, 52, 0, 0,
                     52, 32, len(segs), 0, 0, 0)
    ph = b"".join(struct.pack("<IIIIIIII", 1, off, pa, pa, fs, ms, 5, 0x1000)
                  for off, pa, fs, ms in segs)
    return bytearray(eh + ph)


def elf64(entry, segs, machine=62, etype=2):
    eh = bytearray(64)
    eh[0:16] = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, etype, machine, 1, entry, 64, 0, 0,
                     64, 56, len(segs), 0, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, 5, off, pa, pa, fs, ms, 0x1000)
                  for off, pa, fs, ms in segs)
    return bytearray(eh + ph)


def put(img, off, data):
    if len(img) < off + len(data):
        img.extend(bytes(off + len(data) - len(img)))
    img[off:off + len(data)] = data


def mb1_header(flags, checksum=None):
    if checksum is None:
        checksum = (-(MB1_MAGIC + flags)) & 0xffffffff
    return struct.pack("<III", MB1_MAGIC, flags, checksum)


def mb1_elf32(paddr=0x100000, size=0x100, checksum=None):
    img = elf32(paddr + 0x20, [(0x1000, paddr, size, size)])
    put(img, 0x1000, bytes(size))
    put(img, 0x1000, mb1_header(0, checksum))
    return img


def mb2_header(tags=b"", checksum=None):
    body = tags + struct.pack("<HHI", 0, 0, 8)
    length = 16 + len(body)
    if checksum is None:
        checksum = (-(MB2_MAGIC + 0 + length)) & 0xffffffff
    return struct.pack("<IIII", MB2_MAGIC, 0, length, checksum) + body


def flat_mb1(code, load=0x100000):
    """A Multiboot 1 flat binary (address fields, flag bit 16): the header
    at offset 0, code at offset 0x20 (the entry), loaded at `load`."""
    hdr = mb1_header(0x10000) + struct.pack("<IIIII", load, load, 0, load + 0x1000,
                                            load + 0x20)
    img = bytearray(hdr.ljust(0x20, b"\0") + code)
    return img.ljust(0x200, b"\0")


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


# ---- help, version, lists ------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["help"], ["-h"], ["run", "--help"],
                                  ["run", "-h"], ["run", "x.elf", "--help"]])
def test_help(vp, args):
    p = run(vp, *args)
    assert p.returncode == 0
    text = out_text(p)
    assert "Usage: vanderpool run [OPTIONS] IMAGE" in text
    for opt in ("--mem", "--cpu", "--smp", "--serial", "--debugcon", "--append",
                "--module", "-kernel", "--max-insns", "--timeout", "--realtime",
                "--no-reboot", "--reset-on-triple-fault", "--trace", "--trace-file",
                "--version", "-initrd"):
        assert opt in text, opt
    assert "Exit status" in text
    for status in ("2 ", "4 ", "6 ", "8 ", "10 ", "12 "):
        assert re.search(r"^\s+%s" % status, text, re.M), status
    assert p.stderr == b""


@pytest.mark.parametrize("args", [["--version"], ["run", "--version"]])
def test_version(vp, args):
    p = run(vp, *args)
    assert p.returncode == 0
    assert re.fullmatch(r"vanderpool \d+\.\d+\.\d+\n", out_text(p))


def test_cpu_help(vp):
    p = run(vp, "run", "--cpu", "help")
    assert p.returncode == 0
    lines = out_text(p).splitlines()
    assert lines[0].startswith("CPU models")
    models = [l.split()[0] for l in lines[1:] if l.strip()]
    assert models, "no CPU models listed"
    # Every listed model is accepted by --cpu (a load error, not a usage
    # error, follows for the missing image).
    for m in models:
        q = run(vp, "run", "--cpu", m, "/nonexistent/image.elf")
        assert q.returncode == 4, (m, err_lines(q))


def trace_categories():
    text = (ROOT / "emu" / "base" / "trace.def").read_text()
    return re.findall(r'^X\(\w+,\s*"([^"]+)"', text, re.M)


def test_trace_help(vp):
    p = run(vp, "run", "--trace", "help")
    assert p.returncode == 0
    listed = [l.split()[0] for l in out_text(p).splitlines()[1:] if l.strip()]
    assert listed == trace_categories()


# ---- usage errors: status 2 ------------------------------------------------

USAGE_ERRORS = [
    ([], "no command given"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["run"], "no boot image given"),
    (["run", "--bogus", "x"], "unknown option '--bogus'"),
    (["run", "-q", "x"], "unknown option '-q'"),
    (["run", "--m", "1G", "x"], "unknown option '--m'"),
    (["run", "x", "--mem"], "option '--mem' needs a value"),
    (["run", "--realtime=yes", "x"], "option '--realtime' takes no value"),
    (["run", "--mem", "abc", "x"], "invalid --mem value 'abc'"),
    (["run", "--mem", "-5", "x"], "invalid --mem value '-5'"),
    (["run", "--mem", "5X", "x"], "invalid --mem value '5X'"),
    (["run", "--mem", "", "x"], "invalid --mem value ''"),
    (["run", "-m", "1M", "x"], "-m 1M is too small"),
    (["run", "--mem", "2T", "x"], "--mem 2T is too large"),
    (["run", "--mem", "2049K", "x"], "not a multiple of 4K"),
    (["run", "--mem", "99999999999999999999G", "x"], "invalid --mem value"),
    (["run", "--smp", "0", "x"], "invalid --smp value '0'"),
    (["run", "--smp", "17", "x"], "invalid --smp value '17'"),
    (["run", "--smp", "two", "x"], "invalid --smp value 'two'"),
    (["run", "--cpu", "no-such-cpu", "x"], "unknown CPU model 'no-such-cpu'"),
    (["run", "--serial", "tcp:1234", "x"], "invalid --serial device 'tcp:1234'"),
    (["run", "--serial", "file:", "x"], "invalid --serial device 'file:'"),
    (["run", "-serial", "stdio", "-serial", "null", "-serial", "none", "x"],
     "too many -serial options"),
    (["run", "--debugcon", "stdout", "x"], "invalid --debugcon device 'stdout'"),
    (["run", "--max-insns", "0", "x"], "invalid --max-insns value '0'"),
    (["run", "--max-insns", "-1", "x"], "invalid --max-insns value '-1'"),
    (["run", "--max-insns", "12abc", "x"], "invalid --max-insns value '12abc'"),
    (["run", "--timeout", "soon", "x"], "invalid --timeout value 'soon'"),
    (["run", "--timeout", "-1", "x"], "invalid --timeout value '-1'"),
    (["run", "--timeout", "inf", "x"], "invalid --timeout value 'inf'"),
    (["run", "--timeout", "nan", "x"], "invalid --timeout value 'nan'"),
    (["run", "--trace", "nope", "x"], "unknown trace category 'nope'"),
    (["run", "--trace", "insn,nope", "x"], "unknown trace category 'nope'"),
    (["run", "--trace", "", "x"], "--trace needs at least one category"),
    (["run", "--trace-file", "", "x"], "--trace-file needs a file name"),
    (["run", "a.elf", "b.elf"], "more than one boot image: 'a.elf' and 'b.elf'"),
    (["run", "-kernel", "a.elf", "b.elf"], "more than one boot image"),
    (["run", "--module", "", "x"], "--module needs a file name"),
    (["run", "--module", ",args", "x"], "--module needs a file name"),
    (["run", "-initrd", "", "x"], "-initrd needs a file name"),
    (["run"] + ["--module", "m"] * 17 + ["x"], "too many modules"),
]


@pytest.mark.parametrize("args,problem", USAGE_ERRORS,
                         ids=[" ".join(a)[:40] or "(none)" for a, _ in USAGE_ERRORS])
def test_usage_error(vp, args, problem):
    p = run(vp, *args)
    assert p.returncode == 2, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 2, lines
    assert lines[0].startswith("vanderpool: "), lines
    assert problem in lines[0], lines
    assert lines[1] == HINT
    assert p.stdout == b""


# ---- load errors: status 4 -------------------------------------------------

def bad_inputs(tmp_path):
    """(name, argv after 'run', file the message names, problem)."""
    cases = []

    def case(name, data, problem, extra=(), fname=None):
        p = write(tmp_path, (fname or name) + ".img", data)
        cases.append((name, list(extra) + [p], str(p), problem))

    cases.append(("missing", [tmp_path / "nope.elf"], str(tmp_path / "nope.elf"),
                  "cannot open: No such file or directory"))
    cases.append(("directory", [tmp_path], str(tmp_path), "is a directory"))
    case("empty", b"", "empty file")
    case("text", b"hello, world\n" * 10, "not a bootable image")
    good = elf64(0x200000, [(0x1000, 0x200000, 0x10, 0x10)])
    put(good, 0x1000, bytes(0x10))
    case("truncated-elf-header", good[:30], "truncated ELF header")
    case("truncated-elf-phdrs", good[:80], "truncated ELF: the program headers")
    case("truncated-elf-segment", good[:0x1008], "truncated ELF: segment 0")
    bad = bytearray(good)
    bad[4] = 9
    case("bad-class", bad, "malformed ELF header: invalid class 9")
    bad = bytearray(good)
    struct.pack_into("<H", bad, 54, 8)
    case("bad-phentsize", bad, "malformed ELF header: e_phentsize 8")
    arm = elf32(0x8000, [(0x1000, 0x8000, 0x10, 0x10)], machine=40)
    put(arm, 0x1000, bytes(0x10))
    case("arm-elf", arm, "ELF for another machine: ARM (e_machine 40)")
    a64 = elf64(0x80000, [(0x1000, 0x80000, 0x10, 0x10)], machine=183)
    put(a64, 0x1000, bytes(0x10))
    case("aarch64-elf", a64, "ELF for another machine: AArch64")
    case("segment-in-hole", mb1_elf32(paddr=0xa0000), "overlaps the legacy hole")
    case("segment-in-rom", mb1_elf32(paddr=0xf8000), "overlaps the legacy hole")
    case("segment-beyond-mem", mb1_elf32(paddr=0x4000000), "beyond the end of RAM (32 MiB)",
         extra=["--mem", "32M"])
    case("segment-in-mmio", mb1_elf32(paddr=0xfee00000), "overlaps the MMIO window")
    case("mb1-bad-checksum", mb1_elf32(checksum=0x1234), "bad checksum")
    hdr = mb2_header(checksum=7)
    img = elf64(0x100000, [(0x1000, 0x100000, 0x100, 0x100)])
    put(img, 0x1000, hdr.ljust(0x100, b"\0"))
    case("mb2-bad-checksum", img, "Multiboot 2 header at offset 0x1000 has a bad checksum")
    img = elf64(0x100000, [(0x1000, 0x100000, 0x100, 0x100)])
    req = struct.pack("<HHIII", 1, 0, 16, 6, 123)
    put(img, 0x1000, mb2_header(req).ljust(0x100, b"\0"))
    case("mb2-unknown-request", img, "information tag type 123")
    return cases


def test_bad_inputs(vp, tmp_path):
    for name, args, fname, problem in bad_inputs(tmp_path):
        p = run(vp, "run", *args)
        lines = err_lines(p)
        assert p.returncode == 4, (name, lines)
        assert len(lines) == 1, (name, lines)
        assert lines[0].startswith("vanderpool: %s: " % fname), (name, lines)
        assert problem in lines[0], (name, lines)


def test_missing_module(vp, tmp_path):
    k = write(tmp_path, "k.elf", mb1_elf32())
    mod = tmp_path / "absent.mod"
    for opt in (["--module", "%s,arg" % mod], ["-initrd", "%s arg" % mod]):
        p = run(vp, "run", *opt, k)
        lines = err_lines(p)
        assert p.returncode == 4, lines
        assert lines == ["vanderpool: %s: cannot open module: No such file or directory" % mod]


def test_unwritable_outputs(vp, tmp_path):
    k = write(tmp_path, "k.elf", mb1_elf32())
    bad = tmp_path / "no" / "such" / "dir" / "out.txt"
    for opt in (["--serial", "file:%s" % bad], ["--debugcon", "file:%s" % bad],
                ["--trace-file", bad]):
        p = run(vp, "run", *opt, k)
        lines = err_lines(p)
        assert p.returncode == 4, (opt, lines)
        assert lines == ["vanderpool: %s: cannot open for writing: No such file or directory"
                         % bad], opt


# ---- runs and their statuses (need the CPU and the platform devices) -----

CLI_HLT = bytes([0xFA, 0xF4, 0xEB, 0xFC])          # cli; hlt; jmp back
SPIN = bytes([0xEB, 0xFE])                        # jmp $


def out_port(port, text):
    code = b""
    for ch in text:
        code += bytes([0xB0, ch, 0xE6, port])     # mov al, ch; out port, al
    return code


def debug_exit(v):
    return bytes([0xB0, v, 0xE6, 0xF4]) + CLI_HLT


def triple_fault():
    # lidt [0x100100] (a zero IDT limit), then int3: #GP, #DF, shutdown.
    return bytes([0x0F, 0x01, 0x1D]) + struct.pack("<I", 0x100100) + bytes([0xCC])


def test_exit_debug_exit(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(debug_exit(5)))
    p = run(vp, "run", k)
    assert p.returncode == 11, err_lines(p)
    assert p.stderr == b""


def test_exit_halted(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(CLI_HLT))
    p = run(vp, "run", "--timeout", "10", k)
    assert p.returncode == 12, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and lines[0].startswith("vanderpool: ") and "halted" in lines[0]


@pytest.mark.parametrize("ecx", [0, 1])
def test_exit_halted_in_mwait(vp, tmp_path, ecx):
    # cli; mov eax, 0x100000; xor edx, edx; xor ecx, ecx; monitor;
    # mov ecx, <ecx>; mwait; jmp $. Nothing can end the wait (no store,
    # no interrupt source armed, even as a break event with ECX = 1): the
    # run ends as for HLT with interrupts off, not by the timeout.
    code = (bytes([0xFA, 0xB8]) + struct.pack("<I", 0x100000) +
            bytes([0x31, 0xD2, 0x31, 0xC9, 0x0F, 0x01, 0xC8, 0xB9]) +
            struct.pack("<I", ecx) + bytes([0x0F, 0x01, 0xC9]) + SPIN)
    k = write(tmp_path, "k.bin", flat_mb1(code))
    p = run(vp, "run", "--timeout", "10", k)
    assert p.returncode == 12, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and "halted" in lines[0], lines


def test_exit_insn_limit(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(SPIN))
    p = run(vp, "run", "--max-insns", "10000", k)
    assert p.returncode == 10, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and "instruction limit" in lines[0]


def test_exit_timeout(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(SPIN))
    p = run(vp, "run", "--timeout", "0.3", k)
    assert p.returncode == 8, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and "timeout" in lines[0]


def test_exit_triple_fault(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(triple_fault()))
    p = run(vp, "run", k)
    assert p.returncode == 6, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and "triple fault" in lines[0]


def test_exit_reset_no_reboot(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(triple_fault()))
    p = run(vp, "run", "--reset-on-triple-fault", "--no-reboot", k)
    assert p.returncode == 0, err_lines(p)
    lines = err_lines(p)
    assert len(lines) == 1 and "reset" in lines[0]


def test_debugcon_and_serial_outputs(vp, tmp_path):
    code = out_port(0xE9, b"dbg\n") + debug_exit(0)
    k = write(tmp_path, "k.bin", flat_mb1(code))
    dbg = tmp_path / "dbg.txt"
    p = run(vp, "run", "--debugcon", "file:%s" % dbg, k)
    assert p.returncode == 1, err_lines(p)
    assert dbg.read_bytes() == b"dbg\n"
    p = run(vp, "run", "--debugcon", "stdio", k)
    assert p.returncode == 1 and p.stdout == b"dbg\n"
    p = run(vp, "run", "--debugcon", "null", k)
    assert p.returncode == 1 and p.stdout == b""


def com_out(base, text):
    # LCR = 8N1 (a UART resets to 5-bit words), then for each byte:
    # mov dx, base; mov al, ch; out dx, al
    code = bytes([0x66, 0xBA]) + struct.pack("<H", base + 3) + bytes([0xB0, 0x03, 0xEE])
    for ch in text:
        code += bytes([0x66, 0xBA]) + struct.pack("<H", base) + bytes([0xB0, ch, 0xEE])
    return code


def test_serial_outputs(vp, tmp_path):
    code = com_out(0x3F8, b"one\n") + com_out(0x2F8, b"two\n") + debug_exit(0)
    k = write(tmp_path, "k.bin", flat_mb1(code))
    p = run(vp, "run", k)                        # default: COM1 on stdio
    assert p.returncode == 1, err_lines(p)
    assert p.stdout == b"one\n"
    c1, c2 = tmp_path / "com1", tmp_path / "com2"
    p = run(vp, "run", "--serial", "file:%s" % c1, "-serial", "file:%s" % c2, k)
    assert p.returncode == 1, err_lines(p)
    assert c1.read_bytes() == b"one\n" and c2.read_bytes() == b"two\n"
    assert p.stdout == b""
    p = run(vp, "run", "--serial", "none", "--serial", "stdio", k)
    assert p.returncode == 1 and p.stdout == b"two\n"


def test_kernel_alias_and_append(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(debug_exit(3)))
    p = run(vp, "-kernel", k, "-append", "x y", "-m", "64")
    assert p.returncode == 7, err_lines(p)
    p = run(vp, "run", "--mem=64M", "--smp=2", "--", k)
    assert p.returncode == 7, err_lines(p)


def test_trace_boot_to_file(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(debug_exit(0)))
    tf = tmp_path / "trace.txt"
    p = run(vp, "run", "--trace", "boot", "--trace-file", tf, k)
    assert p.returncode == 1, err_lines(p)
    lines = tf.read_text().splitlines()
    assert lines and all(l.startswith("boot: ") for l in lines), lines
    assert any("Multiboot 1 entry 0x100020" in l for l in lines), lines


def test_no_stdin_does_not_block(vp, tmp_path):
    # CI has no terminal: an empty, closed or idle stdin must not stall or
    # fail the run. The guest polls COM1's line status a while first.
    poll = (bytes([0x66, 0xBA]) + struct.pack("<H", 0x3FD) +   # mov dx, 0x3fd
            bytes([0xB9]) + struct.pack("<I", 2000) +          # mov ecx, 2000
            bytes([0xEC, 0xE2, 0xFD]))                         # 1: in al,dx; loop 1b
    k = write(tmp_path, "k.bin", flat_mb1(poll + debug_exit(4)))
    p = subprocess.run([str(vp), "run", str(k)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 9, err_lines(p)
    r, w = os.pipe()
    try:
        p = subprocess.run([str(vp), "run", str(k)], stdin=r, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(r)
        os.close(w)
    assert p.returncode == 9, err_lines(p)
    p = subprocess.run([str(vp), "run", str(k)], input=b"typed input\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 9, err_lines(p)


def echo_until_q():
    """COM1 echo loop: LCR = 8N1, then wait for a byte (LSR bit 0), echo it,
    stop through isa-debug-exit 0 after a 'q'."""
    init = bytes([0x66, 0xBA]) + struct.pack("<H", 0x3FB) + bytes([0xB0, 0x03, 0xEE])
    wait = bytes([0x66, 0xBA]) + struct.pack("<H", 0x3FD) + bytes([0xEC, 0xA8, 0x01])
    wait += bytes([0x74, (-(len(wait) + 2)) & 0xFF])             # jz wait
    echo = bytes([0x66, 0xBA]) + struct.pack("<H", 0x3F8) + bytes([0xEC, 0xEE, 0x3C, ord("q")])
    back = -(len(wait) + len(echo) + 2)
    return init + wait + echo + bytes([0x75, back & 0xFF]) + debug_exit(0)


def test_serial_input_from_stdin(vp, tmp_path):
    k = write(tmp_path, "k.bin", flat_mb1(echo_until_q()))
    p = subprocess.run([str(vp), "run", "--timeout", "20", str(k)], input=b"hello q",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 1, err_lines(p)
    assert p.stdout == b"hello q"
    # Input goes to the first serial port on stdio only (here COM2).
    p = subprocess.run([str(vp), "run", "--timeout", "2", "--serial", "null",
                        "--serial", "stdio", str(k)], input=b"q",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 8, err_lines(p)
