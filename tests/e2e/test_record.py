# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""record -- CMD and record -p: exact sizes and counts per line, against the
ground truth the programs print."""
import os
import subprocess
import time

from hs import (HEAPSNAP, Recorder, Target, assert_sites, heapsnap_json,
                parse_gt, prog, run, tmpdir)


def record_cmd(name, *args, opts=()):
    """Runs a program under record -- CMD; returns (snapshot, its GT)."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)] + list(args),
                   stdout=subprocess.PIPE)
    rc = rec.finish(timeout=120)
    assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
    gt = parse_gt(rec.out.rest())
    return out, gt


def record_phases(name, phases, pause=0):
    """Attaches to a waiting program with -p, takes snapshot N after each
    phase N by SIGUSR1, pause seconds apart, then lets it exit. Returns
    (base path, GT)."""
    out = os.path.join(tmpdir(), "s.hsnap")
    t = Target(name)
    rec = Recorder(["-p", str(t.pid), "-o", out])
    rec.wait_attached()
    for n in range(1, phases + 1):
        t.next_phase(n)
        rec.snapshot(n)
        time.sleep(pause)
    assert t.finish() == 0
    rc = rec.finish()
    assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
    return out, t.gt()


def test_cmd_every_allocator_function():
    snap, gt = record_cmd("gt_basic")
    assert_sites(snap, gt[2], "gt_basic.c")


def test_pid_every_allocator_function_by_phase():
    base, gt = record_phases("gt_basic", 2)
    assert_sites(base + ".1", gt[1], "gt_basic.c")
    assert_sites(base + ".2", gt[2], "gt_basic.c")
    assert_sites(base, gt[2], "gt_basic.c")


def test_diff_between_phases_is_exact():
    base, gt = record_phases("gt_basic", 2)
    d = heapsnap_json("diff", base + ".1", base + ".2", "--by", "lineno",
                      "-n", "0", "--include", "*/gt_basic.c")
    got = {}
    for st in d["stats"]:
        fr = st["traceback"][0]
        got[(os.path.basename(fr["file"]), fr["line"])] = (
            st["size"], st["count"], st["size_diff"], st["count_diff"])
    want = {}
    for key in set(gt[1]) | set(gt[2]):
        _, b1, c1 = gt[1].get(key, (None, 0, 0))
        _, b2, c2 = gt[2].get(key, (None, 0, 0))
        want[(os.path.basename(key[0]), key[1])] = (b2, c2, b2 - b1, c2 - c1)
    assert got == want, "diff differs:\n got  %s\n want %s" % (
        sorted(got.items()), sorted(want.items()))
    order = [abs(s["size_diff"]) for s in d["stats"]]
    assert order == sorted(order, reverse=True), order


def test_cmd_two_threads_one_line():
    snap, gt = record_cmd("gt_threads")
    assert_sites(snap, gt[1], "gt_threads.c")


def test_pid_threads_started_after_attach():
    base, gt = record_phases("gt_threads", 1)
    assert_sites(base + ".1", gt[1], "gt_threads.c")


def test_cxx_new_is_attributed_to_its_line():
    snap, gt = record_cmd("gt_cxx")
    assert_sites(snap, gt[1], "gt_cxx.cc")


def test_full_traceback_on_frame_pointer_build():
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_tb")], stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    lines = rec.out.rest()
    want = [(f[1], int(f[2])) for f in (l.split() for l in lines)
            if f and f[0] == "TB"]
    top = heapsnap_json("top", out, "--by", "traceback", "-n", "0",
                        "--include", "*/gt_tb.c")
    assert len(top["stats"]) == 1, top
    st = top["stats"][0]
    assert (st["size"], st["count"]) == (4242, 1), st
    frames = st["traceback"]
    got = [(f["function"], f["line"]) for f in frames[:4]]
    assert got == want, "traceback %s, want %s" % (got, want)
    for f in frames[:4]:
        assert os.path.basename(f["file"]) == "gt_tb.c", f
        assert f["module"].endswith("/gt_tb"), f
    assert frames[4]["function"] is not None and "libc_start" in frames[4]["function"], frames[4]


def test_dlclosed_library_still_symbolizes():
    snap, gt = record_cmd("gt_dl")
    top = assert_sites(snap, gt[1], "gt_dl_lib.c")
    assert top["stats"][0]["traceback"][0]["module"].endswith("/libgtdl.so")


def test_info_totals_match_the_traces():
    snap, gt = record_cmd("gt_basic")
    info = heapsnap_json("info", snap)
    top = heapsnap_json("top", snap, "-n", "0")
    assert info["current"] == top["total"]["size"], (info, top["total"])
    assert info["count"] == top["total"]["count"], (info, top["total"])
    assert info["domains"]["heap"]["current"] == info["current"]
    assert info["lost"] == {"map_full": 0, "stack_failures": 0,
                            "unknown_frees": 0, "events": 0,
                            "stack_collisions": 0}, info["lost"]
    assert info["peak"] >= info["current"] > 0
    assert info["traceback_limit"] == 64
    assert info["command"].endswith("gt_basic")
    assert info["totals"]["allocs"] - info["totals"]["frees"] == info["count"]


def test_wrapper_option_attributes_to_the_callers():
    snap, gt = record_cmd("gt_wrap", opts=["--wrapper", "xmalloc"])
    assert_sites(snap, gt[1], "gt_wrap.c")


def test_without_wrapper_option_the_wrapper_is_frame_0():
    snap, gt = record_cmd("gt_wrap")
    top = heapsnap_json("top", snap, "--by", "function", "-n", "0",
                        "--include", "*/gt_wrap.c")
    rows = [(st["traceback"][0]["function"], st["size"], st["count"])
            for st in top["stats"]]
    assert rows == [("xmalloc", 6500, 3)], rows


def test_lookup_finds_the_block_containing_an_address():
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--wrapper", "xmalloc", "--",
                    prog("gt_wrap")], stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    f = [l.split() for l in rec.out.rest() if l.startswith("ADDR ")][0]
    line, addr = int(f[1]), int(f[2], 16)
    r = heapsnap_json("lookup", out, hex(addr + 2499))
    blk = r["blocks"]
    assert len(blk) == 1 and blk[0]["size"] == 2500, r
    fr = blk[0]["traceback"][0]
    assert (os.path.basename(fr["file"]), fr["line"], fr["function"]) == (
        "gt_wrap.c", line, "main"), fr
    miss = run([HEAPSNAP, "lookup", out, hex(addr + 2500)], check=False)
    assert miss.returncode == 1 and "no live block" in miss.stdout, miss


def test_million_live_blocks():
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--max-live", "1100000", "--",
                    prog("gt_many"), "1000000"], stdout=subprocess.PIPE)
    assert rec.finish(timeout=300) == 0, rec.stderr()
    # stderr is a pipe: no progress line (test_progress.py has the terminal)
    assert "\x1b" not in rec.stderr() and "collecting" not in rec.stderr(), \
        rec.stderr()
    top = heapsnap_json("top", out, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_many.c")
    got = sorted((st["size"], st["count"]) for st in top["stats"])
    assert got == [
        (4000000, 250000), (8000000, 1), (8000000, 250000),
        (12000000, 250000), (16000000, 250000)], got
    info = heapsnap_json("info", out)
    assert info["lost"]["map_full"] == 0
