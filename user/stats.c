// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tracemalloc's statistics() and compare_to().
 *
 * The aggregation stage sums the selected traces per stack; keys are then
 * evaluated once per frame and once per stack. Keys are interned by their
 * symbolic value (strings and numbers) into one table shared by both
 * snapshots of a diff, so equal keys meet whatever the string, frame and
 * stack indices of each file are.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "aggregate.h"
#include "grow.h"
#include "htab.h"
#include "stats.h"
#include "stats_key.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const key_names[] = {
	[HS_KEY_LINENO] = "lineno",	  [HS_KEY_FILENAME] = "filename",
	[HS_KEY_FUNCTION] = "function",	  [HS_KEY_MODULE] = "module",
	[HS_KEY_TRACEBACK] = "traceback", [HS_KEY_PROCESS] = "process",
};

int hs_key_parse(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_names); i++)
		if (!strcmp(name, key_names[i]))
			return (int)i;
	return -1;
}

const char *hs_key_name(enum hs_key key)
{
	if ((size_t)key >= ARRAY_SIZE(key_names))
		return NULL;
	return key_names[key];
}

/* ---- ordering ---- */

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/*
 * The order of rows, biggest first: top's by size, then count; diff's by
 * |size_diff|, size, |count_diff|, count.
 */
static int stat_order(const struct hs_stat *a, const struct hs_stat *b,
		      bool diff)
{
	int r = 0;

	if (diff)
		r = hs_cmp_u64(magnitude(b->size_diff),
			       magnitude(a->size_diff));
	if (!r)
		r = hs_cmp_u64(b->size, a->size);
	if (!r && diff)
		r = hs_cmp_u64(magnitude(b->count_diff),
			       magnitude(a->count_diff));
	return r ? r : hs_cmp_u64(b->count, a->count);
}

/* ---- groups of frames ---- */

struct seq_entry {
	UT_hash_handle hh;
	uint32_t id;
	const uint32_t *seq;
};

struct group {
	uint64_t size[2]; /* [0]: old snapshot, [1]: new (or the only) one */
	uint64_t count[2];
	bool estimate;
	uint32_t fkey; /* the key, except for HS_KEY_TRACEBACK */
	const uint32_t *seq; /* HS_KEY_TRACEBACK: fkey ids of the frames */
	uint32_t seqlen;
	uint32_t stamp; /* last stack counted in, for cumulative */
	const struct hs_snapshot *rep_snap;
	const uint32_t *rep_frames;
	uint32_t rep_nframes;
};

/* One snapshot's view: its sums per stack, and per frame caches. */
struct side {
	const struct hs_snapshot *s;
	int slot;
	uint32_t *frame_fkey; /* HS_NONE until computed */
	uint32_t *seq; /* per stack_frames entry: its fkey (traceback key) */
	struct hs_sums sums;
};

struct ctx {
	enum hs_key key;
	bool cumulative;
	bool diff;
	struct hs_fkeys fkeys;
	struct group *groups;
	size_t ngroups, groups_cap;
	struct seq_entry *seq_index;
	uint32_t empty_group;
	uint32_t epoch;
	struct side sides[2];
};

static int ensure_groups(struct ctx *c, size_t n)
{
	if (hs_grow_zeroed(&c->groups, &c->groups_cap, n, sizeof(*c->groups)))
		return -1;
	if (c->ngroups < n)
		c->ngroups = n;
	return 0;
}

static uint32_t side_frame_fkey(struct ctx *c, struct side *sd, uint32_t fidx)
{
	struct hs_fkey k;

	if (fidx < sd->s->nframes && sd->frame_fkey[fidx] != HS_NONE)
		return sd->frame_fkey[fidx];
	k = hs_frame_fkey(sd->s, fidx, c->key);
	if (fidx >= sd->s->nframes)
		return hs_fkeys_intern(&c->fkeys, &k);
	sd->frame_fkey[fidx] = hs_fkeys_intern(&c->fkeys, &k);
	return sd->frame_fkey[fidx];
}

