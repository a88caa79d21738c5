"""The harness judging itself: metadata parsing, report parsing and the
verdict on synthetic runs. No engine needed."""
import pytest

import guestlib
from guestlib import Run, judge, parse_metadata, parse_report, select_engines

pytestmark = pytest.mark.host

GOOD = "PASS: a\nPASS: b\nSKIP: c: absent\nSUMMARY: 2 passed, 0 failed, 1 skipped\n"


def meta(text):
    return parse_metadata("t", "t.c", text)


def test_metadata_block_comment():
    t = meta("/* t.c: does things.\n * engines: vanderpool qemu\n * qemu-args: -cpu max,+vmx"
             " -smp 2\n * bochsrc: cpu: model=corei7_skylake_x\n * mem: 512\n"
             " * timeout: 5\n */\n#include \"vp.h\"\n/* engines: bochs */\n")
    assert t.errors == []
    assert t.engines == ["vanderpool", "qemu"]
    assert t.qemu_args == ["-cpu", "max,+vmx", "-smp", "2"]
    assert t.bochsrc == ["cpu: model=corei7_skylake_x"]
    assert (t.mem, t.timeout, t.exit_code) == (512, 5.0, None)


def test_metadata_one_line_comments():
    t = meta("/* engines: qemu bochs */\n/* exit-code: 0x2a */\n\nint x;\n")
    assert t.errors == [] and t.engines == ["qemu", "bochs"] and t.exit_code == 42


@pytest.mark.parametrize("text,problem", [
    ("/* nothing here */\n", "no 'engines:' line"),
    ("/* engines: qemu kvm */\n", "unknown engine 'kvm'"),
    ("/* engines: qemu\n * mem: lots */\n", "bad value 'lots'"),
    ("/* engines: qemu\n * engines: bochs */\n", "given twice"),
    ("/* engines: qemu\n * exit-code: 200 */\n", "0..127"),
    ("/* engines: qemu\n * outcome: reset */\n", "outcome: unknown 'reset'"),
    ("/* engines: qemu\n * outcome: triple-fault\n * exit-code: 2 */\n", "exclude each other"),
])
def test_metadata_errors(text, problem):
    assert any(problem in e for e in meta(text).errors)


def test_metadata_stops_at_code():
    assert meta("int x;\n/* engines: qemu */\n").errors


def test_select_engines():
    assert select_engines([], env="") == list(guestlib.DEFAULT_ENGINES)
    assert select_engines([], env="bochs") == ["bochs"]
    assert select_engines(["qemu,bochs", "qemu"], env="vanderpool") == ["qemu", "bochs"]
    with pytest.raises(ValueError):
        select_engines(["kvm"])


def test_parse_report():
    r = parse_report("noise\r\nPASS: x\r\nFAIL: y: got 1: want 2\nSKIP: z: why\n"
                     "SUMMARY: 1 passed, 1 failed, 1 skipped\n")
    assert r.passes == ["x"]
    assert r.fails == [("y", "got 1: want 2")]
    assert r.skips == [("z", "why")]
    assert r.summary == (1, 1, 1)


def run_of(engine, serial, status=1, timed_out=False):
    return Run(engine, ["x"], status, timed_out, serial, "/tmp/x.log")


def test_judge_pass():
    t = meta("/* engines: qemu */")
    assert judge(t, run_of("qemu", GOOD)).problems == []
    assert judge(t, run_of("bochs", GOOD, status=1)).problems == []


def test_judge_guest_fail_lines_are_shown():
    t = meta("/* engines: qemu */")
    v = judge(t, run_of("qemu", "FAIL: x: got 1\nSUMMARY: 0 passed, 1 failed, 0 skipped\n", 3))
    assert v.problems == ["FAIL: x: got 1"]


@pytest.mark.parametrize("serial,status,timed_out,problem", [
    (GOOD, 3, False, "exit status 3"),
    (GOOD, 6, False, "status 6: triple fault"),
    ("PASS: a\n", 1, False, "no SUMMARY"),
    ("PASS: a\nSUMMARY: 2 passed, 0 failed, 0 skipped\n", 1, False, "SUMMARY says"),
    (GOOD + GOOD, 1, False, "2 SUMMARY lines"),
    (GOOD, None, True, "timeout"),
])
def test_judge_problems(serial, status, timed_out, problem):
    t = meta("/* engines: vanderpool */")
    v = judge(t, run_of("vanderpool", serial, status, timed_out))
    assert any(problem in p for p in v.problems), v.problems


def test_judge_exit_code_and_expect_fail():
    t = meta("/* engines: qemu\n * exit-code: 42\n */")
    assert judge(t, run_of("qemu", GOOD, 85)).problems == []
    assert judge(t, run_of("qemu", GOOD, 1)).problems
    t = meta("/* engines: qemu\n * expect-fail: d */")
    fail = "FAIL: d: on purpose\nSUMMARY: 0 passed, 1 failed, 0 skipped\n"
    assert judge(t, run_of("qemu", fail, 3)).problems == []
    assert judge(t, run_of("qemu", fail, 1)).problems
    assert any("expected the check 'd' to FAIL" in p
               for p in judge(t, run_of("qemu", GOOD, 1)).problems)


def test_judge_triple_fault_outcome():
    t = meta("/* engines: vanderpool qemu bochs\n * outcome: triple-fault\n */")
    assert t.errors == [] and t.outcome == "triple-fault"
    assert judge(t, run_of("vanderpool", GOOD, 6)).problems == []
    assert judge(t, run_of("qemu", GOOD, 0)).problems == []
    bochs = run_of("bochs", GOOD, 1)
    bochs.engine_note = "triple fault (Bochs: ...)"
    assert judge(t, bochs).problems == []
    assert any("expected 6" in p for p in judge(t, run_of("vanderpool", GOOD, 1)).problems)
    assert any("expected 0" in p for p in judge(t, run_of("qemu", GOOD, 1)).problems)
    assert any("did not end in a triple fault" in p
               for p in judge(t, run_of("bochs", GOOD, 1)).problems)
    # Without the key a triple fault is a problem, as before.
    plain = meta("/* engines: bochs */")
    assert any("triple" in p for p in judge(plain, bochs).problems)


def test_judge_all_skipped():
    t = meta("/* engines: qemu */")
    v = judge(t, run_of("qemu", "SKIP: v: no VMX\nSUMMARY: 0 passed, 0 failed, 1 skipped\n"))
    assert v.problems == [] and v.skipped == "v: no VMX"


def test_every_guest_test_has_valid_metadata():
    tests = guestlib.discover()
    assert tests, "no guest tests found"
    bad = ["%s: %s" % (t.source, "; ".join(t.errors)) for t in tests if t.errors]
    assert not bad, "\n".join(bad)
