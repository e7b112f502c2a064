// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The layer under the commands: error reporting that honours JSON mode, the
 * option parser and --help of every command, the options several commands
 * share, and loading snapshots.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"
#include "snapfile.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define DOC_COLUMN 25 /* where --help's descriptions start */

void hs_cli_error(bool json, const char *fmt, ...)
{
	char msg[HS_CLI_MSG_LEN];
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
	hs_cli_print_json(o);
}

void hs_cli_print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
}

int hs_cli_finish_output(bool json)
{
	if (fflush(stdout) || ferror(stdout)) {
		hs_cli_error(json, "writing the output: %s", strerror(errno));
		return 1;
	}
	return 0;
}

int hs_cli_parse_count(const char *arg, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int hs_cli_parse_pids(const char *arg, uint32_t *pids, size_t max, size_t *n,
		      const char **bad)
{
	const char *p = arg;
	uint64_t pid;
	char tok[16];
	size_t len;

	do {
		len = strcspn(p, ",");
		snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
		if (len >= sizeof(tok) ||
		    hs_cli_parse_count(tok, 1, INT_MAX, &pid)) {
			*bad = p;
			return -1;
		}
		if (*n == max)
			return -2;
		pids[(*n)++] = (uint32_t)pid;
		p += len;
	} while (*p++);
	return 0;
}

int hs_cli_parse_seconds(const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	return errno || end == arg || *end || !(*out > 0) ? -1 : 0;
}

int hs_cli_parse_choice(const char *arg, const struct hs_cli_choice *choices,
			int *out)
{
	for (; choices->name; choices++) {
		if (!strcmp(arg, choices->name)) {
			*out = choices->value;
			return 0;
		}
	}
	return -1;
}

enum {
	KEY_BY = 0x1100,
	KEY_CUMULATIVE,
	KEY_NO_SOURCE,
	KEY_INCLUDE,
	KEY_EXCLUDE,
	KEY_ALL_FRAMES,
	KEY_PYTHON_ONLY,
	KEY_DOMAIN,
	KEY_PID,
	KEY_COMM,
};

/* The options that several commands take, in the order --help lists them. */
static const struct hs_cli_option shared[] = {
	{ "live", 'p', "PID[,PID...]", "the live view of these processes",
	  HS_CLI_LIVE },
	{ "delay", 'd', "SECONDS",
	  "live view: seconds between refreshes (default 1)", HS_CLI_LIVE },
	{ "output", 'o', "FILE",
	  "live view: where s writes (default heapsnap-PID.hsnap)",
	  HS_CLI_LIVE },
	{ "by", KEY_BY, "KEY",
	  "lineno (default), filename, function, module,\ntraceback, process",
	  HS_CLI_VIEW },
	{ "cumulative", KEY_CUMULATIVE, NULL,
	  "count each block in every frame of its traceback", HS_CLI_VIEW },
	{ NULL, 'n', "N", "show N rows (default 10, 0 = all)", HS_CLI_VIEW },
	{ "include", KEY_INCLUDE, "GLOB[:LINE]",
	  "keep traces with a frame whose file (or module)\nmatches; repeatable",
	  HS_CLI_FILTERS },
	{ "exclude", KEY_EXCLUDE, "GLOB[:LINE]",
	  "drop traces with such a frame; repeatable", HS_CLI_FILTERS },
	{ "all-frames", KEY_ALL_FRAMES, NULL,
	  "filters test every frame, not only the most\nrecent one",
	  HS_CLI_FILTERS },
	{ "python-frames-only", KEY_PYTHON_ONLY, NULL,
	  "tracebacks of Python frames alone, as\ntracemalloc shows them",
	  HS_CLI_FILTERS },
	{ "domain", KEY_DOMAIN, "heap|mmap|python", "keep one domain",
	  HS_CLI_FILTERS },
	{ "pid", KEY_PID, "PID[,PID...]", "keep these processes",
	  HS_CLI_PROCESSES },
	{ "comm", KEY_COMM, "GLOB",
	  "keep processes whose command name matches;\nrepeatable",
	  HS_CLI_PROCESSES },
	{ "no-source", KEY_NO_SOURCE, NULL, "do not print source lines",
	  HS_CLI_VIEW },
};

static const struct hs_cli_option help_option = { "help", 'h', NULL,
						  "this help" };

#define NSHARED (sizeof(shared) / sizeof(shared[0]))

/* A command's options with the shared groups in their places, -h last. */
struct option_list {
	struct {
		const struct hs_cli_option *o;
		bool shared; /* from the shared table */
		bool shown; /* in --help */
	} e[64];
	size_t n;
};

static void list_add(struct option_list *l, const struct hs_cli_option *o,
		     bool shared, bool shown)
{
	if (l->n == sizeof(l->e) / sizeof(l->e[0]))
		return;
	l->e[l->n].o = o;
	l->e[l->n].shared = shared;
	l->e[l->n++].shown = shown;
}

static void list_options(const struct hs_cli_command *c, struct option_list *l)
{
	const struct hs_cli_option *o;

	l->n = 0;
	for (o = c->options; o->key; o++) {
		if (o->key != HS_CLI_SHARED && o->key != HS_CLI_REFUSED) {
			list_add(l, o, false, o->doc);
			continue;
		}
		for (size_t i = 0; i < NSHARED; i++)
			if (shared[i].groups & o->groups)
				list_add(l, &shared[i], true,
					 o->key == HS_CLI_SHARED);
	}
	list_add(l, &help_option, false, true);
}

static void print_option(const struct hs_cli_option *o)
{
	int n;

	if (o->key == HS_CLI_DOC)
		n = printf("  %s", o->name);
	else if (o->key < HS_CLI_OWN && o->name)
		n = printf("  -%c, --%s", o->key, o->name);
	else if (o->key < HS_CLI_OWN)
		n = printf("  -%c", o->key);
	else
		n = printf("  --%s", o->name);
	if (o->arg)
		n += printf(" %s", o->arg);
	printf("%*s", n < DOC_COLUMN ? DOC_COLUMN - n : 1, "");
	for (const char *d = o->doc; *d; d++)
		if (*d == '\n')
			printf("\n%*s", DOC_COLUMN, "");
		else
			putchar(*d);
	putchar('\n');
}

static void print_help(const struct hs_cli_command *c)
{
	struct option_list l;

	list_options(c, &l);
	fputs(c->usage, stdout);
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].shown)
			print_option(l.e[i].o);
	if (c->epilog)
		fputs(c->epilog, stdout);
}