/* For every key but traceback, a group's id is its fkey's id. */
static uint32_t fkey_group(struct ctx *c, uint32_t fkey)
{
	if (fkey == HS_NONE || ensure_groups(c, (size_t)fkey + 1))
		return HS_NONE;
	c->groups[fkey].fkey = fkey;
	return fkey;
}

static uint32_t new_seq_group(struct ctx *c, const uint32_t *seq, uint32_t len)
{
	uint32_t id = (uint32_t)c->ngroups;

	if (c->ngroups >= HS_NONE || ensure_groups(c, c->ngroups + 1))
		return HS_NONE;
	c->groups[id].fkey = HS_NONE;
	c->groups[id].seq = seq;
	c->groups[id].seqlen = len;
	return id;
}

static uint32_t seq_group(struct ctx *c, const uint32_t *seq, uint32_t len)
{
	struct seq_entry *e;

	if (!len) {
		if (c->empty_group == HS_NONE)
			c->empty_group = new_seq_group(c, NULL, 0);
		return c->empty_group;
	}
	HASH_FIND(hh, c->seq_index, seq, len * sizeof(*seq), e);
	if (e)
		return e->id;
	e = malloc(sizeof(*e));
	if (!e)
		return HS_NONE;
	e->seq = seq;
	e->id = new_seq_group(c, seq, len);
	if (e->id == HS_NONE) {
		free(e);
		return HS_NONE;
	}
	HASH_ADD_KEYPTR(hh, c->seq_index, e->seq, len * sizeof(*seq), e);
	return e->id;
}

/*
 * Adds a stack's sums to group g. The group shows the frames it was first
 * seen with, preferring the new snapshot (it is processed first) and a real
 * frame over an empty traceback.
 */
static void group_add(struct ctx *c, struct side *sd, size_t stack, uint32_t g,
		      const uint32_t *frames, uint32_t nframes)
{
	struct group *gr = &c->groups[g];

	gr->size[sd->slot] += sd->sums.slots[stack].bytes;
	gr->count[sd->slot] += sd->sums.slots[stack].count;
	gr->estimate |= sd->sums.slots[stack].estimate;
	if (!gr->rep_snap ||
	    (!gr->rep_nframes && nframes && gr->rep_snap == sd->s)) {
		gr->rep_snap = sd->s;
		gr->rep_frames = frames;
		gr->rep_nframes = nframes;
	}
}

static int add_stack_traceback(struct ctx *c, struct side *sd, size_t stack,
			       const struct hs_stack *st)
{
	const uint32_t *frames = NULL;
	uint32_t i, n = 0, g;

	if (st && st->nframes) {
		frames = sd->s->stack_frames + st->first;
		n = st->nframes;
	}
	for (i = 0; i < n; i++) {
		sd->seq[st->first + i] = side_frame_fkey(c, sd, frames[i]);
		if (sd->seq[st->first + i] == HS_NONE)
			return -1;
	}
	g = seq_group(c, n ? sd->seq + st->first : NULL, n);
	if (g == HS_NONE)
		return -1;
	group_add(c, sd, stack, g, frames, n);
	return 0;
}

static int add_stack_frames(struct ctx *c, struct side *sd, size_t stack,
			    const struct hs_stack *st)
{
	const uint32_t *frames;
	uint32_t i, n, g;
	struct hs_fkey unknown = hs_fkey_unknown();

	if (!st || !st->nframes) {
		g = fkey_group(c, hs_fkeys_intern(&c->fkeys, &unknown));
		if (g == HS_NONE)
			return -1;
		group_add(c, sd, stack, g, NULL, 0);
		return 0;
	}
	frames = sd->s->stack_frames + st->first;
	n = c->cumulative ? st->nframes : 1;
	c->epoch++;
	for (i = 0; i < n; i++) {
		g = fkey_group(c, side_frame_fkey(c, sd, frames[i]));
		if (g == HS_NONE)
			return -1;
		if (c->groups[g].stamp == c->epoch)
			continue;
		c->groups[g].stamp = c->epoch;
		group_add(c, sd, stack, g, frames + i, 1);
	}
	return 0;
}

