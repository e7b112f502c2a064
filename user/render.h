/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Text and JSON output of statistics, snapshot info and lookups. */
#ifndef HEAPSNAP_RENDER_H
#define HEAPSNAP_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"
#include "stats.h"

struct hs_render_opts {
	bool json;
	size_t limit; /* rows to show; 0 = all */
	bool source; /* print the source line under lineno rows */
	const char *const
		*warnings; /* shown first: text lines or a JSON array */
	size_t nwarnings;
	const char *hint; /* why nothing was kept, shown last; or NULL */
};

/* tracemalloc's _format_size(): "4096 B", "12.5 KiB", "+4.0 KiB" with sign. */
void hs_format_size(char *buf, size_t len, double size, bool sign);
/* "12.5 KiB (12800 B)", or "4096 B" when that is already exact. */
void hs_format_bytes(char *buf, size_t len, uint64_t bytes);
/* one when n is 1, else many. */
const char *hs_plural(uint64_t n, const char *one, const char *many);

/*
 * Describes what the snapshot's loss counters say was lost ("3 blocks not
 * recorded (map full), ...") in buf; false when nothing was lost.
 */
bool hs_loss_summary(const struct hs_snapshot *s, char *buf, size_t len);
/*
 * Says in buf how many frees were of blocks allocated before tracing began
 * (after an attach: expected, no loss); false when there were none.
 */
bool hs_early_frees_note(const struct hs_snapshot *s, char *buf, size_t len);

/*
 * What a row is called, on one line: "file:line", "function (file:line)",
 * "pid N (command)"; a traceback row by its most recent frame.
 */
void hs_render_label(FILE *out, enum hs_key key, const struct hs_stat *row);

struct json_object;
/* top or diff as the JSON object that --json prints; json_object_put() it. */
struct json_object *hs_stats_json(const struct hs_stats *st,
				  const struct hs_render_opts *o);

void hs_render_stats(FILE *out, const struct hs_stats *st,
		     const struct hs_render_opts *o);
void hs_render_info(FILE *out, const struct hs_snapshot *s,
		    const struct hs_render_opts *o);
/* Returns 0 when a live block contains addr, 1 when none does. */
int hs_render_lookup(FILE *out, const struct hs_snapshot *s, uint64_t addr,
		     const struct hs_render_opts *o);

#endif
