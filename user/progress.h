/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * How far a long step has got. A stage reports through struct hs_progress
 * and knows nothing of terminals; hs_progress_line draws the reports as one
 * line on a terminal ("heapsnap: symbolizing 12,345/65,536 stacks (18%)").
 */
#ifndef HEAPSNAP_PROGRESS_H
#define HEAPSNAP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * done of total nouns were verbed; total 0 when it is not known, done and
 * total 0 for a step that is not counted (noun is then its object).
 */
struct hs_progress {
	void (*report)(void *ctx, const char *verb, const char *noun,
		       size_t done, size_t total);
	void *ctx;
};

/* p may be NULL: nobody is watching. */
static inline void hs_progress_report(const struct hs_progress *p,
				      const char *verb, const char *noun,
				      size_t done, size_t total)
{
	if (p && p->report)
		p->report(p->ctx, verb, noun, done, total);
}

/* Seconds a step runs before its line appears, and between redraws. */
#define HS_PROGRESS_REDRAW 0.1

struct hs_progress_line {
	FILE *out;
	bool on; /* out is a terminal */
	bool shown;
	double start, last; /* CLOCK_MONOTONIC seconds */
	char verb[32]; /* of the line drawn last */
};

/* Starts the clock; nothing is ever drawn unless on. */
void hs_progress_line_init(struct hs_progress_line *pl, FILE *out, bool on);
/* A struct hs_progress that draws on pl. */
struct hs_progress hs_progress_line_ops(struct hs_progress_line *pl);
/*
 * Draws a report made at time now, unless the step began less than
 * HS_PROGRESS_REDRAW ago, or the line was drawn less than that ago for the
 * same verb.
 */
void hs_progress_line_update(struct hs_progress_line *pl, double now,
			     const char *verb, const char *noun, size_t done,
			     size_t total);
/* Erases the line, if one was drawn. */
void hs_progress_line_clear(struct hs_progress_line *pl);

/* "symbolizing 12,345/65,536 stacks (18%)", "reading 1,024 blocks". */
void hs_progress_format(char *buf, size_t len, const char *verb,
			const char *noun, size_t done, size_t total);

#endif