static void side_fini(struct side *sd)
{
	free(sd->frame_fkey);
	free(sd->seq);
	hs_sums_free(&sd->sums);
	memset(sd, 0, sizeof(*sd));
}

static int side_init(struct ctx *c, struct side *sd,
		     const struct hs_snapshot *s, int slot)
{
	sd->s = s;
	sd->slot = slot;
	sd->frame_fkey = malloc((s->nframes + 1) * sizeof(uint32_t));
	if (!sd->frame_fkey)
		return -1;
	memset(sd->frame_fkey, 0xff, s->nframes * sizeof(uint32_t));
	if (c->key == HS_KEY_TRACEBACK) {
		sd->seq = malloc((s->nstack_frames + 1) * sizeof(uint32_t));
		if (!sd->seq)
			return -1;
	}
	return 0;
}

static int process_side(struct ctx *c, struct side *sd,
			const struct hs_snapshot *s, const struct hs_query *q,
			int slot)
{
	size_t i;
	int err;

	if (side_init(c, sd, s, slot) || hs_stack_sums(s, q, &sd->sums))
		return -1;
	/* the last slot, for traces without a stack, is an empty traceback */
	for (i = 0; i < sd->sums.nslots; i++) {
		if (!sd->sums.slots[i].count)
			continue;
		if (c->key == HS_KEY_TRACEBACK)
			err = add_stack_traceback(c, sd, i, hs_stack_at(s, i));
		else
			err = add_stack_frames(c, sd, i, hs_stack_at(s, i));
		if (err)
			return err;
	}
	return 0;
}

/* ---- rows of groups ---- */

static int seq_cmp(const struct ctx *c, const struct group *a,
		   const struct group *b)
{
	uint32_t i, n = a->seqlen < b->seqlen ? a->seqlen : b->seqlen;
	int r;

	for (i = 0; i < n; i++) {
		if (a->seq[i] == b->seq[i])
			continue;
		r = hs_fkey_cmp(&c->fkeys.keys[a->seq[i]],
				&c->fkeys.keys[b->seq[i]]);
		if (r)
			return r;
	}
	return hs_cmp_u64(a->seqlen, b->seqlen);
}

static int key_cmp(const struct ctx *c, const struct group *a,
		   const struct group *b)
{
	if (c->key == HS_KEY_TRACEBACK)
		return seq_cmp(c, a, b);
	return hs_fkey_cmp(&c->fkeys.keys[a->fkey], &c->fkeys.keys[b->fkey]);
}

static void fill_row(const struct group *g, bool diff, struct hs_stat *row)
{
	memset(row, 0, sizeof(*row));
	row->size = g->size[1];
	row->count = g->count[1];
	row->estimate = g->estimate;
	if (diff) {
		row->size_diff = (int64_t)(g->size[1] - g->size[0]);
		row->count_diff = (int64_t)(g->count[1] - g->count[0]);
	}
	row->snap = g->rep_snap;
	row->frames = g->rep_frames;
	row->nframes = g->rep_nframes;
}

/* stat_order(), then the key ascending. */
static int group_order(const void *pa, const void *pb, void *arg)
{
	const struct ctx *c = arg;
	const struct group *a = &c->groups[*(const uint32_t *)pa];
	const struct group *b = &c->groups[*(const uint32_t *)pb];
	struct hs_stat ra, rb;
	int r;

	fill_row(a, c->diff, &ra);
	fill_row(b, c->diff, &rb);
	r = stat_order(&ra, &rb, c->diff);
	return r ? r : key_cmp(c, a, b);
}

