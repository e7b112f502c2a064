// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text and JSON output of snapshot info and lookups, and what they share
 * with the output of statistics (render_stats.c): sizes formatted like
 * tracemalloc's _format_size(), frames, warnings, JSON.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "render_priv.h"
#include "render_unwind.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ---- numbers ---- */

/* tracemalloc's _format_size(): "4096 B", "12.5 KiB", "+4.0 KiB". */
void hs_format_size(char *buf, size_t len, double size, bool sign)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(units); i++) {
		double mag = size < 0 ? -size : size;
		bool last = i + 1 == ARRAY_SIZE(units);

		if (mag < 100 && i) {
			snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size,
				 units[i]);
			return;
		}
		if (mag < 10 * 1024 || last) {
			snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size,
				 units[i]);
			return;
		}
		size /= 1024;
	}
}

/* "12.5 KiB (12800 B)", or "4096 B" when that is already exact. */
void hs_format_bytes(char *buf, size_t len, uint64_t bytes)
{
	char h[SIZE_BUF];

	hs_format_size(h, sizeof(h), (double)bytes, false);
	if (bytes < 10 * 1024)
		snprintf(buf, len, "%s", h);
	else
		snprintf(buf, len, "%s (%" PRIu64 " B)", h, bytes);
}

const char *hs_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void fmt_time(char *buf, size_t len, uint64_t time_ns)
{
	time_t secs = (time_t)(time_ns / 1000000000u);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

/* ---- frames ---- */

void print_loc(FILE *out, const struct hs_frame_view *v)
{
	if (v->file && v->line)
		fprintf(out, "%s:%" PRIu32, v->file, v->line);
	else if (v->file)
		fprintf(out, "%s:?", v->file);
	else if (v->module && !v->python)
		fprintf(out, "%s+0x%" PRIx64, v->module, v->offset);
	else
		fputs("<unknown>", out);
}

void print_size_count(FILE *out, uint64_t size, uint64_t count)
{
	char b[64];

	hs_format_bytes(b, sizeof(b), size);
	fprintf(out, "%s in %" PRIu64 " %s", b, count,
		hs_plural(count, "block", "blocks"));
}

void print_warnings(FILE *out, const struct hs_render_opts *o)
{
	size_t i;

	for (i = 0; i < o->nwarnings; i++)
		fprintf(out, "warning: %s\n", o->warnings[i]);
}

/* ---- JSON ---- */

json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *json_frame_of(const struct hs_snapshot *s, uint32_t idx,
			   unsigned int fields)
{
	json_object *o = json_object_new_object();
	struct hs_frame_view v;

	hs_frame_view(s, idx, &v);
	if (!(fields & HS_JF_FUNCTION))
		v.function = NULL;
	if (!(fields & HS_JF_FILE))
		v.file = NULL;
	if (!(fields & HS_JF_LINE))
		v.line = 0;
	json_object_object_add(o, "function", json_str_or_null(v.function));
	json_object_object_add(o, "file", json_str_or_null(v.file));
	json_object_object_add(o, "line",
			       v.line ? json_object_new_int64(v.line) : NULL);
	json_object_object_add(o, "module", json_str_or_null(v.module));
	json_object_object_add(o, "offset",
			       v.python || !(fields & HS_JF_OFFSET) ?
				       NULL :
				       json_object_new_uint64(v.offset));
	json_object_object_add(o, "inlined",
			       fields & HS_JF_OFFSET ?
				       json_object_new_boolean(v.inlined) :
				       NULL);
	return o;
}

json_object *json_frames(const struct hs_snapshot *s, const uint32_t *frames,
			 uint32_t n)
{
	json_object *a = json_object_new_array();
	uint32_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a,
				      json_frame_of(s, frames[i], HS_JF_ALL));
	return a;
}

void json_add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

json_object *json_warnings(const struct hs_render_opts *o)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < o->nwarnings; i++)
		json_object_array_add(a,
				      json_object_new_string(o->warnings[i]));
	return a;
}

