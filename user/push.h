/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Sends snapshots as pprof profiles to a Pyroscope-compatible backend's
 * /ingest endpoint (libcurl). A push that fails is warned about and
 * counted; it never stops the caller for longer than a short timeout.
 */
#ifndef HEAPSNAP_PUSH_H
#define HEAPSNAP_PUSH_H

#include <stddef.h>

#include "snapshot.h"

/* Bounds of one push, in milliseconds. */
#define HS_PUSH_CONNECT_TIMEOUT_MS 2000
#define HS_PUSH_TIMEOUT_MS 5000

struct hs_push;

/*
 * A client for URL/ingest (URL: http or https, with an optional path
 * prefix and user:password@) filing profiles as name, from
 * hs_push_name(). Returns 0, -EINVAL for a malformed URL or -ENOMEM, with
 * a one-line reason in err.
 */
int hs_push_new(struct hs_push **out, const char *url, const char *name,
		char *err, size_t errlen);

/*
 * Posts s, written to path, covering the time since the previous
 * snapshot (or since hs_push_new). A failure is one warning on stderr naming path and
 * the reason. Returns 0 or -1.
 */
int hs_push_snapshot(struct hs_push *p, const struct hs_snapshot *s,
		     const char *path);

/* Says how many pushes were made and how many failed. */
void hs_push_report(const struct hs_push *p);
void hs_push_free(struct hs_push *p);

#endif
