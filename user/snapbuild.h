/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Turns collected raw traces into a symbolized snapshot: each return
 * address goes through the process's mappings to a module file, and through
 * the symbolizer to frames.
 */
#ifndef HEAPSNAP_SNAPBUILD_H
#define HEAPSNAP_SNAPBUILD_H

#include <stddef.h>

#include "collect.h"
#include "procmaps.h"
#include "progress.h"
#include "snapshot.h"
#include "symbolize.h"

struct hs_snapbuild;

/*
 * skip: fnmatch() patterns of functions that wrap the allocator; such frames
 * are dropped from the top of every traceback.
 */
struct hs_snapbuild *hs_snapbuild_new(struct hs_procmaps *pm,
				      struct hs_symbolizer *sym,
				      char *const *skip, size_t nskip);
void hs_snapbuild_free(struct hs_snapbuild *b);

struct hs_pycodes;

/* The code objects that name the Python frames of raw stacks. */
void hs_snapbuild_set_python(struct hs_snapbuild *b,
			     const struct hs_pycodes *codes);

/* Adds raw's traces and the stacks they use to s; progress may be NULL. */
int hs_snapbuild_add(struct hs_snapbuild *b, struct hs_snapshot *s,
		     const struct hs_raw *raw,
		     const struct hs_progress *progress);

#endif
