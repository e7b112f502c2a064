# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""export and flamegraph, checked by their real consumers: `go tool pprof`
reads the pprof export of a recorded ground-truth program and must print
the same bytes as heapsnap and the program itself; headless Chromium loads
the flame graph, runs its script, and shows the top site's frame."""
import fcntl
import html.parser
import json
import os
import re
import select
import shutil
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib

from hs import HEAPSNAP, Skip, heapsnap_json, run, tmpdir
from test_record import record_cmd, record_phases

SRC = "gt_basic.c"


# ---- go tool pprof ----

def go_env():
    """Go may not reach the network nor write outside a temp dir."""
    if not shutil.which("go"):
        raise Skip("go is not installed (Debian golang-go, see make deps)")
    home = tmpdir()
    env = dict(os.environ)
    env.update(HOME=home, GOCACHE=os.path.join(home, "cache"),
               GOPATH=os.path.join(home, "path"), GOFLAGS="-mod=mod",
               GOPROXY="off", GOTOOLCHAIN="local")
    return env


def pprof_top(env, *args):
    """`go tool pprof -top` with exact bytes and every node: returns
    (shown, total, rows), rows as [(flat, cum, name)]."""
    argv = ["go", "tool", "pprof", "-top", "-unit=B", "-nodefraction=0",
            "-edgefraction=0", "-nodecount=1000000"] + list(args)
    r = subprocess.run(argv, env=env, text=True, capture_output=True,
                       timeout=120)
    assert r.returncode == 0, "%s: %s%s" % (argv, r.stdout, r.stderr)
    m = re.search(r"^Showing nodes accounting for (-?\d+)B?, [-\d.]+% of "
                  r"(-?\d+)B? total$", r.stdout, re.M)
    assert m, "no total in:\n" + r.stdout + r.stderr
    assert "Dropped" not in r.stdout, r.stdout
    rows = []
    for line in r.stdout.splitlines():
        f = re.match(r"^\s*(-?\d+)B?\s+\S+%\s+\S+%\s+(-?\d+)B?\s+\S+%\s+(.*)$",
                     line)
        if f:
            rows.append((int(f.group(1)), int(f.group(2)), f.group(3)))
    return int(m.group(1)), int(m.group(2)), rows


def by_line(rows, source):
    """-lines rows of one source file -> {line: flat}, callers' lines
    (flat 0) left out."""
    out = {}
    for flat, _, name in rows:
        if not flat:
            continue
        name = re.sub(r" \(inline\)$", "", name)
        func, _, loc = name.rpartition(" ")
        path, _, line = loc.rpartition(":")
        if os.path.basename(path) == source:
            assert int(line) not in out, (line, rows)
            out[int(line)] = flat
    return out


def export_pprof(snap):
    out = snap + ".pb.gz"
    summary = heapsnap_json("export", snap, "--format", "pprof", "-o", out)
    with open(out, "rb") as f:
        assert f.read(2) == b"\x1f\x8b", "gzip magic"
    assert summary["format"] == "pprof" and summary["output"] == out
    return out, summary


def test_pprof_top_equals_info_and_ground_truth():
    env = go_env()
    snap, gt = record_cmd("gt_basic")
    pb, summary = export_pprof(snap)
    info = heapsnap_json("info", snap)
    assert summary["total"] == {"size": info["current"],
                                "count": info["count"]}, (summary, info)

    shown, total, rows = pprof_top(env, "-sample_index=inuse_space", pb)
    assert total == info["current"] and shown == total, (shown, total, info)
    # inuse_space is the default sample type
    assert pprof_top(env, pb)[1] == info["current"]
    _, objects, _ = pprof_top(env, "-sample_index=inuse_objects", pb)
    assert objects == info["count"], (objects, info["count"])

    # per line, pprof's flat bytes are the program's own ground truth
    _, _, rows = pprof_top(env, "-lines", "-sample_index=inuse_space", pb)
    want = {line: b for (f, line), (_, b, _) in gt[2].items()
            if os.path.basename(f) == SRC}
    assert by_line(rows, SRC) == want, (by_line(rows, SRC), want)


