/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Exports of a snapshot's live memory for other tools: folded stacks
 * (flamegraph.pl, speedscope) here, and the pprof profile (pprof.h). Pure
 * functions of a snapshot and a query's filters.
 */
#ifndef HEAPSNAP_EXPORT_H
#define HEAPSNAP_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aggregate.h"
#include "pprof.h"
#include "snapshot.h"

struct hs_folded_line {
	char *stack; /* "root;...;leaf", function names outermost first */
	uint64_t bytes;
	uint64_t count;
};

struct hs_folded {
	struct hs_folded_line *lines; /* sorted by stack */
	size_t nlines;
	uint64_t total_bytes;
	uint64_t total_count;
};

/*
 * One line per distinct stack of the selected traces; stacks whose names
 * are equal are merged. Returns -1 when memory ran out.
 */
int hs_folded_build(const struct hs_snapshot *s, const struct hs_query *q,
		    struct hs_folded *out);
/* "root;...;leaf bytes\n" per line. */
void hs_folded_write(FILE *out, const struct hs_folded *f);
void hs_folded_free(struct hs_folded *f);

#endif
