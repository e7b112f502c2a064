// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * churn PAIRS [THREADS]: PAIRS malloc/free pairs of mixed sizes over a pool
 * of 1,000 live blocks (split between the threads), from a fixed seed.
 * Prints "elapsed SECONDS" of the work alone, and leaves the pool live.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define POOL 1000

struct worker {
	long pairs;
	int slots;
	uint64_t seed;
	void **pool;
};

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mostly small blocks, some medium, a few large: like a real heap. */
static size_t mixed_size(uint64_t r)
{
	unsigned int k = r % 100;

	if (k < 70)
		return 16 + (r >> 8) % 112;
	if (k < 95)
		return 128 + (r >> 8) % 896;
	return 1024 + (r >> 8) % 7168;
}

static void *run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->slots; i++)
		w->pool[i] = malloc(mixed_size(next(&w->seed)));
	for (long i = 0; i < w->pairs; i++) {
		uint64_t r = next(&w->seed);
		int k = (int)(r % (uint64_t)w->slots);

		free(w->pool[k]);
		w->pool[k] = malloc(mixed_size(r >> 16));
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 5000000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	static void *pool[POOL];
	struct worker w[16];
	pthread_t tid[16];
	double t0;

	if (threads < 1 || threads > 16)
		return 2;
	t0 = now();
	for (int i = 0; i < threads; i++) {
		w[i].pairs = pairs / threads;
		w[i].slots = POOL / threads;
		w[i].seed = 0x9E3779B97F4A7C15ull + (uint64_t)i;
		w[i].pool = pool + i * (POOL / threads);
		if (threads == 1)
			run(&w[i]);
		else
			pthread_create(&tid[i], NULL, run, &w[i]);
	}
	for (int i = 0; threads > 1 && i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("elapsed %.6f\n", now() - t0);
	return 0;
}
