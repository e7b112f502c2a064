# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The mmap domain: anonymous mmap, munmap (partial too), mremap (moving) and
brk made outside the allocator, with exact sizes; the allocator's own
mappings stay in the heap domain. By default it is probed in the targets'
libc, and no syscall tracepoint is attached; on the tracepoints when asked,
or for a target whose libc cannot be probed."""
import os
import signal
import subprocess

from hs import Recorder, Target, heapsnap_json, parse_gt, prog, tmpdir


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


def recorded(name, opts=()):
    """record -- name: the snapshot, the program's output and record's
    stderr."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    return out, rec.out.rest(), rec.stderr()


def syscall_tracepoints(pid):
    """The syscall tracepoints the process pid (a recorder) holds links to."""
    names = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if "bpf_link" not in os.readlink("/proc/%d/fd/%s" % (pid, fd)):
                continue
            info = open("/proc/%d/fdinfo/%s" % (pid, fd)).read()
        except OSError:
            continue
        for line in info.splitlines():
            k, _, v = line.partition(":")
            if k == "tp_name" and v.strip().startswith("sys_"):
                names.add(v.strip())
    return names


def want_rows(lines, phase, source):
    return {(os.path.basename(f), l): v
            for (f, l), v in parse_gt(lines).get(phase, {}).items()
            if os.path.basename(f) == source}


def assert_mmap_rows(snap, lines, phase, source):
    want = want_rows(lines, phase, source)
    assert want, "no ground truth"
    got = rows(snap, "mmap", source)
    assert got == want, "mmap rows:\n got  %s\n want %s" % (
        sorted(got.items()), sorted(want.items()))
    info = heapsnap_json("info", snap)
    assert info["domains"]["mmap"]["current"] == sum(v[1]
                                                     for v in want.values())
    assert info["domains"]["mmap"]["count"] == sum(v[2]
                                                   for v in want.values())


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


def check_calls(opts):
    snap, lines, err = recorded("gt_mmapcalls", opts)
    assert_mmap_rows(snap, lines, 2, "gt_mmapcalls.c")
    return err


def test_every_libc_way_in():
    """syscall(), a direct brk, mremap in place, shrinking and onto a fixed
    address, MAP_FIXED over a region, partial munmaps, another thread; not
    a file, a stack, a failed call or malloc's own mapping."""
    check_calls([])


def test_entry_and_return_probes_agree():
    """At +0 the calls are probed at their entry and return, the way left
    where no probe can sit after the syscall: the same rows."""
    check_calls(["--probe-at-entry"])
    check_calls(["--classic-uprobes", "--probe-at-entry"])


def test_classic_uprobes_agree():
    check_calls(["--classic-uprobes"])


def test_tracepoints_when_asked_agree():
    check_calls(["--mmap-tracepoints"])


def test_phases_of_a_running_process():
    """record -p: the regions after mapping, then after unmapping."""
    t = Target("gt_mmapcalls")
    out = os.path.join(tmpdir(), "p.hsnap")
    rec = Recorder(["-p", str(t.pid), "-o", out])
    rec.wait_attached()
    assert syscall_tracepoints(rec.p.pid) == set()
    t.next_phase(1)
    rec.snapshot(1)
    t.next_phase(2)
    rec.snapshot(2)
    t.finish()
    assert rec.finish() == 0, rec.stderr()
    assert_mmap_rows(out + ".1", t.out.seen, 1, "gt_mmapcalls.c")
    assert_mmap_rows(out + ".2", t.out.seen, 2, "gt_mmapcalls.c")


def test_no_syscall_tracepoint_by_default():
    """A dynamically linked target: probes in its libc, no tracepoint;
    --mmap-tracepoints attaches both."""
    for opts, want in (([], set()),
                       (["--mmap-tracepoints"], {"sys_enter", "sys_exit"})):
        t = Target("gt_mmapcalls")
        rec = Recorder(["-p", str(t.pid), "-o",
                        os.path.join(tmpdir(), "t.hsnap")] + opts)
        rec.wait_attached()
        assert syscall_tracepoints(rec.p.pid) == want, opts
        t.finish()
        assert rec.finish() == 0, rec.stderr()


def static_run(name, opts=()):
    """The rows of gt_mmap.c, exact; and what else the mmap domain holds:
    one block, the main thread's TLS, mapped before main."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["-o", out] + list(opts) + ["--", prog(name)],
                   stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    lines = rec.out.rest()
    want = want_rows(lines, 1, "gt_mmap.c")
    got = rows(out, "mmap", "gt_mmap.c")
    assert got == want, "mmap rows:\n got  %s\n want %s" % (
        sorted(got.items()), sorted(want.items()))
    mm = heapsnap_json("info", out)["domains"]["mmap"]
    rest = (mm["current"] - sum(v[1] for v in want.values()),
            mm["count"] - sum(v[2] for v in want.values()))
    assert rest[0] > 0 and rest[1] == 1, rest
    return rest, rec.stderr()


def test_static_binary_in_libc_and_on_tracepoints():
    """A static executable with symbols: its own libc is probed, no
    tracepoint. Without the mmap symbols, that target's mmap domain goes on
    the syscall tracepoints, said on stderr. Both agree with the
    tracepoints asked for, to the byte."""
    probed, err = static_run("gt_mmap_static")
    assert "syscall tracepoints" not in err, err
    asked, _ = static_run("gt_mmap_static", ["--mmap-tracepoints"])
    fallback, err = static_run("gt_mmap_static_nosym")
    assert ("no libc mmap function to probe: its mmap domain is traced on "
            "the syscall tracepoints") in err, err
    assert probed == asked == fallback


def raw_calls(opts=()):
    snap, lines, err = recorded("gt_mmapraw", opts)
    raw = [int(l.split()[1]) for l in lines if l.startswith("RAW ")]
    assert raw and raw[0] > 0, lines
    return snap, lines, err, raw[0]


def test_calls_outside_libc_are_counted():
    """A program's own syscall instructions are not in the probed libc:
    its mapping through libc is exact, and each of its raw calls of the
    domain (not those of a file or a stack) is counted as not seen, and
    said."""
    snap, lines, err, nraw = raw_calls()
    info = heapsnap_json("info", snap)
    assert info["global"]["mmap_calls_unseen"] == nraw, info["global"]
    assert any("mmap-domain calls not seen" in w
               for w in info["warnings"]), info["warnings"]
    assert ("%d mmap-domain calls were made outside the probed libc" %
            nraw) in err, err
    libc = want_rows(["GT" + l[4:] for l in lines if l.startswith("LIBC ")],
                     1, "gt_mmapraw.c")
    assert libc and rows(snap, "mmap", "gt_mmapraw.c") == libc
    assert info["domains"]["mmap"] == {
        "current": sum(v[1] for v in libc.values()),
        "count": sum(v[2] for v in libc.values())}, info["domains"]


def test_calls_outside_libc_on_tracepoints():
    """--mmap-tracepoints sees the raw calls: every region's size, none
    unseen. (Their tracebacks start where the syscall tracepoint finds a
    return address: exact only for calls made through a function.)"""
    snap, lines, _, _ = raw_calls(["--mmap-tracepoints"])
    info = heapsnap_json("info", snap)
    assert info["global"]["mmap_calls_unseen"] == 0, info["global"]
    want = want_rows(lines, 1, "gt_mmapraw.c")
    assert info["domains"]["mmap"] == {
        "current": sum(v[1] for v in want.values()),
        "count": sum(v[2] for v in want.values())}, info["domains"]
