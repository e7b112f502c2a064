/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The moment of a snapshot. Reading the live table takes milliseconds while
 * the targets go on allocating and freeing: a snapshot is the live set at
 * the moment its read began, with each process's counters of that moment,
 * and its current and count are those of its traces. The BPF side keeps
 * the blocks freed during the read that were live at that moment
 * (readcut.bpf.h); those it could not keep are counted (in_flight_lost).
 */
#ifndef HEAPSNAP_READCUT_H
#define HEAPSNAP_READCUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect.h"
#include "heapsnap.h"

struct heapsnap_bpf;
struct hs_readcut;

/* NULL when memory or the ring buffer is missing (errno says why). */
struct hs_readcut *hs_readcut_new(struct heapsnap_bpf *skel);
void hs_readcut_free(struct hs_readcut *c);

/*
 * The snapshot's moment is now: reads the counters of the processes (all
 * the table's blocks are theirs when all is set), and keeps the blocks
 * freed from now on.
 */
int hs_readcut_begin(struct hs_readcut *c, const pid_t *pids, size_t n,
		     bool all);
/*
 * A chunk of the live table as read: drops its blocks allocated since the
 * moment, notes the others (8 bytes each), sums them as read. 0 or -ENOMEM.
 */
int hs_readcut_chunk(struct hs_readcut *c, struct hs_raw *chunk);
/*
 * The live table was read: the blocks freed since the moment that the read
 * missed go in missed (its traces to free), summed as read. 0 or -ENOMEM.
 * With missed NULL (the read failed), only ends the moment.
 */
int hs_readcut_end(struct hs_readcut *c, struct hs_raw *missed);

/* What a process's heap and python traces add up to. */
struct hs_readcut_sums {
	uint64_t bytes, blocks;
	uint64_t py_bytes, py_blocks; /* of those, the python domain's */
};

/* When the traces are summed: as read, or with the estimates made. */
enum { HS_READCUT_READ, HS_READCUT_FINAL, HS_READCUT_STAGES };

/* Adds raw's traces to the sums of their processes at stage. */
void hs_readcut_sum(struct hs_readcut *c, const struct hs_raw *raw, int stage);
/* The sums of pid at stage: zeros when it has no trace. */
struct hs_readcut_sums hs_readcut_sums(const struct hs_readcut *c, pid_t pid,
				       int stage);
/* The counters of pid at the moment; false (and zeros) when it had none. */
bool hs_readcut_counters(const struct hs_readcut *c, pid_t pid,
			 struct hs_proc_val *v);

#endif
