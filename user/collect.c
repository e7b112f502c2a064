// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reads the BPF maps into raw traces and counters: the live table in place
 * (livetable.c), the others by batch operations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect.h"
#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "livetable.h"

#define BATCH 4096

/* The processes to collect, and when each last called exec. */
struct wanted {
	const pid_t *pids;
	size_t npids;
	uint64_t *exec_ns;
};

/* Is this block of a wanted process, and of its current image? */
static bool block_wanted(const struct wanted *w, const struct hs_live_key *k,
			 const struct hs_live_val *v)
{
	size_t i;

	if (!w->npids)
		return true;
	for (i = 0; i < w->npids; i++)
		if ((uint32_t)w->pids[i] == k->tgid)
			return v->time_ns >= w->exec_ns[i];
	return false;
}

/* Calls fn with each block of the spill map, the table's overflow. */
static int walk_spill(int fd, hs_block_fn fn, void *arg)
{
	struct hs_live_key *keys = calloc(BATCH, sizeof(*keys));
	struct hs_live_val *vals = calloc(BATCH, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 in = 0, out = 0, count;
	bool first = true, done = false;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (!done) {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &count, &opts);
		if (err) {
			err = -errno;
			if (err != -ENOENT)
				goto cleanup;
			done = true;
			err = 0;
		}
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(arg, &keys[i], &vals[i]);
		if (err)
			goto cleanup;
		in = out;
		first = false;
	}
cleanup:
	free(keys);
	free(vals);
	return err;
}

struct gather {
	const struct wanted *w;
	struct hs_raw chunk; /* HS_COLLECT_CHUNK traces of room */
	size_t total;
	hs_chunk_fn fn;
	void *arg;
	const struct hs_progress *progress;
};

static int hand_chunk(struct gather *g)
{
	int err = g->chunk.ntraces ? g->fn(g->arg, &g->chunk) : 0;

	g->chunk.ntraces = 0;
	return err;
}

static int gather_block(void *arg, const struct hs_live_key *k,
			const struct hs_live_val *v)
{
	struct gather *g = arg;
	struct hs_raw_trace *t;

	if (!block_wanted(g->w, k, v))
		return 0;
	t = &g->chunk.traces[g->chunk.ntraces++];
	memset(t, 0, sizeof(*t));
	t->addr = k->addr;
	t->size = v->size;
	t->stack = v->stack;
	t->time_ns = v->time_ns;
	t->pid = k->tgid;
	t->tid = v->tid;
	t->total_nframe = v->total_nframe;
	t->domain = v->domain;
	if (!(++g->total % BATCH))
		hs_progress_report(g->progress, "collecting", "blocks",
				   g->total, 0);
	return g->chunk.ntraces == HS_COLLECT_CHUNK ? hand_chunk(g) : 0;
}

static int read_live(struct heapsnap_bpf *skel, struct gather *g)
{
	int err = hs_livetable_walk(skel, gather_block, g);

	if (!err)
		err = walk_spill(bpf_map__fd(skel->maps.spill), gather_block,
				 g);
	if (!err)
		err = hand_chunk(g);
	hs_progress_report(g->progress, "collecting", "blocks", g->total, 0);
	return err;
}

int hs_collect_stream(struct heapsnap_bpf *skel, const pid_t *pids,
		      size_t npids, hs_chunk_fn fn, void *arg,
		      const struct hs_progress *progress)
{
	struct wanted w = { pids, npids, calloc(npids + 1, sizeof(uint64_t)) };
	struct gather g = {
		.w = &w, .fn = fn, .arg = arg, .progress = progress
	};
	struct hs_proc_val c;
	int err = -ENOMEM;

	g.chunk.traces = malloc(HS_COLLECT_CHUNK * sizeof(*g.chunk.traces));
	if (!w.exec_ns || !g.chunk.traces)
		goto out;
	for (size_t i = 0; i < npids; i++)
		if (hs_collect_counters(skel, pids[i], &c))
			w.exec_ns[i] = c.exec_ns;
	err = read_live(skel, &g);
out:
	free(g.chunk.traces);
	free(w.exec_ns);
	return err;
}

