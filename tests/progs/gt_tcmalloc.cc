// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Linked with -ltcmalloc (and, as gt_tcmalloc_minimal, -ltcmalloc_minimal):
 * its standard names, its tc_ names and C++ new and delete, which tcmalloc
 * defines itself, in two phases. Run as "gt_tcmalloc wait" to pause at
 * each checkpoint.
 */
#include <gperftools/tcmalloc.h>
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
	keep[8] = TRACK(pvalloc(100), 100);
	keep[9] = TRACK(tc_malloc(600), 600);
	keep[10] = TRACK(tc_calloc(3, 70), 210);
	p = TRACK(tc_malloc(64), 64);
	gt_untrack(p);
	keep[11] = TRACK(tc_realloc(p, 6400), 6400);
	keep[12] = TRACK(tc_memalign(512, 900), 900);
	keep[13] = tc_posix_memalign(&p, 32, 320) ? NULL : TRACK(p, 320);
	keep[14] = TRACK(tc_valloc(123), 123);
	keep[15] = TRACK(tc_pvalloc(4097), 4097);
	keep[16] = TRACK(tc_malloc_skip_new_handler(55), 55);
	keep[17] = TRACK(tc_new(66), 66);
	keep[18] = TRACK(tc_newarray(77), 77);
	keep[19] = TRACK(tc_new_nothrow(88, std::nothrow), 88);
	keep[20] = TRACK(new obj, sizeof(obj));
	keep[21] = TRACK(new char[333], 333);
	keep[22] = TRACK(new (std::nothrow) char[44], 44);
	keep[23] = TRACK(new wide, sizeof(wide));
	p = TRACK(tc_malloc(99), 99);
	gt_untrack(p);
	tc_free(p);
	p = TRACK(tc_malloc(98), 98);
	gt_untrack(p);
	tc_free_sized(p, 98);
	p = TRACK(tc_new(97), 97);
	gt_untrack(p);
	tc_delete(p);

	/* failures are not traces, and leave the old block alone */
	gt_sink = malloc(huge);
	gt_sink = tc_malloc(huge);
	gt_sink = realloc(keep[0], huge);
	gt_sink = new (std::nothrow) char[huge];
	free(NULL);

	p = TRACK(malloc(50), 50);
	gt_untrack(p);
	gt_sink = realloc(p, 0); /* frees p */
}

__attribute__((noinline)) static void phase2(void)
{
	FREE(keep[1]);
	gt_untrack(keep[2]);
	keep[2] = TRACK(realloc(keep[2], 4000), 4000);
	gt_untrack(keep[11]);
	keep[11] = TRACK(tc_realloc(keep[11], 100), 100);
	gt_untrack(keep[9]);
	tc_free(keep[9]);
	gt_untrack(keep[12]);
	tc_delete_aligned(keep[12], std::align_val_t(512));
	gt_untrack(keep[20]);
	delete (obj *)keep[20]; /* sized: operator delete(void *, size_t) */
	gt_untrack(keep[21]);
	delete[] (char *)keep[21];
	gt_untrack(keep[23]);
	delete (wide *)keep[23];
	gt_untrack(keep[18]);
	tc_deletearray(keep[18]);
	keep[24] = TRACK(calloc(4, 1000), 4000);
	keep[25] = TRACK(new obj[3], 3 * sizeof(obj));
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