/* getopt_long()'s tables for the options of l. */
static void getopt_tables(const struct option_list *l, bool in_order,
			  struct option *longopts, char *shortopts)
{
	size_t nlong = 0, nshort = 0;

	if (in_order)
		shortopts[nshort++] = '+';
	shortopts[nshort++] = ':';
	for (size_t i = 0; i < l->n; i++) {
		const struct hs_cli_option *o = l->e[i].o;

		if (o->key == HS_CLI_DOC)
			continue;
		if (o->name)
			longopts[nlong++] =
				(struct option){ o->name,
						 o->arg ? required_argument :
							  no_argument,
						 NULL, o->key };
		if (o->key >= HS_CLI_OWN)
			continue;
		shortopts[nshort++] = (char)o->key;
		if (o->arg)
			shortopts[nshort++] = ':';
	}
	longopts[nlong] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[nshort] = '\0';
}

/* JSON mode applies to errors found while parsing the options too. */
static bool wants_json(const struct option_list *l, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < l->n && l->e[i].o->key != HS_CLI_JSON; i++)
		;
	if (i == l->n)
		return false;
	for (int k = 1; k < argc && strcmp(argv[k], "--"); k++)
		if (!strcmp(argv[k], "--json"))
			return true;
	return false;
}

static void getopt_error(bool json, int opt, char **argv)
{
	const char *bad = argv[optind - 1];

	if (opt == ':')
		hs_cli_error(json, "option '%s' needs an argument", bad);
	else if (optopt)
		hs_cli_error(json, "unknown option '-%c'", optopt);
	else
		hs_cli_error(json, "unknown option '%s'", bad);
}

/* A domain by name (snapshot.c has the table), or "all": -1. */
static int parse_domain(const char *arg, int *domain)
{
	*domain = strcmp(arg, "all") ? hs_domain_parse(arg) : -1;
	return *domain < 0 && strcmp(arg, "all") ? -1 : 0;
}

