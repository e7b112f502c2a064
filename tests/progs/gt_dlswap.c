// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * For the container test: after "go" on stdin, dlopens LIB, allocates three
 * blocks in it, dlcloses it, and puts a symlink to TARGET where LIB was, so
 * that LIB's path now names TARGET (or, for "fifo:", a FIFO that nobody
 * writes). Prints the ground truth and "READY 1", then exits at EOF on
 * stdin.
 *
 *   gt_dlswap LIB TARGET
 */
#include <dlfcn.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt.h"

int main(int argc, char **argv)
{
	void *(*lib_alloc)(size_t, int *);
	char tmp[PATH_MAX + 8], line[16];
	int site = 0;
	void *h;

	if (argc != 3)
		return 2;
	gt_checkpoint(0, 1);
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&lib_alloc = dlsym(h, "lib_alloc");
	for (int i = 0; i < 3; i++) {
		void *p = lib_alloc(2222, &site);

		gt_track(p, 2222, "gt_dl_lib.c", "lib_alloc", site);
	}
	dlclose(h);
	snprintf(tmp, sizeof(tmp), "%s.new", argv[1]);
	if (!strcmp(argv[2], "fifo:") ? mkfifo(tmp, 0600) :
					symlink(argv[2], tmp)) {
		perror(tmp);
		return 2;
	}
	if (rename(tmp, argv[1])) {
		perror("rename");
		return 2;
	}
	gt_report(1);
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}
