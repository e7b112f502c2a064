// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text and JSON output of top and diff. The text of `top` follows the
 * "Pretty top" recipe of the tracemalloc docs, with the source line under
 * each lineno row when the source file is readable.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "aggregate.h"
#include "render.h"
#include "render_priv.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SOURCE_MAX (64u << 20) /* larger "source files" are not read */

/* ---- labels ---- */

void hs_render_label(FILE *out, enum hs_key key, const struct hs_stat *row)
{
	struct hs_frame_view v;

	if (key == HS_KEY_PROCESS) {
		fprintf(out, "pid %" PRIu32 " (%s)", row->pid,
			row->command ? row->command : "?");
		if (row->proc && row->proc->exited) {
			char peak[SIZE_BUF];

			hs_format_size(peak, sizeof(peak),
				       (double)row->proc->counters.peak, false);
			fprintf(out, " exited: peak %s, %llu %s", peak,
				row->proc->counters.allocs,
				hs_plural(row->proc->counters.allocs,
					  "allocation", "allocations"));
		}
		return;
	}
	if (!row->nframes) {
		fputs("<unknown>", out);
		return;
	}
	hs_frame_view(row->snap, row->frames[0], &v);
	switch (key) {
	case HS_KEY_FILENAME:
		fputs(v.file ? v.file : v.module ? v.module : "<unknown>", out);
		break;
	case HS_KEY_MODULE:
		fputs(v.module ? v.module : "<unknown>", out);
		break;
	case HS_KEY_FUNCTION:
		/* the function and its file: its rows add up several lines */
		if (v.function) {
			fprintf(out, "%s (%s)", v.function,
				v.file		      ? v.file :
				v.module && !v.python ? v.module :
							"<unknown>");
		} else {
			print_loc(out, &v);
		}
		break;
	default:
		print_loc(out, &v);
		break;
	}
}

/* ---- source lines ---- */

struct src_file {
	UT_hash_handle hh;
	char *data; /* NULL when unreadable */
	size_t len;
	size_t *starts; /* offset of each line */
	size_t nlines;
	char path[];
};

struct src_cache {
	struct src_file *files;
};

static char *read_regular_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *data = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > SOURCE_MAX)
		goto out;
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		goto out;
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	*len = got;
out:
	close(fd);
	return data;
}

static void src_index_lines(struct src_file *f)
{
	size_t i, n = 1;

	for (i = 0; i < f->len; i++)
		n += f->data[i] == '\n';
	f->starts = malloc(n * sizeof(*f->starts));
	if (!f->starts)
		return;
	f->starts[f->nlines++] = 0;
	for (i = 0; i < f->len; i++)
		if (f->data[i] == '\n')
			f->starts[f->nlines++] = i + 1;
}

static struct src_file *src_get(struct src_cache *c, const char *path)
{
	size_t plen = strlen(path);
	struct src_file *f;

	HASH_FIND(hh, c->files, path, plen, f);
	if (f)
		return f;
	f = calloc(1, sizeof(*f) + plen + 1);
	if (!f)
		return NULL;
	memcpy(f->path, path, plen + 1);
	f->data = read_regular_file(path, &f->len);
	if (f->data)
		src_index_lines(f);
	HASH_ADD(hh, c->files, path[0], plen, f);
	return f;
}

static void src_cache_free(struct src_cache *c)
{
	struct src_file *f, *tmp;

	HASH_ITER(hh, c->files, f, tmp) {
		HASH_DEL(c->files, f);
		free(f->data);
		free(f->starts);
		free(f);
	}
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	       ch == '\v' || ch == '\f';
}

/* Prints line `line` of path, stripped, after indent; nothing if unknown. */
static void print_source(FILE *out, struct src_cache *c, const char *path,
			 uint32_t line, const char *indent)
{
	struct src_file *f;
	const char *p, *end;

	if (!c || !path || !line)
		return;
	f = src_get(c, path);
	if (!f || !f->starts || line > f->nlines)
		return;
	p = f->data + f->starts[line - 1];
	end = line < f->nlines ? f->data + f->starts[line] : f->data + f->len;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end)
		return;
	fputs(indent, out);
	/* the file is not ours: keep its control characters off the terminal */
	for (; p < end; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputc('\n', out);
}

/* ---- top and diff, text ---- */

static const char *key_noun(enum hs_key key, size_t n)
{
	static const char *const nouns[][2] = {
		[HS_KEY_LINENO] = { "line", "lines" },
		[HS_KEY_FILENAME] = { "file", "files" },
		[HS_KEY_FUNCTION] = { "function", "functions" },
		[HS_KEY_MODULE] = { "module", "modules" },
		[HS_KEY_TRACEBACK] = { "traceback", "tracebacks" },
		[HS_KEY_PROCESS] = { "process", "processes" },
	};

	if ((size_t)key >= ARRAY_SIZE(nouns))
		return "rows";
	return nouns[key][n != 1];
}

