// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * export and flamegraph: read snapshot files, run the pure export stage and
 * write its result to -o FILE or stdout. With --json, a summary of what was
 * written (or, for folded stacks on stdout, the stacks themselves) goes to
 * stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_analyze.h"
#include "cmd_export.h"
#include "export.h"
#include "flamegraph.h"
#include "render.h"
#include "snapfile.h"

#define EXIT_USAGE 2
#define MSG_LEN 1024
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

enum {
	OPT_FORMAT = 256,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_ALL_FRAMES,
	OPT_DOMAIN,
	OPT_JSON,
	OPT_TITLE,
	OPT_WIDTH,
};

static const struct option export_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "all-frames", no_argument, NULL, OPT_ALL_FRAMES },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option flame_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "all-frames", no_argument, NULL, OPT_ALL_FRAMES },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char filters_help[] =
	"  --include GLOB[:LINE]  keep traces with a frame whose file (or module)\n"
	"                         matches; repeatable\n"
	"  --exclude GLOB[:LINE]  drop traces with such a frame; repeatable\n"
	"  --all-frames           filters test every frame, not only the most\n"
	"                         recent one\n"
	"  --domain heap|mmap     keep one domain\n"
	"  -h, --help             this help\n";

static const char export_usage[] =
	"Usage: heapsnap export FILE [--format pprof|folded] [-o OUT] [filters] [--json]\n"
	"\n"
	"The live memory of snapshot FILE for other tools.\n"
	"\n"
	"  --format pprof         (default) a gzipped pprof profile for\n"
	"                         `go tool pprof OUT.pb.gz`. Sample types\n"
	"                         inuse_objects, inuse_space (the default),\n"
	"                         alloc_objects and alloc_space. Snapshots keep\n"
	"                         no per-stack allocation totals, so alloc_*\n"
	"                         repeat the live values (a lower bound; the\n"
	"                         process totals are in the profile's comments)\n"
	"  --format folded        one line per stack, `root;...;leaf bytes`,\n"
	"                         for flamegraph.pl, speedscope, inferno\n"
	"  -o, --output OUT       write to OUT (default: stdout; pprof is\n"
	"                         never written to a terminal)\n"
	"  --json                 print a JSON summary of what was written, or\n"
	"                         with folded and no -o, the stacks as JSON\n";

static const char flame_usage[] =
	"Usage: heapsnap flamegraph FILE [-o OUT.svg|OUT.html] [options]\n"
	"       heapsnap flamegraph OLD NEW [-o OUT.svg|OUT.html] [options]\n"
	"\n"
	"A flame graph of the live memory of snapshot FILE, by bytes, or of what\n"
	"changed from OLD to NEW (red grew, blue shrank). Self-contained and\n"
	"interactive in a browser: hover for details, click to zoom, Ctrl+F or /\n"
	"to search.\n"
	"\n"
	"  -o, --output OUT       write to OUT (default: stdout)\n"
	"  --format svg|html      default: html when OUT ends in .html or .htm,\n"
	"                         else svg; html adds a search box\n"
	"  --title TEXT           the title (default: from the command traced)\n"
	"  --width PIXELS         image width (default 1200)\n"
	"  --json                 print a JSON summary of what was written\n";

struct export_args {
	struct hs_query q;
	struct hs_filter *filters;
	const char *format;
	const char *output;
	const char *title;
	unsigned int width;
	bool json;
	char **files;
	int nfiles;
};

static int parse_width(const char *arg, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v < 200 || v > 100000)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Applies one parsed option; -1 after reporting a bad value. */
static int apply_option(struct export_args *a, int opt, const char *arg)
{
	char names[64];

	switch (opt) {
	case OPT_FORMAT:
		a->format = arg;
		return 0;
	case 'o':
		a->output = arg;
		return 0;
	case OPT_TITLE:
		a->title = arg;
		return 0;
	case OPT_WIDTH:
		if (!parse_width(arg, &a->width))
			return 0;
		hs_report_error(a->json,
				"--width needs 200 to 100000 pixels, not '%s'",
				arg);
		return -1;
	case OPT_INCLUDE:
	case OPT_EXCLUDE:
		if (!hs_filter_parse(arg, opt == OPT_INCLUDE,
				     &a->filters[a->q.nfilters])) {
			a->q.nfilters++;
			return 0;
		}
		hs_report_error(a->json, "bad filter '%s' (GLOB or GLOB:LINE)",
				arg);
		return -1;
	case OPT_ALL_FRAMES:
		a->q.all_frames = true;
		return 0;
	case OPT_DOMAIN:
		if (!hs_parse_domain(arg, &a->q.domain))
			return 0;
		hs_domain_list(names, sizeof(names), ", ");
		hs_report_error(a->json, "unknown domain '%s' (%s)", arg,
				names);
		return -1;
	case OPT_JSON:
		a->json = true;
		return 0;
	default:
		return -1;
	}
}

