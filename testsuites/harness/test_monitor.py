"""The monitor (docs/inspect.md, "Monitor"): commands driven through
standard input (a pipe, as a script would) and through the Unix socket,
against the inspect_bug guest (build/guest/inspect_bug.elf), whose symbols
the monitor reads from the image.

Scripted input is synchronous: after `continue`, the next commands wait
until the machine stops, so a test can write every command up front.
"""
import contextlib
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import guestlib

pytestmark = pytest.mark.cli

GUEST = "inspect_bug"
MAGIC = 0x600DF00D


@pytest.fixture
def elf(guest_elf):
    return guest_elf(GUEST)


def symbols(elf_path):
    """name -> address, from the ELF64 file next to the image."""
    out = subprocess.run(["nm", elf_path + "64"], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def monitor(vanderpool, elf, commands, *extra, timeout=60):
    """Runs `vanderpool run -S --monitor stdio` with the commands on stdin."""
    p = subprocess.run([vanderpool, "run", "-S", "--monitor", "stdio",
                        "--serial", "null", *extra, elf],
                       input="".join(c + "\n" for c in commands),
                       capture_output=True, text=True, timeout=timeout,
                       cwd=guestlib.ROOT)
    return p


def test_info_registers_shows_every_register(vanderpool, elf):
    p = monitor(vanderpool, elf, ["info registers", "quit"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for name in ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8 ", "R15",
                 "RIP", "RFL", "ES  =", "CS  =", "SS  =", "DS  =", "FS  =", "GS  =",
                 "LDTR=", "TR  =", "GDTR base", "IDTR base", "CR0=", "CR2=", "CR3=",
                 "CR4=", "CR8=", "DR0=", "DR3=", "DR6=", "DR7=", "EFER=", "STAR=",
                 "LSTAR=", "CSTAR=", "SFMASK=", "KERNEL_GS_BASE=", "FS_BASE=",
                 "GS_BASE=", "SYSENTER_CS=", "SYSENTER_ESP=", "SYSENTER_EIP=",
                 "APIC_BASE=", "PAT="]:
        assert name in out, name
    # The Multiboot entry state: 32-bit protected mode, EAX = the magic.
    assert "protected mode (32-bit code)" in out
    assert "RAX=000000002badb002" in out
    assert re.search(r"CS  =0008 base=0+ limit=ffffffff attr=0c09b DPL=0 code RX", out)
    assert "CR0=0000000000000011 [ET PE]" in out
    assert "<_start>" in out
    assert "0 instructions retired" in out


def test_step_runs_exactly_n_instructions(vanderpool, elf):
    p = monitor(vanderpool, elf, ["step", "step 4", "info registers", "quit"])
    assert p.returncode == 0, p.stderr
    assert "5 instructions retired" in p.stdout


def test_x_and_xp_formats(vanderpool, elf):
    syms = symbols(elf)
    ring = syms["ring"]
    p = monitor(vanderpool, elf, [
        "x/1xw ring+32", "xp/1xw %#x" % (ring + 32), "x/4xb ring+32",
        "x/1xg ring+32", "x/1dw ring+32", "x/1uh ring+32", "x/2i ring_push",
        "x/1xw 0x7ffffffff000", "quit"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    line = "%016x: 0x%08x" % (ring + 32, MAGIC)
    assert out.count(line) == 2, out            # x and xp (identity)
    assert "%016x: 0x0d 0xf0 0x0d 0x60" % (ring + 32) in out
    assert "%016x: 0x00000000600df00d" % (ring + 32) in out
    assert "%016x: %d" % (ring + 32, MAGIC) in out
    assert "%016x: %d" % (ring + 32, MAGIC & 0xFFFF) in out
    assert re.search(r"%016x <ring_push>: \w+ +mov" % syms["ring_push"], out)
    assert "cannot read linear" in out        # paging is off: beyond RAM


def test_x_strings_and_characters(vanderpool, elf):
    """x/s and x/c on the Multiboot command line (EBX + 16 points at it)."""
    p = monitor(vanderpool, elf, ["x/1xw $rbx+16"], "--append", "hello monitor")
    m = re.search(r"^[0-9a-f]{16}: 0x([0-9a-f]{8})$", p.stdout, re.M)
    assert m, p.stdout
    p = monitor(vanderpool, elf, ["xp/s 0x%s" % m.group(1), "x/3c 0x%s" % m.group(1)],
                "--append", "hello monitor")
    assert '"hello monitor"' in p.stdout
    assert "'h' 'e' 'l'" in p.stdout


def test_break_continue_step(vanderpool, elf):
    syms = symbols(elf)
    p = monitor(vanderpool, elf, ["break ring_push", "continue", "info break", "step",
                                  "continue", "info break", "quit"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "breakpoint 1 at linear %#x <ring_push>" % syms["ring_push"] in out
    assert out.count("breakpoint 1 hit on CPU 0 at RIP %#x <ring_push>"
                     % syms["ring_push"]) == 2
    assert re.search(r"<ring_push\+\d+>: ", out)        # after the step
    assert re.search(r"^ +1 break +0*%x +1 +exec +monitor 2 <ring_push>$"
                     % syms["ring_push"], out, re.M)


def test_physical_breakpoint(vanderpool, elf):
    syms = symbols(elf)
    p = monitor(vanderpool, elf, ["break -p %#x" % syms["ring_push"], "c", "quit"])
    assert p.returncode == 0, p.stderr
    assert "breakpoint 1 at physical" in p.stdout
    assert "breakpoint 1 hit on CPU 0 at RIP %#x" % syms["ring_push"] in p.stdout


def test_write_watchpoint_finds_the_bug(vanderpool, elf):
    """The walk-through: who overwrites ring.magic?"""
    syms = symbols(elf)
    p = monitor(vanderpool, elf, ["watch ring+32 4 w", "c", "info registers", "c",
                                  "quit"])
    out = p.stdout
    hit = re.search(r"watchpoint 1 hit on CPU 0: write of 4 bytes at 0x([0-9a-f]+) "
                    r"<ring\+32> \(physical 0x[0-9a-f]+\), value 0x1008, by the "
                    r"instruction at RIP 0x([0-9a-f]+)", out)
    assert hit, out
    assert int(hit.group(1), 16) == syms["ring"] + 32
    rip = int(hit.group(2), 16)
    assert syms["ring_push"] <= rip < syms["test_main"]
    # Stopped after the store: the next instruction, still in ring_push.
    assert re.search(r"RIP=[0-9a-f]+ <ring_push\+\d+>", out)
    # Then the guest runs to its end: its FAIL line, status 3.
    assert "the machine has stopped for good" in out
    assert p.returncode == 3, p.stderr


def test_read_watchpoint_on_physical_address(vanderpool, elf):
    syms = symbols(elf)
    p = monitor(vanderpool, elf, ["watch -p %#x 4 r" % (syms["ring"] + 32), "c",
                                  "quit"])
    assert p.returncode == 0, p.stderr
    assert re.search(r"watchpoint 1 hit on CPU 0: read of 4 bytes at 0x%x <ring\+32>"
                     % (syms["ring"] + 32), p.stdout)


def test_walk_info_mem_info_tlb(vanderpool, elf):
    syms = symbols(elf)
    p = monitor(vanderpool, elf, ["walk ring", "b ring_push", "c", "walk ring",
                                  "walk 0x7fff00000000", "info mem", "info tlb", "quit"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "paging off" in out                       # before the runtime's paging
    assert re.search(r"PML4E\[  0\] at 0x[0-9a-f]+ = [0-9a-f]{16}  P W", out)
    assert re.search(r"PDPTE\[  0\]", out)
    assert re.search(r"PDE  \[  0\] .* PS .*-> 2 MiB page", out)
    assert "physical %#x (2 MiB page), rights rwxs-" % syms["ring"] in out
    assert "supervisor: read ok, write ok, fetch ok" in out
    assert "user:      read #PF(0x5), write #PF(0x7), fetch #PF(0x15)" in out or \
           "user:      read #PF(0x5), write #PF(0x7), fetch #PF(0x5)" in out
    assert "not mapped: not present" in out
    assert "4-level paging" in out
    assert re.search(r"^0000000000000000-00000000ffffffff 0000000100000000 "
                     r"0000000000000000 rwxs-$", out, re.M)
    assert "software TLB of CPU 0" in out
    assert re.search(r"0000000000100000 -> 0000000000100000  ..x", out)


def test_info_devices(vanderpool, elf):
    p = monitor(vanderpool, elf, ["info devices", "quit"])
    out = p.stdout
    for s in ["03f8-03ff  uart16550", "00f4-00f7  isa-debug-exit", "0040-0043  pit",
              "MMIO ioapic", "MMIO lapic", "RAM", "ROM"]:
        assert s in out, s


def test_help_lists_the_table(vanderpool, elf):
    p = monitor(vanderpool, elf, ["help", "help watch", "info", "bogus", "quit"])
    out = p.stdout
    for cmd in ["info registers", "info tlb", "info mem", "info break", "info devices",
                "x/NFU ADDR", "xp/NFU ADDR", "walk ADDR", "break [-p] ADDR",
                "watch [-p] ADDR [LEN] [r|w|rw]", "delete N", "step [N]", "continue",
                "stop", "quit"]:
        assert cmd in out, cmd
    assert "error: unknown command 'bogus' (try 'help')" in out


def test_errors_do_not_end_the_session(vanderpool, elf):
    p = monitor(vanderpool, elf, ["x/4q 0", "x/4xw nosuchsym", "delete 7", "break",
                                  "cpu 3", "x/2xw $nosuchreg", "info registers", "quit"])
    assert p.returncode == 0
    out = p.stdout
    assert "error: bad format" in out
    assert "error: unknown symbol 'nosuchsym'" in out
    assert "error: no breakpoint or watchpoint 7" in out
    assert "usage: break" in out
    assert "error: no CPU 3" in out
    assert "error: unknown register 'nosuchreg'" in out
    assert "RIP=" in out


def test_end_of_input_without_quit(vanderpool, elf):
    """Input ends while stopped: vanderpool ends (status 0)."""
    p = monitor(vanderpool, elf, ["info cpus"])
    assert p.returncode == 0
    assert "monitor input ended" in p.stderr


def test_run_to_the_end(vanderpool, elf):
    """continue with nothing set: the guest's own status (3: a check FAILed)."""
    p = subprocess.run([vanderpool, "run", "-S", "--monitor", "stdio", elf],
                       input="c\n", capture_output=True, text=True, timeout=60)
    assert p.returncode == 3
    assert "FAIL: magic word intact" in p.stdout


def test_start_stopped_needs_a_frontend(vanderpool, elf):
    p = subprocess.run([vanderpool, "run", "-S", elf], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "-S needs --monitor or --gdb" in p.stderr


@pytest.mark.parametrize("value", ["tty", "unix:", "file:x"])
def test_bad_monitor_value(vanderpool, elf, value):
    p = subprocess.run([vanderpool, "run", "--monitor", value, elf], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "invalid --monitor value" in p.stderr


@contextlib.contextmanager
def monitor_socket(vanderpool, path, *args):
    """Runs `vanderpool run --monitor unix:PATH ARGS...`, connects to the
    socket and yields (process, socket, until), until(marker) reading up to
    and including `marker`. The process is killed if still running at the
    end."""
    proc = subprocess.Popen([vanderpool, "run", "--monitor", "unix:" + path] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.02)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(20)

        def until(marker):
            data = b""
            while marker not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data.decode()

        yield proc, s, until
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_monitor_on_unix_socket(vanderpool, elf, tmp_path):
    path = str(tmp_path / "mon.sock")
    with monitor_socket(vanderpool, path, "-S", "--serial", "null", elf) as (proc, s, until):
        assert "Vanderpool monitor" in until(b"(vp) ")
        s.sendall(b"break ring_push\n")
        assert "breakpoint 1 at linear" in until(b"(vp) ")
        s.sendall(b"c\n")
        until(b"(vp) ")                         # the prompt comes back at once
        got = until(b"breakpoint 1 hit")
        got += until(b"\n")
        s.sendall(b"info registers\n")
        out = until(b"(vp) ")
        assert "<ring_push>" in out
        s.sendall(b"quit\n")
        s.close()
        assert proc.wait(timeout=20) == 0
        assert not os.path.exists(path)         # removed at exit


def test_running_guest_is_not_perturbed_by_monitor_input(vanderpool, guest_elf):
    """Commands arriving while the guest runs (here `info registers` every few
    milliseconds) do not change its instruction stream: a timer-driven guest
    retires the same number of instructions with and without them."""
    elf_path = guest_elf("apic_timer")

    def run(chatty):
        proc = subprocess.Popen([vanderpool, "run", "--monitor", "stdio",
                                 "--serial", "null", elf_path],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        stop = threading.Event()

        def writer():
            while chatty and not stop.is_set():
                try:
                    proc.stdin.write("info registers\n")
                    proc.stdin.flush()
                except (BrokenPipeError, ValueError):
                    return
                time.sleep(0.003)

        t = threading.Thread(target=writer)
        t.start()
        count = None
        pauses = 0
        for line in proc.stdout:
            pauses += "instructions retired" in line
            m = re.search(r"stopped for good: .*\(after (\d+) instructions\)", line)
            if m:
                count = int(m.group(1))
                break
        stop.set()
        t.join()
        proc.stdin.close()
        proc.stdout.read()
        return proc.wait(timeout=60), count, pauses

    quiet = run(False)
    chatty = run(True)
    assert quiet[1] is not None and chatty[1] is not None
    assert chatty[2] > 1, "no command ran while the guest ran"
    assert quiet[0] == chatty[0] == 1
    assert quiet[1] == chatty[1]


@pytest.mark.slow
def test_stop_a_running_guest(vanderpool, guest_elf, tmp_path):
    """`stop` on the socket stops a guest that runs for seconds (dev_rtc
    waits for RTC updates, in host time with --realtime); `continue`
    resumes it."""
    elf_path = guest_elf("dev_rtc")
    path = str(tmp_path / "mon.sock")
    with monitor_socket(vanderpool, path, "--realtime", "--serial", "null",
                        elf_path) as (proc, s, until):
        until(b"(vp) ")
        time.sleep(0.3)
        s.sendall(b"stop\n")
        out = until(b"(vp) ")
        assert "stopped by the user" in out, out
        s.sendall(b"info cpus\n")
        out = until(b"(vp) ")
        assert "CPU 0: RIP=" in out
        s.sendall(b"stop\n")
        assert "the machine is stopped" in until(b"(vp) ")
        s.sendall(b"c\n")
        until(b"(vp) ")
        s.sendall(b"c\n")
        assert "the machine is running" in until(b"(vp) ")
        out = until(b"stopped for good")
        s.sendall(b"quit\n")
        s.close()
        assert proc.wait(timeout=30) == 1          # dev_rtc passed
