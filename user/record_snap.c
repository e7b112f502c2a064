// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* record: takes a snapshot of the traced processes and writes it. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "collect.h"
#include "heapsnap.h"
#include "mmapdom.h"
#include "progress.h"
#include "push.h"
#include "pyprocs.h"
#include "readcut.h"
#include "recorder.h"
#include "sideband.h"
#include "snapbuild.h"
#include "snapfile.h"
#include "unwind.h"

static void snapshot_path(const struct recorder *r, uint32_t seq, char *buf,
			  size_t len)
{
	if (seq)
		snprintf(buf, len, "%s.%u", r->o.output, seq);
	else
		snprintf(buf, len, "%s", r->o.output);
}

/*
 * What CPython the process runs, and how its allocator was traced; for
 * pools, how its figures relate.
 */
static uint32_t python_note(struct recorder *r, struct hs_snapshot *s,
			    const struct rec_proc *rp)
{
	const struct hs_pytarget *py = hs_python_find(r->python, rp->t.pid);
	struct hs_readcut_sums read, est;
	char note[768];
	size_t n;

	if (!py || !hs_pytarget_describe(py, note, sizeof(note)))
		return HS_NONE;
	n = strlen(note);
	if (py->mode == HS_PY_POOLS && r->cut && n < sizeof(note)) {
		read = hs_readcut_sums(r->cut, rp->t.pid, HS_READCUT_READ);
		est = hs_readcut_sums(r->cut, rp->t.pid, HS_READCUT_FINAL);
		snprintf(note + n, sizeof(note) - n,
			 "; its python traces and current count the %llu "
			 "blocks (%llu B) estimated in the %llu pools "
			 "(%llu B) pymalloc held%s; peak counts whole pools",
			 (unsigned long long)est.py_blocks,
			 (unsigned long long)est.py_bytes,
			 (unsigned long long)read.py_blocks,
			 (unsigned long long)read.py_bytes,
			 rp->t.exited ?
				 " (an exited process's pools cannot be read)" :
				 "");
	}
	return hs_snapshot_intern(s, note);
}

/*
 * The counters of the snapshot's moment. Its current and count are its
 * traces' (the heap's and python's, and the mmap domain's below), unless
 * they are sampled estimates. A process's counters cover every domain. Its
 * peak is the heap's peak plus the mmap domain's: the two are kept apart,
 * so this is an upper bound.
 */
static void moment_counters(struct recorder *r, pid_t pid,
			    struct hs_proc_val *v)
{
	struct hs_readcut_sums sums;

	if (!r->cut) {
		hs_collect_counters(r->skel, pid, v);
		return;
	}
	hs_readcut_counters(r->cut, pid, v);
	if (r->o.sample_bytes)
		return;
	sums = hs_readcut_sums(r->cut, pid, HS_READCUT_FINAL);
	v->c.current = sums.bytes;
	v->c.count = sums.blocks;
	if (v->c.peak < v->c.current)
		v->c.peak = v->c.current;
	if (v->c.interval_peak < v->c.current)
		v->c.interval_peak = v->c.current;
}

/*
 * Did tracing begin after the process did? A command started by record is
 * traced from its first instruction, a followed child from its fork (the
 * blocks it inherited were traced in its parent: their frees are losses),
 * and the python domain of either only from when its interpreter is found.
 */
static bool attached(struct recorder *r, const struct rec_proc *rp)
{
	const struct hs_pytarget *py = hs_python_find(r->python, rp->t.pid);

	if (r->o.all || (!rp->t.child && !rp->forked))
		return true;
	return py && (py->mode == HS_PY_EXACT || py->mode == HS_PY_POOLS);
}

static void add_proc(struct recorder *r, struct hs_snapshot *s,
		     struct rec_proc *rp, uint64_t epoch)
{
	struct proc_state *ps = &rp->st;
	struct hs_counters mmaps;
	struct hs_proc_val v;
	struct hs_proc p;

	memset(&p, 0, sizeof(p));
	p.pid = (uint32_t)rp->t.pid;
	p.command = hs_snapshot_intern(s, rp->t.command);
	p.exited = rp->t.exited;
	p.attached = attached(r, rp);
	p.python = python_note(r, s, rp);
	moment_counters(r, rp->t.pid, &v);
	p.counters = v.c;
	if (v.epoch != ps->epoch || v.c.interval_peak < ps->last_current)
		p.counters.interval_peak = ps->last_current;
	hs_mmapdom_counters(r->mmaps, (uint32_t)rp->t.pid, &mmaps);
	hs_counters_add(&p.counters, &mmaps);
	ps->last_current = v.c.current;
	ps->epoch = epoch;
	hs_snapshot_add_proc(s, &p);
}