/*
 * Parses argv into a. Returns -1 to go on, or the exit status when the
 * command is over (help printed: 0, usage error: 2).
 */
static int parse_args(int argc, char **argv, const struct option *longopts,
		      const char *usage, int min_files, int max_files,
		      struct export_args *a)
{
	int opt;

	a->json = hs_wants_json(argc, argv);
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			fputs(filters_help, stdout);
			return 0;
		}
		if (opt == '?' || opt == ':') {
			hs_report_getopt_error(a->json, opt, argv);
			return EXIT_USAGE;
		}
		if (apply_option(a, opt, optarg))
			return EXIT_USAGE;
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	if (a->nfiles < min_files || a->nfiles > max_files) {
		hs_report_error(a->json, "%s takes %s (see heapsnap %s --help)",
				argv[0],
				min_files == max_files ?
					"one snapshot file" :
					"one or two snapshot files",
				argv[0]);
		return EXIT_USAGE;
	}
	return -1;
}

static int args_init(struct export_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->q.key = HS_KEY_TRACEBACK;
	a->q.domain = -1;
	a->filters = calloc((size_t)argc + 1, sizeof(*a->filters));
	a->q.filters = a->filters;
	if (!a->filters)
		hs_report_error(hs_wants_json(argc, argv), "out of memory");
	return a->filters ? 0 : -1;
}

/* A snapshot that lost data says so on stderr, or in the JSON summary. */
static void loss_warning(const struct hs_snapshot *s, const char *path,
			 json_object *warnings)
{
	char loss[MSG_LEN / 2], msg[MSG_LEN];

	if (!hs_loss_summary(s, loss, sizeof(loss)))
		return;
	snprintf(msg, sizeof(msg), "%s lost data: %s", path, loss);
	if (warnings)
		json_object_array_add(warnings, json_object_new_string(msg));
	else
		fprintf(stderr, "warning: %s\n", msg);
}

static struct hs_snapshot *load(const struct export_args *a, const char *path,
				json_object *warnings)
{
	struct hs_snapshot *s;
	char err[MSG_LEN];

	err[0] = '\0';
	s = hs_snapfile_read(path, err, sizeof(err));
	if (!s)
		hs_report_error(a->json, "%s", err[0] ? err : path);
	else
		loss_warning(s, path, warnings);
	return s;
}

static FILE *open_output(const struct export_args *a)
{
	FILE *f;

	if (!a->output)
		return stdout;
	f = fopen(a->output, "w");
	if (!f)
		hs_report_error(a->json, "cannot write %s: %s", a->output,
				strerror(errno));
	return f;
}

/* Closes the output; 1 after reporting a write error (the file is removed). */
static int close_output(const struct export_args *a, FILE *f)
{
	int err;

	if (f == stdout)
		return hs_finish_output(a->json);
	err = ferror(f);
	err |= fclose(f);
	if (!err)
		return 0;
	hs_report_error(a->json, "writing %s: %s", a->output,
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
				 const char *format, json_object *warnings)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "format", json_object_new_string(format));
	json_object_object_add(o, "output",
			       a->output ? json_object_new_string(a->output) :
					   NULL);
	json_object_object_add(o, "warnings", json_object_get(warnings));
	return o;
}

static int print_json(const struct export_args *a, json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
	return hs_finish_output(a->json);
}

