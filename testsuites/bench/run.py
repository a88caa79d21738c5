#!/usr/bin/env python3
"""run.py: runs the benchmark guests (testsuites/bench/*.c, built by
`make bench-images` into build/bench/) on Vanderpool, QEMU (TCG) and Bochs
in one run, and prints instructions per CPU-second of each engine and the
ratios. `make bench` calls it; docs/bench.md explains the numbers.

    python3 testsuites/bench/run.py [--runs N] [--engines LIST]
                                    [--build DIR] [--json FILE] [NAME...]

For every engine and benchmark (and the empty benchmark "null"), the image
runs N times; each run's CPU time is the engine process's user+sys time
(os.wait4). The workload's CPU time is min(benchmark) - min(null), so boot
costs (BIOS, loader, runtime start-up) drop out. The workload's instruction
count is Vanderpool's retired-instruction count of the benchmark minus that
of null: from --stats-json when Vanderpool has it, otherwise from a
counting run that boots with "bench-halt" on the command line, so the
guest ends with CLI;HLT and Vanderpool prints "(after N instructions)".

Every run must print the checksum its source expects (the guest checks it
itself and prints PASS/FAIL) and end the way the engine's exit device says;
the checksums of all engines must agree. A failed run is reported, left out
of the numbers, and makes the exit status 1. An engine that is not
installed (or not built) is reported and skipped.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "testsuites", "harness"))
import guestlib  # noqa: E402  (engine commands, Bochs config, report parsing)

ENGINES = guestlib.ENGINES
MEM_MB = 256
TIMEOUT = {"vanderpool": 300.0, "qemu": 300.0, "bochs": 900.0}
_BENCH_RE = re.compile(r"^BENCH (\S+) checksum=([0-9a-f]+) units=(\d+)\s*$", re.M)
_AFTER_RE = re.compile(r"\(after (\d+) instructions\)")
_BOCHS_SHUTDOWN = "Shutdown port: shutdown requested"
# References: run and printed like the benchmarks, after them and outside
# the geomean. memchase is bound by the host's memory latency, which the
# native run of its chase measures (docs/bench.md).
REFERENCES = ("memchase",)
# Benchmarks whose unit is one load: their time per load is printed.
PER_LOAD = ("tlbmiss", "memchase")


class Image:
    """One benchmark: the files each engine boots, and the few fields
    guestlib.bochs_config reads."""

    def __init__(self, build, name):
        self.name = name
        self.elf = os.path.join(build, "bench", name + ".elf")
        self.img = os.path.join(build, "bench", name + ".img")
        self.mem = MEM_MB
        self.bochsrc = []


class Result:
    def __init__(self, engine, name, cmd):
        self.engine, self.name, self.cmd = engine, name, cmd
        self.cpu = None          # user+sys seconds of the engine process
        self.wall = None
        self.status = None
        self.killed = False
        self.serial = ""
        self.output = ""
        self.checksum = None
        self.units = None
        self.insns = None        # Vanderpool only
        self.stats = None        # Vanderpool's --stats-json document
        self.problems = []

    @property
    def ok(self):
        return not self.problems


# ------------------------------------------------------------- processes


def run_process(cmd, timeout, out_path, env=None, cwd=None, stop_when=None):
    """Runs cmd in its own process group with stdout+stderr to out_path.
    Returns (exit status or None if killed, killed, cpu seconds, wall seconds)."""
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
    start = time.monotonic()
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout or (stop_when and stop_when()):
            killed = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    code = None if killed else proc.returncode
    return code, killed, usage.ru_utime + usage.ru_stime, wall


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def fresh(*paths):
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)


# --------------------------------------------------------------- engines


class Runner:
    def __init__(self, build, vanderpool):
        self.build = build
        self.vanderpool = vanderpool
        self.logs = os.path.join(build, "bench", "logs")
        self.stats_json = False
        if os.access(vanderpool, os.X_OK):
            p = subprocess.run([vanderpool, "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.stats_json = b"--stats-json" in p.stdout

    def paths(self, engine, name, tag=""):
        d = os.path.join(self.logs, engine)
        os.makedirs(d, exist_ok=True)
        base = os.path.join(d, name + tag)
        return base + ".serial", base + ".out"

    def run(self, engine, image, count=False):
        return getattr(self, "run_" + engine)(image, count)

    def run_vanderpool(self, image, count):
        """count: the fallback counting run (bench-halt), else a timed run."""
        serial, out = self.paths("vanderpool", image.name, ".count" if count else "")
        stats = out[:-4] + ".stats.json"
        fresh(serial, out, stats)
        cmd = [self.vanderpool, "run", "--mem", str(MEM_MB), "--serial", "file:" + serial,
               "--no-reboot", "--timeout", "%g" % TIMEOUT["vanderpool"]]
        if count:
            cmd += ["--append", "bench-halt"]
        elif self.stats_json:
            cmd += ["--stats-json", stats]
        cmd.append(image.elf)
        r = Result("vanderpool", image.name, cmd)
        r.status, r.killed, r.cpu, r.wall = run_process(cmd, TIMEOUT["vanderpool"] + 30, out)
        r.serial, r.output = read(serial), read(out)
        want = 12 if count else 1   # halted forever / isa-debug-exit code 0
        if r.status != want:
            r.problems.append("exit status %s, expected %d" % (describe_status(r.status), want))
        if count:
            m = _AFTER_RE.search(r.output)
            if m:
                r.insns = int(m.group(1))
            else:
                r.problems.append("no instruction count in Vanderpool's output")
        elif self.stats_json:
            try:
                with open(stats) as f:
                    r.stats = json.load(f)
                r.insns = int(r.stats["instructions"])
            except (OSError, ValueError, KeyError, TypeError) as e:
                r.problems.append("--stats-json %s: %s" % (stats, e))
        return r

    def run_qemu(self, image, count=False):
        serial, out = self.paths("qemu", image.name)
        fresh(serial, out)
        cmd = [guestlib.QEMU, "-accel", "tcg", "-m", str(MEM_MB), "-display", "none",
               "-no-reboot", "-monitor", "none", "-serial", "file:" + serial,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", image.elf]
        r = Result("qemu", image.name, cmd)
        r.status, r.killed, r.cpu, r.wall = run_process(cmd, TIMEOUT["qemu"], out)
        r.serial, r.output = read(serial), read(out)
        if r.status != 1:
            r.problems.append("exit status %s, expected 1 (isa-debug-exit code 0)"
                              % describe_status(r.status, qemu=True))
        return r

    def run_bochs(self, image, count=False):
        serial, out = self.paths("bochs", image.name)
        work = os.path.join(self.logs, "bochs", image.name + ".bochs")
        os.makedirs(work, exist_ok=True)
        blog = os.path.join(work, "bochs.log")
        fresh(serial, out, blog)
        rc = os.path.join(work, "bochsrc")
        with open(rc, "w") as f:
            f.write(guestlib.bochs_config(image, serial, blog))
        dbg = os.path.join(work, "debugger.rc")
        with open(dbg, "w") as f:
            f.write("c\n")
        cmd = [guestlib.BOCHS, "-q", "-f", rc, "-rc", dbg,
               "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy"]
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        r = Result("bochs", image.name, cmd)
        r.status, r.killed, r.cpu, r.wall = run_process(
            cmd, TIMEOUT["bochs"], out, env=env, cwd=work,
            stop_when=lambda: guestlib._BOCHS_RESET in read(blog))
        r.serial, r.output = read(serial), read(out)
        log = read(blog)
        # Bochs exits with status 1 even when the guest shuts it down.
        if _BOCHS_SHUTDOWN not in log:
            bad = [l.strip() for l in log.splitlines()
                   if guestlib._BOCHS_RESET in l or ">>PANIC<<" in l]
            r.problems.append("Bochs did not stop through the shutdown port" +
                              (": " + bad[-1] if bad else ""))
        return r


def describe_status(status, qemu=False):
    if status is None:
        return "none (killed)"
    if status > 0 and status & 1:
        return "%d (isa-debug-exit code %d)" % (status, status >> 1)
    if qemu:
        return "%d%s" % (status, " (triple fault or reset?)" if status == 0 else "")
    note = guestlib.VANDERPOOL_STATUS.get(status)
    return "%d (%s)" % (status, note) if note else str(status)


def check_serial(r):
    """The guest's own verdict and its BENCH line."""
    if r.killed:
        r.problems.append("killed after the time limit")
    rep = guestlib.parse_report(r.serial)
    for name, msg in rep.fails:
        r.problems.append("FAIL: %s: %s" % (name, msg))
    if rep.summary is None:
        r.problems.append("no SUMMARY line: the guest did not finish")
    elif rep.summaries > 1:
        r.problems.append("%d SUMMARY lines: the guest ran more than once" % rep.summaries)
    m = _BENCH_RE.findall(r.serial)
    if len(m) != 1 or m[0][0] != r.name:
        r.problems.append("expected one 'BENCH %s ...' line, found %d" % (r.name, len(m)))
    else:
        r.checksum, r.units = m[0][1], int(m[0][2])


