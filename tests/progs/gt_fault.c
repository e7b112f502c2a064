// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Allocates known blocks, prints their ground truth, then ends the way argv
 * says: "exit" returns 0, "segv" crashes with SIGSEGV, "hang" waits to be
 * killed. Run as "gt_fault wait MODE" to pause at checkpoint 0.
 */
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gt.h"

static void *keep[32];
static int *volatile nowhere; /* NULL, and the compiler cannot tell */

__attribute__((noinline)) static void allocate(void)
{
	int i;

	for (i = 0; i < 10; i++)
		keep[i] = TRACK(malloc(1000 + i), 1000 + i);
	for (i = 10; i < 15; i++)
		keep[i] = TRACK(calloc(3, 100), 300);
	keep[15] = TRACK(malloc(77777), 77777);
	FREE(keep[0]);
}

int main(int argc, char **argv)
{
	int wait = argc > 2 && !strcmp(argv[1], "wait");
	const char *mode = argc > 1 ? argv[argc - 1] : "exit";
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	gt_checkpoint(0, wait);
	allocate();
	gt_report(1);
	if (!strcmp(mode, "segv")) {
		signal(SIGSEGV, SIG_DFL);
		*nowhere = 1;
	} else if (!strcmp(mode, "hang")) {
		for (;;)
			pause();
	}
	return 0;
}
