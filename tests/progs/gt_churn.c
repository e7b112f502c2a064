// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Churn: a pool of N live blocks (default 1000); each step frees a random
 * one and allocates a block of a random size at one of four lines. Runs for
 * SECONDS, or until a line or EOF arrives on stdin when SECONDS is 0, then
 * prints the ground truth of the live set (GT 1 ...), "READY 1", and exits
 * 0. Progress goes to stdout as "STEPS n" about once a second.
 *
 *   gt_churn SECONDS [N]
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NLINES 4

void *volatile sink;

struct slot {
	void *p;
	size_t size;
	int site;
};

static int lines[NLINES], pool_line;
static long long site_bytes[NLINES], site_count[NLINES];

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One line per site, so that each site's line is its allocator call's. */
__attribute__((noinline)) static void *alloc_at(int site, size_t n)
{
	switch (site) {
	case 0:
		lines[0] = __LINE__; return malloc(n);
	case 1:
		lines[1] = __LINE__; return calloc(1, n);
	case 2:
		lines[2] = __LINE__; return malloc(n);
	default:
		lines[3] = __LINE__; return realloc(NULL, n);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stdin_ready(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static void fill(struct slot *s)
{
	static const size_t sizes[] = { 16, 24, 48, 100, 256, 1000, 4096, 9000 };

	s->site = (int)(next() % NLINES);
	s->size = sizes[next() % 8] + next() % 16;
	s->p = alloc_at(s->site, s->size);
	sink = s->p;
	if (!s->p)
		abort();
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10, start, last;
	long n = argc > 2 ? atol(argv[2]) : 1000, i;
	struct slot *pool;
	long long steps = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pool_line = __LINE__; pool = calloc((size_t)n, sizeof(*pool));
	if (!pool || n < 1)
		return 2;
	printf("READY 0\n");
	for (i = 0; i < n; i++)
		fill(&pool[i]);
	start = last = now();
	for (;;) {
		struct slot *s = &pool[next() % (uint64_t)n];

		free(s->p);
		fill(s);
		if (++steps % 4096)
			continue;
		if (now() - last >= 1) {
			last = now();
			printf("STEPS %lld\n", steps);
		}
		if (secs > 0 ? now() - start >= secs : stdin_ready())
			break;
	}
	for (i = 0; i < n; i++) {
		site_bytes[pool[i].site] += (long long)pool[i].size;
		site_count[pool[i].site]++;
	}
	printf("GT 1 %s %d main %zu 1\n", __FILE__, pool_line,
	       (size_t)n * sizeof(*pool));
	for (i = 0; i < NLINES; i++)
		if (site_count[i])
			printf("GT 1 %s %d alloc_at %lld %lld\n", __FILE__,
			       lines[i], site_bytes[i], site_count[i]);
	printf("STEPS %lld\nREADY 1\n", steps);
	return 0;
}
