// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The moment of a snapshot: the live set when its read began, from the live
 * table as read chunk by chunk, less what was allocated since, plus what
 * was freed since and missed by the read. Of each block read, a
 * fingerprint is kept until the read ends: a block freed after the read
 * passed it is not added again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include <bpf/libbpf.h>

#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "htab.h"
#include "readcut.h"

struct proc_entry {
	UT_hash_handle hh;
	pid_t pid;
	bool have; /* it had counters at the moment */
	struct hs_proc_val v;
	struct hs_readcut_sums sums[HS_READCUT_STAGES];
};

struct hs_readcut {
	struct heapsnap_bpf *skel;
	struct ring_buffer *rb;
	uint64_t cut_ns;
	bool all;
	bool discard; /* what the ring holds is of no read */
	struct proc_entry *procs;
	struct hs_read_free *freed;
	size_t nfreed, cap;
	uint64_t *seen; /* fingerprints of the blocks read */
	size_t nseen, seencap;
	int err;
};

static uint64_t fingerprint(uint32_t pid, uint64_t addr, uint64_t time_ns)
{
	uint64_t h = addr ^ (time_ns * 0x9E3779B97F4A7C15ull) ^
		     ((uint64_t)pid << 48);

	/* splitmix64's finalizer */
	h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
	h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
	return h ^ (h >> 31);
}

/* A free's fingerprint, and where the free is. */
struct freed_fp {
	uint64_t fp;
	size_t i;
};

static int cmp_fp(const void *a, const void *b)
{
	const struct freed_fp *x = a, *y = b;

	return (x->fp > y->fp) - (x->fp < y->fp);
}

static void forget_seen(struct hs_readcut *c)
{
	free(c->seen);
	c->seen = NULL;
	c->nseen = c->seencap = 0;
}

static int on_free(void *ctx, void *data, size_t size)
{
	struct hs_readcut *c = ctx;
	struct hs_read_free *f;

	if (c->discard || size < sizeof(*f))
		return 0;
	f = hs_grow_append(&c->freed, &c->nfreed, &c->cap, sizeof(*f));
	if (!f) {
		c->err = -ENOMEM;
		return 0;
	}
	memcpy(f, data, sizeof(*f));
	return 0;
}

struct hs_readcut *hs_readcut_new(struct heapsnap_bpf *skel)
{
	struct hs_readcut *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->skel = skel;
	c->rb = ring_buffer__new(bpf_map__fd(skel->maps.read_frees), on_free, c,
				 NULL);
	if (!c->rb) {
		free(c);
		return NULL;
	}
	return c;
}

static void forget_procs(struct hs_readcut *c)
{
	HS_HASH_FREE(c->procs);
	c->procs = NULL;
}

void hs_readcut_free(struct hs_readcut *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	forget_procs(c);
	forget_seen(c);
	free(c->freed);
	free(c);
}

static struct proc_entry *find(const struct hs_readcut *c, pid_t pid)
{
	struct proc_entry *e;

	HASH_FIND(hh, c->procs, &pid, sizeof(pid), e);
	return e;
}

int hs_readcut_begin(struct hs_readcut *c, const pid_t *pids, size_t n,
		     bool all)
{
	struct timespec now;
	struct proc_entry *e;

	/* frees a program kept just after the previous read ended */
	c->discard = true;
	ring_buffer__consume(c->rb);
	c->discard = false;
	c->nfreed = 0;
	c->err = 0;
	c->all = all;
	forget_procs(c);
	forget_seen(c);
	clock_gettime(CLOCK_MONOTONIC, &now);
	c->cut_ns =
		(uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	__atomic_store_n(&c->skel->bss->read_cut_ns, c->cut_ns,
			 __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < n; i++) {
		if (find(c, pids[i]))
			continue;
		e = calloc(1, sizeof(*e));
		if (!e) {
			hs_readcut_end(c, NULL);
			return -ENOMEM;
		}
		e->pid = pids[i];
		e->have = hs_collect_counters(c->skel, pids[i], &e->v);
		HASH_ADD(hh, c->procs, pid, sizeof(e->pid), e);
	}
	return 0;
}

static int cmp_free(const void *a, const void *b)
{
	const struct hs_read_free *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->v.time_ns > y->v.time_ns) - (x->v.time_ns < y->v.time_ns);
}

/* Is this block one the read should have had: of a process read, and of
 * its image at the moment? */
static bool wanted(const struct hs_readcut *c, uint32_t pid, uint64_t time_ns)
{
	const struct proc_entry *e = find(c, (pid_t)pid);

	if (!e)
		return c->all;
	return !e->have || time_ns >= e->v.exec_ns;
}

