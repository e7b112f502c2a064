# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""No losses at scale, with map sizes set by options: ten million live
blocks, and a quarter of a million distinct stacks; and the tracer's own
memory stays small however many blocks a snapshot holds."""
import os
import re
import subprocess

from hs import Recorder, heapsnap_json, prog, spawn, tmpdir


def record(args, cmd, timeout=600):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + args + ["--"] + cmd, stdout=subprocess.PIPE)
    assert rec.finish(timeout=timeout) == 0, rec.stderr()
    return out


def no_losses(info):
    lost = dict(info["lost"])
    assert lost == {"map_full": 0, "stack_failures": 0, "unknown_frees": 0,
                    "events": 0, "stack_collisions": 0}, lost


def test_ten_million_live_blocks():
    snap = record(["--max-live", "10100000"],
                  [prog("gt_many"), "10000000"])
    info = heapsnap_json("info", snap)
    no_losses(info)
    top = heapsnap_json("top", snap, "-n", "0", "--include", "*/gt_many.c")
    got = sorted((st["size"], st["count"]) for st in top["stats"])
    assert got == [(40000000, 2500000), (80000000, 1), (80000000, 2500000),
                   (120000000, 2500000), (160000000, 2500000)], got


def test_blocks_of_full_buckets_spill_and_are_freed_from_there():
    """At --max-live, some buckets of the live table overflow (four blocks a
    bucket on average, at addresses in no pattern): their blocks go to the
    spill map, count like the others, and are found there when freed."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "-v", "--max-live", "400100", "--",
                    prog("gt_many"), "400000", "shuffled"],
                   stdout=subprocess.PIPE)
    assert rec.finish(timeout=120) == 0, rec.stderr()
    err = rec.stderr()
    m = re.search(r"live table: \d+ buckets of 8 blocks, (\d+) blocks in "
                  r"its spill map", err)
    assert m and int(m.group(1)) > 0, err
    want = sorted((int(size) * int(count), int(count)) for size, count in
                  re.findall(r"^site (\d+) (\d+)$", "\n".join(rec.out.rest()),
                             re.M))
    assert len(want) == 3, want
    info = heapsnap_json("info", out)
    no_losses(info)
    top = heapsnap_json("top", out, "-n", "0", "--include", "*/gt_many.c")
    got = sorted((st["size"], st["count"]) for st in top["stats"]
                 if st["count"] > 1)
    assert got == want, (got, want)


def test_262144_distinct_stacks():
    snap = record(["--max-stacks", "300000"], [prog("gt_stacks"), "18"])
    info = heapsnap_json("info", snap)
    no_losses(info)
    top = heapsnap_json("top", snap, "--by", "traceback", "-n", "20",
                        "--include", "*/gt_stacks.c")
    assert top["total"]["keys"] == 1 << 18, top["total"]
    assert (top["total"]["size"], top["total"]["count"]) == (8 << 18, 1 << 18)
    paths = set()
    for st in top["stats"]:
        assert (st["size"], st["count"]) == (8, 1), st
        fns = [f["function"] for f in st["traceback"]]
        # step, 18 (left or right, step) pairs, main, then libc to _start
        assert len(fns) == 2 * 18 + 5, fns
        assert fns[0] == "step" and fns[-4:] == [
            "main", "__libc_start_call_main", "__libc_start_main_impl",
            "_start"], fns
        paths.add(tuple((f["function"], f["line"]) for f in st["traceback"]))
    assert len(paths) == 20


def test_full_stack_map_is_counted():
    snap = record(["--max-stacks", "1000"], [prog("gt_stacks"), "12"])
    info = heapsnap_json("info", snap)
    # 4096 distinct stacks do not fit in 1000 slots: the rest are counted
    assert info["lost"]["stack_failures"] >= 4096 - 1000, info["lost"]
    assert info["warnings"], info


def peak_rss_writing(n):
    """heapsnap record -p's peak RSS (bytes) over gt_many N, whose N live
    blocks it writes when the program exits; and the snapshot."""
    out = os.path.join(tmpdir(), "m%d.hsnap" % n)
    target = spawn(["sh", "-c", 'read x; exec "$@"', "sh", prog("gt_many"),
                    str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rec = Recorder(["-p", str(target.pid), "-o", out, "--max-live",
                    str(n + 100000)])
    rec.wait_attached()
    target.communicate("go\n", timeout=300)
    _, status, ru = os.wait4(rec.p.pid, 0)
    rec.p.returncode = os.waitstatus_to_exitcode(status)
    rec.err.rest(timeout=5)
    assert rec.p.returncode == 0, rec.stderr()
    return ru.ru_maxrss * 1024, out


def test_snapshot_memory_is_at_most_64_bytes_a_live_block():
    """The snapshot's traces go to the file as they are read from the live
    table: writing two million of them takes the tracer's memory at most
    64 bytes a block above a snapshot of none (a snapshot built whole took
    over 100)."""
    idle, _ = peak_rss_writing(0)
    rss, snap = peak_rss_writing(2000000)
    assert rss - idle <= 64 * 2000000, (rss, idle)
    lost = heapsnap_json("info", snap)["lost"]
    assert lost["map_full"] == lost["stack_failures"] == 0, lost
    top = heapsnap_json("top", snap, "-n", "0", "--include", "*/gt_many.c")
    got = sorted((st["size"], st["count"]) for st in top["stats"])
    assert got == [(8000000, 500000), (16000000, 1), (16000000, 500000),
                   (24000000, 500000), (32000000, 500000)], got
