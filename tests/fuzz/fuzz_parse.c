// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target: raw file bytes into hs_snapfile_parse(). Any input must
 * give a snapshot or NULL with a one-line message, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
