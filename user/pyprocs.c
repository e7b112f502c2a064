// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Python targets while recording: the walker told of each CPython process,
 * the code objects it reports, and the pools' estimates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uthash.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect.h"
#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "pyframes.h"
#include "pylayout.h"
#include "pyprocs.h"
#include "pytarget.h"
#include "snapshot.h"
#include "python.h"

/* A pool's header, as last read: its live blocks and their size class. */
struct pool {
	UT_hash_handle hh;
	uint64_t addr;
	uint32_t count;
	uint32_t szidx;
};

struct entry {
	struct hs_pytarget p;
	struct pool *pools; /* pools mode: by address */
};

struct hs_python {
	struct heapsnap_bpf *skel;
	enum hs_pymode mode; /* asked for */
	struct ring_buffer *rb;
	struct hs_pycodes *codes;
	struct entry *procs;
	size_t nprocs, procs_cap;
	struct hs_pyfiles *files;
	bool verbose;
};

static void free_pools(struct entry *e)
{
	struct pool *p, *tmp;

	HASH_ITER(hh, e->pools, p, tmp) {
		HASH_DEL(e->pools, p);
		free(p);
	}
}

static struct entry *entry_of(const struct hs_python *py, pid_t pid)
{
	for (size_t i = 0; py && i < py->nprocs; i++)
		if (py->procs[i].p.pid == pid)
			return &py->procs[i];
	return NULL;
}

static int on_code(void *ctx, void *data, size_t size)
{
	const struct hs_py_code_event *ev = data;
	struct hs_python *py = ctx;
	struct entry *e;

	if (size < sizeof(*ev))
		return 0;
	e = entry_of(py, (pid_t)ev->tgid);
	if (e)
		hs_pycodes_add(py->codes, ev, &e->p.off);
	return 0;
}

struct hs_python *hs_python_new(struct heapsnap_bpf *skel,
				 enum hs_pymode mode, bool verbose)
{
	struct hs_python *py = calloc(1, sizeof(*py));

	if (!py)
		return NULL;
	py->skel = skel;
	py->mode = mode;
	py->verbose = verbose;
	py->codes = hs_pycodes_new();
	py->files = hs_pyfiles_new();
	py->rb = ring_buffer__new(bpf_map__fd(skel->maps.py_events), on_code,
				  py, NULL);
	if (!py->codes || !py->files || !py->rb) {
		hs_python_free(py);
		return NULL;
	}
	return py;
}

void hs_python_free(struct hs_python *py)
{
	if (!py)
		return;
	ring_buffer__free(py->rb);
	hs_pycodes_free(py->codes);
	for (size_t i = 0; i < py->nprocs; i++)
		free_pools(&py->procs[i]);
	hs_pyfiles_free(py->files);
	free(py->procs);
	free(py);
}

int hs_python_fd(const struct hs_python *py)
{
	return ring_buffer__epoll_fd(py->rb);
}

void hs_python_consume(struct hs_python *py)
{
	if (py)
		ring_buffer__consume(py->rb);
}

const struct hs_pycodes *hs_python_codes(const struct hs_python *py)
{
	return py ? py->codes : NULL;
}

const struct hs_pytarget *hs_python_find(const struct hs_python *py, pid_t pid)
{
	const struct entry *e = entry_of(py, pid);

	return e ? &e->p : NULL;
}

static void report(const struct entry *e)
{
	char ver[32];

	hs_pyversion_str(e->p.version, ver, sizeof(ver));
	if (!e->p.frames) {
		fprintf(stderr, "heapsnap: pid %d runs CPython %s (%s): %s\n",
			e->p.pid, ver, e->p.path, e->p.note);
		return;
	}
	fprintf(stderr,
		"heapsnap: pid %d runs CPython %s (%s): Python frames; its allocator traced %s: %s\n",
		e->p.pid, ver, e->p.path, hs_pymode_name(e->p.mode),
		e->p.alloc.why);
}

const struct hs_pytarget *hs_python_update(struct hs_python *py, pid_t pid)
{
	struct entry e = { .pools = NULL }, *have;
	struct hs_py_proc val;
	__u32 key = (__u32)pid;

	if (!py || hs_pytarget_find(py->files, pid, py->mode, &e.p) < 0)
		return NULL;
	have = entry_of(py, pid);
	if (!have) {
		if (hs_grow(&py->procs, &py->procs_cap, py->nprocs + 1,
			    sizeof(*py->procs)))
			return NULL;
		have = &py->procs[py->nprocs++];
	} else if (have->p.version == e.p.version &&
		   have->p.runtime == e.p.runtime &&
		   !strcmp(have->p.path, e.p.path)) {
		return &have->p; /* nothing changed: a library came or went */
	} else {
		free_pools(have);
	}
	*have = e;
	if (!e.p.version)
		return &have->p;
	if (e.p.frames) {
		val.runtime = e.p.runtime;
		val.eval_lo = e.p.eval_lo;
		val.eval_hi = e.p.eval_hi;
		val.frees_traced = e.p.mode == HS_PY_EXACT;
		val.pad = 0;
		val.off = e.p.off;
		if (bpf_map_update_elem(bpf_map__fd(py->skel->maps.py_procs),
					&key, &val, BPF_ANY)) {
			have->p.frames = false;
			have->p.mode = HS_PY_OFF;
			snprintf(have->p.note, sizeof(have->p.note),
				 "no room for its Python frames: %s",
				 strerror(errno));
		}
	}
	if (py->verbose || !have->p.frames)
		report(have);
	return &have->p;
}

