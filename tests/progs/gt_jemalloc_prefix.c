// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A jemalloc built with --with-jemalloc-prefix=je_ (libjemalloc_je.so,
 * made from Debian's libjemalloc_pic.a): glibc serves malloc, jemalloc
 * serves the je_ names, both in one process.
 */
#include <stdint.h>

#include "gt.h"

void *je_malloc(size_t size);
void *je_calloc(size_t n, size_t size);
void *je_realloc(void *p, size_t size);
void je_free(void *p);
int je_posix_memalign(void **out, size_t align, size_t size);
void *je_aligned_alloc(size_t align, size_t size);
void *je_mallocx(size_t size, int flags);
void *je_rallocx(void *p, size_t size, int flags);
void je_dallocx(void *p, int flags);
void je_sdallocx(void *p, size_t size, int flags);

static void *keep[32];
static volatile size_t huge = SIZE_MAX - 4096;

__attribute__((noinline)) static void phase1(void)
{
	void *p;

	keep[0] = TRACK(je_malloc(100), 100);
	keep[1] = TRACK(je_calloc(10, 30), 300);
	p = TRACK(je_malloc(1000), 1000);
	gt_untrack(p);
	keep[2] = TRACK(je_realloc(p, 2000), 2000);
	keep[3] = je_posix_memalign(&p, 64, 512) ? NULL : TRACK(p, 512);
	keep[4] = TRACK(je_aligned_alloc(256, 1024), 1024);
	keep[5] = TRACK(je_mallocx(600, 0), 600);
	p = TRACK(je_mallocx(64, 0), 64);
	gt_untrack(p);
	keep[6] = TRACK(je_rallocx(p, 6400, 0), 6400);
	keep[7] = TRACK(malloc(700), 700); /* glibc's */
	keep[8] = TRACK(calloc(7, 11), 77);
	gt_sink = je_malloc(huge);
	gt_sink = je_mallocx(huge, 0);
}

__attribute__((noinline)) static void phase2(void)
{
	gt_untrack(keep[0]);
	je_free(keep[0]);
	gt_untrack(keep[5]);
	je_dallocx(keep[5], 0);
	gt_untrack(keep[6]);
	je_sdallocx(keep[6], 6400, 0);
	FREE(keep[7]);
	keep[9] = TRACK(je_malloc(4000), 4000);
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
