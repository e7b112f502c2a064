// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target: an uncompressed payload (the sections), wrapped with a
 * valid header, checksums and zstd frame, so that every input reaches the
 * section parser instead of stopping at a checksum; then the analysis.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_snapshot *s;
	size_t len;
	uint8_t *file;
	char err[256];

	file = fuzz_wrap_payload(data, size, &len);
	if (!file)
		return 0;
	s = hs_snapfile_parse(file, len, err, sizeof(err));
	if (s)
		fuzz_analyze(s);
	hs_snapshot_free(s);
	free(file);
	return 0;
}
