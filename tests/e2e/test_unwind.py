# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""DWARF unwinding: a program, a library and a dlopen()ed library, all
built -O2 -fomit-frame-pointer, give exact tracebacks with --unwind=dwarf
and --unwind=auto."""
import os
import subprocess

from hs import Recorder, heapsnap_json, parse_gt, prog, tmpdir

FILES = {"lib_through": "gt_nofp_lib.c", "dl_through": "gt_nofp_dl.c"}


def record(opts):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + opts + ["--", prog("gt_nofp")],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    lines = rec.out.rest()
    chains = {}
    for line in lines:
        f = line.split()
        if len(f) == 4 and f[0] == "TB":
            chains.setdefault(int(f[1]), []).append((f[2], int(f[3])))
    # each chain's allocating line: (function, bytes, count)
    sites = {line: v for (_, line), v in parse_gt(lines)[1].items()}
    return out, chains, sites


def tracebacks(snap):
    top = heapsnap_json("top", snap, "--by", "traceback", "-n", "0",
                        "--include", "*/gt_nofp.c")
    return {st["traceback"][0]["line"]: (st["size"], st["count"],
                                         st["traceback"])
            for st in top["stats"]}


def check(opts):
    snap, chains, sites = record(opts)
    tbs = tracebacks(snap)
    assert len(chains) == 3 and len(sites) == 3, (chains, sites)
    for c, want in chains.items():
        fn, line = want[0]
        assert sites[line][0] == fn, (want, sites)
        size, count, frames = tbs[line]
        assert (size, count) == sites[line][1:], \
            "chain %d: %d B in %d blocks, want %s" % (c, size, count,
                                                     sites[line])
        got = [(f["function"], f["line"]) for f in frames[:len(want)]]
        assert got == want, "chain %d: %s, want %s" % (c, got, want)
        for f, (fn, _) in zip(frames, want):
            assert os.path.basename(f["file"]) == FILES.get(fn, "gt_nofp.c")
        # past main, into libc, and no marker: the walk ended cleanly
        names = [f["function"] for f in frames]
        assert "__libc_start_call_main" in names, names
        assert not any(n and n.startswith("[unwinding stopped") for n in
                       names), names


def test_dwarf_unwinding_exact():
    check(["--unwind", "dwarf"])


def test_auto_unwinding_exact():
    check(["--unwind", "auto"])
