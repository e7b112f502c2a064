# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""record --push: every snapshot record writes is also POSTed to a
Pyroscope-compatible /ingest. A receiver started here, on 127.0.0.1, keeps
each request and checks its shape; `go tool pprof` decodes the profile in
it, which must hold exactly the snapshot file's bytes and the ground-truth
program's sites. A backend that is down, failing or hung only warns."""
import calendar
import email.parser
import email.policy
import gzip
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

from hs import (HEAPSNAP, Recorder, Target, assert_sites, heapsnap_json,
                parse_gt, prog, run, tmpdir)
from test_export import by_line, go_env, pprof_top

SRC = "gt_basic.c"
SAMPLE_TYPE_CONFIG = {
    "inuse_space": {"units": "bytes", "aggregation": "average",
                    "sampled": False},
    "inuse_objects": {"units": "objects", "aggregation": "average",
                      "sampled": False},
}


class Receiver:
    """A stand-in for the backend: keeps every request, answers status."""

    def __init__(self, status=200, reply=b""):
        self.requests = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                n = int(self.headers.get("Content-Length", 0))
                req = {"method": self.command, "path": self.path,
                       "headers": self.headers, "body": self.rfile.read(n)}
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                with outer.cond:
                    outer.requests.append(req)
                    outer.cond.notify_all()

            do_POST = do_GET = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def wait(self, n, timeout=30):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.requests) >= n,
                                    timeout)
        assert ok, "%d requests, want %d" % (len(self.requests), n)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def no_proxy_env():
    """libcurl honours *_proxy: the receiver is reached directly."""
    return {k: v for k, v in os.environ.items()
            if not k.lower().endswith("_proxy")}