def engine_version(engine, vanderpool):
    try:
        if engine == "vanderpool":
            cmd = [vanderpool, "--version"]
        elif engine == "qemu":
            cmd = [guestlib.QEMU, "--version"]
        else:
            p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "bochs"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            return "bochs " + p.stdout.decode().strip() if p.returncode == 0 else "bochs"
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.stdout.decode(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError):
        return engine


def host_description():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


# ---------------------------------------------------------------- report


def fmt_int(n):
    return "{:,}".format(n) if n is not None else "n/a"


def fmt_f(x, digits=2):
    return ("%.*f" % (digits, x)) if x is not None else "n/a"


def summarize(names, engines, results, counts):
    """The numbers: per benchmark, instructions, workload CPU seconds and
    MIPS per engine, ratios. results[(engine, name)] = [Result, ...]."""
    def best(engine, name):
        ok = [r.cpu for r in results.get((engine, name), []) if r.ok]
        return min(ok) if ok else None

    out = {"benchmarks": {}, "null": {}}
    for e in engines:
        out["null"][e] = {"cpu_s_runs": [round(r.cpu, 4) for r in results.get((e, "null"), [])],
                          "cpu_s": best(e, "null")}
    null_insns = counts.get("null")
    for name in names:
        insns = None
        if counts.get(name) is not None and null_insns is not None:
            insns = counts[name] - null_insns
        b = {"instructions": insns, "engines": {}, "ratios": {}}
        every = [r for e in engines for r in results.get((e, name), [])]
        sums = {r.checksum for r in every if r.checksum}
        b["checksum"] = sums.pop() if len(sums) == 1 else sorted(sums)
        b["units"] = next((r.units for r in every if r.units is not None), None)
        vp_ok = [r for r in results.get(("vanderpool", name), []) if r.ok and r.stats]
        if vp_ok:
            b["vanderpool_stats"] = min(vp_ok, key=lambda r: r.cpu).stats
        for e in engines:
            t, t0 = best(e, name), best(e, "null")
            work = t - t0 if t is not None and t0 is not None else None
            mips = insns / work / 1e6 if insns and work and work > 0 else None
            b["engines"][e] = {
                "cpu_s_runs": [round(r.cpu, 4) for r in results.get((e, name), [])],
                "cpu_s_total": t, "cpu_s": work, "mips": mips,
                "failed_runs": sum(1 for r in results.get((e, name), []) if not r.ok)}
        vp = b["engines"].get("vanderpool", {}).get("cpu_s")
        for e in engines:
            if e == "vanderpool":
                continue
            other = b["engines"][e]["cpu_s"]
            if vp and other and vp > 0 and other > 0:
                b["ratios"]["vanderpool/" + e] = other / vp
        out["benchmarks"][name] = b
    targets = [n for n in names if n not in REFERENCES]
    for e in engines:
        if e == "vanderpool":
            continue
        rs = [out["benchmarks"][n]["ratios"].get("vanderpool/" + e) for n in targets]
        rs = [r for r in rs if r]
        if rs and len(rs) == len(targets):
            out.setdefault("geomean", {})["vanderpool/" + e] = math.exp(
                sum(math.log(r) for r in rs) / len(rs))
    return out


