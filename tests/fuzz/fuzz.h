/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the fuzz targets share: the analysis every reader of a snapshot runs
 * (top by every key, cumulative or not, with and without filters; diff of a
 * snapshot against itself; info; lookup), rendered as text and as JSON to
 * /dev/null, and the wrapping of a raw payload into a valid file.
 */
#ifndef HEAPSNAP_FUZZ_H
#define HEAPSNAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Runs every analysis path over s; aborts if an invariant breaks. */
void fuzz_analyze(const struct hs_snapshot *s);

/*
 * A file image around an uncompressed payload, as the writer makes it: the
 * header with both checksums, then the payload as one zstd frame. The
 * header's format version is the one of the payload's meta section when
 * that comes first and is one this heapsnap reads (older payloads stay
 * older files), else HS_FORMAT_VERSION. Returns NULL when memory runs out;
 * free() the result.
 */
uint8_t *fuzz_wrap_payload(const uint8_t *payload, size_t len,
			   size_t *file_len);

/*
 * A custom mutation for the targets that take whole files: one of the
 * libFuzzer's own mutation as is (it mostly tests the checksum checks);
 * the same followed by fixing both checksums (it reaches the size checks
 * and the zstd decoder); or, when data is a valid file, a mutation of its
 * uncompressed payload, compressed and wrapped again (it reaches the
 * section parser and, in fuzz_analyze, the analysis).
 */
size_t fuzz_mutate_file(uint8_t *data, size_t size, size_t max_size,
			unsigned int seed);

#endif
