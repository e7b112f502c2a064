/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The probe points of allocator files: their functions, found in the symbol
 * tables, and where on each a probe costs least.
 */
#ifndef HEAPSNAP_PROBES_H
#define HEAPSNAP_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocators.h"

/* How the mmap domain's calls are probed in libc. */
enum hs_mmap_probes {
	HS_MMAP_NONE,
	/*
	 * The calls themselves (mmap, munmap, mremap, brk, syscall()), and
	 * sbrk as a wrapper: its caller is frame 0.
	 */
	HS_MMAP_CALLS,
	/*
	 * For the syscall tracepoints: mremap and sbrk, which keep a frame
	 * of their own, as wrappers, so that their caller is frame 0.
	 */
	HS_MMAP_WRAPPERS,
};

/* One place to probe: a function of an allocator file. */
struct hs_probe_point {
	char *path; /* path that reaches the file from here */
	dev_t dev;
	ino_t ino;
	uint64_t func_offset; /* file offset of the function */
	uint64_t func_size;
	uint64_t offset; /* file offset of the probe */
	uint32_t fn; /* attach cookie: enum hs_func and HS_COOKIE_* flags */
	char *name;
	char *why; /* why the probe sits where it does */
};

struct hs_probe_opts {
	char *const *wrappers; /* more functions to treat as wrappers */
	size_t nwrappers;
	bool at_entry; /* probe at +0, never move the probe */
	/*
	 * The mmap domain's probes in libc. Only when every allocator call
	 * sets the nesting depth (exact mode): the allocator's own calls are
	 * told apart by it.
	 */
	enum hs_mmap_probes mmap;
	bool mmap_only; /* the mmap domain's functions, no allocator */
};

struct hs_probe_set {
	struct hs_probe_point *pts;
	size_t n, cap;
};

/*
 * Adds the allocator entry points found in the ELF file at path (its dynamic
 * and static symbol tables) to set, each address once, placed where they
 * cost least; a function that only jumps to another probed one is probed
 * there. Returns the number added, or a negative errno.
 */
int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   const struct hs_probe_opts *o);

/*
 * Adds one point: the function of size bytes at ELF address vaddr in the
 * file at path, for cookie (enum hs_func and HS_COOKIE_* flags), placed
 * where it costs least. Returns 1 when added, 0 when set has it already,
 * or a negative errno.
 */
int hs_probes_add(struct hs_probe_set *set, const char *path, uint64_t vaddr,
		  uint64_t size, uint32_t cookie, const char *name,
		  const struct hs_probe_opts *o);

/* What heapsnap needs to know of a file before it scans it. */
struct hs_file_info {
	enum hs_alloc_family fam;
	bool defines_malloc; /* a global function named malloc */
	bool has_symbols; /* any symbol table */
};

int hs_probes_inspect(const char *path, struct hs_file_info *fi);

void hs_probe_set_clear(struct hs_probe_set *set);

/* The name of enum hs_func fn. */
const char *hs_func_name(uint32_t fn);

#endif
