# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Tracebacks reach the bottom of their stacks with default options, in
mid-run snapshots: Debian's clang-14 -cc1 (libLLVM and libclang-cpp, no
frame pointers), sqlite3 running a script and python3.11 running one (its
native frames), and gt_ctor's blocks made in static constructors, in a
dlopen()ed library and in a thread. Every table fits, and a traceback the
walk did not mark as cut short really reaches the bottom: nothing is lost
silently."""
import os
import subprocess

from hs import HEAPSNAP, Recorder, Skip, heapsnap_json, prog, tmpdir

CLANG = "/usr/lib/llvm-14/bin/clang"
SQLITE = "/usr/bin/sqlite3"
PYTHON = "/usr/bin/python3.11"
# where a thread's stack starts: the program's or the loader's entry code,
# or the clone that made the thread
OUTERMOST = {"_start", "_dl_start_user", "clone3", "clone"}
# what the entry code calls: a stripped program's _start has no name
ENTRY_CALLEES = {"__libc_start_main_impl", "__libc_start_main"}
STOPPED = "[unwinding stopped"
LIMIT = 64  # the default traceback limit
SHARE = 0.99


def reaches_bottom(frames):
    """Not cut short, and its outermost native frame is a stack's first;
    or, deeper than the traceback limit, stored to the limit."""
    native = [f for f in frames if f["module"] != "python"]
    if not native or (native[-1]["function"] or "").startswith(STOPPED):
        return False
    return (native[-1]["function"] in OUTERMOST or len(frames) >= LIMIT or
            (len(native) > 1 and native[-2]["function"] in ENTRY_CALLEES))


def shares(snap):
    """(blocks that reach the bottom, blocks, info's unwind object)."""
    top = heapsnap_json("top", snap, "--by", "traceback", "-n", "0")
    ok = total = 0
    for st in top["stats"]:
        total += st["count"]
        ok += st["count"] if reaches_bottom(st["traceback"]) else 0
    return ok, total, heapsnap_json("info", snap)["unwind"]


def record(argv, name, cwd_files=()):
    """Records argv with default options and -i 0.05; returns the mid-run
    snapshots and the final one."""
    for path in [argv[0]] + list(cwd_files):
        if not os.path.exists(path):
            raise Skip("%s is not installed (make deps)" % path)
    out = os.path.join(tmpdir(), name + ".hsnap")
    rec = Recorder(["-i", "0.05", "-o", out, "--"] + argv,
                   stdout=subprocess.DEVNULL)
    assert rec.finish(timeout=600) == 0, rec.stderr()
    err = rec.stderr()
    assert "do not fit" not in err and "no room" not in err, err
    mid = sorted((f for f in os.listdir(os.path.dirname(out))
                  if f.startswith(name + ".hsnap.")),
                 key=lambda f: int(f.rsplit(".", 1)[1]))
    assert mid, "no mid-run snapshot:\n" + err
    return [os.path.join(os.path.dirname(out), f) for f in mid], out


def check_share(argv, name, min_blocks):
    mid, final = record(argv, name)
    all_ok = all_blocks = 0
    for snap in mid + [final]:
        ok, total, unwind = shares(snap)
        # what info counts as not cut short does reach the bottom
        assert unwind["blocks"] == total, (snap, unwind, total)
        assert ok == total - unwind["cut_blocks"], (snap, ok, unwind)
        for m in unwind["modules"]:
            assert m["table"] != "no room", (snap, m)
        if snap != final:
            all_ok += ok
            all_blocks += total
            assert ok >= SHARE * total, \
                "%s: %d of %d blocks reach the bottom" % (snap, ok, total)
    assert all_blocks >= min_blocks, (all_blocks, mid)
    return all_ok, all_blocks


def c_source(path):
    """A C file of 60 functions and no includes, for clang -cc1."""
    lines = ["int printf(const char *, ...);",
             "struct node { struct node *next; int v; double w; };"]
    for i in range(60):
        lines.append(
            "static int f%d(int n, struct node *p) { int s = 0; "
            "for (int k = 0; k < n; k++) { s += k * %d + (p ? p->v : 0); "
            "if (s > %d) s -= n; } return s; }" % (i, i, 1000 + i))
    lines.append("int main(int argc, char **argv) { int t = 0; "
                 "struct node x = { 0, argc, 1.0 };")
    lines += ["  t += f%d(argc + %d, &x);" % (i, i) for i in range(60)]
    lines.append('  printf("%d\\n", t); return 0; }')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_clang_reaches_the_bottom():
    d = tmpdir()
    src = os.path.join(d, "x.c")
    c_source(src)
    check_share([CLANG, "-cc1", "-triple", "x86_64-pc-linux-gnu",
                 "-emit-obj", "-O2", "-o", os.path.join(d, "x.o"), "-x", "c",
                 src], "clang", 1000)


def test_sqlite3_reaches_the_bottom():
    d = tmpdir()
    script = os.path.join(d, "s.sql")
    with open(script, "w") as f:
        f.write("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);\n"
                "CREATE INDEX ib ON t(b);\nBEGIN;\n")
        for i in range(20000):
            f.write("INSERT INTO t(b, c) VALUES ('row%d', %d.5);\n" %
                    (i * 7919 % 20000, i))
        f.write("COMMIT;\nSELECT count(*), sum(c) FROM t GROUP BY "
                "substr(b, 1, 5);\nSELECT b FROM t ORDER BY c DESC "
                "LIMIT 5;\n")
    check_share([SQLITE, "-batch", os.path.join(d, "s.db"),
                 ".read " + script], "sqlite3", 100)


def test_python311_reaches_the_bottom():
    d = tmpdir()
    script = os.path.join(d, "p.py")
    with open(script, "w") as f:
        f.write("import collections, json, re, threading\n"
                "def work(n):\n"
                "    d = {'k%d' % i: [i, str(i), (i, i * 2)] "
                "for i in range(n)}\n"
                "    s = json.dumps({k: v for k, v in "
                "list(d.items())[:n // 10]})\n"
                "    return d, collections.Counter(re.findall(r'k\\d+', s))\n"
                "keep = []\n"
                "t = threading.Thread(target=lambda: keep.append(work(50000)))\n"
                "t.start()\n"
                "keep.append(work(200000))\n"
                "t.join()\n"
                "print(len(keep))\n")
    check_share([PYTHON, script], "python", 1000)


def test_constructors_dlopen_and_threads_reach_the_bottom():
    """gt_ctor's blocks, each of its own size: its frame 0 and the function
    its stack starts in, with no frame cut short; the snapshot is taken
    while the program waits."""
    out = os.path.join(tmpdir(), "ct.hsnap")
    rec = Recorder(["-o", out, "--", prog("gt_ctor"), "wait"],
                   stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    rec.out.wait_for(r"^READY 1$")
    rec.snapshot(1)
    rec.p.stdin.close()
    assert rec.finish() == 0, rec.stderr()
    want = {}
    for line in rec.out.seen:
        f = line.split()
        if len(f) == 4 and f[0] == "CT":
            want[int(f[1])] = (f[2], f[3])
    assert len(want) == 6, rec.out.seen
    top = heapsnap_json("top", out + ".1", "--by", "traceback", "-n", "0")
    got = {}
    for st in top["stats"]:
        if st["size"] in want:
            assert st["count"] == 1, st
            names = [f["function"] for f in st["traceback"]]
            got[st["size"]] = names
    assert sorted(got) == sorted(want), (got, want)
    for size, (frame0, bottom) in want.items():
        names = got[size]
        assert names[0] == frame0, (size, names)
        assert bottom in names, (size, names)
        assert reaches_bottom([{"module": "", "function": n}
                               for n in names]), (size, names)
    ok, total, unwind = shares(out + ".1")
    assert ok == total == unwind["blocks"], (ok, total, unwind)
    assert unwind["cut_blocks"] == 0, unwind


def test_tables_that_do_not_fit_are_reported():
    """libc's table beyond --max-unwind-rows: record says so, and the
    snapshot names the module, why it has no table, and every block whose
    traceback was cut short there (gt_nofp's three sites, cut in libc's
    frame that called main),
    in info's text and JSON."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["--max-unwind-rows", "5000", "-o", out, "--",
                    prog("gt_nofp")], stdout=subprocess.PIPE)
    assert rec.finish() == 0, rec.stderr()
    libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    note = "no room: its rows pass --max-unwind-rows 5000"
    assert "heapsnap: warning: %s: %s" % (libc, note) in rec.stderr()
    lines = rec.out.rest()
    sizes = {int(f[5]) for f in (line.split() for line in lines)
             if len(f) == 7 and f[0] == "GT"}
    assert sizes == {4242, 5353, 6464}, lines
    top = heapsnap_json("top", out, "--by", "traceback", "-n", "0")
    blocks = sum(st["count"] for st in top["stats"])
    stacks = len(top["stats"])
    for st in top["stats"]:
        names = [f["function"] for f in st["traceback"]]
        assert names[-1] == "[unwinding stopped: its module has no table]", \
            names
        if st["size"] in sizes:
            # the return into libc is a frame; libc's rule is missing
            assert names[-3:-1] == ["main", "__libc_start_call_main"], names
            sizes.remove(st["size"])
    assert not sizes, sizes
    unwind = heapsnap_json("info", out)["unwind"]
    assert (unwind["blocks"], unwind["cut_blocks"]) == (blocks, blocks)
    assert unwind["mode"] == "auto" and unwind["reach_bottom"] == 0.0
    mods = {m["module"]: m for m in unwind["modules"]}
    assert mods[libc] == {
        "module": libc, "table": "no room", "note": note, "rows": 0,
        "bytes": 0, "cut_stacks": stacks, "cut_blocks": blocks,
        "cut": {"no table for the module": {"stacks": stacks,
                                            "blocks": blocks}}}, mods[libc]
    for path, m in mods.items():
        assert path == libc or (m["table"] == "ok" and not m["cut_blocks"])
    assert unwind["tables"]["max_rows"] == 5000
    assert unwind["tables"]["rows"] == sum(m["rows"] for m in mods.values())
    text = subprocess.run([HEAPSNAP, "info", out], capture_output=True,
                          text=True).stdout
    assert ("\nunwinding:        0.00%% of live blocks reach the bottom of "
            "their stack; %d cut short\n  cut short in %s: %d blocks "
            "(%d stacks): no table for the module\n  no table for %s: %s\n"
            % (blocks, libc, blocks, stacks, libc, note)) in text, text
