# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""fork and exec in a traced process: a child is not traced unless asked,
its frees of inherited blocks leave the parent's data alone, and an exec
drops what the old image allocated."""
import os
import subprocess

from hs import Recorder, assert_sites, heapsnap_json, parse_gt, prog, tmpdir


def record(name, opts=()):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    return out, rec.out.rest()


def child_gt(lines):
    return parse_gt(["GT" + l[3:] for l in lines if l.startswith("CGT ")])


def test_exec_drops_the_old_image():
    snap, lines = record("gt_exec")
    gt = parse_gt(lines)
    top = assert_sites(snap, gt[2], "gt_basic.c")
    none = heapsnap_json("top", snap, "-n", "0", "--include", "*/gt_exec.c")
    assert none["stats"] == [], none
    info = heapsnap_json("info", snap)
    all_rows = heapsnap_json("top", snap, "-n", "0")
    assert info["current"] == all_rows["total"]["size"]
    assert info["count"] == all_rows["total"]["count"]
    t = info["totals"]
    assert t["allocs"] - t["frees"] == info["count"], (t, info["count"])
    assert top["total"]["count"] == sum(v[2] for v in gt[2].values())


def test_fork_child_is_not_traced_by_default():
    snap, lines = record("gt_fork")
    assert_sites(snap, parse_gt(lines)[1], "gt_fork.c")
    info = heapsnap_json("info", snap)
    assert len(info["processes"]) == 1
    assert info["lost"]["unknown_frees"] == 0, info["lost"]


def test_follow_forks_traces_the_child_as_its_own_process():
    snap, lines = record("gt_fork", ["--follow-forks"])
    parent, child = parse_gt(lines)[1], child_gt(lines)[1]
    both = dict(parent)
    both.update(child)
    assert_sites(snap, both, "gt_fork.c")
    info = heapsnap_json("info", snap)
    pids = [p["pid"] for p in info["processes"]]
    assert len(pids) == 2, info["processes"]
    # the child's free of an inherited block is its own unknown free; the
    # parent's block (line 18, in the ground truth above) stays live
    assert info["lost"]["unknown_frees"] == 1, info["lost"]
