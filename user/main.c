// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Command dispatch: each command is a function of its own arguments. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_analyze.h"
#include "cmd_export.h"
#include "cmd_plot.h"
#include "live.h"
#include "record.h"

#define HEAPSNAP_VERSION "0.1.0"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* top FILE shows a snapshot; top -p PID, running processes live. */
static int top(int argc, char **argv)
{
	struct hs_cli_args a;
	int rc = hs_cli_parse(&hs_top_command, argc, argv, &a, NULL);

	if (rc < 0)
		rc = a.nlive ? hs_live_top(&a) : hs_top(&a);
	hs_cli_args_free(&a);
	return rc;
}

/* info FILE describes a snapshot; info FILE --plot, its recording. */
static int info(int argc, char **argv)
{
	struct hs_cli_args a;
	bool plot = false;
	int rc = hs_cli_parse(&hs_info_command, argc, argv, &a, &plot);

	if (rc < 0)
		rc = plot ? hs_info_plot(a.operands[0], a.json) : hs_info(&a);
	hs_cli_args_free(&a);
	return rc;
}

static const struct cmd cmds[] = {
	{ "record", hs_cmd_record, "trace processes and write snapshots" },
	{ "top", top, "top allocation sites of a snapshot" },
	{ "diff", hs_cmd_diff, "compare two snapshots" },
	{ "info", info, "metadata and totals of a snapshot" },
	{ "lookup", hs_cmd_lookup, "traceback of the block at an address" },
	{ "export", hs_cmd_export, "a snapshot as pprof or folded stacks" },
	{ "flamegraph", hs_cmd_flamegraph,
	  "a flame graph (SVG/HTML) of one or two snapshots" },
};

static int usage(FILE *f)
{
	fprintf(f, "Usage: heapsnap COMMAND [ARGS...]\n\n"
		   "Python's tracemalloc for any Linux process, with eBPF.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nOptions:\n"
		   "  -h, --help     this help\n"
		   "  -V, --version  the version\n"
		   "\nheapsnap COMMAND --help shows a command's options.\n");
	return f == stderr ? HS_CLI_EXIT_USAGE : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		hs_cli_error(false, "no command given");
		return usage(stderr);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("heapsnap %s\n", HEAPSNAP_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	hs_cli_error(false, "unknown %s '%s' (see heapsnap --help)",
		     argv[1][0] == '-' ? "option" : "command", argv[1]);
	return HS_CLI_EXIT_USAGE;
}
