// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Linked with -ljemalloc: its standard names, its own entry points
 * (mallocx, rallocx, dallocx, sdallocx) and C++ new and delete, which
 * jemalloc defines itself, in two phases. Run as "gt_jemalloc wait" to
 * pause at each checkpoint.
 */
#include <jemalloc/jemalloc.h>
#include <malloc.h>
#include <new>
#include <stdint.h>

#include "gt.h"

struct obj {
	char b[200];
};

struct alignas(64) wide {
	char b[192];
};

static void *keep[64];
static volatile size_t huge = SIZE_MAX - 4096;
static volatile size_t wide_huge = SIZE_MAX / 2 / sizeof(wide);

__attribute__((noinline)) static void phase1(void)
{
	void *p;

	keep[0] = TRACK(malloc(100), 100);
	keep[1] = TRACK(calloc(10, 30), 300);
	p = TRACK(malloc(1000), 1000);
	gt_untrack(p);
	keep[2] = TRACK(realloc(p, 2000), 2000);
	keep[3] = TRACK(realloc(NULL, 700), 700);
	keep[4] = posix_memalign(&p, 64, 512) ? NULL : TRACK(p, 512);
	keep[5] = TRACK(aligned_alloc(256, 1024), 1024);
	keep[6] = TRACK(memalign(128, 384), 384);
	keep[7] = TRACK(valloc(5000), 5000);
	keep[8] = TRACK(mallocx(600, 0), 600);
	keep[9] = TRACK(mallocx(4096, MALLOCX_ALIGN(4096) | MALLOCX_ZERO),
			4096);
	p = TRACK(mallocx(64, 0), 64);
	gt_untrack(p);
	keep[10] = TRACK(rallocx(p, 6400, 0), 6400);
	p = TRACK(mallocx(77, 0), 77);
	gt_untrack(p);
	dallocx(p, 0);
	p = TRACK(mallocx(88, 0), 88);
	gt_untrack(p);
	sdallocx(p, 88, 0);
	keep[11] = TRACK(new obj, sizeof(obj));
	keep[12] = TRACK(new char[333], 333);
	keep[13] = TRACK(new (std::nothrow) char[44], 44);
	keep[14] = TRACK(new wide, sizeof(wide));
	keep[15] = TRACK(new wide[2], 2 * sizeof(wide));

	/* failures are not traces, and leave the old block alone */
	gt_sink = malloc(huge);
	gt_sink = mallocx(huge, 0);
	gt_sink = rallocx(keep[8], huge, 0);
	gt_sink = realloc(keep[0], huge);
	gt_sink = new (std::nothrow) char[huge];
	free(NULL);
	/*
	 * jemalloc's aligned new calls aligned_alloc, and throws when it
	 * fails: as a wrapper it has no return probe for the exception to
	 * meet (its plain new allocates by itself and has one)
	 */
	try {
		gt_sink = new wide[wide_huge];
	} catch (const std::bad_alloc &) {
		gt_sink = NULL;
	}

	p = TRACK(malloc(50), 50);
	gt_untrack(p);
	gt_sink = realloc(p, 0); /* frees p: jemalloc's zero_realloc:free */
}

__attribute__((noinline)) static void phase2(void)
{
	FREE(keep[1]);
	gt_untrack(keep[2]);
	keep[2] = TRACK(realloc(keep[2], 4000), 4000);
	gt_untrack(keep[10]);
	keep[10] = TRACK(rallocx(keep[10], 100, 0), 100);
	gt_untrack(keep[8]);
	sdallocx(keep[8], 600, 0);
	gt_untrack(keep[9]);
	dallocx(keep[9], MALLOCX_ALIGN(4096));
	gt_untrack(keep[11]);
	delete (obj *)keep[11]; /* sized: operator delete(void *, size_t) */
	gt_untrack(keep[12]);
	delete[] (char *)keep[12];
	gt_untrack(keep[14]);
	delete (wide *)keep[14]; /* sized and aligned: sdallocx */
	keep[16] = TRACK(calloc(4, 1000), 4000);
	keep[17] = TRACK(new obj[3], 3 * sizeof(obj));
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