void json_print(FILE *out, json_object *o)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
}

/* ---- info ---- */

/* Appends "N what" (one or many) to the comma-separated list in buf. */
static void append_loss(char *buf, size_t len, size_t *used, uint64_t n,
			const char *one, const char *many)
{
	int w;

	if (!n || *used >= len)
		return;
	w = snprintf(buf + *used, len - *used, "%s%" PRIu64 " %s",
		     *used ? ", " : "", n, hs_plural(n, one, many));
	if (w > 0)
		*used += (size_t)w;
}

bool hs_loss_summary(const struct hs_snapshot *s, char *buf, size_t len)
{
	struct hs_lost l;
	size_t used = 0;

	if (!len)
		return false;
	buf[0] = '\0';
	hs_snapshot_lost(s, &l);
	append_loss(buf, len, &used, l.map_full,
		    "block not recorded (map full)",
		    "blocks not recorded (map full)");
	append_loss(buf, len, &used, l.stack_failures, "traceback not captured",
		    "tracebacks not captured");
	append_loss(buf, len, &used, l.stack_collisions,
		    "traceback possibly wrong (stack id collisions)",
		    "tracebacks possibly wrong (stack id collisions)");
	append_loss(buf, len, &used, l.events, "event dropped",
		    "events dropped");
	append_loss(buf, len, &used, l.unknown_frees,
		    "free of a block it never saw allocated",
		    "frees of blocks it never saw allocated");
	append_loss(buf, len, &used, s->global.mmap_calls_unseen,
		    "mmap-domain call not seen (made outside the probed libc; "
		    "--mmap-tracepoints sees them)",
		    "mmap-domain calls not seen (made outside the probed libc; "
		    "--mmap-tracepoints sees them)");
	append_loss(buf, len, &used, l.in_flight,
		    "block freed while the snapshot was read, left out",
		    "blocks freed while the snapshot was read, left out");
	return used > 0;
}

bool hs_early_frees_note(const struct hs_snapshot *s, char *buf, size_t len)
{
	struct hs_lost l;

	hs_snapshot_lost(s, &l);
	if (!l.early_frees || !len)
		return false;
	snprintf(buf, len,
		 "%" PRIu64 " %s allocated before tracing began (expected: "
		 "tracing began after the process did)",
		 l.early_frees,
		 hs_plural(l.early_frees, "free was of a block",
			   "frees were of blocks"));
	return true;
}

struct domain_sums {
	uint64_t size[HS_DOMAIN_COUNT];
	uint64_t count[HS_DOMAIN_COUNT];
};

/* Per-domain totals, through the stats so that sampling is scaled alike. */
static void sum_domains(const struct hs_snapshot *s, struct domain_sums *d)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < HS_DOMAIN_COUNT; i++) {
		struct hs_query q = { .key = HS_KEY_MODULE, .domain = i };
		struct hs_stats st;

		if (hs_stats_top(s, &q, &st))
			continue;
		d->size[i] = st.total_size;
		d->count[i] = st.total_count;
		hs_stats_free(&st);
	}
}

static json_object *json_counters_obj(const char *const *names,
				      const uint64_t *vals, size_t n)
{
	json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_add_u64(o, names[i], vals[i]);
	return o;
}

static json_object *json_processes(const struct hs_snapshot *s)
{
	json_object *a = json_object_new_array(), *p;
	const struct hs_proc *pr;
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		pr = &s->procs[i];
		p = json_object_new_object();
		json_add_u64(p, "pid", pr->pid);
		json_object_object_add(
			p, "command",
			json_str_or_null(hs_snapshot_str(s, pr->command)));
		json_object_object_add(p, "exited",
				       json_object_new_boolean(pr->exited));
		json_add_u64(p, "current", pr->counters.current);
		json_add_u64(p, "peak", pr->counters.peak);
		json_add_u64(p, "count", pr->counters.count);
		if (hs_snapshot_str(s, pr->python))
			json_object_object_add(
				p, "python",
				json_object_new_string(
					hs_snapshot_str(s, pr->python)));
		json_object_array_add(a, p);
	}
	return a;
}

