// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * deep PAIRS [DEPTH]: malloc/free pairs made at stack depth DEPTH (30 by
 * default), so every traceback is that deep. Prints "elapsed SECONDS".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *volatile sink;

__attribute__((noinline)) static void work(long pairs)
{
	void *pool[64] = { 0 };

	for (long i = 0; i < pairs; i++) {
		int k = (int)(i & 63);

		free(pool[k]);
		pool[k] = malloc(32 + (size_t)(i % 200));
	}
	sink = pool[0];
}

__attribute__((noinline)) static void descend(int depth, long pairs)
{
	if (depth > 1)
		descend(depth - 1, pairs);
	else
		work(pairs);
	sink = NULL;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 1000000;
	int depth = argc > 2 ? atoi(argv[2]) : 30;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	/* main and descend's frames: depth 30 counts main */
	descend(depth - 2, pairs);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("elapsed %.6f\n",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
