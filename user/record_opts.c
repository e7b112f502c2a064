// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The record command's options: what --help says of them, and their values. */
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "heapsnap.h"
#include "pyprocs.h"
#include "recorder.h"

#define STR_(x) #x
#define STR(x) STR_(x)

enum {
	OPT_LIB = HS_CLI_OWN,
	OPT_WRAPPER,
	OPT_MAX_LIVE,
	OPT_MAX_STACKS,
	OPT_SAMPLE_BYTES,
	OPT_AT_ENTRY,
	OPT_CLASSIC,
	OPT_FOLLOW_FORKS,
	OPT_NO_MMAP,
	OPT_MMAP_TRACEPOINTS,
	OPT_UNWIND,
	OPT_PYTHON,
	OPT_MAX_UNWIND_ROWS,
	OPT_PUSH,
	OPT_APP,
	OPT_LABEL,
};

static int add_pids(struct record_opts *o, const char *arg)
{
	uint32_t pids[MAX_PIDS];
	const char *bad;
	size_t n = 0;

	switch (hs_cli_parse_pids(arg, pids, MAX_PIDS - o->npids, &n, &bad)) {
	case -1:
		hs_cli_error(false, "invalid pid '%.*s'",
			     (int)strcspn(bad, ","), bad);
		return -1;
	case -2:
		hs_cli_error(false, "at most %d pids", MAX_PIDS);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		o->pids[o->npids++] = (pid_t)pids[i];
	return 0;
}

static int seconds(const char *arg, double *out)
{
	if (!hs_cli_parse_seconds(arg, out))
		return 0;
	hs_cli_error(false, "invalid number of seconds '%s'", arg);
	return -1;
}

static int size(const char *arg, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (hs_cli_parse_count(arg, 1, max, &v)) {
		hs_cli_error(false, "invalid size '%s'", arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A repeatable option's value, kept in list, which has room for MAX_LIST. */
static int add(char **list, size_t *n, char *arg, const char *what)
{
	if (*n == MAX_LIST) {
		hs_cli_error(false, "at most %d %s options", MAX_LIST, what);
		return -1;
	}
	list[(*n)++] = arg;
	return 0;
}

static const struct hs_cli_choice pymodes[] = {
	{ "auto", HS_PY_AUTO },
	{ "exact", HS_PY_EXACT },
	{ "pools", HS_PY_POOLS },
	{ "frames", HS_PY_FRAMES },
	{ "off", HS_PY_OFF },
	{ NULL },
};

static const struct hs_cli_choice unwinders[] = {
	{ "fp", HS_UNWIND_FP },
	{ "dwarf", HS_UNWIND_DWARF },
	{ "auto", HS_UNWIND_AUTO },
	{ NULL },
};

/* What a flag sets, or NULL for an option with a value. */
static bool *flag(struct record_opts *o, int key)
{
	switch (key) {
	case 'a':
		return &o->all;
	case 'v':
		return &o->verbose;
	case OPT_AT_ENTRY:
		return &o->at_entry;
	case OPT_FOLLOW_FORKS:
		return &o->follow_forks;
	case OPT_NO_MMAP:
		return &o->no_mmap;
	case OPT_MMAP_TRACEPOINTS:
		return &o->mmap_tracepoints;
	case OPT_CLASSIC:
		return &o->classic;
	default:
		return NULL;
	}
}

static int apply_option(void *ctx, int key, char *arg, bool json)
{
	struct record_opts *o = ctx;
	bool *set = flag(o, key);
	uint64_t n;
	int v;

	(void)json;
	if (set) {
		*set = true;
		return 0;
	}
	switch (key) {
	case 'p':
		return add_pids(o, arg);
	case 'o':
		o->output = arg;
		return 0;
	case 'd':
		return seconds(arg, &o->duration);
	case 'i':
		return seconds(arg, &o->interval);
	case 'f':
		if (!hs_cli_parse_count(arg, 1, HS_MAX_FRAMES, &n)) {
			o->frames = (uint32_t)n;
			return 0;
		}
		hs_cli_error(false, "--frames must be 1..%d", HS_MAX_FRAMES);
		return -1;
	case OPT_LIB:
		return add(o->libs, &o->nlibs, arg, "--lib");
	case OPT_WRAPPER:
		return add(o->wrappers, &o->nwrappers, arg, "--wrapper");
	case OPT_LABEL:
		return add(o->push_labels, &o->npush_labels, arg, "--label");
	case OPT_MAX_LIVE:
		return size(arg, 1u << 30, &o->max_live);
	case OPT_MAX_STACKS:
		return size(arg, 1u << 30, &o->max_stacks);
	case OPT_MAX_UNWIND_ROWS:
		return size(arg, 1u << 28, &o->max_unwind_rows);
	case OPT_SAMPLE_BYTES:
		if (!hs_cli_parse_count(arg, 1, 1u << 30, &o->sample_bytes))
			return 0;
		hs_cli_error(false, "--sample-bytes must be 1..%u", 1u << 30);
		return -1;
	case OPT_UNWIND:
		if (!hs_cli_parse_choice(arg, unwinders, &v)) {
			o->unwind = (uint32_t)v;
			return 0;
		}
		hs_cli_error(false, "--unwind takes fp, dwarf or auto");
		return -1;
	case OPT_PYTHON:
		if (!hs_cli_parse_choice(arg, pymodes, &v)) {
			o->python = (uint32_t)v;
			return 0;
		}
		hs_cli_error(false,
			     "--python takes auto, exact, pools, frames or off");
		return -1;
	case OPT_PUSH:
		o->push_url = arg;
		return 0;
	default: /* OPT_APP */
		o->push_app = arg;
		return 0;
	}
}

static const struct hs_cli_command record_command = {
	.usage =
		"Usage: heapsnap record -p PID[,PID...] [options]\n"
		"       heapsnap record [options] -- CMD [ARGS...]\n"
		"       heapsnap record -a [options]\n"
		"\n"
		"Traces every heap block of the targets and writes snapshots.\n"
		"\n",
	.options =
		(const struct hs_cli_option[]){
			{ "pid", 'p', "PID[,PID...]",
			  "attach to running processes" },
			{ "all", 'a', NULL,
			  "every process on the machine, also those\n"
			  "started later (default heapsnap-all.hsnap)" },
			{ "output", 'o', "FILE",
			  "snapshot file (default heapsnap-PID.hsnap)" },
			{ "duration", 'd', "SECONDS", "stop after that long" },
			{ "interval", 'i', "SECONDS",
			  "also write FILE.1, FILE.2, ... every SECONDS" },
			{ "frames", 'f', "N",
			  "traceback limit, 1.." STR(
				  HS_MAX_FRAMES) " (default 64)" },
			{ "lib", OPT_LIB, "PATH",
			  "probe the allocator in PATH (repeatable)" },
			{ "wrapper", OPT_WRAPPER, "GLOB",
			  "treat matching functions as allocation\n"
			  "wrappers: their caller is frame 0" },
			{ "max-live", OPT_MAX_LIVE, "N",
			  "live blocks the tracer can hold (default 1048576)" },
			{ "max-stacks", OPT_MAX_STACKS, "N",
			  "distinct stacks it can hold (default 65536)" },
			{ "sample-bytes", OPT_SAMPLE_BYTES, "N",
			  "production mode: sample one block per N bytes\n"
			  "allocated on average (Poisson, per thread);\n"
			  "sizes and counts become unbiased estimates" },
			{ "probe-at-entry", OPT_AT_ENTRY, NULL,
			  "probe each function at its first instruction\n"
			  "instead of its cheapest equivalent one" },
			{ "unwind", OPT_UNWIND, "fp|dwarf|auto",
			  "walk stacks by frame pointers, by the\n"
			  "call-frame tables of each module, or by frame\n"
			  "pointers where modules keep them (default)" },
			{ "max-unwind-rows", OPT_MAX_UNWIND_ROWS, "N",
			  "call-frame rows the tracer can hold, all\n"
			  "modules together; a module's table takes\n"
			  "what it needs (default 8388608)" },
			{ "python", OPT_PYTHON, "auto|exact|pools|frames|off",
			  "CPython targets: their Python frames, and the\n"
			  "python domain traced call by call (exact),\n"
			  "by the pools pymalloc takes (estimates, for\n"
			  "production), or not at all (frames); auto:\n"
			  "exact where the interpreter allows it" },
			{ "no-mmap", OPT_NO_MMAP, NULL,
			  "do not trace the mmap domain (anonymous mmap,\n"
			  "munmap, mremap and brk outside the allocator;\n"
			  "--sample-bytes leaves it out too)" },
			{ "mmap-tracepoints", OPT_MMAP_TRACEPOINTS, NULL,
			  "trace the mmap domain on the syscall\n"
			  "tracepoints, not in libc: sees calls made\n"
			  "without libc, but every syscall on the host\n"
			  "goes through them while heapsnap runs" },
			{ "follow-forks", OPT_FOLLOW_FORKS, NULL,
			  "also trace the children the targets fork,\n"
			  "each as its own process" },
			{ "classic-uprobes", OPT_CLASSIC, NULL,
			  "use uprobe/uretprobe pairs even where the\n"
			  "kernel has uprobe sessions" },
			{ "push", OPT_PUSH, "URL",
			  "also send each snapshot as pprof to the\n"
			  "Pyroscope-compatible backend at URL (its\n"
			  "/ingest); a push that fails is a warning, the\n"
			  "file is still written and the exit status\n"
			  "stays the recording's" },
			{ "app", OPT_APP, "NAME",
			  "application name for --push (default: the\n"
			  "target's command name; A-Z a-z 0-9 _ . - /)" },
			{ "label", OPT_LABEL, "KEY=VALUE",
			  "a label for --push (repeatable; KEY as a\n"
			  "Prometheus label name)" },
			{ "verbose", 'v', NULL, "say what is probed and why" },
			{},
		},
	.epilog =
		"\n"
		"SIGUSR1 writes a numbered snapshot now; SIGINT or SIGTERM writes the\n"
		"final snapshot and exits.\n",
	.operands = { 0, -1, NULL },
	.in_order = true,
	.apply = apply_option,
};

/* The targets: exactly one of -p, -a and CMD; --app and --label go with --push. */
static int check(const struct record_opts *o)
{
	if (!!o->npids + !!o->argv + o->all != 1) {
		hs_cli_error(false, "give one of -p PID, -a or -- CMD");
		return -1;
	}
	if (o->all && o->follow_forks) {
		hs_cli_error(false, "-a traces every process already");
		return -1;
	}
	if (!o->push_url && (o->push_app || o->npush_labels)) {
		hs_cli_error(false, "--app and --label need --push URL");
		return -1;
	}
	return 0;
}

int hs_rec_parse_args(struct record_opts *o, int argc, char **argv)
{
	struct hs_cli_args a;
	int rc = hs_cli_parse(&record_command, argc, argv, &a, o);

	if (a.noperands)
		o->argv = a.operands;
	hs_cli_args_free(&a);
	if (rc >= 0)
		return rc;
	return check(o) ? HS_CLI_EXIT_USAGE : -1;
}
