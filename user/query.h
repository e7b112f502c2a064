/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What an analysis of snapshots asks for: the key rows are grouped by, and
 * the filters that select traces (tracemalloc's Filter and DomainFilter).
 */
#ifndef HEAPSNAP_QUERY_H
#define HEAPSNAP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hs_key {
	HS_KEY_LINENO = 0,
	HS_KEY_FILENAME,
	HS_KEY_FUNCTION,
	HS_KEY_MODULE,
	HS_KEY_TRACEBACK,
	HS_KEY_PROCESS, /* one row per process (pid and command) */
};

struct hs_filter {
	bool inclusive;
	const char *
		pattern; /* fnmatch() pattern on the file name (or module path) */
	size_t pattern_len; /* bytes of pattern to use; 0: all of it */
	int64_t line; /* -1: any line */
};

struct hs_query {
	enum hs_key key;
	bool cumulative;
	const struct hs_filter *filters;
	size_t nfilters;
	bool all_frames;
	bool python_only; /* tracebacks of Python frames alone */
	int domain; /* -1: every domain */
	const uint32_t *pids; /* keep these processes only, when npids */
	size_t npids;
	const char *const *comms; /* fnmatch() patterns on the command name */
	size_t ncomms;
};

#endif
