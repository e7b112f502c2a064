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

/*
 * Reads the raw stack of key for the builder, its return addresses in ips
 * (room for HS_MAX_FRAMES): 0, -ENOENT when it is missing, or another
 * negative errno.
 */
typedef int (*hs_stack_read_fn)(void *arg, uint64_t key,
				struct hs_raw_stack *rs, uint64_t *ips);
/* Takes one trace built; 0, or a negative errno that stops the build. */
typedef int (*hs_trace_fn)(void *arg, const struct hs_trace *t);

/*
 * Starts building the traces of s, chunk by chunk: the stacks they use are
 * read through read, and symbolized into s at their first use.
 */
int hs_snapbuild_begin(struct hs_snapbuild *b, struct hs_snapshot *s,
		       hs_stack_read_fn read, void *arg);
/* Builds raw's traces, each handed to fn, in raw's order. */
int hs_snapbuild_traces(struct hs_snapbuild *b, const struct hs_raw *raw,
			hs_trace_fn fn, void *arg);
/* Ends them: returns how many stacks were missing from the maps. */
size_t hs_snapbuild_end(struct hs_snapbuild *b);

#endif
