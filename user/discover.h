/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Which allocator files a process uses: the one that serves malloc (glibc,
 * a malloc in the executable, jemalloc, tcmalloc or mimalloc) and the
 * others it maps, each scanned for probe points.
 */
#ifndef HEAPSNAP_DISCOVER_H
#define HEAPSNAP_DISCOVER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "probes.h"

#define HS_DISCOVER_FILES 16

struct hs_alloc_file {
	char shown[PATH_MAX]; /* as the process names it */
	char why[128]; /* for record -v */
	int points; /* probe points it added */
};

struct hs_discovery {
	struct hs_alloc_file files[HS_DISCOVER_FILES];
	size_t n;
};

/* A running process: the files /proc/PID/maps shows. */
int hs_discover_pid(struct hs_probe_set *set, struct hs_discovery *d, pid_t pid,
		    const struct hs_probe_opts *o, char *err, size_t errlen);

/*
 * A command held before it execs exe: the executable itself when it is
 * statically linked, else the libraries "INTERP --list exe" says it will
 * load (the dynamic linker only lists them, it runs nothing). Returns
 * -ENOEXEC when exe is neither (a script: the caller falls back to the
 * files the held process maps).
 */
int hs_discover_exec(struct hs_probe_set *set, struct hs_discovery *d,
		     const char *exe, const struct hs_probe_opts *o, char *err,
		     size_t errlen);

#endif
