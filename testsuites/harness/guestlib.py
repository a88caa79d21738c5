"""guestlib: find guest tests, read their metadata, run them on an engine
(vanderpool, qemu, bochs) and judge the outcome from the report lines the
guest prints on COM1 and from the exit status.

The report protocol and the metadata keys are described in
testsuites/guest/README.md. Usable without pytest:

    python3 testsuites/harness/guestlib.py ENGINE NAME [NAME...]
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUEST_SRC = os.path.join(ROOT, "testsuites", "guest")
BUILD = os.path.abspath(os.path.join(ROOT, os.environ.get("VP_BUILD", "build")))
GUEST_BUILD = os.path.join(BUILD, "guest")
VANDERPOOL = os.path.join(BUILD, "vanderpool")

ENGINES = ("vanderpool", "qemu", "bochs")
DEFAULT_ENGINES = ("vanderpool", "qemu")
DEFAULT_MEM_MB = 256
DEFAULT_TIMEOUT = 60.0
BOCHS_SLOWDOWN = 3

QEMU = "qemu-system-x86_64"
BOCHS = "bochs"
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGABIOS = "/usr/share/vgabios/vgabios.bin"

# What Vanderpool's even exit statuses mean (odd ones are (code << 1) | 1).
VANDERPOOL_STATUS = {
    0: "the guest reset the machine (--no-reboot)",
    2: "usage error",
    4: "load or emulator error",
    6: "triple fault",
    8: "timeout",
    10: "instruction limit reached",
    12: "all CPUs halted forever",
}

# ---------------------------------------------------------------- metadata

LIST_KEYS = {"engines", "qemu-args", "vanderpool-args"}  # shell-split
REPEAT_KEYS = {"bochsrc", "expect-fail"}                 # one value per line
SCALAR_KEYS = {"mem", "timeout", "exit-code", "outcome"}
# How a run may end besides isa-debug-exit (`outcome:` metadata).
OUTCOMES = ("triple-fault",)
KNOWN_KEYS = LIST_KEYS | REPEAT_KEYS | SCALAR_KEYS
_META_RE = re.compile(r"^([a-z][a-z0-9-]*)\s*:\s*(.*?)\s*$")


@dataclass
class GuestTest:
    name: str
    source: str
    engines: list = field(default_factory=list)
    qemu_args: list = field(default_factory=list)
    vanderpool_args: list = field(default_factory=list)
    bochsrc: list = field(default_factory=list)
    expect_fail: list = field(default_factory=list)
    mem: int = DEFAULT_MEM_MB
    timeout: float = DEFAULT_TIMEOUT
    exit_code: int = None      # None: 0 if no FAIL line, else 1
    outcome: str = None        # "triple-fault": the run must end in one
    errors: list = field(default_factory=list)  # metadata problems

    @property
    def elf(self):
        return os.path.join(GUEST_BUILD, self.name + ".elf")

    @property
    def img(self):
        return os.path.join(GUEST_BUILD, self.name + ".img")


def leading_comment_lines(text):
    """The lines of the comments that open a C file, markers stripped."""
    lines = []
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if not in_block:
            if line.startswith("//"):
                lines.append(line[2:].strip())
                continue
            if not line.startswith("/*"):
                if line:
                    break
                continue
            line = line[2:]
            in_block = True
        end = line.find("*/")
        if end >= 0:
            line = line[:end]
            in_block = False
        line = line.strip()
        if line.startswith("*"):
            line = line[1:].strip()
        lines.append(line)
    return lines


def parse_metadata(name, source, text):
    t = GuestTest(name=name, source=source)
    seen = set()
    for line in leading_comment_lines(text):
        m = _META_RE.match(line)
        if not m or m.group(1) not in KNOWN_KEYS:
            continue
        key, value = m.groups()
        if key in seen and key not in REPEAT_KEYS:
            t.errors.append("metadata key %r given twice" % key)
        seen.add(key)
        try:
            if key == "engines":
                t.engines = value.replace(",", " ").split()
            elif key == "qemu-args":
                t.qemu_args = shlex.split(value)
            elif key == "vanderpool-args":
                t.vanderpool_args = shlex.split(value)
            elif key == "bochsrc":
                t.bochsrc.append(value)
            elif key == "expect-fail":
                t.expect_fail.append(value)
            elif key == "mem":
                t.mem = int(value, 0)
            elif key == "timeout":
                t.timeout = float(value)
            elif key == "exit-code":
                t.exit_code = int(value, 0)
            elif key == "outcome":
                t.outcome = value
        except ValueError:
            t.errors.append("metadata %s: bad value %r" % (key, value))
    if "engines" not in seen:
        t.errors.append("no 'engines:' line in the leading comment")
    for e in t.engines:
        if e not in ENGINES:
            t.errors.append("engines: unknown engine %r (known: %s)" % (e, " ".join(ENGINES)))
    if t.outcome is not None and t.outcome not in OUTCOMES:
        t.errors.append("outcome: unknown %r (known: %s)" % (t.outcome, " ".join(OUTCOMES)))
    if t.outcome is not None and t.exit_code is not None:
        t.errors.append("outcome: and exit-code: exclude each other")
    if t.exit_code is not None and not 0 <= t.exit_code <= 127:
        t.errors.append("exit-code must be 0..127 to survive (code << 1) | 1")
    return t


def discover(directory=None):
    directory = directory or os.path.join(GUEST_SRC, "tests")
    tests = []
    if not os.path.isdir(directory):
        return tests
    for fn in sorted(os.listdir(directory)):
        if fn.endswith(".c"):
            path = os.path.join(directory, fn)
            with open(path, encoding="utf-8", errors="replace") as f:
                tests.append(parse_metadata(fn[:-2], path, f.read()))
    return tests


def select_engines(option_values, env=None):
    """Engines from --engine values (repeatable, comma-separated) or, when
    none, VP_ENGINES; raises ValueError on an unknown name."""
    raw = [v for v in (option_values or []) if v]
    if not raw:
        env = os.environ.get("VP_ENGINES", "") if env is None else env
        raw = [env] if env.strip() else list(DEFAULT_ENGINES)
    engines = []
    for item in raw:
        for e in item.replace(",", " ").split():
            if e not in ENGINES:
                raise ValueError("unknown engine %r (known: %s)" % (e, ", ".join(ENGINES)))
            if e not in engines:
                engines.append(e)
    return engines

# ----------------------------------------------------------------- reports


@dataclass
class Report:
    passes: list = field(default_factory=list)
    fails: list = field(default_factory=list)   # (name, message)
    skips: list = field(default_factory=list)   # (name, why)
    summary: tuple = None                       # (passed, failed, skipped)
    summaries: int = 0


_SUMMARY_RE = re.compile(r"^SUMMARY: (\d+) passed, (\d+) failed, (\d+) skipped$")


def _split_name(rest):
    name, sep, msg = rest.partition(": ")
    return (name, msg) if sep else (rest.rstrip(":"), "")


def parse_report(text):
    r = Report()
    for line in text.splitlines():
        line = line.rstrip("\r")
        if line.startswith("PASS: "):
            r.passes.append(line[6:])
        elif line.startswith("FAIL: "):
            r.fails.append(_split_name(line[6:]))
        elif line.startswith("SKIP: "):
            r.skips.append(_split_name(line[6:]))
        else:
            m = _SUMMARY_RE.match(line)
            if m:
                r.summaries += 1
                r.summary = tuple(int(x) for x in m.groups())
    return r

# ------------------------------------------------------------------- runs


@dataclass
class Run:
    engine: str
    cmd: list
    status: int = None          # process exit status (None: killed)
    timed_out: bool = False
    serial: str = ""
    log_path: str = ""
    output: str = ""            # the engine's own stdout/stderr, tail
    engine_note: str = ""       # what the engine said about how it ended


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _tail(text, n):
    lines = text.rstrip("\n").splitlines()
    return "\n".join(lines[-n:])


def _run_process(cmd, timeout, env=None, cwd=None, stop_when=None):
    """Runs cmd in its own process group; returns (status, timed_out, output).
    stop_when(): polled every 0.1 s; a true result ends the run early."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=cwd,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    timed_out = False
    out_chunks = []
    os.set_blocking(proc.stdout.fileno(), False)
    while proc.poll() is None:
        try:
            data = proc.stdout.read()
            if data:
                out_chunks.append(data)
        except (BlockingIOError, TypeError):
            pass
        if time.monotonic() > deadline or (stop_when and stop_when()):
            timed_out = time.monotonic() > deadline
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            break
        time.sleep(0.05)
    try:
        rest = proc.stdout.read()
        if rest:
            out_chunks.append(rest)
    except (BlockingIOError, TypeError, ValueError):
        pass
    proc.stdout.close()
    output = b"".join(out_chunks).decode("utf-8", errors="replace")
    return proc.returncode, timed_out, output


