/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Grouping, cumulative counting, filters and diff: tracemalloc's
 * Snapshot.statistics(), compare_to() and filter_traces(). Pure functions of
 * snapshots.
 */
#ifndef HEAPSNAP_STATS_H
#define HEAPSNAP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

enum hs_key {
	HS_KEY_LINENO = 0,
	HS_KEY_FILENAME,
	HS_KEY_FUNCTION,
	HS_KEY_MODULE,
	HS_KEY_TRACEBACK,
	HS_KEY_PROCESS, /* one row per process (pid and command) */
};

/* "lineno" -> HS_KEY_LINENO; -1 for an unknown name. */
int hs_key_parse(const char *name);
const char *hs_key_name(enum hs_key key);

struct hs_filter {
	bool inclusive;
	const char *pattern; /* fnmatch() pattern on the file name (or module path) */
	size_t pattern_len; /* bytes of pattern to use; 0: all of it */
	int64_t line; /* -1: any line */
};

struct hs_query {
	enum hs_key key;
	bool cumulative;
	const struct hs_filter *filters;
	size_t nfilters;
	bool all_frames;
	int domain; /* -1: every domain */
	const uint32_t *pids; /* keep these processes only, when npids */
	size_t npids;
	const char *const *comms; /* fnmatch() patterns on the command name */
	size_t ncomms;
};

/*
 * Parses "GLOB" or "GLOB:LINE" into f: pattern points into arg and
 * pattern_len excludes ":LINE". Returns -1 for an empty GLOB.
 */
int hs_filter_parse(const char *arg, bool inclusive, struct hs_filter *f);

struct hs_stat {
	uint64_t size;
	uint64_t count;
	int64_t size_diff;
	int64_t count_diff;
	uint32_t pid; /* process key: the process */
	const char *command; /* process key: its command line, or NULL */
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

/* Does trace t pass the query's filters (domain included)? */
bool hs_trace_selected(const struct hs_snapshot *s, const struct hs_trace *t,
		       const struct hs_query *q);

#endif
