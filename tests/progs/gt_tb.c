// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A known call chain: main -> level1 -> level2 -> site. Prints
 *   TB <function> <line>
 * for each frame, frame 0 first, where line is the call's line.
 */
#include "gt.h"

static int tb_lines[4];

__attribute__((noinline)) static void site(void)
{
	tb_lines[0] = __LINE__; gt_sink = TRACK(malloc(4242), 4242);
}

__attribute__((noinline)) static void level2(void)
{
	tb_lines[1] = __LINE__; site();
	gt_sink = NULL;
}

__attribute__((noinline)) static void level1(void)
{
	tb_lines[2] = __LINE__; level2();
	gt_sink = NULL;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "site", "level2", "level1",
					     "main" };
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	tb_lines[3] = __LINE__; level1();
	for (int i = 0; i < 4; i++)
		printf("TB %s %d\n", names[i], tb_lines[i]);
	gt_checkpoint(1, wait);
	return 0;
}