_built = {}


def build(paths):
    """Brings build outputs (absolute paths under BUILD) up to date with
    make; returns (ok, make's output). Results are cached per process."""
    key = tuple(paths)
    if key not in _built:
        env = dict(os.environ)
        env.pop("MAKEFLAGS", None)
        env.pop("MFLAGS", None)
        cmd = ["make", "--no-print-directory", "-s", "BUILD=" + os.path.relpath(BUILD, ROOT)]
        cmd += [os.path.relpath(p, ROOT) for p in paths]
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env)
        _built[key] = (p.returncode == 0, p.stdout.decode("utf-8", errors="replace"))
    return _built[key]


def image_for(engine, test):
    """The file an engine boots: the disk image for Bochs, else the ELF."""
    return test.img if engine == "bochs" else test.elf


def log_path(engine, test):
    d = os.path.join(GUEST_BUILD, "logs", engine)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, test.name + ".log")


def run_vanderpool(test, binary=None):
    binary = binary or VANDERPOOL
    log = log_path("vanderpool", test)
    if os.path.exists(log):
        os.unlink(log)
    cmd = [binary, "run", "--mem", str(test.mem), "--serial", "file:" + log,
           "--timeout", "%g" % test.timeout, "--no-reboot"]
    cmd += test.vanderpool_args + [test.elf]
    status, timed_out, output = _run_process(cmd, test.timeout + 15)
    run = Run("vanderpool", cmd, status, timed_out, _read(log), log, _tail(output, 30))
    if status in VANDERPOOL_STATUS:
        run.engine_note = VANDERPOOL_STATUS[status]
    return run


