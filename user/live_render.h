/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The screen of the live top: a pure function of what it shows. */
#ifndef HEAPSNAP_LIVE_RENDER_H
#define HEAPSNAP_LIVE_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

struct hs_live_view {
	const char *target; /* "pid 1234 (server)" */
	double uptime; /* seconds since attach */
	double delay; /* seconds between refreshes */
	uint64_t current, count, peak;
	double peak_since; /* uptime of the last peak reset; < 0: none */
	double allocs_per_s, bytes_per_s, frees_per_s;
	uint64_t lost; /* blocks, stacks and events lost so far */
	bool exited;
	/* sites: a diff from the previous refresh, sorted by size */
	const struct hs_stats *st;
	size_t limit; /* rows at most; 0: as many as fit */
	const char *message; /* shown in the last line, may be NULL */
	unsigned int width, height;
	bool ansi; /* clear each line's end, highlight the column titles */
};

/* Lines the screen has around its rows. */
#define HS_LIVE_CHROME 8

void hs_live_render(FILE *out, const struct hs_live_view *v);

#endif