static int build_rows(struct ctx *c, struct hs_stats *out)
{
	uint32_t *ids = malloc((c->ngroups + 1) * sizeof(*ids));
	size_t i, n = 0;

	out->rows = malloc((c->ngroups + 1) * sizeof(*out->rows));
	if (!ids || !out->rows) {
		free(ids);
		return -1;
	}
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].count[0] || c->groups[i].count[1])
			ids[n++] = (uint32_t)i;
	qsort_r(ids, n, sizeof(*ids), group_order, c);
	for (i = 0; i < n; i++)
		fill_row(&c->groups[ids[i]], c->diff, &out->rows[i]);
	out->nrows = n;
	out->key = c->key;
	out->cumulative = c->cumulative;
	out->is_diff = c->diff;
	out->total_size = c->sides[1].sums.total.bytes;
	out->total_count = c->sides[1].sums.total.count;
	if (c->diff) {
		out->total_size_diff = (int64_t)(out->total_size -
						 c->sides[0].sums.total.bytes);
		out->total_count_diff = (int64_t)(out->total_count -
						  c->sides[0].sums.total.count);
	}
	free(ids);
	return 0;
}

static void ctx_fini(struct ctx *c)
{
	HS_HASH_FREE(c->seq_index);
	hs_fkeys_fini(&c->fkeys);
	side_fini(&c->sides[0]);
	side_fini(&c->sides[1]);
	free(c->groups);
}

static int compute_frames(const struct hs_snapshot *old,
			  const struct hs_snapshot *new,
			  const struct hs_query *q, struct hs_stats *out)
{
	struct ctx c;
	int err = -1;

	memset(&c, 0, sizeof(c));
	c.key = q->key;
	/* tracemalloc refuses cumulative tracebacks; they mean nothing */
	c.cumulative = q->cumulative && q->key != HS_KEY_TRACEBACK;
	c.diff = old != NULL;
	c.empty_group = HS_NONE;
	/* new first, so rows present in both show the new snapshot's frames */
	if (process_side(&c, &c.sides[1], new, q, 1))
		goto out;
	if (old && process_side(&c, &c.sides[0], old, q, 0))
		goto out;
	err = build_rows(&c, out);
out:
	ctx_fini(&c);
	return err;
}

/* ---- the process key: rows per process, not per frame ---- */

struct pid_entry {
	UT_hash_handle hh;
	uint32_t pid;
	size_t slot;
};

/* A slot per process, shared by both snapshots of a diff. */
struct pid_slots {
	struct pid_entry *index;
	uint32_t *pids; /* by slot */
	size_t n, cap;
};

static size_t pid_slot(const struct hs_trace *t, void *arg)
{
	struct pid_slots *ps = arg;
	struct pid_entry *e;

	HASH_FIND(hh, ps->index, &t->pid, sizeof(t->pid), e);
	if (e)
		return e->slot;
	e = malloc(sizeof(*e));
	if (!e || hs_grow(&ps->pids, &ps->cap, ps->n + 1, sizeof(*ps->pids))) {
		free(e);
		return SIZE_MAX;
	}
	e->pid = t->pid;
	e->slot = ps->n;
	ps->pids[ps->n++] = t->pid;
	HASH_ADD(hh, ps->index, pid, sizeof(e->pid), e);
	return e->slot;
}

static struct hs_sum slot_sum(const struct hs_sums *sums, size_t i)
{
	static const struct hs_sum none;

	return i < sums->nslots ? sums->slots[i] : none;
}

static int proc_order(const void *pa, const void *pb, void *diff)
{
	const struct hs_stat *a = pa, *b = pb;
	int r = stat_order(a, b, diff != NULL);

	return r ? r : hs_cmp_u64(a->pid, b->pid);
}

/* A process's row shows the snapshot it has traces in, the new one first. */
static void fill_proc_row(const struct hs_snapshot *old,
			  const struct hs_snapshot *new,
			  const struct hs_sums *sums, uint32_t pid, size_t i,
			  struct hs_stat *r)
{
	struct hs_sum now = slot_sum(&sums[1], i), then = slot_sum(&sums[0], i);
	const struct hs_proc *p;

	r->size = now.bytes;
	r->count = now.count;
	r->estimate = now.estimate || then.estimate;
	r->size_diff = (int64_t)(now.bytes - then.bytes);
	r->count_diff = (int64_t)(now.count - then.count);
	r->pid = pid;
	r->snap = now.count || !old || (!then.count && hs_proc_of(new, pid)) ?
			  new :
			  old;
	p = hs_proc_of(r->snap, pid);
	r->command = p ? hs_snapshot_str(r->snap, p->command) : NULL;
	r->proc = p;
}