static void print_title(FILE *out, const struct hs_stats *st, size_t shown)
{
	const char *cumul = st->cumulative ? " (cumulative)" : "";

	if (st->is_diff)
		fprintf(out, "Top %zu differences by %s%s\n", shown,
			key_noun(st->key, 1), cumul);
	else
		fprintf(out, "Top %zu %s%s\n", shown, key_noun(st->key, shown),
			cumul);
	if (st->sample_bytes)
		fprintf(out,
			"(estimates: one allocation in every %" PRIu64
			" bytes was sampled; sizes and counts are scaled)\n",
			st->sample_bytes);
}

/* "size=12.5 KiB (+4.0 KiB), count=100 (+32)", as tracemalloc's StatisticDiff */
static void print_size_count_diff(FILE *out, uint64_t size, int64_t size_diff,
				  uint64_t count, int64_t count_diff)
{
	char s[SIZE_BUF], d[SIZE_BUF];

	hs_format_size(s, sizeof(s), (double)size, false);
	hs_format_size(d, sizeof(d), (double)size_diff, true);
	fprintf(out, "size=%s (%s), count=%" PRIu64 " (%+" PRId64 ")", s, d,
		count, count_diff);
}

static void print_row_numbers(FILE *out, const struct hs_stats *st,
			      const struct hs_stat *row)
{
	char avg[SIZE_BUF];

	if (row->count)
		hs_format_size(avg, sizeof(avg), (double)row->size / row->count,
			       false);
	if (st->is_diff) {
		print_size_count_diff(out, row->size, row->size_diff,
				      row->count, row->count_diff);
		if (row->count)
			fprintf(out, ", average=%s", avg);
	} else {
		print_size_count(out, row->size, row->count);
		if (row->count)
			fprintf(out, ", average %s", avg);
	}
	if (row->estimate)
		fputs(" (estimate)", out);
	fputc('\n', out);
}

static void print_traceback_frames(FILE *out, const struct hs_stat *row,
				   struct src_cache *src)
{
	struct hs_frame_view v;
	uint32_t i;

	if (!row->nframes)
		fputs("  <unknown>\n", out);
	for (i = 0; i < row->nframes; i++) {
		hs_frame_view(row->snap, row->frames[i], &v);
		fputs("  ", out);
		print_loc(out, &v);
		if (v.function)
			fprintf(out, " in %s", v.function);
		if (v.inlined)
			fputs(" (inlined)", out);
		fputc('\n', out);
		print_source(out, src, v.file, v.line, "    ");
	}
}

static void print_row(FILE *out, const struct hs_stats *st,
		      const struct hs_stat *row, size_t rank,
		      struct src_cache *src)
{
	struct hs_frame_view v;

	fprintf(out, "#%zu: ", rank);
	if (st->key != HS_KEY_TRACEBACK) {
		hs_render_label(out, st->key, row);
		fputs(": ", out);
	}
	print_row_numbers(out, st, row);
	if (st->key == HS_KEY_TRACEBACK) {
		print_traceback_frames(out, row, src);
	} else if (st->key == HS_KEY_LINENO && row->nframes) {
		hs_frame_view(row->snap, row->frames[0], &v);
		print_source(out, src, v.file, v.line, "    ");
	}
}

static void print_rest_and_total(FILE *out, const struct hs_stats *st,
				 size_t shown)
{
	uint64_t size = 0, count = 0;
	int64_t size_diff = 0, count_diff = 0;
	size_t i;

	for (i = shown; i < st->nrows; i++) {
		size += st->rows[i].size;
		count += st->rows[i].count;
		size_diff += st->rows[i].size_diff;
		count_diff += st->rows[i].count_diff;
	}
	if (shown < st->nrows && st->cumulative) {
		fprintf(out,
			"%zu other %s, not summed (cumulative rows overlap)\n",
			st->nrows - shown,
			key_noun(st->key, st->nrows - shown));
	} else if (shown < st->nrows) {
		fprintf(out, "%zu other: ", st->nrows - shown);
		if (st->is_diff)
			print_size_count_diff(out, size, size_diff, count,
					      count_diff);
		else
			print_size_count(out, size, count);
		fputc('\n', out);
	}
	fputs("Total: ", out);
	if (st->is_diff)
		print_size_count_diff(out, st->total_size, st->total_size_diff,
				      st->total_count, st->total_count_diff);
	else
		print_size_count(out, st->total_size, st->total_count);
	fputc('\n', out);
}

