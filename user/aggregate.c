// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Selection, sums, frames and frame names for every analysis.
 *
 * A snapshot has far fewer distinct stacks than traces, so the filters are
 * evaluated once per stack (and fnmatch() once per filter and string); a
 * trace only adds its size to its slot's sums.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "grow.h"

/* The name filters see for a frame with neither file nor module. */
#define UNKNOWN_NAME "<unknown>"

/* ---- frames and names ---- */

/* The string index of the path of frame f's module, HS_NONE if none. */
static uint32_t module_path(const struct hs_snapshot *s,
			    const struct hs_frame *f)
{
	return f->module < s->nmodules ? s->modules[f->module].path : HS_NONE;
}

const struct hs_stack *hs_stack_at(const struct hs_snapshot *s, size_t idx)
{
	const struct hs_stack *st;

	if (idx >= s->nstacks)
		return NULL;
	st = &s->stacks[idx];
	if (st->first > s->nstack_frames ||
	    st->nframes > s->nstack_frames - st->first)
		return NULL;
	return st;
}

const uint32_t *hs_stack_frames(const struct hs_snapshot *s, size_t i,
				uint32_t *n)
{
	const struct hs_stack *st = hs_stack_at(s, i);
	uint32_t j;

	*n = 0;
	if (!st)
		return NULL;
	for (j = 0; j < st->nframes; j++)
		if (s->stack_frames[st->first + j] >= s->nframes)
			return NULL;
	*n = st->nframes;
	return s->stack_frames + st->first;
}

void hs_frame_view(const struct hs_snapshot *s, uint32_t idx,
		   struct hs_frame_view *v)
{
	const struct hs_frame *f;

	memset(v, 0, sizeof(*v));
	if (!s || idx >= s->nframes)
		return;
	f = &s->frames[idx];
	v->function = hs_snapshot_str(s, f->function);
	v->file = hs_snapshot_str(s, f->file);
	v->module = hs_snapshot_str(s, module_path(s, f));
	v->line = v->file ? f->line : 0;
	v->offset = f->offset;
	v->inlined = f->inlined;
	v->python = hs_frame_is_python(s, f);
}

const char *hs_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void hs_frame_name(const struct hs_snapshot *s, uint32_t idx, char *buf,
		   size_t len)
{
	struct hs_frame_view v;

	hs_frame_view(s, idx, &v);
	if (v.function)
		snprintf(buf, len, "%s", v.function);
	else if (v.file)
		snprintf(buf, len, "%s:%" PRIu32, v.file, v.line);
	else if (v.module)
		snprintf(buf, len, "%s+0x%" PRIx64, hs_base_name(v.module),
			 v.offset);
	else
		snprintf(buf, len, UNKNOWN_NAME);
}