/*
 * A process that exited holds nothing, but had its allocations and peak:
 * it has a row, unless the query looks at frames or domains.
 */
static int add_exited(const struct hs_snapshot *s, const struct hs_query *q,
		      struct pid_slots *ps)
{
	if (!s || q->nfilters || q->domain >= 0)
		return 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct hs_trace t = { .pid = s->procs[i].pid };

		if (s->procs[i].exited && hs_trace_selected(s, &t, q) &&
		    pid_slot(&t, ps) == SIZE_MAX)
			return -1;
	}
	return 0;
}

static int compute_processes(const struct hs_snapshot *old,
			     const struct hs_snapshot *new,
			     const struct hs_query *q, struct hs_stats *out)
{
	struct hs_sums sums[2] = { { 0 } };
	struct pid_slots ps = { 0 };
	size_t i;
	int err = -1;

	if (hs_sums_by(new, q, pid_slot, &ps, &sums[1]) ||
	    (old && hs_sums_by(old, q, pid_slot, &ps, &sums[0])) ||
	    add_exited(new, q, &ps) || add_exited(old, q, &ps))
		goto out;
	out->rows = calloc(ps.n + 1, sizeof(*out->rows));
	if (!out->rows)
		goto out;
	for (i = 0; i < ps.n; i++)
		fill_proc_row(old, new, sums, ps.pids[i], i, &out->rows[i]);
	qsort_r(out->rows, ps.n, sizeof(*out->rows), proc_order,
		old ? (void *)out : NULL);
	out->nrows = ps.n;
	out->key = HS_KEY_PROCESS;
	out->is_diff = old != NULL;
	out->total_size = sums[1].total.bytes;
	out->total_count = sums[1].total.count;
	if (old) {
		out->total_size_diff =
			(int64_t)(sums[1].total.bytes - sums[0].total.bytes);
		out->total_count_diff =
			(int64_t)(sums[1].total.count - sums[0].total.count);
	}
	err = 0;
out:
	HS_HASH_FREE(ps.index);
	free(ps.pids);
	hs_sums_free(&sums[0]);
	hs_sums_free(&sums[1]);
	return err;
}

/* ---- results ---- */

/* The coarser sampling of the snapshots compared: 0 when both are exact. */
static uint64_t sampling_of(const struct hs_snapshot *old,
			    const struct hs_snapshot *new)
{
	uint64_t a = old ? old->sample_bytes : 0;

	return a > new->sample_bytes ? a : new->sample_bytes;
}

static int compute(const struct hs_snapshot *old, const struct hs_snapshot *new,
		   const struct hs_query *q, struct hs_stats *out)
{
	int err = -1;

	memset(out, 0, sizeof(*out));
	if (q->key == HS_KEY_PROCESS)
		err = compute_processes(old, new, q, out);
	else if (hs_key_name(q->key))
		err = compute_frames(old, new, q, out);
	if (err) {
		hs_stats_free(out);
		return err;
	}
	out->sample_bytes = sampling_of(old, new);
	return 0;
}

int hs_stats_top(const struct hs_snapshot *s, const struct hs_query *q,
		 struct hs_stats *out)
{
	return compute(NULL, s, q, out);
}

int hs_stats_diff(const struct hs_snapshot *old, const struct hs_snapshot *new,
		  const struct hs_query *q, struct hs_stats *out)
{
	return compute(old, new, q, out);
}

/* stat_order() of top, then |size_diff|. */
static int size_order(const void *pa, const void *pb)
{
	const struct hs_stat *a = pa, *b = pb;
	int c = stat_order(a, b, false);

	return c ? c :
		   hs_cmp_u64(magnitude(b->size_diff), magnitude(a->size_diff));
}

void hs_stats_sort_by_size(struct hs_stats *st)
{
	if (st->nrows)
		qsort(st->rows, st->nrows, sizeof(*st->rows), size_order);
}

void hs_stats_free(struct hs_stats *st)
{
	if (!st)
		return;
	free(st->rows);
	memset(st, 0, sizeof(*st));
}