/*
 * Which domains hold which: the blocks CPython's allocators get from
 * malloc and mmap for the python domain are its blocks' memory, traced
 * once, as python.
 */
static json_object *json_nesting(void)
{
	json_object *o = json_object_new_object(), *in = json_object_new_array();

	json_object_array_add(in, json_object_new_string("heap"));
	json_object_array_add(in, json_object_new_string("mmap"));
	json_object_object_add(o, hs_domain_name(HS_DOMAIN_PYTHON), in);
	return o;
}

static json_object *json_domains(const struct hs_snapshot *s)
{
	static const char *const names[] = { "current", "count" };
	json_object *o = json_object_new_object();
	struct domain_sums d;
	unsigned int i;

	sum_domains(s, &d);
	for (i = 0; i < HS_DOMAIN_COUNT; i++) {
		uint64_t vals[] = { d.size[i], d.count[i] };

		json_object_object_add(o, hs_domain_name(i),
				       json_counters_obj(names, vals, 2));
	}
	return o;
}

/*
 * The global counters, in the order of struct hs_global_counters: JSON
 * keys, and info's text with spaces for the underscores.
 */
static const char *const global_names[] = {
	"proc_map_full",     "nested_overflow", "map_events_lost",
	"events_lost",	     "stacks_missing",	"py_codes_lost",
	"mmap_calls_unseen", "in_flight_lost",
};

_Static_assert(sizeof(struct hs_global_counters) ==
		       ARRAY_SIZE(global_names) * sizeof(__u64),
	       "every global counter has a name");

static json_object *json_global(const struct hs_global_counters *g)
{
	const __u64 *v = (const __u64 *)g;
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < ARRAY_SIZE(global_names); i++)
		json_add_u64(o, global_names[i], v[i]);
	return o;
}

static void json_add_info_counters(json_object *root,
				   const struct hs_snapshot *s,
				   const struct hs_counters *t,
				   const struct hs_lost *l)
{
	static const char *const total_names[] = { "allocs", "frees",
						   "bytes_allocated" };
	static const char *const lost_names[] = { "map_full", "stack_failures",
						  "unknown_frees", "events",
						  "stack_collisions" };
	const uint64_t totals[] = { t->allocs, t->frees, t->bytes_allocated };
	const uint64_t lost[] = { l->map_full, l->stack_failures,
				  l->unknown_frees, l->events,
				  l->stack_collisions };

	json_object_object_add(root, "totals",
			       json_counters_obj(total_names, totals, 3));
	json_object_object_add(root, "lost",
			       json_counters_obj(lost_names, lost, 5));
	json_object_object_add(root, "global", json_global(&s->global));
}

static json_object *json_info_warnings(const struct hs_snapshot *s,
				       const struct hs_render_opts *o)
{
	json_object *a = json_warnings(o);
	char loss[512], msg[600];

	if (hs_loss_summary(s, loss, sizeof(loss))) {
		snprintf(msg, sizeof(msg), "this snapshot lost data: %s", loss);
		json_object_array_add(a, json_object_new_string(msg));
	}
	return a;
}

