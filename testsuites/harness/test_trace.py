"""Inspection from the command line: trace categories, Capstone disassembly
(Intel and AT&T), JSON Lines, trace filters (address range, CPL, mode),
--stats and --stats-json, and determinism (the same image traced twice
gives the same bytes). docs/inspect.md describes what is tested here.

Runs build/vanderpool on guest images from build/guest (made on demand
unless --no-build) and on two tiny images built here.
"""
import json
import re
import struct
import subprocess

import pytest

import guestlib

pytestmark = pytest.mark.cli

INSN_KEYS = {"cat", "cpu", "icount", "cs", "rip", "lin", "mode", "bits", "cpl", "bytes",
             "asm", "mnemonic", "operands"}
MODES = {"real", "v86", "prot16", "prot32", "compat", "long"}


# ---- helpers ----------------------------------------------------------------

def elf32_entry_bytes(path, n=15):
    """(entry point, the n file bytes at it) of an ELF32 executable."""
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 1, path
    entry, phoff = struct.unpack_from("<II", data, 24)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        ptype, off, vaddr, paddr, filesz = struct.unpack_from("<IIIII", data,
                                                              phoff + i * phentsize)
        if ptype == 1 and vaddr <= entry < vaddr + filesz:
            at = off + entry - vaddr
            return entry, data[at:at + n]
    raise AssertionError("entry %#x is in no loadable segment" % entry)


def flat_mb1(blobs, load=0x100000):
    """A Multiboot 1 flat image (address fields): entry at load + 0x20;
    blobs = {offset: bytes}."""
    magic, flags = 0x1BADB002, 0x10000
    img = bytearray(0x200)
    hdr = struct.pack("<III", magic, flags, (-(magic + flags)) & 0xffffffff)
    hdr += struct.pack("<IIIII", load, load, 0, load + 0x1000, load + 0x20)
    img[0:len(hdr)] = hdr
    for off, b in blobs.items():
        img[off:off + len(b)] = b
    return bytes(img)


def ring3_image():
    """32-bit protected mode: a port write at CPL 0, IRET to CPL 3 (flat
    DPL 3 segments, IOPL 3), a few instructions and a port write there,
    then isa-debug-exit 0 (exit status 1) from CPL 3."""
    load = 0x100000
    gdt, gdtr, user = load + 0x100, load + 0x140, load + 0x80
    k = (b"\xbc" + struct.pack("<I", 0x170000) +            # mov esp, 0x170000
         b"\xb0\x11\xe6\x80" +                               # mov al, 0x11; out 0x80, al
         b"\x0f\x01\x15" + struct.pack("<I", gdtr) +         # lgdt [gdtr]
         b"\x6a\x23" +                                       # push 0x23 (SS, DPL 3)
         b"\x68" + struct.pack("<I", 0x180000) +             # push ESP
         b"\x68" + struct.pack("<I", 0x3002) +               # push EFLAGS (IOPL 3)
         b"\x6a\x1b" +                                       # push 0x1b (CS, DPL 3)
         b"\x68" + struct.pack("<I", user) +                 # push EIP
         b"\xcf")                                            # iretd
    u = (b"\x90\x90" +                                       # nop; nop
         b"\xb8\x01\x00\x00\x00\x01\xc0" +                   # mov eax, 1; add eax, eax
         b"\xb0\x33\xe6\x80" +                               # mov al, 0x33; out 0x80, al
         b"\xb0\x00\xe6\xf4\xeb\xfe")                        # mov al, 0; out 0xf4, al; jmp $
    table = struct.pack("<5Q", 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF,
                        0x00CFFA000000FFFF, 0x00CFF2000000FFFF)
    return flat_mb1({0x20: k, 0x80: u, 0x100: table,
                     0x140: struct.pack("<HI", len(table) - 1, gdt)})


@pytest.fixture
def ring3(tmp_path):
    p = tmp_path / "ring3.bin"
    p.write_bytes(ring3_image())
    return str(p)


