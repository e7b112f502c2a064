// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The moment of a snapshot: the live set when its read began, from the live
 * table as read, less what was allocated since, plus what was freed since
 * and missed by the read.
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
	int err;
};

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
	f->pad = 0; /* set once the read is found to hold it */
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

static int add_missed(struct hs_readcut *c, struct hs_raw *raw)
{
	size_t cap = raw->ntraces;

	for (size_t i = 0; i < c->nfreed; i++) {
		const struct hs_read_free *f = &c->freed[i];
		struct hs_raw_trace *t;

		if (f->pad || (i && !cmp_free(f, f - 1)) ||
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

int hs_readcut_end(struct hs_readcut *c, struct hs_raw *raw)
{
	struct hs_read_free key, *f;
	size_t kept = 0;

	__atomic_store_n(&c->skel->bss->read_cut_ns, 0, __ATOMIC_SEQ_CST);
	c->discard = !raw;
	ring_buffer__consume(c->rb);
	c->discard = false;
	if (!raw)
		return 0;
	if (c->err)
		return c->err;
	qsort(c->freed, c->nfreed, sizeof(*c->freed), cmp_free);
	memset(&key, 0, sizeof(key));
	for (size_t i = 0; i < raw->ntraces; i++) {
		struct hs_raw_trace *t = &raw->traces[i];

		if (t->time_ns >= c->cut_ns)
			continue; /* allocated after the moment */
		key.tgid = t->pid;
		key.addr = t->addr;
		key.v.time_ns = t->time_ns;
		f = c->nfreed ? bsearch(&key, c->freed, c->nfreed,
					sizeof(*c->freed), cmp_free) :
				NULL;
		if (f)
			f->pad = 1; /* freed after the read passed it */
		raw->traces[kept++] = *t;
	}
	raw->ntraces = kept;
	return add_missed(c, raw);
}

int hs_readcut_sum(struct hs_readcut *c, const struct hs_raw *raw, int stage)
{
	struct proc_entry *e = NULL, *tmp;

	if (stage < 0 || stage >= HS_READCUT_STAGES)
		return -EINVAL;
	HASH_ITER(hh, c->procs, e, tmp)
		memset(&e->sums[stage], 0, sizeof(e->sums[stage]));
	e = NULL;
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
	return 0;
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
