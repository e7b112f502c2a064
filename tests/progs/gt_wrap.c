// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * An allocation wrapper of the program's own: with --wrapper xmalloc the
 * blocks belong to xmalloc's callers. Also prints "ADDR <line> <pointer>"
 * for the lookup test.
 */
#include "gt.h"

__attribute__((noinline)) static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static void *keep[8];

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	keep[0] = TRACK(xmalloc(1500), 1500);
	keep[1] = TRACK(xmalloc(2500), 2500);
	keep[2] = TRACK(xmalloc(2500), 2500);
	printf("ADDR %d %p\n", __LINE__ - 1, keep[2]);
	gt_checkpoint(1, wait);
	return 0;
}
