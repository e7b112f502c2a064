// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The mmap domain: anonymous mappings of known sizes at known lines, a
 * partial munmap in the middle and at the head, a moving mremap, a mapping
 * that goes away, and brk growth. Prints "GT 1 ..." lines for the live
 * regions; the heap domain is left alone (malloc's own mmaps are not ours).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define KB 1024L
#define ANON(len) mmap(NULL, (len), PROT_READ | PROT_WRITE, \
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)

void *volatile sink;

static void gt(int line, long bytes, int count)
{
	printf("GT 1 gt_mmap.c %d main %ld %d\n", line, bytes, count);
}

int main(void)
{
	char *a, *b, *c, *d, *e, *f;
	int la, lb, ld, le, lf, lh, lg;
	char *g;

	lg = __LINE__; g = sbrk(8 * KB); /* before malloc touches the break */
	sbrk(-4 * KB);
	la = __LINE__; a = ANON(64 * KB);
	lb = __LINE__; b = ANON(128 * KB);
	munmap(b + 32 * KB, 32 * KB); /* b: 32 KB + 64 KB */
	c = ANON(40 * KB);
	c[0] = 1;
	ld = __LINE__; d = mremap(c, 40 * KB, 400 * KB, MREMAP_MAYMOVE);
	le = __LINE__; e = ANON(16 * KB);
	munmap(e, 16 * KB);
	lf = __LINE__; f = ANON(48 * KB);
	munmap(f, 16 * KB); /* f: 32 KB */
	lh = __LINE__; sink = malloc(300 * KB); /* malloc's own mmap: heap */
	(void)le;
	gt(la, 64 * KB, 1);
	gt(lb, 96 * KB, 2);
	gt(ld, d == MAP_FAILED ? 0 : 400 * KB, 1);
	gt(lf, 32 * KB, 1);
	gt(lg, g == (void *)-1 ? 0 : 4 * KB, 1);
	printf("HEAP 1 gt_mmap.c %d main %ld 1\n", lh, 300 * KB);
	sink = a;
	printf("READY 1\n");
	return 0;
}
