// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* C++ new and new[]: attributed to the line that wrote them. */
#include <new>

#include "gt.h"

struct Widget {
	int a, b, c;
};

static void *keep[16];

__attribute__((noinline)) static void make(void)
{
	keep[0] = TRACK(new char[100], 100);
	keep[1] = TRACK(new int[25], 25 * sizeof(int));
	keep[2] = TRACK(new Widget, sizeof(Widget));
	keep[3] = TRACK(new Widget[10], 10 * sizeof(Widget));
	keep[4] = TRACK(new (std::nothrow) char[300], 300);
	char *gone = static_cast<char *>(TRACK(new char[77], 77));
	gt_untrack(gone);
	delete[] gone;
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	make();
	gt_checkpoint(1, wait);
	return 0;
}
