# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""record --sample-bytes: unbiased estimates, marked as estimates."""
import os
import subprocess

from hs import (HEAPSNAP, Recorder, assert_sites, heapsnap_json, parse_gt,
                prog, run, tmpdir)


def record_sampled(rate):
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["--sample-bytes", str(rate), "-o", out, "--",
                    prog("gt_sample")], stdout=subprocess.PIPE)
    assert rec.finish(timeout=300) == 0, rec.stderr()
    return out, parse_gt(rec.out.rest())[1]


def test_estimates_within_five_percent_for_sites_over_10mb():
    # 1 KiB between samples: ~10,000 samples per 10 MB site, so 5% is
    # about five standard deviations.
    snap, gt = record_sampled(1024)
    top = heapsnap_json("top", snap, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_sample.c")
    assert top["estimated"] is True and top["sample_bytes"] == 1024, top
    got = {st["traceback"][0]["line"]: (st["size"], st["count"])
           for st in top["stats"]}
    total = 0
    for (_, line), (_, size, count) in gt.items():
        assert size >= 10 << 20
        total += size
        est_size, est_count = got[line]
        assert abs(est_size - size) <= 0.05 * size, (line, est_size, size)
        assert abs(est_count - count) <= 0.05 * count, (line, est_count,
                                                        count)
    info = heapsnap_json("info", snap)
    assert info["estimated"] is True and info["sample_bytes"] == 1024
    # the BPF counters are scaled the same way
    assert abs(info["current"] - total) <= 0.05 * total, (info["current"],
                                                          total)


def test_text_output_says_estimates():
    snap, _ = record_sampled(4096)
    top = run([HEAPSNAP, "top", snap]).stdout
    assert "(estimates: one allocation in every 4096 bytes was sampled" in top
    info = run([HEAPSNAP, "info", snap]).stdout
    assert "every size and count below is an estimate" in info, info


def test_production_rate_records_with_few_samples():
    snap, gt = record_sampled(524288)
    info = heapsnap_json("info", snap)
    top = heapsnap_json("top", snap, "--by", "lineno", "-n", "0",
                        "--include", "*/gt_sample.c")
    # ~160 samples over 80 MB: the total is still within a loose bound
    total = sum(v[1] for v in gt.values())
    assert abs(top["total"]["size"] - total) <= 0.35 * total, (top["total"],
                                                               total)
    assert info["lost"]["map_full"] == 0


def record_every_block(name, source):
    """At one sample per byte, the gap to the next sample is under 10 bytes
    and a block of 16 bytes or more weighs its own size: the sites equal the
    ground truth; frees and reallocs go through the
    sampled-address filter."""
    out = os.path.join(tmpdir(), "s.hsnap")
    rec = Recorder(["--sample-bytes", "1", "-o", out, "--", prog(name)],
                   stdout=subprocess.PIPE)
    assert rec.finish(timeout=120) == 0, rec.stderr()
    gt = parse_gt(rec.out.rest())
    assert_sites(out, gt[max(gt)], source)
    info = heapsnap_json("info", out)
    assert info["lost"]["map_full"] == 0, info["lost"]


def test_every_block_sampled_equals_ground_truth():
    # gt_basic also asks for SIZE_MAX - 4096 bytes, which must not skip
    # the samples that follow
    record_every_block("gt_basic", "gt_basic.c")


def test_every_block_sampled_other_allocators():
    for name, source in (("gt_jemalloc", "gt_jemalloc.cc"),
                         ("gt_tcmalloc", "gt_tcmalloc.cc"),
                         ("gt_mimalloc", "gt_mimalloc.cc"),
                         ("gt_cxx", "gt_cxx.cc"),
                         ("gt_threads", "gt_threads.c")):
        record_every_block(name, source)
