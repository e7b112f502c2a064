/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The aggregation stage, between the snapshot and every analysis (top and
 * diff, exports, flame graphs): which traces a query selects, what they
 * weigh per stack (scaled for sampling), their frames and the names of
 * those frames. Pure functions of a snapshot.
 */
#ifndef HEAPSNAP_AGGREGATE_H
#define HEAPSNAP_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"
#include "snapshot.h"

/* ---- selection ---- */

/*
 * Parses "GLOB" or "GLOB:LINE" into f: pattern points into arg and
 * pattern_len excludes ":LINE". Returns -1 for an empty GLOB.
 */
int hs_filter_parse(const char *arg, bool inclusive, struct hs_filter *f);

/* Does trace t pass the query's filters (domain included)? */
bool hs_trace_selected(const struct hs_snapshot *s, const struct hs_trace *t,
		       const struct hs_query *q);

/* ---- sums ---- */

/* What selected traces weigh: bytes and blocks, scaled for sampling. */
struct hs_sum {
	uint64_t bytes;
	uint64_t count;
	bool estimate; /* some of it is estimated (pymalloc's pools) */
};

/*
 * Sums of the selected traces per slot. A sampled snapshot's trace stands
 * for hs_trace_scale() blocks; its sums are kept exact and rounded once per
 * slot, and once for the total (which is thus not always the sum of the
 * slots). Unsampled sums stay integers, exact past 2^53.
 */
struct hs_sums {
	struct hs_sum *slots;
	size_t nslots;
	struct hs_sum total;
};

/* The slot of trace t; SIZE_MAX when memory ran out. */
typedef size_t (*hs_slot_fn)(const struct hs_trace *t, void *arg);

/*
 * Sums the traces of s that q selects into the slots slot_of() names;
 * nslots is one past the highest slot named. Returns -1 when memory ran
 * out.
 */
int hs_sums_by(const struct hs_snapshot *s, const struct hs_query *q,
	       hs_slot_fn slot_of, void *arg, struct hs_sums *out);

/*
 * hs_sums_by() per stack: s->nstacks + 1 slots, the last for the traces
 * whose stack index is out of range.
 */
int hs_stack_sums(const struct hs_snapshot *s, const struct hs_query *q,
		  struct hs_sums *out);
void hs_sums_free(struct hs_sums *sums);

/* ---- frames and names ---- */

/* Stack idx; NULL when it, or the frames it refers to, are out of range. */
const struct hs_stack *hs_stack_at(const struct hs_snapshot *s, size_t idx);

/*
 * The frames of stack slot i, most recent call first; none (NULL, *n = 0)
 * for the slot of traces without a stack, and for a stack that refers to
 * frames the snapshot does not have.
 */
const uint32_t *hs_stack_frames(const struct hs_snapshot *s, size_t i,
				uint32_t *n);

/* A frame as text: each field NULL or 0 when unknown. */
struct hs_frame_view {
	const char *function;
	const char *file;
	const char *module; /* its path */
	uint32_t line; /* 0 also when the file is unknown */
	uint64_t offset;
	bool inlined;
	bool python; /* a Python frame: no offset */
};

/* Frame idx of s (s may be NULL); all unknown when idx is out of range. */
void hs_frame_view(const struct hs_snapshot *s, uint32_t idx,
		   struct hs_frame_view *v);

/* What follows the last '/' of path. */
const char *hs_base_name(const char *path);

/*
 * The name flame graphs and folded stacks give frame idx: its function,
 * else "file:line", else "module+0xOFF" (module's base name), else
 * "<unknown>".
 */
void hs_frame_name(const struct hs_snapshot *s, uint32_t idx, char *buf,
		   size_t len);

/* The process pid of s; NULL when s has none. */
const struct hs_proc *hs_proc_of(const struct hs_snapshot *s, uint32_t pid);

#endif
