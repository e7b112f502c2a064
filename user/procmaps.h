/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Process mappings over time: what file was mapped where, and since when.
 * Files are opened as soon as a mapping is learned, through the process's
 * own /proc entries, so that a library that is unmapped later, or that
 * lives in another mount namespace, can still be read.
 */
#ifndef HEAPSNAP_PROCMAPS_H
#define HEAPSNAP_PROCMAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* /proc/PID/maps, read a line at a time. */
struct hs_maps_reader {
	FILE *f;
	char line[PATH_MAX + 128];
};

/* One line: a mapping. */
struct hs_maps_entry {
	uint64_t start, end, pgoff, ino;
	uint64_t dev; /* as the kernel encodes it: major << 20 | minor */
	bool exec;
	char *path; /* in the reader's line, until the next; NULL: none */
};

/* Returns 0, or a negative errno when the file cannot be read. */
int hs_maps_open(struct hs_maps_reader *r, pid_t pid);
/* The next mapping, in address order; false at the end. */
bool hs_maps_next(struct hs_maps_reader *r, struct hs_maps_entry *e);
void hs_maps_close(struct hs_maps_reader *r);

/*
 * The mapping's own link, /proc/PID/map_files/START-END: it reaches the
 * very file mapped, where a path could have been replaced since.
 */
#define HS_MAPS_LINK_LEN 64
void hs_maps_link(char *buf, size_t len, pid_t pid, uint64_t start,
		  uint64_t end);

struct hs_procmaps;

struct hs_procmaps *hs_procmaps_new(void);
void hs_procmaps_free(struct hs_procmaps *pm);

/* Reads /proc/PID/maps: the executable mappings present now. */
int hs_procmaps_read(struct hs_procmaps *pm, pid_t pid);

/* A new executable mapping, as the kernel reported it at time_ns. */
void hs_procmaps_add(struct hs_procmaps *pm, pid_t pid, uint64_t start,
		     uint64_t len, uint64_t pgoff, uint64_t ino,
		     const char *path, uint64_t time_ns);

/* The process called exec at time_ns: older mappings are gone. */
void hs_procmaps_exec(struct hs_procmaps *pm, pid_t pid, uint64_t time_ns);

void hs_procmaps_forget(struct hs_procmaps *pm, pid_t pid);

/* Is addr in pid's dynamic loader (ld-linux.so and the like)? */
bool hs_procmaps_in_loader(struct hs_procmaps *pm, pid_t pid, uint64_t addr,
			   uint64_t time_ns);

/* A forked child starts with its parent's mappings. */
void hs_procmaps_fork(struct hs_procmaps *pm, pid_t parent, pid_t child);

struct hs_module_file {
	const char *path; /* path inside the process's mount namespace */
	int fd; /* -1 when the file could not be opened */
	bool foreign; /* path is not ours: another mount namespace or root */
};

/*
 * Finds the file mapped at addr in pid at time_ns. Sets *file and *file_off
 * (the offset of addr in the file); false when no mapping covers addr.
 */
bool hs_procmaps_find(struct hs_procmaps *pm, pid_t pid, uint64_t addr,
		      uint64_t time_ns, const struct hs_module_file **file,
		      uint64_t *file_off);

#endif
