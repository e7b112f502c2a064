# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Python targets, from outside, against tracemalloc inside.

tests/progs/gt_python.py allocates known amounts on known lines and holds
them. Run with "oracle", tracemalloc runs in that process and prints its
statistics("lineno") at each checkpoint: that is the ground truth. The same
script run without tracemalloc, under heapsnap, must give the same lines
with the same sizes and counts (exact mode), or sizes within a stated
tolerance where the interpreter inlines its allocator (estimates).
"""
import os
import re
import signal
import subprocess
import time

from hs import (HEAPSNAP, TOP, Recorder, Skip, heapsnap_json, run, spawn,
                tmpdir, Lines)

SCRIPT = os.path.join(TOP, "tests", "progs", "gt_python.py")
DEBIAN = "/usr/bin/python3.11"
EXACT_MIN = 500 * 1000  # lines this big must agree within 5%
ESTIMATE_MIN = 1000 * 1000  # within 25%, where the figures are estimates


def pyenv(version):
    """The pyenv build of version, or Skip with the reason."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True,
                              text=True).stdout.strip()
    except FileNotFoundError:
        root = os.path.expanduser("~/.pyenv")
    versions = os.path.join(root or os.path.expanduser("~/.pyenv"),
                            "versions")
    if os.path.isdir(versions):
        for v in sorted(os.listdir(versions)):
            if v == version or v.startswith(version + "."):
                exe = os.path.join(versions, v, "bin", "python3")
                if os.access(exe, os.X_OK):
                    return exe
    raise Skip("no pyenv build of Python %s here" % version)


def debian_python():
    if not os.access(DEBIAN, os.X_OK):
        raise Skip("no %s here" % DEBIAN)
    return DEBIAN


def oracle(python):
    """tracemalloc's statistics("lineno") per checkpoint:
    {phase: {line: (size, count)}}."""
    r = run([python, SCRIPT, "oracle"])
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "TM":
            out.setdefault(int(f[1]), {})[int(f[3])] = (int(f[4]),
                                                        int(f[5]))
    return out


class Script:
    """gt_python.py with "wait": it stops at each checkpoint."""

    def __init__(self, argv):
        self.p = spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = Lines(self.p.stdout)

    def wait(self, phase):
        self.out.wait_for(r"^READY %d$" % phase, timeout=120)

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()


