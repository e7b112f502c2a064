// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The in-memory snapshot model and its interning builders. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "grow.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct intern_entry {
	UT_hash_handle hh;
	uint32_t idx;
	size_t keylen;
	unsigned char key[];
};

struct hs_snapshot_index {
	struct intern_entry *strings;
	struct intern_entry *modules;
	struct intern_entry *frames;
	struct intern_entry *stacks;
};

struct frame_key {
	uint32_t module, function, file, line;
	uint64_t offset;
	uint32_t inlined, pad;
};

struct hs_snapshot *hs_snapshot_new(void)
{
	struct hs_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->index = calloc(1, sizeof(*s->index));
	if (!s->index) {
		free(s);
		return NULL;
	}
	s->format_version = HS_FORMAT_VERSION;
	s->command = HS_NONE;
	s->kernel = HS_NONE;
	return s;
}

static void free_table(struct intern_entry **table)
{
	struct intern_entry *e, *tmp;

	HASH_ITER(hh, *table, e, tmp) {
		HASH_DEL(*table, e);
		free(e);
	}
}

void hs_snapshot_seal(struct hs_snapshot *s)
{
	if (!s || !s->index)
		return;
	free_table(&s->index->strings);
	free_table(&s->index->modules);
	free_table(&s->index->frames);
	free_table(&s->index->stacks);
	free(s->index);
	s->index = NULL;
}

void hs_snapshot_free(struct hs_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	hs_snapshot_seal(s);
	for (i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->procs);
	free(s->modules);
	free(s->frames);
	free(s->stack_frames);
	free(s->stacks);
	free(s->traces);
	free(s->unwind);
	free(s);
}

/*
 * Looks key up in table; when absent, calls make() to append the new item and
 * remembers the index it returns.
 */
static uint32_t intern(struct intern_entry **table, const void *key,
		       size_t keylen,
		       uint32_t (*make)(struct hs_snapshot *, const void *),
		       struct hs_snapshot *s, const void *arg)
{
	struct intern_entry *e;
	uint32_t idx;

	HASH_FIND(hh, *table, key, keylen, e);
	if (e)
		return e->idx;
	idx = make(s, arg);
	if (idx == HS_NONE)
		return HS_NONE;
	e = malloc(sizeof(*e) + keylen);
	if (!e)
		return idx;
	e->idx = idx;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	HASH_ADD(hh, *table, key[0], keylen, e);
	return idx;
}

static uint32_t make_string(struct hs_snapshot *s, const void *arg)
{
	char *copy;

	if (s->nstrings >= HS_NONE - 1 ||
	    hs_grow(&s->strings, &s->cap.strings, s->nstrings + 1,
		    sizeof(char *)))
		return HS_NONE;
	copy = strdup(arg);
	if (!copy)
		return HS_NONE;
	s->strings[s->nstrings] = copy;
	return (uint32_t)s->nstrings++;
}

uint32_t hs_snapshot_intern(struct hs_snapshot *s, const char *str)
{
	if (!str)
		return HS_NONE;
	if (!s->index)
		return make_string(s, str);
	return intern(&s->index->strings, str, strlen(str), make_string, s,
		      str);
}

static uint32_t make_module(struct hs_snapshot *s, const void *arg)
{
	const struct hs_module *m = arg;

	if (hs_grow(&s->modules, &s->cap.modules, s->nmodules + 1, sizeof(*m)))
		return HS_NONE;
	s->modules[s->nmodules] = *m;
	return (uint32_t)s->nmodules++;
}

uint32_t hs_snapshot_add_module(struct hs_snapshot *s, const char *path,
				const uint8_t *build_id, uint32_t build_id_len)
{
	struct hs_module m;

	memset(&m, 0, sizeof(m));
	m.path = hs_snapshot_intern(s, path);
	if (m.path == HS_NONE)
		return HS_NONE;
	if (build_id_len > HS_BUILD_ID_MAX)
		build_id_len = HS_BUILD_ID_MAX;
	if (build_id && build_id_len)
		memcpy(m.build_id, build_id, build_id_len);
	m.build_id_len = build_id_len;
	if (!s->index)
		return make_module(s, &m);
	return intern(&s->index->modules, &m, sizeof(m), make_module, s, &m);
}

static uint32_t make_frame(struct hs_snapshot *s, const void *arg)
{
	const struct hs_frame *f = arg;

	if (hs_grow(&s->frames, &s->cap.frames, s->nframes + 1, sizeof(*f)))
		return HS_NONE;
	s->frames[s->nframes] = *f;
	return (uint32_t)s->nframes++;
}

uint32_t hs_snapshot_add_frame(struct hs_snapshot *s,
			       const struct hs_frame *frame)
{
	struct frame_key k;

	if (!s->index)
		return make_frame(s, frame);
	memset(&k, 0, sizeof(k));
	k.module = frame->module;
	k.function = frame->function;
	k.file = frame->file;
	k.line = frame->line;
	k.offset = frame->offset;
	k.inlined = frame->inlined;
	return intern(&s->index->frames, &k, sizeof(k), make_frame, s, frame);
}

