/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The analysis commands: top, diff, info, lookup. A hs_cmd_* function takes
 * the command's own argv (argv[0] is the command name) and returns the exit
 * status: 0 success, 1 error (or no block found by lookup), 2 usage error.
 * main.c parses top and info itself, for each has a second view in a file
 * of its own: top -p (live.h) and info --plot (cmd_plot.h).
 */
#ifndef HEAPSNAP_CMD_ANALYZE_H
#define HEAPSNAP_CMD_ANALYZE_H

#include "cli.h"

/* top FILE, and top -p PID (the live view) */
extern const struct hs_cli_command hs_top_command;
int hs_top(const struct hs_cli_args *a);

int hs_cmd_diff(int argc, char **argv);

/* info FILE, and info FILE --plot; its ctx is a bool that --plot sets */
extern const struct hs_cli_command hs_info_command;
int hs_info(const struct hs_cli_args *a);

int hs_cmd_lookup(int argc, char **argv);

#endif
