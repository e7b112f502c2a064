// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A library the test loads with dlopen and unloads before exit. */
#include <stdlib.h>

void *lib_alloc(size_t n, int *line);

void *lib_alloc(size_t n, int *line)
{
	void *p;

	*line = __LINE__; p = malloc(n);
	return p;
}
