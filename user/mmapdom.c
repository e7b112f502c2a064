// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The mmap domain's regions, per process, kept from the kernel's events. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "mmapdom.h"

struct region {
	uint64_t start, end;
	uint64_t stack;
	uint64_t time_ns;
	uint32_t tid;
	uint32_t total_nframe;
};

struct proc {
	uint32_t pid;
	struct region *regions; /* sorted by start, disjoint */
	size_t n, cap;
	struct hs_counters c;
};

struct hs_mmapdom {
	struct proc *procs;
	size_t nprocs, procs_cap;
};

struct hs_mmapdom *hs_mmapdom_new(void)
{
	return calloc(1, sizeof(struct hs_mmapdom));
}

void hs_mmapdom_free(struct hs_mmapdom *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nprocs; i++)
		free(d->procs[i].regions);
	free(d->procs);
	free(d);
}

static struct proc *find_proc(struct hs_mmapdom *d, uint32_t pid, bool create)
{
	struct proc *p;

	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].pid == pid)
			return &d->procs[i];
	if (!create)
		return NULL;
	p = hs_grow_append(&d->procs, &d->nprocs, &d->procs_cap, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	return p;
}

static int insert_at(struct proc *p, size_t i, const struct region *r)
{
	if (hs_grow(&p->regions, &p->cap, p->n + 1, sizeof(*p->regions)))
		return -ENOMEM;
	memmove(&p->regions[i + 1], &p->regions[i],
		(p->n - i) * sizeof(*p->regions));
	p->regions[i] = *r;
	p->n++;
	return 0;
}

/* Index of the first region that ends after addr. */
static size_t first_after(const struct proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Unmaps [a, b) from p's regions; returns the bytes that were tracked. */
static uint64_t remove_range(struct proc *p, uint64_t a, uint64_t b)
{
	uint64_t gone = 0;
	size_t i = first_after(p, a);

	while (i < p->n && p->regions[i].start < b) {
		struct region *r = &p->regions[i];
		uint64_t lo = r->start > a ? r->start : a;
		uint64_t hi = r->end < b ? r->end : b;

		gone += hi - lo;
		if (r->start < a && r->end > b) { /* a hole in the middle */
			struct region tail = *r;

			tail.start = b;
			r->end = a;
			if (insert_at(p, i + 1, &tail))
				gone += tail.end - tail.start; /* out of memory */
			else
				p->c.count++;
			break;
		}
		if (r->start < a) {
			r->end = a;
			i++;
		} else if (r->end > b) {
			r->start = b;
			break;
		} else {
			memmove(r, r + 1, (p->n - i - 1) * sizeof(*r));
			p->n--;
			p->c.count--;
		}
	}
	p->c.current -= gone;
	return gone;
}

static void add_region(struct proc *p, const struct hs_map_event *e,
		       uint64_t start, uint64_t len)
{
	struct region r = {
		.start = start,
		.end = start + len,
		.stack = e->stack,
		.time_ns = e->time_ns,
		.tid = e->tid,
		.total_nframe = e->total_nframe,
	};

	if (!len)
		return;
	remove_range(p, r.start, r.end); /* MAP_FIXED replaces what was there */
	if (insert_at(p, first_after(p, r.start), &r))
		return;
	p->c.current += len;
	p->c.count++;
	p->c.allocs++;
	p->c.bytes_allocated += len;
	if (p->c.current > p->c.peak)
		p->c.peak = p->c.current;
	if (p->c.current > p->c.interval_peak)
		p->c.interval_peak = p->c.current;
}

void hs_mmapdom_apply(struct hs_mmapdom *d, const struct hs_map_event *e)
{
	struct proc *p = find_proc(d, e->tgid, true);

	if (!p)
		return;
	switch (e->op) {
	case HS_MAP_MMAP:
		add_region(p, e, e->ret, e->a1);
		break;
	case HS_MAP_MUNMAP:
		if (remove_range(p, e->a0, e->a0 + e->a1))
			p->c.frees++;
		break;
	case HS_MAP_MREMAP:
		/* like realloc: a new block at the mremap's own call site */
		if (e->a1 && remove_range(p, e->a0, e->a0 + e->a1)) {
			p->c.frees++;
			add_region(p, e, e->ret, e->a2);
		}
		break;
	case HS_MAP_BRK:
		if (e->ret > e->a0)
			add_region(p, e, e->a0, e->ret - e->a0);
		else if (remove_range(p, e->ret, e->a0))
			p->c.frees++;
		break;
	}
}

void hs_mmapdom_forget(struct hs_mmapdom *d, uint32_t pid)
{
	struct proc *p = find_proc(d, pid, false);

	if (!p)
		return;
	free(p->regions);
	*p = d->procs[--d->nprocs];
}

void hs_mmapdom_exec(struct hs_mmapdom *d, uint32_t pid, uint64_t time_ns)
{
	struct proc *p = find_proc(d, pid, false);
	size_t j = 0;

	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->regions[i].time_ns >= time_ns)
			p->regions[j++] = p->regions[i];
	p->n = j;
	memset(&p->c, 0, sizeof(p->c));
	for (size_t i = 0; i < p->n; i++) {
		p->c.current += p->regions[i].end - p->regions[i].start;
		p->c.allocs++;
	}
	p->c.count = p->n;
	p->c.bytes_allocated = p->c.peak = p->c.interval_peak = p->c.current;
}

int hs_mmapdom_collect(struct hs_mmapdom *d, uint32_t pid, struct hs_raw *raw)
{
	struct proc *p = find_proc(d, pid, false);
	struct hs_raw_trace *t;

	if (!p || !p->n)
		return 0;
	t = realloc(raw->traces, (raw->ntraces + p->n) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	raw->traces = t;
	for (size_t i = 0; i < p->n; i++) {
		const struct region *r = &p->regions[i];

		t = &raw->traces[raw->ntraces++];
		memset(t, 0, sizeof(*t));
		t->addr = r->start;
		t->size = r->end - r->start;
		t->stack = r->stack;
		t->time_ns = r->time_ns;
		t->pid = pid;
		t->tid = r->tid;
		t->total_nframe = r->total_nframe;
		t->domain = HS_DOMAIN_MMAP;
	}
	return 0;
}

void hs_mmapdom_counters(struct hs_mmapdom *d, uint32_t pid,
			 struct hs_counters *c)
{
	struct proc *p = find_proc(d, pid, false);

	memset(c, 0, sizeof(*c));
	if (!p)
		return;
	*c = p->c;
	p->c.interval_peak = p->c.current;
}
