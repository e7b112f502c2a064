// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Command dispatch: each command is a function of its own arguments. */
#include <stdio.h>
#include <string.h>

#include "cmd_analyze.h"
#include "cmd_export.h"
#include "record.h"

#define HEAPSNAP_VERSION "0.1.0"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "record", hs_cmd_record, "trace processes and write snapshots" },
	{ "top", hs_cmd_top, "top allocation sites of a snapshot" },
	{ "diff", hs_cmd_diff, "compare two snapshots" },
	{ "info", hs_cmd_info, "metadata and totals of a snapshot" },
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
	fprintf(f, "\nheapsnap COMMAND --help shows a command's options.\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
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
	fprintf(stderr, "Error: unknown %s '%s' (see heapsnap --help)\n",
		argv[1][0] == '-' ? "option" : "command", argv[1]);
	return 2;
}
