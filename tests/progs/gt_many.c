// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* N live blocks from four sites, for the large-snapshot test. */
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	void **keep = calloc((size_t)n, sizeof(*keep));

	for (long i = 0; i < n; i++)
		keep[i] = site(i);
	sink = keep;
	printf("allocated %ld blocks\n", n);
	return 0;
}