void hs_python_forget(struct hs_python *py, pid_t pid)
{
	__u32 key = (__u32)pid;

	if (py)
		bpf_map_delete_elem(bpf_map__fd(py->skel->maps.py_procs), &key);
}

int hs_python_probes(struct hs_python *py, pid_t pid, struct hs_probe_set *set,
		     const struct hs_probe_opts *o)
{
	const struct entry *e = py ? entry_of(py, pid) : NULL;

	return e ? hs_pytarget_probes(&e->p, set, o) : 0;
}

/* pymalloc's pool header: ref.count first, szidx after four pointers+uint */
#define POOL_COUNT 0
#define POOL_SZIDX 36
#define POOL_HEAD 40
#define POOL_ALIGN 16 /* block sizes are (szidx + 1) * 16 */
#define READ_BATCH 512

/*
 * What a pool's blocks are estimated to hold: tracemalloc counts the bytes
 * asked for, which a size class rounds up to its 16 bytes; objects are
 * 8-byte multiples, so a block holds its size or 8 less, 4 less on average.
 */
static uint64_t pool_bytes(uint32_t count, uint32_t szidx)
{
	return (uint64_t)count * ((szidx + 1) * POOL_ALIGN - 4);
}

static struct pool *pool_of(struct entry *e, uint64_t addr)
{
	struct pool *p;

	HASH_FIND(hh, e->pools, &addr, sizeof(addr), p);
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->addr = addr;
	p->count = UINT32_MAX; /* never read */
	HASH_ADD(hh, e->pools, addr, sizeof(p->addr), p);
	return p;
}

/* Reads the headers of n pools of pid at once into their cache entries. */
static void read_headers(pid_t pid, struct pool **pools, size_t n)
{
	static uint8_t buf[READ_BATCH][POOL_HEAD];
	struct iovec local[READ_BATCH], remote[READ_BATCH];
	ssize_t got;
	size_t k;

	for (k = 0; k < n; k++) {
		local[k].iov_base = buf[k];
		local[k].iov_len = POOL_HEAD;
		remote[k].iov_base = (void *)(uintptr_t)pools[k]->addr;
		remote[k].iov_len = POOL_HEAD;
	}
	got = process_vm_readv(pid, local, n, remote, n, 0);
	/* whole iovecs, in order, up to the first that failed */
	for (k = 0; got > 0 && k < n && got >= POOL_HEAD; k++, got -= POOL_HEAD) {
		memcpy(&pools[k]->count, buf[k] + POOL_COUNT, 4);
		memcpy(&pools[k]->szidx, buf[k] + POOL_SZIDX, 4);
	}
	if (k < n && got >= 0 && errno != ESRCH)
		pools[k]->count = 0; /* unmapped: its arena is gone */
}

/* A pool with no live block is no trace (0 blocks would read as one). */
static void drop_empty_pools(struct hs_raw *raw)
{
	size_t n = 0;

	for (size_t i = 0; i < raw->ntraces; i++)
		if (!(raw->traces[i].flags & HS_TRACE_ESTIMATE) ||
		    raw->traces[i].blocks)
			raw->traces[n++] = raw->traces[i];
	raw->ntraces = n;
}

void hs_python_estimate(struct hs_python *py, struct hs_raw *raw)
{
	struct pool *batch[READ_BATCH];
	size_t nb = 0, first = 0;

	if (!py)
		return;
	for (size_t i = 0; i <= raw->ntraces; i++) {
		struct hs_raw_trace *t = i < raw->ntraces ? &raw->traces[i] : NULL;
		struct entry *e = t ? entry_of(py, (pid_t)t->pid) : NULL;
		bool flush = !t || nb == READ_BATCH ||
			     (nb && batch[0] && t->pid != raw->traces[first].pid);

		if (flush && nb) {
			read_headers((pid_t)raw->traces[first].pid, batch, nb);
			nb = 0;
		}
		if (!t || !e || e->p.mode != HS_PY_POOLS ||
		    t->domain != HS_DOMAIN_PYTHON)
			continue;
		if (!nb)
			first = i;
		batch[nb] = pool_of(e, t->addr);
		if (batch[nb])
			nb++;
	}
	for (size_t i = 0; i < raw->ntraces; i++) {
		struct hs_raw_trace *t = &raw->traces[i];
		struct entry *e = entry_of(py, (pid_t)t->pid);
		struct pool *p;
		uint64_t a = t->addr;

		if (!e || e->p.mode != HS_PY_POOLS ||
		    t->domain != HS_DOMAIN_PYTHON)
			continue;
		HASH_FIND(hh, e->pools, &a, sizeof(a), p);
		t->flags |= HS_TRACE_ESTIMATE;
		if (!p || p->count == UINT32_MAX)
			continue; /* never read: the pool's own size */
		t->blocks = p->count;
		t->size = pool_bytes(p->count, p->szidx);
	}
	drop_empty_pools(raw);
}

