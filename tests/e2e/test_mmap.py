# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The mmap domain: anonymous mmap, munmap (partial too), mremap (moving) and
brk made outside the allocator, with exact sizes; the allocator's own
mappings stay in the heap domain."""
import os
import subprocess

from hs import Recorder, heapsnap_json, parse_gt, prog, tmpdir


def rows(snap, domain, source):
    top = heapsnap_json("top", snap, "--by", "lineno", "-n", "0",
                        "--domain", domain, "--include", "*/" + source)
    return {(os.path.basename(st["traceback"][0]["file"]),
             st["traceback"][0]["line"]): (st["traceback"][0]["function"],
                                           st["size"], st["count"])
            for st in top["stats"]}


def record(name, opts=()):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    return out, rec.out.rest()


def test_mmap_domain_exact():
    snap, lines = record("gt_mmap")
    want = {(os.path.basename(f), l): v for (f, l), v in
            parse_gt(lines)[1].items()}
    got = rows(snap, "mmap", "gt_mmap.c")
    assert got == want, "mmap rows:\n got  %s\n want %s" % (
        sorted(got.items()), sorted(want.items()))
    heap = parse_gt(["GT" + l[4:] for l in lines if l.startswith("HEAP ")])
    want_heap = {(os.path.basename(f), l): v
                 for (f, l), v in heap[1].items()}
    assert rows(snap, "heap", "gt_mmap.c") == want_heap
    info = heapsnap_json("info", snap)
    assert info["domains"]["mmap"]["current"] == sum(v[1]
                                                     for v in want.values())
    assert info["domains"]["mmap"]["count"] == sum(v[2]
                                                   for v in want.values())


def test_no_mmap_option_leaves_the_domain_out():
    snap, _ = record("gt_mmap", ["--no-mmap"])
    assert rows(snap, "mmap", "gt_mmap.c") == {}
    info = heapsnap_json("info", snap)
    assert info["domains"]["mmap"] == {"current": 0, "count": 0}
