// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * gt_many N: N live blocks from four sites, in turn, for the large-snapshot
 * test. gt_many N shuffled: the sites in a seeded random order (so that the
 * blocks' addresses follow no pattern), then the first site's blocks freed;
 * prints "site SIZE COUNT" for the sites left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

__attribute__((noinline)) static void *site(long i)
{
	switch (i & 3) {
	case 0: return malloc(16);
	case 1: return malloc(32);
	case 2: return malloc(48);
	default: return malloc(64);
	}
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, count[4] = { 0 };
	int shuffled = argc > 2 && !strcmp(argv[2], "shuffled");
	void **keep = calloc((size_t)n, sizeof(*keep));
	char *which = shuffled ? calloc((size_t)n, 1) : NULL;
	uint64_t seed = 0x2545F4914F6CDD1DULL;

	for (long i = 0; i < n; i++) {
		int s = shuffled ? (int)(next(&seed) & 3) : (int)(i & 3);

		if (which)
			which[i] = (char)s;
		keep[i] = site(s);
		count[s]++;
	}
	if (which) {
		for (long i = 0; i < n; i++)
			if (!which[i])
				free(keep[i]);
		for (int s = 1; s < 4; s++)
			printf("site %d %ld\n", 16 * (s + 1), count[s]);
	}
	sink = keep;
	printf("allocated %ld blocks\n", n);
	return 0;
}
