/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The live blocks: buckets of HS_WAYS keys (a block's address tagged with
 * its process's counters slot, 0 when free) and, beside each key, its
 * block. Array lookups cost no call and a bucket is one cache line: a
 * block's insert or erase is a scan of the line and one compare-and-swap.
 * A block whose bucket is full, or whose key cannot be tagged, spills into
 * the hash map spill. User space maps both arrays and reads them in place.
 */
#ifndef HEAPSNAP_LIVETABLE_BPF_H
#define HEAPSNAP_LIVETABLE_BPF_H

#include "common.bpf.h"
#include "procs.bpf.h"
#include "readcut.bpf.h"

const volatile __u32 nbuckets = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hs_bucket);
	__uint(max_entries, 1);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hs_live_val);
	__uint(max_entries, HS_WAYS);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct hs_live_key);
	__type(value, struct hs_live_val);
	__uint(max_entries, 1 << 17);
} spill SEC(".maps");

static __always_inline __u64 block_key(__u32 slot, __u64 addr)
{
	if (addr >> HS_KEY_ADDR_BITS || slot >= 0xffff)
		return 0;
	return addr | ((__u64)(slot + 1) << HS_KEY_ADDR_BITS);
}

static __always_inline __u32 bucket_of(__u64 key)
{
	__u64 h = (key * 0x9E3779B97F4A7C15ULL) >> 32;

	return (__u32)((h * nbuckets) >> 32);
}

static __always_inline struct hs_live_val *block_at(__u32 bucket, int way)
{
	__u32 idx = bucket * HS_WAYS + (__u32)way;

	return bpf_map_lookup_elem(&blocks, &idx);
}

static __always_inline bool spilled(void)
{
	return *(volatile __u64 *)&global.spilled != 0;
}

/* Takes the block at addr out of the live set, into *out. */
static bool block_take(__u32 tgid, __u32 slot, __u64 addr,
		       struct hs_live_val *out)
{
	struct hs_live_key hk = { .tgid = tgid, .addr = addr };
	__u64 key = block_key(slot, addr);
	struct hs_live_val *v;
	struct hs_bucket *b;
	__u32 bi;

	if (key) {
		bi = bucket_of(key);
		b = bpf_map_lookup_elem(&buckets, &bi);
		if (!b)
			return false;
		for (int i = 0; i < HS_WAYS; i++) {
			if (b->key[i] != key)
				continue;
			v = block_at(bi, i);
			if (!v)
				return false;
			*out = *v;
			/* a racing free of the same block (a double free) */
			return __sync_val_compare_and_swap(&b->key[i], key,
							   0) == key;
		}
	}
	if (!spilled())
		return false;
	v = bpf_map_lookup_elem(&spill, &hk);
	if (!v)
		return false;
	*out = *v;
	if (bpf_map_delete_elem(&spill, &hk))
		return false;
	__sync_fetch_and_sub(&global.spilled, 1);
	return true;
}

/*
 * Puts a block in the live set. One already at its address is stale (its
 * free went unseen): it counts as freed in p and is replaced.
 */
static int block_put(__u32 tgid, __u32 slot, __u64 addr,
		     const struct hs_live_val *val, struct hs_proc_val *p)
{
	struct hs_live_key hk = { .tgid = tgid, .addr = addr };
	__u64 key = block_key(slot, addr);
	struct hs_live_val *v, stale;
	struct hs_bucket *b;
	__u32 bi;
	int err;

	if (key) {
		bi = bucket_of(key);
		b = bpf_map_lookup_elem(&buckets, &bi);
		if (!b)
			return -1;
		if (block_take(tgid, slot, addr, &stale)) {
			cut_keep(tgid, addr, &stale);
			count_free(p, stale.size);
		}
		for (int i = 0; i < HS_WAYS; i++) {
			if (b->key[i] ||
			    __sync_val_compare_and_swap(&b->key[i], 0, key))
				continue;
			v = block_at(bi, i);
			if (v)
				*v = *val;
			return 0;
		}
	}
	err = bpf_map_update_elem(&spill, &hk, val, BPF_NOEXIST);
	if (err == -HS_EEXIST) {
		v = bpf_map_lookup_elem(&spill, &hk);
		if (v) {
			cut_keep(tgid, addr, v);
			count_free(p, v->size);
		}
		return bpf_map_update_elem(&spill, &hk, val, BPF_ANY);
	}
	if (!err)
		__sync_fetch_and_add(&global.spilled, 1);
	return err;
}

#endif
