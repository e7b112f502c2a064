/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The mmap domain: the anonymous regions each process mapped outside its
 * allocator, kept from the kernel's events. A partial munmap splits a
 * region; an mremap moves or resizes one; a brk grows or shrinks the top.
 */
#ifndef HEAPSNAP_MMAPDOM_H
#define HEAPSNAP_MMAPDOM_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "heapsnap.h"

struct hs_mmapdom;

struct hs_mmapdom *hs_mmapdom_new(void);
void hs_mmapdom_free(struct hs_mmapdom *d);

void hs_mmapdom_apply(struct hs_mmapdom *d, const struct hs_map_event *e);
void hs_mmapdom_forget(struct hs_mmapdom *d, uint32_t pid);
/* Drops what a process mapped before time_ns (its exec). */
void hs_mmapdom_exec(struct hs_mmapdom *d, uint32_t pid, uint64_t time_ns);

/* Appends pid's regions to raw as traces of the mmap domain. */
int hs_mmapdom_collect(struct hs_mmapdom *d, uint32_t pid,
		       struct hs_raw *raw);
/*
 * Reads pid's counters (allocs: mappings, frees: unmappings); starts a new
 * interval_peak period.
 */
void hs_mmapdom_counters(struct hs_mmapdom *d, uint32_t pid,
			 struct hs_counters *c);

#endif
