/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Flame graphs of live memory, by bytes: one snapshot, or the change from
 * an old snapshot to a new one. A self-contained SVG (or an HTML page around
 * it) with a small script: hover for details, click to zoom, search.
 */
#ifndef HEAPSNAP_FLAMEGRAPH_H
#define HEAPSNAP_FLAMEGRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "query.h"
#include "snapshot.h"

struct hs_flame;

struct hs_flame_opts {
	const char *title; /* NULL: one made from the snapshots */
	unsigned int width; /* pixels; 0: 1200 */
	bool html; /* an HTML page with a search box around the SVG */
};

struct hs_flame_summary {
	size_t nodes; /* frames in the tree, the root included */
	size_t drawn; /* frames wide enough to be drawn */
	unsigned int depth; /* deepest frame; the root is 0 */
	uint64_t bytes[2]; /* old (0 for one snapshot) and new totals */
	uint64_t count[2];
};

/*
 * The tree of the traces of new (and old, for a diff; NULL otherwise) that
 * pass q's filters, frames outermost first. Frames are merged by function,
 * file and line, so snapshots of two runs compare. NULL when memory ran out.
 */
struct hs_flame *hs_flame_build(const struct hs_snapshot *old,
				const struct hs_snapshot *new,
				const struct hs_query *q);
void hs_flame_free(struct hs_flame *f);

/* Writes the SVG (or the HTML page). */
void hs_flame_render(FILE *out, const struct hs_flame *f,
		     const struct hs_flame_opts *o,
		     struct hs_flame_summary *sum);

#endif
