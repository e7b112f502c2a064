# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""On a terminal, record says how far its final snapshot of a million live
blocks has got, on one line redrawn in place at most ten times a second and
erased before the summary; the snapshot is still exact. (With stderr a pipe
there is no such line: test_record.test_million_live_blocks checks it.)"""
import os
import pty
import re
import select
import subprocess
import time

from hs import HEAPSNAP, heapsnap_json, prog, spawn, tmpdir

STEP = re.compile(r"heapsnap: (collecting|reading|symbolizing|storing|"
                  r"writing) ")
NUM = r"\d{1,3}(?:,\d{3})*"
FORMS = re.compile(
    r"heapsnap: (?:collecting (?P<collected>%s) blocks"
    r"|(?:reading|symbolizing) %s/%s stacks \(\d+%%\)"
    r"|storing %s/%s blocks \(\d+%%\)"
    r"|writing (?P<written>%s) blocks)" % ((NUM,) * 6))
MILLION = [(4000000, 250000), (8000000, 1), (8000000, 250000),
           (12000000, 250000), (16000000, 250000)]


def read_terminal(master, p, timeout=300):
    """Everything written to the pty until the last writer closes it, as
    (arrival time, bytes) chunks."""
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            chunks.append((time.monotonic(), chunk))
    finally:
        os.close(master)
    return chunks


def test_progress_line_on_a_terminal_for_a_million_blocks():
    out = os.path.join(tmpdir(), "s.hsnap")
    master, slave = pty.openpty()
    p = spawn([HEAPSNAP, "record", "-o", out, "--max-live", "1100000", "--",
               prog("gt_many"), "1000000"], stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = read_terminal(master, p)
    assert p.wait(timeout=60) == 0, chunks
    text = b"".join(c for _, c in chunks).decode(errors="replace")
    head, wrote, _ = text.partition("heapsnap: wrote %s: " % out)
    assert wrote, text

    drawn = [s for s in head.split("\r\x1b[K") if STEP.match(s)]
    assert drawn, "no progress line in %r" % text
    for s in drawn:
        assert FORMS.fullmatch(s), s
    collected = [int(m.group("collected").replace(",", ""))
                 for m in map(FORMS.fullmatch, drawn) if m.group("collected")]
    assert collected == sorted(collected), collected
    assert all(0 < n <= 1000002 for n in collected), collected
    written = [m.group("written") for m in map(FORMS.fullmatch, drawn)
               if m.group("written")]
    # the last step, drawn once: it begins seconds after the snapshot did
    assert written == ["1,000,002"], written
    # erased before the summary line
    assert head.endswith("\r\x1b[K"), repr(head[-200:])

    # at most ten redraws a second, and one more at each of the five steps
    times = [t for t, c in chunks if STEP.search(c.decode(errors="replace"))]
    span = times[-1] - times[0]
    assert len(drawn) <= 10 * span + 6, (len(drawn), span)

    top = heapsnap_json("top", out, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_many.c")
    got = sorted((st["size"], st["count"]) for st in top["stats"])
    assert got == MILLION, got
