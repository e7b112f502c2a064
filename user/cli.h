/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What every command shares, below all of them: errors ("Error: ..." on
 * stderr, or {"error": ...} on stdout in JSON mode), the option parser and
 * --help driven by a per-command description, one table of the options
 * several commands take (the filters among them), the small parsers, and
 * loading a snapshot with its loss warning.
 *
 * Exit statuses: 0 success, 1 error, 2 usage error.
 */
#ifndef HEAPSNAP_CLI_H
#define HEAPSNAP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "stats.h"

#define HS_CLI_EXIT_USAGE 2
#define HS_CLI_MSG_LEN 1024

/* "Error: ..." on stderr, or {"error": ...} on stdout in JSON mode. */
void hs_cli_error(bool json, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct json_object;
/* Prints o on one line of stdout and puts it. */
void hs_cli_print_json(struct json_object *o);
/* Flushes stdout; 1 after reporting a write error, else 0. */
int hs_cli_finish_output(bool json);

/*
 * Appends the pids of "PID[,PID...]" to pids[*n], which has room for max.
 * Returns 0; -1 when a PID is not a number from 1 to INT_MAX (*bad: where
 * it starts); -2 when there are more than max.
 */
int hs_cli_parse_pids(const char *arg, uint32_t *pids, size_t max, size_t *n,
		      const char **bad);
/* A decimal number from min to max, digits only: 0, or -1. */
int hs_cli_parse_count(const char *arg, uint64_t min, uint64_t max,
		       uint64_t *out);
/* A number of seconds above 0: 0, or -1. */
int hs_cli_parse_seconds(const char *arg, double *out);

/* A value known by name; a list of them ends with { NULL }. */
struct hs_cli_choice {
	const char *name;
	int value;
};
/* The value of the choice named arg: 0, or -1 when none is. */
int hs_cli_parse_choice(const char *arg, const struct hs_cli_choice *choices,
			int *out);

/*
 * An option as a command describes it: its getopt entry and its --help
 * line. A key below 256 is also the short option (-key); a command's own
 * other keys start at HS_CLI_OWN.
 */
struct hs_cli_option {
	const char *name; /* --name; NULL: -key only */
	int key;
	const char *arg; /* what --help calls the value; NULL: a flag */
	const char *doc; /* lines after the first are indented; NULL: hidden */
	/* the groups an HS_CLI_SHARED or HS_CLI_REFUSED entry stands for; in
	 * the shared table, the entry's own */
	unsigned int groups;
};

enum {
	HS_CLI_OWN = 256,
	HS_CLI_JSON = 0x1000, /* --json: JSON mode, described by each command */
	HS_CLI_SHARED, /* stands for groups of the shared table */
	HS_CLI_REFUSED, /* groups known only to say whose options they are */
	HS_CLI_DOC, /* a --help line only; name is its left column */
};

/* The groups of the shared table (cli.c); --help lists them in this order. */
enum {
	HS_CLI_LIVE = 1 << 0, /* -p, -d, -o: top's live view */
	HS_CLI_VIEW = 1 << 1, /* --by, --cumulative, -n, --no-source */
	/* --include, --exclude, --all-frames, --domain */
	HS_CLI_FILTERS = 1 << 2,
	HS_CLI_PROCESSES = 1 << 3, /* --pid, --comm */
};

/* A command: what its --help says, which options and operands it takes. */
struct hs_cli_command {
	/* the synopsis and description, before the options */
	const char *usage;
	const struct hs_cli_option *options; /* in --help order; ends with {} */
	const char *epilog; /* after the options, or NULL */
	struct {
		int min;
		int max; /* -1: any number */
		/* for errors: "1 argument", "one snapshot file" */
		const char *what;
	} operands;
	bool in_order; /* the first operand ends the options (record CMD) */
	/* Applies one of the command's own options: 0, or -1 after reporting. */
	int (*apply)(void *ctx, int key, char *arg, bool json);
};

/* What the parser found: JSON mode, the shared options and the operands. */
struct hs_cli_args {
	bool json;
	struct hs_query q; /* --by, --cumulative and the filters */
	size_t limit; /* -n: rows; 10 unless limit_given */
	bool limit_given;
	bool source; /* no --no-source */
	uint32_t *live_pids; /* -p: the live view of these processes */
	size_t nlive;
	double delay; /* -d; 0: not given */
	const char *output; /* -o */
	char **operands;
	int noperands;
	/* what q points into */
	struct hs_filter *filters;
	uint32_t *pids;
	const char **comms;
};

/*
 * Parses a command's argv (argv[0] is its name) into a, passing the
 * command's own options to cmd->apply with ctx. Returns -1 to go on, or the
 * exit status when the command is over: 0 after --help, 1 out of memory, 2
 * after reporting a usage error. hs_cli_args_free() a either way.
 */
int hs_cli_parse(const struct hs_cli_command *cmd, int argc, char **argv,
		 struct hs_cli_args *a, void *ctx);
void hs_cli_args_free(struct hs_cli_args *a);

/* Loss warnings, "WHO lost data: ...", of the snapshots a command loads. */
#define HS_CLI_MAX_SNAPSHOTS 2
struct hs_cli_warnings {
	bool print; /* "warning: ..." on stderr at once, instead of kept */
	char text[HS_CLI_MAX_SNAPSHOTS][HS_CLI_MSG_LEN];
	const char *list[HS_CLI_MAX_SNAPSHOTS];
	size_t n;
};

/*
 * Reads the snapshot at path; NULL after reporting why. When it lost data
 * and w is not NULL, the warning names it who.
 */
struct hs_snapshot *hs_cli_load(const char *path, bool json, const char *who,
				struct hs_cli_warnings *w);
/*
 * hs_cli_load() for an analysis: a->json, and what a->q asks of the
 * snapshot itself (--python-frames-only).
 */
struct hs_snapshot *hs_cli_load_query(const struct hs_cli_args *a,
				      const char *path, const char *who,
				      struct hs_cli_warnings *w);
/* The warnings kept, as a new JSON array. */
struct json_object *hs_cli_warnings_json(const struct hs_cli_warnings *w);

#endif