static void render_info_json(FILE *out, const struct hs_snapshot *s,
			     const struct hs_render_opts *o)
{
	json_object *root = json_object_new_object();
	json_object *pids = json_object_new_array();
	struct hs_counters t;
	struct hs_lost lost;
	char when[64];
	size_t i;

	hs_snapshot_totals(s, &t);
	hs_snapshot_lost(s, &lost);
	for (i = 0; i < s->nprocs; i++)
		json_object_array_add(pids,
				      json_object_new_int64(s->procs[i].pid));
	fmt_time(when, sizeof(when), s->time_ns);
	json_add_u64(root, "format_version", s->format_version);
	json_object_object_add(root, "pids", pids);
	json_object_object_add(
		root, "command",
		json_str_or_null(hs_snapshot_str(s, s->command)));
	json_object_object_add(
		root, "time", s->time_ns ? json_object_new_string(when) : NULL);
	json_object_object_add(root, "kernel",
			       json_str_or_null(hs_snapshot_str(s, s->kernel)));
	json_add_u64(root, "traceback_limit", s->traceback_limit);
	json_add_u64(root, "current", t.current);
	json_add_u64(root, "peak", t.peak);
	json_add_u64(root, "interval_peak", t.interval_peak);
	json_add_u64(root, "count", t.count);
	json_object_object_add(root, "domains", json_domains(s));
	json_object_object_add(root, "nesting", json_nesting());
	json_add_info_counters(root, s, &t, &lost);
	json_add_u64(root, "early_frees", lost.early_frees);
	json_add_u64(root, "tracer_memory", s->tracer_memory);
	json_add_u64(root, "sample_bytes", s->sample_bytes);
	json_object_object_add(root, "estimated",
			       json_object_new_boolean(s->sample_bytes != 0));
	json_add_u64(root, "seq", s->seq);
	json_add_u64(root, "traces", s->ntraces);
	json_object_object_add(root, "processes", json_processes(s));
	json_object_object_add(root, "unwind", hs_render_unwind_json(s));
	json_object_object_add(root, "warnings", json_info_warnings(s, o));
	json_print(out, root);
}

static const char *str_or(const struct hs_snapshot *s, uint32_t idx,
			  const char *dflt)
{
	const char *str = hs_snapshot_str(s, idx);

	return str ? str : dflt;
}

static void print_info_header(FILE *out, const struct hs_snapshot *s)
{
	char when[64];
	size_t i;

	fmt_time(when, sizeof(when), s->time_ns);
	fprintf(out, "command:          %s\n", str_or(s, s->command, "?"));
	fputs("pids:             ", out);
	for (i = 0; i < s->nprocs; i++)
		fprintf(out, "%s%" PRIu32, i ? ", " : "", s->procs[i].pid);
	fputc('\n', out);
	fprintf(out, "time:             %s (%s)\n",
		s->time_ns ? when : "unknown",
		s->seq ? "interval snapshot" : "final snapshot");
	if (s->seq)
		fprintf(out, "sequence:         %" PRIu32 "\n", s->seq);
	fprintf(out, "kernel:           %s\n", str_or(s, s->kernel, "?"));
	fprintf(out, "format version:   %" PRIu32 "\n", s->format_version);
	fprintf(out, "traceback limit:  %" PRIu32 " frames\n",
		s->traceback_limit);
	if (s->sample_bytes)
		fprintf(out,
			"sampling:         one allocation per %" PRIu64
			" bytes: every size and count below is an estimate\n",
			s->sample_bytes);
	else
		fputs("sampling:         every allocation\n", out);
}

/* "  heap traces:    ...": the figures in line with the others. */
static void print_info_domains(FILE *out, const struct hs_snapshot *s)
{
	struct domain_sums d;
	unsigned int i;
	int pad;

	sum_domains(s, &d);
	for (i = 0; i < HS_DOMAIN_COUNT; i++) {
		pad = 8 - (int)strlen(hs_domain_name(i));
		fprintf(out, "  %s traces:%*s", hs_domain_name(i),
			pad > 1 ? pad : 1, "");
		print_size_count(out, d.size[i], d.count[i]);
		fputc('\n', out);
	}
	if (d.count[HS_DOMAIN_PYTHON])
		fputs("  (the heap and mmap blocks CPython's allocators get for the python\n"
		      "  domain are inside its blocks: they are not counted again)\n",
		      out);
}

