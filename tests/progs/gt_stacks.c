// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * gt_stacks DEPTH: 2^DEPTH distinct call stacks, one 8-byte block each:
 * every path of left/right calls DEPTH deep ends in one allocation.
 */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) static void step(int depth, unsigned long bits);

__attribute__((noinline)) static void left(int depth, unsigned long bits)
{
	step(depth, bits);
	sink = NULL;
}

__attribute__((noinline)) static void right(int depth, unsigned long bits)
{
	step(depth, bits);
	sink = NULL;
}

__attribute__((noinline)) static void step(int depth, unsigned long bits)
{
	if (!depth)
		sink = malloc(8);
	else if (bits & 1)
		left(depth - 1, bits >> 1);
	else
		right(depth - 1, bits >> 1);
	sink = NULL;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 18;

	for (unsigned long bits = 0; bits < 1ul << depth; bits++)
		step(depth, bits);
	printf("stacks %lu\n", 1ul << depth);
	return 0;
}
