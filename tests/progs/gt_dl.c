// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Blocks allocated by a dlopen()ed library that is dlclose()d before exit:
 * they must still symbolize to the library's source.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <unistd.h>

#include "gt.h"

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");
	char exe[PATH_MAX], lib[PATH_MAX + 32];
	void *(*lib_alloc)(size_t, int *);
	ssize_t n;
	void *h;
	int line = 0;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 2;
	exe[n] = 0;
	snprintf(lib, sizeof(lib), "%s/libgtdl.so", dirname(exe));
	gt_checkpoint(0, wait);
	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&lib_alloc = dlsym(h, "lib_alloc");
	for (int i = 0; i < 3; i++) {
		void *p = lib_alloc(1111, &line);

		gt_track(p, 1111, "gt_dl_lib.c", "lib_alloc", line);
	}
	dlclose(h);
	gt_checkpoint(1, wait);
	return 0;
}
