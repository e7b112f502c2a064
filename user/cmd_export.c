// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * export and flamegraph: read snapshot files, run the pure export stage and
 * write its result to -o FILE or stdout. With --json, a summary of what was
 * written (or, for folded stacks on stdout, the stacks themselves) goes to
 * stdout.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_export.h"
#include "export.h"
#include "flamegraph.h"

enum {
	OPT_FORMAT = HS_CLI_OWN,
	OPT_TITLE,
	OPT_WIDTH,
};

struct export_args {
	struct hs_cli_args cli; /* JSON mode, filters and the snapshot files */
	const char *format;
	const char *output;
	const char *title;
	unsigned int width;
};

/* Applies one of the command's own options; -1 after reporting a bad value. */
static int apply_option(void *ctx, int key, char *arg, bool json)
{
	struct export_args *a = ctx;
	uint64_t width;

	switch (key) {
	case OPT_FORMAT:
		a->format = arg;
		return 0;
	case 'o':
		a->output = arg;
		return 0;
	case OPT_TITLE:
		a->title = arg;
		return 0;
	default: /* OPT_WIDTH */
		if (!hs_cli_parse_count(arg, 200, 100000, &width)) {
			a->width = (unsigned int)width;
			return 0;
		}
		hs_cli_error(json,
			     "--width needs 200 to 100000 pixels, not '%s'",
			     arg);
		return -1;
	}
}

static const struct hs_cli_command export_command = {
	.usage =
		"Usage: heapsnap export FILE [--format pprof|folded] [-o OUT] [filters] [--json]\n"
		"\n"
		"The live memory of snapshot FILE for other tools.\n"
		"\n",
	.options =
		(const struct hs_cli_option[]){
			{ "format", OPT_FORMAT, "pprof",
			  "(default) a gzipped pprof profile for\n"
			  "`go tool pprof OUT.pb.gz`. Sample types\n"
			  "inuse_objects, inuse_space (the default),\n"
			  "alloc_objects and alloc_space. Snapshots keep\n"
			  "no per-stack allocation totals, so alloc_*\n"
			  "repeat the live values (a lower bound; the\n"
			  "process totals are in the profile's comments)" },
			{ "--format folded", HS_CLI_DOC, NULL,
			  "one line per stack, `root;...;leaf bytes`,\n"
			  "for flamegraph.pl, speedscope, inferno" },
			{ "output", 'o', "OUT",
			  "write to OUT (default: stdout; pprof is\n"
			  "never written to a terminal)" },
			{ "json", HS_CLI_JSON, NULL,
			  "print a JSON summary of what was written, or\n"
			  "with folded and no -o, the stacks as JSON" },
			{ .key = HS_CLI_SHARED, .groups = HS_CLI_FILTERS },
			{},
		},
	.operands = { 1, 1, "one snapshot file" },
	.apply = apply_option,
};

static const struct hs_cli_command flame_command = {
	.usage =
		"Usage: heapsnap flamegraph FILE [-o OUT.svg|OUT.html] [options]\n"
		"       heapsnap flamegraph OLD NEW [-o OUT.svg|OUT.html] [options]\n"
		"\n"
		"A flame graph of the live memory of snapshot FILE, by bytes, or of what\n"
		"changed from OLD to NEW (red grew, blue shrank). Self-contained and\n"
		"interactive in a browser: hover for details, click to zoom, Ctrl+F or /\n"
		"to search.\n"
		"\n",
	.options =
		(const struct hs_cli_option[]){
			{ "output", 'o', "OUT",
			  "write to OUT (default: stdout)" },
			{ "format", OPT_FORMAT, "svg|html",
			  "default: html when OUT ends in .html or .htm,\n"
			  "else svg; html adds a search box" },
			{ "title", OPT_TITLE, "TEXT",
			  "the title (default: from the command traced)" },
			{ "width", OPT_WIDTH, "PIXELS",
			  "image width (default 1200)" },
			{ "json", HS_CLI_JSON, NULL,
			  "print a JSON summary of what was written" },
			{ .key = HS_CLI_SHARED, .groups = HS_CLI_FILTERS },
			{},
		},
	.operands = { 1, 2, "one or two snapshot files" },
	.apply = apply_option,
};

/* Parses argv into a: -1 to go on, else the exit status. */
static int parse_args(const struct hs_cli_command *c, int argc, char **argv,
		      struct export_args *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	rc = hs_cli_parse(c, argc, argv, &a->cli, a);
	a->cli.q.key = HS_KEY_TRACEBACK; /* the exporters take whole stacks */
	return rc;
}