/* Room for the values of repeated options: at most one per argument. */
static int args_init(struct hs_cli_args *a, int argc, char **argv,
		     size_t *maxpids)
{
	size_t chars = 1;

	for (int i = 0; i < argc; i++)
		chars += strlen(argv[i]);
	/* a pid list has at most one pid per two characters */
	*maxpids = chars / 2 + 1;
	memset(a, 0, sizeof(*a));
	a->q.key = HS_KEY_LINENO;
	a->q.domain = -1;
	a->limit = 10;
	a->source = true;
	a->filters = calloc((size_t)argc + 1, sizeof(*a->filters));
	a->q.filters = a->filters;
	a->pids = calloc(*maxpids, sizeof(*a->pids));
	a->q.pids = a->pids;
	a->comms = calloc((size_t)argc + 1, sizeof(*a->comms));
	a->q.comms = a->comms;
	a->live_pids = calloc(*maxpids, sizeof(*a->live_pids));
	return a->filters && a->pids && a->comms && a->live_pids ? 0 : -1;
}

void hs_cli_args_free(struct hs_cli_args *a)
{
	free(a->filters);
	free(a->pids);
	free(a->comms);
	free(a->live_pids);
	a->filters = NULL;
	a->pids = a->live_pids = NULL;
	a->comms = NULL;
}

static int apply_shared(struct hs_cli_args *a, int key, const char *arg,
			size_t maxpids)
{
	const char *bad;
	char names[64];
	uint64_t v;
	int k;

	switch (key) {
	case 'p':
		if (!hs_cli_parse_pids(arg, a->live_pids, maxpids, &a->nlive,
				       &bad))
			return 0;
		hs_cli_error(a->json, "bad pid list '%s'", arg);
		return -1;
	case 'd':
		if (!hs_cli_parse_seconds(arg, &a->delay) && a->delay >= 0.1 &&
		    a->delay <= 86400)
			return 0;
		hs_cli_error(a->json,
			     "-d needs seconds between 0.1 and 86400, not '%s'",
			     arg);
		return -1;
	case 'o':
		a->output = arg;
		return 0;
	case KEY_BY:
		k = hs_key_parse(arg);
		if (k >= 0) {
			a->q.key = (enum hs_key)k;
			return 0;
		}
		hs_cli_error(
			a->json,
			"unknown key '%s' (lineno, filename, function, module, traceback, process)",
			arg);
		return -1;
	case KEY_CUMULATIVE:
		a->q.cumulative = true;
		return 0;
	case 'n':
		a->limit_given = true;
		if (!hs_cli_parse_count(arg, 0, SIZE_MAX, &v)) {
			a->limit = (size_t)v;
			return 0;
		}
		hs_cli_error(a->json, "-n needs a number of rows, not '%s'",
			     arg);
		return -1;
	case KEY_NO_SOURCE:
		a->source = false;
		return 0;
	case KEY_INCLUDE:
	case KEY_EXCLUDE:
		if (!hs_filter_parse(arg, key == KEY_INCLUDE,
				     &a->filters[a->q.nfilters])) {
			a->q.nfilters++;
			return 0;
		}
		hs_cli_error(a->json, "bad filter '%s' (GLOB or GLOB:LINE)",
			     arg);
		return -1;
	case KEY_ALL_FRAMES:
		a->q.all_frames = true;
		return 0;
	case KEY_PYTHON_ONLY:
		a->q.python_only = true;
		return 0;
	case KEY_DOMAIN:
		if (!parse_domain(arg, &a->q.domain))
			return 0;
		hs_domain_list(names, sizeof(names), ", ");
		hs_cli_error(a->json, "unknown domain '%s' (%s)", arg, names);
		return -1;
	case KEY_PID:
		if (!hs_cli_parse_pids(arg, a->pids, maxpids, &a->q.npids,
				       &bad))
			return 0;
		hs_cli_error(a->json, "bad pid list '%s'", arg);
		return -1;
	default: /* KEY_COMM */
		a->comms[a->q.ncomms++] = arg;
		return 0;
	}
}

/* Applies option key: the shared table's, JSON mode or the command's own. */
static int apply(const struct hs_cli_command *c, const struct option_list *l,
		 struct hs_cli_args *a, void *ctx, int key, size_t maxpids)
{
	if (key == HS_CLI_JSON) {
		a->json = true;
		return 0;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].o->key == key && l->e[i].shared)
			return apply_shared(a, key, optarg, maxpids);
	return c->apply(ctx, key, optarg, a->json);
}

