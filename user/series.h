/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The snapshots of one recording, in order: FILE.1, FILE.2, ... as record
 * -i and SIGUSR1 write them, then FILE itself, the final one.
 */
#ifndef HEAPSNAP_SERIES_H
#define HEAPSNAP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "snapshot.h"

struct hs_series_entry {
	char *path;
	uint32_t seq; /* N of FILE.N; 0 for FILE */
	uint64_t time_ns; /* when it was taken, ns since the Unix epoch */
	struct hs_counters totals; /* every process's counters */
	bool estimated; /* sampled: the numbers are estimates */
};

/* Snapshots first_seq..last_seq (0: FILE) were left out, and why. */
struct hs_series_skip {
	uint32_t first_seq, last_seq;
	char *reason;
};

struct hs_series {
	char *base; /* FILE */
	struct hs_series_entry *entries;
	size_t n;
	struct hs_series_skip *skipped;
	size_t nskipped, skipped_cap;
};

/*
 * Loads the recording that path names, as its base name FILE or as one of
 * its numbered snapshots (a FILE.N whose stored sequence number is N).
 * path must be readable, or, as a base name, missing with FILE.N on disk.
 * The numbered snapshots start at the lowest number on disk; one missing
 * after it, or unreadable, or older than the one before, is left out and
 * listed in skipped. Returns 0, or -1 with a one-line reason in err.
 */
int hs_series_load(const char *path, struct hs_series *out,
		   const struct hs_progress *progress, char *err,
		   size_t errlen);
void hs_series_free(struct hs_series *s);

/* The path of snapshot seq of the recording (0: the base name itself). */
void hs_series_path(const struct hs_series *s, uint32_t seq, char *buf,
		    size_t len);

#endif
