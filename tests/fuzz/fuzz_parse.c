// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target: raw file bytes into hs_snapfile_parse(). Any input must
 * give a snapshot or NULL with a one-line message, never a crash.
 * Two mutations in three fix the checksums afterwards or mutate the
 * uncompressed payload of a valid input (fuzz_mutate_file), so that inputs
 * also get past the checksums.
 */
#include <stdlib.h>
#include <string.h>

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

	err[0] = '\0';
	s = hs_snapfile_parse(data, size, err, sizeof(err));
	if (!s && (!err[0] || strchr(err, '\n')))
		abort(); /* a rejection always says why, on one line */
	hs_snapshot_free(s);
	return 0;
}