@pytest.fixture
def run_vanderpool(vanderpool):
    """run_vanderpool(args, timeout) -> CompletedProcess (text output)."""
    def run(args, timeout=120):
        return subprocess.run([vanderpool] + list(args), cwd=guestlib.ROOT,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
    return run


@pytest.fixture
def vp(run_vanderpool, tmp_path):
    """vp(*args, trace=None) -> (CompletedProcess, trace text or None):
    runs vanderpool with COM1 discarded and, when trace is given, the trace
    options `trace` plus a trace file, whose contents it returns."""
    count = [0]

    def go(*args, trace=None, timeout=120):
        args = ["run", "--serial", "null"] + [str(a) for a in args]
        path = None
        if trace is not None:
            count[0] += 1
            path = tmp_path / ("trace%d.out" % count[0])
            args[1:1] = list(trace) + ["--trace-file", str(path)]
        p = run_vanderpool(args, timeout=timeout)
        return p, (path.read_text() if path else None)
    return go


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


def insns(events):
    return [e for e in events if e["cat"] == "insn"]


# ---- categories ---------------------------------------------------------------

def test_no_category_no_output(vp, guest_elf):
    p, text = vp(guest_elf("exceptions"), trace=[])
    assert p.returncode == 1, p.stderr
    assert text == ""


def test_only_chosen_categories(vp, guest_elf):
    exc = guest_elf("exceptions")
    p, text = vp(exc, trace=["--trace", "exc"])
    assert p.returncode == 1, p.stderr
    lines = text.splitlines()
    assert lines and all(l.startswith("exc: ") for l in lines), lines[:5]
    # #UD (6) and #PF (14) are among the faults this guest provokes.
    vectors = {int(l.split()[2]) for l in lines if l.startswith("exc: exception ")}
    assert {6, 14} <= vectors, vectors

    p, text = vp(exc, "--max-insns", "20000", trace=["--trace", "boot,insn"])
    cats = {l.split(":")[0] for l in text.splitlines()}
    assert cats == {"boot", "insn"}, cats


def test_all_categories(vp, guest_elf):
    p, text = vp(guest_elf("exceptions"), trace=["--trace", "all"], timeout=300)
    assert p.returncode == 1, p.stderr
    cats = {l.split(":")[0] for l in text.splitlines()}
    assert {"insn", "int", "exc", "boot", "io"} <= cats, cats


# ---- disassembly ----------------------------------------------------------------

REG32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]


def test_intel_and_att(vp, guest_elf):
    elf = guest_elf("debug_exit")
    entry, code = elf32_entry_bytes(elf)
    runs = {}
    for syntax in ("intel", "att"):
        p, text = vp(elf, "--max-insns", "40",
                     trace=["--trace", "insn", "--trace-format", "json",
                            "--trace-syntax", syntax])
        assert p.returncode == 10, p.stderr
        runs[syntax] = insns(jsonl(text))
    intel, att = runs["intel"], runs["att"]
    # The first instruction is the one at the Multiboot entry point, as
    # the image's bytes say.
    first = intel[0]
    assert int(first["lin"], 16) == entry and int(first["rip"], 16) == entry
    b = bytes.fromhex(first["bytes"])
    assert code.startswith(b) and len(b) >= 1
    assert first["mode"] == "prot32" and first["bits"] == 32 and first["cpl"] == 0
    assert first["cs"] == 8 and first["icount"] == 0
    # Same instructions, different spelling.
    assert [(e["rip"], e["bytes"]) for e in intel] == [(e["rip"], e["bytes"]) for e in att]
    # A register-to-register MOV (89 /r, mod = 3): Intel puts the
    # destination first, AT&T the source, with % and a size suffix.
    movs = [(i, a) for i, a in zip(intel, att)
            if i["bytes"][:2] == "89" and int(i["bytes"][2:4], 16) >= 0xC0]
    assert movs, [e["asm"] for e in intel]
    i, a = movs[0]
    modrm = int(i["bytes"][2:4], 16)
    src, dst = REG32[(modrm >> 3) & 7], REG32[modrm & 7]
    assert i["asm"] == "mov %s, %s" % (dst, src)
    assert a["asm"] == "movl %%%s, %%%s" % (src, dst)
    # The text form of the first line.
    p, text = vp(elf, "--max-insns", "1", trace=["--trace", "insn"])
    line = text.splitlines()[0]
    want = r"insn: 0008:%08x prot32 cpl0 %s +%s$" % (entry, first["bytes"],
                                                    re.escape(first["asm"]))
    assert re.match(want, line), line


