// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Linked with -lmimalloc: its standard names (most jump to an mi_ one),
 * its mi_ names and C++ new and delete, which mimalloc defines itself, in
 * two phases. Run as "gt_mimalloc wait" to pause at each checkpoint.
 */
#include <malloc.h>
#include <mimalloc.h>
#include <new>
#include <stdint.h>

#include "gt.h"

struct obj {
	char b[200];
};

struct alignas(64) wide {
	char b[192];
};

static void *keep[96];
static volatile size_t huge = SIZE_MAX - 4096;

__attribute__((noinline)) static void standard(void)
{
	void *p;

	keep[0] = TRACK(malloc(100), 100);
	keep[1] = TRACK(calloc(10, 30), 300);
	p = TRACK(malloc(1000), 1000);
	gt_untrack(p);
	keep[2] = TRACK(realloc(p, 2000), 2000);
	keep[3] = TRACK(realloc(NULL, 700), 700);
	p = TRACK(malloc(40), 40);
	gt_untrack(p);
	keep[4] = TRACK(reallocarray(p, 7, 11), 77);
	keep[5] = posix_memalign(&p, 64, 512) ? NULL : TRACK(p, 512);
	keep[6] = TRACK(aligned_alloc(256, 1024), 1024);
	keep[7] = TRACK(memalign(128, 384), 384);
	keep[8] = TRACK(valloc(5000), 5000);
	keep[9] = TRACK(pvalloc(100), 100);
	keep[10] = TRACK(new obj, sizeof(obj));
	keep[11] = TRACK(new char[333], 333);
	keep[12] = TRACK(new (std::nothrow) char[44], 44);
	keep[13] = TRACK(new wide, sizeof(wide));
	keep[14] = TRACK(new (std::nothrow) wide, sizeof(wide));
	p = TRACK(malloc(50), 50);
	gt_untrack(p);
	/* mimalloc's realloc(p, 0) frees p for a new empty block */
	keep[15] = TRACK(realloc(p, 0), 0);
}

__attribute__((noinline)) static void own(void)
{
	void *p;

	keep[20] = TRACK(mi_malloc(600), 600);
	keep[21] = TRACK(mi_zalloc(610), 610);
	keep[22] = TRACK(mi_calloc(3, 70), 210);
	keep[23] = TRACK(mi_mallocn(4, 80), 320);
	p = TRACK(mi_malloc(64), 64);
	gt_untrack(p);
	keep[24] = TRACK(mi_realloc(p, 6400), 6400);
	p = TRACK(mi_malloc(65), 65);
	gt_untrack(p);
	keep[25] = TRACK(mi_reallocn(p, 5, 90), 450);
	p = TRACK(mi_malloc(66), 66);
	gt_untrack(p);
	keep[26] = TRACK(mi_rezalloc(p, 660), 660);
	p = TRACK(mi_malloc(67), 67);
	gt_untrack(p);
	keep[27] = TRACK(mi_recalloc(p, 6, 70), 420);
	p = TRACK(mi_malloc(68), 68);
	gt_untrack(p);
	keep[28] = TRACK(mi_reallocf(p, 6800), 6800);
	p = TRACK(mi_malloc(200), 200);
	gt_untrack(p);
	keep[29] = TRACK(mi_expand(p, 150), 150); /* in place */
	keep[30] = TRACK(mi_malloc_aligned(300, 128), 300);
	keep[31] = TRACK(mi_zalloc_aligned(310, 256), 310);
	keep[32] = TRACK(mi_calloc_aligned(2, 160, 64), 320);
	p = TRACK(mi_malloc_aligned(33, 64), 33);
	gt_untrack(p);
	keep[33] = TRACK(mi_realloc_aligned(p, 3300, 64), 3300);
	keep[34] = mi_posix_memalign(&p, 32, 340) ? NULL : TRACK(p, 340);
	keep[35] = TRACK(mi_aligned_alloc(64, 350), 350);
	keep[36] = TRACK(mi_memalign(64, 360), 360);
	keep[37] = TRACK(mi_valloc(370), 370);
	keep[38] = TRACK(mi_pvalloc(380), 380);
	keep[39] = TRACK(mi_new(390), 390);
	keep[40] = TRACK(mi_new_n(4, 100), 400);
	keep[41] = TRACK(mi_new_nothrow(410), 410);
	keep[42] = TRACK(mi_new_aligned(420, 64), 420);
	p = TRACK(mi_new(43), 43);
	gt_untrack(p);
	keep[43] = TRACK(mi_new_realloc(p, 430), 430);
	p = TRACK(mi_malloc(99), 99);
	gt_untrack(p);
	mi_free(p);
	p = TRACK(mi_malloc(98), 98);
	gt_untrack(p);
	mi_free_size(p, 98);
	p = TRACK(mi_malloc_aligned(97, 64), 97);
	gt_untrack(p);
	mi_free_aligned(p, 64);
	p = TRACK(mi_malloc_aligned(96, 64), 96);
	gt_untrack(p);
	mi_free_size_aligned(p, 96, 64);

	/* failures are not traces, and leave the old block alone */
	gt_sink = malloc(huge);
	gt_sink = mi_malloc(huge);
	gt_sink = realloc(keep[0], huge);
	gt_sink = mi_realloc(keep[20], huge);
	gt_sink = mi_expand(keep[21], 1 << 24);
	gt_sink = new (std::nothrow) char[huge];
	free(NULL);
	mi_free(NULL);
}

__attribute__((noinline)) static void phase2(void)
{
	FREE(keep[1]);
	gt_untrack(keep[2]);
	keep[2] = TRACK(realloc(keep[2], 4000), 4000);
	gt_untrack(keep[24]);
	keep[24] = TRACK(mi_realloc(keep[24], 100), 100);
	gt_untrack(keep[20]);
	mi_free(keep[20]);
	gt_untrack(keep[10]);
	delete (obj *)keep[10]; /* sized: operator delete(void *, size_t) */
	gt_untrack(keep[11]);
	delete[] (char *)keep[11];
	gt_untrack(keep[13]);
	delete (wide *)keep[13];
	gt_untrack(keep[15]);
	free(keep[15]);
	gt_untrack(keep[30]);
	mi_free_aligned(keep[30], 128);
	keep[50] = TRACK(calloc(4, 1000), 4000);
	keep[51] = TRACK(new obj[3], 3 * sizeof(obj));
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	standard();
	own();
	gt_checkpoint(1, wait);
	phase2();
	gt_checkpoint(2, wait);
	return 0;
}
