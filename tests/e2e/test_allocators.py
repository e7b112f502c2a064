# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Allocator discovery: with no flags, heapsnap probes the allocator each
process uses (glibc, a malloc in a static executable, jemalloc, tcmalloc,
mimalloc) and its own entry points; exact sizes and counts per line against
the ground truth the programs print."""
import os
import subprocess

from hs import (HEAPSNAP, Recorder, Skip, Target, assert_sites, heapsnap_json,
                parse_gt, prog, run, spawn, tmpdir)

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PACKAGE = {"jemalloc": "libjemalloc-dev", "tcmalloc": "libgoogle-perftools-dev",
           "mimalloc": "libmimalloc-dev"}


def need(name):
    if not os.path.exists(prog(name)):
        pkg = next((p for k, p in PACKAGE.items() if k in name), name)
        raise Skip("%s was not built: is %s installed?" % (name, pkg))


def record_cmd(name, opts=(), env=None):
    """Runs a program under record -- CMD; returns (snapshot, GT, stderr)."""
    need(name)
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)],
                   stdout=subprocess.PIPE, env=env)
    rc = rec.finish(timeout=120)
    assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
    return out, parse_gt(rec.out.rest()), rec.stderr()


def record_phases(name, opts=(), env=None):
    """Attaches with -p to a waiting program; snapshot N after phase N."""
    need(name)
    out = os.path.join(tmpdir(), "s.hsnap")
    t = Target(name, env=env)
    rec = Recorder(["-p", str(t.pid), "-o", out] + list(opts))
    rec.wait_attached()
    for n in (1, 2):
        t.next_phase(n)
        rec.snapshot(n)
    assert t.finish() == 0
    rc = rec.finish()
    assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
    return out, t.gt(), rec.stderr()


def assert_no_losses(snap):
    """Nothing counted twice: a free seen twice would be an unknown free
    (tcmalloc's sized free hands blocks on to tc_free, for one)."""
    lost = heapsnap_json("info", snap)["lost"]
    assert all(v == 0 for v in lost.values()), lost


def check_cmd(name, source, opts=()):
    snap, gt, err = record_cmd(name, opts)
    assert_sites(snap, gt[2], source)
    assert_no_losses(snap)
    return err


def check_phases(name, source, opts=()):
    base, gt, err = record_phases(name, opts)
    assert_sites(base + ".1", gt[1], source)
    assert_sites(base + ".2", gt[2], source)
    assert_sites(base, gt[2], source)
    assert_no_losses(base)
    return err


def test_jemalloc_cmd():
    err = check_cmd("gt_jemalloc", "gt_jemalloc.cc", ["-v"])
    assert "libjemalloc.so.2 (jemalloc; loads it; serves malloc;" in err, err


def test_jemalloc_pid_by_phase():
    err = check_phases("gt_jemalloc", "gt_jemalloc.cc", ["-v"])
    assert "libjemalloc.so.2 (jemalloc; maps it; serves malloc;" in err, err


def test_jemalloc_prefixed_beside_glibc():
    """je_ names go to jemalloc, plain malloc to glibc: both are traced."""
    err = check_cmd("gt_jemalloc_prefix", "gt_jemalloc_prefix.c", ["-v"])
    assert "libjemalloc_je.so (jemalloc; loads it;" in err, err
    assert "libc.so.6 (glibc; loads it; serves malloc;" in err, err


def test_tcmalloc_cmd():
    err = check_cmd("gt_tcmalloc", "gt_tcmalloc.cc", ["-v"])
    assert "libtcmalloc.so.4 (tcmalloc; loads it; serves malloc;" in err, err


def test_tcmalloc_pid_by_phase():
    check_phases("gt_tcmalloc", "gt_tcmalloc.cc")


def test_tcmalloc_minimal_cmd():
    err = check_cmd("gt_tcmalloc_minimal", "gt_tcmalloc.cc", ["-v"])
    assert "libtcmalloc_minimal.so.4 (tcmalloc; loads it; serves malloc;" \
        in err, err


def test_mimalloc_cmd():
    err = check_cmd("gt_mimalloc", "gt_mimalloc.cc", ["-v"])
    assert "libmimalloc.so.2 (mimalloc; loads it; serves malloc;" in err, err


def test_mimalloc_pid_by_phase():
    check_phases("gt_mimalloc", "gt_mimalloc.cc")


def test_mimalloc_classic_uprobes():
    """mimalloc's entry points jump to one another: with uretprobes the
    nested returns chain through one trampoline, and still count once."""
    check_cmd("gt_mimalloc", "gt_mimalloc.cc", ["--classic-uprobes"])


def test_static_glibc_cmd():
    """gcc -static: malloc is found in the executable itself."""
    err = check_cmd("gt_basic_static", "gt_basic.c", ["-v"])
    assert "gt_basic_static (its executable; defines malloc; serves malloc;" \
        in err, err
    assert "libc.so" not in err, err


def test_static_glibc_pid_by_phase():
    err = check_phases("gt_basic_static", "gt_basic.c", ["-v"])
    assert "gt_basic_static (its executable; defines malloc; serves malloc;" \
        in err, err


def test_preloaded_jemalloc_serves_malloc():
    """LD_PRELOAD: the dynamic linker's own list says what will serve."""
    need("gt_jemalloc")
    env = dict(os.environ, LD_PRELOAD=os.path.join(LIBDIR, "libjemalloc.so.2"))
    snap, gt, err = record_cmd("gt_basic", ["-v"], env=env)
    assert "libjemalloc.so.2 (jemalloc; loads it; serves malloc;" in err, err
    assert_sites(snap, gt[2], "gt_basic.c")
    base, gt, err = record_phases("gt_basic", ["-v"], env=env)
    assert "libjemalloc.so.2 (jemalloc; maps it; serves malloc;" in err, err
    assert_sites(base + ".2", gt[2], "gt_basic.c")


def test_lib_option_overrides_discovery():
    """--lib libc.so.6 on a jemalloc program: only glibc is probed, so none
    of the program's own blocks (all jemalloc's) are seen."""
    snap, gt, err = record_cmd("gt_jemalloc", ["-v", "--lib",
                                               "/lib/x86_64-linux-gnu/libc.so.6"])
    assert "(--lib;" in err and "libjemalloc" not in err, err
    top = heapsnap_json("top", snap, "-n", "0", "--include", "*/gt_jemalloc.cc")
    assert top["stats"] == [], top["stats"]
    assert gt[2], gt
