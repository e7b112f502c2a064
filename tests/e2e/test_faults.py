# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Faults heapsnap must survive without harming the target or losing data
silently: the target exits, is killed or crashes mid-trace; the tracer itself
is killed; the live map fills; two tracers watch one process; and losses show
on the live status line."""
import json
import os
import pty
import re
import select
import signal
import subprocess
import time

from hs import (HEAPSNAP, Lines, Recorder, Target, assert_sites, heapsnap_json,
                parse_gt, prog, run, spawn, tmpdir)


def finish_ok(rec, timeout=60):
    rc = rec.finish(timeout=timeout)
    assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
    return rec.stderr()


def traced_pid(rec):
    m = rec.err.wait_for(r"^heapsnap: tracing pid (\d+)")
    return int(m.group(1))


def record_fault(mode):
    """record -- gt_fault MODE; kills the target itself for "hang"."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_fault"), mode],
                   stdout=subprocess.PIPE)
    pid = traced_pid(rec)
    rec.out.wait_for(r"^READY 1$")
    if mode == "hang":
        os.kill(pid, signal.SIGKILL)
    err = finish_ok(rec)
    return out, parse_gt(rec.out.rest()), pid, err


def test_cmd_target_exits_normally():
    out, gt, pid, err = record_fault("exit")
    assert "heapsnap: pid %d exited" % pid in err, err
    assert_sites(out, gt[1], "gt_fault.c")


def test_cmd_target_killed_by_sigkill():
    out, gt, pid, err = record_fault("hang")
    assert "heapsnap: pid %d was killed by signal 9" % pid in err, err
    assert_sites(out, gt[1], "gt_fault.c")
    info = heapsnap_json("info", out)
    assert info["processes"][0]["exited"] is True, info


def test_cmd_target_crashes_with_sigsegv():
    out, gt, pid, err = record_fault("segv")
    assert "heapsnap: pid %d was killed by signal 11" % pid in err, err
    assert_sites(out, gt[1], "gt_fault.c")
    # symbolized to the end: function names and the allocating lines
    top = heapsnap_json("top", out, "--by", "function", "-n", "0",
                        "--include", "*/gt_fault.c")
    assert [s["traceback"][0]["function"] for s in top["stats"]] == \
        ["allocate"], top


def record_pid_fault(mode):
    """record -p on gt_fault waiting at checkpoint 0, then MODE."""
    out = os.path.join(tmpdir(), "s.hsnap")
    t = Target("gt_fault", mode)
    rec = Recorder(["-p", str(t.pid), "-o", out])
    rec.wait_attached()
    t.p.stdin.write("go\n")
    t.p.stdin.flush()
    t.out.wait_for(r"^READY 1$")
    if mode == "hang":
        t.p.kill()
    rc = t.p.wait(timeout=30)
    err = finish_ok(rec)
    assert "heapsnap: pid %d exited" % t.pid in err, err
    return out, t.gt(), rc


def test_pid_target_killed_by_sigkill():
    out, gt, rc = record_pid_fault("hang")
    assert rc == -signal.SIGKILL, rc
    assert_sites(out, gt[1], "gt_fault.c")


def test_pid_target_crashes_with_sigsegv():
    out, gt, rc = record_pid_fault("segv")
    assert rc == -signal.SIGSEGV, rc
    assert_sites(out, gt[1], "gt_fault.c")


def bpf_state():
    """Every BPF link and every perf event with a BPF program, by id."""
    links = json.loads(run(["bpftool", "--json", "link", "show"]).stdout)
    perf = json.loads(run(["bpftool", "--json", "perf", "show"]).stdout)
    return ({l["id"] for l in links},
            {(p["pid"], p["fd"], p["prog_id"]) for p in perf})