int hs_readcut_chunk(struct hs_readcut *c, struct hs_raw *chunk)
{
	size_t kept = 0;
	uint64_t *fp;

	/* the ring holds what it can: emptied as the read goes */
	ring_buffer__consume(c->rb);
	for (size_t i = 0; i < chunk->ntraces; i++) {
		const struct hs_raw_trace *t = &chunk->traces[i];

		if (t->time_ns >= c->cut_ns)
			continue; /* allocated after the moment */
		fp = hs_grow_append(&c->seen, &c->nseen, &c->seencap,
				    sizeof(*fp));
		if (!fp)
			return -ENOMEM;
		*fp = fingerprint(t->pid, t->addr, t->time_ns);
		chunk->traces[kept++] = *t;
	}
	chunk->ntraces = kept;
	hs_readcut_sum(c, chunk, HS_READCUT_READ);
	return c->err;
}

/*
 * Marks the frees (sorted, the first of each block) whose block the read
 * had: pad set. Few blocks are freed during a read: the blocks read are
 * scanned once against the frees' fingerprints, and need no sorting.
 */
static int mark_read(struct hs_readcut *c)
{
	struct freed_fp *fps, key, *hit;
	size_t n = 0;

	for (size_t i = 0; i < c->nfreed; i++)
		c->freed[i].pad = 0;
	if (!c->nfreed || !c->nseen)
		return 0;
	fps = calloc(c->nfreed, sizeof(*fps));
	if (!fps)
		return -ENOMEM;
	for (size_t i = 0; i < c->nfreed; i++) {
		const struct hs_read_free *f = &c->freed[i];

		if (i && !cmp_free(f, f - 1))
			continue;
		fps[n].fp = fingerprint(f->tgid, f->addr, f->v.time_ns);
		fps[n++].i = i;
	}
	qsort(fps, n, sizeof(*fps), cmp_fp);
	for (size_t j = 0; j < c->nseen; j++) {
		key.fp = c->seen[j];
		hit = bsearch(&key, fps, n, sizeof(*fps), cmp_fp);
		if (hit)
			c->freed[hit->i].pad = 1;
	}
	free(fps);
	return 0;
}

static int add_missed(struct hs_readcut *c, struct hs_raw *raw)
{
	size_t cap = 0;

	for (size_t i = 0; i < c->nfreed; i++) {
		const struct hs_read_free *f = &c->freed[i];
		struct hs_raw_trace *t;

		if ((i && !cmp_free(f, f - 1)) || f->pad ||
		    !wanted(c, f->tgid, f->v.time_ns))
			continue;
		if (hs_grow(&raw->traces, &cap, raw->ntraces + 1, sizeof(*t)))
			return -ENOMEM;
		t = &raw->traces[raw->ntraces++];
		memset(t, 0, sizeof(*t));
		t->addr = f->addr;
		t->size = f->v.size;
		t->stack = f->v.stack;
		t->time_ns = f->v.time_ns;
		t->pid = f->tgid;
		t->tid = f->v.tid;
		t->total_nframe = f->v.total_nframe;
		t->domain = f->v.domain;
	}
	return 0;
}

int hs_readcut_end(struct hs_readcut *c, struct hs_raw *missed)
{
	int e;

	__atomic_store_n(&c->skel->bss->read_cut_ns, 0, __ATOMIC_SEQ_CST);
	c->discard = !missed;
	ring_buffer__consume(c->rb);
	c->discard = false;
	if (!missed) {
		forget_seen(c);
		return 0;
	}
	memset(missed, 0, sizeof(*missed));
	e = c->err;
	if (!e) {
		if (c->nfreed)
			qsort(c->freed, c->nfreed, sizeof(*c->freed),
			      cmp_free);
		e = mark_read(c);
	}
	if (!e)
		e = add_missed(c, missed);
	forget_seen(c);
	if (!e)
		hs_readcut_sum(c, missed, HS_READCUT_READ);
	return e;
}

void hs_readcut_sum(struct hs_readcut *c, const struct hs_raw *raw, int stage)
{
	struct proc_entry *e = NULL;

	if (stage < 0 || stage >= HS_READCUT_STAGES)
		return;
	for (size_t i = 0; i < raw->ntraces; i++) {
		const struct hs_raw_trace *t = &raw->traces[i];
		struct hs_readcut_sums *s;
		uint64_t blocks = t->blocks ? t->blocks : 1;

		if (t->domain == HS_DOMAIN_MMAP)
			continue;
		if (!e || (uint32_t)e->pid != t->pid)
			e = find(c, (pid_t)t->pid);
		if (!e)
			continue;
		s = &e->sums[stage];
		s->bytes += t->size;
		s->blocks += blocks;
		if (t->domain == HS_DOMAIN_PYTHON) {
			s->py_bytes += t->size;
			s->py_blocks += blocks;
		}
	}
}

struct hs_readcut_sums hs_readcut_sums(const struct hs_readcut *c, pid_t pid,
				       int stage)
{
	const struct proc_entry *e = find(c, pid);
	struct hs_readcut_sums zero = { 0 };

	if (!e || stage < 0 || stage >= HS_READCUT_STAGES)
		return zero;
	return e->sums[stage];
}

bool hs_readcut_counters(const struct hs_readcut *c, pid_t pid,
			 struct hs_proc_val *v)
{
	const struct proc_entry *e = find(c, pid);

	if (!e || !e->have) {
		memset(v, 0, sizeof(*v));
		return false;
	}
	*v = e->v;
	return true;
}
