/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The snapshot file format: versioned, checked, compressed, written atomically. */
#ifndef HEAPSNAP_SNAPFILE_H
#define HEAPSNAP_SNAPFILE_H

#include <stddef.h>

#include "snapshot.h"

/*
 * Writes s to path through a temporary file in the same directory and a
 * rename, mode 0600. On failure the old file at path is untouched, err holds
 * a one-line reason and -1 is returned.
 */
int hs_snapfile_write(const struct hs_snapshot *s, const char *path, char *err,
		      size_t errlen);

/*
 * Checks that snapshots can be written to path, by creating and removing a
 * temporary file next to it, as hs_snapfile_write() would. Returns 0, or -1
 * with a one-line reason in err.
 */
int hs_snapfile_check_path(const char *path, char *err, size_t errlen);

/*
 * Reads a snapshot file, or parses one from memory. Any malformed input gives
 * NULL and a one-line reason in err; memory use stays bounded by the input.
 * The result is sealed (read-only tables).
 */
struct hs_snapshot *hs_snapfile_read(const char *path, char *err,
				     size_t errlen);
struct hs_snapshot *hs_snapfile_parse(const void *buf, size_t len, char *err,
				      size_t errlen);

#endif
