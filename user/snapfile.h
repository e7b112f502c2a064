/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The snapshot file format: versioned, checked, compressed, written atomically. */
#ifndef HEAPSNAP_SNAPFILE_H
#define HEAPSNAP_SNAPFILE_H

#include <stddef.h>

#include "snapshot.h"

/* The file's header (snapfile.c). */
#define HS_SNAPFILE_MAGIC "HSNAP\r\n\x1a"
#define HS_SNAPFILE_MAGIC_LEN 8
#define HS_SNAPFILE_HEADER_LEN 40
#define HS_SNAPFILE_ZSTD 0x1u /* flags: the payload is zstd-compressed */

/*
 * Writes s to path through a temporary file in the same directory and a
 * rename, mode 0600. On failure the old file at path is untouched, err holds
 * a one-line reason and -1 is returned.
 */
int hs_snapfile_write(const struct hs_snapshot *s, const char *path, char *err,
		      size_t errlen);

/*
 * A snapshot written as it is made (snapwrite.c): its traces one by one,
 * compressed as they come, then the rest of it. The file appears at path
 * only once hs_snapwriter_close() succeeds. Returns NULL, with a one-line
 * reason in err, when the temporary file cannot be made.
 */
struct hs_snapwriter;
struct hs_snapwriter *hs_snapwriter_open(const char *path, char *err,
					 size_t errlen);
/* Appends a trace; a failure is kept for hs_snapwriter_close(). */
void hs_snapwriter_trace(struct hs_snapwriter *w, const struct hs_trace *t);
/* The traces appended so far. */
uint64_t hs_snapwriter_count(const struct hs_snapwriter *w);
/*
 * Writes every table of s but its traces (those appended stand for them)
 * and puts the file at path, as hs_snapfile_write() would; frees w.
 */
int hs_snapwriter_close(struct hs_snapwriter *w, const struct hs_snapshot *s,
			char *err, size_t errlen);
/* Gives up: the temporary file is removed, path untouched; frees w. */
void hs_snapwriter_abort(struct hs_snapwriter *w);

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