def closed_port():
    """A port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def form_parts(req):
    """The multipart/form-data body -> {field: (filename, type, bytes)}."""
    ctype = req["headers"]["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary="), ctype
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req["body"])
    assert msg.is_multipart() and not msg.defects, msg.defects
    parts = {}
    for part in msg.iter_parts():
        assert part.get_content_disposition() == "form-data"
        name = part.get_param("name", header="content-disposition")
        assert name not in parts, name
        parts[name] = (part.get_filename(), part.get_content_type(),
                       part.get_payload(decode=True))
    return parts


def check_request(req, name, path="/ingest"):
    """The shape of one push; returns (from, until, the pprof bytes)."""
    assert req["method"] == "POST", req["method"]
    url = urllib.parse.urlsplit(req["path"])
    assert url.path == path, req["path"]
    q = urllib.parse.parse_qs(url.query, strict_parsing=True)
    assert all(len(v) == 1 for v in q.values()), q
    q = {k: v[0] for k, v in q.items()}
    assert q == {"name": name, "from": q["from"], "until": q["until"],
                 "format": "pprof", "spyName": "heapsnap"}, q
    start, until = int(q["from"]), int(q["until"])
    assert start <= until, q

    parts = form_parts(req)
    assert sorted(parts) == ["profile", "sample_type_config"], parts.keys()
    fname, ctype, pb = parts["profile"]
    assert fname == "profile.pprof" and \
        ctype == "application/octet-stream", (fname, ctype)
    assert pb[:2] == b"\x1f\x8b", "not gzip"
    gzip.decompress(pb)
    fname, ctype, cfg = parts["sample_type_config"]
    assert fname == "sample_type_config.json" and \
        ctype == "application/json", (fname, ctype)
    assert json.loads(cfg) == SAMPLE_TYPE_CONFIG, cfg
    return start, until, pb


def unix_time(info):
    return calendar.timegm(time.strptime(info["time"], "%Y-%m-%dT%H:%M:%SZ"))


def check_profile(env, pb, snap, gt_phase):
    """go tool pprof reads the pushed profile: inuse_space is the file's
    current bytes, inuse_objects its blocks, each line the ground truth."""
    path = os.path.join(tmpdir(), "pushed.pb.gz")
    with open(path, "wb") as f:
        f.write(pb)
    info = heapsnap_json("info", snap)
    shown, total, _ = pprof_top(env, "-sample_index=inuse_space", path)
    assert shown == total == info["current"], (shown, total, info)
    _, objects, _ = pprof_top(env, "-sample_index=inuse_objects", path)
    assert objects == info["count"], (objects, info["count"])
    _, _, rows = pprof_top(env, "-lines", "-sample_index=inuse_space", path)
    want = {line: b for (f, line), (_, b, _) in gt_phase.items()
            if os.path.basename(f) == SRC}
    assert by_line(rows, SRC) == want, (by_line(rows, SRC), want)
    return info


def test_push_each_numbered_snapshot_and_the_final_one():
    env = go_env()
    rcv = Receiver()
    try:
        out = os.path.join(tmpdir(), "s.hsnap")
        t = Target("gt_basic")
        t0 = int(time.time())
        rec = Recorder(["-p", str(t.pid), "-o", out, "--push", rcv.url,
                        "--app", "heapsnap-test.api", "--label", "env=ci",
                        "--label", "q=a&b=c d/e:f"], env=no_proxy_env())
        rec.wait_attached()
        for n in (1, 2):
            t.next_phase(n)
            time.sleep(1.1)  # each snapshot in a second of its own
            rec.snapshot(n)
            rcv.wait(n)  # SIGUSR1: one push per numbered snapshot
        assert t.finish() == 0
        rc = rec.finish()
        t1 = int(time.time())
        assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
        gt = t.gt()
        assert len(rcv.requests) == 3, len(rcv.requests)
        name = "heapsnap-test.api{env=ci,q=a&b=c d/e:f}"
        last = None
        for req, snap, phase in zip(rcv.requests,
                                    [out + ".1", out + ".2", out],
                                    [1, 2, 2]):
            start, until, pb = check_request(req, name)
            info = check_profile(env, pb, snap, gt[phase])
            assert until == unix_time(info), (until, info["time"])
            # each push covers the time since the previous snapshot, the
            # first one since record started
            if last is None:
                assert t0 <= start < until, (t0, start, until)
            else:
                assert start == last, (start, last)
            assert until <= t1, (until, t1)
            last = until
        assert "warning" not in rec.stderr(), rec.stderr()
        assert "heapsnap: pushed 3 snapshots to %s/ingest as %s" % (
            rcv.url, name) in rec.err.seen, rec.stderr()
    finally:
        rcv.close()


def test_push_final_snapshot_of_a_command_named_after_it():
    env = go_env()
    rcv = Receiver()
    try:
        out = os.path.join(tmpdir(), "s.hsnap")
        # a path prefix and a trailing slash are kept: PREFIX/ingest
        rec = Recorder(["-o", out, "--push", rcv.url + "/pyroscope/",
                        "--", prog("gt_basic")], stdout=subprocess.PIPE,
                       env=no_proxy_env())
        rc = rec.finish(timeout=120)
        assert rc == 0, "record exited %d:\n%s" % (rc, rec.stderr())
        gt = parse_gt(rec.out.rest())
        assert len(rcv.requests) == 1, len(rcv.requests)
        _, _, pb = check_request(rcv.requests[0], "gt_basic{}",
                                 "/pyroscope/ingest")
        check_profile(env, pb, out, gt[2])
    finally:
        rcv.close()


def record_phases_pushing(url, *extra):
    """gt_basic under -p, one SIGUSR1 snapshot, then its exit: returns
    (record's exit status, its stderr lines, base path, GT, seconds)."""
    out = os.path.join(tmpdir(), "s.hsnap")
    t = Target("gt_basic")
    start = time.monotonic()
    rec = Recorder(["-p", str(t.pid), "-o", out, "--push", url] +
                   list(extra), env=no_proxy_env())
    rec.wait_attached()
    t.next_phase(1)
    rec.snapshot(1)
    t.next_phase(2)
    assert t.finish() == 0
    rc = rec.finish(timeout=60)
    return rc, rec.err.seen, out, t.gt(), time.monotonic() - start


def assert_push_failures(rc, err, out, gt, url, reason):
    """Exit 0, both files written and exact, each failure one warning
    naming its file and reason, and the count in the summary."""
    text = "\n".join(err)
    assert rc == 0, "record exited %d:\n%s" % (rc, text)
    assert_sites(out + ".1", gt[1], SRC)
    assert_sites(out, gt[2], SRC)
    for snap in (out + ".1", out):
        prefix = "heapsnap: warning: cannot push %s to %s/ingest: " % (
            snap, url)
        lines = [ln for ln in err if ln.startswith(prefix)]
        assert len(lines) == 1, "no warning for %s:\n%s" % (snap, text)
        assert reason in lines[0], "want %r in %r" % (reason, lines[0])
    assert "heapsnap: warning: 2 of 2 pushes to %s/ingest failed" % url \
        in err, text
    assert not any(ln.startswith("Error") for ln in err), text


def test_push_to_a_closed_port_only_warns():
    url = "http://127.0.0.1:%d" % closed_port()
    rc, err, out, gt, _ = record_phases_pushing(url, "--label", "env=ci")
    assert_push_failures(rc, err, out, gt, url, "Couldn't connect")


def test_push_refused_by_the_backend_only_warns():
    rcv = Receiver(status=400, reply=b"invalid labels\nmore detail\n")
    try:
        rc, err, out, gt, _ = record_phases_pushing(rcv.url)
        assert_push_failures(rc, err, out, gt, rcv.url,
                             "HTTP 400: invalid labels")
        assert len(rcv.requests) == 2, len(rcv.requests)
        for req in rcv.requests:  # -p: named after the process's command
            check_request(req, "gt_basic{}")
    finally:
        rcv.close()


def test_push_to_a_hung_backend_times_out():
    """A backend that accepts the connection and never answers costs one
    timeout per push (5 s), not a stalled recording."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    url = "http://127.0.0.1:%d" % s.getsockname()[1]
    try:
        rc, err, out, gt, secs = record_phases_pushing(url)
        assert_push_failures(rc, err, out, gt, url, "timed out")
        assert secs < 2 * 5 + 10, secs
    finally:
        s.close()


def test_push_bad_options_are_usage_errors():
    d = tmpdir()
    out = os.path.join(d, "s.hsnap")
    url = "http://127.0.0.1:%d" % closed_port()
    cases = [
        (["--push", url, "--label", "bad-key=1"], "'bad-key'"),
        (["--push", url, "--label", "__name__=x"], "reserved"),
        (["--push", url, "--label", "env"], "KEY=VALUE"),
        (["--push", url, "--label", "env=a,b"], "--label 'env=a,b'"),
        (["--push", url, "--label", "env=1", "--label", "env=2"], "twice"),
        (["--push", url, "--app", "my app"], "--app 'my app'"),
        (["--push", "ftp://127.0.0.1/"], "http"),
        (["--push", "127.0.0.1:4040"], "--push '127.0.0.1:4040'"),
        (["--push", "http://"], "--push 'http://'"),
        (["--label", "env=ci"], "--push"),
    ]
    for args, want in cases:
        argv = [HEAPSNAP, "record", "-o", out] + args + [
            "--", prog("gt_basic")]
        r = run(argv, check=False, timeout=30)
        desc = "%s: exit %d\nstdout %r\nstderr %r" % (
            args, r.returncode, r.stdout, r.stderr)
        assert r.returncode == 2, desc
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), desc
        assert want in lines[0], desc
        assert r.stdout == "", "the command ran: " + desc
        assert os.listdir(d) == [], desc
