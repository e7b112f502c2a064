# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Security: snapshot files are private, symlinks planted where heapsnap
writes are never followed, and a container's paths are resolved inside the
container's root, never on the host."""
import ctypes
import os
import re
import signal
import stat
import subprocess
import time

from hs import (HEAPSNAP, Lines, Recorder, Skip, heapsnap_json, prog, run,
                spawn, tmpdir)

IN_OPEN = 0x20
IN_ACCESS = 0x01


def test_snapshot_files_are_0600():
    d = tmpdir()
    out = os.path.join(d, "s.hsnap")
    old = os.umask(0)
    try:
        rec = Recorder(["-o", out, "-i", "0.3", "--", prog("gt_churn"),
                        "1.2", "100"], stdout=subprocess.DEVNULL)
    finally:
        os.umask(old)
    assert rec.finish() == 0, rec.stderr()
    names = sorted(os.listdir(d))
    assert "s.hsnap" in names and "s.hsnap.1" in names, names
    for n in names:
        mode = stat.S_IMODE(os.lstat(os.path.join(d, n)).st_mode)
        assert mode == 0o600, "%s has mode %o" % (n, mode)


def test_symlink_at_the_temporary_path_is_not_followed():
    """The temporary file is created with O_CREAT|O_EXCL|O_NOFOLLOW: a
    symlink planted at its name is skipped, never written through. The
    names are random; libfixrand.so makes them 0, 1, 2, ... so that the
    test can plant symlinks at the first 32 of them."""
    d = tmpdir()
    victim = os.path.join(tmpdir(), "victim")
    with open(victim, "wb") as f:
        f.write(b"precious\n")
    for i in range(32):
        os.symlink(victim, os.path.join(d, ".s.hsnap.%08x.tmp" % i))
    out = os.path.join(d, "s.hsnap")
    env = dict(os.environ, LD_PRELOAD=prog("libfixrand.so"))
    r = subprocess.run([HEAPSNAP, "record", "-o", out, "--",
                        prog("gt_basic")], env=env, text=True,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r
    assert open(victim, "rb").read() == b"precious\n", "victim overwritten"
    assert stat.S_ISREG(os.lstat(out).st_mode), "output is not a file"
    assert heapsnap_json("info", out)["count"] > 0
    links = [n for n in os.listdir(d) if n.endswith(".tmp")]
    assert len(links) == 32 and all(
        os.readlink(os.path.join(d, n)) == victim for n in links), links


def test_symlink_at_the_output_path_is_replaced():
    """rename() replaces a symlink at the output path with the new file; the
    file it pointed to is left alone."""
    d = tmpdir()
    victim = os.path.join(tmpdir(), "victim")
    with open(victim, "wb") as f:
        f.write(b"precious\n")
    out = os.path.join(d, "s.hsnap")
    os.symlink(victim, out)
    rec = Recorder(["-o", out, "--", prog("gt_basic")],
                   stdout=subprocess.DEVNULL)
    assert rec.finish() == 0, rec.stderr()
    assert open(victim, "rb").read() == b"precious\n", "victim overwritten"
    st = os.lstat(out)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert heapsnap_json("info", out)["count"] > 0


class Inotify:
    """Reports opens of watched files, whoever opens them."""

    def __init__(self, paths):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, ctypes.get_errno()
        self.wds = {}
        for p in paths:
            wd = self.libc.inotify_add_watch(self.fd, p.encode(),
                                             IN_OPEN | IN_ACCESS)
            assert wd >= 0, (p, ctypes.get_errno())
            self.wds[wd] = p

    def opened(self):
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return set()
        seen, off = set(), 0
        while off + 16 <= len(data):  # struct inotify_event
            wd = int.from_bytes(data[off:off + 4], "little", signed=True)
            length = int.from_bytes(data[off + 12:off + 16], "little")
            seen.add(self.wds.get(wd, wd))
            off += 16 + length
        return seen

    def close(self):
        os.close(self.fd)


def make_root(base):
    """A container root: the host's /usr bound read-only, our programs in
    /prog, an empty /etc and /tmp."""
    root = os.path.join(base, "root")
    for sub in ("usr", "prog", "etc", "tmp", "proc", "dev"):
        os.makedirs(os.path.join(root, sub))
    binds = ["/usr"]
    for top in ("bin", "sbin", "lib", "lib64"):
        host = "/" + top
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, top))
        elif os.path.isdir(host):
            os.makedirs(os.path.join(root, top))
            binds.append(host)
    for name in ("gt_dlswap", "libgtdl.so"):
        with open(prog(name), "rb") as src, \
                open(os.path.join(root, "prog", name), "wb") as dst:
            dst.write(src.read())
        os.chmod(os.path.join(root, "prog", name), 0o755)
    os.makedirs(os.path.join(root, "oldroot"))
    # pivot_root, as container runtimes do, so that paths in /proc/PID/maps
    # are the container's own
    setup = ["mount --bind %s %s" % (root, root)]
    setup += ["mount --bind %s %s%s" % (b, root, b) for b in binds]
    setup += ["cd %s" % root, "pivot_root . oldroot",
              "mount -t proc proc /proc", "umount -l /oldroot"]
    return root, " && ".join(setup)


