// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Two threads, started after attach, allocate at one line. */
#include "gt.h"

static void *blocks[4096];
static int next_block;
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep(void *p)
{
	pthread_mutex_lock(&blocks_lock);
	blocks[next_block++] = p;
	pthread_mutex_unlock(&blocks_lock);
}

static void *worker(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		keep(TRACK(malloc(48), 48));
	return NULL;
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");
	pthread_t a, b;

	gt_checkpoint(0, wait);
	pthread_create(&a, NULL, worker, (void *)1000L);
	pthread_create(&b, NULL, worker, (void *)1500L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	gt_checkpoint(1, wait);
	return 0;
}