struct stack_arg {
	const uint32_t *frames;
	uint32_t nframes;
};

static uint32_t make_stack(struct hs_snapshot *s, const void *arg)
{
	const struct stack_arg *a = arg;

	/* + 1: stack_frames + first is never NULL + 0, even if all are empty */
	if (hs_grow(&s->stack_frames, &s->cap.stack_frames,
		    s->nstack_frames + a->nframes + 1, sizeof(uint32_t)))
		return HS_NONE;
	if (hs_grow(&s->stacks, &s->cap.stacks, s->nstacks + 1,
		    sizeof(*s->stacks)))
		return HS_NONE;
	if (a->nframes)
		memcpy(s->stack_frames + s->nstack_frames, a->frames,
		       a->nframes * sizeof(uint32_t));
	s->stacks[s->nstacks].first = (uint32_t)s->nstack_frames;
	s->stacks[s->nstacks].nframes = a->nframes;
	s->nstack_frames += a->nframes;
	return (uint32_t)s->nstacks++;
}

uint32_t hs_snapshot_add_stack(struct hs_snapshot *s, const uint32_t *frames,
			       uint32_t nframes)
{
	struct stack_arg a = { frames, nframes };
	/* no frame has this index: the key of [frame 0] is { 0 } */
	static const uint32_t empty = HS_NONE;

	if (!s->index)
		return make_stack(s, &a);
	if (!nframes)
		return intern(&s->index->stacks, &empty, sizeof(empty),
			      make_stack, s, &a);
	return intern(&s->index->stacks, frames, nframes * sizeof(*frames),
		      make_stack, s, &a);
}

int hs_snapshot_add_trace(struct hs_snapshot *s, const struct hs_trace *trace)
{
	if (hs_grow(&s->traces, &s->cap.traces, s->ntraces + 1, sizeof(*trace)))
		return -1;
	s->traces[s->ntraces++] = *trace;
	return 0;
}

int hs_snapshot_add_proc(struct hs_snapshot *s, const struct hs_proc *proc)
{
	if (hs_grow(&s->procs, &s->cap.procs, s->nprocs + 1, sizeof(*proc)))
		return -1;
	s->procs[s->nprocs++] = *proc;
	return 0;
}

struct hs_unwind_entry *hs_snapshot_unwind_entry(struct hs_snapshot *s,
						 const char *path)
{
	uint32_t module = path ? hs_snapshot_intern(s, path) : HS_NONE;
	struct hs_unwind_entry *e;

	if (path && module == HS_NONE)
		return NULL;
	for (size_t i = 0; i < s->nunwind; i++)
		if (s->unwind[i].module == module)
			return &s->unwind[i];
	e = hs_grow_append(&s->unwind, &s->nunwind, &s->cap.unwind,
			   sizeof(*e));
	if (e) {
		memset(e, 0, sizeof(*e));
		e->module = module;
		e->note = HS_NONE;
	}
	return e;
}

static const char *const stop_names[HS_STOP_COUNT][2] = {
	[HS_STOP_NONE] = { HS_UNWIND_STOPPED, "no rule for the code" },
	[HS_STOP_NO_RULE] = { HS_UNWIND_STOPPED, "no rule for the code" },
	[HS_STOP_NO_TABLE] = { "[unwinding stopped: its module has no table]",
			       "no table for the module" },
	[HS_STOP_NO_MODULE] = { "[unwinding stopped: code in no file]",
				"code in no file" },
	[HS_STOP_LOST_RBP] = { "[unwinding stopped: rbp was lost]",
			       "rbp was lost" },
	[HS_STOP_BAD_STACK] = { "[unwinding stopped: the stack did not read]",
				"the stack did not read" },
	[HS_STOP_TOO_DEEP] = { "[unwinding stopped: deeper than 127 frames]",
			       "deeper than 127 frames" },
	[HS_STOP_BUSY] = { "[unwinding stopped: the mappings were locked]",
			   "the mappings were locked" },
};

const char *hs_unwind_stop_name(unsigned int reason)
{
	return stop_names[reason < HS_STOP_COUNT ? reason : 0][0];
}

const char *hs_unwind_stop_why(unsigned int reason)
{
	return reason < HS_STOP_COUNT ? stop_names[reason][1] : "unknown";
}

void hs_snapshot_unwind_cut(const struct hs_snapshot *s, uint64_t *blocks,
			    uint64_t *stacks)
{
	*blocks = *stacks = 0;
	for (size_t i = 0; i < s->nunwind; i++)
		for (int k = 0; k < HS_STOP_COUNT; k++) {
			*blocks += s->unwind[i].blocks[k];
			*stacks += s->unwind[i].stacks[k];
		}
}

