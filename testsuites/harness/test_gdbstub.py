"""The gdbstub (docs/inspect.md, "gdbstub"): Debian's gdb in batch mode
against `vanderpool run -S --gdb :0` and the inspect_bug guest, with the
symbols of its ELF64 intermediate (build/guest/inspect_bug.elf64); and the
protocol itself over a raw socket for what batch gdb cannot show
(Ctrl-C, the target description, detach).

Port 0 lets the stub pick a free port; it prints the address on stderr.
"""
import re
import shutil
import socket
import subprocess
import time

import pytest

import guestlib

pytestmark = pytest.mark.cli

GUEST = "inspect_bug"
GDB = shutil.which("gdb")


@pytest.fixture
def elf(guest_elf):
    return guest_elf(GUEST)


class Stub:
    """A vanderpool process with a gdbstub on a free port."""

    def __init__(self, vanderpool, elf, *extra):
        self.proc = subprocess.Popen([vanderpool, "run", "--gdb", ":0", "--serial",
                                      "stdio", *extra, elf],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     cwd=guestlib.ROOT)
        seen = ""
        for _ in range(50):
            line = self.proc.stderr.readline()
            seen += line
            m = re.search(r"gdbstub listening on 127\.0\.0\.1:(\d+)", line)
            if m or not line:
                break
        assert m, seen
        self.port = int(m.group(1))

    def finish(self, timeout=30):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def stub(vanderpool, elf):
    made = []

    def start(*extra):
        s = Stub(vanderpool, elf, *extra)
        made.append(s)
        return s
    yield start
    for s in made:
        s.kill()


def gdb(elf, port, *commands, timeout=60):
    if not GDB:
        pytest.skip("gdb is not installed (apt-get install gdb)")
    args = [GDB, "-batch", "-nx", "-ex", "set confirm off",
            "-ex", "file " + elf + "64", "-ex", "target remote :%d" % port]
    for c in commands:
        args += ["-ex", c]
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.stdout + p.stderr


def test_gdb_break_step_memory_watch_monitor(stub, elf):
    s = stub("-S")
    out = gdb(elf, s.port,
              "info registers rip",
              "break ring_push",
              "continue",
              "backtrace",
              "info registers rip",
              "stepi",
              "info registers rip",
              "x/4xw &ring",
              "print/x ring.magic",
              "delete",
              "watch ring.magic",
              "continue",
              "print ring.head",
              "print $cr0",
              "print $efer",
              "print/x $cr3",
              "print/x $fs_base",
              "print/x $k_gs_base",
              "print $cs",
              "monitor info registers",
              "kill")
    # Attached at the Multiboot entry.
    assert re.search(r"rip +0x10000c +0x10000c <_start>", out), out
    # A breakpoint at a function, hit by continue (the decoded-instruction
    # cache holds that code already: nothing was patched).
    assert "Breakpoint 1, ring_push (v=v@entry=4096)" in out, out
    assert re.search(r"#1 .* in test_main \(\) at .*inspect_bug\.c", out)
    rips = [int(x, 16) for x in re.findall(r"^rip +0x([0-9a-f]+)", out, re.M)]
    assert len(rips) == 3 and rips[2] > rips[1], rips       # stepi moved on
    assert "0x103040 <ring>:" in out or re.search(r"<ring>:\s+0x0+", out)
    assert "$1 = 0x600df00d" in out
    # The watchpoint catches the write of the tenth... ninth value.
    assert "Hardware watchpoint 2: ring.magic" in out
    assert "Old value = 1611526157" in out and "New value = 4104" in out
    assert "$2 = 9" in out
    assert "$3 = [ PE ET NE PG ]" in out
    assert "$4 = [ LME LMA ]" in out
    assert re.search(r"\$5 = 0x[0-9a-f]+", out)
    assert "$6 = 0x0" in out and "$7 = 0x0" in out
    assert "$8 = 8" in out
    # monitor CMD runs a monitor command.
    assert "CR0=0000000080000031" in out and "EFER=0000000000000500 [LMA LME]" in out
    code, _, err = s.finish()
    assert code == 0, err


def test_gdb_hardware_breakpoint_and_exit(stub, elf):
    s = stub("-S")
    out = gdb(elf, s.port, "hbreak test_main", "continue", "delete", "continue")
    assert "Hardware assisted breakpoint 1 at" in out
    assert "Breakpoint 1, test_main ()" in out, out
    # The guest ends through isa-debug-exit: status 3 (a check FAILed).
    assert "exited with code 03" in out, out
    code, stdout, _ = s.finish()
    assert code == 3
    assert "FAIL: magic word intact" in stdout