def test_pprof_diff_base_equals_heapsnap_diff():
    env = go_env()
    base, gt = record_phases("gt_basic", 2)
    old, _ = export_pprof(base + ".1")
    new, _ = export_pprof(base + ".2")
    shown, _, rows = pprof_top(env, "-lines", "-diff_base=" + old, new)

    d = heapsnap_json("diff", base + ".1", base + ".2", "--by", "lineno",
                      "-n", "0")
    assert shown == d["total"]["size_diff"], (shown, d["total"])
    want = {}
    for st in d["stats"]:
        fr = st["traceback"][0]
        if fr["file"] and os.path.basename(fr["file"]) == SRC and \
                st["size_diff"]:
            want[fr["line"]] = st["size_diff"]
    got = by_line(rows, SRC)
    assert got == want, "pprof %s\nheapsnap %s" % (got, want)
    # and both are the program's own ground truth
    truth = {}
    for key in set(gt[1]) | set(gt[2]):
        delta = gt[2].get(key, (0, 0, 0))[1] - gt[1].get(key, (0, 0, 0))[1]
        if delta and os.path.basename(key[0]) == SRC:
            truth[key[1]] = delta
    assert got == truth, (got, truth)

    # per function too
    _, _, frows = pprof_top(env, "-diff_base=" + old, new)
    pfunc = {re.sub(r" \(inline\)$", "", n): flat for flat, _, n in frows
             if flat}
    d = heapsnap_json("diff", base + ".1", base + ".2", "--by", "function",
                      "-n", "0")
    hfunc = {st["traceback"][0]["function"]: st["size_diff"]
             for st in d["stats"] if st["size_diff"]}
    assert pfunc == hfunc, (pfunc, hfunc)


# ---- folded ----

def test_folded_sums_to_info_current():
    snap, gt = record_cmd("gt_basic")
    info = heapsnap_json("info", snap)
    r = run([HEAPSNAP, "export", snap, "--format", "folded"])
    lines = r.stdout.splitlines()
    assert lines, r
    total = 0
    for line in lines:
        stack, _, size = line.rpartition(" ")
        assert stack, line
        total += int(size)
    assert total == info["current"], (total, info["current"])
    # the biggest stack, outermost first: phase2's three sites, by name
    top = max(lines, key=lambda l: int(l.rpartition(" ")[2]))
    phase2 = sum(b for fn, b, _ in gt[2].values() if fn == "phase2")
    assert top.endswith(";main;phase2 %d" % phase2), (top, phase2)

    j = heapsnap_json("export", snap, "--format", "folded")
    assert j["total"]["size"] == info["current"]
    assert sum(s["size"] for s in j["stacks"]) == info["current"]
    assert len(j["stacks"]) == len(lines)

    # filters as in top
    f = run([HEAPSNAP, "export", snap, "--format", "folded", "--include",
             "*/" + SRC]).stdout
    top_inc = heapsnap_json("top", snap, "-n", "0", "--include", "*/" + SRC)
    assert sum(int(l.rpartition(" ")[2]) for l in f.splitlines()) == \
        top_inc["total"]["size"]

    out = os.path.join(tmpdir(), "x.folded")
    s = heapsnap_json("export", snap, "--format", "folded", "-o", out)
    with open(out) as fh:
        assert fh.read() == r.stdout
    assert s["lines"] == len(lines) and "stacks" not in s


