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
 * header with both checksums, then the payload as one zstd frame. Returns
 * NULL when memory runs out; free() the result.
 */
uint8_t *fuzz_wrap_payload(const uint8_t *payload, size_t len,
			   size_t *file_len);

#endif
