// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target: raw file bytes, parsed, then every analysis path the
 * commands run (top, diff, info, lookup; text and JSON).
 * Two mutations in three fix the checksums afterwards or mutate the
 * uncompressed payload of a valid input (fuzz_mutate_file), so that inputs
 * also get past the checksums.
 */
#include "fuzz.h"
#include "snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	return fuzz_mutate_file(data, size, max_size, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_snapshot *s;
	char err[256];

	s = hs_snapfile_parse(data, size, err, sizeof(err));
	if (s)
		fuzz_analyze(s);
	hs_snapshot_free(s);
	return 0;
}