def test_export_errors_and_help():
    snap, _ = record_cmd("gt_basic")
    for cmd in ("export", "flamegraph"):
        r = run([HEAPSNAP, cmd, "--help"])
        assert r.stdout.startswith("Usage: heapsnap " + cmd), r.stdout
    assert "alloc_space" in run([HEAPSNAP, "export", "--help"]).stdout
    r = run([HEAPSNAP, "export", snap, "--format", "xml"], check=False)
    assert r.returncode == 2 and r.stderr.startswith("Error: unknown format")
    r = run([HEAPSNAP, "export", snap, "--bogus"], check=False)
    assert r.returncode == 2 and r.stderr.startswith("Error: "), r
    r = run([HEAPSNAP, "export"], check=False)
    assert r.returncode == 2, r
    r = run([HEAPSNAP, "export", "/nonexistent.hsnap", "-o", "/dev/null"],
            check=False)
    assert r.returncode == 1 and r.stderr.startswith("Error: "), r
    r = run([HEAPSNAP, "export", snap, "-o", "/nonexistent/dir/x.pb.gz"],
            check=False)
    assert r.returncode == 1 and "Error: cannot write" in r.stderr, r
    r = run([HEAPSNAP, "flamegraph", snap, "--json"], check=False)
    assert r.returncode == 2 and "error" in json.loads(r.stdout), r
    r = run([HEAPSNAP, "flamegraph", snap, snap, snap], check=False)
    assert r.returncode == 2, r
    r = run([HEAPSNAP, "flamegraph", snap, "--width", "5"], check=False)
    assert r.returncode == 2 and "--width" in r.stderr, r


# ---- flame graph in a browser ----

def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise Skip("chromium is not installed (Debian chromium, see make deps)")


