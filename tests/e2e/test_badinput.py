# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Bad input: malformed snapshot files through every analysis command, and
bad targets, options, privileges and output paths given to record. Each must
give one clear line, "Error: ...", and exit 1; never crash, never hang."""
import json
import os
import struct
import subprocess
import time

from hs import BUILD, HEAPSNAP, TOP, Recorder, Skip, prog, run, spawn, tmpdir

SNAPTOOL = os.path.join(BUILD, "tools", "snaptool")
HDR = 40


def no_root(fn):
    fn.no_root = True
    return fn


def call(argv, timeout=20, **kw):
    """Runs argv; a hang is a failure, not a stuck suite."""
    try:
        return subprocess.run(argv, text=True, capture_output=True,
                              timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s hung (> %d s)" % (" ".join(argv), timeout))


def assert_error(r, what, want=None):
    """Exit 1, nothing on stdout, exactly one line on stderr: "Error: ..."."""
    desc = "%s: exit %d\nstdout: %r\nstderr: %r" % (what, r.returncode,
                                                    r.stdout, r.stderr)
    assert r.returncode == 1, desc
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), desc
    assert r.stdout == "", desc
    if want:
        assert want in lines[0], "%s\nwant %r" % (desc, want)
    return lines[0]


def assert_json_error(r, what):
    """--json: exit 1, {"error": "..."} alone on stdout, stderr empty."""
    desc = "%s --json: exit %d\nstdout: %r\nstderr: %r" % (
        what, r.returncode, r.stdout, r.stderr)
    assert r.returncode == 1, desc
    assert r.stderr == "", desc
    assert len(r.stdout.splitlines()) == 1, desc
    obj = json.loads(r.stdout)
    assert list(obj) == ["error"] and isinstance(obj["error"], str), desc
    assert obj["error"] and "\n" not in obj["error"], desc


def commands(bad, good):
    """Every way an analysis command reads a file, with bad in each place."""
    return [["info", bad], ["top", bad], ["top", bad, "--by", "traceback"],
            ["diff", bad, good], ["diff", good, bad],
            ["lookup", bad, "0x1000"]]


def check_rejected(bad, good, what, want=None):
    for args in commands(bad, good):
        name = "%s (%s)" % (" ".join(args[:1]), what)
        assert_error(call([HEAPSNAP] + args), name, want)
        assert_json_error(call([HEAPSNAP] + args + ["--json"]), name)


def valid_snapshot(d):
    """A small valid snapshot made by the builder (no root needed)."""
    if not os.access(SNAPTOOL, os.X_OK):
        raise AssertionError("%s is missing: make %s" %
                             (SNAPTOOL, os.path.relpath(SNAPTOOL, TOP)))
    run([SNAPTOOL, "seeds", d])
    path = os.path.join(d, "fuzz_parse", "small.hsnap")
    r = call([HEAPSNAP, "info", path])
    assert r.returncode == 0, r
    return path


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def sections(payload):
    """Payload -> [(tag, offset of the body, length)]."""
    out, off = [], 0
    while off + 12 <= len(payload):
        tag, length = struct.unpack_from("<IQ", payload, off)
        out.append((tag, off + 12, length))
        off += 12 + length
    return out


def rewrap(d, good, name, edit):
    """A file with valid checksums around good's payload changed by edit."""
    raw, out = os.path.join(d, name + ".raw"), os.path.join(d, name)
    run([SNAPTOOL, "unwrap", good, raw])
    with open(raw, "rb") as f:
        payload = bytearray(f.read())
    edit(payload)
    write(raw, bytes(payload))
    run([SNAPTOOL, "wrap", raw, out])
    return out