static FILE *open_output(const struct export_args *a)
{
	FILE *f;

	if (!a->output)
		return stdout;
	f = fopen(a->output, "w");
	if (!f)
		hs_cli_error(a->cli.json, "cannot write %s: %s", a->output,
			     strerror(errno));
	return f;
}

/* Closes the output; 1 after reporting a write error (the file is removed). */
static int close_output(const struct export_args *a, FILE *f)
{
	int err;

	if (f == stdout)
		return hs_cli_finish_output(a->cli.json);
	err = ferror(f);
	err |= fclose(f);
	if (!err)
		return 0;
	hs_cli_error(a->cli.json, "writing %s: %s", a->output,
		     strerror(errno ? errno : EIO));
	unlink(a->output);
	return 1;
}

static void json_add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *json_total(uint64_t size, uint64_t count)
{
	json_object *o = json_object_new_object();

	json_add_u64(o, "size", size);
	json_add_u64(o, "count", count);
	return o;
}

/* The JSON summary's common fields. */
static json_object *json_summary(const struct export_args *a,
				 const char *format,
				 const struct hs_cli_warnings *w)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "format", json_object_new_string(format));
	json_object_object_add(o, "output",
			       a->output ? json_object_new_string(a->output) :
					   NULL);
	json_object_object_add(o, "warnings", hs_cli_warnings_json(w));
	return o;
}

static int print_json(const struct export_args *a, json_object *o)
{
	hs_cli_print_json(o);
	return hs_cli_finish_output(a->cli.json);
}

static int export_pprof(const struct export_args *a,
			const struct hs_snapshot *s,
			const struct hs_cli_warnings *w)
{
	struct hs_pprof_summary sum;
	json_object *o;
	size_t len;
	void *buf;
	FILE *out;
	int rc;

	if (!a->output && isatty(STDOUT_FILENO)) {
		hs_cli_error(a->cli.json, "a pprof profile is binary: give -o "
					  "FILE or redirect stdout");
		return HS_CLI_EXIT_USAGE;
	}
	if (hs_pprof_encode(s, &a->cli.q, &buf, &len, &sum)) {
		hs_cli_error(a->cli.json, "out of memory");
		return 1;
	}
	out = open_output(a);
	if (!out) {
		free(buf);
		return 1;
	}
	fwrite(buf, 1, len, out);
	free(buf);
	rc = close_output(a, out);
	if (rc || !a->cli.json)
		return rc;
	o = json_summary(a, "pprof", w);
	json_add_u64(o, "bytes_written", sum.compressed_bytes);
	json_add_u64(o, "samples", sum.samples);
	json_add_u64(o, "locations", sum.locations);
	json_add_u64(o, "functions", sum.functions);
	json_add_u64(o, "mappings", sum.mappings);
	json_object_object_add(o, "total",
			       json_total(sum.inuse_space, sum.inuse_objects));
	return print_json(a, o);
}

static json_object *json_folded_stacks(const struct hs_folded *f)
{
	json_object *arr = json_object_new_array(), *l;
	size_t i;

	for (i = 0; i < f->nlines; i++) {
		l = json_object_new_object();
		json_object_object_add(
			l, "stack", json_object_new_string(f->lines[i].stack));
		json_add_u64(l, "size", f->lines[i].bytes);
		json_add_u64(l, "count", f->lines[i].count);
		json_object_array_add(arr, l);
	}
	return arr;
}

static int export_folded(const struct export_args *a,
			 const struct hs_snapshot *s,
			 const struct hs_cli_warnings *w)
{
	json_object *o = NULL;
	struct hs_folded f;
	FILE *out;
	int rc = 1;

	if (hs_folded_build(s, &a->cli.q, &f)) {
		hs_cli_error(a->cli.json, "out of memory");
		return 1;
	}
	if (a->cli.json) {
		o = json_summary(a, "folded", w);
		json_object_object_add(
			o, "total", json_total(f.total_bytes, f.total_count));
		json_add_u64(o, "lines", f.nlines);
		if (!a->output)
			json_object_object_add(o, "stacks",
					       json_folded_stacks(&f));
	}
	if (!a->cli.json || a->output) {
		out = open_output(a);
		if (!out)
			goto out;
		hs_folded_write(out, &f);
		if (close_output(a, out))
			goto out;
	}
	rc = a->cli.json ? print_json(a, o) : 0;
	o = NULL;
out:
	json_object_put(o);
	hs_folded_free(&f);
	return rc;
}

