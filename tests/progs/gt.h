/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Ground truth for the test programs. Each allocation is wrapped on its own
 * line, TRACK(malloc(n), n), so the site's line is the allocator call's line.
 * The table lives in static memory: it must never allocate, or it would
 * show up in the snapshots it checks.
 *
 * The program prints, at each checkpoint:
 *   GT <phase> <file> <line> <function> <bytes> <count>
 * for every site with live blocks, then "READY <phase>".
 */
#ifndef HEAPSNAP_GT_H
#define HEAPSNAP_GT_H

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GT_SITES 128
#define GT_BLOCKS 65536

struct gt_site {
	const char *file;
	const char *func;
	int line;
	long long bytes, count;
};

static struct gt_site gt_sites[GT_SITES];
static int gt_nsites;
static struct {
	void *ptr;
	size_t size;
	int site;
} gt_blocks[GT_BLOCKS];
static pthread_mutex_t gt_lock = PTHREAD_MUTEX_INITIALIZER;
/* Pointers escape through here so the compiler keeps every call. */
void *volatile gt_sink;

__attribute__((unused)) static int gt_site_at(const char *file, const char *func, int line)
{
	int i;

	for (i = 0; i < gt_nsites; i++)
		if (gt_sites[i].line == line && !strcmp(gt_sites[i].file, file))
			return i;
	if (gt_nsites == GT_SITES)
		abort();
	gt_sites[gt_nsites].file = file;
	gt_sites[gt_nsites].func = func;
	gt_sites[gt_nsites].line = line;
	return gt_nsites++;
}

__attribute__((unused)) static void *gt_track(void *p, size_t size, const char *file,
		      const char *func, int line)
{
	int i, s;

	gt_sink = p;
	if (!p)
		return p;
	pthread_mutex_lock(&gt_lock);
	s = gt_site_at(file, func, line);
	gt_sites[s].bytes += size;
	gt_sites[s].count++;
	for (i = 0; i < GT_BLOCKS && gt_blocks[i].ptr; i++)
		;
	if (i == GT_BLOCKS)
		abort();
	gt_blocks[i].ptr = p;
	gt_blocks[i].size = size;
	gt_blocks[i].site = s;
	pthread_mutex_unlock(&gt_lock);
	return p;
}

/* The block at p is gone (freed, or moved by realloc). */
__attribute__((unused)) static void gt_untrack(void *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&gt_lock);
	for (i = 0; i < GT_BLOCKS; i++) {
		if (gt_blocks[i].ptr == p) {
			gt_sites[gt_blocks[i].site].bytes -= gt_blocks[i].size;
			gt_sites[gt_blocks[i].site].count--;
			gt_blocks[i].ptr = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&gt_lock);
}

#define TRACK(expr, size) gt_track((expr), (size), __FILE__, __func__, __LINE__)
#define FREE(p) (gt_untrack(p), free(p))

__attribute__((unused)) static void gt_report(int phase)
{
	int i;

	for (i = 0; i < gt_nsites; i++)
		if (gt_sites[i].count)
			printf("GT %d %s %d %s %lld %lld\n", phase,
			       gt_sites[i].file, gt_sites[i].line,
			       gt_sites[i].func, gt_sites[i].bytes,
			       gt_sites[i].count);
	printf("READY %d\n", phase);
	fflush(stdout);
}

/* With "wait" in argv[1], blocks until a line (or EOF) arrives on stdin. */
__attribute__((unused)) static void gt_checkpoint(int phase, int wait)
{
	char line[16];

	gt_report(phase);
	if (wait && !fgets(line, sizeof(line), stdin))
		clearerr(stdin);
}

/* dlopen()s the library name beside the program; exits 2 when it cannot. */
__attribute__((unused)) static void *gt_dlopen_beside(const char *name)
{
	char exe[PATH_MAX], lib[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *h;

	if (n < 0)
		exit(2);
	exe[n] = 0;
	snprintf(lib, sizeof(lib), "%s/%s", dirname(exe), name);
	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	return h;
}

#endif
