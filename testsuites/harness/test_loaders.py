"""Boot-protocol tests: testsuites/guest/tests/loader_info.c checks, from
inside the guest, the boot information it was handed, for each way
Vanderpool can boot it (built by mk/boot-tests.mk):

  loader_info.elf        Multiboot 1, ELF32 program headers
  loader_info-aout.bin   Multiboot 1, header address fields, flat binary
  loader_info-mb2.elf    Multiboot 2, ELF64
  loader_info-elf64.elf  plain ELF64, entered in 64-bit long mode

each with a command line and two modules. The Multiboot 1 images also run
on QEMU (-kernel supports only Multiboot 1), which proves the test itself.
Self-contained: builds the images with `make loader-images` unless
VP_NO_BUILD is set.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("VP_BUILD", "build")
GUEST = BUILD / "guest"
BOOT_SRC = ROOT / "testsuites" / "guest" / "boot"
MEM_MB = 128
TIMEOUT = 60
APPEND = "loader-test alpha=1 beta=two"
MODULES = [(BOOT_SRC / "loader_mod1.txt", "mod1 x=1"), (BOOT_SRC / "loader_mod2.txt", "mod2")]

IMAGES = {
    "mb1-elf32": ("loader_info.elf", ("vanderpool", "qemu")),
    "mb1-aout": ("loader_info-aout.bin", ("vanderpool", "qemu")),
    "mb2-elf64": ("loader_info-mb2.elf", ("vanderpool",)),
    "elf64": ("loader_info-elf64.elf", ("vanderpool",)),
}

pytestmark = pytest.mark.guest


@pytest.fixture(scope="module")
def loader_images():
    if not os.environ.get("VP_NO_BUILD"):
        env = dict(os.environ)
        env.pop("MAKEFLAGS", None)
        p = subprocess.run(["make", "--no-print-directory", "-s", "loader-images"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        if p.returncode != 0:
            pytest.fail("make loader-images failed:\n" + p.stdout.decode(errors="replace")[-3000:],
                        pytrace=False)
    return GUEST


def engines(config):
    return getattr(config, "vp_engines", None) or ["vanderpool", "qemu"]


def vanderpool_binary(config):
    try:
        opt = config.getoption("--vanderpool")
    except ValueError:
        opt = None
    return Path(opt) if opt else BUILD / "vanderpool"


def pytest_generate_tests(metafunc):
    if "loader_case" in metafunc.fixturenames:
        cases, ids = [], []
        for proto, (image, on) in IMAGES.items():
            for engine in engines(metafunc.config):
                if engine in on:
                    cases.append((engine, proto, image))
                    ids.append("%s-%s" % (engine, proto))
        metafunc.parametrize("loader_case", cases, ids=ids)


def run_engine(engine, image, log, vp):
    if engine == "vanderpool":
        if not os.access(vp, os.X_OK):
            pytest.skip("%s is not built (make)" % vp)
        cmd = [str(vp), "run", "--mem", str(MEM_MB), "--serial", "file:%s" % log,
               "--timeout", str(TIMEOUT), "--no-reboot", "--append", APPEND]
        for path, args in MODULES:
            cmd += ["--module", "%s,%s" % (path, args)]
        cmd.append(str(image))
    else:
        if not shutil.which("qemu-system-x86_64"):
            pytest.skip("qemu-system-x86_64 is not installed")
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(MEM_MB), "-display", "none",
               "-no-reboot", "-monitor", "none", "-serial", "file:%s" % log,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", str(image),
               "-append", APPEND,
               "-initrd", ",".join("%s %s" % (p, a) for p, a in MODULES)]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT + 15)
    except subprocess.TimeoutExpired:
        return None, "killed after %d s" % (TIMEOUT + 15), cmd
    return p.returncode, p.stdout.decode(errors="replace"), cmd


def test_loader(loader_case, loader_images, request, tmp_path):
    engine, proto, name = loader_case
    image = loader_images / name
    if not image.exists():
        pytest.fail("%s was not built (make loader-images)" % image, pytrace=False)
    log = tmp_path / ("%s-%s.log" % (engine, proto))
    status, output, cmd = run_engine(engine, image, log, vanderpool_binary(request.config))
    serial = log.read_text(errors="replace") if log.exists() else ""
    fails = [l for l in serial.splitlines() if l.startswith("FAIL: ")]
    skips = [l for l in serial.splitlines() if l.startswith("SKIP: ")]
    summary = re.search(r"^SUMMARY: (\d+) passed, (\d+) failed, (\d+) skipped$", serial, re.M)
    detail = "\n".join(["$ " + " ".join(cmd), "status %s" % status, "--- engine output ---",
                        output[-2000:], "--- serial ---", serial[-4000:]])
    assert summary, "no SUMMARY line\n" + detail
    assert not fails and summary.group(2) == "0", "guest checks failed\n" + detail
    # The command line and the modules were given: nothing may be skipped.
    assert not skips and summary.group(3) == "0", "checks skipped\n" + detail
    assert int(summary.group(1)) >= 20, detail
    assert status == 1, "exit status %s, want 1 (debug-exit 0)\n%s" % (status, detail)
