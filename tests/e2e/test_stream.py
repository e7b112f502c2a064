# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""record writes a snapshot's traces to its file as it reads them from the
live table, so --push no longer gets the snapshot whole: it gets per-stack
sums made on the way (every trace when sampled, each scaled by its own
size). `go tool pprof` must read the pushed profile exactly as the one
`export` makes from the file, in both domains and sampled."""
import os
import subprocess

from hs import Recorder, prog, tmpdir
from test_export import export_pprof, go_env, pprof_top
from test_push import Receiver, check_request, no_proxy_env


def pushed_and_exported(name, args):
    """record -- gt NAME with --push: (pushed profile, exported profile)."""
    rcv = Receiver()
    try:
        out = os.path.join(tmpdir(), "s.hsnap")
        rec = Recorder(["-o", out, "--push", rcv.url] + args +
                       ["--", prog(name)], stdout=subprocess.PIPE,
                       env=no_proxy_env())
        rc = rec.finish(timeout=120)
        assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
        assert len(rcv.requests) == 1, len(rcv.requests)
        _, _, pb = check_request(rcv.requests[0], name + "{}")
    finally:
        rcv.close()
    pushed = os.path.join(tmpdir(), "pushed.pb.gz")
    with open(pushed, "wb") as f:
        f.write(pb)
    return pushed, export_pprof(out)[0]


def same_profiles(pushed, exported):
    """Both profiles' lines and totals, by bytes and by blocks; returns the
    pushed one's rows by bytes."""
    env = go_env()
    rows = None
    for index in ("inuse_space", "inuse_objects"):
        got = pprof_top(env, "-lines", "-sample_index=" + index, pushed)
        want = pprof_top(env, "-lines", "-sample_index=" + index, exported)
        assert got == want, (index, got, want)
        assert got[0] > 0, got
        rows = rows or got[2]
    return rows


def test_pushed_sums_hold_both_domains():
    rows = same_profiles(*pushed_and_exported("gt_mmap", []))
    names = " ".join(name for flat, _, name in rows if flat)
    assert "gt_mmap.c" in names, rows


def test_pushed_sampled_snapshot_keeps_each_trace_scale():
    same_profiles(*pushed_and_exported("gt_sample",
                                       ["--sample-bytes", "65536"]))
