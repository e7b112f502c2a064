/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The analysis commands: top, diff, info, lookup. Each takes the command's
 * own argv (argv[0] is the command name) and returns the exit status:
 * 0 success, 1 error (or no block found by lookup), 2 usage error.
 */
#ifndef HEAPSNAP_CMD_ANALYZE_H
#define HEAPSNAP_CMD_ANALYZE_H

int hs_cmd_top(int argc, char **argv);
int hs_cmd_diff(int argc, char **argv);
int hs_cmd_info(int argc, char **argv);
int hs_cmd_lookup(int argc, char **argv);

#endif