def links_of(pid):
    """The ids of the BPF links process pid holds open (other tracers on
    the host, such as parallel test runs, are not counted)."""
    ids = set()
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("link_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def test_tracer_killed_leaves_no_probe_and_the_target_runs_on():
    """SIGKILL to heapsnap in the middle of -i snapshots: its probes go with
    its file descriptors, the target keeps allocating and exits 0, and the
    last numbered snapshot on disk is whole. Only a temporary file that was
    being written at the moment of the kill may remain (.NAME.XXXXXXXX.tmp;
    it is never renamed, so it never hides a good snapshot)."""
    before = bpf_state()
    d = tmpdir()
    out = os.path.join(d, "s.hsnap")
    t = spawn([prog("gt_churn"), "0"], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE)
    lines = Lines(t.stdout)
    lines.wait_for(r"^READY 0$")
    rec = Recorder(["-p", str(t.pid), "-o", out, "-i", "0.3"])
    rec.wait_attached()
    during = bpf_state()
    mine = (links_of(rec.p.pid),
            {e for e in during[1] - before[1] if e[0] == rec.p.pid})
    assert mine[0] and mine[0] <= during[0], \
        "no link of the tracer was seen while recording: %s" % (mine,)
    rec.err.wait_for(r"^heapsnap: wrote \S+\.3:")
    rec.p.kill()
    assert rec.p.wait(timeout=30) == -signal.SIGKILL

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = bpf_state()
        if not (mine[0] & now[0]) and not (mine[1] & now[1]):
            break
        time.sleep(0.2)
    assert not mine[0] & now[0], "links left: %s" % (mine[0] & now[0])
    assert not mine[1] & now[1], "perf events left: %s" % (mine[1] & now[1])

    # the target runs on: it keeps making steps, then exits 0
    steps = int(lines.wait_for(r"^STEPS (\d+)$").group(1))
    later = int(lines.wait_for(r"^STEPS (\d+)$").group(1))
    assert later > steps, (steps, later)
    assert t.poll() is None, "the target died with the tracer"
    t.stdin.write("stop\n")
    t.stdin.flush()
    lines.wait_for(r"^READY 1$")
    assert t.wait(timeout=30) == 0

    names = sorted(os.listdir(d))
    numbered = sorted((int(n.rsplit(".", 1)[1]), n) for n in names
                      if re.fullmatch(r"s\.hsnap\.\d+", n))
    assert numbered and numbered[-1][0] >= 3, names
    tmps = [n for n in names if n.endswith(".tmp")]
    assert len(tmps) <= 1 and all(
        re.fullmatch(r"\.s\.hsnap\.[0-9a-f]{8}\.tmp", n) for n in tmps), names
    assert set(names) <= {n for _, n in numbered} | set(tmps), names
    for _, n in numbered:
        info = heapsnap_json("info", os.path.join(d, n))
        assert info["count"] > 0 and info["processes"][0]["pid"] == t.pid


def test_full_live_map_is_counted_and_reported():
    """--max-live 100 on a program that keeps 340 blocks: 40 at one line
    first (they fit), then 300 at another. What fits is exact; what does not
    is counted, and every output says so."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--max-live", "100", "--",
                    prog("gt_mapfull")], stdout=subprocess.PIPE)
    err = finish_ok(rec)
    gt = parse_gt(rec.out.rest())[1]
    first = {k: v for k, v in gt.items() if v[0] == "first"}
    second = [v for v in gt.values() if v[0] == "second"]
    assert second == [("second", 60000, 300)], gt

    info = heapsnap_json("info", out)
    lost = info["lost"]["map_full"]
    assert lost > 0, info
    m = re.search(r"heapsnap: warning: (\d+) blocks were not recorded: "
                  r"the live map was full \(raise --max-live\)", err)
    assert m and int(m.group(1)) == lost, err
    assert info["count"] == 100, info
    warning = "lost data: %d blocks not recorded (map full)" % lost
    assert any(warning in w for w in info["warnings"]), info

    # the blocks that got in: the first line exactly, the second in part
    top = heapsnap_json("top", out, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_mapfull.c")
    rows = {(os.path.basename(s["traceback"][0]["file"]),
             s["traceback"][0]["line"]): (s["traceback"][0]["function"],
                                          s["size"], s["count"])
            for s in top["stats"]}
    for key, want in first.items():
        assert rows.pop((os.path.basename(key[0]), key[1])) == want, rows
    [(fn, size, count)] = rows.values()
    assert fn == "second" and size == 200 * count, rows
    assert count + lost == 300, (count, lost)

    text = run([HEAPSNAP, "info", out]).stdout
    assert "map full %d" % lost in text, text
    assert "warning: this snapshot " + warning in text, text
    for args in (["top", out], ["top", out, "--by", "traceback"],
                 ["diff", out, out]):
        first_line = run([HEAPSNAP] + args).stdout.splitlines()[0]
        assert first_line.startswith("warning: ") and warning in first_line, \
            (args, first_line)
        js = heapsnap_json(*args)
        assert js["warnings"] and all(warning in w
                                      for w in js["warnings"]), js
    diff = heapsnap_json("diff", out, out)
    assert len(diff["warnings"]) == 2, diff["warnings"]


def test_two_tracers_on_one_process_agree():
    d = tmpdir()
    outs = [os.path.join(d, "a.hsnap"), os.path.join(d, "b.hsnap")]
    t = Target("gt_basic")
    recs = [Recorder(["-p", str(t.pid), "-o", o]) for o in outs]
    for r in recs:
        r.wait_attached()
    for n in (1, 2):
        t.next_phase(n)
        for r in recs:
            r.snapshot(n)
    assert t.finish() == 0
    for r in recs:
        finish_ok(r)
    gt = t.gt()
    tops = []
    for o in outs:
        assert_sites(o + ".1", gt[1], "gt_basic.c")
        assert_sites(o + ".2", gt[2], "gt_basic.c")
        tops.append(assert_sites(o, gt[2], "gt_basic.c"))
    assert tops[0]["stats"] == tops[1]["stats"], tops
    infos = [heapsnap_json("info", o) for o in outs]
    for key in ("current", "count", "totals", "lost"):
        assert infos[0][key] == infos[1][key], (key, infos)


def test_status_line_on_a_terminal_shows_losses():
    """On a terminal, record shows a live status line; with a full map its
    "lost N" counts what was dropped."""
    out = os.path.join(tmpdir(), "s.hsnap")
    master, slave = pty.openpty()
    p = spawn([HEAPSNAP, "record", "-o", out, "--max-live", "100", "--",
               prog("gt_mapfull"), "3"], stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    data = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1)
            if not r:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            data += chunk
    finally:
        os.close(master)
    assert p.wait(timeout=30) == 0, data
    text = data.decode(errors="replace")
    status = [s for s in re.split(r"[\r\n]", text)
              if s.startswith("\x1b[Kheapsnap: live ")]
    assert status, "no status line in %r" % text
    lost = [int(m.group(1)) for s in status
            for m in [re.search(r", lost (\d+)", s)] if m]
    assert lost and max(lost) > 0, status
    info = heapsnap_json("info", out)
    assert max(lost) == info["lost"]["map_full"], (status, info["lost"])
