/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The analysis commands: top, diff, info, lookup. Each takes the command's
 * own argv (argv[0] is the command name) and returns the exit status:
 * 0 success, 1 error (or no block found by lookup), 2 usage error.
 */
#ifndef HEAPSNAP_CMD_ANALYZE_H
#define HEAPSNAP_CMD_ANALYZE_H

#include <stdbool.h>

int hs_cmd_top(int argc, char **argv);
int hs_cmd_diff(int argc, char **argv);
int hs_cmd_info(int argc, char **argv);
int hs_cmd_lookup(int argc, char **argv);

/* Shared by the commands that read snapshots (see cmd_export.c). */

/* "Error: ..." on stderr, or {"error": ...} on stdout in JSON mode. */
void hs_report_error(bool json, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Is --json among the options (so errors while parsing are JSON too)? */
bool hs_wants_json(int argc, char **argv);
/* A domain's name or "all" (-1); -1 for anything else. */
int hs_parse_domain(const char *arg, int *domain);
/* Reports getopt_long's '?' or ':' for the option at argv[optind - 1]. */
void hs_report_getopt_error(bool json, int opt, char **argv);
/* Flushes stdout; 1 after reporting a write error, else 0. */
int hs_finish_output(bool json);

#endif