def run_qemu(test):
    log = log_path("qemu", test)
    if os.path.exists(log):
        os.unlink(log)
    cmd = [QEMU, "-accel", "tcg", "-m", str(test.mem), "-display", "none",
           "-no-reboot", "-monitor", "none", "-serial", "file:" + log,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", test.elf] + test.qemu_args
    status, timed_out, output = _run_process(cmd, test.timeout)
    run = Run("qemu", cmd, status, timed_out, _read(log), log, _tail(output, 30))
    if status == 0:
        run.engine_note = "QEMU exited without isa-debug-exit (triple fault or reset under -no-reboot?)"
    return run


def bochs_config(test, log, bochs_log):
    lines = [
        "megs: %d" % test.mem,
        "romimage: file=" + BOCHS_BIOS,
        "vgaromimage: file=" + BOCHS_VGABIOS,
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        "ata0-master: type=disk, path=%s, mode=flat" % test.img,
        "boot: disk",
        "com1: enabled=1, mode=file, dev=" + log,
        "log: " + bochs_log,
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
        "display_library: sdl2",
        "clock: sync=none, time0=1",
    ]
    return "\n".join(lines + test.bochsrc) + "\n"


# Bochs resets the machine on a triple fault and would boot the test again.
_BOCHS_RESET = "exception with no resolution"


def run_bochs(test):
    log = log_path("bochs", test)
    work = log[:-4] + ".bochs"
    os.makedirs(work, exist_ok=True)
    bochs_log = os.path.join(work, "bochs.log")
    # Bochs locks the disk image with <img>.lock and removes it on a clean
    # exit; a run this harness killed (triple fault, timeout) leaves it
    # behind, and the next run would refuse the image.
    lock = test.img + ".lock"
    for p in (log, bochs_log, lock):
        if os.path.exists(p):
            os.unlink(p)
    rc = os.path.join(work, "bochsrc")
    with open(rc, "w") as f:
        f.write(bochs_config(test, log, bochs_log))
    cmds = os.path.join(work, "debugger.rc")
    with open(cmds, "w") as f:
        f.write("c\n")   # Debian's bochs has the debugger: continue at once
    cmd = [BOCHS, "-q", "-f", rc, "-rc", cmds,
           "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy"]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    status, timed_out, output = _run_process(
        cmd, test.timeout * BOCHS_SLOWDOWN, env=env, cwd=work,
        stop_when=lambda: _BOCHS_RESET in _read(bochs_log))
    if os.path.exists(lock):
        os.unlink(lock)
    blog = _read(bochs_log)
    run = Run("bochs", cmd, status, timed_out, _read(log), log)
    if "Shutdown port: shutdown requested" not in blog:
        # Bochs's own account matters only when the guest did not end the run.
        notable = [l for l in blog.splitlines() if re.match(r"^\d+[ep]\[", l)]
        run.output = (_tail(output, 8) + "\n--- bochs.log: errors and panics ---\n" +
                      "\n".join(notable[-10:]) + "\n--- bochs.log tail (%s) ---\n"
                      % os.path.relpath(bochs_log, ROOT) + _tail(blog, 10))
    if _BOCHS_RESET in blog:
        run.engine_note = "triple fault (Bochs: %s)" % next(
            l for l in blog.splitlines() if _BOCHS_RESET in l).strip()
    elif "Shutdown port: shutdown requested" in blog:
        run.engine_note = "shutdown port"
    else:
        panics = [l for l in blog.splitlines() if ">>PANIC<<" in l]
        if panics:
            run.engine_note = "Bochs panic: " + panics[-1].strip()
    return run


def engine_missing(engine, vanderpool=None):
    """Why an engine cannot run here, or None."""
    if engine == "vanderpool":
        path = vanderpool or VANDERPOOL
        if not os.access(path, os.X_OK):
            return "%s is not built (make)" % os.path.relpath(path, ROOT)
    elif engine == "qemu":
        if not shutil.which(QEMU):
            return QEMU + " is not installed (apt-get install qemu-system-x86)"
    elif engine == "bochs":
        if not shutil.which(BOCHS):
            return "bochs is not installed (apt-get install bochs bochs-sdl bochsbios vgabios)"
        for p in (BOCHS_BIOS, BOCHS_VGABIOS):
            if not os.path.exists(p):
                return p + " is missing (apt-get install bochsbios vgabios)"
    return None


def run(engine, test, vanderpool=None):
    if engine == "vanderpool":
        return run_vanderpool(test, vanderpool)
    if engine == "qemu":
        return run_qemu(test)
    if engine == "bochs":
        return run_bochs(test)
    raise ValueError(engine)

# ------------------------------------------------------------------ verdict


@dataclass
class Verdict:
    problems: list            # empty: the run passed
    skipped: str = None       # a reason when every check skipped
    report: Report = None


def expected_status(test, report):
    code = test.exit_code
    if code is None:
        code = 1 if report.fails else 0
    return (code << 1) | 1


def judge(test, run):
    """What is wrong with a finished run, from the guest's point of view
    (its FAIL lines) and from the harness's (summary, exit status)."""
    r = parse_report(run.serial)
    problems = []
    expected = set(test.expect_fail)
    unexpected = [(n, m) for n, m in r.fails if n not in expected]
    got_names = {n for n, _ in r.fails}
    for n, m in unexpected:
        problems.append("FAIL: %s: %s" % (n, m) if m else "FAIL: %s" % n)
    for n in test.expect_fail:
        if n not in got_names:
            problems.append("expected the check %r to FAIL, but it did not" % n)
    if run.timed_out:
        problems.append("the harness killed %s after its timeout" % run.engine)
    if r.summary is None:
        problems.append("no SUMMARY line: the guest did not finish")
    else:
        counts = (len(r.passes), len(r.fails), len(r.skips))
        if r.summary != counts:
            problems.append("SUMMARY says %d passed, %d failed, %d skipped but the log has "
                            "%d PASS, %d FAIL, %d SKIP lines" % (r.summary + counts))
        if r.summaries > 1:
            problems.append("%d SUMMARY lines: the test ran more than once (reset?)"
                            % r.summaries)
    triple = test.outcome == "triple-fault"
    if triple and run.engine in ("qemu", "vanderpool") and not run.timed_out:
        # Vanderpool exits 6 on a triple fault; QEMU under -no-reboot exits 0.
        want = 6 if run.engine == "vanderpool" else 0
        if run.status != want:
            got = "status %s" % run.status
            if run.status is not None and run.status > 0 and run.status & 1:
                got += " (guest exit code %d)" % (run.status >> 1)
            elif run.engine == "vanderpool" and run.status in VANDERPOOL_STATUS:
                got += ": " + VANDERPOOL_STATUS[run.status]
            problems.append("exit %s, expected %d (the test ends in a triple fault)"
                            % (got, want))
    elif run.engine in ("qemu", "vanderpool") and not run.timed_out:
        want = expected_status(test, r)
        if run.status != want:
            got = "status %s" % run.status
            if run.status is not None and run.status > 0 and run.status & 1:
                got += " (guest exit code %d)" % (run.status >> 1)
            note = run.engine_note
            if not note and run.engine == "vanderpool":
                note = VANDERPOOL_STATUS.get(run.status, "")
            if note:
                got += ": " + note
            problems.append("exit %s, expected %d (guest exit code %d)"
                            % (got, want, want >> 1))
    if run.engine == "bochs":
        if run.engine_note.startswith("Bochs panic") or (
                run.engine_note.startswith("triple") and not triple):
            problems.append(run.engine_note)
        elif triple and not run.engine_note.startswith("triple"):
            problems.append("the run did not end in a triple fault (%s)"
                            % (run.engine_note or "no account from Bochs"))
    skipped = None
    if not problems and not r.passes and not r.fails and r.skips:
        skipped = "; ".join("%s: %s" % s for s in r.skips)
    return Verdict(problems, skipped, r)


def describe_failure(test, run, verdict, serial_lines=25):
    """The text pytest shows for a failed run."""
    out = ["%s on %s: %d problem(s)" % (test.name, run.engine, len(verdict.problems))]
    out += ["  " + p for p in verdict.problems]
    out.append("--- serial log tail (%s) ---" % os.path.relpath(run.log_path, ROOT))
    out.append(_tail(run.serial, serial_lines) or "(empty)")
    if run.output.strip():
        out.append("--- %s output tail ---" % run.engine)
        out.append(run.output.rstrip())
    out.append("--- command ---")
    out.append(" ".join(shlex.quote(c) for c in run.cmd))
    return "\n".join(out)


def main(argv):
    if len(argv) < 3:
        print("usage: guestlib.py ENGINE NAME [NAME...]  (after make guests)", file=sys.stderr)
        return 2
    engine = argv[1]
    tests = {t.name: t for t in discover()}
    worst = 0
    for name in argv[2:]:
        t = tests.get(name)
        if t is None:
            print("no guest test %r" % name, file=sys.stderr)
            return 2
        ok, out = build([image_for(engine, t)])
        if not ok:
            print(out, file=sys.stderr)
            return 2
        r = run(engine, t)
        v = judge(t, r)
        sys.stdout.write(r.serial)
        if v.problems:
            print(describe_failure(t, r, v))
            worst = 1
        else:
            print("== %s on %s: ok (status %s)" % (name, engine, r.status))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv))
