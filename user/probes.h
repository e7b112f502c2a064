/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Allocator discovery, symbol lookup, probe placement, attach and detach. */
#ifndef HEAPSNAP_PROBES_H
#define HEAPSNAP_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocators.h"

struct heapsnap_bpf;

/* One place to probe: a function of an allocator file. */
struct hs_probe_point {
	char *path; /* path that reaches the file from here */
	dev_t dev;
	ino_t ino;
	uint64_t func_offset; /* file offset of the function */
	uint64_t offset; /* file offset of the probe */
	uint32_t fn; /* enum hs_func */
	char *name;
	char *why; /* why the probe sits where it does */
};

struct hs_probe_opts {
	char *const *wrappers; /* more functions to treat as wrappers */
	size_t nwrappers;
	bool at_entry; /* probe at +0, never move the probe */
	/*
	 * Probe libc's mremap and sbrk as wrappers, for the mmap domain. Only
	 * when every allocator call sets the nesting depth (exact mode): an
	 * allocator's own call to them must not leave a mark behind.
	 */
	bool syscall_wrappers;
};

struct hs_probe_set {
	struct hs_probe_point *pts;
	size_t n;
};

/*
 * Adds the allocator entry points found in the ELF file at path (its dynamic
 * and static symbol tables) to set, each address once, placed where they
 * cost least; a function that only jumps to another probed one is probed
 * there. Returns the number added, or a negative errno.
 */
int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   const struct hs_probe_opts *o);

/* What heapsnap needs to know of a file before it scans it. */
struct hs_file_info {
	enum hs_alloc_family fam;
	bool defines_malloc; /* a global function named malloc */
	bool has_symbols; /* any symbol table */
};

int hs_probes_inspect(const char *path, struct hs_file_info *fi);

void hs_probe_set_clear(struct hs_probe_set *set);

/* How the programs attach: decided once, before the programs load. */
enum hs_attach_mode {
	HS_ATTACH_SESSION, /* uprobe_multi sessions: entry decides on return */
	HS_ATTACH_CLASSIC, /* one uprobe and one uretprobe per point */
};

enum hs_floor {
	HS_FLOOR_OFF = 0,
	HS_FLOOR_RETURN, /* empty programs that take the return */
	HS_FLOOR_ENTRY, /* empty programs that skip it */
};

/* Sessions when the kernel has them. */
enum hs_attach_mode hs_probes_mode(void);
const char *hs_attach_mode_name(enum hs_attach_mode mode);

/* Chooses the programs to load for mode and floor; call before load. */
void hs_probes_prepare(struct heapsnap_bpf *skel, enum hs_attach_mode mode,
		       enum hs_floor floor);

struct hs_attachment;

/*
 * Attaches every point of set for pid (0: every process); NULL and err on
 * failure.
 */
struct hs_attachment *hs_probes_attach(struct heapsnap_bpf *skel,
				       const struct hs_probe_set *set,
				       pid_t pid, enum hs_attach_mode mode,
				       enum hs_floor floor, char *err,
				       size_t errlen);
/* The points of one file of set only; pid 0 attaches for every process. */
struct hs_attachment *hs_probes_attach_file(struct heapsnap_bpf *skel,
					    const struct hs_probe_set *set,
					    dev_t dev, ino_t ino, pid_t pid,
					    enum hs_attach_mode mode,
					    enum hs_floor floor, char *err,
					    size_t errlen);
void hs_probes_detach(struct hs_attachment *a);
size_t hs_attachment_links(const struct hs_attachment *a);

const char *hs_func_name(uint32_t fn);

#endif