def print_table(summary, names, engines):
    cols = ["benchmark", "instructions"]
    for e in engines:
        cols += ["%s s" % e, "%s MIPS" % e]
    ratio_keys = ["vanderpool/" + e for e in engines if e != "vanderpool"] \
        if "vanderpool" in engines else []
    cols += ratio_keys
    rows = []

    def row(n, label):
        b = summary["benchmarks"][n]
        r = [label, fmt_int(b["instructions"])]
        for e in engines:
            r += [fmt_f(b["engines"][e]["cpu_s"], 3), fmt_f(b["engines"][e]["mips"], 1)]
        r += [fmt_f(b["ratios"].get(k), 2) + ("x" if b["ratios"].get(k) else "")
              for k in ratio_keys]
        rows.append(r)

    for n in names:
        if n not in REFERENCES:
            row(n, n)
    g = summary.get("geomean", {})
    if any(k in g for k in ratio_keys):
        rows.append(["geomean", ""] + [""] * (2 * len(engines)) +
                    [fmt_f(g.get(k), 2) + ("x" if g.get(k) else "") for k in ratio_keys])
    refs = [n for n in names if n in REFERENCES]
    for n in refs:
        row(n, n + " (ref)")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(cols))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    boot = ", ".join("%s %s s" % (e, fmt_f(summary["null"][e]["cpu_s"], 3)) for e in engines)
    print("\nboot + exit (the null benchmark, subtracted above): " + boot)
    print("s = CPU seconds (user+sys) of the workload, min of the runs; "
          "MIPS = instructions / s / 1e6; vanderpool/X = X's s / Vanderpool's s")
    if refs:
        print("(ref) = a reference outside the geomean: memchase is tlbmiss's chase "
              "over 64 MiB of distinct pages, bound by host memory (docs/bench.md)")