@no_root
def test_truncated_files_are_one_line_errors():
    d = tmpdir()
    good = valid_snapshot(d)
    data = open(good, "rb").read()
    for cut in sorted({0, 1, 7, 8, 11, 12, 20, 39, 40, 41, 60,
                       len(data) // 2, len(data) - 1}):
        bad = write(os.path.join(d, "cut-%d" % cut), data[:cut])
        check_rejected(bad, good, "truncated at %d of %d" % (cut, len(data)),
                       "empty file" if cut == 0 else None)


@no_root
def test_bit_flips_are_one_line_errors():
    d = tmpdir()
    good = valid_snapshot(d)
    data = open(good, "rb").read()
    for pos in (0, 5, 9, 13, 17, 25, 33, 37, HDR, HDR + 7, len(data) // 2,
                len(data) - 1):
        flipped = bytearray(data)
        flipped[pos] ^= 0x04
        bad = write(os.path.join(d, "flip-%d" % pos), bytes(flipped))
        check_rejected(bad, good, "bit flipped at byte %d" % pos)


@no_root
def test_not_snapshot_files():
    d = tmpdir()
    good = valid_snapshot(d)
    empty = write(os.path.join(d, "empty"), b"")
    check_rejected(empty, good, "empty file", "empty file")
    sub = os.path.join(d, "a-directory")
    os.mkdir(sub)
    check_rejected(sub, good, "directory", "is a directory")
    check_rejected(os.path.join(d, "missing"), good, "nonexistent path",
                   "No such file or directory")
    text = write(os.path.join(d, "text"), b"hello, world\n" * 10)
    check_rejected(text, good, "text file", "not a heapsnap snapshot")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    check_rejected(fifo, good, "FIFO without a writer", "not a regular file")
    check_rejected("/dev/zero", good, "character device",
                   "not a regular file")


@no_root
def test_wrong_version():
    d = tmpdir()
    good = valid_snapshot(d)
    data = bytearray(open(good, "rb").read())
    for version in (0, 3, 0xffffffff):
        struct.pack_into("<I", data, 8, version)
        bad = write(os.path.join(d, "v%d" % version), bytes(data))
        check_rejected(bad, good, "format version %d" % version,
                       "unsupported format version %d" % version)


@no_root
def test_huge_counts():
    d = tmpdir()
    good = valid_snapshot(d)

    def table_count(tag, count):
        def edit(p):
            for t, off, _ in sections(p):
                if t == tag:
                    struct.pack_into("<I", p, off, count)
                    return
            raise AssertionError("no section %d" % tag)
        return edit

    for tag, name in ((2, "strings"), (5, "frames"), (8, "traces")):
        for count in (0x7fffffff, 0xffffffff):
            bad = rewrap(d, good, "%s-%x" % (name, count),
                         table_count(tag, count))
            check_rejected(bad, good, "%s count %#x" % (name, count),
                           "corrupt")

    # a header that promises a payload of a petabyte
    data = bytearray(open(good, "rb").read())
    struct.pack_into("<Q", data, 16, 1 << 50)
    bad = write(os.path.join(d, "huge-payload"), bytes(data))
    check_rejected(bad, good, "payload size 2^50")


def wait_zombie(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.05)
    raise AssertionError("pid %d did not become a zombie" % pid)


def record_error(args, want, **kw):
    """record with args fails at once with one "Error: " line saying want."""
    start = time.monotonic()
    r = call([HEAPSNAP, "record"] + args, **kw)
    line = assert_error(r, "record " + " ".join(args), want)
    assert time.monotonic() - start < 15, "record took too long to fail"
    return line


def test_record_pid_that_does_not_exist():
    p = subprocess.Popen(["true"])
    p.wait()  # reaped: its pid names no process now
    with open("/proc/sys/kernel/pid_max") as f:
        beyond = int(f.read()) + 1
    for pid in (p.pid, beyond):
        if not os.path.exists("/proc/%d" % pid):
            record_error(["-p", str(pid)], "no process with pid %d" % pid)


def test_record_zombie():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        wait_zombie(pid)
        record_error(["-p", str(pid)], "pid %d is a zombie" % pid)
    finally:
        os.waitpid(pid, 0)


def test_record_kernel_thread():
    with open("/proc/2/comm") as f:
        assert f.read().strip() == "kthreadd"
    record_error(["-p", "2"], "pid 2 is a kernel thread")


def test_record_lib_without_allocator():
    d = tmpdir()
    out = os.path.join(d, "s.hsnap")
    lib = prog("libgtdl.so")
    record_error(["-o", out, "--lib", lib, "--", prog("gt_basic")],
                 "%s: no allocator functions in it" % lib)
    text = write(os.path.join(d, "notelf.so"), b"not an ELF file\n")
    record_error(["-o", out, "--lib", text, "--", prog("gt_basic")],
                 "%s: Exec format error" % text)
    record_error(["-o", out, "--lib", os.path.join(d, "missing.so"), "--",
                  prog("gt_basic")], "No such file or directory")
    assert os.listdir(d) == ["notelf.so"], os.listdir(d)


def test_record_static_binaries():
    d = tmpdir()
    out = os.path.join(d, "s.hsnap")
    stripped = prog("gt_static_stripped")
    record_error(["-o", out, "--", stripped],
                 "%s is statically linked and stripped" % stripped)
    # -p on a running static process says the same
    t = spawn([stripped, "wait"], stdin=subprocess.PIPE,
              stdout=subprocess.DEVNULL)
    record_error(["-o", out, "-p", str(t.pid)],
                 "%s is statically linked and stripped" % stripped)
    assert t.poll() is None, "the target did not survive"
    assert os.listdir(d) == [], os.listdir(d)
    # with its symbols, the allocator inside it is found, and --lib EXE
    # names it just as well
    static = prog("gt_static")
    for opts in ([], ["--lib", static]):
        rec = Recorder(["-o", out] + opts + ["--", static],
                       stdout=subprocess.DEVNULL)
        assert rec.finish() == 0, rec.stderr()
        top = json.loads(run([HEAPSNAP, "top", out, "--json", "-n", "0",
                              "--include", "*/gt_static.c"]).stdout)
        rows = [(s["size"], s["count"]) for s in top["stats"]]
        assert rows == [(1234, 1)], (opts, rows)


def test_record_not_root():
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    r = call(nobody + [HEAPSNAP, "record", "-p", "1"])
    assert_error(r, "record as nobody", "needs root")
    r = call(nobody + [HEAPSNAP, "record", "--", "/bin/true"])
    assert_error(r, "record -- CMD as nobody", "needs root")


def assert_not_started(d, r, target=None):
    """Nothing was attached or run, and nothing was left behind."""
    assert "heapsnap: tracing" not in r.stderr, r.stderr
    assert "READY" not in r.stdout, "the command ran:\n" + r.stdout
    if target:
        assert target.poll() is None, "the target did not survive"
    assert os.listdir(d) == [], os.listdir(d)


def test_record_output_directory_missing():
    d = tmpdir()
    out = os.path.join(d, "no", "such", "dir", "s.hsnap")
    r = call([HEAPSNAP, "record", "-o", out, "--", prog("gt_basic")])
    assert_error(r, "record to a missing directory",
                 "cannot write %s: No such file or directory" % out)
    assert_not_started(d, r)
    # -p: the process is left alone
    t = spawn(["sleep", "30"])
    r = call([HEAPSNAP, "record", "-o", out, "-p", str(t.pid)])
    assert_error(r, "record -p to a missing directory",
                 "No such file or directory")
    assert_not_started(d, r, t)


def test_record_output_is_a_directory():
    d = tmpdir()
    r = call([HEAPSNAP, "record", "-o", d, "--", prog("gt_basic")])
    assert_error(r, "record to a directory", "cannot write %s: Is a directory"
                 % d)
    assert_not_started(d, r)


def test_record_output_directory_read_only():
    """A read-only mount: root may write anywhere else. The check happens
    before attaching, so a long recording does not fail at its end."""
    d = tmpdir()
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    out = os.path.join(ro, "s.hsnap")
    script = ("mount -t tmpfs -o ro,size=64k tmpfs %s && "
              "exec %s record -o %s -i 1 -- %s" % (ro, HEAPSNAP, out,
                                                   prog("gt_basic")))
    r = call(["unshare", "-m", "--propagation", "private", "sh", "-c",
              script])
    if "mount:" in r.stderr:
        raise Skip("cannot mount a tmpfs here: " + r.stderr.strip())
    assert_error(r, "record to a read-only directory",
                 "cannot write %s: Read-only file system" % out)
    assert "READY" not in r.stdout, r.stdout
    assert os.listdir(ro) == [], os.listdir(ro)


def test_record_disk_full_keeps_the_old_file():
    """The disk fills while the final snapshot is written: the old file at
    the output path stays as it was, no temporary file is left, and the
    error says so in one line."""
    d = tmpdir()
    small = os.path.join(d, "fs")
    os.mkdir(small)
    old = valid_snapshot(tmpdir())
    out = os.path.join(small, "s.hsnap")
    keep = os.path.join(d, "after.hsnap")
    script = ("mount -t tmpfs -o size=256k tmpfs {fs} && cp {old} {out} && "
              "{hs} record -o {out} -- {prog} 100000 >/dev/null; rc=$?; "
              "ls -A {fs}; cp {out} {keep}; exit $rc").format(
                  fs=small, old=old, out=out, hs=HEAPSNAP,
                  prog=prog("gt_many"), keep=keep)
    r = call(["unshare", "-m", "--propagation", "private", "sh", "-c",
              script], timeout=120)
    if "mount:" in r.stderr:
        raise Skip("cannot mount a tmpfs here: " + r.stderr.strip())
    errors = [l for l in r.stderr.splitlines() if l.startswith("Error: ")]
    assert r.returncode == 1, r
    assert errors == ["Error: cannot write %s: No space left on device" %
                      out], r.stderr
    assert "heapsnap: tracing" in r.stderr, r.stderr
    assert r.stdout.split() == ["s.hsnap"], "left in the directory: %r" % (
        r.stdout)
    assert open(keep, "rb").read() == open(old, "rb").read(), \
        "the old file changed"


def test_record_bad_options():
    for args, want in ((["-p", "abc"], "invalid pid 'abc'"),
                       (["-p", "0"], "invalid pid '0'"),
                       (["-f", "0", "-p", "1"], "--frames must be"),
                       (["-d", "-1", "-p", "1"], "invalid number of seconds"),
                       (["-i", "0", "-p", "1"], "invalid number of seconds"),
                       (["--max-live", "0", "-p", "1"], "invalid size"),
                       ([], "give one of -p PID, -a or -- CMD"),
                       (["-p", "1", "--", "true"],
                        "give one of -p PID, -a or -- CMD")):
        r = call([HEAPSNAP, "record"] + args)
        assert r.returncode == 2, (args, r)
        errors = [l for l in r.stderr.splitlines() if l.startswith("Error: ")]
        assert len(errors) == 1 and want in errors[0], (args, r.stderr)


def test_record_command_not_found():
    d = tmpdir()
    record_error(["-o", os.path.join(d, "s.hsnap"), "--",
                  "no-such-command-heapsnap"],
                 "cannot run no-such-command-heapsnap: command not found")
    assert os.listdir(d) == []


@no_root
def test_fuzz_seed_corpus():
    """The seeds are what their names say: *.hsnap read, broken-* are
    one-line errors (a seed lost to .gitignore once left the fuzzers
    without a single valid file)."""
    for target in ("fuzz_parse", "fuzz_analyze"):
        d = os.path.join(TOP, "tests", "fuzz", "corpus", target)
        names = sorted(os.listdir(d))
        valid = [n for n in names if n.endswith(".hsnap")]
        assert len(valid) >= 8 and any(n.startswith("real-") for n in valid), \
            names
        for n in names:
            r = call([HEAPSNAP, "info", os.path.join(d, n)])
            if n.startswith("broken-"):
                assert_error(r, "info " + n)
            else:
                assert r.returncode == 0, (n, r)
    payloads = os.listdir(os.path.join(TOP, "tests", "fuzz", "corpus",
                                       "fuzz_payload"))
    assert len([n for n in payloads if n.startswith("real-")]) >= 4, payloads
