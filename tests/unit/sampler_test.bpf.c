// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sampler part's estimates of the sizes user space puts in sizes[], for
 * test_bpf_sampler, which compares them with the snapshot's.
 */
#include "sampler.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NSIZES 4096

__u64 sizes[NSIZES];
__u64 est_bytes[NSIZES];
__u64 est_count[NSIZES];
__u32 nsizes;

static long estimate(__u64 i, void *ctx)
{
	__u32 k = (__u32)i;

	if (k >= NSIZES)
		return 1;
	est_bytes[k] = weight_bytes(sizes[k]);
	est_count[k] = weight_count(sizes[k]);
	return 0;
}

SEC("syscall")
int estimate_all(void *ctx)
{
	bpf_loop(nsizes, estimate, NULL, 0);
	return 0;
}

/* One thread's sampler over run_calls allocations of run_size bytes. */
__u64 run_size, run_calls, run_sampled, run_bytes;

static long sample_one(__u64 i, void *sampler)
{
	if (take_sample(sampler, run_size)) {
		run_sampled++;
		run_bytes += weight_bytes(run_size);
	}
	return 0;
}

SEC("syscall")
int sample_calls(void *ctx)
{
	struct hs_sampler sampler = {};

	bpf_loop(run_calls, sample_one, &sampler, 0);
	return 0;
}
