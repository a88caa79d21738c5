"""Harness configuration: engine selection, guest image build, fixtures.

Options:
  --engine NAME     vanderpool, qemu or bochs; repeatable or comma-separated
                    (default: $VP_ENGINES, else vanderpool,qemu)
  --no-build        do not run make for the guest images a test needs
  --vanderpool PATH the binary to judge (default build/vanderpool)
Markers: guest (every guest run), cli and host (harness tests that boot no
guest on a reference engine), slow. `-m "not guest"` selects the rest.
"""
import os
import sys
import subprocess

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402


def pytest_addoption(parser):
    g = parser.getgroup("vanderpool")
    g.addoption("--engine", action="append", default=[], metavar="NAME",
                help="engines to run guest tests on: vanderpool, qemu, bochs "
                     "(repeatable or comma-separated; default $VP_ENGINES or vanderpool,qemu)")
    g.addoption("--no-build", action="store_true", default=bool(os.environ.get("VP_NO_BUILD")),
                help="use build/guest as it is; by default each guest run first makes "
                     "its own image")
    g.addoption("--vanderpool", default=None, metavar="PATH",
                help="the vanderpool binary (default build/vanderpool)")


def pytest_configure(config):
    for line in ("guest: runs a guest test image on an engine",
                 "cli: tests of the vanderpool command line",
                 "host: harness tests that need no guest engine",
                 "slow: takes more than a few seconds"):
        config.addinivalue_line("markers", line)
    try:
        config.vp_engines = guestlib.select_engines(config.getoption("--engine"))
    except ValueError as e:
        raise pytest.UsageError(str(e))


def pytest_report_header(config):
    return "vanderpool engines: " + ", ".join(config.vp_engines)


def pytest_generate_tests(metafunc):
    if "guest_case" in metafunc.fixturenames:
        cases, ids = [], []
        for t in guestlib.discover():
            for engine in metafunc.config.vp_engines:
                cases.append((engine, t))
                ids.append("%s-%s" % (engine, t.name))
        metafunc.parametrize("guest_case", cases, ids=ids)


@pytest.fixture(scope="session")
def guest_build():
    """The directory holding <name>.elf and <name>.img."""
    return guestlib.GUEST_BUILD


def build_or_fail(config, paths):
    """make the given build outputs (unless --no-build); fail with make's
    output when that does not work."""
    if config.getoption("--no-build"):
        return
    ok, out = guestlib.build(paths)
    if not ok:
        pytest.fail("make %s failed:\n%s" % (" ".join(os.path.relpath(p, guestlib.ROOT)
                                                      for p in paths),
                                             "\n".join(out.splitlines()[-30:])),
                    pytrace=False)


@pytest.fixture(scope="session")
def vanderpool(request):
    """Path of the vanderpool binary; skips the test if it is not built."""
    path = request.config.getoption("--vanderpool") or guestlib.VANDERPOOL
    why = guestlib.engine_missing("vanderpool", path)
    if why:
        pytest.skip(why)
    return os.path.abspath(path)


@pytest.fixture
def guest_elf(guest_build, request):
    """guest_elf(name) -> path of build/guest/<name>.elf, built with make
    first (unless --no-build); skips if it still does not exist."""
    def find(name):
        path = os.path.join(guest_build, name + ".elf")
        build_or_fail(request.config, [path])
        if not os.path.exists(path):
            pytest.skip("%s not built" % os.path.relpath(path, guestlib.ROOT))
        return path
    return find


@pytest.fixture
def run_vanderpool(vanderpool):
    """run_vanderpool(args, timeout=60) -> subprocess.CompletedProcess
    (text, stdout and stderr captured), cwd = the top of the tree."""
    def run(args, timeout=60, **kw):
        return subprocess.run([vanderpool] + list(args), cwd=guestlib.ROOT,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, **kw)
    return run
