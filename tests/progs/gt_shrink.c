// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Memory that grows, shrinks and grows again, in three phases: each phase
 * only allocates or only frees, so the peak between two checkpoints is the
 * traced memory at one of them. Run as "gt_shrink wait" to pause at each
 * checkpoint.
 */
#include "gt.h"

static void *keep[16];

__attribute__((noinline)) static void grow(void)
{
	for (int i = 0; i < 16; i++)
		keep[i] = TRACK(malloc(65536), 65536);
}

__attribute__((noinline)) static void shrink(void)
{
	for (int i = 4; i < 16; i++)
		FREE(keep[i]);
}

__attribute__((noinline)) static void regrow(void)
{
	for (int i = 4; i < 8; i++)
		keep[i] = TRACK(malloc(100000), 100000);
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	grow();
	gt_checkpoint(1, wait);
	shrink();
	gt_checkpoint(2, wait);
	regrow();
	gt_checkpoint(3, wait);
	return 0;
}
