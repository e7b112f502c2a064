// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mmap-domain calls made with the program's own syscall instruction, not
 * through libc, where probes in libc cannot see them: an anonymous mmap, a
 * munmap of its tail, another mmap and an mremap shrinking it. Also raw
 * calls that are not the domain (a file's mapping and its munmap, a stack),
 * and one mapping through libc.
 *
 * Prints "RAW n" (the domain's calls made raw), "GT 1 gt_mmapraw.c LINE
 * main BYTES COUNT" for every live region, the same line with "LIBC" for
 * "GT" for the regions mapped through libc, then "READY 1".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define KB 1024L
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)

static long raw(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static void gt(const char *what, int line, long bytes)
{
	printf("%s 1 gt_mmapraw.c %d main %ld 1\n", what, line, bytes);
}

int main(void)
{
	long a, b, m, f, s;
	char *c;
	int la, lm, lc, fd;

	la = __LINE__; a = raw(SYS_mmap, 0, 64 * KB, RW, PA, -1, 0);
	raw(SYS_munmap, a + 48 * KB, 16 * KB, 0, 0, 0, 0);
	b = raw(SYS_mmap, 0, 32 * KB, RW, PA, -1, 0);
	lm = __LINE__; m = raw(SYS_mremap, b, 32 * KB, 8 * KB, 0, 0, 0);
	/* not the domain */
	fd = open("/dev/zero", O_RDONLY);
	f = raw(SYS_mmap, 0, 16 * KB, PROT_READ, MAP_PRIVATE, fd, 0);
	raw(SYS_munmap, f, 16 * KB, 0, 0, 0, 0);
	s = raw(SYS_mmap, 0, 16 * KB, RW, PA | MAP_STACK, -1, 0);
	lc = __LINE__; c = mmap(NULL, 12 * KB, RW, PA, -1, 0);
	if (a < 0 || m != b || c == MAP_FAILED || s < 0)
		return 2;
	printf("RAW 4\n");
	gt("GT", la, 48 * KB);
	gt("GT", lm, 8 * KB);
	gt("GT", lc, 12 * KB);
	gt("LIBC", lc, 12 * KB);
	printf("READY 1\n");
	return 0;
}