def test_gdb_read_and_access_watchpoints(stub, elf):
    s = stub("-S")
    out = gdb(elf, s.port, "rwatch ring.magic", "continue", "info line *$pc",
              "delete", "awatch ring.pushes", "continue", "kill")
    # Nothing reads the magic word until test_main checks it.
    assert "Hardware read watchpoint 1: ring.magic" in out
    assert "Value = 4104" in out, out
    assert re.search(r"in test_main|test_main \(\)", out), out
    assert "Hardware access (read/write) watchpoint 2: ring.pushes" in out


def test_gdb_register_and_memory_writes(stub, elf):
    s = stub("-S")
    out = gdb(elf, s.port, "break ring_push", "continue",
              "set var ring.magic = 0x600df00d",
              "set $rax = 0x1234",
              "print/x $rax",
              "set {unsigned int}&ring.slot[1] = 0xabcd",
              "print/x ring.slot[1]",
              "monitor x/1xw ring+4",
              "kill")
    assert "$1 = 0x1234" in out, out
    assert "$2 = 0xabcd" in out
    assert "0x0000abcd" in out


# ---- the protocol over a raw socket ----------------------------------------

class Remote:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, data):
        pkt = b"$" + data + b"#%02x" % (sum(data) & 0xFF)
        self.s.sendall(pkt)

    def reply(self):
        """The next packet (acks skipped); checks its checksum and acks it."""
        while True:
            m = re.search(rb"\$([^#]*)#([0-9a-f]{2})", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                data = m.group(1)
                assert sum(data) & 0xFF == int(m.group(2), 16)
                self.s.sendall(b"+")
                return data
            chunk = self.s.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk

    def ask(self, data):
        self.send(data)
        return self.reply()


def test_protocol_target_description_interrupt_detach(stub, elf):
    s = stub("-S")
    r = Remote(s.port)
    sup = r.ask(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
    assert b"qXfer:features:read+" in sup and b"swbreak+" in sup
    xml = b""
    while True:
        chunk = r.ask(b"qXfer:features:read:target.xml:%x,400" % len(xml))
        xml += chunk[1:]
        if chunk[:1] == b"l":
            break
    text = xml.decode()
    assert "<architecture>i386:x86-64</architecture>" in text
    for feature in ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.segments",
                    "org.vanderpool.x86.sys"]:
        assert 'feature name="%s"' % feature in text
    regs = re.findall(r'<reg name="(\w+)" bitsize="(\d+)"', text)
    names = [n for n, _ in regs]
    for reg in ["rip", "eflags", "cs", "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4",
                "cr8", "dr0", "dr7", "efer", "k_gs_base", "gdtr_base", "star", "lstar"]:
        assert reg in names, reg
    assert r.ask(b"?").startswith(b"T05")
    assert r.ask(b"qfThreadInfo") == b"m1"
    g = r.ask(b"g")
    assert len(g) == sum(int(bits) for _, bits in regs) // 4
    rip_reg = b"%x" % names.index("rip")
    rip = r.ask(b"p" + rip_reg)
    assert int.from_bytes(bytes.fromhex(rip.decode()), "little") == 0x10000C
    # A loop at 0x9000 (jmp $), and RIP there: the guest runs until Ctrl-C.
    assert r.ask(b"M9000,2:ebfe") == b"OK"
    assert r.ask(b"m9000,2") == b"ebfe"
    assert r.ask(b"P" + rip_reg + b"=0090000000000000") == b"OK"
    r.send(b"vCont;c")
    time.sleep(0.3)
    r.s.sendall(b"\x03")
    assert r.reply().startswith(b"T02thread:1;")
    assert r.ask(b"p" + rip_reg) == b"0090000000000000"
    # Z0 and z0; an unknown packet gets the empty reply.
    assert r.ask(b"Z0,100000,1") == b"OK"
    assert r.ask(b"z0,100000,1") == b"OK"
    assert r.ask(b"z0,100000,1").startswith(b"E")
    assert r.ask(b"qNoSuchThing") == b""
    # Back to the entry point, detach: the guest runs to its end.
    assert r.ask(b"P" + rip_reg + b"=0c00100000000000") == b"OK"
    assert r.ask(b"D") == b"OK"
    code, stdout, _ = s.finish()
    assert code == 3
    assert "SUMMARY:" in stdout


def test_gdb_short_option(vanderpool, elf):
    """-s is --gdb tcp::1234 (skipped when that port is taken)."""
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", 1234))
    except OSError:
        pytest.skip("port 1234 is in use")
    finally:
        probe.close()
    p = subprocess.Popen([vanderpool, "run", "-s", "-S", elf], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on 127.0.0.1:1234" in p.stderr.readline()
        r = Remote(1234)
        assert r.ask(b"?").startswith(b"T05")
        r.send(b"k")
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
