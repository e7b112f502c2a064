# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""A snapshot is the live set of one moment, with the counters of that
moment: info's current and count are what its traces add up to, exactly,
also for snapshots taken while the target allocates and frees as fast as
it can (gt_churn: a pool of N blocks, each step frees one and allocates
another, so that N - 1 or N of them are live at any moment)."""
import os
import subprocess
import time

from hs import Recorder, heapsnap_json, parse_gt, prog, tmpdir

N = 2000
SNAPSHOTS = 6


def check_self_consistent(snap):
    """info's figures are those of the traces, process by process."""
    info = heapsnap_json("info", snap)
    top = heapsnap_json("top", snap, "-n", "0")
    assert (info["current"], info["count"]) == (
        top["total"]["size"], top["total"]["count"]), (snap, info, top)
    domains = info["domains"].values()
    assert sum(d["current"] for d in domains) == info["current"], info
    assert sum(d["count"] for d in domains) == info["count"], info
    by_proc = heapsnap_json("top", snap, "--by", "process", "-n", "0")
    traced = {st["pid"]: (st["size"], st["count"]) for st in by_proc["stats"]}
    for p in info["processes"]:
        assert (p["current"], p["count"]) == traced.get(p["pid"], (0, 0)), (
            snap, p, traced)
        assert p["peak"] >= p["current"], p
    assert info["peak"] >= info["current"] and \
        info["interval_peak"] >= info["current"], info
    assert info["global"]["in_flight_lost"] == 0, info["global"]
    return info


def pool_blocks(snap, pool_line):
    """The live blocks of the pool (the churning lines) and of the pool
    array's own line."""
    top = heapsnap_json("top", snap, "-n", "0", "--include", "*/gt_churn.c")
    churn = pool = 0
    for st in top["stats"]:
        if st["traceback"][0]["line"] == pool_line:
            pool += st["count"]
        else:
            churn += st["count"]
    return churn, pool


def test_snapshots_under_load_are_one_moment():
    out = os.path.join(tmpdir(), "churn.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_churn"), "0", str(N)],
                   stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    rec.wait_attached()
    rec.out.wait_for(r"^STEPS \d+")  # a second of churning, every step traced
    for n in range(1, SNAPSHOTS + 1):
        rec.snapshot(n)
        time.sleep(0.2)
    rec.p.stdin.write("stop\n")
    rec.p.stdin.flush()
    assert rec.finish() == 0, rec.stderr()
    gt = parse_gt(rec.out.rest())[1]
    pool_line = next(l for (f, l), v in gt.items() if v[0] == "main")
    for n in range(1, SNAPSHOTS + 1):
        snap = "%s.%d" % (out, n)
        check_self_consistent(snap)
        churn, pool = pool_blocks(snap, pool_line)
        assert pool == 1 and churn in (N - 1, N), (snap, churn, pool)
    # the final snapshot, of a process that exited: the ground truth
    check_self_consistent(out)
    assert pool_blocks(out, pool_line) == (N, 1)
