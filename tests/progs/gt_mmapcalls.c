// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The mmap domain through every libc way in: syscall(), a direct brk, mremap
 * in place (growing, shrinking) and onto a fixed address (glibc's varargs
 * path), MAP_FIXED over a region, munmap of a head, a tail and a middle, a
 * call from a second thread; and what is not the domain: a file mapping, a
 * thread's stack, calls that fail, and malloc's own mapping.
 *
 * Phase 1 maps, phase 2 unmaps some of it. At each phase it prints "GT n
 * gt_mmapcalls.c LINE main BYTES COUNT" for the live regions (the function
 * is the site's), then "READY n". With "wait" it prints "READY 0" first and
 * waits for a line on stdin before each phase.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KB 1024L
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define ANON(len) mmap(NULL, (len), RW, PA, -1, 0)

void *volatile sink;

struct site {
	const char *func;
	int line;
	long bytes, count;
};

static struct site sites[32];
static int nsites;

static void set(const char *func, int line, long bytes, long count)
{
	for (int i = 0; i < nsites; i++) {
		if (sites[i].line == line) {
			sites[i].bytes = bytes;
			sites[i].count = count;
			return;
		}
	}
	sites[nsites++] = (struct site){ func, line, bytes, count };
}

static void report(int phase)
{
	for (int i = 0; i < nsites; i++)
		if (sites[i].count)
			printf("GT %d gt_mmapcalls.c %d %s %ld %ld\n", phase,
			       sites[i].line, sites[i].func, sites[i].bytes,
			       sites[i].count);
	printf("READY %d\n", phase);
	fflush(stdout);
}

static void must(bool ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(2);
	}
}

static void gate(bool wait)
{
	char line[16];

	if (wait && !fgets(line, sizeof(line), stdin))
		exit(1);
}

static int thread_line;
static char *thread_map;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_line = __LINE__; thread_map = ANON(24 * KB);
	return NULL;
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "wait");
	char *s, *b0, *g, *m, *sh, *r, *fx, *f, *h, *big;
	int ls, lb, lg, lgm, lsh, lshm, lr, lrm, lfx, lfxm, lf, lh;
	pthread_t th;
	int fd;

	if (wait)
		report(0);
	gate(wait);
	/* the break first: malloc has not touched it */
	b0 = sbrk(0);
	lb = __LINE__; must(!brk(b0 + 8 * KB), "brk");
	ls = __LINE__; s = (char *)syscall(SYS_mmap, NULL, 32 * KB, RW, PA, -1, 0);
	must(s != MAP_FAILED, "syscall(SYS_mmap)");
	syscall(SYS_munmap, s + 8 * KB, 8 * KB); /* s: 8 KB + 16 KB */
	lg = __LINE__; g = ANON(128 * KB);
	munmap(g + 64 * KB, 64 * KB);
	/* grows in place into what was just unmapped */
	lgm = __LINE__; m = mremap(g, 64 * KB, 96 * KB, 0);
	must(m == g, "mremap in place");
	lsh = __LINE__; sh = ANON(64 * KB);
	lshm = __LINE__; sh = mremap(sh, 64 * KB, 16 * KB, 0);
	must(sh != MAP_FAILED, "mremap shrinking");
	/* a reservation, and a mapping moved onto its start */
	lr = __LINE__; r = mmap(NULL, 64 * KB, PROT_NONE, PA, -1, 0);
	lrm = __LINE__; m = mremap(m, 96 * KB, 16 * KB,
				   MREMAP_MAYMOVE | MREMAP_FIXED, r);
	must(m == r, "mremap to a fixed address");
	/* a page of a region replaced: the region keeps the rest */
	lfx = __LINE__; fx = ANON(32 * KB);
	lfxm = __LINE__; sink = mmap(fx + 4 * KB, 4 * KB, RW, PA | MAP_FIXED, -1, 0);
	must(sink == fx + 4 * KB, "mmap MAP_FIXED");
	lf = __LINE__; f = ANON(48 * KB);
	munmap(f, 8 * KB); /* the head */
	munmap(f + 40 * KB, 8 * KB); /* the tail */
	pthread_create(&th, NULL, thread_main, NULL);
	pthread_join(th, NULL);
	/* not the domain: a file, a stack, failures, malloc's own */
	fd = open("/dev/zero", O_RDONLY);
	sink = mmap(NULL, 16 * KB, PROT_READ, MAP_PRIVATE, fd, 0);
	sink = mmap(NULL, 16 * KB, RW, PA | MAP_STACK, -1, 0);
	sink = mmap(NULL, 16 * KB, RW, PA | MAP_FIXED, -1, 0); /* EINVAL */
	munmap(f + 1, 4 * KB); /* EINVAL */
	lh = __LINE__; big = malloc(512 * KB);
	sink = big;
	(void)lh;
	(void)lg;
	(void)lgm;
	(void)lsh;
	set("main", lb, 8 * KB, 1);
	set("main", ls, 24 * KB, 2);
	set("main", lshm, 16 * KB, 1);
	set("main", lr, 48 * KB, 1);
	set("main", lrm, 16 * KB, 1);
	set("main", lfx, 28 * KB, 2);
	set("main", lfxm, 4 * KB, 1);
	set("main", lf, 32 * KB, 1);
	set("thread_main", thread_line, 24 * KB, 1);
	report(1);
	gate(wait);
	/* phase 2: some go, partly or wholly */
	munmap(s, 12 * KB); /* the first part, and nothing of the hole */
	munmap(fx, 32 * KB); /* across the replaced page: both sites go */
	munmap(thread_map, 24 * KB);
	h = sbrk(0);
	if (h == b0 + 8 * KB && !brk(b0 + 4 * KB)) /* malloc is not above */
		set("main", lb, 4 * KB, 1);
	set("main", ls, 16 * KB, 1);
	set("main", lfx, 0, 0);
	set("main", lfxm, 0, 0);
	set("thread_main", thread_line, 0, 0);
	report(2);
	gate(wait);
	return 0;
}