/* The live view's options make sense together and without operands. */
static int check_live(const struct option_list *l, struct hs_cli_args *a)
{
	bool given = a->nlive || a->output || a->delay, taken = false;

	for (size_t i = 0; i < l->n; i++)
		taken |= l->e[i].shared && l->e[i].shown &&
			 (l->e[i].o->groups & HS_CLI_LIVE);
	if (given && !taken) {
		hs_cli_error(a->json,
			     "-p, -d and -o belong to top's live view");
		return -1;
	}
	if (!a->nlive && (a->output || a->delay)) {
		hs_cli_error(a->json, "-d and -o need -p PID");
		return -1;
	}
	if (a->nlive && a->noperands) {
		hs_cli_error(
			a->json,
			"-p shows running processes, not FILE (--pid keeps some processes of a snapshot)");
		return -1;
	}
	return 0;
}

static int parse(const struct hs_cli_command *c, const struct option_list *l,
		 int argc, char **argv, struct hs_cli_args *a, void *ctx,
		 size_t maxpids)
{
	struct option longopts[sizeof(l->e) / sizeof(l->e[0]) + 1];
	char shortopts[2 * sizeof(l->e) / sizeof(l->e[0]) + 3];
	int opt, min = c->operands.min, max = c->operands.max;

	getopt_tables(l, c->in_order, longopts, shortopts);
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		if (opt == 'h') {
			print_help(c);
			return 0;
		}
		if (opt == '?' || opt == ':') {
			getopt_error(a->json, opt, argv);
			return HS_CLI_EXIT_USAGE;
		}
		if (apply(c, l, a, ctx, opt, maxpids))
			return HS_CLI_EXIT_USAGE;
	}
	a->operands = argv + optind;
	a->noperands = argc - optind;
	if (check_live(l, a))
		return HS_CLI_EXIT_USAGE;
	if (a->nlive)
		min = max = 0;
	if (a->noperands < min || (max >= 0 && a->noperands > max)) {
		hs_cli_error(a->json, "%s takes %s (see heapsnap %s --help)",
			     argv[0], c->operands.what, argv[0]);
		return HS_CLI_EXIT_USAGE;
	}
	return -1;
}

int hs_cli_parse(const struct hs_cli_command *c, int argc, char **argv,
		 struct hs_cli_args *a, void *ctx)
{
	struct option_list l;
	size_t maxpids;

	list_options(c, &l);
	if (args_init(a, argc, argv, &maxpids)) {
		hs_cli_error(wants_json(&l, argc, argv), "out of memory");
		return 1;
	}
	a->json = wants_json(&l, argc, argv);
	return parse(c, &l, argc, argv, a, ctx, maxpids);
}

struct hs_snapshot *hs_cli_load(const char *path, bool json, const char *who,
				struct hs_cli_warnings *w)
{
	char err[HS_CLI_MSG_LEN], loss[HS_CLI_MSG_LEN / 2];
	struct hs_snapshot *s;

	err[0] = '\0';
	s = hs_snapfile_read(path, err, sizeof(err));
	if (!s) {
		hs_cli_error(json, "%s", err[0] ? err : path);
		return NULL;
	}
	if (!w || !hs_loss_summary(s, loss, sizeof(loss)))
		return s;
	if (w->print) {
		fprintf(stderr, "warning: %s lost data: %s\n", who, loss);
	} else if (w->n < HS_CLI_MAX_SNAPSHOTS) {
		snprintf(w->text[w->n], sizeof(w->text[w->n]),
			 "%s lost data: %s", who, loss);
		w->list[w->n] = w->text[w->n];
		w->n++;
	}
	return s;
}

struct hs_snapshot *hs_cli_load_query(const struct hs_cli_args *a,
				      const char *path, const char *who,
				      struct hs_cli_warnings *w)
{
	struct hs_snapshot *s = hs_cli_load(path, a->json, who, w);

	if (s && a->q.python_only && hs_snapshot_python_only(s)) {
		hs_cli_error(a->json, "out of memory");
		hs_snapshot_free(s);
		return NULL;
	}
	return s;
}

json_object *hs_cli_warnings_json(const struct hs_cli_warnings *w)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < w->n; i++)
		json_object_array_add(a, json_object_new_string(w->list[i]));
	return a;
}
