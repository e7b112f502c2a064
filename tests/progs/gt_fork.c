// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A parent that forks. The child waits a moment (so that --follow-forks can
 * attach), allocates at its own line, frees a block it inherited, and
 * prints its ground truth as "CGT ..." lines; the parent prints "GT ...".
 */
#include <sys/wait.h>
#include <unistd.h>

#include "gt.h"

static void *keep[8];

int main(void)
{
	pid_t pid;

	keep[0] = TRACK(malloc(1000), 1000);
	keep[1] = TRACK(malloc(2000), 2000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		usleep(500 * 1000);
		keep[2] = malloc(3000); keep[3] = malloc(3000);
		printf("CGT 1 gt_fork.c %d main 6000 2\n", __LINE__ - 1);
		free(keep[0]);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	keep[4] = TRACK(malloc(4000), 4000);
	gt_report(1);
	return 0;
}
