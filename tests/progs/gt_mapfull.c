// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * More live blocks than "record --max-live 100" can hold: 40 blocks at one
 * line first (they fit), then 300 at another (most do not). Then sleeps
 * SECONDS (default 0) and exits; nothing is freed.
 *
 *   gt_mapfull [SECONDS]
 */
#include <unistd.h>

#include "gt.h"

static void *keep[340];

__attribute__((noinline)) static void first(void)
{
	for (int i = 0; i < 40; i++)
		keep[i] = TRACK(malloc(100), 100);
}

__attribute__((noinline)) static void second(void)
{
	for (int i = 40; i < 340; i++)
		keep[i] = TRACK(malloc(200), 200);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0;

	gt_checkpoint(0, 0);
	first();
	second();
	gt_checkpoint(1, 0);
	if (secs > 0)
		usleep((useconds_t)(secs * 1e6));
	return 0;
}