def native_floor(path, runs):
    """memchase's pointer chase run natively (testsuites/bench/host): the
    least CPU seconds of `runs` runs and its number of loads, or None."""
    best = None
    for _ in range(runs):
        try:
            out = subprocess.run([path], capture_output=True, text=True,
                                 timeout=120).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        m = re.search(r"([0-9.]+) s CPU for (\d+) loads", out)
        if not m:
            return None
        s, loads = float(m.group(1)), int(m.group(2))
        best = (s, loads) if best is None or s < best[0] else best
    return best


def print_per_load(summary, names, engines, floor):
    """Per-load times of the chases (one load per unit), memchase's beside
    the host's own (docs/bench.md)."""
    for n in names:
        b = summary["benchmarks"][n]
        if n not in PER_LOAD or not b["units"]:
            continue
        per = ", ".join("%s %.1f ns" % (e, b["engines"][e]["cpu_s"] / b["units"] * 1e9)
                        for e in engines if b["engines"][e]["cpu_s"])
        host = ""
        if n == "memchase" and floor:
            host = "the host itself %.1f ns (the same chase run natively); " % (
                floor[0] / floor[1] * 1e9)
        print("%s per load: %s%s" % (n, host, per))


# ------------------------------------------------------------------ main


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--runs", type=int, default=3, help="runs per engine and benchmark (min is taken)")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--build", default="build")
    ap.add_argument("--vanderpool", help="the binary (default BUILD/vanderpool)")
    ap.add_argument("--json", help="results file (default BUILD/bench/results.json)")
    ap.add_argument("--native", help="memchase's chase as a host program "
                    "(make bench builds BUILD/bench/memchase_native): printed beside it")
    args = ap.parse_args(argv)

    build = os.path.abspath(os.path.join(ROOT, args.build))
    vanderpool = args.vanderpool or os.path.join(build, "vanderpool")
    json_path = args.json or os.path.join(build, "bench", "results.json")
    available = sorted({os.path.splitext(f)[0] for f in os.listdir(HERE) if f.endswith(".c")}
                       - {"common", "null"})
    names = args.names or available
    for n in names:
        if n not in available:
            print("run.py: no benchmark %r (have: %s)" % (n, " ".join(available)), file=sys.stderr)
            return 2
    try:
        wanted = guestlib.select_engines([args.engines])
    except ValueError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 2
    images = {n: Image(build, n) for n in ["null"] + names}
    for img in images.values():
        for p in (img.elf, img.img):
            if not os.path.exists(p):
                print("run.py: %s is missing (make bench-images)" % p, file=sys.stderr)
                return 2

    engines, skipped = [], {}
    for e in wanted:
        why = guestlib.engine_missing(e, vanderpool)
        if why:
            skipped[e] = why
            print("skipping %s: %s" % (e, why))
        else:
            engines.append(e)
    if not engines:
        print("run.py: no engine to run", file=sys.stderr)
        return 1

    runner = Runner(build, vanderpool)
    results, failures = {}, []
    counts = {}
    order = ["null"] + names

    def record(r):
        check_serial(r)
        if not r.ok:
            failures.append(r)
            print("  FAILED %s on %s:\n    %s\n    log: %s" % (
                r.name, r.engine, "\n    ".join(r.problems),
                os.path.relpath(runner.paths(r.engine, r.name)[0], ROOT)))
        return r

    if "vanderpool" in engines:
        how = ("--stats-json" if runner.stats_json else
               "counting runs with 'bench-halt' (no --stats-json yet)")
        print("instruction counts: Vanderpool, %s" % how)
        if not runner.stats_json:
            for n in order:
                r = record(runner.run("vanderpool", images[n], count=True))
                counts[n] = r.insns if r.ok else None
    else:
        print("instruction counts: none (Vanderpool is not in this run): no MIPS")

    for i in range(args.runs):
        for e in engines:
            for n in order:
                r = record(runner.run(e, images[n]))
                results.setdefault((e, n), []).append(r)
                print("run %d/%d  %-10s %-8s %7.3f s CPU  %7.3f s wall%s" % (
                    i + 1, args.runs, e, n, r.cpu, r.wall, "" if r.ok else "  FAILED"))
                sys.stdout.flush()
                if e == "vanderpool" and runner.stats_json and r.ok:
                    if counts.get(n) not in (None, r.insns):
                        print("  note: %s retired %d instructions, an earlier run %d" %
                              (n, r.insns, counts[n]))
                    counts[n] = r.insns

    # Every engine must compute the same checksums.
    for n in order:
        sums = {(r.engine, r.checksum) for e in engines for r in results.get((e, n), [])
                if r.checksum}
        if len({s for _, s in sums}) > 1:
            failures.append(n)
            print("checksum mismatch for %s: %s" % (
                n, ", ".join("%s %s" % x for x in sorted(sums))))

    summary = summarize(names, engines, results, counts)
    print("\nVanderpool benchmarks, %d run(s) each, %s" % (args.runs, host_description()["cpu"]))
    print_table(summary, names, engines)
    floor = None
    if "memchase" in names and args.native and os.path.exists(args.native):
        floor = native_floor(args.native, args.runs)
        if floor:
            summary["memchase_native"] = {"cpu_s": floor[0], "loads": floor[1]}
    print_per_load(summary, names, engines, floor)

    doc = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": host_description(),
        "runs": args.runs,
        "engines": {e: engine_version(e, vanderpool) for e in engines},
        "skipped_engines": skipped,
        "instruction_source": ("vanderpool --stats-json" if runner.stats_json
                               else "vanderpool bench-halt counting run"),
        "vanderpool_instructions": counts,
        "failures": [("%s on %s: %s" % (f.name, f.engine, "; ".join(f.problems)))
                     if isinstance(f, Result) else "checksum mismatch: " + f for f in failures],
    }
    doc.update(summary)
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    print("results: %s" % os.path.relpath(json_path, ROOT))
    if failures:
        print("%d failed run(s) or mismatch(es): see above" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