def test_modes_and_code_sizes(vp, guest_elf):
    p, text = vp(guest_elf("boot_modes"), trace=["--trace", "insn", "--trace-format", "json"])
    assert p.returncode == 1, p.stderr
    ev = insns(jsonl(text))
    assert {e["mode"] for e in ev} == {"real", "prot16", "prot32", "compat", "long"}
    bits = {"real": {16}, "prot16": {16}, "prot32": {32}, "long": {64}}
    for e in ev:
        assert set(e) == INSN_KEYS
        if e["mode"] in bits:
            assert e["bits"] in bits[e["mode"]], e
        assert e["asm"] and e["asm"] != "(bad)", e


# ---- JSON Lines -----------------------------------------------------------------

def test_json_lines(vp, guest_elf):
    p, text = vp(guest_elf("exceptions"),
                 trace=["--trace", "exc,int,boot", "--trace-format", "json"])
    assert p.returncode == 1, p.stderr
    events = jsonl(text)      # every line is one JSON object
    assert {e["cat"] for e in events} == {"exc", "int", "boot"}
    for e in events:
        assert isinstance(e["msg"], str) and e["msg"]
        if e["cat"] != "boot":
            assert isinstance(e["icount"], int) and e["cpu"] == 0
    p, text = vp(guest_elf("exceptions"), "--max-insns", "5000",
                 trace=["--trace", "insn", "--trace-format", "json"])
    for e in jsonl(text):
        assert set(e) == INSN_KEYS
        int(e["rip"], 16), int(e["lin"], 16), bytes.fromhex(e["bytes"])


# ---- filters ------------------------------------------------------------------