static void print_info_losses(FILE *out, const struct hs_snapshot *s)
{
	const __u64 *g = (const __u64 *)&s->global;
	struct hs_lost l;
	size_t i;

	hs_snapshot_lost(s, &l);
	fprintf(out,
		"lost:             map full %" PRIu64
		", stack failures %" PRIu64 ", stack collisions %" PRIu64
		", unknown frees %" PRIu64 ", events %" PRIu64 "\n",
		l.map_full, l.stack_failures, l.stack_collisions,
		l.unknown_frees, l.events);
	fputs("  of no process:  ", out);
	for (i = 0; i < ARRAY_SIZE(global_names); i++) {
		fputs(i ? ", " : "", out);
		for (const char *c = global_names[i]; *c; c++)
			fputc(*c == '_' ? ' ' : *c, out);
		fprintf(out, " %llu", g[i]);
	}
	fputc('\n', out);
}

static void print_info_memory(FILE *out, const struct hs_snapshot *s,
			      const struct hs_counters *t)
{
	char b[64], b2[256];

	fputs("current:          ", out);
	print_size_count(out, t->current, t->count);
	hs_format_bytes(b, sizeof(b), t->peak);
	fprintf(out, "\npeak:             %s\n", b);
	hs_format_bytes(b, sizeof(b), t->interval_peak);
	fprintf(out, "interval peak:    %s\n", b);
	print_info_domains(out, s);
	hs_format_bytes(b, sizeof(b), t->bytes_allocated);
	fprintf(out, "allocations:      %llu (%s), %llu frees\n", t->allocs, b,
		t->frees);
	print_info_losses(out, s);
	if (hs_early_frees_note(s, b2, sizeof(b2)))
		fprintf(out, "early frees:      %s\n", b2);
	hs_format_bytes(b, sizeof(b), s->tracer_memory);
	fprintf(out, "tracer memory:    %s\n", b);
}

static void print_info_procs(FILE *out, const struct hs_snapshot *s)
{
	const struct hs_proc *p;
	char b[64];
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		p = &s->procs[i];
		fprintf(out, "process %" PRIu32 ":%s %s\n", p->pid,
			p->exited ? " (exited)" : "",
			str_or(s, p->command, "?"));
		fputs("  current ", out);
		print_size_count(out, p->counters.current, p->counters.count);
		hs_format_bytes(b, sizeof(b), p->counters.peak);
		fprintf(out, ", peak %s\n", b);
		if (hs_snapshot_str(s, p->python))
			fprintf(out, "  %s\n", hs_snapshot_str(s, p->python));
	}
}

static void render_info_text(FILE *out, const struct hs_snapshot *s,
			     const struct hs_render_opts *o)
{
	struct hs_counters t;
	char loss[512];

	hs_snapshot_totals(s, &t);
	print_warnings(out, o);
	print_info_header(out, s);
	print_info_memory(out, s, &t);
	hs_render_unwind_text(out, s);
	print_info_procs(out, s);
	if (hs_loss_summary(s, loss, sizeof(loss)))
		fprintf(out, "warning: this snapshot lost data: %s\n", loss);
}

void hs_render_info(FILE *out, const struct hs_snapshot *s,
		    const struct hs_render_opts *o)
{
	if (o->json)
		render_info_json(out, s, o);
	else
		render_info_text(out, s, o);
}

/* ---- lookup ---- */

static bool block_contains(const struct hs_trace *t, uint64_t addr)
{
	if (!t->size)
		return addr == t->addr;
	return addr >= t->addr && addr - t->addr < t->size;
}

static const struct hs_stack *trace_stack(const struct hs_snapshot *s,
					  const struct hs_trace *t)
{
	const struct hs_stack *st;

	if (t->stack >= s->nstacks)
		return NULL;
	st = &s->stacks[t->stack];
	if (st->first > s->nstack_frames ||
	    st->nframes > s->nstack_frames - st->first)
		return NULL;
	return st;
}

/* Time from allocation to snapshot; false when it is not known. */
static bool trace_age(const struct hs_snapshot *s, const struct hs_trace *t,
		      uint64_t *age_ns)
{
	if (!s->time_ns || !t->time_ns || t->time_ns > s->time_ns)
		return false;
	*age_ns = s->time_ns - t->time_ns;
	return true;
}

