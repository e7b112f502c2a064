// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tracemalloc's statistics(), compare_to() and filter_traces().
 *
 * A snapshot has far fewer distinct stacks than traces, so filters and keys
 * are evaluated once per frame and once per stack; a trace only adds its size
 * to its stack's sums. Keys are interned by their symbolic value (strings and
 * numbers) into one table shared by both snapshots of a diff, so equal keys
 * meet whatever the string, frame and stack indices of each file are.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "grow.h"
#include "stats.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The name filters see for a frame with neither file nor module. */
#define UNKNOWN_NAME "<unknown>"

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

/* ---- filters ---- */

struct matcher {
	const struct hs_query *q;
	char **patterns; /* NUL-terminated copies of the filters' globs */
	bool any_include;
};

static void matcher_fini(struct matcher *m)
{
	size_t i;

	if (m->patterns)
		for (i = 0; i < m->q->nfilters; i++)
			free(m->patterns[i]);
	free(m->patterns);
	m->patterns = NULL;
}

static int matcher_init(struct matcher *m, const struct hs_query *q)
{
	const struct hs_filter *f;
	size_t i, len;

	memset(m, 0, sizeof(*m));
	m->q = q;
	if (!q->nfilters)
		return 0;
	m->patterns = calloc(q->nfilters, sizeof(*m->patterns));
	if (!m->patterns)
		return -1;
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
static uint32_t frame_name(const struct hs_snapshot *s,
			   const struct hs_frame *f)
{
	if (f->file != HS_NONE && f->file < s->nstrings)
		return f->file;
	if (f->module < s->nmodules && s->modules[f->module].path < s->nstrings)
		return s->modules[f->module].path;
	return HS_NONE;
}

static const char *name_str(const struct hs_snapshot *s, uint32_t name)
{
	const char *str = hs_snapshot_str(s, name);

	return str ? str : UNKNOWN_NAME;
}

/*
 * Per snapshot memo of fnmatch() results: one byte per (filter, name), where
 * name is a string index or, in the last slot, "<unknown>". 0 = not yet known.
 */
struct match_memo {
	uint8_t *res;
	size_t stride;
};

static bool name_matches(const struct matcher *m, struct match_memo *memo,
			 const struct hs_snapshot *s, size_t fi, uint32_t name)
{
	size_t slot;
	bool hit;

	if (!memo || !memo->res)
		return !fnmatch(m->patterns[fi], name_str(s, name), 0);
	slot = fi * memo->stride + (name == HS_NONE ? s->nstrings : name);
	if (!memo->res[slot]) {
		hit = !fnmatch(m->patterns[fi], name_str(s, name), 0);
		memo->res[slot] = hit ? 2 : 1;
	}
	return memo->res[slot] == 2;
}

static bool frame_matches(const struct matcher *m, struct match_memo *memo,
			  const struct hs_snapshot *s, size_t fi, uint32_t fidx)
{
	const struct hs_filter *f = &m->q->filters[fi];
	const struct hs_frame *fr;
	uint32_t name = HS_NONE, line = 0;

	if (fidx < s->nframes) {
		fr = &s->frames[fidx];
		name = frame_name(s, fr);
		line = fr->line;
	}
	if (f->line >= 0 && f->line != line)
		return false;
	return name_matches(m, memo, s, fi, name);
}

static const struct hs_stack *stack_at(const struct hs_snapshot *s,
				       uint32_t idx)
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

/* An empty traceback is one "<unknown>" frame, as in tracemalloc. */
static bool filter_matches_stack(const struct matcher *m,
				 struct match_memo *memo,
				 const struct hs_snapshot *s, size_t fi,
				 const struct hs_stack *st)
{
	uint32_t i, n;

	if (!st || !st->nframes)
		return frame_matches(m, memo, s, fi, HS_NONE);
	n = m->q->all_frames ? st->nframes : 1;
	for (i = 0; i < n; i++)
		if (frame_matches(m, memo, s, fi,
				  s->stack_frames[st->first + i]))
			return true;
	return false;
}

static bool stack_selected(const struct matcher *m, struct match_memo *memo,
			   const struct hs_snapshot *s,
			   const struct hs_stack *st)
{
	bool included = !m->any_include;
	size_t i;

	for (i = 0; i < m->q->nfilters; i++) {
		if (!filter_matches_stack(m, memo, s, i, st))
			continue;
		if (!m->q->filters[i].inclusive)
			return false;
		included = true;
	}
	return included;
}

static const struct hs_proc *proc_of(const struct hs_snapshot *s, uint32_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
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
	p = proc_of(s, t->pid);
	if (!p || !hs_snapshot_str(s, p->command))
		return false;
	command_name(hs_snapshot_str(s, p->command), name, sizeof(name));
	for (i = 0; i < q->ncomms; i++)
		if (!fnmatch(q->comms[i], name, 0))
			return true;
	return false;
}

/* The filters that look at the trace, not its frames. */
static bool domain_selected(const struct hs_query *q,
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

	if (!domain_selected(q, s, t))
		return false;
	if (!q->nfilters)
		return true;
	if (matcher_init(&m, q))
		return false;
	ok = stack_selected(&m, NULL, s, stack_at(s, t->stack));
	matcher_fini(&m);
	return ok;
}

/* ---- keys ---- */

enum fkey_kind {
	FK_UNKNOWN, /* nothing known: "<unknown>" */
	FK_NAME, /* a file, function or module name */
	FK_FILE_LINE,
	FK_MODULE_OFFSET,
};

/* The symbolic key of one frame. */
struct fkey {
	const char *str; /* NULL for FK_UNKNOWN */
	uint64_t num;
	uint8_t kind;
};

struct fkey_entry {
	UT_hash_handle hh;
	uint32_t id;
	size_t len;
	unsigned char bytes[];
};

struct seq_entry {
	UT_hash_handle hh;
	uint32_t id;
	const uint32_t *seq;
};

struct group {
	uint64_t size[2]; /* [0]: old snapshot, [1]: new (or the only) one */
	uint64_t count[2];
	uint32_t fkey; /* the key, except for HS_KEY_TRACEBACK */
	const uint32_t *seq; /* HS_KEY_TRACEBACK: fkey ids of the frames */
	uint32_t seqlen;
	uint32_t stamp; /* last stack counted in, for cumulative */
	const struct hs_snapshot *rep_snap;
	const uint32_t *rep_frames;
	uint32_t rep_nframes;
};

/* One snapshot's view: per frame and per stack caches. */
struct side {
	const struct hs_snapshot *s;
	int slot;
	uint32_t *frame_fkey; /* HS_NONE until computed */
	uint32_t *seq; /* per stack_frames entry: its fkey (traceback key) */
	uint64_t *stack_size;
	uint64_t *stack_count;
	uint8_t *stack_state; /* STACK_*: filters' verdict */
	struct match_memo memo;
};

struct ctx {
	const struct hs_query *q;
	enum hs_key key;
	bool cumulative;
	struct matcher matcher;
	struct fkey *fkeys;
	size_t nfkeys, fkeys_cap;
	struct fkey_entry *fkey_index;
	struct group *groups;
	size_t ngroups, groups_cap;
	struct seq_entry *seq_index;
	uint32_t empty_group;
	uint32_t epoch;
	unsigned char *scratch;
	size_t scratch_cap;
	uint64_t total_size[2], total_count[2];
	struct side sides[2];
};

static struct fkey fkey_of(enum fkey_kind kind, const char *str, uint64_t num)
{
	struct fkey k = { .str = str, .num = num, .kind = (uint8_t)kind };

	if (!str)
		k = (struct fkey){ .kind = FK_UNKNOWN };
	return k;
}

static struct fkey frame_fkey(const struct hs_snapshot *s, uint32_t fidx,
			      enum hs_key key)
{
	const struct hs_frame *f;
	const char *file, *func, *module = NULL;

	if (fidx >= s->nframes)
		return fkey_of(FK_UNKNOWN, NULL, 0);
	f = &s->frames[fidx];
	file = hs_snapshot_str(s, f->file);
	func = hs_snapshot_str(s, f->function);
	if (f->module < s->nmodules)
		module = hs_snapshot_str(s, s->modules[f->module].path);
	switch (key) {
	case HS_KEY_FILENAME:
		return fkey_of(FK_NAME, file ? file : module, 0);
	case HS_KEY_FUNCTION:
		if (func)
			return fkey_of(FK_NAME, func, 0);
		return fkey_of(FK_MODULE_OFFSET, module, f->offset);
	case HS_KEY_MODULE:
		return fkey_of(FK_NAME, module, 0);
	default:
		if (file)
			return fkey_of(FK_FILE_LINE, file, f->line);
		return fkey_of(FK_MODULE_OFFSET, module, f->offset);
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int fkey_cmp(const struct fkey *a, const struct fkey *b)
{
	int c;

	if (a->str != b->str) {
		if (!a->str || !b->str)
			return a->str ? 1 : -1;
		c = strcmp(a->str, b->str);
		if (c)
			return c;
	}
	c = cmp_u64(a->num, b->num);
	return c ? c : cmp_u64(a->kind, b->kind);
}

static int ensure_groups(struct ctx *c, size_t n)
{
	if (hs_grow_zeroed(&c->groups, &c->groups_cap, n, sizeof(*c->groups)))
		return -1;
	if (c->ngroups < n)
		c->ngroups = n;
	return 0;
}

/* Interns k by value; returns its dense id or HS_NONE without memory. */
static uint32_t fkey_intern(struct ctx *c, const struct fkey *k)
{
	size_t slen = k->str ? strlen(k->str) : 0, len = 9 + slen;
	struct fkey_entry *e;
	uint32_t id;

	if (hs_grow_zeroed(&c->scratch, &c->scratch_cap, len, 1))
		return HS_NONE;
	c->scratch[0] = k->kind;
	memcpy(c->scratch + 1, &k->num, 8);
	if (slen)
		memcpy(c->scratch + 9, k->str, slen);
	HASH_FIND(hh, c->fkey_index, c->scratch, len, e);
	if (e)
		return e->id;
	if (c->nfkeys >= HS_NONE ||
	    hs_grow_zeroed(&c->fkeys, &c->fkeys_cap, c->nfkeys + 1,
			   sizeof(*c->fkeys)))
		return HS_NONE;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return HS_NONE;
	id = (uint32_t)c->nfkeys++;
	c->fkeys[id] = *k;
	e->id = id;
	e->len = len;
	memcpy(e->bytes, c->scratch, len);
	HASH_ADD(hh, c->fkey_index, bytes[0], len, e);
	return id;
}

static uint32_t side_frame_fkey(struct ctx *c, struct side *sd, uint32_t fidx)
{
	struct fkey k;

	if (fidx < sd->s->nframes && sd->frame_fkey[fidx] != HS_NONE)
		return sd->frame_fkey[fidx];
	k = frame_fkey(sd->s, fidx, c->key);
	if (fidx >= sd->s->nframes)
		return fkey_intern(c, &k);
	sd->frame_fkey[fidx] = fkey_intern(c, &k);
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

	gr->size[sd->slot] += sd->stack_size[stack];
	gr->count[sd->slot] += sd->stack_count[stack];
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
	struct fkey unknown = fkey_of(FK_UNKNOWN, NULL, 0);

	if (!st || !st->nframes) {
		g = fkey_group(c, fkey_intern(c, &unknown));
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
	free(sd->stack_size);
	free(sd->stack_count);
	free(sd->stack_state);
	free(sd->memo.res);
	memset(sd, 0, sizeof(*sd));
}

/*
 * Per-stack arrays have one more slot, nstacks, for the traces whose stack
 * index is invalid: they count as an empty traceback.
 */
static int side_init(struct ctx *c, struct side *sd,
		     const struct hs_snapshot *s, int slot)
{
	size_t nslots = s->nstacks + 1;

	sd->s = s;
	sd->slot = slot;
	sd->frame_fkey = malloc((s->nframes + 1) * sizeof(uint32_t));
	sd->stack_size = calloc(nslots, sizeof(uint64_t));
	sd->stack_count = calloc(nslots, sizeof(uint64_t));
	sd->stack_state = calloc(nslots, 1);
	if (!sd->frame_fkey || !sd->stack_size || !sd->stack_count ||
	    !sd->stack_state)
		return -1;
	memset(sd->frame_fkey, 0xff, s->nframes * sizeof(uint32_t));
	if (c->key == HS_KEY_TRACEBACK) {
		sd->seq = malloc((s->nstack_frames + 1) * sizeof(uint32_t));
		if (!sd->seq)
			return -1;
	}
	if (c->q->nfilters) {
		sd->memo.stride = s->nstrings + 1;
		sd->memo.res = calloc(c->q->nfilters, sd->memo.stride);
		if (!sd->memo.res)
			return -1;
	}
	return 0;
}

enum { STACK_UNDECIDED, STACK_DROPPED, STACK_KEPT };

static bool stack_kept(struct ctx *c, struct side *sd, size_t stack)
{
	bool kept;

	if (!c->q->nfilters)
		return true;
	if (sd->stack_state[stack] == STACK_UNDECIDED) {
		kept = stack_selected(&c->matcher, &sd->memo, sd->s,
				      stack_at(sd->s, (uint32_t)stack));
		sd->stack_state[stack] = kept ? STACK_KEPT : STACK_DROPPED;
	}
	return sd->stack_state[stack] == STACK_KEPT;
}

/*
 * Sums the selected traces per stack. A sampled snapshot's traces stand for
 * hs_trace_scale() blocks each; those sums are kept exact in doubles and
 * rounded once per stack.
 */
static int sum_traces(struct ctx *c, struct side *sd)
{
	const struct hs_snapshot *s = sd->s;
	size_t i, stack, nslots = s->nstacks + 1;
	double *est = NULL, tot_size = 0, tot_count = 0;
	const struct hs_trace *t;

	if (s->sample_bytes) {
		est = calloc(2 * nslots, sizeof(*est));
		if (!est)
			return -ENOMEM;
	}
	for (i = 0; i < s->ntraces; i++) {
		double k;

		t = &s->traces[i];
		stack = t->stack < s->nstacks ? t->stack : s->nstacks;
		if (!domain_selected(c->q, s, t) || !stack_kept(c, sd, stack))
			continue;
		if (!est) {
			sd->stack_size[stack] += t->size;
			sd->stack_count[stack]++;
			c->total_size[sd->slot] += t->size;
			c->total_count[sd->slot]++;
			continue;
		}
		k = hs_trace_scale(s, t);
		est[2 * stack] += (double)t->size * k;
		est[2 * stack + 1] += k;
		tot_size += (double)t->size * k;
		tot_count += k;
	}
	for (i = 0; est && i < nslots; i++) {
		sd->stack_size[i] = (uint64_t)llround(est[2 * i]);
		sd->stack_count[i] = (uint64_t)llround(est[2 * i + 1]);
	}
	if (est) {
		c->total_size[sd->slot] += (uint64_t)llround(tot_size);
		c->total_count[sd->slot] += (uint64_t)llround(tot_count);
	}
	free(est);
	return 0;
}

static int add_stacks(struct ctx *c, struct side *sd)
{
	const struct hs_stack *st;
	size_t i;
	int err;

	for (i = 0; i <= sd->s->nstacks; i++) {
		if (!sd->stack_count[i])
			continue;
		st = stack_at(sd->s, (uint32_t)i);
		if (c->key == HS_KEY_TRACEBACK)
			err = add_stack_traceback(c, sd, i, st);
		else
			err = add_stack_frames(c, sd, i, st);
		if (err)
			return err;
	}
	return 0;
}

static int process_side(struct ctx *c, struct side *sd,
			const struct hs_snapshot *s, int slot)
{
	if (side_init(c, sd, s, slot) || sum_traces(c, sd))
		return -1;
	return add_stacks(c, sd);
}

/* ---- ordering and results ---- */

static int seq_cmp(const struct ctx *c, const struct group *a,
		   const struct group *b)
{
	uint32_t i, n = a->seqlen < b->seqlen ? a->seqlen : b->seqlen;
	int r;

	for (i = 0; i < n; i++) {
		if (a->seq[i] == b->seq[i])
			continue;
		r = fkey_cmp(&c->fkeys[a->seq[i]], &c->fkeys[b->seq[i]]);
		if (r)
			return r;
	}
	return cmp_u64(a->seqlen, b->seqlen);
}

static int key_cmp(const struct ctx *c, const struct group *a,
		   const struct group *b)
{
	if (c->key == HS_KEY_TRACEBACK)
		return seq_cmp(c, a, b);
	return fkey_cmp(&c->fkeys[a->fkey], &c->fkeys[b->fkey]);
}

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* Size, then count, descending; then key ascending. */
static int top_cmp(const void *pa, const void *pb, void *arg)
{
	const struct ctx *c = arg;
	const struct group *a = &c->groups[*(const uint32_t *)pa];
	const struct group *b = &c->groups[*(const uint32_t *)pb];
	int r;

	r = cmp_u64(b->size[1], a->size[1]);
	if (!r)
		r = cmp_u64(b->count[1], a->count[1]);
	return r ? r : key_cmp(c, a, b);
}

/* |size_diff|, size, |count_diff|, count descending; then key ascending. */
static int diff_cmp(const void *pa, const void *pb, void *arg)
{
	const struct ctx *c = arg;
	const struct group *a = &c->groups[*(const uint32_t *)pa];
	const struct group *b = &c->groups[*(const uint32_t *)pb];
	int r;

	r = cmp_u64(abs_diff(b->size[1], b->size[0]),
		    abs_diff(a->size[1], a->size[0]));
	if (!r)
		r = cmp_u64(b->size[1], a->size[1]);
	if (!r)
		r = cmp_u64(abs_diff(b->count[1], b->count[0]),
			    abs_diff(a->count[1], a->count[0]));
	if (!r)
		r = cmp_u64(b->count[1], a->count[1]);
	return r ? r : key_cmp(c, a, b);
}

static void fill_row(const struct group *g, bool diff, struct hs_stat *row)
{
	memset(row, 0, sizeof(*row));
	row->size = g->size[1];
	row->count = g->count[1];
	if (diff) {
		row->size_diff = (int64_t)(g->size[1] - g->size[0]);
		row->count_diff = (int64_t)(g->count[1] - g->count[0]);
	}
	row->snap = g->rep_snap;
	row->frames = g->rep_frames;
	row->nframes = g->rep_nframes;
}

static int build_rows(struct ctx *c, bool diff, struct hs_stats *out)
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
	qsort_r(ids, n, sizeof(*ids), diff ? diff_cmp : top_cmp, c);
	for (i = 0; i < n; i++)
		fill_row(&c->groups[ids[i]], diff, &out->rows[i]);
	out->nrows = n;
	out->key = c->key;
	out->cumulative = c->cumulative;
	out->is_diff = diff;
	out->total_size = c->total_size[1];
	out->total_count = c->total_count[1];
	if (diff) {
		out->total_size_diff =
			(int64_t)(c->total_size[1] - c->total_size[0]);
		out->total_count_diff =
			(int64_t)(c->total_count[1] - c->total_count[0]);
	}
	free(ids);
	return 0;
}

static void ctx_fini(struct ctx *c)
{
	struct fkey_entry *fe, *ftmp;
	struct seq_entry *se, *stmp;

	HASH_ITER(hh, c->fkey_index, fe, ftmp) {
		HASH_DEL(c->fkey_index, fe);
		free(fe);
	}
	HASH_ITER(hh, c->seq_index, se, stmp) {
		HASH_DEL(c->seq_index, se);
		free(se);
	}
	matcher_fini(&c->matcher);
	side_fini(&c->sides[0]);
	side_fini(&c->sides[1]);
	free(c->fkeys);
	free(c->groups);
	free(c->scratch);
}

/* ---- the process key: rows per process, not per frame ---- */

struct proc_group {
	UT_hash_handle hh;
	uint32_t pid;
	double size[2], count[2]; /* [0]: old snapshot, [1]: new */
	const struct hs_snapshot *snap;
	const char *command;
};

static int sum_processes(struct proc_group **groups,
			 const struct hs_snapshot *s, int slot,
			 const struct hs_query *q, const struct matcher *m)
{
	uint8_t *kept = calloc(s->nstacks + 1, 1); /* 0: unknown, 1, 2 */
	struct proc_group *g;

	if (!kept)
		return -1;
	for (size_t i = 0; i < s->ntraces; i++) {
		const struct hs_trace *t = &s->traces[i];
		size_t st = t->stack < s->nstacks ? t->stack : s->nstacks;
		double k = hs_trace_scale(s, t);

		if (!domain_selected(q, s, t))
			continue;
		if (!kept[st])
			kept[st] = stack_selected(m, NULL, s,
						  stack_at(s, t->stack)) ?
					   1 :
					   2;
		if (kept[st] != 1)
			continue;
		HASH_FIND(hh, *groups, &t->pid, sizeof(t->pid), g);
		if (!g) {
			const struct hs_proc *p = proc_of(s, t->pid);

			g = calloc(1, sizeof(*g));
			if (!g) {
				free(kept);
				return -1;
			}
			g->pid = t->pid;
			g->snap = s;
			g->command = p ? hs_snapshot_str(s, p->command) : NULL;
			HASH_ADD(hh, *groups, pid, sizeof(g->pid), g);
		}
		g->size[slot] += (double)t->size * k;
		g->count[slot] += k;
	}
	free(kept);
	return 0;
}

static int proc_cmp(const void *a, const void *b, void *diff)
{
	const struct hs_stat *x = a, *y = b;
	uint64_t kx, ky;

	if (diff) {
		kx = (uint64_t)llabs(x->size_diff);
		ky = (uint64_t)llabs(y->size_diff);
		if (kx != ky)
			return kx < ky ? 1 : -1;
	}
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int compute_processes(const struct hs_snapshot *old,
			     const struct hs_snapshot *new,
			     const struct hs_query *q, struct hs_stats *out)
{
	struct proc_group *groups = NULL, *g, *tmp;
	double tot[2][2] = { { 0 } };
	struct matcher m;
	size_t n = 0;
	int err = -1;

	if (matcher_init(&m, q))
		return -1;
	if (sum_processes(&groups, new, 1, q, &m) ||
	    (old && sum_processes(&groups, old, 0, q, &m)))
		goto out;
	out->rows = calloc(HASH_COUNT(groups) + 1, sizeof(*out->rows));
	if (!out->rows)
		goto out;
	HASH_ITER(hh, groups, g, tmp) {
		struct hs_stat *r = &out->rows[n++];

		r->size = (uint64_t)llround(g->size[1]);
		r->count = (uint64_t)llround(g->count[1]);
		r->size_diff = (int64_t)r->size - llround(g->size[0]);
		r->count_diff = (int64_t)r->count - llround(g->count[0]);
		r->pid = g->pid;
		r->command = g->command;
		r->snap = g->snap;
		for (int i = 0; i < 2; i++) {
			tot[i][0] += g->size[i];
			tot[i][1] += g->count[i];
		}
	}
	qsort_r(out->rows, n, sizeof(*out->rows), proc_cmp,
		old ? (void *)out : NULL);
	out->nrows = n;
	out->key = HS_KEY_PROCESS;
	out->is_diff = old != NULL;
	out->total_size = (uint64_t)llround(tot[1][0]);
	out->total_count = (uint64_t)llround(tot[1][1]);
	if (old) {
		out->total_size_diff = llround(tot[1][0]) - llround(tot[0][0]);
		out->total_count_diff = llround(tot[1][1]) - llround(tot[0][1]);
	}
	err = 0;
out:
	HASH_ITER(hh, groups, g, tmp) {
		HASH_DEL(groups, g);
		free(g);
	}
	matcher_fini(&m);
	return err;
}

static int compute(const struct hs_snapshot *old, const struct hs_snapshot *new,
		   const struct hs_query *q, struct hs_stats *out)
{
	struct ctx c;
	int err = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (q->key == HS_KEY_PROCESS) {
		err = compute_processes(old, new, q, out);
		if (err)
			hs_stats_free(out);
		return err;
	}
	if (!hs_key_name(q->key) || matcher_init(&c.matcher, q))
		return -1;
	c.q = q;
	c.key = q->key;
	/* tracemalloc refuses cumulative tracebacks; they mean nothing */
	c.cumulative = q->cumulative && q->key != HS_KEY_TRACEBACK;
	c.empty_group = HS_NONE;
	/* new first, so rows present in both show the new snapshot's frames */
	if (process_side(&c, &c.sides[1], new, 1))
		goto out;
	if (old && process_side(&c, &c.sides[0], old, 0))
		goto out;
	err = build_rows(&c, old != NULL, out);
out:
	ctx_fini(&c);
	if (err)
		hs_stats_free(out);
	return err;
}

/* The coarser sampling of the snapshots compared: 0 when both are exact. */
static uint64_t sampling_of(const struct hs_snapshot *old,
			    const struct hs_snapshot *new)
{
	uint64_t a = old ? old->sample_bytes : 0;

	return a > new->sample_bytes ? a : new->sample_bytes;
}

int hs_stats_top(const struct hs_snapshot *s, const struct hs_query *q,
		 struct hs_stats *out)
{
	int err = compute(NULL, s, q, out);

	if (!err)
		out->sample_bytes = sampling_of(NULL, s);
	return err;
}

int hs_stats_diff(const struct hs_snapshot *old, const struct hs_snapshot *new,
		  const struct hs_query *q, struct hs_stats *out)
{
	int err = compute(old, new, q, out);

	if (!err)
		out->sample_bytes = sampling_of(old, new);
	return err;
}

static int size_cmp(const void *pa, const void *pb)
{
	const struct hs_stat *a = pa, *b = pb;
	uint64_t da = a->size_diff < 0 ? -(uint64_t)a->size_diff :
					 (uint64_t)a->size_diff;
	uint64_t db = b->size_diff < 0 ? -(uint64_t)b->size_diff :
					 (uint64_t)b->size_diff;
	int c = cmp_u64(b->size, a->size);

	if (!c)
		c = cmp_u64(b->count, a->count);
	return c ? c : cmp_u64(db, da);
}

void hs_stats_sort_by_size(struct hs_stats *st)
{
	if (st->nrows)
		qsort(st->rows, st->nrows, sizeof(*st->rows), size_cmp);
}

void hs_stats_free(struct hs_stats *st)
{
	if (!st)
		return;
	free(st->rows);
	memset(st, 0, sizeof(*st));
}
