// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Leaks a few blocks, then replaces itself with gt_basic: the snapshot must
 * hold only what the new image allocated.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

int main(void)
{
	char exe[PATH_MAX], next[PATH_MAX + 16];
	ssize_t n;

	for (int i = 0; i < 3; i++)
		sink = malloc(777);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 2;
	exe[n] = 0;
	snprintf(next, sizeof(next), "%s/gt_basic", dirname(exe));
	execl(next, next, (char *)NULL);
	perror("execl");
	return 2;
}