def browse(url, *args):
    """Headless Chromium on url; returns stdout (the DOM with --dump-dom)."""
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--hide-scrollbars",
            "--user-data-dir=" + tmpdir()] + list(args) + [url]
    r = subprocess.run(argv, text=True, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "%s exited %d: %s" % (argv, r.returncode,
                                                    r.stderr[-2000:])
    return r.stdout


class Frames(html.parser.HTMLParser):
    """The frames <g class="f"> of a DOM dump, with rect and title."""

    def __init__(self):
        super().__init__()
        self.frames, self.cur, self.in_title = [], None, False
        self.ids, self.texts, self.text_id = {}, {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] = a
        if tag == "g" and "f" in a.get("class", "").split():
            self.cur = {"attrs": a, "title": "", "rect": None}
            self.frames.append(self.cur)
        elif tag == "title" and self.cur is not None:
            self.in_title = True
        elif tag == "rect" and self.cur is not None:
            self.cur["rect"] = a
        elif tag == "text" and a.get("id"):
            self.text_id = a["id"]

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag == "g":
            self.cur = None
        elif tag == "text":
            self.text_id = None

    def handle_data(self, data):
        if self.in_title and self.cur is not None:
            self.cur["title"] += data
        elif self.text_id:
            self.texts[self.text_id] = self.texts.get(self.text_id, "") + data


def parse_dom(dom):
    p = Frames()
    p.feed(dom)
    return p


def find_frame(frames, prefix):
    got = [f for f in frames if f["attrs"]["data-n"].startswith(prefix)]
    assert len(got) == 1, (prefix, [f["attrs"]["data-n"] for f in frames])
    return got[0]


def png_pixels(path):
    """Decodes an 8-bit RGB(A), non-interlaced PNG: (width, rows of bytes,
    bytes per pixel)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and not interlace, hdr
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], None
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(
            raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, rows, bpp


def pixel(img, x, y):
    w, rows, bpp = img
    return tuple(rows[int(y)][int(x) * bpp:int(x) * bpp + 3])


def rgb(fill):
    return tuple(int(v) for v in re.findall(r"\d+", fill))


def near(a, b):
    return all(abs(x - y) <= 3 for x, y in zip(a, b))


def test_flamegraph_in_chromium():
    chromium()
    snap, gt = record_cmd("gt_basic")
    d = tmpdir()
    svg, page = os.path.join(d, "f.svg"), os.path.join(d, "f.html")
    s = heapsnap_json("flamegraph", snap, "-o", svg)
    assert s["format"] == "svg" and s["drawn"] > 3, s
    info = heapsnap_json("info", snap)
    assert s["total"] == {"size": info["current"], "count": info["count"]}
    ET.parse(svg)  # well-formed XML
    assert heapsnap_json("flamegraph", snap, "-o", page)["format"] == "html"

    # the script ran: it marked the svg ready and zoomed to the root
    frames = parse_dom(browse("file://" + page, "--dump-dom"))
    assert frames.ids["hs-flame"].get("data-ready") == "1", frames.ids
    assert "hs-search" in frames.ids
    line = [l for (f, l), v in gt[2].items() if v[1] == 123456][0]
    label = "phase2 (%s:%d)" % (SRC, line)
    top = find_frame(frames.frames, label)
    assert "(123456 B)" in top["title"], top["title"]
    assert top["title"].startswith("phase2\n"), top["title"]
    assert "%s:%d" % (SRC, line) in top["title"]
    root = find_frame(frames.frames, "all")
    assert "(%d B)" % info["current"] in root["title"], root["title"]

    # search by address: the frame is highlighted, the share is shown
    frames = parse_dom(browse("file://" + page + "#s=phase2", "--dump-dom"))
    top = find_frame(frames.frames, label)
    assert "match" in top["attrs"]["class"].split(), top["attrs"]
    assert top["rect"]["fill"] == "rgb(230,0,230)", top["rect"]
    assert frames.texts["matched"].startswith("Matched: "), frames.texts
    # zoom: the frame fills the width, its parents are greyed
    fid = top["attrs"]["id"]
    frames = parse_dom(browse("file://%s#z=%s" % (page, fid), "--dump-dom"))
    top = find_frame(frames.frames, label)
    assert float(top["rect"]["width"]) == 1179.0, top["rect"]
    assert float(top["rect"]["x"]) == 10.0, top["rect"]
    parents = [f["attrs"]["data-n"] for f in frames.frames
               if "parent" in f["attrs"]["class"].split()]
    assert "all" in parents and any(p.startswith("main (") for p in parents)
    shown = [f for f in frames.frames
             if "hide" not in f["attrs"]["class"].split()]
    assert len(shown) == len(parents) + 1, shown
    assert "hide" not in frames.ids["unzoom"].get("class", ""), frames.ids

    # the screenshot shows the frame in its colour, then highlighted
    tree = ET.parse(svg).getroot()
    height = int(tree.get("height"))
    ns = "{http://www.w3.org/2000/svg}"
    for g in tree.iter(ns + "g"):
        if g.get("data-n") == label:
            r = g.find(ns + "rect")
    x = float(r.get("x")) + float(r.get("width")) - 3
    y = float(r.get("y")) + 3
    shot = os.path.join(d, "f.png")
    for url, want in (("file://" + svg, rgb(r.get("fill"))),
                      ("file://" + svg + "#s=phase2", (230, 0, 230))):
        browse(url, "--screenshot=" + shot,
               "--window-size=1200,%d" % height)
        img = png_pixels(shot)
        assert img[0] == 1200, img[0]
        assert near(pixel(img, x, y), want), (url, pixel(img, x, y), want)


def high_fds(fds):
    """The fds moved to 10 and above, clear of the 3 and 4 they go to."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, replies on fd 4, each
    message ended by a NUL byte)."""

    def __init__(self, url, width=1200, height=800):
        to_chrome_r, self.to_chrome = high_fds(os.pipe())
        self.from_chrome, from_chrome_w = high_fds(os.pipe())
        argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--remote-debugging-pipe",
                "--window-size=%d,%d" % (width, height),
                "--user-data-dir=" + tmpdir(), url]
        # the shell moves the pipe ends to fds 3 and 4, then runs chromium
        sh = 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (
            to_chrome_r, from_chrome_w, to_chrome_r, from_chrome_w)
        self.p = subprocess.Popen(["bash", "-c", sh, "bash"] + argv,
                                  pass_fds=(to_chrome_r, from_chrome_w),
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.next_id, self.session = b"", 0, None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        self.session = self.call("Target.attachToTarget",
                                 targetId=page["targetId"],
                                 flatten=True)["sessionId"]

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    assert "error" not in reply, (method, reply)
                    return reply["result"]
            left = deadline - time.monotonic()
            assert left > 0, "no reply to " + method
            if select.select([self.from_chrome], [], [], left)[0]:
                data = os.read(self.from_chrome, 1 << 16)
                assert data, "chromium exited"
                self.buf += data

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        assert "exceptionDetails" not in r, (expr, r)
        return r["result"].get("value")

    def wait_js(self, expr, timeout=30):
        deadline = time.monotonic() + timeout
        while not self.js(expr):
            assert time.monotonic() < deadline, "timed out: " + expr
            time.sleep(0.1)

    def mouse(self, kind, x, y):
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y,
                  button="left", clickCount=1)

    def key(self, key, code, keycode, text=None):
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": key, "code": code,
                      "windowsVirtualKeyCode": keycode}
            if text and kind == "keyDown":
                params["text"] = text
            self.call("Input.dispatchKeyEvent", **params)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def test_flamegraph_hover_click_and_keys_in_chromium():
    chromium()
    snap, gt = record_cmd("gt_basic")
    page = os.path.join(tmpdir(), "f.html")
    heapsnap_json("flamegraph", snap, "-o", page)
    line = [l for (f, l), v in gt[2].items() if v[1] == 123456][0]
    label = "phase2 (%s:%d)" % (SRC, line)
    sel = "document.querySelector('g.f[data-n=\"%s\"] rect')" % label
    b = Browser("file://" + page)
    try:
        b.wait_js("document.getElementById('hs-flame') && document."
                  "getElementById('hs-flame').getAttribute('data-ready')")
        x, y, w = b.js("(() => { const r = %s.getBoundingClientRect(); "
                       "return [r.x + r.width / 2, r.y + r.height / 2, "
                       "r.width]; })()" % sel)
        assert w < 1000, w
        # hover: the details line tells the frame's function, file:line
        # and bytes
        b.mouse("mouseMoved", x, y)
        details = b.js("document.getElementById('details').textContent")
        assert details.startswith("phase2  |  "), details
        assert "%s:%d" % (SRC, line) in details, details
        assert "(123456 B)" in details, details
        # click: the frame fills the width
        b.mouse("mousePressed", x, y)
        b.mouse("mouseReleased", x, y)
        assert b.js(sel + ".getAttribute('width')") == "1179.00"
        assert b.js("document.getElementById('unzoom')"
                    ".classList.contains('hide')") is False
        # "/" focuses the search box; typing highlights the matches
        b.key("/", "Slash", 191, "/")
        assert b.js("document.activeElement.id") == "hs-search"
        b.call("Input.insertText", text="phase2")
        assert b.js(sel + ".getAttribute('fill')") == "rgb(230,0,230)"
        assert b.js("document.getElementById('matched').textContent"
                    ).startswith("Matched: ")
        # Escape clears the search; Reset shows every frame again
        b.key("Escape", "Escape", 27)
        assert b.js(sel + ".getAttribute('fill')") != "rgb(230,0,230)"
        assert b.js("document.getElementById('matched').textContent") == ""
        b.js("document.getElementById('hs-reset').click()")
        assert float(b.js(sel + ".getAttribute('width')")) < 1000
        assert b.js("document.querySelectorAll('g.f.hide').length") == 0
    finally:
        b.close()


def test_diff_flamegraph():
    base, gt = record_phases("gt_basic", 2)
    out = os.path.join(tmpdir(), "d.svg")
    s = heapsnap_json("flamegraph", base + ".1", base + ".2", "-o", out)
    assert s["diff"] is True
    i1, i2 = heapsnap_json("info", base + ".1"), heapsnap_json(
        "info", base + ".2")
    assert s["old_total"]["size"] == i1["current"]
    assert s["total"]["size"] == i2["current"]
    ns = "{http://www.w3.org/2000/svg}"
    fills = {}
    for g in ET.parse(out).getroot().iter(ns + "g"):
        if g.get("class") == "f":
            fills[g.get("data-n")] = (g.find(ns + "rect").get("fill"),
                                      g.find(ns + "title").text)
    # phase2 only grew; phase1's calloc (freed in phase 2) shrank
    grew = [v for k, v in fills.items() if k.startswith("phase2 (")]
    assert grew and all(f.startswith("rgb(255,") for f, _ in grew), grew
    shrank = [(k, v) for k, v in fills.items() if v[0].endswith(",255)")]
    assert shrank, fills
    assert all("\u2192" in t and ": -" in t for _, (f, t) in shrank), shrank
