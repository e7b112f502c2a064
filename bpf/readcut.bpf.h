/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A snapshot is the live set at one moment, read_cut_ns, although user
 * space reads the live table over milliseconds. It leaves out the blocks
 * allocated since; the blocks of before that are freed while it reads go
 * to read_frees here, so that it misses none that the table lost before it
 * got to them.
 */
#ifndef HEAPSNAP_READCUT_BPF_H
#define HEAPSNAP_READCUT_BPF_H

#include "common.bpf.h"

/* The moment of the snapshot being read (CLOCK_MONOTONIC); 0: none. */
volatile __u64 read_cut_ns;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} read_frees SEC(".maps");

/* Block v at addr leaves the live set: was it live at the cut? */
static __always_inline void cut_keep(__u32 tgid, __u64 addr,
				     const struct hs_live_val *v)
{
	__u64 cut = *(volatile __u64 *)&read_cut_ns;
	struct hs_read_free *e;

	if (!cut || v->time_ns >= cut)
		return;
	e = bpf_ringbuf_reserve(&read_frees, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&global.c.in_flight_lost, 1);
		return;
	}
	e->tgid = tgid;
	e->pad = 0;
	e->addr = addr;
	e->v = *v;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

#endif