def wait_state(pid, states, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in states:
                return
        time.sleep(0.02)
    raise AssertionError("pid %d did not stop" % pid)


def traced_opens(log):
    """(call, path argument, path of the fd it returned) from strace -y."""
    rx = re.compile(r'(open|openat|openat2)\((?:[^,]*, )?"([^"]*)".*= \d+<(.*)>$')
    out = []
    with open(log) as f:
        for line in f:
            m = rx.search(line.rstrip("\n"))
            if m:
                out.append(m.groups())
    return out


def test_container_paths_stay_inside_the_container():
    """A process in its own mount namespace and root maps /prog/libgtdl.so,
    allocates in it, unloads it, and puts a symlink to a host path where the
    library was. heapsnap learns of the mapping after it is gone, so
    /proc/PID/map_files no longer has it and the path must be opened inside
    the container's root: the symlink then leads nowhere (the target does
    not exist in the container), the frames keep module+offset, and no host
    file is opened. Before the fix, /proc/PID/root/prog/libgtdl.so followed
    the absolute symlink on the host. (heapsnap is held with SIGSTOP while
    the library is mapped and unmapped, so that it cannot open it through
    map_files first.)"""
    base = tmpdir()
    canary = os.path.join(base, "host-canary")
    with open(canary, "w") as f:
        f.write("a host file the container must not make us open\n")
    watch = Inotify([canary, "/etc/shadow"])
    try:
        # a host file, a secret one, the host's root, and a FIFO (opening
        # it without O_NONBLOCK would hang heapsnap)
        for target in (canary, "/etc/shadow", "/", "fifo:"):
            check_container_run(canary, target, watch)
        # once without strace: under ptrace, a SAN=1 build's leak check
        # cannot run at exit, so it is done here
        check_container_run(canary, canary, watch, traced=False)
    finally:
        watch.close()


def check_container_run(canary, target, watch, traced=True):
    d = tmpdir()
    root, mounts = make_root(os.path.join(d, "c"))
    script = "%s && exec /prog/gt_dlswap /prog/libgtdl.so %s" % (mounts,
                                                                  target)
    t = spawn(["unshare", "-m", "--propagation", "private", "sh", "-c",
               script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lines = Lines(t.stdout)
    try:
        lines.wait_for(r"^READY 0$", timeout=15)
    except AssertionError:
        if t.poll() is not None:
            raise Skip("cannot make a container here (exit %d)" %
                       t.returncode)
        raise
    maps = open("/proc/%d/maps" % t.pid).read()
    assert " /prog/gt_dlswap\n" in maps, maps
    watch.opened()  # drop what happened before
    out = os.path.join(d, "s.hsnap")
    log = os.path.join(d, "strace.log")
    # frame pointers walk on past the unreadable library (call-frame tables
    # would have to stop there)
    argv = [HEAPSNAP, "record", "-p", str(t.pid), "--unwind", "fp", "-o", out]
    env = None
    if traced:
        # pdeathsig: if the test kills strace, heapsnap goes too
        argv = ["strace", "-f", "-qq", "-y", "-e", "trace=open,openat,openat2",
                "-o", log, "setpriv", "--pdeathsig", "KILL"] + argv
        # LeakSanitizer cannot stop the threads of a traced process
        env = dict(os.environ, ASAN_OPTIONS=":".join(
            filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"])))
    rec = spawn(argv, stderr=subprocess.PIPE, env=env)
    err = Lines(rec.stderr)
    err.wait_for(r"^heapsnap: tracing ")
    # heapsnap is stopped while the library comes and goes, so that it
    # learns of the mapping only once /proc/PID/map_files has lost it
    hs_pid = rec.pid
    if traced:
        with open("/proc/%d/task/%d/children" % (rec.pid, rec.pid)) as f:
            hs_pid = int(f.read().split()[0])
    os.kill(hs_pid, signal.SIGSTOP)
    wait_state(hs_pid, "tT")
    t.stdin.write("go\n")
    t.stdin.flush()
    lines.wait_for(r"^READY 1$")
    os.kill(hs_pid, signal.SIGCONT)
    time.sleep(0.6)  # several side-band drains after the swap
    t.stdin.close()
    assert t.wait(timeout=30) == 0
    assert rec.wait(timeout=60) == 0, "\n".join(err.rest())
    err.rest()

    opened = watch.opened()
    assert not opened, "heapsnap opened host files %s (symlink to %s)" % (
        opened, target)
    if traced:
        check_traced_opens(log, canary)
    check_container_snapshot(out)


def check_traced_opens(log, canary):
    opens = traced_opens(log)
    # ("/" is also how the O_PATH descriptor of the container's own root,
    # /proc/PID/root, shows: only the library's path must not lead there)
    host = [o for o in opens if o[2] in (canary, "/etc/shadow") or
            (o[2] == "/" and "libgtdl" in o[1])]
    assert not host, "host files opened for the container: %s" % host
    # the library was looked up by its path: the case this test is about
    attempts = [l for l in open(log) if "prog/libgtdl.so" in l and
                "map_files" not in l]
    assert attempts, "heapsnap never opened the library by path:\n" + \
        "".join(l for l in open(log) if "libgtdl" in l)


def check_container_snapshot(out):
    top = heapsnap_json("top", out, "--by", "traceback", "-n", "0")
    rows = [s for s in top["stats"]
            if s["traceback"][0]["module"] == "/prog/libgtdl.so"]
    assert len(rows) == 1 and (rows[0]["size"], rows[0]["count"]) == (
        6666, 3), top["stats"]
    fr = rows[0]["traceback"][0]
    assert (fr["function"], fr["file"], fr["line"]) == (None, None, None), fr
    assert fr["offset"] > 0, fr
    text = run([HEAPSNAP, "top", out, "--by", "traceback", "-n", "0"]).stdout
    assert re.search(r"/prog/libgtdl\.so\+0x[0-9a-f]+", text), text
    # the rest of the traceback still symbolizes from the container's files
    assert any(f["function"] == "main" for f in rows[0]["traceback"]), rows
