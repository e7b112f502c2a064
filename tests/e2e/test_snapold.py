# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Snapshot files of format version 1 still read, with the figures that
version printed: tests/unit/fixtures holds recordings it wrote (gt_basic,
gt_mapfull with --max-live 100, gt_mmap) and what its info and top said.
New recordings are version 2, with the global losses of their own."""
import json
import os
import subprocess

from hs import HEAPSNAP, TOP, Recorder, heapsnap_json, prog, run, tmpdir

FIX = os.path.join(TOP, "tests", "unit", "fixtures")
NAMES = ("v1_basic", "v1_mapfull", "v1_mmap")
GLOBAL = ("proc_map_full", "nested_overflow", "map_events_lost",
          "events_lost", "stacks_missing", "py_codes_lost",
          "mmap_calls_unseen", "in_flight_lost")


def no_root(fn):
    fn.no_root = True
    return fn


def fixture(name, ext):
    return os.path.join(FIX, name + ext)


def within(want, got, at="info"):
    """Every field of want is in got, with the same value."""
    if isinstance(want, dict):
        assert isinstance(got, dict), (at, got)
        for k, v in want.items():
            assert k in got, "%s.%s missing" % (at, k)
            within(v, got[k], "%s.%s" % (at, k))
    else:
        assert want == got, (at, want, got)


@no_root
def test_version1_info_keeps_its_figures():
    for name in NAMES:
        want = json.load(open(fixture(name, ".info.json")))
        got = heapsnap_json("info", fixture(name, ".hsnap"))
        assert got["format_version"] == 1, got
        within(want, got)
        # what version 1 charged to its first process, it keeps there
        assert got["global"] == dict.fromkeys(GLOBAL, 0), got["global"]


@no_root
def test_version1_info_text_keeps_its_lines():
    for name in ("v1_basic", "v1_mapfull"):
        want = open(fixture(name, ".info.txt")).read().splitlines()
        got = run([HEAPSNAP, "info", fixture(name, ".hsnap")]).stdout
        got = got.splitlines()
        it = iter(got)
        assert all(line in it for line in want), (want, got)


@no_root
def test_version1_top_is_the_same():
    for name in NAMES:
        got = run([HEAPSNAP, "top", "--json", "-n", "0",
                   fixture(name, ".hsnap")]).stdout
        assert got == open(fixture(name, ".top.json")).read(), name
    got = run([HEAPSNAP, "top", "--json", "-n", "0", "--domain", "mmap",
               fixture("v1_mmap", ".hsnap")]).stdout
    assert got == open(fixture("v1_mmap", ".top-mmap.json")).read()
    got = run([HEAPSNAP, "top", "--no-source",
               fixture("v1_mapfull", ".hsnap")]).stdout
    assert got == open(fixture("v1_mapfull", ".top.txt")).read(), got


@no_root
def test_version1_diff_against_itself():
    snap = fixture("v1_mapfull", ".hsnap")
    diff = heapsnap_json("diff", snap, snap, "-n", "0")
    top = json.load(open(fixture("v1_mapfull", ".top.json")))
    assert [(s["size"], s["count"], s["size_diff"], s["count_diff"])
            for s in diff["stats"]] == \
        [(s["size"], s["count"], 0, 0) for s in top["stats"]], diff
    assert len(diff["warnings"]) == 2, diff["warnings"]


def test_new_snapshots_are_version2_with_global_losses():
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_basic")],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    info = heapsnap_json("info", out)
    assert info["format_version"] == 2, info
    assert info["global"] == dict.fromkeys(GLOBAL, 0), info["global"]
    assert info["lost"] == {"map_full": 0, "stack_failures": 0,
                            "unknown_frees": 0, "events": 0,
                            "stack_collisions": 0}, info["lost"]
    text = run([HEAPSNAP, "info", out]).stdout
    assert "format version:   2\n" in text, text
    assert ("\n  of no process:  proc map full 0, nested overflow 0, "
            "map events lost 0, events lost 0, stacks missing 0, "
            "py codes lost 0, mmap calls unseen 0, in flight lost 0\n") in text


@no_root
def test_version2_before_unwind_sections_reads():
    """A version 2 file written before snapshots kept their unwind
    sections (tests/unit/fixtures/v2_nounwind.hsnap: gt_nofp with libc's
    table left out): info counts the tracebacks that end cut short, from
    their last frames, and names no module."""
    snap = fixture("v2_nounwind", ".hsnap")
    info = heapsnap_json("info", snap)
    assert info["format_version"] == 2, info
    assert info["unwind"] == {
        "blocks": 9, "cut_blocks": 9, "mode": None, "reach_bottom": 0.0,
        "modules": [],
        "tables": {"modules": 0, "rows": 0, "max_rows": 0, "rules": 0,
                   "bytes": 0, "loader_events_lost": 0}}, info["unwind"]
    text = run([HEAPSNAP, "info", snap]).stdout
    assert ("\nunwinding:        0.00% of live blocks reach the bottom of "
            "their stack; 9 cut short\nprocess ") in text, text
    top = heapsnap_json("top", snap, "--by", "traceback", "-n", "0")
    assert sum(st["count"] for st in top["stats"]) == 9, top
    for st in top["stats"]:
        assert st["traceback"][-1]["function"] == \
            "[unwinding stopped: no rule for the code here]", st
