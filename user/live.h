/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* top -p PID: the live view of running processes. */
#ifndef HEAPSNAP_LIVE_H
#define HEAPSNAP_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

struct hs_live_opts {
	const struct hs_query *query; /* key, cumulative and filters */
	const uint32_t *pids;
	size_t npids;
	double delay; /* seconds between refreshes */
	size_t limit; /* rows; 0: as many as the terminal has room for */
	const char *output; /* what the s key writes, numbered; NULL: default */
	bool json; /* one JSON object per refresh */
};

/* Runs until q, SIGINT or SIGTERM, or the targets exit; the exit status. */
int hs_live_top(const struct hs_live_opts *o);

#endif
