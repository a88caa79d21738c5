"""Differential testing of the CPU core against the host CPU
(testsuites/difftest/README.md).

build/difftest runs random instruction sequences in ring 3, natively (a
child process; 32-bit ones through the kernel's 32-bit user code segment)
and in Vanderpool's core, and compares registers, flags (minus those the
SDM leaves undefined), the data area and the exception. On a mismatch it
prints a minimised reproducer, which these tests show as their failure.

  - a fixed-seed sample of well over 200,000 instructions, both modes
  - hand-written regression cases for bugs the tester found
  - the reporting path itself (a sequence that must differ)

x86-64 Linux hosts only.
"""
import os
import platform
import subprocess

import pytest

import guestlib
from conftest import build_or_fail

pytestmark = pytest.mark.host

DIFFTEST = os.path.join(guestlib.BUILD, "difftest")

if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
    pytest.skip("the differential tester runs on x86-64 Linux hosts",
                allow_module_level=True)


@pytest.fixture(scope="module")
def difftest(request):
    build_or_fail(request.config, [DIFFTEST])
    if not os.path.exists(DIFFTEST):
        pytest.skip("build/difftest is not built (make difftest)")
    return DIFFTEST


def run(difftest, *args, timeout=120):
    p = subprocess.run([difftest] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", errors="replace")


def check(difftest, *args):
    rc, out = run(difftest, *args)
    if rc != 0:
        pytest.fail("difftest %s: status %d\n%s" % (" ".join(args), rc, out),
                    pytrace=False)
    return out


@pytest.mark.parametrize("seed,mode,count", [
    (1, None, 1500000),     # both modes, mostly 64-bit
    (2, "32", 500000),      # 32-bit code in compatibility mode
])
def test_fixed_seed_sample(difftest, seed, mode, count):
    args = ["--seed", seed, "--count", count, "-q"]
    if mode:
        args += ["--mode", mode]
    out = check(difftest, *[str(a) for a in args])
    assert "ok:" in out


# Each case: the bytes (a comma starts a new group), the registers and
# flags they start from, and the bug they once showed. They run natively
# and in Vanderpool like any generated program.
REGRESSIONS = [
    ("xadd-same-register", "64", "0fc1db", ["rbx=0x123456789"]),
    ("ror32-count0-zero-extends", "64", "b100,41d3cb",
     ["r11=0x552cdcb57a8fc90b"]),
    ("shrd32-count0-zero-extends", "64", "b100,410fadf5",
     ["r13=0xd40c9d27be4ed84f"]),
    ("shld-count0-writes-cs-segment", "32",
     "bb11000000,bea0241010,2e660fa4749e3c00", []),
    ("lock-sbb-write-fault-keeps-flags", "32", "bd681b1010,2ef0815dc8f0ccd832",
     ["rflags=0xad7"]),
    ("lock-add-ro-page-keeps-flags", "64", "f001042500401010",
     ["rflags=0xad7", "rax=0x1234"]),
    ("add8-ro-page-keeps-flags", "64", "00042500401010",
     ["rflags=0xad7", "rax=0x1234"]),
    ("shl16-ro-page-keeps-flags", "64", "66d1242500401010", ["rflags=0x202"]),
    ("bts-ro-page-keeps-cf", "64", "480fab3c2500401010",
     ["rdi=0", "rflags=0x203"]),
    ("cmpxchg-ro-page-keeps-flags", "64", "0fb13c2500401010",
     ["rflags=0xad7"]),
]


@pytest.mark.parametrize("name,mode,code,sets", REGRESSIONS,
                         ids=[r[0] for r in REGRESSIONS])
def test_regression(difftest, name, mode, code, sets):
    args = ["--mode", mode, "--code", code]
    for s in sets:
        args += ["--set", s]
    out = check(difftest, *args)
    assert "matches" in out


def test_mismatch_is_reported(difftest):
    """RDTSC reads the host's TSC natively and a virtual one in
    Vanderpool: the report names the instruction and how to replay it."""
    rc, out = run(difftest, "--code", "0f31")
    assert rc == 1, out
    assert "MISMATCH" in out and "replay:" in out, out
    assert "rdtsc" in out, out          # Capstone's disassembly
    assert "rax" in out or "rdx" in out, out


def test_list(difftest):
    rc, out = run(difftest, "--list")
    assert rc == 0
    for name in ("alu.eg", "shld", "cmpxchg8b", "movs", "daa"):
        assert name in out