static void print_lookup_frame(FILE *out, const struct hs_snapshot *s,
			       uint32_t i, uint32_t idx)
{
	struct hs_frame_view v;

	hs_frame_view(s, idx, &v);
	fprintf(out, "  #%" PRIu32 " %s", i, v.function ? v.function : "??");
	if (v.file) {
		fputs(" at ", out);
		print_loc(out, &v);
	}
	if (v.module)
		fprintf(out, " (%s+0x%" PRIx64 ")", v.module, v.offset);
	else
		fprintf(out, " (0x%" PRIx64 ")", v.offset);
	fputs(v.inlined ? " (inlined)\n" : "\n", out);
}

static void print_lookup_text(FILE *out, const struct hs_snapshot *s,
			      const struct hs_trace *t, uint64_t addr)
{
	const struct hs_stack *st = trace_stack(s, t);
	uint32_t i, n = st ? st->nframes : 0;
	uint64_t age;
	char b[64];

	hs_format_bytes(b, sizeof(b), t->size);
	fprintf(out,
		"0x%" PRIx64 " is at offset %" PRIu64
		" of the %s block at 0x%" PRIx64 "\n",
		addr, addr - t->addr, b, t->addr);
	fprintf(out, "  pid %" PRIu32 ", tid %" PRIu32 ", domain %s", t->pid,
		t->tid, hs_domain_name(t->domain));
	if (trace_age(s, t, &age))
		fprintf(out, ", age %.3f s", age / 1e9);
	fputs("\n  traceback (most recent call first):\n", out);
	if (!n)
		fputs("  <unknown>\n", out);
	for (i = 0; i < n; i++)
		print_lookup_frame(out, s, i, s->stack_frames[st->first + i]);
	if (t->total_nframe > n)
		fprintf(out,
			"  ... %" PRIu32 " more frames (traceback limit)\n",
			t->total_nframe - n);
}

static json_object *json_block(const struct hs_snapshot *s,
			       const struct hs_trace *t, uint64_t addr)
{
	const struct hs_stack *st = trace_stack(s, t);
	json_object *o = json_object_new_object();
	uint64_t age;
	char when[64];

	fmt_time(when, sizeof(when), t->time_ns);
	json_add_u64(o, "addr", t->addr);
	json_add_u64(o, "size", t->size);
	json_add_u64(o, "offset_in_block", addr - t->addr);
	json_add_u64(o, "pid", t->pid);
	json_add_u64(o, "tid", t->tid);
	json_object_object_add(
		o, "domain", json_object_new_string(hs_domain_name(t->domain)));
	json_object_object_add(
		o, "time", t->time_ns ? json_object_new_string(when) : NULL);
	json_object_object_add(
		o, "age_ns",
		trace_age(s, t, &age) ? json_object_new_uint64(age) : NULL);
	json_add_u64(o, "total_nframe", t->total_nframe);
	json_object_object_add(
		o, "traceback",
		json_frames(s, st ? s->stack_frames + st->first : NULL,
			    st ? st->nframes : 0));
	return o;
}

/* Blocks of different processes may share addresses: all are shown. */
int hs_render_lookup(FILE *out, const struct hs_snapshot *s, uint64_t addr,
		     const struct hs_render_opts *o)
{
	json_object *root = NULL, *blocks = NULL;
	size_t i, found = 0;

	if (o->json) {
		root = json_object_new_object();
		blocks = json_object_new_array();
		json_add_u64(root, "address", addr);
	}
	for (i = 0; i < s->ntraces; i++) {
		if (!block_contains(&s->traces[i], addr))
			continue;
		if (o->json)
			json_object_array_add(
				blocks, json_block(s, &s->traces[i], addr));
		else
			print_lookup_text(out, s, &s->traces[i], addr);
		found++;
	}
	if (o->json) {
		json_object_object_add(root, "found",
				       json_object_new_boolean(found > 0));
		json_object_object_add(root, "blocks", blocks);
		json_print(out, root);
	} else if (!found) {
		fprintf(out, "no live block contains 0x%" PRIx64 "\n", addr);
	}
	return found ? 0 : 1;
}
