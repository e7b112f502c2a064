/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The live-block table the probes keep: buckets of keys, and the blocks. */
#ifndef HEAPSNAP_LIVETABLE_H
#define HEAPSNAP_LIVETABLE_H

#include <stdint.h>

#include "heapsnap.h"

struct heapsnap_bpf;

typedef int (*hs_block_fn)(void *arg, const struct hs_live_key *key,
			   const struct hs_live_val *val);

/*
 * Calls fn with each block of the table, stopping at its first non-zero
 * return, which it returns. The spill map is not part of it.
 */
int hs_livetable_walk(struct heapsnap_bpf *skel, hs_block_fn fn, void *arg);
/*
 * Drops the blocks allocated before before_ns by the processes whose
 * counters slot is marked in slots[nslots], in one pass over the table.
 */
int hs_livetable_forget(struct heapsnap_bpf *skel, const uint8_t *slots,
			uint32_t nslots, uint64_t before_ns);

#endif
