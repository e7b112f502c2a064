// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The analysis commands: top, diff, info and lookup. Each one reads snapshot
 * files, runs the pure stats stage and renders.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_hint.h"
#include "cmd_analyze.h"
#include "render.h"
#include "stats.h"

enum { OPT_PLOT = HS_CLI_OWN };

const struct hs_cli_command hs_top_command = {
	.usage =
		"Usage: heapsnap top FILE [--by KEY] [--cumulative] [-n N] [filters] [--json]\n"
		"       heapsnap top -p PID[,PID...] [-d SECONDS] [-o FILE] [--by KEY] [filters]\n"
		"\n"
		"The live memory of snapshot FILE grouped by KEY, biggest first\n"
		"(tracemalloc's Snapshot.statistics()). With -p, traces running processes\n"
		"and shows their top sites live, refreshed like top(1); keys: q quit,\n"
		"s write a snapshot (FILE.1, FILE.2, ...), c toggle cumulative, k next key,\n"
		"r reset the peak. With --json, one JSON object per refresh.\n\n",
	.options =
		(const struct hs_cli_option[]){
			{ .key = HS_CLI_SHARED,
			  .groups = HS_CLI_LIVE | HS_CLI_VIEW | HS_CLI_FILTERS |
				    HS_CLI_PROCESSES },
			{ "json", HS_CLI_JSON, NULL, "JSON output" },
			{},
		},
	.operands = { 1, 1, "1 argument" },
};

static const struct hs_cli_command diff_command = {
	.usage =
		"Usage: heapsnap diff OLD NEW [--by KEY] [--cumulative] [-n N] [filters] [--json]\n"
		"\n"
		"What changed from snapshot OLD to snapshot NEW, grouped by KEY, biggest\n"
		"change first (tracemalloc's Snapshot.compare_to()).\n\n",
	.options =
		(const struct hs_cli_option[]){
			{ .key = HS_CLI_SHARED,
			  .groups = HS_CLI_VIEW | HS_CLI_FILTERS |
				    HS_CLI_PROCESSES },
			{ "json", HS_CLI_JSON, NULL, "JSON output" },
			{ .key = HS_CLI_REFUSED, .groups = HS_CLI_LIVE },
			{},
		},
	.operands = { 2, 2, "2 arguments" },
};

static int apply_info_option(void *plot, int key, char *arg, bool json)
{
	(void)key;
	(void)arg;
	(void)json;
	*(bool *)plot = true;
	return 0;
}

const struct hs_cli_command hs_info_command = {
	.usage =
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
		"readable, or missing with numbered snapshots on disk.\n\n",
	.options =
		(const struct hs_cli_option[]){
			{ "plot", OPT_PLOT, NULL,
			  "chart the recording's snapshots" },
			{ "json", HS_CLI_JSON, NULL,
			  "JSON output (with --plot: the series)" },
			{},
		},
	.operands = { 1, 1, "1 argument" },
	.apply = apply_info_option,
};

static const struct hs_cli_command lookup_command = {
	.usage =
		"Usage: heapsnap lookup FILE ADDRESS [--json]\n"
		"\n"
		"The traceback of the live block of snapshot FILE that contains ADDRESS\n"
		"(hex); exits 1 when no block does.\n\n",
	.options =
		(const struct hs_cli_option[]){
			{ "json", HS_CLI_JSON, NULL, "JSON output" },
			{},
		},
	.operands = { 2, 2, "2 arguments" },
};

static const char *snapshot_role(bool diff, int i)
{
	if (!diff)
		return "this snapshot";
	return i ? "the new snapshot" : "the old snapshot";
}

static int show_stats(const struct hs_cli_args *a, bool diff)
{
	struct hs_render_opts r = { .json = a->json,
				    .limit = a->limit,
				    .source = a->source };
	struct hs_snapshot *s[2] = { NULL, NULL };
	struct hs_cli_warnings w = { .print = false };
	struct hs_stats st;
	char hint[HS_CLI_MSG_LEN];
	int i, n = diff ? 2 : 1, rc = 1, err;

	for (i = 0; i < n; i++) {
		s[i] = hs_cli_load_query(a, a->operands[i],
					 snapshot_role(diff, i), &w);
		if (!s[i])
			goto out;
	}
	r.warnings = w.list;
	r.nwarnings = w.n;
	if (diff)
		err = hs_stats_diff(s[0], s[1], &a->q, &st);
	else
		err = hs_stats_top(s[0], &a->q, &st);
	if (err) {
		hs_cli_error(a->json, "out of memory");
		goto out;
	}
	if (!st.nrows &&
	    hs_cli_empty_hint(&a->q, (const struct hs_snapshot *const *)s,
			      (size_t)n, hint, sizeof(hint)))
		r.hint = hint;
	hs_render_stats(stdout, &st, &r);
	hs_stats_free(&st);
	rc = hs_cli_finish_output(a->json);
out:
	hs_snapshot_free(s[0]);
	hs_snapshot_free(s[1]);
	return rc;
}

int hs_top(const struct hs_cli_args *a)
{
	return show_stats(a, false);
}

int hs_cmd_diff(int argc, char **argv)
{
	struct hs_cli_args a;
	int rc = hs_cli_parse(&diff_command, argc, argv, &a, NULL);

	if (rc < 0)
		rc = show_stats(&a, true);
	hs_cli_args_free(&a);
	return rc;
}

int hs_info(const struct hs_cli_args *a)
{
	struct hs_render_opts r = { .json = a->json };
	struct hs_snapshot *s =
		hs_cli_load(a->operands[0], a->json, NULL, NULL);

	if (!s)
		return 1;
	hs_render_info(stdout, s, &r);
	hs_snapshot_free(s);
	return hs_cli_finish_output(a->json);
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

static int lookup(const struct hs_cli_args *a)
{
	struct hs_render_opts r = { .json = a->json };
	struct hs_snapshot *s;
	uint64_t addr;
	int rc;

	if (parse_address(a->operands[1], &addr)) {
		hs_cli_error(a->json, "bad address '%s' (hexadecimal)",
			     a->operands[1]);
		return HS_CLI_EXIT_USAGE;
	}
	s = hs_cli_load(a->operands[0], a->json, NULL, NULL);
	if (!s)
		return 1;
	rc = hs_render_lookup(stdout, s, addr, &r);
	hs_snapshot_free(s);
	return hs_cli_finish_output(a->json) ? 1 : rc;
}

int hs_cmd_lookup(int argc, char **argv)
{
	struct hs_cli_args a;
	int rc = hs_cli_parse(&lookup_command, argc, argv, &a, NULL);

	if (rc < 0)
		rc = lookup(&a);
	hs_cli_args_free(&a);
	return rc;
}
