// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * info's unwinding lines: how many live blocks have a traceback that
 * reaches the bottom of its stack, where the others were cut short, which
 * modules had no table or no room, and what the tables took.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "render_unwind.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *str_or_null(const char *str)
{
	return str ? json_object_new_string(str) : NULL;
}

/* enum hs_unwind_mode + 1, as unwind_stats.mode holds it */
static const char *const mode_names[] = { NULL, "fp", "dwarf", "auto" };

static const char *mode_name(const struct hs_snapshot *s)
{
	uint64_t m = s->unwind_stats.mode;

	return m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] :
								NULL;
}

/* A frame-pointer walk cannot tell a chain that ends early from the end. */
static bool by_fp(const struct hs_snapshot *s)
{
	return s->unwind_stats.mode == HS_UNWIND_FP + 1;
}

static const char *const table_names[HS_UT_COUNT] = {
	[HS_UT_UNKNOWN] = "unknown",
	[HS_UT_OK] = "ok",
	[HS_UT_NONE] = "none",
	[HS_UT_NO_ROOM] = "no room",
};

/* A stop frame's function: the traceback was cut short. */
static bool is_stop(const struct hs_snapshot *s, uint32_t frame)
{
	const char *fn = frame < s->nframes ?
				 hs_snapshot_str(s, s->frames[frame].function) :
				 NULL;

	return fn && !strncmp(fn, "[unwinding stopped", 18);
}

/*
 * Live blocks in all, and those whose traceback was cut short, by the
 * tracebacks' last frames: what every snapshot can tell.
 */
static void count_blocks(const struct hs_snapshot *s, uint64_t *all,
			 uint64_t *cut)
{
	*all = *cut = 0;
	for (size_t i = 0; i < s->ntraces; i++) {
		const struct hs_trace *t = &s->traces[i];
		const struct hs_stack *st =
			t->stack < s->nstacks ? &s->stacks[t->stack] : NULL;
		uint64_t n = hs_trace_blocks(t);

		*all += n;
		if (st && st->nframes &&
		    st->first + (uint64_t)st->nframes <= s->nstack_frames &&
		    is_stop(s, s->stack_frames[st->first + st->nframes - 1]))
			*cut += n;
	}
}

static const char *str_or_none(const struct hs_snapshot *s, uint32_t idx,
			       const char *dflt)
{
	const char *str = hs_snapshot_str(s, idx);

	return str ? str : dflt;
}

static const char *entry_path(const struct hs_snapshot *s,
			      const struct hs_unwind_entry *e)
{
	const char *p = hs_snapshot_str(s, e->module);

	return p ? p : "code in no file";
}

static uint64_t sum(const uint64_t *v)
{
	uint64_t n = 0;

	for (int k = 0; k < HS_STOP_COUNT; k++)
		n += v[k];
	return n;
}

static void print_cut(FILE *out, const struct hs_snapshot *s,
		      const struct hs_unwind_entry *e)
{
	const char *sep = "";

	fprintf(out, "  cut short in %s: %" PRIu64 " %s (%" PRIu64 " %s):",
		entry_path(s, e), sum(e->blocks),
		sum(e->blocks) == 1 ? "block" : "blocks", sum(e->stacks),
		sum(e->stacks) == 1 ? "stack" : "stacks");
	for (int k = 1; k < HS_STOP_COUNT; k++) {
		if (!e->stacks[k])
			continue;
		fprintf(out, "%s %s", sep, hs_unwind_stop_why((unsigned int)k));
		sep = ",";
	}
	if (e->stacks[HS_STOP_NO_TABLE] && e->table == HS_UT_OK)
		fputs(" (its table came after them)", out);
	fputc('\n', out);
}