def lines(snapshot, *extra):
    """top --by lineno for the script's lines: {line: (size, count, row)}."""
    top = heapsnap_json("top", snapshot, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_python.py", *extra)
    got = {}
    for st in top["stats"]:
        fr = st["traceback"][0]
        assert fr["module"] == "python" and fr["offset"] is None, fr
        got[fr["line"]] = (st["size"], st["count"], st)
    return got, top


def close(a, b, tol):
    return abs(a - b) <= tol * max(a, b)


def assert_agree(got, want, minimum, tol, counts=True):
    """Every line of at least minimum bytes, on either side, agrees."""
    big = {ln for ln, v in want.items() if v[0] >= minimum}
    big |= {ln for ln, v in got.items() if v[0] >= minimum}
    assert big, "no line of %d bytes: %r" % (minimum, want)
    bad = []
    for ln in sorted(big):
        g = got.get(ln, (0, 0))
        w = want.get(ln, (0, 0))
        if not close(g[0], w[0], tol) or (counts and
                                          not close(g[1], w[1], tol)):
            bad.append("line %d: heapsnap %d B in %d, tracemalloc %d B in %d"
                       % (ln, g[0], g[1], w[0], w[1]))
    assert not bad, "\n".join(bad)


def record_script(python, opts=(), attach=False):
    """Runs gt_python.py under heapsnap (record -- or, with attach,
    record -p at its first checkpoint); snapshot N at checkpoint N.
    Returns the base path and heapsnap's stderr."""
    out = os.path.join(tmpdir(), "py.hsnap")
    if attach:
        s = Script([python, SCRIPT, "wait"])
        s.wait(0)
        rec = Recorder(["-o", out, "-p", str(s.p.pid)] + list(opts))
        rec.wait_attached()
    else:
        s = Script([HEAPSNAP, "record", "-o", out] + list(opts) +
                   ["--", python, SCRIPT, "wait"])
        rec = None
        s.wait(0)
    for phase in (1, 2):
        s.go()
        s.wait(phase)
        if rec:
            rec.snapshot(phase)
        else:
            s.p.send_signal(signal.SIGUSR1)
            wait_file("%s.%d" % (out, phase))
    s.go()
    assert s.p.wait(timeout=120) == 0
    if rec:
        assert rec.finish() == 0, rec.stderr()
    return out


def wait_file(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, "no %s" % path
        time.sleep(0.05)
    time.sleep(0.2)  # written by rename: whole once it exists


def check_exact(version, attach=False):
    python = pyenv(version)
    want = oracle(python)
    base = record_script(python, attach=attach)
    for phase in (1, 2):
        got, _ = lines("%s.%d" % (base, phase))
        assert_agree({k: v[:2] for k, v in got.items()}, want[phase],
                     EXACT_MIN, 0.05)
    return base, want


def test_exact_311_matches_tracemalloc():
    base, _ = check_exact("3.11")
    info = heapsnap_json("info", base + ".2")
    assert info["nesting"] == {"python": ["heap", "mmap"]}, info
    assert info["domains"]["python"]["current"] > 20 * 1000 * 1000, info
    assert "exact" in info["processes"][0]["python"], info["processes"]
    text = run([HEAPSNAP, "info", base + ".2"]).stdout
    assert "inside its blocks: they are not counted again" in text, text


def test_exact_312_matches_tracemalloc():
    check_exact("3.12")


def test_exact_313_matches_tracemalloc():
    check_exact("3.13")


def test_exact_attached_mid_run_matches_tracemalloc():
    check_exact("3.12", attach=True)


def test_diff_equals_compare_to():
    base, want = check_exact("3.11")
    d = heapsnap_json("diff", base + ".1", base + ".2", "--by", "lineno",
                      "-n", "0", "--include", "*/gt_python.py")
    got = {}
    for st in d["stats"]:
        got[st["traceback"][0]["line"]] = (st["size_diff"],
                                           st["count_diff"])
    expect = {}
    for ln in set(want[1]) | set(want[2]):
        a, b = want[1].get(ln, (0, 0)), want[2].get(ln, (0, 0))
        expect[ln] = (b[0] - a[0], b[1] - a[1])
    for ln, (size, count) in expect.items():
        if abs(size) < EXACT_MIN:
            continue
        g = got.get(ln, (0, 0))
        assert close(g[0], size, 0.05) and close(g[1], count, 0.05), (
            "line %d: diff %r, compare_to %r" % (ln, g, (size, count)))


def test_lto_python_estimates_within_25_percent():
    """Debian's python3.11 inlines pymalloc: pools, marked as estimates."""
    python = debian_python()
    want = oracle(python)
    base = record_script(python)
    for phase in (1, 2):
        got, top = lines("%s.%d" % (base, phase))
        assert_agree({k: v[:2] for k, v in got.items()}, want[phase],
                     ESTIMATE_MIN, 0.25, counts=False)
        assert any(v[2].get("estimate") for v in got.values()), top
    info = heapsnap_json("info", base + ".2")
    notes = [p["python"] for p in info["processes"] if p.get("python")]
    assert notes and "pools" in notes[0], info["processes"]


def test_production_mode_estimates_on_pyenv():
    python = pyenv("3.12")
    want = oracle(python)
    base = record_script(python, opts=["--python", "pools"])
    for phase in (1, 2):
        got, _ = lines("%s.%d" % (base, phase))
        assert_agree({k: v[:2] for k, v in got.items()}, want[phase],
                     ESTIMATE_MIN, 0.25, counts=False)


def test_mixed_traceback_through_a_c_extension():
    """zlib's compressor state is allocated by zlib (C), called by the
    zlib module (C), called from a .py line: all of them, in order."""
    python = pyenv("3.11")
    base = record_script(python)
    top = heapsnap_json("top", base + ".2", "--by", "traceback", "-n", "0",
                        "--include", "*/gt_python.py", "--all-frames")
    zlib_line = [st for st in top["stats"]
                 if st["traceback"][0]["module"] != "python" and
                 any(f["file"] and f["file"].endswith("gt_python.py") and
                     f["function"] == "compressed" for f in st["traceback"])]
    assert zlib_line, "no native frames above compressed()"
    tb = zlib_line[0]["traceback"]
    names = [f["function"] for f in tb]
    first_py = next(i for i, f in enumerate(tb) if f["module"] == "python")
    assert first_py > 0 and tb[first_py]["function"] == "compressed", names
    assert any(n and n.startswith("deflate") for n in names[:first_py]), names
    assert any(n and "zlib" in n.lower() for n in names[:first_py]), names


def test_python_frames_only_is_tracemallocs_view():
    python = pyenv("3.11")
    base = record_script(python)
    top = heapsnap_json("top", base + ".2", "--by", "traceback", "-n", "0",
                        "--python-frames-only")
    for st in top["stats"]:
        assert all(f["module"] == "python" for f in st["traceback"]), st
    deep = [st for st in top["stats"] if st["traceback"] and
            st["traceback"][0]["function"].startswith("deep")]
    assert deep and len(deep[0]["traceback"]) >= 52, deep[:1]


def test_unknown_version_is_traced_natively_with_a_note():
    try:
        python = pyenv("3.10")
    except Skip:
        python = pyenv("3.9")
    out = os.path.join(tmpdir(), "old.hsnap")
    r = run([HEAPSNAP, "record", "-o", out, "--", python, "-c",
             "x = [bytearray(1000) for _ in range(100)]"])
    assert "traced natively, without Python frames" in r.stderr, r.stderr
    info = heapsnap_json("info", out)
    assert "natively" in info["processes"][0]["python"]
    top = heapsnap_json("top", out, "-n", "0")
    assert all(fr["module"] != "python" for st in top["stats"]
               for fr in st["traceback"])


def test_garbage_runtime_gives_native_frames_and_no_hang():
    """gt_fakepy exports what a CPython 3.11 exports, with a runtime of
    cycles and wild pointers: exact native sites, nothing else."""
    from hs import prog, parse_gt
    out = os.path.join(tmpdir(), "fake.hsnap")
    start = time.monotonic()
    r = run([HEAPSNAP, "record", "-v", "-o", out, "--", prog("gt_fakepy")],
            timeout=60)
    assert time.monotonic() - start < 30
    assert "CPython 3.11.2" in r.stderr, r.stderr
    gt = parse_gt(r.stdout.splitlines())
    top = heapsnap_json("top", out, "-n", "0", "--include", "*/gt_fakepy.c")
    got = {st["traceback"][0]["line"]: (st["size"], st["count"])
           for st in top["stats"]}
    want = {line: (b, c) for (_, line), (_, b, c) in gt[1].items()}
    assert got == want, (got, want)


def snapshot_at_ready(python, name, text):
    """Runs the script text under record, and returns the snapshot taken
    (SIGUSR1) when it prints READY 1 and waits."""
    script = os.path.join(tmpdir(), name + ".py")
    with open(script, "w") as f:
        f.write(text)
    out = os.path.join(tmpdir(), name + ".hsnap")
    s = Script([HEAPSNAP, "record", "-o", out, "--", python, script])
    s.wait(1)
    s.p.send_signal(signal.SIGUSR1)
    wait_file(out + ".1")
    s.go()
    assert s.p.wait(timeout=60) == 0
    return script, out + ".1"


def test_code_gone_by_snapshot_time_is_named():
    """A function deleted, and exec'd code, allocated blocks still live:
    their frames are named from what was copied when first seen."""
    script, snap = snapshot_at_ready(
        pyenv("3.12"), "gone",
        "import gc, sys\n"
        "keep = []\n"
        "def doomed():\n"
        "    keep.append([bytearray(3000) for _ in range(300)])\n"
        "doomed()\n"
        "del doomed\n"
        "src = 'def made():\\n    return [bytearray(5000) for _ in range(200)]\\n'\n"
        "ns = {}\n"
        "exec(compile(src, '<made>', 'exec'), ns)\n"
        "keep.append(ns['made']())\n"
        "del ns\n"
        "gc.collect()\n"
        "print('READY 1', flush=True)\n"
        "sys.stdin.readline()\n")
    top = heapsnap_json("top", snap, "--by", "traceback", "-n", "0",
                        "--python-frames-only")
    sizes = {}
    for st in top["stats"]:
        for fr in st["traceback"]:
            key = (fr["file"], fr["function"])
            sizes[key] = sizes.get(key, 0) + st["size"]
    assert sizes.get((script, "doomed"), 0) >= 900000, sizes
    assert sizes.get(("<made>", "made"), 0) >= 1000000, sizes


def test_code_reborn_at_the_same_address_is_named_anew():
    """Code objects made and freed in turn, each new one likely where the
    last one was: every block is named by its own file, not by a name a
    thread kept for the address."""
    _, snap = snapshot_at_ready(
        pyenv("3.11"), "reborn",
        "import sys\n"
        "keep = []\n"
        "for i in range(40):\n"
        "    src = 'x = bytearray(%d)\\n' % (20000 + 100 * i)\n"
        "    ns = {}\n"
        "    exec(compile(src, 'gen%d.py' % i, 'exec'), ns)\n"
        "    keep.append(ns['x'])\n"
        "    del ns\n"
        "print('READY 1', flush=True)\n"
        "sys.stdin.readline()\n")
    top = heapsnap_json("top", snap, "--by", "filename", "-n", "0",
                        "--python-frames-only")
    files = {st["traceback"][0]["file"]: st["size"] for st in top["stats"]
             if st["traceback"]}
    for i in range(40):
        # its buffer (n + 1 bytes) and small objects, never another's buffer
        size = files.get("gen%d.py" % i, 0)
        assert 20001 + 100 * i <= size < 40000, (i, files)


def by_function(top):
    """top --by function rows by function; a comprehension (its own code
    object before 3.12: "f.<locals>.<listcomp>") counts as its function."""
    funcs = {}
    for st in top["stats"]:
        if st["traceback"]:
            name = st["traceback"][0]["function"].split(".<locals>")[0]
            funcs[name] = funcs.get(name, 0) + st["size"]
    return funcs


def two_versions_script(tag):
    return ("import sys, time\n"
            "def hold_%s():\n"
            "    return [bytearray(1000) for _ in range(2000)]\n"
            "print('READY 0', flush=True)\n"
            "sys.stdin.readline()\n"
            "x = hold_%s()\n"
            "print('READY 1', flush=True)\n"
            "sys.stdin.readline()\n" % (tag, tag))


def test_system_wide_two_versions_each_its_own_lines():
    """record -a while a 3.11 and a 3.12 run: each process's own lines.
    Each waits until its interpreter is probed (record -v says so)."""
    pys = [("a311", pyenv("3.11"), "libpython3.11"),
           ("b312", pyenv("3.12"), "libpython3.12")]
    out = os.path.join(tmpdir(), "all.hsnap")
    rec = Recorder(["-a", "-v", "-o", out])
    rec.wait_attached()
    procs = []
    for tag, python, lib in pys:
        path = os.path.join(tmpdir(), "%s.py" % tag)
        with open(path, "w") as f:
            f.write(two_versions_script(tag))
        s = Script([python, path])
        s.wait(0)
        rec.err.wait_for(r"^heapsnap: pid %d runs CPython" % s.p.pid,
                         timeout=30)
        probed = r"^heapsnap: probing \S*%s" % lib
        if not any(re.search(probed, line) for line in rec.err.seen):
            rec.err.wait_for(probed, timeout=30)
        procs.append((tag, s))
    for _, s in procs:
        s.go()
        s.wait(1)
    rec.snapshot(1)
    for _, s in procs:
        s.go()
        s.p.wait(timeout=60)
    rec.stop()
    for tag, s in procs:
        top = heapsnap_json("top", out + ".1", "--pid", str(s.p.pid),
                            "--by", "function", "-n", "0",
                            "--python-frames-only")
        funcs = by_function(top)
        assert funcs.get("hold_" + tag, 0) >= 2000 * 1000, (tag, funcs)
        other = [t for t, _ in procs if t != tag][0]
        assert "hold_" + other not in funcs, (tag, funcs)
    by_process = heapsnap_json("top", out + ".1", "--by", "process", "-n",
                               "0")
    pids = {st["pid"] for st in by_process["stats"]}
    assert {s.p.pid for _, s in procs} <= pids


def test_threads_each_their_own_stack():
    python = pyenv("3.12")
    script = os.path.join(tmpdir(), "threads.py")
    with open(script, "w") as f:
        f.write(
            "import sys, threading\n"
            "keep = []\n"
            "def worker_one():\n"
            "    keep.append([bytearray(1500) for _ in range(1000)])\n"
            "def worker_two():\n"
            "    keep.append([bytearray(2500) for _ in range(1000)])\n"
            "ts = [threading.Thread(target=worker_one),\n"
            "      threading.Thread(target=worker_two)]\n"
            "for t in ts: t.start()\n"
            "for t in ts: t.join()\n"
            "print('READY 1', flush=True)\n"
            "sys.stdin.readline()\n")
    out = os.path.join(tmpdir(), "threads.hsnap")
    s = Script([HEAPSNAP, "record", "-o", out, "--", python, script])
    s.wait(1)
    s.p.send_signal(signal.SIGUSR1)
    wait_file(out + ".1")
    s.go()
    assert s.p.wait(timeout=60) == 0
    top = heapsnap_json("top", out + ".1", "--by", "traceback", "-n", "0",
                        "--python-frames-only")
    sizes = {}
    for st in top["stats"]:
        if st["traceback"]:
            fr = st["traceback"][0]
            sizes[fr["function"]] = sizes.get(fr["function"], 0) + st["size"]
            names = [f["function"] for f in st["traceback"]]
            assert not ("worker_one" in names and "worker_two" in names)
    assert close(sizes.get("worker_one", 0), 1501 * 1000, 0.05), sizes
    assert close(sizes.get("worker_two", 0), 2501 * 1000, 0.05), sizes


def test_exec_and_exit_mid_trace():
    """A shell that execs a Python, which exits: recorded, named, no hang."""
    python = pyenv("3.11")
    out = os.path.join(tmpdir(), "exec.hsnap")
    code = ("import sys\n"
            "def leak():\n"
            "    global kept\n"
            "    kept = [bytearray(1000) for _ in range(1000)]\n"
            "leak()\n"
            "print('READY 1', flush=True)\n"
            "sys.stdin.readline()\n")
    path = os.path.join(tmpdir(), "leak.py")
    with open(path, "w") as f:
        f.write(code)
    s = Script([HEAPSNAP, "record", "-o", out, "--", "/bin/sh", "-c",
                "exec %s %s" % (python, path)])
    s.wait(1)
    s.p.send_signal(signal.SIGUSR1)
    wait_file(out + ".1")
    s.go()
    assert s.p.wait(timeout=60) == 0
    top = heapsnap_json("top", out + ".1", "--by", "function", "-n", "0",
                        "--python-frames-only")
    funcs = by_function(top)
    assert funcs.get("leak", 0) >= 1000 * 1000, funcs
    info = heapsnap_json("info", out)
    assert info["processes"][0]["exited"]
