// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The live-block table, read in place: both arrays are mapped into our
 * memory a chunk at a time, so a snapshot of millions of blocks costs no
 * copy through the kernel, and our resident set holds one chunk at most.
 * The probes change keys with compare-and-swap; so do we.
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

#define CHUNK 16384 /* buckets: 1 MiB of them, 4 MiB of their blocks */

/* Buckets [first, first + n) and their blocks, mapped. */
struct chunk {
	struct hs_bucket *buckets;
	struct hs_live_val *blocks;
	size_t first, n, bucket_len, block_len;
};

static void *map_part(const struct bpf_map *map, size_t off, size_t len,
		      size_t *mapped)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	*mapped = (len + page - 1) / page * page;
	p = mmap(NULL, *mapped, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(map), (off_t)off);
	return p == MAP_FAILED ? NULL : p;
}

static void chunk_unmap(struct chunk *c)
{
	if (c->buckets)
		munmap(c->buckets, c->bucket_len);
	if (c->blocks)
		munmap(c->blocks, c->block_len);
	c->buckets = NULL;
	c->blocks = NULL;
}

/* Maps a chunk's buckets and, if blocks, their blocks. */
static int chunk_map(struct heapsnap_bpf *skel, size_t first, bool blocks,
		     struct chunk *c)
{
	size_t nbuckets = bpf_map__max_entries(skel->maps.buckets);

	c->first = first;
	c->n = nbuckets - first < CHUNK ? nbuckets - first : CHUNK;
	c->blocks = NULL;
	c->buckets =
		map_part(skel->maps.buckets, first * sizeof(struct hs_bucket),
			 c->n * sizeof(struct hs_bucket), &c->bucket_len);
	if (blocks && c->buckets)
		c->blocks =
			map_part(skel->maps.blocks,
				 first * HS_WAYS * sizeof(struct hs_live_val),
				 c->n * HS_WAYS * sizeof(struct hs_live_val),
				 &c->block_len);
	if (c->buckets && (c->blocks || !blocks))
		return 0;
	chunk_unmap(c);
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

static __u64 load_key(const struct chunk *c, size_t b, int way)
{
	return __atomic_load_n(&c->buckets[b].key[way], __ATOMIC_ACQUIRE);
}

static int walk_chunk(const struct chunk *c, const uint32_t *pids,
		      uint32_t nslots, hs_block_fn fn, void *arg)
{
	struct hs_live_key k = { 0 };
	struct hs_live_val v;
	uint32_t slot;
	__u64 key;
	int err = 0;

	for (size_t b = 0; !err && b < c->n; b++) {
		for (int i = 0; !err && i < HS_WAYS; i++) {
			key = load_key(c, b, i);
			if (!key)
				continue;
			v = c->blocks[b * HS_WAYS + (size_t)i];
			/* taken or replaced while we copied it */
			if (load_key(c, b, i) != key)
				continue;
			slot = (uint32_t)(key >> HS_KEY_ADDR_BITS) - 1;
			if (slot >= nslots || !pids[slot])
				continue;
			k.tgid = pids[slot];
			k.addr = key & ((1ULL << HS_KEY_ADDR_BITS) - 1);
			err = fn(arg, &k, &v);
		}
	}
	return err;
}

int hs_livetable_walk(struct heapsnap_bpf *skel, hs_block_fn fn, void *arg)
{
	size_t nbuckets = bpf_map__max_entries(skel->maps.buckets);
	uint32_t nslots, *pids = slot_pids(skel, &nslots);
	struct chunk c;
	int err = 0;

	if (!pids)
		return -ENOMEM;
	for (size_t first = 0; !err && first < nbuckets; first += CHUNK) {
		err = chunk_map(skel, first, true, &c);
		if (!err)
			err = walk_chunk(&c, pids, nslots, fn, arg);
		chunk_unmap(&c);
	}
	free(pids);
	return err;
}

static void forget_chunk(const struct chunk *c, const uint8_t *slots,
			 uint32_t nslots, uint64_t before_ns)
{
	uint32_t slot;
	__u64 key;

	for (size_t b = 0; b < c->n; b++) {
		for (int i = 0; i < HS_WAYS; i++) {
			key = load_key(c, b, i);
			slot = (uint32_t)(key >> HS_KEY_ADDR_BITS) - 1;
			if (!key || slot >= nslots || !slots[slot] ||
			    (c->blocks &&
			     c->blocks[b * HS_WAYS + (size_t)i].time_ns >=
				     before_ns))
				continue;
			__atomic_compare_exchange_n(&c->buckets[b].key[i], &key,
						    0, false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
		}
	}
}

int hs_livetable_forget(struct heapsnap_bpf *skel, const uint8_t *slots,
			uint32_t nslots, uint64_t before_ns)
{
	size_t nbuckets = bpf_map__max_entries(skel->maps.buckets);
	struct chunk c;
	int err = 0;

	for (size_t first = 0; !err && first < nbuckets; first += CHUNK) {
		/* a process that is gone needs no block's time */
		err = chunk_map(skel, first, before_ns != UINT64_MAX, &c);
		if (!err)
			forget_chunk(&c, slots, nslots, before_ns);
		chunk_unmap(&c);
	}
	return err;
}