static size_t rows_shown(const struct hs_stats *st,
			 const struct hs_render_opts *o)
{
	return o->limit && o->limit < st->nrows ? o->limit : st->nrows;
}

static void render_stats_text(FILE *out, const struct hs_stats *st,
			      const struct hs_render_opts *o)
{
	struct src_cache src = { NULL };
	size_t i, shown = rows_shown(st, o);

	print_warnings(out, o);
	print_title(out, st, shown);
	for (i = 0; i < shown; i++)
		print_row(out, st, &st->rows[i], i + 1,
			  o->source ? &src : NULL);
	print_rest_and_total(out, st, shown);
	if (o->hint)
		fprintf(out, "hint: %s\n", o->hint);
	src_cache_free(&src);
}

/* ---- JSON ---- */

static void json_add_i64(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/*
 * A row's frames: for a key of one frame, only what is part of the key (a
 * function's row sums several lines: it has none).
 */
static json_object *json_key_frames(const struct hs_stats *st,
				    const struct hs_stat *row)
{
	unsigned int fields = HS_JF_ALL;
	struct hs_frame_view v;
	json_object *a;

	if (st->key == HS_KEY_TRACEBACK || st->key == HS_KEY_LINENO ||
	    row->nframes != 1)
		return json_frames(row->snap, row->frames, row->nframes);
	hs_frame_view(row->snap, row->frames[0], &v);
	if (st->key == HS_KEY_FILENAME)
		fields = HS_JF_FILE;
	else if (st->key == HS_KEY_MODULE)
		fields = 0;
	else if (st->key == HS_KEY_FUNCTION && v.function)
		fields = HS_JF_FUNCTION | HS_JF_FILE;
	a = json_object_new_array();
	json_object_array_add(a,
			      json_frame_of(row->snap, row->frames[0], fields));
	return a;
}

static json_object *json_stat(const struct hs_stats *st,
			      const struct hs_stat *row)
{
	json_object *o = json_object_new_object();

	json_add_u64(o, "size", row->size);
	json_add_u64(o, "count", row->count);
	if (row->estimate)
		json_object_object_add(o, "estimate",
				       json_object_new_boolean(true));
	if (st->is_diff) {
		json_add_i64(o, "size_diff", row->size_diff);
		json_add_i64(o, "count_diff", row->count_diff);
	}
	if (st->key == HS_KEY_PROCESS) {
		json_add_u64(o, "pid", row->pid);
		json_object_object_add(o, "command",
				       json_str_or_null(row->command));
		json_object_object_add(o, "exited",
				       json_object_new_boolean(
					       row->proc && row->proc->exited));
		if (row->proc) {
			json_add_u64(o, "peak", row->proc->counters.peak);
			json_add_u64(o, "allocs", row->proc->counters.allocs);
		}
	}
	json_object_object_add(o, "traceback", json_key_frames(st, row));
	return o;
}

json_object *hs_stats_json(const struct hs_stats *st,
			   const struct hs_render_opts *o)
{
	json_object *root = json_object_new_object();
	json_object *total = json_object_new_object();
	json_object *rows = json_object_new_array();
	size_t i, shown = rows_shown(st, o);

	json_object_object_add(root, "key",
			       json_str_or_null(hs_key_name(st->key)));
	json_object_object_add(root, "cumulative",
			       json_object_new_boolean(st->cumulative));
	json_object_object_add(root, "estimated",
			       json_object_new_boolean(st->sample_bytes != 0));
	json_add_u64(root, "sample_bytes", st->sample_bytes);
	json_add_u64(total, "size", st->total_size);
	json_add_u64(total, "count", st->total_count);
	json_add_u64(total, "keys", st->nrows);
	if (st->is_diff) {
		json_add_i64(total, "size_diff", st->total_size_diff);
		json_add_i64(total, "count_diff", st->total_count_diff);
	}
	json_object_object_add(root, "total", total);
	for (i = 0; i < shown; i++)
		json_object_array_add(rows, json_stat(st, &st->rows[i]));
	json_object_object_add(root, "stats", rows);
	json_object_object_add(root, "warnings", json_warnings(o));
	/* only when a query kept nothing: why */
	if (o->hint)
		json_object_object_add(root, "hint",
				       json_object_new_string(o->hint));
	return root;
}

void hs_render_stats(FILE *out, const struct hs_stats *st,
		     const struct hs_render_opts *o)
{
	if (o->json)
		json_print(out, hs_stats_json(st, o));
	else
		render_stats_text(out, st, o);
}
