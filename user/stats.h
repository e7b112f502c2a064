/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Grouping, cumulative counting and diff: tracemalloc's
 * Snapshot.statistics() and compare_to(), over the traces the aggregation
 * stage selects (filter_traces()). Pure functions of snapshots.
 */
#ifndef HEAPSNAP_STATS_H
#define HEAPSNAP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"
#include "query.h"
#include "snapshot.h"

/* "lineno" -> HS_KEY_LINENO; -1 for an unknown name. */
int hs_key_parse(const char *name);
const char *hs_key_name(enum hs_key key);

struct hs_stat {
	uint64_t size;
	uint64_t count;
	bool estimate; /* some of it is estimated (pymalloc's pools) */
	int64_t size_diff;
	int64_t count_diff;
	uint32_t pid; /* process key: the process */
	const char *command; /* process key: its command line, or NULL */
	const struct hs_proc *proc; /* process key: its entry, or NULL */
	/* The key's frames, as frame indices into snap. */
	const struct hs_snapshot *snap;
	const uint32_t *frames;
	uint32_t nframes;
};

struct hs_stats {
	enum hs_key key;
	bool cumulative;
	bool is_diff;
	uint64_t sample_bytes; /* nonzero: every number is an estimate */
	struct hs_stat *rows; /* sorted */
	size_t nrows;
	uint64_t total_size; /* of the traces kept by the filters */
	uint64_t total_count;
	int64_t total_size_diff;
	int64_t total_count_diff;
	void *priv;
};

int hs_stats_top(const struct hs_snapshot *s, const struct hs_query *q,
		 struct hs_stats *out);
int hs_stats_diff(const struct hs_snapshot *old, const struct hs_snapshot *new,
		  const struct hs_query *q, struct hs_stats *out);
/* Reorders rows as top does: by size, then count, then |size_diff|. */
void hs_stats_sort_by_size(struct hs_stats *st);
void hs_stats_free(struct hs_stats *st);

#endif