int hs_cmd_export(int argc, char **argv)
{
	struct hs_cli_warnings w = { .print = true };
	struct hs_snapshot *s = NULL;
	struct export_args a;
	int rc;

	rc = parse_args(&export_command, argc, argv, &a);
	if (rc >= 0)
		goto out;
	if (!a.format)
		a.format = "pprof";
	if (strcmp(a.format, "pprof") && strcmp(a.format, "folded")) {
		hs_cli_error(a.cli.json, "unknown format '%s' (pprof, folded)",
			     a.format);
		rc = HS_CLI_EXIT_USAGE;
		goto out;
	}
	w.print = !a.cli.json;
	s = hs_cli_load_query(&a.cli, a.cli.operands[0], a.cli.operands[0],
			      &w);
	if (!s)
		rc = 1;
	else if (!strcmp(a.format, "pprof"))
		rc = export_pprof(&a, s, &w);
	else
		rc = export_folded(&a, s, &w);
out:
	hs_snapshot_free(s);
	hs_cli_args_free(&a.cli);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

/* svg or html, from --format or the output's name; -1 after an error. */
static int flame_format(const struct export_args *a, bool *html)
{
	if (!a->format) {
		*html = a->output && (ends_with(a->output, ".html") ||
				      ends_with(a->output, ".htm"));
		return 0;
	}
	if (!strcmp(a->format, "svg") || !strcmp(a->format, "html")) {
		*html = !strcmp(a->format, "html");
		return 0;
	}
	hs_cli_error(a->cli.json, "unknown format '%s' (svg, html)", a->format);
	return -1;
}

static int write_flame(const struct export_args *a, const struct hs_flame *f,
		       bool html, const struct hs_cli_warnings *w)
{
	struct hs_flame_opts o = { .title = a->title,
				   .width = a->width,
				   .html = html };
	struct hs_flame_summary sum;
	json_object *j;
	FILE *out = open_output(a);

	if (!out)
		return 1;
	hs_flame_render(out, f, &o, &sum);
	if (close_output(a, out))
		return 1;
	if (!a->cli.json)
		return 0;
	j = json_summary(a, html ? "html" : "svg", w);
	json_object_object_add(j, "diff",
			       json_object_new_boolean(a->cli.noperands == 2));
	json_add_u64(j, "frames", sum.nodes - 1);
	json_add_u64(j, "drawn", sum.drawn);
	json_add_u64(j, "depth", sum.depth);
	json_object_object_add(j, "total",
			       json_total(sum.bytes[1], sum.count[1]));
	if (a->cli.noperands == 2)
		json_object_object_add(j, "old_total",
				       json_total(sum.bytes[0], sum.count[0]));
	return print_json(a, j);
}

int hs_cmd_flamegraph(int argc, char **argv)
{
	struct hs_snapshot *s[2] = { NULL, NULL };
	struct hs_cli_warnings w = { .print = true };
	struct hs_flame *f = NULL;
	struct export_args a;
	bool html;
	int i, rc;

	rc = parse_args(&flame_command, argc, argv, &a);
	if (rc >= 0)
		goto out;
	rc = HS_CLI_EXIT_USAGE;
	if (flame_format(&a, &html))
		goto out;
	if (a.cli.json && !a.output) {
		hs_cli_error(true, "--json prints a summary: the flame "
				   "graph needs -o FILE");
		goto out;
	}
	rc = 1;
	w.print = !a.cli.json;
	for (i = 0; i < a.cli.noperands; i++) {
		s[i] = hs_cli_load_query(&a.cli, a.cli.operands[i],
					 a.cli.operands[i], &w);
		if (!s[i])
			goto out;
	}
	f = a.cli.noperands == 2 ? hs_flame_build(s[0], s[1], &a.cli.q) :
				   hs_flame_build(NULL, s[0], &a.cli.q);
	if (!f) {
		hs_cli_error(a.cli.json, "out of memory");
		goto out;
	}
	rc = write_flame(&a, f, html, &w);
out:
	hs_flame_free(f);
	hs_snapshot_free(s[0]);
	hs_snapshot_free(s[1]);
	hs_cli_args_free(&a.cli);
	return rc;
}
