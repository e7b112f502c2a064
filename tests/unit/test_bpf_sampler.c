// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The BPF sampler against user space: the fixed-point estimate of what a
 * sampled block stands for (weight_bytes, weight_count) agrees with the
 * snapshot's (hs_trace_scale), and over many calls the sampler takes blocks
 * as often as its rate says, its estimates adding up to what was allocated.
 * The sampler part runs in a test program (sampler_test.bpf.c) through
 * BPF_PROG_TEST_RUN, which needs root: without it the test says SKIP.
 */
#include <math.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heapsnap.h"
#include "sampler_test.skel.h"
#include "sampling.h"
#include "snapshot.h"
#include "test.h"

#define NSIZES 4096

static struct sampler_test_bpf *load(uint64_t sample_bytes)
{
	struct sampler_test_bpf *skel = sampler_test_bpf__open();

	if (!ASSERT_TRUE(skel, "open"))
		return NULL;
	skel->rodata->sample_bytes = sample_bytes;
	hs_sampling_gaps((uint32_t *)skel->rodata->sample_gap, HS_SAMPLE_GAPS);
	hs_sampling_weights((uint32_t *)skel->rodata->sample_weight,
			    HS_WEIGHT_POINTS + 1, HS_WEIGHT_STEPS);
	if (!ASSERT_EQ(sampler_test_bpf__load(skel), 0, "load")) {
		sampler_test_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int run(const struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	return bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
}

/* 1..600, then sizes about the rate, then up to 2^47 in steps of 1/64. */
static uint32_t test_sizes(__u64 *sizes, uint64_t sample_bytes)
{
	uint32_t n = 0;

	for (uint64_t s = 1; s <= 600; s++)
		sizes[n++] = s;
	for (uint64_t k = 1; k <= 32; k++) {
		sizes[n++] = k * sample_bytes / 2 - 1;
		sizes[n++] = k * sample_bytes / 2;
		sizes[n++] = k * sample_bytes / 2 + 1;
	}
	for (double s = 601; s < 0x1p47 && n < NSIZES; s *= 1 + 1.0 / 64)
		sizes[n++] = (uint64_t)s;
	return n;
}

/* Counts a disagreement, and shows the first few. */
static void disagree(uint32_t *n, const char *what, uint64_t size,
		     uint64_t rate, uint64_t got, double want)
{
	if ((*n)++ < 5)
		fprintf(stderr, "  %llu B at %llu: %s %llu, want %.3f\n",
			(unsigned long long)size, (unsigned long long)rate,
			what, (unsigned long long)got, want);
}

/*
 * Bytes: within 0.01% plus the byte the fixed point rounds away. Counts are
 * the bytes' estimate over the size, rounded down: within one block.
 */
static void agree_at(uint64_t rate)
{
	struct hs_snapshot snap = { .sample_bytes = rate };
	struct sampler_test_bpf *skel = load(rate);
	uint32_t n, off_bytes = 0, off_count = 0;

	if (!skel)
		return;
	n = test_sizes(skel->bss->sizes, rate);
	skel->bss->nsizes = n;
	ASSERT_EQ(run(skel->progs.estimate_all), 0, "test run");
	for (uint32_t i = 0; i < n; i++) {
		struct hs_trace t = { .size = skel->bss->sizes[i] };
		double k = hs_trace_scale(&snap, &t), bytes = t.size * k;
		uint64_t got_bytes = skel->bss->est_bytes[i];
		uint64_t got_count = skel->bss->est_count[i];

		if (fabs((double)got_bytes - bytes) > 1 + bytes * 1e-4)
			disagree(&off_bytes, "bytes", t.size, rate, got_bytes,
				 bytes);
		if ((double)got_count > k * (1 + 1e-4) ||
		    (double)got_count <= k * (1 - 1e-4) - 1)
			disagree(&off_count, "count", t.size, rate, got_count,
				 k);
	}
	ASSERT_EQ(off_bytes, 0, "byte estimates that disagree");
	ASSERT_EQ(off_count, 0, "count estimates that disagree");
	sampler_test_bpf__destroy(skel);
}

static void test_estimates_agree_with_the_snapshot(void)
{
	static const uint64_t rates[] = {
		1, 64, 4096, 524288, 1 << 20, 1 << 30
	};

	if (geteuid()) {
		skip_reason = "BPF_PROG_TEST_RUN needs root";
		return;
	}
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		agree_at(rates[i]);
}

/*
 * Blocks of size are sampled with probability 1 - e^(-size / rate); the
 * estimates of the sampled ones add up to all that was allocated. Each
 * count is at least 60,000 samples or 15,000 with its spread under 1%:
 * a 3% bound is several standard deviations away.
 */
static void sample_calls(uint64_t rate, uint64_t size, uint64_t calls)
{
	struct sampler_test_bpf *skel = load(rate);
	double p = -expm1(-(double)size / (double)rate);
	double want = (double)calls * p, total = (double)calls * size;

	if (!skel)
		return;
	skel->bss->run_size = size;
	skel->bss->run_calls = calls;
	ASSERT_EQ(run(skel->progs.sample_calls), 0, "test run");
	if (!ASSERT_TRUE(fabs(skel->bss->run_sampled / want - 1) < 0.03,
			 "samples") ||
	    !ASSERT_TRUE(fabs(skel->bss->run_bytes / total - 1) < 0.03,
			 "estimated bytes"))
		fprintf(stderr,
			"  %llu B at %llu: %llu samples (want %.0f), %llu B (want %.0f)\n",
			(unsigned long long)size, (unsigned long long)rate,
			(unsigned long long)skel->bss->run_sampled, want,
			(unsigned long long)skel->bss->run_bytes, total);
	sampler_test_bpf__destroy(skel);
}

static void test_sampler_takes_its_rate(void)
{
	if (geteuid()) {
		skip_reason = "BPF_PROG_TEST_RUN needs root";
		return;
	}
	sample_calls(4096, 16, 4000000);
	sample_calls(4096, 1000, 1000000);
	sample_calls(4096, 4096, 100000);
	sample_calls(4096, 40000, 100000);
	sample_calls(524288, 65536, 1000000);
}

int main(void)
{
	libbpf_set_print(NULL);
	RUN_SKIPPABLE(test_estimates_agree_with_the_snapshot);
	RUN_SKIPPABLE(test_sampler_takes_its_rate);
	return TEST_EXIT();
}