int hs_collect_stack(struct heapsnap_bpf *skel, uint64_t key,
		     struct hs_raw_stack *rs, uint64_t *ips)
{
	size_t vsize = bpf_map__value_size(skel->maps.stacks);
	size_t room = (vsize - offsetof(struct hs_stack_val, ip)) / 8;
	struct hs_stack_val val;

	if (vsize > sizeof(val) || vsize < offsetof(struct hs_stack_val, ip))
		return -EINVAL;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stacks), &key, &val))
		return -ENOENT;
	rs->key = key;
	rs->pid = val.tgid;
	rs->flags = val.flags;
	rs->stop_ip = val.stop_ip;
	rs->nips = val.nframe < room ? val.nframe : (uint32_t)room;
	rs->ips = ips;
	memcpy(ips, val.ip, rs->nips * sizeof(uint64_t));
	return 0;
}

int hs_collect_pids(struct heapsnap_bpf *skel, pid_t **pids, size_t *n)
{
	int fd = bpf_map__fd(skel->maps.procs);
	__u32 key, next, *prev = NULL;
	size_t cap = 0;

	*pids = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pid_t *p = realloc(*pids, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			*pids = p;
			cap = ncap;
		}
		(*pids)[(*n)++] = (pid_t)next;
		key = next;
		prev = &key;
	}
	return 0;
}

int hs_collect_init_slots(struct heapsnap_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.free_slots);
	__u32 n = bpf_map__max_entries(skel->maps.counters);

	for (__u32 slot = 0; slot < n; slot++)
		if (bpf_map_update_elem(fd, NULL, &slot, BPF_ANY))
			return -errno;
	return 0;
}

static bool proc_slot(struct heapsnap_bpf *skel, pid_t pid, __u32 *slot)
{
	__u32 key = (__u32)pid;

	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.procs), &key, slot);
}

bool hs_collect_counters(struct heapsnap_bpf *skel, pid_t pid,
			 struct hs_proc_val *v)
{
	__u32 slot;

	if (proc_slot(skel, pid, &slot) &&
	    !bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &slot, v))
		return true;
	memset(v, 0, sizeof(*v));
	return false;
}

int hs_collect_add_proc(struct heapsnap_bpf *skel, pid_t pid)
{
	struct hs_proc_val zero;
	__u32 key = (__u32)pid, slot;

	if (proc_slot(skel, pid, &slot))
		return 0;
	if (bpf_map_lookup_and_delete_elem(bpf_map__fd(skel->maps.free_slots),
					   NULL, &slot))
		return -ENOSPC;
	memset(&zero, 0, sizeof(zero));
	zero.epoch = skel->bss->epoch;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.counters), &slot, &zero,
				BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.procs), &key, &slot,
				BPF_NOEXIST))
		return -errno;
	return 0;
}

/* The processes being forgotten, sorted, and the slots they held. */
struct pidset {
	pid_t *pids;
	size_t n;
	uint8_t *slots;
	uint32_t nslots;
};

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_set(const struct pidset *set, uint32_t pid)
{
	pid_t key = (pid_t)pid;

	return bsearch(&key, set->pids, set->n, sizeof(key), cmp_pid);
}

static int pidset_init(struct heapsnap_bpf *skel, struct pidset *set,
		       const pid_t *pids, size_t n)
{
	__u32 slot;

	set->n = n;
	set->nslots = bpf_map__max_entries(skel->maps.counters);
	set->pids = malloc((n ? n : 1) * sizeof(*pids));
	set->slots = calloc(set->nslots, 1);
	if (!set->pids || !set->slots)
		return -ENOMEM;
	memcpy(set->pids, pids, n * sizeof(*pids));
	qsort(set->pids, n, sizeof(*pids), cmp_pid);
	for (size_t i = 0; i < n; i++)
		if (proc_slot(skel, pids[i], &slot) && slot < set->nslots)
			set->slots[slot] = 1;
	return 0;
}

static void pidset_free(struct pidset *set)
{
	free(set->pids);
	free(set->slots);
}

struct doomed {
	const struct pidset *set;
	uint64_t before_ns;
	struct hs_live_key *keys;
	size_t n, cap;
};

