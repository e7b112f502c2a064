# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""info --plot: the series of a recording's snapshots equals each one's info
and the ground truth; the chart has a tick per snapshot and the exact labels;
a missing or unreadable numbered snapshot is left out with a warning."""
import json
import os
import re
import subprocess

from hs import HEAPSNAP, heapsnap_json, run, tmpdir
from test_record import record_phases

ROWS = 10


def format_size(size):
    """hs_format_size(), tracemalloc's _format_size()."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    for i, unit in enumerate(units):
        if abs(size) < 100 and i:
            return "%.1f %s" % (size, unit)
        if abs(size) < 10 * 1024 or i == len(units) - 1:
            return "%.0f %s" % (size, unit)
        size /= 1024


def format_bytes(n):
    return format_size(n) if n < 10 * 1024 else "%s (%d B)" % (
        format_size(n), n)


def gt_totals(phase):
    return (sum(b for _, b, _ in phase.values()),
            sum(c for _, _, c in phase.values()))


def record_series(name, phases):
    """Attaches to a waiting program with -p and takes FILE.N after each
    phase N by SIGUSR1, half a second apart, then FILE when it exits.
    Returns FILE and the ground truth's (bytes, count) at each snapshot."""
    out, gt = record_phases(name, phases, pause=0.5)
    totals = [gt_totals(gt[n]) for n in range(1, phases + 1)]
    return out, totals + totals[-1:]


