// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The live-block table, read in place: both arrays are mapped into our
 * memory, so a snapshot of millions of blocks costs no copy through the
 * kernel. The probes change keys with compare-and-swap; so do we.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "livetable.h"

struct table {
	struct hs_bucket *buckets;
	struct hs_live_val *blocks;
	size_t nbuckets, bucket_len, block_len;
};

static void *map_array(const struct bpf_map *map, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	*len = (size_t)bpf_map__value_size(map) * bpf_map__max_entries(map);
	*len = (*len + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(map), 0);
	return p == MAP_FAILED ? NULL : p;
}

static void table_close(struct table *t)
{
	if (t->buckets)
		munmap(t->buckets, t->bucket_len);
	if (t->blocks)
		munmap(t->blocks, t->block_len);
}

static int table_open(struct heapsnap_bpf *skel, struct table *t)
{
	*t = (struct table){ 0 };
	t->nbuckets = bpf_map__max_entries(skel->maps.buckets);
	t->buckets = map_array(skel->maps.buckets, &t->bucket_len);
	t->blocks = map_array(skel->maps.blocks, &t->block_len);
	if (t->buckets && t->blocks)
		return 0;
	table_close(t);
	return -errno;
}

/* The pid of each counters slot, 0 for a free one. */
static uint32_t *slot_pids(struct heapsnap_bpf *skel, uint32_t *nslots)
{
	int fd = bpf_map__fd(skel->maps.procs);
	__u32 key, next, slot, *prev = NULL;
	uint32_t *pids;

	*nslots = bpf_map__max_entries(skel->maps.counters);
	pids = calloc(*nslots, sizeof(*pids));
	if (!pids)
		return NULL;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &slot) && slot < *nslots)
			pids[slot] = key;
	}
	return pids;
}

static __u64 *key_at(struct table *t, size_t b, int way)
{
	return &t->buckets[b].key[way];
}

int hs_livetable_walk(struct heapsnap_bpf *skel, hs_block_fn fn, void *arg)
{
	const uint64_t addr_mask = (1ULL << HS_KEY_ADDR_BITS) - 1;
	uint32_t nslots, slot, *pids = slot_pids(skel, &nslots);
	struct hs_live_key k = { 0 };
	struct hs_live_val v;
	struct table t;
	__u64 key;
	int err;

	if (!pids)
		return -ENOMEM;
	err = table_open(skel, &t);
	for (size_t b = 0; !err && b < t.nbuckets; b++) {
		for (int i = 0; !err && i < HS_WAYS; i++) {
			key = __atomic_load_n(key_at(&t, b, i),
					      __ATOMIC_ACQUIRE);
			if (!key)
				continue;
			v = t.blocks[b * HS_WAYS + (size_t)i];
			/* taken or replaced while we copied it */
			if (__atomic_load_n(key_at(&t, b, i),
					    __ATOMIC_ACQUIRE) != key)
				continue;
			slot = (uint32_t)(key >> HS_KEY_ADDR_BITS) - 1;
			if (slot >= nslots || !pids[slot])
				continue;
			k.tgid = pids[slot];
			k.addr = key & addr_mask;
			err = fn(arg, &k, &v);
		}
	}
	table_close(&t);
	free(pids);
	return err;
}

int hs_livetable_forget(struct heapsnap_bpf *skel, uint32_t slot,
			uint64_t before_ns)
{
	struct table t;
	__u64 key;
	int err = table_open(skel, &t);

	for (size_t b = 0; !err && b < t.nbuckets; b++) {
		for (int i = 0; i < HS_WAYS; i++) {
			key = __atomic_load_n(key_at(&t, b, i),
					      __ATOMIC_ACQUIRE);
			if (!key || (key >> HS_KEY_ADDR_BITS) != slot + 1ULL ||
			    t.blocks[b * HS_WAYS + (size_t)i].time_ns >=
				    before_ns)
				continue;
			__atomic_compare_exchange_n(key_at(&t, b, i), &key, 0,
						    false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
		}
	}
	table_close(&t);
	return err;
}