void hs_render_unwind_text(FILE *out, const struct hs_snapshot *s)
{
	const struct hs_unwind_stats *st = &s->unwind_stats;
	uint64_t all, cut;

	count_blocks(s, &all, &cut);
	fprintf(out, "unwinding:        ");
	if (by_fp(s)) {
		fputs("frame pointers only: a chain that ends early is not "
		      "told from the bottom (--unwind auto tells)\n",
		      out);
		return;
	}
	if (all)
		fprintf(out,
			"%.2f%% of live blocks reach the bottom of their stack",
			100.0 * (double)(all - cut) / (double)all);
	else
		fputs("no live blocks", out);
	fprintf(out, "; %" PRIu64 " cut short\n", cut);
	for (size_t i = 0; i < s->nunwind; i++)
		if (sum(s->unwind[i].stacks))
			print_cut(out, s, &s->unwind[i]);
	for (size_t i = 0; i < s->nunwind; i++) {
		const struct hs_unwind_entry *e = &s->unwind[i];

		if (e->table == HS_UT_NONE || e->table == HS_UT_NO_ROOM)
			fprintf(out, "  no table for %s: %s\n",
				entry_path(s, e),
				str_or_none(s, e->note, "no reason given"));
	}
	if (!st->modules && !st->events_lost)
		return;
	fprintf(out,
		"  tables:         %" PRIu64 " modules, %" PRIu64
		" rows of %" PRIu64 " rules, %.1f MiB (%" PRIu64
		" B) (limit %" PRIu64 " rows)\n",
		st->modules, st->rows, st->rules, (double)st->bytes / 1048576,
		st->bytes, st->max_rows);
	if (st->events_lost)
		fprintf(out,
			"  loader events lost: %" PRIu64
			" (tables came later than the code)\n",
			st->events_lost);
}

static json_object *json_stops(const uint64_t *stacks, const uint64_t *blocks)
{
	json_object *o = json_object_new_object();

	for (int k = 1; k < HS_STOP_COUNT; k++) {
		json_object *r;

		if (!stacks[k] && !blocks[k])
			continue;
		r = json_object_new_object();
		add_u64(r, "stacks", stacks[k]);
		add_u64(r, "blocks", blocks[k]);
		json_object_object_add(o, hs_unwind_stop_why((unsigned int)k),
				       r);
	}
	return o;
}

static json_object *json_entry(const struct hs_snapshot *s,
			       const struct hs_unwind_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "module",
			       str_or_null(hs_snapshot_str(s, e->module)));
	json_object_object_add(o, "table",
			       json_object_new_string(table_names[e->table]));
	json_object_object_add(o, "note",
			       str_or_null(hs_snapshot_str(s, e->note)));
	add_u64(o, "rows", e->rows);
	add_u64(o, "bytes", e->bytes);
	add_u64(o, "cut_stacks", sum(e->stacks));
	add_u64(o, "cut_blocks", sum(e->blocks));
	json_object_object_add(o, "cut", json_stops(e->stacks, e->blocks));
	return o;
}

json_object *hs_render_unwind_json(const struct hs_snapshot *s)
{
	const struct hs_unwind_stats *st = &s->unwind_stats;
	json_object *o = json_object_new_object();
	json_object *mods = json_object_new_array();
	json_object *tables = json_object_new_object();
	uint64_t all, cut;

	count_blocks(s, &all, &cut);
	add_u64(o, "blocks", all);
	add_u64(o, "cut_blocks", cut);
	json_object_object_add(o, "mode", str_or_null(mode_name(s)));
	json_object_object_add(
		o, "reach_bottom",
		by_fp(s) ?
			NULL :
			json_object_new_double(
				all ? (double)(all - cut) / (double)all : 1.0));
	for (size_t i = 0; i < s->nunwind; i++)
		json_object_array_add(mods, json_entry(s, &s->unwind[i]));
	json_object_object_add(o, "modules", mods);
	add_u64(tables, "modules", st->modules);
	add_u64(tables, "rows", st->rows);
	add_u64(tables, "max_rows", st->max_rows);
	add_u64(tables, "rules", st->rules);
	add_u64(tables, "bytes", st->bytes);
	add_u64(tables, "loader_events_lost", st->events_lost);
	json_object_object_add(o, "tables", tables);
	return o;
}
