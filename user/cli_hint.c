// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The hint of a query that kept nothing: each kind of filter is tried
 * alone, processes first, then the frames, then the domain, and the first
 * that keeps nothing by itself is named.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "cli_hint.h"

#define LISTED 4 /* processes named in a hint */
#define MAX_INCLUDES 64 /* those tried alone */

/* Does q keep any trace of the snapshots? */
static bool keeps(const struct hs_query *q, const struct hs_snapshot *const *s,
		  size_t n)
{
	struct hs_sums sums;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++) {
		if (hs_stack_sums(s[i], q, &sums))
			return true; /* out of memory: no hint */
		any = sums.total.count > 0;
		hs_sums_free(&sums);
	}
	return any;
}

/* Appends to buf, as far as it goes. */
static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (w > 0)
		*used += (size_t)w;
}

/* "no process matched --pid 12 --comm 'x*' (the snapshot has: ...)" */
static void process_hint(const struct hs_query *q, const struct hs_snapshot *s,
			 char *buf, size_t len)
{
	size_t used = 0, i;

	add(buf, len, &used, "no process matched");
	for (i = 0; i < q->npids; i++)
		add(buf, len, &used, "%s%" PRIu32, i ? "," : " --pid ",
		    q->pids[i]);
	for (i = 0; i < q->ncomms; i++)
		add(buf, len, &used, " --comm '%s'", q->comms[i]);
	for (i = 0; i < s->nprocs && i < LISTED; i++) {
		const char *cmd = hs_snapshot_str(s, s->procs[i].command);

		add(buf, len, &used, "%s%" PRIu32 " (%s)",
		    i ? ", " : "; the snapshot has pid ", s->procs[i].pid,
		    hs_base_name(cmd ? cmd : "?"));
	}
	if (s->nprocs > LISTED)
		add(buf, len, &used, " and %zu more", s->nprocs - LISTED);
}

/* The include filters alone keep nothing: with every frame, or frame 0. */
static bool frame_hint(const struct hs_query *q,
		       const struct hs_snapshot *const *s, size_t n, char *buf,
		       size_t len)
{
	struct hs_query only = { .key = q->key, .domain = -1 };
	struct hs_filter inc[MAX_INCLUDES];
	const char *p;

	for (size_t i = 0; i < q->nfilters; i++)
		if (q->filters[i].inclusive && only.nfilters < MAX_INCLUDES)
			inc[only.nfilters++] = q->filters[i];
	if (!only.nfilters)
		return false;
	only.filters = inc;
	only.all_frames = true;
	if (keeps(&only, s, n)) {
		only.all_frames = q->all_frames;
		if (keeps(&only, s, n))
			return false;
		snprintf(buf, len,
			 "no most recent frame matched --include: "
			 "--all-frames tests every frame");
		return true;
	}
	p = inc[0].pattern;
	if (*p == '*' || *p == '/')
		snprintf(buf, len, "no frame matched --include '%s'", p);
	else
		snprintf(buf, len,
			 "no frame matched --include '%s'; patterns match the "
			 "whole path: '%s%s'?",
			 p, strchr(p, '/') ? "*" : "*/", p);
	return true;
}

bool hs_cli_empty_hint(const struct hs_query *q,
		       const struct hs_snapshot *const *s, size_t n, char *buf,
		       size_t len)
{
	struct hs_query only = { .key = q->key, .domain = -1 };
	size_t traces = 0;

	for (size_t i = 0; i < n; i++)
		traces += s[i]->ntraces;
	if (!len || !traces || keeps(q, s, n))
		return false;
	if (q->npids || q->ncomms) {
		only.pids = q->pids;
		only.npids = q->npids;
		only.comms = q->comms;
		only.ncomms = q->ncomms;
		if (!keeps(&only, s, n)) {
			process_hint(q, s[n - 1], buf, len);
			return true;
		}
	}
	if (q->nfilters && frame_hint(q, s, n, buf, len))
		return true;
	if (q->domain >= 0) {
		memset(&only, 0, sizeof(only));
		only.domain = q->domain;
		if (!keeps(&only, s, n)) {
			snprintf(buf, len, "no trace is of the %s domain",
				 hs_domain_name((unsigned int)q->domain));
			return true;
		}
	}
	return false;
}