/* -a: every process the probes have met so far gets an entry. */
static void adopt_seen_processes(struct recorder *r)
{
	pid_t *pids = NULL;
	size_t n = 0;

	if (!r->o.all || hs_collect_pids(r->skel, &pids, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (!hs_rec_find(r, pids[i]))
			hs_rec_add(r, pids[i]);
	free(pids);
}

/* Where the traces of a snapshot go as they are built. */
struct sink {
	struct recorder *r;
	struct hs_snapshot *s;
	bool keep; /* in s */
	struct hs_snapwriter *w; /* into a file; NULL: not */
	struct hs_push_sums *push; /* for --push; NULL: not */
	size_t ntraces;
	int build_err; /* building failed, not reading the maps */
};

static int sink_trace(void *arg, const struct hs_trace *t)
{
	struct sink *k = arg;

	k->ntraces++;
	if (k->w)
		hs_snapwriter_trace(k->w, t);
	if (k->keep && hs_snapshot_add_trace(k->s, t))
		return -ENOMEM;
	return k->push ? hs_rec_push_add(k->push, t) : 0;
}

static int build_chunk(struct sink *k, struct hs_raw *chunk)
{
	k->build_err = hs_snapbuild_traces(k->r->build, chunk, sink_trace, k);
	return k->build_err;
}

/* Heap traces of the moment: Python pools get their estimates. */
static int moment_chunk(struct sink *k, struct hs_raw *chunk)
{
	hs_python_estimate(k->r->python, chunk);
	if (k->r->cut)
		hs_readcut_sum(k->r->cut, chunk, HS_READCUT_FINAL);
	return build_chunk(k, chunk);
}

/* A chunk of the heap's traces as read: those of the moment go on. */
static int heap_chunk(void *arg, struct hs_raw *chunk)
{
	struct sink *k = arg;
	int e = k->r->cut ? hs_readcut_chunk(k->r->cut, chunk) : 0;

	return e ? e : moment_chunk(k, chunk);
}

static int read_stack(void *arg, uint64_t key, struct hs_raw_stack *rs,
		      uint64_t *ips)
{
	struct recorder *r = arg;

	return hs_collect_stack(r->skel, key, rs, ips);
}

/*
 * The traces of the traced processes, heap then mmap domain, into k as
 * they are read; *missing: the stacks that were not in the map.
 */
static int stream_traces(struct recorder *r, struct sink *k,
			 const struct hs_progress *progress, size_t *missing)
{
	pid_t *pids = calloc(r->nprocs + 1, sizeof(*pids));
	struct hs_raw mm;
	int e, ended;

	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < r->nprocs; i++)
		pids[i] = r->procs[i].t.pid;
	if (!r->cut)
		r->cut = hs_readcut_new(r->skel);
	e = r->cut ? hs_readcut_begin(r->cut, pids, r->nprocs, r->o.all) : 0;
	if (!e)
		e = hs_snapbuild_begin(r->build, k->s, read_stack, r);
	/* -a gathers every process at once; its old images go as they exec */
	if (!e)
		e = hs_collect_stream(r->skel, pids, r->o.all ? 0 : r->nprocs,
				      heap_chunk, k, progress);
	if (r->cut) {
		memset(&mm, 0, sizeof(mm));
		ended = hs_readcut_end(r->cut, e ? NULL : &mm);
		e = e ? e : ended;
		if (!e)
			e = moment_chunk(k, &mm);
		free(mm.traces);
	}
	for (size_t i = 0; !e && i < r->nprocs; i++) {
		memset(&mm, 0, sizeof(mm));
		e = hs_mmapdom_collect(r->mmaps, (uint32_t)pids[i], &mm);
		if (!e)
			e = build_chunk(k, &mm);
		free(mm.traces);
	}
	*missing = hs_snapbuild_end(r->build);
	free(pids);
	return e;
}

static void set_meta(struct recorder *r, struct hs_snapshot *s, uint32_t seq)
{
	struct timespec now;
	struct utsname uts;

	clock_gettime(CLOCK_REALTIME, &now);
	s->time_ns = (uint64_t)now.tv_sec * 1000000000ull +
		     (uint64_t)now.tv_nsec;
	s->command = hs_snapshot_intern(
		s, r->o.all ? "(every process)" :
		   r->nprocs ? r->procs[0].t.command :
			       NULL);
	s->kernel = hs_snapshot_intern(s, uname(&uts) ? NULL : uts.release);
	s->traceback_limit = r->o.frames;
	s->sample_bytes = r->o.sample_bytes;
	s->tracer_memory =
		hs_collect_map_memory(r->skel) + hs_unwind_memory(r->unwind);
	s->seq = seq;
}

/* A snapshot of every traced process now, its traces into k. */
static struct hs_snapshot *take_snapshot(struct recorder *r, uint32_t seq,
					 struct sink *k,
					 const struct hs_progress *progress,
					 char *err, size_t errlen)
{
	struct hs_snapshot *s;
	size_t missing = 0;
	uint64_t epoch;
	int e;

	hs_rec_consume_map_events(r);
	hs_python_consume(r->python);
	adopt_seen_processes(r);
	s = hs_snapshot_new();
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->r = r;
	k->s = s;
	e = stream_traces(r, k, progress, &missing);
	if (e) {
		snprintf(err, errlen, "cannot %s: %s",
			 k->build_err ? "build the snapshot" :
					"read the BPF maps",
			 strerror(-e));
		hs_snapshot_free(s);
		return NULL;
	}
	epoch = hs_collect_new_epoch(r->skel);
	set_meta(r, s, seq);
	for (size_t i = 0; i < r->nprocs; i++)
		add_proc(r, s, &r->procs[i], epoch);
	if (hs_rec_add_gone(r, s)) {
		snprintf(err, errlen, "out of memory");
		hs_snapshot_free(s);
		return NULL;
	}
	hs_collect_global(r->skel, &s->global);
	s->global.events_lost = r->lost_events;
	s->global.stacks_missing = missing;
	hs_unwind_report(r->unwind, s);
	s->unwind_stats.mode = r->o.unwind + 1;
	hs_snapshot_seal(s);
	return s;
}

struct hs_snapshot *hs_rec_take_snapshot(struct recorder *r, uint32_t seq,
					 char *err, size_t errlen)
{
	struct sink k = { .keep = true };

	return take_snapshot(r, seq, &k, NULL, err, errlen);
}

/* The final snapshot is the command's result; a numbered one is not. */
static void report_write_error(uint32_t seq, const char *err)
{
	if (seq)
		fprintf(stderr, "heapsnap: warning: %s; recording goes on\n",
			err);
	else
		fprintf(stderr, "Error: %s\n", err);
}

/*
 * The traces go to the file as they are built, and to the push's sums: the
 * snapshot is never whole in memory.
 */
int hs_rec_write_snapshot(struct recorder *r, uint32_t seq)
{
	char path[PATH_MAX], err[512], werr[512];
	struct hs_progress_line line;
	struct hs_progress progress;
	struct hs_push_sums sums;
	struct sink k = { 0 };
	struct hs_snapshot *s;
	int ret = -1;

	snapshot_path(r, seq, path, sizeof(path));
	/* a big snapshot takes seconds: say how far it got, on a terminal */
	hs_progress_line_init(&line, stderr, r->status.tty);
	progress = hs_progress_line_ops(&line);
	/* a file that cannot be made still lets the push go */
	k.w = hs_snapwriter_open(path, werr, sizeof(werr));
	hs_rec_push_sums_init(&sums, r->o.sample_bytes);
	k.push = r->push ? &sums : NULL;
	s = take_snapshot(r, seq, &k, &progress, err, sizeof(err));
	if (!s) {
		hs_snapwriter_abort(k.w);
		hs_rec_push_sums_free(&sums);
		hs_progress_line_clear(&line);
		hs_status_clear(&r->status);
		report_write_error(seq, err);
		return -1;
	}
	hs_progress_report(&progress, "writing", "blocks", k.ntraces, 0);
	if (k.w)
		ret = hs_snapwriter_close(k.w, s, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", werr);
	hs_progress_line_clear(&line);
	hs_status_clear(&r->status);
	if (ret)
		report_write_error(seq, err);
	else
		hs_status_wrote(&r->status, s, path);
	/* a push that fails warns and is counted: it fails no recording */
	if (r->push)
		hs_rec_push_send(r, &sums, s, path);
	hs_rec_push_sums_free(&sums);
	hs_snapshot_free(s);
	return ret;
}
