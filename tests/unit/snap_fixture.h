/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Builds small snapshots in memory for the stats and render tests: frames
 * from strings, stacks from frame lists, traces with increasing addresses.
 */
#ifndef HEAPSNAP_SNAP_FIXTURE_H
#define HEAPSNAP_SNAP_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "stats.h"

/* func, file and module may be NULL; line 0 means unknown. */
static inline uint32_t fx_frame(struct hs_snapshot *s, const char *func,
				const char *file, uint32_t line,
				const char *module, uint64_t offset)
{
	struct hs_frame f = {
		.module = module ? hs_snapshot_add_module(s, module, NULL, 0) :
				   HS_NONE,
		.function = hs_snapshot_intern(s, func),
		.file = hs_snapshot_intern(s, file),
		.line = line,
		.offset = offset,
	};

	return hs_snapshot_add_frame(s, &f);
}

/* fx_stack(s, n, frame0, frame1, ...), most recent call first. */
static inline uint32_t fx_stack(struct hs_snapshot *s, uint32_t n, ...)
{
	uint32_t frames[64], i;
	va_list ap;

	va_start(ap, n);
	for (i = 0; i < n && i < 64; i++)
		frames[i] = va_arg(ap, uint32_t);
	va_end(ap);
	return hs_snapshot_add_stack(s, frames, n);
}

/* Adds count traces of size bytes each; returns the first one's address. */
static inline uint64_t fx_traces(struct hs_snapshot *s, uint32_t stack,
				 uint64_t count, uint64_t size, uint8_t domain)
{
	uint64_t first = 0x10000 + s->ntraces * 0x1000, i;
	struct hs_trace t = { .stack = stack,
			      .size = size,
			      .domain = domain,
			      .pid = 42,
			      .tid = 43 };

	for (i = 0; i < count; i++) {
		t.addr = 0x10000 + s->ntraces * 0x1000;
		if (hs_snapshot_add_trace(s, &t))
			abort();
	}
	return first;
}

static inline struct hs_query fx_query(enum hs_key key, bool cumulative)
{
	struct hs_query q = { .key = key,
			      .cumulative = cumulative,
			      .domain = -1 };

	return q;
}

static inline const char *fx_frame_module(const struct hs_snapshot *s,
					  const struct hs_frame *f)
{
	if (f->module >= s->nmodules)
		return NULL;
	return hs_snapshot_str(s, s->modules[f->module].path);
}

/* A frame's lineno key as text: "file:line", "module+0xOFF", "<unknown>". */
static inline void fx_loc(const struct hs_snapshot *s, uint32_t idx, char *buf,
			  size_t len)
{
	const struct hs_frame *f = &s->frames[idx];
	const char *file = hs_snapshot_str(s, f->file);
	const char *module = fx_frame_module(s, f);

	if (file)
		snprintf(buf, len, "%s:%u", file, f->line);
	else if (module)
		snprintf(buf, len, "%s+0x%llx", module,
			 (unsigned long long)f->offset);
	else
		snprintf(buf, len, "<unknown>");
}

/*
 * Row i's key as text, from its frames: what the tests expect to see for
 * each key type. Tracebacks join their frames with " < ".
 */
static inline const char *fx_label(const struct hs_stats *st, size_t i,
				   char *buf, size_t len)
{
	const struct hs_stat *row = &st->rows[i];
	const struct hs_snapshot *s = row->snap;
	const struct hs_frame *f;
	const char *name = NULL;
	size_t used = 0;
	uint32_t j;

	if (!row->nframes)
		return "<unknown>";
	f = &s->frames[row->frames[0]];
	switch (st->key) {
	case HS_KEY_FILENAME:
		name = hs_snapshot_str(s, f->file);
		if (!name)
			name = fx_frame_module(s, f);
		break;
	case HS_KEY_FUNCTION:
		name = hs_snapshot_str(s, f->function);
		break;
	case HS_KEY_MODULE:
		name = fx_frame_module(s, f);
		if (!name)
			return "<unknown>";
		break;
	case HS_KEY_TRACEBACK:
		for (j = 0; j < row->nframes && used < len; j++) {
			if (j)
				used += (size_t)snprintf(buf + used, len - used,
							 " < ");
			if (used < len)
				fx_loc(s, row->frames[j], buf + used,
				       len - used);
			used = strlen(buf);
		}
		return buf;
	default:
		break;
	}
	if (name) {
		snprintf(buf, len, "%s", name);
		return buf;
	}
	fx_loc(s, row->frames[0], buf, len);
	return buf;
}

#endif
