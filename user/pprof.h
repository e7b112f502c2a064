/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A snapshot's live memory as a pprof profile (gzipped protobuf, for
 * `go tool pprof`). A pure function of a snapshot and a query's filters.
 */
#ifndef HEAPSNAP_PPROF_H
#define HEAPSNAP_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"
#include "snapshot.h"

struct hs_pprof_summary {
	size_t samples;
	size_t locations;
	size_t functions;
	size_t mappings;
	uint64_t inuse_space;
	uint64_t inuse_objects;
	size_t compressed_bytes;
};

/*
 * The selected traces as a pprof Profile, serialized and gzipped, in *buf
 * (malloc'd, *len bytes). Sample types inuse_objects/count,
 * inuse_space/bytes, alloc_objects/count, alloc_space/bytes; the default is
 * inuse_space. Snapshots keep no per-stack allocation totals, so alloc_*
 * repeat the live values: a lower bound of what each stack allocated.
 * Returns -1 when memory ran out.
 */
int hs_pprof_encode(const struct hs_snapshot *s, const struct hs_query *q,
		    void **buf, size_t *len, struct hs_pprof_summary *sum);

#endif
