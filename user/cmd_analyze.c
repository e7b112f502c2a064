// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The analysis commands: top, diff, info and lookup. Each one reads snapshot
 * files, runs the pure stats stage and renders; errors are one line,
 * "Error: ..." on stderr, or {"error": ...} on stdout in JSON mode.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_analyze.h"
#include "cmd_plot.h"
#include "live.h"
#include "render.h"
#include "snapfile.h"
#include "stats.h"

#define EXIT_USAGE 2
#define MSG_LEN 1024

enum {
	OPT_BY = 256,
	OPT_CUMULATIVE,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_ALL_FRAMES,
	OPT_DOMAIN,
	OPT_JSON,
	OPT_NO_SOURCE,
	OPT_PID,
	OPT_COMM,
	OPT_PLOT,
};

static const struct option stats_options[] = {
	{ "by", required_argument, NULL, OPT_BY },
	{ "cumulative", no_argument, NULL, OPT_CUMULATIVE },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "all-frames", no_argument, NULL, OPT_ALL_FRAMES },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-source", no_argument, NULL, OPT_NO_SOURCE },
	{ "live", required_argument, NULL, 'p' },
	{ "delay", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* info and lookup know only these. */
static const struct option plain_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option info_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "plot", no_argument, NULL, OPT_PLOT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char stats_options_help[] =
	"  --by KEY               lineno (default), filename, function, module,\n"
	"                         traceback, process\n"
	"  --cumulative           count each block in every frame of its traceback\n"
	"  -n N                   show N rows (default 10, 0 = all)\n"
	"  --include GLOB[:LINE]  keep traces with a frame whose file (or module)\n"
	"                         matches; repeatable\n"
	"  --exclude GLOB[:LINE]  drop traces with such a frame; repeatable\n"
	"  --all-frames           filters test every frame, not only the most\n"
	"                         recent one\n"
	"  --domain heap|mmap     keep one domain\n"
	"  --pid PID[,PID...]     keep these processes\n"
	"  --comm GLOB            keep processes whose command name matches;\n"
	"                         repeatable\n"
	"  --no-source            do not print source lines\n"
	"  --json                 JSON output\n"
	"  -h, --help             this help\n";

static const char top_usage[] =
	"Usage: heapsnap top FILE [--by KEY] [--cumulative] [-n N] [filters] [--json]\n"
	"       heapsnap top -p PID[,PID...] [-d SECONDS] [-o FILE] [--by KEY] [filters]\n"
	"\n"
	"The live memory of snapshot FILE grouped by KEY, biggest first\n"
	"(tracemalloc's Snapshot.statistics()). With -p, traces running processes\n"
	"and shows their top sites live, refreshed like top(1); keys: q quit,\n"
	"s write a snapshot (FILE.1, FILE.2, ...), c toggle cumulative, k next key,\n"
	"r reset the peak. With --json, one JSON object per refresh.\n\n"
	"  -p, --live PID[,PID...] the live view of these processes\n"
	"  -d, --delay SECONDS    live view: seconds between refreshes (default 1)\n"
	"  -o, --output FILE      live view: where s writes (default heapsnap-PID.hsnap)\n";

static const char diff_usage[] =
	"Usage: heapsnap diff OLD NEW [--by KEY] [--cumulative] [-n N] [filters] [--json]\n"
	"\n"
	"What changed from snapshot OLD to snapshot NEW, grouped by KEY, biggest\n"
	"change first (tracemalloc's Snapshot.compare_to()).\n\n";

static const char info_usage[] =
	"Usage: heapsnap info FILE [--json]\n"
	"       heapsnap info FILE --plot [--json]\n"
	"\n"
	"Metadata, counters and losses of snapshot FILE.\n\n"
	"With --plot, a chart of traced memory over the snapshots of FILE's\n"
	"recording: FILE.1, FILE.2, ... then FILE itself (FILE may name any of\n"
	"them). x is seconds since the first snapshot, y the current bytes and\n"
	"the peak of each interval; the legend has the peak since tracing began.\n"
	"Unicode blocks, or ASCII when the locale is not UTF-8, as wide as the\n"
	"terminal (COLUMNS). A numbered snapshot that is missing, unreadable or\n"
	"older than the one before is left out with a warning; FILE must be\n"
	"readable, or missing with numbered snapshots on disk.\n\n"
	"  --plot                 chart the recording's snapshots\n"
	"  --json                 JSON output (with --plot: the series)\n"
	"  -h, --help             this help\n";

static const char lookup_usage[] =
	"Usage: heapsnap lookup FILE ADDRESS [--json]\n"
	"\n"
	"The traceback of the live block of snapshot FILE that contains ADDRESS\n"
	"(hex); exits 1 when no block does.\n\n"
	"  --json                 JSON output\n"
	"  -h, --help             this help\n";

struct analyze_args {
	struct hs_query q;
	struct hs_render_opts r;
	struct hs_filter *filters;
	uint32_t *pids;
	const char **comms;
	char **files;
	int nfiles;
	uint32_t *live_pids; /* top -p */
	size_t nlive;
	double delay;
	const char *output;
	bool limit_given;
	bool plot; /* info --plot */
};

void hs_report_error(bool json, const char *fmt, ...)
{
	char msg[MSG_LEN];
	json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!json) {
		fprintf(stderr, "Error: %s\n", msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* JSON mode applies to errors found while parsing the options too. */
bool hs_wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			return true;
	return false;
}

static int parse_count(const char *arg, size_t *out)
{
	unsigned long long v;
	char *end;

	if (*arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

int hs_parse_domain(const char *arg, int *domain)
{
	if (!strcmp(arg, "all")) {
		*domain = -1;
		return 0;
	}
	*domain = hs_domain_parse(arg);
	return *domain < 0 ? -1 : 0;
}

static int add_filter(struct analyze_args *a, const char *arg, bool inclusive)
{
	struct hs_filter *f = &a->filters[a->q.nfilters];

	if (hs_filter_parse(arg, inclusive, f))
		return -1;
	a->q.nfilters++;
	return 0;
}

static int parse_pid_list(const char *arg, uint32_t *pids, size_t *n)
{
	const char *p = arg;

	while (*p) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || end == p || v > UINT32_MAX ||
		    (*end && *end != ','))
			return -1;
		pids[(*n)++] = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int add_pids(struct analyze_args *a, const char *arg)
{
	return parse_pid_list(arg, a->pids, &a->q.npids);
}

static int parse_delay(const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end)
		return -1;
	return *out >= 0.1 && *out <= 86400 ? 0 : -1;
}

static int apply_live_option(struct analyze_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		if (parse_pid_list(arg, a->live_pids, &a->nlive) || !a->nlive ||
		    !a->live_pids[a->nlive - 1]) {
			hs_report_error(a->r.json, "bad pid list '%s'", arg);
			return -1;
		}
		return 0;
	case 'd':
		if (!parse_delay(arg, &a->delay))
			return 0;
		hs_report_error(a->r.json,
				"-d needs seconds between 0.1 and 86400, not '%s'",
				arg);
		return -1;
	default:
		a->output = arg;
		return 0;
	}
}

/* Applies one parsed option; returns -1 after reporting a bad value. */
static int apply_option(struct analyze_args *a, int opt, const char *arg)
{
	char names[64];
	int key;

	switch (opt) {
	case OPT_BY:
		key = hs_key_parse(arg);
		if (key < 0) {
			hs_report_error(
				a->r.json,
				"unknown key '%s' (lineno, filename, function, module, traceback, process)",
				arg);
			return -1;
		}
		a->q.key = (enum hs_key)key;
		return 0;
	case OPT_CUMULATIVE:
		a->q.cumulative = true;
		return 0;
	case 'p':
	case 'd':
	case 'o':
		return apply_live_option(a, opt, arg);
	case 'n':
		a->limit_given = true;
		if (!parse_count(arg, &a->r.limit))
			return 0;
		hs_report_error(a->r.json, "-n needs a number of rows, not '%s'",
			     arg);
		return -1;
	case OPT_INCLUDE:
	case OPT_EXCLUDE:
		if (!add_filter(a, arg, opt == OPT_INCLUDE))
			return 0;
		hs_report_error(a->r.json, "bad filter '%s' (GLOB or GLOB:LINE)",
			     arg);
		return -1;
	case OPT_ALL_FRAMES:
		a->q.all_frames = true;
		return 0;
	case OPT_DOMAIN:
		if (!hs_parse_domain(arg, &a->q.domain))
			return 0;
		hs_domain_list(names, sizeof(names), ", ");
		hs_report_error(a->r.json, "unknown domain '%s' (%s)", arg,
				names);
		return -1;
	case OPT_PID:
		if (!add_pids(a, arg))
			return 0;
		hs_report_error(a->r.json, "bad pid list '%s'", arg);
		return -1;
	case OPT_COMM:
		a->comms[a->q.ncomms++] = arg;
		return 0;
	case OPT_JSON:
		a->r.json = true;
		return 0;
	case OPT_NO_SOURCE:
		a->r.source = false;
		return 0;
	case OPT_PLOT:
		a->plot = true;
		return 0;
	default:
		return -1;
	}
}

void hs_report_getopt_error(bool json, int opt, char **argv)
{
	const char *bad = argv[optind - 1];

	if (opt == ':')
		hs_report_error(json, "option '%s' needs an argument", bad);
	else if (optopt)
		hs_report_error(json, "unknown option '-%c'", optopt);
	else
		hs_report_error(json, "unknown option '%s'", bad);
}

/*
 * Parses argv into a. Returns -1 to go on, or the exit status when the
 * command is over (help printed: 0, usage error: 2).
 */
static int parse_args(int argc, char **argv, const struct option *longopts,
		      const char *usage, int nfiles, struct analyze_args *a)
{
	const char *shortopts = longopts == stats_options ? ":n:hp:d:o:" : ":h";
	int opt;

	a->r.json = hs_wants_json(argc, argv);
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			if (longopts == stats_options)
				fputs(stats_options_help, stdout);
			return 0;
		}
		if (opt == '?' || opt == ':') {
			hs_report_getopt_error(a->r.json, opt, argv);
			return EXIT_USAGE;
		}
		if (apply_option(a, opt, optarg))
			return EXIT_USAGE;
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	if (usage != top_usage && (a->nlive || a->output || a->delay)) {
		hs_report_error(a->r.json,
				"-p, -d and -o belong to top's live view");
		return EXIT_USAGE;
	}
	if (!a->nlive && (a->output || a->delay)) {
		hs_report_error(a->r.json, "-d and -o need -p PID");
		return EXIT_USAGE;
	}
	if (a->nlive && a->nfiles) {
		hs_report_error(
			a->r.json,
			"-p shows running processes, not FILE (--pid keeps some processes of a snapshot)");
		return EXIT_USAGE;
	}
	if (a->nlive)
		nfiles = 0;
	if (a->nfiles != nfiles) {
		hs_report_error(a->r.json,
			     "%s takes %d argument%s (see heapsnap %s --help)",
			     argv[0], nfiles, nfiles == 1 ? "" : "s", argv[0]);
		return EXIT_USAGE;
	}
	return -1;
}

static void args_free(struct analyze_args *a)
{
	free(a->filters);
	free(a->pids);
	free(a->comms);
	free(a->live_pids);
}

static int args_init(struct analyze_args *a, int argc, char **argv)
{
	size_t chars = 1;

	for (int i = 0; i < argc; i++)
		chars += strlen(argv[i]);
	memset(a, 0, sizeof(*a));
	a->q.key = HS_KEY_LINENO;
	a->q.domain = -1;
	a->r.limit = 10;
	a->r.source = true;
	a->filters = calloc((size_t)argc + 1, sizeof(*a->filters));
	a->q.filters = a->filters;
	/* a pid list has at most one pid per two characters */
	a->pids = calloc(chars / 2 + 1, sizeof(*a->pids));
	a->q.pids = a->pids;
	a->comms = calloc((size_t)argc + 1, sizeof(*a->comms));
	a->q.comms = a->comms;
	a->live_pids = calloc(chars / 2 + 1, sizeof(*a->live_pids));
	return a->filters && a->pids && a->comms && a->live_pids ? 0 : -1;
}

static struct hs_snapshot *load(const struct analyze_args *a, const char *path)
{
	struct hs_snapshot *s;
	char err[MSG_LEN];

	err[0] = '\0';
	s = hs_snapfile_read(path, err, sizeof(err));
	if (!s)
		hs_report_error(a->r.json, "%s", err[0] ? err : path);
	return s;
}

/* A snapshot that lost data says so, in front of its numbers. */
static void add_loss_warning(struct analyze_args *a,
			     const struct hs_snapshot *s, const char *which,
			     char *buf, size_t len, const char **warnings)
{
	char loss[MSG_LEN / 2];

	if (!hs_loss_summary(s, loss, sizeof(loss)))
		return;
	snprintf(buf, len, "%s lost data: %s", which, loss);
	warnings[a->r.nwarnings++] = buf;
}

int hs_finish_output(bool json)
{
	if (fflush(stdout) || ferror(stdout)) {
		hs_report_error(json, "writing the output: %s", strerror(errno));
		return 1;
	}
	return 0;
}

static const char *snapshot_role(bool diff, int i)
{
	if (!diff)
		return "this snapshot";
	return i ? "the new snapshot" : "the old snapshot";
}

static int run_stats(struct analyze_args *a, bool diff)
{
	struct hs_snapshot *s[2] = { NULL, NULL };
	char msgs[2][MSG_LEN];
	const char *warnings[2];
	struct hs_stats st;
	int i, n = diff ? 2 : 1, rc = 1, err;

	a->r.warnings = warnings;
	for (i = 0; i < n; i++) {
		s[i] = load(a, a->files[i]);
		if (!s[i])
			goto out;
		add_loss_warning(a, s[i], snapshot_role(diff, i), msgs[i],
				 sizeof(msgs[i]), warnings);
	}
	if (diff)
		err = hs_stats_diff(s[0], s[1], &a->q, &st);
	else
		err = hs_stats_top(s[0], &a->q, &st);
	if (err) {
		hs_report_error(a->r.json, "out of memory");
		goto out;
	}
	hs_render_stats(stdout, &st, &a->r);
	hs_stats_free(&st);
	rc = hs_finish_output(a->r.json);
out:
	hs_snapshot_free(s[0]);
	hs_snapshot_free(s[1]);
	return rc;
}

static int run_live(const struct analyze_args *a)
{
	struct hs_live_opts o = {
		.query = &a->q,
		.pids = a->live_pids,
		.npids = a->nlive,
		.delay = a->delay ? a->delay : 1.0,
		.limit = a->limit_given ? a->r.limit : 0,
		.output = a->output,
		.json = a->r.json,
	};

	return hs_live_top(&o);
}

static int stats_command(int argc, char **argv, bool diff)
{
	struct analyze_args a;
	int rc;

	if (args_init(&a, argc, argv)) {
		hs_report_error(hs_wants_json(argc, argv), "out of memory");
		return 1;
	}
	rc = parse_args(argc, argv, stats_options,
			diff ? diff_usage : top_usage, diff ? 2 : 1, &a);
	if (rc < 0 && a.nlive)
		rc = run_live(&a);
	else if (rc < 0)
		rc = run_stats(&a, diff);
	args_free(&a);
	return rc;
}

int hs_cmd_top(int argc, char **argv)
{
	return stats_command(argc, argv, false);
}

int hs_cmd_diff(int argc, char **argv)
{
	return stats_command(argc, argv, true);
}

int hs_cmd_info(int argc, char **argv)
{
	struct hs_snapshot *s;
	struct analyze_args a;
	int rc;

	if (args_init(&a, argc, argv)) {
		hs_report_error(hs_wants_json(argc, argv), "out of memory");
		return 1;
	}
	rc = parse_args(argc, argv, info_options, info_usage, 1, &a);
	if (rc < 0 && a.plot) {
		rc = hs_info_plot(a.files[0], a.r.json);
	} else if (rc < 0) {
		rc = 1;
		s = load(&a, a.files[0]);
		if (s) {
			hs_render_info(stdout, s, &a.r);
			hs_snapshot_free(s);
			rc = hs_finish_output(a.r.json);
		}
	}
	args_free(&a);
	return rc;
}

static int parse_address(const char *arg, uint64_t *addr)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 16);
	if (errno || end == arg || *end || *arg == '-' || *arg == '+')
		return -1;
	*addr = v;
	return 0;
}

static int run_lookup(struct analyze_args *a)
{
	struct hs_snapshot *s;
	uint64_t addr;
	int rc;

	if (parse_address(a->files[1], &addr)) {
		hs_report_error(a->r.json, "bad address '%s' (hexadecimal)",
			     a->files[1]);
		return EXIT_USAGE;
	}
	s = load(a, a->files[0]);
	if (!s)
		return 1;
	rc = hs_render_lookup(stdout, s, addr, &a->r);
	hs_snapshot_free(s);
	return hs_finish_output(a->r.json) ? 1 : rc;
}

int hs_cmd_lookup(int argc, char **argv)
{
	struct analyze_args a;
	int rc;

	if (args_init(&a, argc, argv)) {
		hs_report_error(hs_wants_json(argc, argv), "out of memory");
		return 1;
	}
	rc = parse_args(argc, argv, plain_options, lookup_usage, 2, &a);
	if (rc < 0)
		rc = run_lookup(&a);
	args_free(&a);
	return rc;
}