def test_range_filter(vp, guest_elf):
    elf = guest_elf("exceptions")
    base = ["--trace", "insn", "--trace-format", "json"]
    p, text = vp(elf, "--max-insns", "100000", trace=base)
    full = insns(jsonl(text))
    # A window around the middle of the executed addresses.
    lins = sorted({int(e["lin"], 16) for e in full})
    lo, hi = lins[len(lins) // 3], lins[len(lins) // 2]
    want = [e for e in full if lo <= int(e["lin"], 16) <= hi]
    assert 0 < len(want) < len(full)
    p, text = vp(elf, "--max-insns", "100000",
                 trace=base + ["--trace-range", "%#x-%#x" % (lo, hi)])
    assert insns(jsonl(text)) == want
    # START+LENGTH, and two ranges.
    p, text = vp(elf, "--max-insns", "100000",
                 trace=base + ["--trace-range", "%#x+%d" % (lo, hi - lo + 1)])
    assert insns(jsonl(text)) == want
    p, text = vp(elf, "--max-insns", "100000",
                 trace=base + ["--trace-range", "%#x-%#x" % (lo, lo),
                               "--trace-range", "%d-%d" % (hi, hi)])
    assert insns(jsonl(text)) == [e for e in full if int(e["lin"], 16) in (lo, hi)]


def test_cpl_filter(vp, ring3):
    base = ["--trace", "insn,io", "--trace-format", "json"]
    p, text = vp(ring3, trace=base)
    assert p.returncode == 1, p.stderr
    full = jsonl(text)
    assert {e["cpl"] for e in insns(full)} == {0, 3}
    for cpl in (0, 3):
        p, text = vp(ring3, trace=base + ["--trace-cpl", str(cpl)])
        got = jsonl(text)
        assert insns(got) == [e for e in insns(full) if e["cpl"] == cpl]
        # Other events are judged by the instruction that caused them: the
        # port write of that privilege level only.
        io = [e["msg"] for e in got if e["cat"] == "io"]
        value = "0x11" if cpl == 0 else "0x33"
        assert any("port 0x0080" in m and m.endswith(value) for m in io), io
        assert not any("port 0x0080" in m and not m.endswith(value) for m in io), io
    p, text = vp(ring3, trace=base + ["--trace-cpl", "0,3"])
    assert jsonl(text) == full
    p, text = vp(ring3, trace=["--trace", "insn", "--trace-cpl", "3",
                               "--trace-syntax", "att"])
    lines = text.splitlines()
    assert lines[0].startswith("insn: 001b:00100080 prot32 cpl3 90 ")
    assert any(l.endswith("movl $1, %eax") for l in lines), lines


def test_mode_filter(vp, guest_elf):
    elf = guest_elf("boot_modes")
    base = ["--trace", "insn", "--trace-format", "json"]
    p, text = vp(elf, trace=base)
    full = insns(jsonl(text))
    for modes in (["real"], ["prot16"], ["compat"], ["real", "prot32"]):
        p, text = vp(elf, trace=base + ["--trace-mode", ",".join(modes)])
        got = insns(jsonl(text))
        assert got and got == [e for e in full if e["mode"] in modes], modes
    p, text = vp(elf, trace=base + ["--trace-mode", "prot"])
    assert insns(jsonl(text)) == [e for e in full if e["mode"] in ("prot16", "prot32")]


@pytest.mark.parametrize("args,msg", [
    (["--trace-format", "xml"], "invalid --trace-format value 'xml'"),
    (["--trace-syntax", "gas"], "invalid --trace-syntax value 'gas'"),
    (["--trace-range", "0x2000-0x1000"], "invalid --trace-range value"),
    (["--trace-range", "12"], "invalid --trace-range value"),
    (["--trace-range", "0x10+0"], "invalid --trace-range value"),
    (["--trace-range", "0xg-0x10"], "invalid --trace-range value"),
    (["--trace-cpl", "4"], "invalid --trace-cpl value '4'"),
    (["--trace-cpl", ""], "invalid --trace-cpl value ''"),
    (["--trace-mode", "smm"], "invalid --trace-mode value 'smm'"),
    (["--stats-json", ""], "--stats-json needs a file name"),
])
def test_bad_values(run_vanderpool, args, msg):
    p = run_vanderpool(["run"] + args + ["x.elf"])
    assert p.returncode == 2
    assert p.stderr.startswith("vanderpool: " + msg), p.stderr


# ---- stats ---------------------------------------------------------------------

def stats_json(vp, tmp_path, *args):
    out = tmp_path / "stats.json"
    p, _ = vp("--stats-json", out, *args)
    return p, json.loads(out.read_text())


def test_stats_json(vp, guest_elf, tmp_path):
    p, s = stats_json(vp, tmp_path, guest_elf("exceptions"))
    assert p.returncode == 1, p.stderr
    assert s["instructions"] > 1000
    assert s["cpus"] == [{"instructions": s["instructions"]}]
    assert s["cpu_seconds"] >= 0 and s["wall_seconds"] >= 0 and s["ips"] >= 0
    dc = s["decode_cache"]
    assert dc["hits"] > 0 and dc["misses"] > 0
    assert dc["hit_rate"] == pytest.approx(dc["hits"] / (dc["hits"] + dc["misses"]), abs=1e-6)
    tlb = s["tlb"]
    for kind in ("read", "write", "fetch"):
        k = tlb[kind]
        assert k["hits"] > 0 and k["misses"] > 0 and k["fills"] <= k["misses"]
    assert tlb["hits"] == sum(tlb[k]["hits"] for k in ("read", "write", "fetch"))
    assert tlb["misses"] == sum(tlb[k]["misses"] for k in ("read", "write", "fetch"))
    # The guest's faults: #DE, #UD, #GP, #PF; its traps: #BP (INT3 and
    # INT 3), #DB (single step); INT 0x40 and CD 03 are software interrupts.
    exc = {int(v): n for v, n in s["exceptions"].items()}
    assert exc[6] >= 1 and exc[14] >= 1 and exc[0] >= 1 and exc[13] >= 1, exc
    assert exc[3] >= 1 and exc[1] >= 1, exc
    assert s["software_interrupts"].get("64") == 1, s["software_interrupts"]
    assert s["stop_reason"] == "debug-exit" and s["exit_status"] == 1


def test_stats_interrupts(vp, guest_elf, tmp_path):
    p, s = stats_json(vp, tmp_path, guest_elf("dev_pit"))
    assert p.returncode == 1, p.stderr
    assert s["interrupts"].get("32", 0) > 0, s["interrupts"]


def test_stats_insn_limit(vp, guest_elf, tmp_path):
    p, s = stats_json(vp, tmp_path, "--max-insns", "12345", guest_elf("exceptions"))
    assert p.returncode == 10
    assert s["instructions"] == 12345
    assert s["stop_reason"] == "insn-limit" and s["exit_status"] == 10
    assert s["stop_message"] == "instruction limit reached"


def test_stats_table(vp, guest_elf):
    p, _ = vp("--stats", guest_elf("exceptions"))
    assert p.returncode == 1
    err = p.stderr
    assert "vanderpool statistics:" in err
    assert re.search(r"^  instructions +\d+$", err, re.M), err
    assert re.search(r"^  decoded-block cache +\d+\.\d\d% hits", err, re.M), err
    assert re.search(r"^  TLB +\d+\.\d\d% hits", err, re.M), err
    assert re.search(r"#UD \(6\) +\d+", err) and re.search(r"#PF \(14\) +\d+", err), err
    assert re.search(r"^  stop reason +debug-exit \(exit status 1\)$", err, re.M), err


def test_stats_unwritable(run_vanderpool, guest_elf):
    p = run_vanderpool(["run", "--stats-json", "/nonexistent/dir/s.json",
                        guest_elf("debug_exit")])
    assert p.returncode == 4
    assert "/nonexistent/dir/s.json: cannot open for writing" in p.stderr


def counters(s, blocks=True):
    c = {k: v for k, v in s.items() if k not in ("cpu_seconds", "wall_seconds", "ips")}
    if not blocks:
        # How code is cut into blocks: a traced run goes back to the loop
        # after every taken branch, so a branch to a record of its own
        # block, which an untraced chain takes in place, is a block lookup
        # there and may decode a block starting at that target. Those
        # lookups are also the fetch TLB's hits. Everything else is equal.
        c["decode_cache"] = None
        tlb = dict(c["tlb"])
        tlb.update(fetch=dict(tlb["fetch"], hits=None, hit_rate=None),
                   hits=None, hit_rate=None)
        c["tlb"] = tlb
    return c


def test_stats_deterministic_and_unchanged_by_tracing(vp, guest_elf, tmp_path):
    elf = guest_elf("exceptions")
    _, a = stats_json(vp, tmp_path, "--max-insns", "300000", elf)
    _, b = stats_json(vp, tmp_path, "--max-insns", "300000", elf)
    assert counters(a) == counters(b)
    out = tmp_path / "t.json"
    vp("--stats-json", out, "--max-insns", "300000", elf,
       trace=["--trace", "insn,exc,int,mmu"])
    # Tracing turns block chaining off; the block entries it would have
    # served are lookups there, and about as many.
    traced = json.loads(out.read_text())
    assert traced["decode_cache"]["chained"] == 0 < a["decode_cache"]["chained"]
    assert counters(traced, False) == counters(a, False)
    looked_up = [s["decode_cache"]["hits"] + s["decode_cache"]["misses"]
                 for s in (traced, a)]
    assert abs(looked_up[0] - looked_up[1]) <= looked_up[1] // 100, looked_up


# ---- determinism -----------------------------------------------------------------

@pytest.mark.parametrize("name,trace", [
    ("exceptions", ["--trace", "insn"]),
    ("exceptions", ["--trace", "insn,exc,int,mmu", "--trace-format", "json",
                    "--trace-syntax", "att"]),
    ("boot_modes", ["--trace", "insn,cpu,exc"]),
])
def test_trace_twice_identical(vp, guest_elf, tmp_path, name, trace):
    elf = guest_elf(name)
    runs = []
    for i in range(2):
        path = tmp_path / ("run%d.trace" % i)
        p, _ = vp("--max-insns", "200000", *trace, "--trace-file", path, elf)
        assert p.returncode in (1, 10), p.stderr
        runs.append(path.read_bytes())
    assert len(runs[0]) > 10000
    assert runs[0] == runs[1]


def test_interrupt_timing_identical(vp, guest_elf):
    # Timer interrupts arrive at the same instruction every run: time is
    # virtual, derived from retired instructions.
    elf = guest_elf("dev_pit")
    texts = [vp(elf, trace=["--trace", "int", "--trace-format", "json"])[1]
             for _ in range(2)]
    ev = jsonl(texts[0])
    assert any("external interrupt" in e["msg"] for e in ev)
    assert texts[0] == texts[1]