static int export_pprof(const struct export_args *a,
			const struct hs_snapshot *s, json_object *warnings)
{
	struct hs_pprof_summary sum;
	json_object *o;
	size_t len;
	void *buf;
	FILE *out;
	int rc;

	if (!a->output && isatty(STDOUT_FILENO)) {
		hs_report_error(a->json, "a pprof profile is binary: give -o "
					 "FILE or redirect stdout");
		return EXIT_USAGE;
	}
	if (hs_pprof_encode(s, &a->q, &buf, &len, &sum)) {
		hs_report_error(a->json, "out of memory");
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
	if (rc || !a->json)
		return rc;
	o = json_summary(a, "pprof", warnings);
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
			 const struct hs_snapshot *s, json_object *warnings)
{
	json_object *o = NULL;
	struct hs_folded f;
	FILE *out;
	int rc = 1;

	if (hs_folded_build(s, &a->q, &f)) {
		hs_report_error(a->json, "out of memory");
		return 1;
	}
	if (a->json) {
		o = json_summary(a, "folded", warnings);
		json_object_object_add(
			o, "total", json_total(f.total_bytes, f.total_count));
		json_add_u64(o, "lines", f.nlines);
		if (!a->output)
			json_object_object_add(o, "stacks",
					       json_folded_stacks(&f));
	}
	if (!a->json || a->output) {
		out = open_output(a);
		if (!out)
			goto out;
		hs_folded_write(out, &f);
		if (close_output(a, out))
			goto out;
	}
	rc = a->json ? print_json(a, o) : 0;
	o = NULL;
out:
	json_object_put(o);
	hs_folded_free(&f);
	return rc;
}

int hs_cmd_export(int argc, char **argv)
{
	json_object *warnings = NULL;
	struct hs_snapshot *s = NULL;
	struct export_args a;
	int rc;

	if (args_init(&a, argc, argv))
		return 1;
	rc = parse_args(argc, argv, export_options, export_usage, 1, 1, &a);
	if (rc >= 0)
		goto out;
	if (!a.format)
		a.format = "pprof";
	if (strcmp(a.format, "pprof") && strcmp(a.format, "folded")) {
		hs_report_error(a.json, "unknown format '%s' (pprof, folded)",
				a.format);
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.json)
		warnings = json_object_new_array();
	s = load(&a, a.files[0], warnings);
	if (!s)
		rc = 1;
	else if (!strcmp(a.format, "pprof"))
		rc = export_pprof(&a, s, warnings);
	else
		rc = export_folded(&a, s, warnings);
out:
	json_object_put(warnings);
	hs_snapshot_free(s);
	free(a.filters);
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
	hs_report_error(a->json, "unknown format '%s' (svg, html)", a->format);
	return -1;
}

static int write_flame(const struct export_args *a, const struct hs_flame *f,
		       bool html, json_object *warnings)
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
	if (!a->json)
		return 0;
	j = json_summary(a, html ? "html" : "svg", warnings);
	json_object_object_add(j, "diff",
			       json_object_new_boolean(a->nfiles == 2));
	json_add_u64(j, "frames", sum.nodes - 1);
	json_add_u64(j, "drawn", sum.drawn);
	json_add_u64(j, "depth", sum.depth);
	json_object_object_add(j, "total",
			       json_total(sum.bytes[1], sum.count[1]));
	if (a->nfiles == 2)
		json_object_object_add(j, "old_total",
				       json_total(sum.bytes[0], sum.count[0]));
	return print_json(a, j);
}

int hs_cmd_flamegraph(int argc, char **argv)
{
	struct hs_snapshot *s[2] = { NULL, NULL };
	json_object *warnings = NULL;
	struct hs_flame *f = NULL;
	struct export_args a;
	bool html;
	int i, rc;

	if (args_init(&a, argc, argv))
		return 1;
	rc = parse_args(argc, argv, flame_options, flame_usage, 1, 2, &a);
	if (rc >= 0)
		goto out;
	rc = EXIT_USAGE;
	if (flame_format(&a, &html))
		goto out;
	if (a.json && !a.output) {
		hs_report_error(true, "--json prints a summary: the flame "
				      "graph needs -o FILE");
		goto out;
	}
	rc = 1;
	if (a.json)
		warnings = json_object_new_array();
	for (i = 0; i < a.nfiles; i++) {
		s[i] = load(&a, a.files[i], warnings);
		if (!s[i])
			goto out;
	}
	f = a.nfiles == 2 ? hs_flame_build(s[0], s[1], &a.q) :
			    hs_flame_build(NULL, s[0], &a.q);
	if (!f) {
		hs_report_error(a.json, "out of memory");
		goto out;
	}
	rc = write_flame(&a, f, html, warnings);
out:
	hs_flame_free(f);
	json_object_put(warnings);
	hs_snapshot_free(s[0]);
	hs_snapshot_free(s[1]);
	free(a.filters);
	return rc;
}
