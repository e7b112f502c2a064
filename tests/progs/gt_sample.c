// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Large live sites, for the sampling test, from a fixed seed: small, page
 * and mixed sizes, plus churn that leaves nothing behind. Prints the usual
 * GT lines (the table is bypassed: too many blocks to track one by one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;
static uint64_t seed = 42;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

struct site {
	int line;
	const char *func;
	long long bytes, count;
};

static void report(const struct site *s)
{
	printf("GT 1 gt_sample.c %d %s %lld %lld\n", s->line, s->func, s->bytes,
	       s->count);
}

__attribute__((noinline)) static void small_blocks(struct site *s)
{
	for (long i = 0; i < 327680; i++) {
		s->line = __LINE__; sink = malloc(64);
		s->bytes += 64;
		s->count++;
	}
}

__attribute__((noinline)) static void page_blocks(struct site *s)
{
	for (long i = 0; i < 2560; i++) {
		s->line = __LINE__; sink = calloc(1, 4096);
		s->bytes += 4096;
		s->count++;
	}
}

__attribute__((noinline)) static void mixed_blocks(struct site *s)
{
	while (s->bytes < 50 << 20) {
		size_t n = 16 + rnd() % 8177;

		s->line = __LINE__; sink = malloc(n);
		s->bytes += (long long)n;
		s->count++;
	}
}

__attribute__((noinline)) static void churn(void)
{
	static void *pool[256];

	for (long i = 0; i < 400000; i++) {
		int k = (int)(rnd() % 256);

		free(pool[k]);
		pool[k] = malloc(16 + rnd() % 512);
	}
	for (int k = 0; k < 256; k++)
		free(pool[k]);
}

int main(void)
{
	struct site a = { 0, "small_blocks", 0, 0 };
	struct site b = { 0, "page_blocks", 0, 0 };
	struct site c = { 0, "mixed_blocks", 0, 0 };

	small_blocks(&a);
	churn();
	page_blocks(&b);
	mixed_blocks(&c);
	report(&a);
	report(&b);
	report(&c);
	printf("READY 1\n");
	return 0;
}
