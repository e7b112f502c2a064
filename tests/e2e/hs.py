# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Helpers for the end-to-end tests: run heapsnap and the ground-truth
programs, parse their output, and always clean up."""
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAPSNAP = os.path.join(TOP, "heapsnap")
# the build directory of the binary under test: build-san/ for make SAN=1
BUILD = os.environ.get("HEAPSNAP_BUILD", os.path.join(TOP, "build"))
PROGS = os.path.join(TOP, "build", "progs")

_procs = []
_tmpdirs = []


class Skip(Exception):
    pass


def prog(name):
    return os.path.join(PROGS, name)


def tmpdir():
    d = tempfile.mkdtemp(prefix="heapsnap-test-")
    _tmpdirs.append(d)
    return d


def cleanup():
    """Kills whatever a test left running: its probes go with it."""
    while _procs:
        p = _procs.pop()
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    while _tmpdirs:
        subprocess.run(["rm", "-rf", _tmpdirs.pop()])


class Lines:
    """Reads a pipe in a thread so a test can wait for a line."""

    def __init__(self, pipe):
        self.q = queue.Queue()
        self.seen = []
        t = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        t.start()

    def _pump(self, pipe):
        for line in iter(pipe.readline, ""):
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, pattern, timeout=30):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; saw:\n%s" %
                                     (pattern, "\n".join(self.seen[-30:])))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("EOF waiting for %r; saw:\n%s" %
                                     (pattern, "\n".join(self.seen[-30:])))
            self.seen.append(line)
            m = rx.search(line)
            if m:
                return m

    def rest(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
        return self.seen


def spawn(argv, **kw):
    p = subprocess.Popen(argv, text=True, **kw)
    _procs.append(p)
    return p


def run(argv, check=True, timeout=120):
    r = subprocess.run(argv, text=True, capture_output=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" %
                             (" ".join(argv), r.returncode, r.stdout,
                              r.stderr))
    return r


def heapsnap_json(*args):
    r = run([HEAPSNAP] + list(args) + ["--json"])
    return json.loads(r.stdout)


def parse_gt(lines):
    """GT lines -> {phase: {(file, line): (function, bytes, count)}}."""
    gt = {}
    for line in lines:
        f = line.split()
        if len(f) == 7 and f[0] == "GT":
            gt.setdefault(int(f[1]), {})[(f[2], int(f[3]))] = (
                f[4], int(f[5]), int(f[6]))
    return gt


def sites(top):
    """top --by lineno --json -> {(basename, line): (function, size, count)}."""
    out = {}
    for st in top["stats"]:
        fr = st["traceback"][0]
        key = (os.path.basename(fr["file"] or "?"), fr["line"])
        assert key not in out, "duplicate row %r" % (key,)
        out[key] = (fr["function"], st["size"], st["count"])
    return out


def assert_sites(snapshot, expected, source):
    """The snapshot's rows for one source file equal the ground truth."""
    top = heapsnap_json("top", snapshot, "--by", "lineno", "-n", "0",
                        "--include", "*/" + source)
    got = sites(top)
    want = {(os.path.basename(f), line): v
            for (f, line), v in expected.items()}
    assert got == want, "sites differ:\n got  %s\n want %s" % (
        sorted(got.items()), sorted(want.items()))
    return top


class Recorder:
    """heapsnap record, with its stderr readable line by line."""

    def __init__(self, args, stdout=None, stdin=None, env=None):
        self.p = spawn([HEAPSNAP, "record"] + args, stderr=subprocess.PIPE,
                       stdout=stdout, stdin=stdin, env=env)
        self.err = Lines(self.p.stderr)
        self.out = Lines(self.p.stdout) if stdout == subprocess.PIPE else None

    def wait_attached(self):
        self.err.wait_for(r"^heapsnap: tracing ")

    def snapshot(self, n):
        self.p.send_signal(signal.SIGUSR1)
        self.err.wait_for(r"^heapsnap: wrote \S+\.%d:" % n)

    def stop(self, sig=signal.SIGINT, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.finish(timeout)

    def finish(self, timeout=60):
        rc = self.p.wait(timeout=timeout)
        self.err.rest(timeout=5)
        return rc

    def stderr(self):
        return "\n".join(self.err.seen)


class Target:
    """A ground-truth program run with "wait": it pauses at each checkpoint."""

    def __init__(self, name, *args, env=None, argv=None):
        """argv, when given, runs the program some other way."""
        self.p = spawn(argv or [prog(name), "wait"] + list(args),
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.out = Lines(self.p.stdout)
        self.out.wait_for(r"^READY 0$")

    @property
    def pid(self):
        return self.p.pid

    def next_phase(self, n):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        self.out.wait_for(r"^READY %d$" % n)

    def gt(self):
        return parse_gt(self.out.seen)

    def finish(self):
        self.p.stdin.close()
        return self.p.wait(timeout=30)
