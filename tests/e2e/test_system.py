# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""record -a: every process, also those started later and those in another
mount namespace with an allocator file of their own."""
import os
import shutil
import subprocess

from hs import HEAPSNAP, Recorder, Target, heapsnap_json, prog, run, tmpdir

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


def rows(snap, pid, source):
    top = heapsnap_json("top", snap, "--by", "lineno", "-n", "0", "--pid",
                        str(pid), "--include", "*/" + source)
    return {(os.path.basename(st["traceback"][0]["file"]),
             st["traceback"][0]["line"]): (st["traceback"][0]["function"],
                                           st["size"], st["count"])
            for st in top["stats"]}


def want(gt):
    return {(os.path.basename(f), l): v for (f, l), v in gt.items()}


def contained_target(libc_copy):
    """gt_basic in its own mount namespace, where libc is another file."""
    script = ('mount --bind %s %s && exec %s wait' %
              (libc_copy, LIBC, prog("gt_basic")))
    return Target("gt_basic", argv=["unshare", "-m", "sh", "-c", script])


def test_processes_started_after_attach_one_in_a_container():
    d = tmpdir()
    out = os.path.join(d, "all.hsnap")
    libc_copy = os.path.join(d, "libc-copy.so.6")
    shutil.copy(LIBC, libc_copy)
    rec = Recorder(["-a", "-v", "-o", out])
    rec.err.wait_for(r"^heapsnap: tracing every process")
    plain = Target("gt_basic")
    boxed = contained_target(libc_copy)
    # the container's libc is a file of its own: probed once seen
    rec.err.wait_for(r"for every process \(first seen in pid %d\)" %
                     boxed.pid)
    for t in (plain, boxed):
        t.next_phase(1)
        t.next_phase(2)
    rec.snapshot(1)
    for t in (plain, boxed):
        got = rows(out + ".1", t.pid, "gt_basic.c")
        assert got == want(t.gt()[2]), "pid %d:\n got  %s\n want %s" % (
            t.pid, sorted(got.items()), sorted(want(t.gt()[2]).items()))
    by_proc = heapsnap_json("top", out + ".1", "--by", "process", "-n", "0")
    pids = {st["pid"] for st in by_proc["stats"]}
    assert {plain.pid, boxed.pid} <= pids, pids
    # a process that is gone leaves nothing live behind, only its totals
    assert plain.finish() == 0
    rec.err.wait_for(r"^heapsnap: pid %d exited: forgotten" % plain.pid)
    rec.snapshot(2)
    info = heapsnap_json("info", out + ".2")
    gone = [p for p in info["processes"] if p["pid"] == plain.pid]
    assert len(gone) == 1 and gone[0]["exited"], info["processes"]
    assert (gone[0]["current"], gone[0]["count"]) == (0, 0), gone
    assert rows(out + ".2", plain.pid, "gt_basic.c") == {}
    assert boxed.pid in info["pids"], info["pids"]
    assert boxed.finish() == 0
    assert rec.stop() == 0, rec.stderr()


def test_a_short_job_that_exited_keeps_its_totals():
    """A process that ran and exited between two snapshots of -a is in
    the next ones, exited, with nothing live, and the allocations and peak
    it had: those of the same program recorded on its own."""
    d = tmpdir()
    ref = os.path.join(d, "ref.hsnap")
    r = Recorder(["-o", ref, "--", prog("gt_basic")],
                 stdout=subprocess.DEVNULL)
    assert r.finish() == 0, r.stderr()
    want = heapsnap_json("info", ref)
    out = os.path.join(d, "all.hsnap")
    rec = Recorder(["-a", "-v", "-o", out])
    rec.err.wait_for(r"^heapsnap: tracing every process")
    # pids are reused: the job's must be one no process that exited during
    # the recording had
    for _ in range(10):
        before = "\n".join(rec.err.rest(timeout=1))
        job = subprocess.Popen([prog("gt_basic")], stdout=subprocess.DEVNULL)
        assert job.wait() == 0
        pid = job.pid
        if "pid %d exited" % pid not in before:
            break
    rec.err.wait_for(r"^heapsnap: pid %d exited: forgotten" % pid)
    rec.snapshot(1)
    assert rec.stop() == 0, rec.stderr()
    for snap in (out + ".1", out):
        info = heapsnap_json("info", snap)
        p = [p for p in info["processes"] if p["pid"] == pid]
        assert len(p) == 1 and p[0]["exited"], (snap, info["processes"])
        assert (p[0]["current"], p[0]["count"]) == (0, 0), p
        assert p[0]["peak"] == want["peak"], (p, want["peak"])
        top = heapsnap_json("top", snap, "--by", "process", "--pid",
                            str(pid))
        assert [(st["pid"], st["size"], st["count"], st["exited"],
                 st["allocs"], st["peak"]) for st in top["stats"]] == [
            (pid, 0, 0, True, want["totals"]["allocs"], want["peak"])], top
        text = run([HEAPSNAP, "top", snap, "--by", "process", "--pid",
                    str(pid)]).stdout
        assert "#1: pid %d (gt_basic) exited: peak " % pid in text, text
