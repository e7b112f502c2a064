/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Byte sampling: whether an allocation is traced, what a traced block stands
 * for, and a filter of the addresses ever sampled. BPF has no floating
 * point: sampling.c computes the tables into .rodata.
 */
#ifndef HEAPSNAP_SAMPLER_BPF_H
#define HEAPSNAP_SAMPLER_BPF_H

#include "common.bpf.h"

/* Mean bytes between samples; 0 traces every allocation. */
const volatile __u64 sample_bytes = 0;
/* Quantiles of Exp(1), in 1/65536: the gap to the next sample. */
const volatile __u32 sample_gap[HS_SAMPLE_GAPS];
/* x / (1 - e^-x) at x = i / HS_WEIGHT_STEPS, in 1/65536. */
const volatile __u32 sample_weight[HS_WEIGHT_POINTS + 1];

/* A thread's countdown to its next sample. */
struct hs_sampler {
	__s64 until_sample; /* bytes left before the next sample */
	__u8 ready;
};

/*
 * One bit per hash of every block ever sampled, so that a free of an
 * unsampled block is one array read, not a failed lookup in the live table.
 * Bits are never cleared: a stale one only costs that lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << (HS_SEEN_BITS - 6));
} seen SEC(".maps");

/*
 * What a block stands for: itself when every allocation is traced, else
 * size / P(sampled) bytes, as Go's heap profile scales.
 */
static __u64 weight_bytes(__u64 size)
{
	__u64 n = sample_bytes, x, i, rem, f0, f1;

	if (!n)
		return size;
	x = (size * HS_WEIGHT_STEPS) / n;
	if (x >= HS_WEIGHT_POINTS)
		return size;
	i = x;
	rem = size * HS_WEIGHT_STEPS - i * n;
	f0 = sample_weight[i];
	f1 = sample_weight[i + 1];
	return (n * (f0 + (f1 - f0) * rem / n)) >> 16;
}

static __u64 weight_count(__u64 size)
{
	if (!sample_bytes || !size)
		return 1;
	return weight_bytes(size) / size;
}

static __always_inline __s64 next_gap(void)
{
	__u32 r = bpf_get_prandom_u32() & (HS_SAMPLE_GAPS - 1);

	return (sample_bytes * sample_gap[r]) >> 16;
}

/* Is this allocation of size sampled? Advances the thread's countdown. */
static __noinline bool take_sample(struct hs_sampler *s, __u64 size)
{
	if (!sample_bytes)
		return true;
	if (!s->ready) {
		s->until_sample = next_gap();
		s->ready = 1;
	}
	/* a request of 2^63 or more (it fails) must not wrap the countdown */
	if (size > HS_SAMPLE_SIZE_MAX)
		size = HS_SAMPLE_SIZE_MAX;
	s->until_sample -= size;
	if (s->until_sample > 0)
		return false;
	s->until_sample = next_gap();
	return true;
}

/* The word of seen that holds (tgid, ptr)'s bit, and the bit. */
static __always_inline __u64 *seen_word(__u32 tgid, __u64 ptr, __u64 *bit)
{
	__u64 h = (ptr ^ ((__u64)tgid << 44)) * 0x9E3779B97F4A7C15ULL;
	__u32 idx;

	h >>= 64 - HS_SEEN_BITS;
	idx = (__u32)(h >> 6);
	*bit = 1ULL << (h & 63);
	return bpf_map_lookup_elem(&seen, &idx);
}

static __always_inline bool maybe_sampled(__u32 tgid, __u64 ptr)
{
	__u64 bit, *w = seen_word(tgid, ptr, &bit);

	return !w || (*w & bit);
}

static __always_inline void mark_sampled(__u32 tgid, __u64 ptr)
{
	__u64 bit, *w = seen_word(tgid, ptr, &bit);

	if (w && !(*w & bit))
		__sync_fetch_and_or(w, bit);
}

#endif
