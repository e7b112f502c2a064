// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Every glibc allocator entry point, with known sizes and lines, in two
 * phases. Run as "gt_basic wait" to pause at each checkpoint.
 */
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include "gt.h"

static void *keep[64];
static volatile size_t huge = SIZE_MAX - 4096;

__attribute__((noinline)) static void phase1(void)
{
	void *p;
	int i;

	keep[0] = TRACK(malloc(100), 100);
	keep[1] = TRACK(calloc(10, 30), 300);
	for (i = 2; i < 12; i++)
		keep[i] = TRACK(malloc(64), 64);
	p = TRACK(malloc(1000), 1000);
	gt_untrack(p);
	keep[12] = TRACK(realloc(p, 2000), 2000);
	keep[13] = TRACK(realloc(NULL, 700), 700);
	p = TRACK(malloc(40), 40);
	gt_untrack(p);
	keep[14] = TRACK(reallocarray(p, 7, 11), 77);
	keep[15] = posix_memalign(&p, 64, 512) ? NULL : TRACK(p, 512);
	keep[16] = TRACK(aligned_alloc(256, 1024), 1024);
	keep[17] = TRACK(memalign(128, 384), 384);
	keep[18] = TRACK(valloc(5000), 5000);
	keep[19] = TRACK(pvalloc(100), 100);

	/* failures are not traces, and leave the old block alone */
	gt_sink = malloc(huge);
	gt_sink = realloc(keep[0], huge);
	free(NULL);

	p = TRACK(malloc(333), 333);
	FREE(p);
	p = TRACK(malloc(50), 50);
	gt_untrack(p);
	gt_sink = realloc(p, 0); /* frees p */
}

__attribute__((noinline)) static void phase2(void)
{
	int i;

	FREE(keep[1]);
	for (i = 2; i < 7; i++)
		FREE(keep[i]);
	gt_untrack(keep[12]);
	keep[12] = TRACK(realloc(keep[12], 4000), 4000);
	keep[20] = TRACK(malloc(123456), 123456);
	for (i = 21; i < 29; i++)
		keep[i] = TRACK(calloc(4, 1000), 4000);
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	phase1();
	gt_checkpoint(1, wait);
	phase2();
	gt_checkpoint(2, wait);
	return 0;
}
