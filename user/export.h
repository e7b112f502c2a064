/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Exports of a snapshot's live memory for other tools: the pprof profile
 * (gzipped protobuf, for `go tool pprof`) and folded stacks (flamegraph.pl,
 * speedscope). Pure functions of a snapshot and a query's filters.
 */
#ifndef HEAPSNAP_EXPORT_H
#define HEAPSNAP_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aggregate.h"
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

/* ---- pprof ---- */

struct hs_pprof_summary {
	size_t samples;
	size_t locations;
	size_t functions;
	size_t mappings;
	uint64_t inuse_space;
	uint64_t inuse_objects;
	size_t compressed_bytes;
};

/*
 * The selected traces as a pprof Profile, serialized and gzipped, in *buf
 * (malloc'd, *len bytes). Sample types inuse_objects/count,
 * inuse_space/bytes, alloc_objects/count, alloc_space/bytes; the default is
 * inuse_space. Snapshots keep no per-stack allocation totals, so alloc_*
 * repeat the live values: a lower bound of what each stack allocated.
 * Returns -1 when memory ran out.
 */
int hs_pprof_encode(const struct hs_snapshot *s, const struct hs_query *q,
		    void **buf, size_t *len, struct hs_pprof_summary *sum);

#endif
