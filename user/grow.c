// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int hs_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	void **p = arr, *n;
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -ENOMEM;
		c *= 2;
	}
	if (c > SIZE_MAX / elem)
		return -ENOMEM;
	n = realloc(*p, c * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

int hs_grow_zeroed(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t old = *cap;
	int err = hs_grow(arr, cap, need, elem);

	if (!err)
		memset(*(char **)arr + old * elem, 0, (*cap - old) * elem);
	return err;
}

void *hs_grow_append(void *arr, size_t *n, size_t *cap, size_t elem)
{
	char *e;

	if (hs_grow(arr, cap, *n + 1, elem))
		return NULL;
	e = *(char **)arr + (*n)++ * elem;
	memset(e, 0, elem);
	return e;
}
