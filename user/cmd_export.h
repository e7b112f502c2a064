/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The commands that hand snapshots to other tools: export (pprof, folded
 * stacks) and flamegraph. Same argv and exit status conventions as the
 * analysis commands.
 */
#ifndef HEAPSNAP_CMD_EXPORT_H
#define HEAPSNAP_CMD_EXPORT_H

int hs_cmd_export(int argc, char **argv);
int hs_cmd_flamegraph(int argc, char **argv);

#endif
