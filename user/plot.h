/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A terminal chart of traced memory over a recording's snapshots: a pure
 * function from points to lines of text.
 */
#ifndef HEAPSNAP_PLOT_H
#define HEAPSNAP_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_plot_point {
	double time; /* seconds since the first snapshot */
	uint64_t current;
	/* the most traced at once since the snapshot before, >= current */
	uint64_t interval_peak;
};

struct hs_plot_opts {
	unsigned int width; /* columns of the whole chart, labels included */
	unsigned int height; /* rows above the time axis */
	bool unicode; /* block and braille characters, else ASCII */
};

/* The plot area is never narrower than this, whatever the width. */
#define HS_PLOT_MIN_COLUMNS 8

struct hs_plot {
	char **lines; /* without newlines */
	size_t nlines, lines_cap;
};

/*
 * Draws pts (in time order, n >= 1): current as a filled area, each
 * interval's peak as a mark over the time it covers, and peak (the most
 * traced since tracing began) in the legend; the y axis runs from 0 to the
 * largest value. The lines are the chart's rows, the time axis with a tick
 * at each snapshot, its labels, the legend and a summary. Returns 0, or -1
 * when memory ran out.
 */
int hs_plot_draw(const struct hs_plot_point *pts, size_t n, uint64_t peak,
		 const struct hs_plot_opts *o, struct hs_plot *out);
void hs_plot_free(struct hs_plot *p);

/* "0 s", "12.5 s", "3.2 min", "1.5 h" */
void hs_plot_format_time(char *buf, size_t len, double seconds);

#endif