static int doom_block(void *arg, const struct hs_live_key *k,
		      const struct hs_live_val *v)
{
	struct doomed *d = arg;

	if (!in_set(d->set, k->tgid) || v->time_ns >= d->before_ns)
		return 0;
	if (hs_grow(&d->keys, &d->cap, d->n + 1, sizeof(*d->keys)))
		return -ENOMEM;
	d->keys[d->n++] = *k;
	return 0;
}

/* Drops the blocks of the set's processes allocated before before_ns. */
static void forget_live(struct heapsnap_bpf *skel, const struct pidset *set,
			uint64_t before_ns)
{
	struct doomed d = { .set = set, .before_ns = before_ns };
	int fd = bpf_map__fd(skel->maps.spill);

	hs_livetable_forget(skel, set->slots, set->nslots, before_ns);
	walk_spill(fd, doom_block, &d);
	for (size_t i = 0; i < d.n; i++)
		if (!bpf_map_delete_elem(fd, &d.keys[i]))
			__atomic_sub_fetch(&skel->bss->global.spilled, 1,
					   __ATOMIC_SEQ_CST);
	free(d.keys);
}

static void forget_stacks(int fd, const struct pidset *set)
{
	struct hs_stack_val *val = calloc(1, sizeof(*val));
	__u64 key, next, *doomed = NULL;
	size_t ndoomed = 0, cap = 0;
	void *prev = NULL;

	if (!val)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, val) ||
		    !in_set(set, val->tgid))
			continue;
		if (hs_grow(&doomed, &cap, ndoomed + 1, sizeof(*doomed)))
			break;
		doomed[ndoomed++] = key;
	}
	for (size_t i = 0; i < ndoomed; i++)
		bpf_map_delete_elem(fd, &doomed[i]);
	free(doomed);
	free(val);
}

void hs_collect_forget(struct heapsnap_bpf *skel, const pid_t *pids, size_t n)
{
	struct hs_proc_val zero;
	struct pidset set;
	__u32 key, slot;

	if (!n)
		return;
	if (pidset_init(skel, &set, pids, n))
		goto out;
	forget_live(skel, &set, UINT64_MAX);
	forget_stacks(bpf_map__fd(skel->maps.stacks), &set);
	for (size_t i = 0; i < n; i++) {
		key = (__u32)pids[i];
		if (!proc_slot(skel, pids[i], &slot) ||
		    bpf_map_delete_elem(bpf_map__fd(skel->maps.procs), &key))
			continue;
		/* the next process to claim the slot starts from nothing */
		memset(&zero, 0, sizeof(zero));
		bpf_map_update_elem(bpf_map__fd(skel->maps.counters), &slot,
				    &zero, BPF_ANY);
		bpf_map_update_elem(bpf_map__fd(skel->maps.free_slots), NULL,
				    &slot, BPF_ANY);
	}
out:
	pidset_free(&set);
}

void hs_collect_forget_image(struct heapsnap_bpf *skel, pid_t pid)
{
	struct hs_proc_val c;
	struct pidset set = { 0 };

	if (hs_collect_counters(skel, pid, &c) && c.exec_ns &&
	    !pidset_init(skel, &set, &pid, 1))
		forget_live(skel, &set, c.exec_ns);
	pidset_free(&set);
}

uint64_t hs_collect_new_epoch(struct heapsnap_bpf *skel)
{
	return __atomic_add_fetch(&skel->bss->epoch, 1, __ATOMIC_SEQ_CST);
}

static uint64_t map_memlock(const struct bpf_map *map)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(map));
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t hs_collect_map_memory(struct heapsnap_bpf *skel)
{
	return map_memlock(skel->maps.buckets) +
	       map_memlock(skel->maps.blocks) + map_memlock(skel->maps.spill) +
	       map_memlock(skel->maps.stacks) + map_memlock(skel->maps.procs) +
	       map_memlock(skel->maps.counters) +
	       map_memlock(skel->maps.tasks) + map_memlock(skel->maps.seen) +
	       map_memlock(skel->maps.read_frees);
}

void hs_collect_global(struct heapsnap_bpf *skel, struct hs_global_counters *g)
{
	*g = skel->bss->global.c;
}