const char *hs_snapshot_str(const struct hs_snapshot *s, uint32_t idx)
{
	if (idx == HS_NONE || idx >= s->nstrings)
		return NULL;
	return s->strings[idx];
}

void hs_counters_add(struct hs_counters *to, const struct hs_counters *c)
{
	__u64 *sum = (__u64 *)to;
	const __u64 *add = (const __u64 *)c;

	for (size_t i = 0; i < sizeof(*c) / sizeof(*add); i++)
		sum[i] += add[i];
}

void hs_snapshot_totals(const struct hs_snapshot *s, struct hs_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < s->nprocs; i++)
		hs_counters_add(out, &s->procs[i].counters);
}

void hs_snapshot_lost(const struct hs_snapshot *s, struct hs_lost *out)
{
	const struct hs_global_counters *g = &s->global;
	struct hs_counters t;

	hs_snapshot_totals(s, &t);
	out->map_full = t.map_full;
	out->stack_failures = t.stack_failures + g->stacks_missing;
	out->stack_collisions = t.stack_collisions;
	out->unknown_frees = 0;
	out->early_frees = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct hs_proc *p = &s->procs[i];

		if (p->attached)
			out->early_frees += p->counters.unknown_frees;
		else
			out->unknown_frees += p->counters.unknown_frees;
	}
	out->events = g->proc_map_full + g->nested_overflow +
		      g->map_events_lost + g->events_lost + g->py_codes_lost;
	out->in_flight = g->in_flight_lost;
}

static const char *const domain_names[] = {
	[HS_DOMAIN_HEAP] = "heap",
	[HS_DOMAIN_MMAP] = "mmap",
	[HS_DOMAIN_PYTHON] = "python",
};

_Static_assert(ARRAY_SIZE(domain_names) == HS_DOMAIN_COUNT,
	       "every domain has a name");

const char *hs_domain_name(unsigned int domain)
{
	return domain < HS_DOMAIN_COUNT ? domain_names[domain] : "unknown";
}

int hs_domain_parse(const char *name)
{
	for (int i = 0; i < HS_DOMAIN_COUNT; i++)
		if (!strcmp(name, domain_names[i]))
			return i;
	return -1;
}

void hs_domain_list(char *buf, size_t len, const char *sep)
{
	size_t used = 0;

	for (int i = 0; i < HS_DOMAIN_COUNT && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? sep : "", domain_names[i]);
}

double hs_trace_scale(const struct hs_snapshot *s, const struct hs_trace *t)
{
	double p;

	if (!s->sample_bytes || !t->size)
		return 1.0;
	p = -expm1(-(double)t->size / (double)s->sample_bytes);
	return p > 0 ? 1.0 / p : 1.0;
}

bool hs_frame_is_python(const struct hs_snapshot *s, const struct hs_frame *f)
{
	const char *m;

	if (f->module >= s->nmodules)
		return false;
	m = hs_snapshot_str(s, s->modules[f->module].path);
	return m && !strcmp(m, HS_PYTHON_MODULE);
}

int hs_snapshot_python_only(struct hs_snapshot *s)
{
	struct hs_snapshot t = { 0 }; /* the new stacks, interned */
	uint32_t *map = calloc(s->nstacks + 1, sizeof(*map));
	uint32_t *keep = calloc(s->nstack_frames + 1, sizeof(*keep));
	int err = -1;

	t.index = calloc(1, sizeof(*t.index));
	if (!map || !keep || !t.index)
		goto out;
	for (size_t i = 0; i < s->nstacks; i++) {
		const struct hs_stack *st = &s->stacks[i];
		uint32_t n = 0;

		for (uint32_t k = 0; k < st->nframes; k++) {
			uint32_t f = s->stack_frames[st->first + k];

			if (f < s->nframes &&
			    hs_frame_is_python(s, &s->frames[f]))
				keep[n++] = f;
		}
		map[i] = hs_snapshot_add_stack(&t, keep, n);
		if (map[i] == HS_NONE)
			goto out;
	}
	for (size_t i = 0; i < s->ntraces; i++)
		if (s->traces[i].stack < s->nstacks)
			s->traces[i].stack = map[s->traces[i].stack];
	free(s->stacks);
	free(s->stack_frames);
	s->stacks = t.stacks;
	s->nstacks = t.nstacks;
	s->cap.stacks = t.cap.stacks;
	s->stack_frames = t.stack_frames;
	s->nstack_frames = t.nstack_frames;
	s->cap.stack_frames = t.cap.stack_frames;
	t.stacks = NULL;
	t.stack_frames = NULL;
	err = 0;
out:
	hs_snapshot_seal(&t);
	free(t.stacks);
	free(t.stack_frames);
	free(map);
	free(keep);
	return err;
}
