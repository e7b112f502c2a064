/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Allocator discovery, symbol lookup, probe placement, attach and detach. */
#ifndef HEAPSNAP_PROBES_H
#define HEAPSNAP_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct heapsnap_bpf;

/* One place to probe: a function of an allocator file. */
struct hs_probe_point {
	char *path; /* path that reaches the file from here */
	dev_t dev;
	ino_t ino;
	uint64_t offset; /* file offset of the probe */
	uint32_t fn; /* enum hs_func */
	char *name;
};

struct hs_probe_set {
	struct hs_probe_point *pts;
	size_t n;
};

/*
 * Adds the allocator entry points found in the ELF file at path (its dynamic
 * and static symbol tables) to set, each address once. wrappers names extra
 * functions to treat as allocation wrappers. Returns the number added, or a
 * negative errno.
 */
int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   char *const *wrappers, size_t nwrappers);

/*
 * The allocator files a process maps: libc and, when present, the C++
 * runtime, reachable through /proc/PID/root. Adds their probe points.
 */
int hs_probes_discover(struct hs_probe_set *set, pid_t pid,
		       char *const *wrappers, size_t nwrappers, char *err,
		       size_t errlen);

void hs_probe_set_clear(struct hs_probe_set *set);

struct hs_attachment;

/* Attaches every point of set for pid; NULL and err on failure. */
struct hs_attachment *hs_probes_attach(struct heapsnap_bpf *skel,
				       const struct hs_probe_set *set,
				       pid_t pid, char *err, size_t errlen);
void hs_probes_detach(struct hs_attachment *a);
size_t hs_attachment_links(const struct hs_attachment *a);

const char *hs_func_name(uint32_t fn);

#endif