def plot(path, *args, env=None, check=True):
    """heapsnap info PATH --plot ARGS, with env added to ours."""
    argv = [HEAPSNAP, "info", path, "--plot"] + list(args)
    r = subprocess.run(argv, text=True, capture_output=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    if check:
        assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
    return r


def test_plot_series_equals_info_and_ground_truth():
    base, want = record_series("gt_basic", 2)
    files = [base + ".1", base + ".2", base]
    infos = [heapsnap_json("info", f) for f in files]
    for arg in (base, base + ".2"):
        series = json.loads(plot(arg, "--json").stdout)
        snaps = series["snapshots"]
        assert [s["file"] for s in snaps] == files, snaps
        assert [s["seq"] for s in snaps] == [1, 2, 0], snaps
        for s, info in zip(snaps, infos):
            for k in ("current", "peak", "interval_peak", "count"):
                assert s[k] == info[k], (k, s, info)
        assert [(s["current"], s["count"]) for s in snaps] == want, (
            snaps, want)
        times = [s["time"] for s in snaps]
        assert times[0] == 0 and times == sorted(times), times
        assert 0.9 <= times[-1] < 60, times
        assert series["peak"] == max(i["peak"] for i in infos), series
        assert series["skipped"] == [] and series["file"] == base, series


def test_plot_interval_peaks_follow_the_ground_truth():
    """gt_shrink grows, frees, grows less: each phase only allocates or
    only frees, so an interval's peak is the larger of its two ends."""
    base, want = record_series("gt_shrink", 3)
    series = json.loads(plot(base, "--json").stdout)
    got = [(s["current"], s["count"], s["peak"], s["interval_peak"])
           for s in series["snapshots"]]
    ends = [0] + [b for b, _ in want]
    top = max(ends)
    expect = [(b, c, top, max(ends[i], b)) for i, (b, c) in enumerate(want)]
    expect[-1] = (want[-1][0], want[-1][1], top, want[-1][0])
    assert got == expect, (got, expect)
    assert got[2][3] < got[2][2], "an interval peak below the peak"
    assert series["peak"] == top, series
    infos = [heapsnap_json("info", s["file"]) for s in series["snapshots"]]
    assert [(i["current"], i["count"], i["peak"], i["interval_peak"])
            for i in infos] == got, infos


def chart_lines(base, locale):
    r = plot(base, env={"COLUMNS": "72", "LC_ALL": locale})
    assert r.stderr == "", r.stderr
    return r.stdout.splitlines()


def test_plot_chart_points_and_labels():
    base, want = record_series("gt_shrink", 3)
    snaps = json.loads(plot(base, "--json").stdout)["snapshots"]
    peak = max(s["peak"] for s in snaps)
    labels = [format_size(peak),
              format_size(peak * (ROWS - ROWS // 2) / ROWS)]
    lw = max(len(l) for l in labels + ["0 B"])
    width = 72 - lw - 2
    span = snaps[-1]["time"]
    cols = [round(s["time"] / span * (width - 1)) for s in snaps]

    for locale, glyphs in (("C.UTF-8", "└┴─┤█⣀⠤⠒⠉"), ("C", "++-+#_-")):
        axis, tick, rule, label_axis, full = glyphs[:5]
        marks = glyphs[5:]
        lines = chart_lines(base, locale)
        assert lines[0].startswith("Traced memory of %s from " % base), lines
        chart = lines[1:]
        assert chart[0].startswith(labels[0].rjust(lw) + " " + label_axis), \
            chart
        assert chart[ROWS // 2].startswith(
            labels[1].rjust(lw) + " " + label_axis), chart
        axis_row = chart[ROWS]
        assert axis_row.startswith("0 B".rjust(lw) + " " + axis), axis_row
        cells = axis_row[lw + 2:]
        assert len(cells) == width, (len(cells), width)
        ticks = [i for i, c in enumerate(cells) if c == tick]
        assert len(ticks) == len(snaps), (ticks, cols)
        assert ticks[0] == 0 and ticks[-1] == width - 1, ticks
        assert all(abs(a - b) <= 1 for a, b in zip(ticks, cols)), (ticks,
                                                                   cols)
        assert set(cells) == {tick, rule}, cells
        area = [row[lw + 2:] for row in chart[:ROWS]]
        # the first snapshot is the peak: a full column at the left
        assert all(row[0] == full for row in area), area
        # after it the interval's peak stays up while current falls
        assert any(c in marks for c in area[0][1:cols[1] + 1]), area
        assert chart[ROWS + 2].endswith("peak " + format_bytes(peak)), chart
        currents = [s["current"] for s in snaps]
        # the chart rounds the exact span, --json gives it to 1 ms
        legend = re.fullmatch(
            r"4 snapshots, 0 s to (\d+\.\d) s; current min %s, max %s" %
            (re.escape(format_bytes(min(currents))),
             re.escape(format_bytes(max(currents)))), chart[ROWS + 3])
        assert legend and abs(float(legend[1]) - span) <= 0.0505, \
            chart[ROWS + 3]
        if locale == "C":
            assert all(l.isascii() for l in lines), lines


def test_plot_leaves_out_missing_and_corrupt_numbered_snapshots():
    base, want = record_series("gt_shrink", 3)
    os.unlink(base + ".2")
    with open(base + ".3", "r+b") as f:
        f.truncate(100)
    r = plot(base, env={"LC_ALL": "C"})
    err = r.stderr.splitlines()
    assert err[0] == ("heapsnap: warning: %s.2: missing; left out of the "
                      "plot" % base), err
    assert err[1].startswith("heapsnap: warning: %s.3: " % base) and \
        err[1].endswith("; left out of the plot"), err
    assert len(err) == 2, err
    assert "2 snapshots, 0 s to " in r.stdout, r.stdout
    series = json.loads(plot(base, "--json").stdout)
    assert [s["seq"] for s in series["snapshots"]] == [1, 0], series
    assert [(s["current"], s["count"]) for s in series["snapshots"]] == \
        [want[0], want[3]], series
    skipped = series["skipped"]
    assert [k["file"] for k in skipped] == [base + ".2", base + ".3"], skipped
    assert skipped[0]["reason"] == "missing", skipped

    # the file named on the command line must be readable
    r = plot(base + ".3", check=False)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr.startswith("Error: %s.3: " % base), r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    r = plot(base + ".3", "--json", check=False)
    assert r.returncode == 1 and "error" in json.loads(r.stdout), r


def test_plot_bad_input():
    missing = os.path.join(tmpdir(), "none.hsnap")
    r = plot(missing, check=False)
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr == "Error: %s: No such file or directory\n" % missing, r
    r = run([HEAPSNAP, "lookup", missing, "0x10", "--plot"], check=False)
    assert r.returncode == 2 and "unknown option" in r.stderr, r
    r = run([HEAPSNAP, "info", "--plot"], check=False)
    assert r.returncode == 2 and r.stderr.startswith("Error: "), r
