/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* info --plot: traced memory over the snapshots of one recording. */
#ifndef HEAPSNAP_CMD_PLOT_H
#define HEAPSNAP_CMD_PLOT_H

#include <stdbool.h>

/* Prints the chart, or the series as JSON; returns the exit status. */
int hs_info_plot(const char *path, bool json);

#endif
