# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""top -p PID: the live view, driven through tmux like a user at a terminal
(keys in, screen out), and its JSON stream; numbers against the ground
truth of gt_basic."""
import json
import os
import re
import shlex
import subprocess
import time

from hs import HEAPSNAP, Target, assert_sites, run, spawn, Lines, tmpdir


def fmt_size(size, sign=False):
    """The sizes the screen shows (tracemalloc's _format_size)."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    for i, unit in enumerate(units):
        mag = abs(size)
        if mag < 100 and i:
            return ("%+.1f %s" if sign else "%.1f %s") % (size, unit)
        if mag < 10 * 1024 or i == len(units) - 1:
            return ("%+.0f %s" if sign else "%.0f %s") % (size, unit)
        size /= 1024


def parse_rows(screen):
    """Rows under the column titles: {site: (size, count, change)}."""
    lines = screen.split("\n")
    start = next(i for i, l in enumerate(lines) if l.strip().startswith(
        "SIZE") and "SITE" in l) + 1
    rows = {}
    for line in lines[start:]:
        site = line[34:].strip()
        if not site or site.startswith("Total"):
            break
        rows[site] = (line[0:10].strip(), line[11:20].strip(),
                      line[21:32].strip())
    return rows


def total_line(screen):
    m = re.search(r"^\s*(\S+ \S+)\s+(\d+)\s+.*Total", screen, re.M)
    return (m.group(1), m.group(2)) if m else None


class Tmux:
    """A private tmux server with one 160x50 window running argv."""

    def __init__(self, argv, rcfile):
        self.sock = "heapsnap-live-%d" % os.getpid()
        cmd = "%s; echo $? > %s" % (" ".join(shlex.quote(a) for a in argv),
                                    shlex.quote(rcfile))
        self.tmux(["new-session", "-d", "-x", "160", "-y", "50", cmd])

    def tmux(self, args):
        return subprocess.run(["tmux", "-L", self.sock] + args, check=True,
                              capture_output=True, text=True).stdout

    def screen(self):
        return self.tmux(["capture-pane", "-p"])

    def keys(self, *keys):
        self.tmux(["send-keys"] + list(keys))

    def wait_for(self, pred, what, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if pred(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; screen:\n%s"
                                     % (what, s))
            time.sleep(0.1)

    def kill(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"],
                       capture_output=True)


def expected_rows(gt_phase):
    """GT {(file, line): (func, bytes, count)} -> {"basename:line": ...}."""
    return {"%s:%d" % (os.path.basename(f), line): (fmt_size(b), str(c))
            for (f, line), (func, b, c) in gt_phase.items()}


def screen_sites(screen):
    return {os.path.basename(site): (size, count)
            for site, (size, count, change) in parse_rows(screen).items()}


def screen_keys(screen):
    """Rows by their key's name: a file's base name, a function's name."""
    return {os.path.basename(site.split(" (")[0]): (size, count)
            for site, (size, count, change) in parse_rows(screen).items()}


def expected_functions(gt_phase, cumulative=False):
    """GT -> {function: (bytes, count)}; cumulative, main holds them all."""
    sums = {}
    for func, b, c in gt_phase.values():
        size, count = sums.get(func, (0, 0))
        sums[func] = (size + b, count + c)
    if cumulative:
        sums["main"] = gt_total(gt_phase)
    return sums


def wait_rows(tm, title, want, total):
    """The view titled title shows want's rows ({key: (size, count)})
    exactly; with a total, every other row holds the total (the frames
    below main: every block's), without one there is no other row."""
    def shown(size_count):
        return fmt_size(size_count[0]), str(size_count[1])

    def rows_match(s):
        rows = screen_keys(s)
        return ("%s\n" % title) in s and \
            {k: rows.get(k) for k in want} == want and \
            all(v == total for k, v in rows.items() if k not in want)
    want = {k: shown(v) for k, v in want.items()}
    total = total and shown(total)
    return tm.wait_for(rows_match, "%s: %s, the rest %s" % (title, want,
                                                            total))


def gt_total(gt_phase):
    return (sum(b for _, b, _ in gt_phase.values()),
            sum(c for _, _, c in gt_phase.values()))


def wait_total(tm, gt_phase):
    size, count = gt_total(gt_phase)
    want = (fmt_size(size), str(count))
    return tm.wait_for(lambda s: total_line(s) == want,
                       "the total %s in %s blocks" % want)


def test_live_view_keys_and_exact_numbers():
    if subprocess.run(["which", "tmux"], capture_output=True).returncode:
        raise AssertionError("tmux is not installed (make deps)")
    d = tmpdir()
    out, rcfile = os.path.join(d, "live.hsnap"), os.path.join(d, "rc")
    t = Target("gt_basic")
    tm = Tmux([HEAPSNAP, "top", "-p", str(t.pid), "--include",
               "*/gt_basic.c", "-n", "0", "-o", out], rcfile)
    try:
        tm.wait_for(lambda s: "heapsnap top - pid %d (" % t.pid in s and
                    "SITE" in s, "the live view")
        t.next_phase(1)
        gt = t.gt()
        s = wait_total(tm, gt[1])
        assert screen_sites(s) == expected_rows(gt[1]), s
        assert "By lineno\n" in s

        tm.keys("k")
        s = tm.wait_for(lambda s: "By filename\n" in s, "the filename key")
        rows = parse_rows(s)
        size, count = gt_total(gt[1])
        assert [(os.path.basename(k), v[0], v[1]) for k, v in rows.items()] \
            == [("gt_basic.c", fmt_size(size), str(count))], s

        # cumulative: every block is in gt_basic.c once, however many of
        # its frames are there, and in each file below main
        tm.keys("c")
        wait_rows(tm, "By filename, cumulative", {"gt_basic.c": (size, count)},
                  (size, count))
        tm.keys("c", "k")
        wait_rows(tm, "By function", expected_functions(gt[1]), None)

        tm.keys("s")
        s = tm.wait_for(lambda s: "wrote %s.1" % out in s, "the snapshot")
        assert_sites(out + ".1", gt[1], "gt_basic.c")

        t.next_phase(2)
        gt = t.gt()
        wait_rows(tm, "By function", expected_functions(gt[2]), None)
        tm.keys("c")
        wait_rows(tm, "By function, cumulative",
                  expected_functions(gt[2], cumulative=True), gt_total(gt[2]))
        tm.keys("c", "k", "k", "k", "k")  # module traceback process lineno
        tm.wait_for(lambda s: "By lineno\n" in s, "lineno again")
        s = wait_total(tm, gt[2])
        assert screen_sites(s) == expected_rows(gt[2]), s

        tm.keys("r")
        s = tm.wait_for(lambda s: "(since " in s, "the peak reset")
        m = re.search(r"Live: (\S+ \S+) in \d+ blocks?   peak: (\S+ \S+) "
                      r"\(since", s)
        assert m and m.group(1) == m.group(2), s

        tm.keys("q")
        deadline = time.monotonic() + 30
        while not os.path.exists(rcfile) or not open(rcfile).read():
            assert time.monotonic() < deadline, "q did not quit"
            time.sleep(0.1)
        assert open(rcfile).read().strip() == "0"
    finally:
        tm.kill()
    # detached, the program goes on unharmed
    assert t.finish() == 0


def test_live_json_stream_until_the_target_exits():
    t = Target("gt_basic")
    p = spawn([HEAPSNAP, "top", "-p", str(t.pid), "--include",
               "*/gt_basic.c", "-n", "0", "-d", "0.2", "--json"],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = Lines(p.stdout)
    frames = []

    def until(pred):
        while True:
            out.wait_for(r"^\{")
            frames.append(json.loads(out.seen[-1]))
            if pred(frames[-1]):
                return frames[-1]

    until(lambda f: True)
    t.next_phase(1)
    gt = t.gt()
    size1, count1 = gt_total(gt[1])
    f = until(lambda f: f["top"]["total"]["size"] == size1)
    assert f["top"]["total"]["count"] == count1
    got = {"%s:%d" % (os.path.basename(r["traceback"][0]["file"]),
                      r["traceback"][0]["line"]): (r["size"], r["count"])
           for r in f["top"]["stats"]}
    want = {"%s:%d" % (os.path.basename(fl), line): (b, c)
            for (fl, line), (func, b, c) in gt[1].items()}
    assert got == want, (got, want)
    mark = len(frames)
    t.next_phase(2)
    gt = t.gt()
    size2, count2 = gt_total(gt[2])
    until(lambda f: f["top"]["total"]["size"] == size2)
    # the changes of the refreshes in between add up to the phase's
    assert sum(f["top"]["total"]["size_diff"] for f in frames[mark:]) == \
        size2 - size1
    assert all(f["current"] >= f["top"]["total"]["size"] for f in frames)
    assert t.finish() == 0
    assert p.wait(timeout=30) == 0
    rest = [json.loads(l) for l in out.rest() if l.startswith("{")]
    last = rest[-1] if rest else frames[-1]
    assert last["exited"] is True


def test_live_bad_input():
    r = run([HEAPSNAP, "top", "-p", "2147483000"], check=False)
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and \
        r.stderr.count("\n") == 1, r.stderr
    for argv, msg in ((["top", "-p", "x1"], "bad pid list"),
                      (["top", "-p", "1", "f.hsnap"], "not FILE"),
                      (["top", "f.hsnap", "-d", "1"], "need -p"),
                      (["top", "-p", "1", "-d", "0"], "-d needs"),
                      (["diff", "-p", "1", "a", "b"], "live view")):
        r = run([HEAPSNAP] + argv, check=False)
        assert r.returncode == 2 and msg in r.stderr and \
            r.stderr.count("\n") == 1, (argv, r.stderr)