const struct hs_proc *hs_proc_of(const struct hs_snapshot *s, uint32_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* ---- filters ---- */

static bool all_digits(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int hs_filter_parse(const char *arg, bool inclusive, struct hs_filter *f)
{
	const char *colon = strrchr(arg, ':');
	unsigned long long line;

	memset(f, 0, sizeof(*f));
	f->inclusive = inclusive;
	f->pattern = arg;
	f->line = -1;
	if (colon && all_digits(colon + 1)) {
		errno = 0;
		line = strtoull(colon + 1, NULL, 10);
		if (errno || line > UINT32_MAX || colon == arg)
			return -1;
		f->line = (int64_t)line;
		f->pattern_len = (size_t)(colon - arg);
	}
	return *arg ? 0 : -1;
}

/*
 * The query's filters, with a memo of fnmatch() results when one snapshot
 * is matched many times: one byte per (filter, name), where name is a
 * string index or, in the last slot, "<unknown>". 0 = not yet known.
 */
struct matcher {
	const struct hs_query *q;
	char **patterns; /* NUL-terminated copies of the filters' globs */
	bool any_include;
	uint8_t *memo;
	size_t stride;
};

static void matcher_fini(struct matcher *m)
{
	size_t i;

	if (m->patterns)
		for (i = 0; i < m->q->nfilters; i++)
			free(m->patterns[i]);
	free(m->patterns);
	free(m->memo);
	m->patterns = NULL;
	m->memo = NULL;
}

/* With memo, for s: its results are remembered. */
static int matcher_init(struct matcher *m, const struct hs_query *q,
			const struct hs_snapshot *s, bool memo)
{
	const struct hs_filter *f;
	size_t i, len;

	memset(m, 0, sizeof(*m));
	m->q = q;
	if (!q->nfilters)
		return 0;
	m->patterns = calloc(q->nfilters, sizeof(*m->patterns));
	if (memo) {
		m->stride = s->nstrings + 1;
		m->memo = calloc(q->nfilters, m->stride);
	}
	if (!m->patterns || (memo && !m->memo)) {
		matcher_fini(m);
		return -1;
	}
	for (i = 0; i < q->nfilters; i++) {
		f = &q->filters[i];
		len = f->pattern_len ? f->pattern_len : strlen(f->pattern);
		m->patterns[i] = strndup(f->pattern, len);
		if (!m->patterns[i]) {
			matcher_fini(m);
			return -1;
		}
		m->any_include |= f->inclusive;
	}
	return 0;
}

/* The string index filters match a frame against: its file, else its module. */
static uint32_t filter_name(const struct hs_snapshot *s,
			    const struct hs_frame *f)
{
	uint32_t path = module_path(s, f);

	if (f->file != HS_NONE && f->file < s->nstrings)
		return f->file;
	return path < s->nstrings ? path : HS_NONE;
}

static const char *name_str(const struct hs_snapshot *s, uint32_t name)
{
	const char *str = hs_snapshot_str(s, name);

	return str ? str : UNKNOWN_NAME;
}

static bool name_matches(struct matcher *m, const struct hs_snapshot *s,
			 size_t fi, uint32_t name)
{
	size_t slot;
	bool hit;

	if (!m->memo)
		return !fnmatch(m->patterns[fi], name_str(s, name), 0);
	slot = fi * m->stride + (name == HS_NONE ? s->nstrings : name);
	if (!m->memo[slot]) {
		hit = !fnmatch(m->patterns[fi], name_str(s, name), 0);
		m->memo[slot] = hit ? 2 : 1;
	}
	return m->memo[slot] == 2;
}

static bool frame_matches(struct matcher *m, const struct hs_snapshot *s,
			  size_t fi, uint32_t fidx)
{
	const struct hs_filter *f = &m->q->filters[fi];
	const struct hs_frame *fr;
	uint32_t name = HS_NONE, line = 0;

	if (fidx < s->nframes) {
		fr = &s->frames[fidx];
		name = filter_name(s, fr);
		line = fr->line;
	}
	if (f->line >= 0 && f->line != line)
		return false;
	return name_matches(m, s, fi, name);
}

/* An empty traceback is one "<unknown>" frame, as in tracemalloc. */
static bool filter_matches_stack(struct matcher *m, const struct hs_snapshot *s,
				 size_t fi, const struct hs_stack *st)
{
	uint32_t i, n;

	if (!st || !st->nframes)
		return frame_matches(m, s, fi, HS_NONE);
	n = m->q->all_frames ? st->nframes : 1;
	for (i = 0; i < n; i++)
		if (frame_matches(m, s, fi, s->stack_frames[st->first + i]))
			return true;
	return false;
}

static bool stack_selected(struct matcher *m, const struct hs_snapshot *s,
			   const struct hs_stack *st)
{
	bool included = !m->any_include;
	size_t i;

	for (i = 0; i < m->q->nfilters; i++) {
		if (!filter_matches_stack(m, s, i, st))
			continue;
		if (!m->q->filters[i].inclusive)
			return false;
		included = true;
	}
	return included;
}

/* The command's name: the base name of its first word. */
static void command_name(const char *cmd, char *buf, size_t len)
{
	const char *end, *base = cmd;

	end = cmd + strcspn(cmd, " ");
	for (const char *p = cmd; p < end; p++)
		if (*p == '/')
			base = p + 1;
	snprintf(buf, len, "%.*s", (int)(end - base), base);
}

static bool process_selected(const struct hs_query *q,
			     const struct hs_snapshot *s,
			     const struct hs_trace *t)
{
	const struct hs_proc *p;
	char name[256];
	size_t i;

	if (q->npids) {
		for (i = 0; i < q->npids && q->pids[i] != t->pid; i++)
			;
		if (i == q->npids)
			return false;
	}
	if (!q->ncomms)
		return true;
	p = hs_proc_of(s, t->pid);
	if (!p || !hs_snapshot_str(s, p->command))
		return false;
	command_name(hs_snapshot_str(s, p->command), name, sizeof(name));
	for (i = 0; i < q->ncomms; i++)
		if (!fnmatch(q->comms[i], name, 0))
			return true;
	return false;
}

/* The filters that look at the trace, not its frames. */
static bool trace_fields_selected(const struct hs_query *q,
				  const struct hs_snapshot *s,
				  const struct hs_trace *t)
{
	return (q->domain < 0 || t->domain == q->domain) &&
	       (!(q->npids || q->ncomms) || process_selected(q, s, t));
}

bool hs_trace_selected(const struct hs_snapshot *s, const struct hs_trace *t,
		       const struct hs_query *q)
{
	struct matcher m;
	bool ok;

	if (!trace_fields_selected(q, s, t))
		return false;
	if (!q->nfilters)
		return true;
	if (matcher_init(&m, q, s, false))
		return false;
	ok = stack_selected(&m, s, hs_stack_at(s, t->stack));
	matcher_fini(&m);
	return ok;
}

/* ---- sums ---- */

enum { STACK_UNDECIDED, STACK_DROPPED, STACK_KEPT };

struct summer {
	const struct hs_snapshot *s;
	struct matcher m;
	uint8_t *verdict; /* per stack slot: STACK_* */
	double *est; /* sampled: bytes and blocks per slot, unrounded */
	size_t cap_slots, cap_est;
	double est_total[2];
};

static bool stack_kept(struct summer *sm, size_t stack)
{
	bool kept;

	if (!sm->m.q->nfilters)
		return true;
	if (sm->verdict[stack] == STACK_UNDECIDED) {
		kept = stack_selected(&sm->m, sm->s, hs_stack_at(sm->s, stack));
		sm->verdict[stack] = kept ? STACK_KEPT : STACK_DROPPED;
	}
	return sm->verdict[stack] == STACK_KEPT;
}

static int ensure_slots(struct summer *sm, struct hs_sums *out, size_t n)
{
	if (n <= out->nslots)
		return 0;
	if (hs_grow_zeroed(&out->slots, &sm->cap_slots, n,
			   sizeof(*out->slots)) ||
	    (sm->s->sample_bytes &&
	     hs_grow_zeroed(&sm->est, &sm->cap_est, 2 * n, sizeof(*sm->est))))
		return -1;
	out->nslots = n;
	return 0;
}

static void add_trace(struct summer *sm, struct hs_sums *out, size_t slot,
		      const struct hs_trace *t)
{
	double k;

	uint64_t blocks = hs_trace_blocks(t);

	out->slots[slot].estimate |= t->flags & HS_TRACE_ESTIMATE;
	if (!sm->s->sample_bytes) {
		out->slots[slot].bytes += t->size;
		out->slots[slot].count += blocks;
		out->total.bytes += t->size;
		out->total.count += blocks;
		return;
	}
	k = hs_trace_scale(sm->s, t);
	sm->est[2 * slot] += (double)t->size * k;
	sm->est[2 * slot + 1] += k * (double)blocks;
	sm->est_total[0] += (double)t->size * k;
	sm->est_total[1] += k * (double)blocks;
}

static void round_estimates(struct summer *sm, struct hs_sums *out)
{
	size_t i;

	if (!sm->s->sample_bytes)
		return;
	for (i = 0; i < out->nslots; i++) {
		out->slots[i].bytes = (uint64_t)llround(sm->est[2 * i]);
		out->slots[i].count = (uint64_t)llround(sm->est[2 * i + 1]);
	}
	out->total.bytes = (uint64_t)llround(sm->est_total[0]);
	out->total.count = (uint64_t)llround(sm->est_total[1]);
}

static int sum_traces(struct summer *sm, const struct hs_query *q,
		      hs_slot_fn slot_of, void *arg, struct hs_sums *out)
{
	const struct hs_snapshot *s = sm->s;
	const struct hs_trace *t;
	size_t i, stack, slot;

	for (i = 0; i < s->ntraces; i++) {
		t = &s->traces[i];
		stack = t->stack < s->nstacks ? t->stack : s->nstacks;
		if (!trace_fields_selected(q, s, t) || !stack_kept(sm, stack))
			continue;
		slot = slot_of(t, arg);
		if (slot == SIZE_MAX || ensure_slots(sm, out, slot + 1))
			return -1;
		add_trace(sm, out, slot, t);
	}
	round_estimates(sm, out);
	return 0;
}

/* hs_sums_by() with at least nslots slots. */
static int sums_by(const struct hs_snapshot *s, const struct hs_query *q,
		   size_t nslots, hs_slot_fn slot_of, void *arg,
		   struct hs_sums *out)
{
	struct summer sm = { .s = s };
	int err = -1;

	memset(out, 0, sizeof(*out));
	if (matcher_init(&sm.m, q, s, true))
		return -1;
	sm.verdict = calloc(s->nstacks + 1, 1);
	if (!sm.verdict || ensure_slots(&sm, out, nslots) ||
	    sum_traces(&sm, q, slot_of, arg, out))
		goto out;
	err = 0;
out:
	matcher_fini(&sm.m);
	free(sm.verdict);
	free(sm.est);
	if (err)
		hs_sums_free(out);
	return err;
}

int hs_sums_by(const struct hs_snapshot *s, const struct hs_query *q,
	       hs_slot_fn slot_of, void *arg, struct hs_sums *out)
{
	return sums_by(s, q, 0, slot_of, arg, out);
}

static size_t stack_slot(const struct hs_trace *t, void *arg)
{
	const struct hs_snapshot *s = arg;

	return t->stack < s->nstacks ? t->stack : s->nstacks;
}

int hs_stack_sums(const struct hs_snapshot *s, const struct hs_query *q,
		  struct hs_sums *out)
{
	return sums_by(s, q, s->nstacks + 1, stack_slot, (void *)s, out);
}

void hs_sums_free(struct hs_sums *sums)
{
	free(sums->slots);
	memset(sums, 0, sizeof(*sums));
}
