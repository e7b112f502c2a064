# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""What the analysis commands say around their figures: after an attach,
frees of blocks allocated before tracing began are information, not lost
data; a filter that matches nothing says which, in one line; a function's
row names the function and its file, never one of its lines, in top and
diff alike."""
import os
import re
import subprocess

from hs import HEAPSNAP, Recorder, Target, heapsnap_json, prog, run, tmpdir


def attach_after_phase1():
    """gt_basic attached after its first phase: its second frees 6 blocks
    and reallocates 1 that tracing never saw allocated. FILE.1 before the
    second phase, FILE after it."""
    out = os.path.join(tmpdir(), "attach.hsnap")
    t = Target("gt_basic")
    t.next_phase(1)
    rec = Recorder(["-p", str(t.pid), "-o", out])
    rec.wait_attached()
    rec.snapshot(1)
    t.next_phase(2)
    gt = t.gt()[2]
    assert rec.stop() == 0, rec.stderr()
    return out, gt, t, rec


def test_frees_of_blocks_from_before_an_attach_are_no_loss():
    out, gt, t, rec = attach_after_phase1()
    assert ("heapsnap: 7 frees were of blocks allocated before tracing "
            "began (expected: tracing began after the process did)"
            in rec.err.seen), rec.stderr()
    assert "warning" not in rec.stderr(), rec.stderr()
    for argv in (["top", out], ["diff", out + ".1", out],
                 ["top", out, "--by", "traceback"]):
        r = run([HEAPSNAP] + argv)
        assert "lost data" not in r.stdout + r.stderr, (argv, r)
        j = heapsnap_json(*argv)
        assert j["warnings"] == [], (argv, j["warnings"])
    info = heapsnap_json("info", out)
    assert info["early_frees"] == 7, info
    assert info["lost"]["unknown_frees"] == 0, info["lost"]
    assert info["warnings"] == [], info["warnings"]
    text = run([HEAPSNAP, "info", out]).stdout
    assert ("\nearly frees:      7 frees were of blocks allocated before "
            "tracing began (expected: tracing began after the process "
            "did)\n") in text, text
    assert "warning" not in text, text


def test_a_command_traced_from_its_start_has_no_early_frees():
    out = os.path.join(tmpdir(), "cmd.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_basic")],
                   stdout=subprocess.DEVNULL)
    assert rec.finish() == 0, rec.stderr()
    info = heapsnap_json("info", out)
    assert info["early_frees"] == 0 and info["lost"]["unknown_frees"] == 0
    assert "early frees" not in run([HEAPSNAP, "info", out]).stdout
    assert "before tracing began" not in rec.stderr(), rec.stderr()


def empty_top(*argv):
    """top with filters that keep nothing: its lines, and its JSON hints."""
    r = run([HEAPSNAP, "top"] + list(argv))
    lines = r.stdout.splitlines()
    assert lines[:2] == ["Top 0 lines", "Total: 0 B in 0 blocks"], r.stdout
    assert len(lines) == 3 and lines[2].startswith("hint: "), r.stdout
    hint = heapsnap_json("top", *argv)["hint"]
    assert hint == lines[2][len("hint: "):], (hint, lines)
    return lines[2]


def test_filters_that_match_nothing_say_which():
    out, gt, t, rec = attach_after_phase1()
    cmd = "gt_basic wait"
    assert empty_top(out, "--comm", "nginx*") == (
        "hint: no process matched --comm 'nginx*'; the snapshot has pid "
        "%d (%s)" % (t.pid, cmd))
    assert empty_top(out, "--pid", "1,2") == (
        "hint: no process matched --pid 1,2; the snapshot has pid %d (%s)"
        % (t.pid, cmd))
    assert empty_top(out, "--include", "gt_basic.c") == (
        "hint: no frame matched --include 'gt_basic.c'; patterns match "
        "the whole path: '*/gt_basic.c'?")
    assert empty_top(out, "--include", "*/gt_basic.c:9999") == (
        "hint: no frame matched --include '*/gt_basic.c:9999'")
    assert empty_top(out, "--include", "*/libc_start_call_main.h") == (
        "hint: no most recent frame matched --include: --all-frames tests "
        "every frame")
    assert empty_top(out, "--domain", "python") == (
        "hint: no trace is of the python domain")
    # what the hint proposes keeps something
    assert heapsnap_json("top", out, "--include", "*/gt_basic.c")["stats"]
    # diff says it too; a filter that keeps something has no hint
    d = run([HEAPSNAP, "diff", out + ".1", out, "--comm", "x"]).stdout
    assert d.splitlines()[-1].startswith("hint: no process matched"), d
    r = run([HEAPSNAP, "top", out, "--comm", "gt_*"]).stdout
    assert "hint" not in r and "hint" not in heapsnap_json(
        "top", out, "--comm", "gt_*"), r


def test_function_rows_name_the_function_and_its_file():
    out = os.path.join(tmpdir(), "fn.hsnap")
    t = Target("gt_basic")
    rec = Recorder(["-p", str(t.pid), "-o", out])
    rec.wait_attached()
    t.next_phase(1)
    rec.snapshot(1)
    t.next_phase(2)
    gt = t.gt()[2]
    assert rec.stop() == 0, rec.stderr()
    src = next(f for (f, line) in gt if f.endswith("gt_basic.c"))
    want = {}
    for (f, line), (func, size, count) in gt.items():
        if f == src:
            s, c = want.get(func, (0, 0))
            want[func] = (s + size, c + count)
    top = heapsnap_json("top", out, "--by", "function", "-n", "0",
                        "--include", "*/gt_basic.c")
    got = {st["traceback"][0]["function"]: (st["size"], st["count"])
           for st in top["stats"]}
    assert got == want, (got, want)
    diff = heapsnap_json("diff", out + ".1", out, "--by", "function", "-n",
                         "0", "--include", "*/gt_basic.c")
    path = top["stats"][0]["traceback"][0]["file"]
    assert path.endswith("/gt_basic.c"), path
    for st in top["stats"] + diff["stats"]:
        fr = st["traceback"][0]
        assert (fr["file"], fr["line"], fr["offset"]) == (path, None, None), fr
    frames = lambda j: sorted(str(st["traceback"]) for st in j["stats"])
    assert frames(top) == frames(diff), (top, diff)
    text = run([HEAPSNAP, "top", out, "--by", "function", "--include",
                "*/gt_basic.c"]).stdout
    dtext = run([HEAPSNAP, "diff", out + ".1", out, "--by", "function",
                 "--include", "*/gt_basic.c"]).stdout
    for func in want:
        label = "%s (%s): " % (func, path)
        assert re.search(r"^#\d+: %s" % re.escape(label), text, re.M), text
        assert re.search(r"^#\d+: %s" % re.escape(label), dtext, re.M), \
            dtext
