# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Probe placement and attach mechanism change nothing but the cost: the
ground-truth programs give the same exact rows with probes moved or at +0,
with uprobe sessions or classic uprobe/uretprobe pairs, chosen or fallen
back to where the session program does not load."""
import os
import re
import subprocess

from hs import Recorder, Skip, assert_sites, parse_gt, prog, tmpdir

VARIANTS = [
    [],
    ["--probe-at-entry"],
    ["--classic-uprobes"],
    ["--classic-uprobes", "--probe-at-entry"],
]

PROGRAMS = [("gt_basic", "gt_basic.c", 2), ("gt_cxx", "gt_cxx.cc", 1),
            ("gt_threads", "gt_threads.c", 1), ("gt_dl", "gt_dl_lib.c", 1)]


def record(name, opts, env=None):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-v", "-o", out] + opts + ["--", prog(name)],
                   stdout=subprocess.PIPE, env=env)
    assert rec.finish() == 0, rec.stderr()
    return out, parse_gt(rec.out.rest()), rec.stderr()


def need_sessions():
    """The kernel's own BTF, not heapsnap, says whether it has uprobe
    sessions (heapsnap looks for the same kfunc)."""
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        if b"\0bpf_session_is_return\0" not in f.read():
            raise Skip("no uprobe sessions in this kernel (no "
                       "bpf_session_is_return): record attaches classic "
                       "uprobes")


def test_every_variant_gives_the_ground_truth():
    for opts in VARIANTS:
        for name, source, phase in PROGRAMS:
            snap, gt, _ = record(name, opts)
            try:
                assert_sites(snap, gt[phase], source)
            except AssertionError as e:
                raise AssertionError("%s %s: %s" % (name, opts, e))


def test_verbose_says_where_each_probe_sits_and_why():
    need_sessions()
    _, _, err = record("gt_basic", [])
    placed = {}
    for m in re.finditer(r"pid \d+: (\w+) \(\w+\) at \S+\+0x[0-9a-f]+, "
                         r"\+(\d+): (.*)", err):
        placed[m.group(1)] = (int(m.group(2)), m.group(3))
    assert placed["malloc"][0] == 0 and "emulated" in placed["malloc"][1]
    assert placed["free"][0] > 0 and "emulated" in placed["free"][1], placed
    assert "attaching with uprobe sessions" in err, err
    _, _, err = record("gt_basic", ["--probe-at-entry"])
    assert re.search(r"free \(free\) at \S+, \+0: --probe-at-entry", err), err


def test_sessions_that_do_not_load_fall_back_to_classic_uprobes():
    """The loader's test hook makes the session program fail to load, as on
    a kernel that refuses its kfuncs: record says so in one line, attaches
    classic uprobes and gives the exact rows."""
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        if b"bpf_session_is_return" not in f.read():
            raise Skip("this kernel has no uprobe sessions")
    env = dict(os.environ, HEAPSNAP_TEST_REFUSE_SESSIONS="1")
    warning = ("heapsnap: warning: uprobe sessions do not load on this "
               "kernel (Permission denied); using classic uprobes and "
               "uretprobes")
    for name, source, phase in PROGRAMS:
        out = os.path.join(tmpdir(), "s.hsnap")
        rec = Recorder(["-o", out, "--", prog(name)], stdout=subprocess.PIPE,
                       env=env)
        assert rec.finish() == 0, rec.stderr()
        err = rec.err.seen
        assert [l for l in err if "session" in l] == [warning], err
        assert all(l.startswith("heapsnap: ") for l in err), err
        assert_sites(out, parse_gt(rec.out.rest())[phase], source)
    _, _, err = record("gt_basic", [], env=env)
    assert "attaching with classic uprobes and uretprobes" in err, err
