/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The traced processes and their counters. Each process has a slot in
 * counters, which procs maps its pid to; under -a a process seen for the
 * first time takes one from free_slots. The programs change counters only
 * with atomic instructions; user space only reads them.
 */
#ifndef HEAPSNAP_PROCS_BPF_H
#define HEAPSNAP_PROCS_BPF_H

#include "common.bpf.h"
#include "sampler.bpf.h"

/* -a: every process is traced. */
const volatile bool track_all = false;
/* The tracer itself, which a system-wide trace must leave alone. */
const volatile __u32 ignore_tgid = 0;

/* Bumped by user space at each snapshot: restarts interval_peak. */
volatile __u64 epoch;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4096);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct hs_proc_val);
	__uint(max_entries, 4096);
} counters SEC(".maps");

/* Unused slots: user space fills it, and takes slots back from the gone. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 4096);
} free_slots SEC(".maps");

/* The slot of the process a thread last looked up. */
struct hs_proc_ref {
	__u32 tgid;
	__u32 slot;
};

/* A new process seen by a system-wide trace gets a free slot. */
static __u32 *claim_slot(__u32 tgid)
{
	__u32 slot, *have;

	if (tgid == ignore_tgid)
		return NULL;
	if (bpf_map_pop_elem(&free_slots, &slot)) {
		__sync_fetch_and_add(&global.c.proc_map_full, 1);
		return NULL;
	}
	if (bpf_map_update_elem(&procs, &tgid, &slot, BPF_NOEXIST)) {
		bpf_map_push_elem(&free_slots, &slot, 0);
		have = bpf_map_lookup_elem(&procs, &tgid);
		if (!have)
			__sync_fetch_and_add(&global.c.proc_map_full, 1);
		return have;
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

/* The process's counters, through the slot the thread has cached in ref. */
static struct hs_proc_val *get_proc(struct hs_proc_ref *ref, __u32 tgid)
{
	__u32 *slot;

	if (ref->tgid != tgid) {
		slot = bpf_map_lookup_elem(&procs, &tgid);
		if (!slot && track_all)
			slot = claim_slot(tgid);
		if (!slot)
			return NULL;
		ref->slot = *slot;
		ref->tgid = tgid;
	}
	return bpf_map_lookup_elem(&counters, &ref->slot);
}

/* The counters of a process already traced, or NULL. */
static __always_inline struct hs_proc_val *traced_proc(__u32 tgid)
{
	__u32 *slot = bpf_map_lookup_elem(&procs, &tgid);

	return slot ? bpf_map_lookup_elem(&counters, slot) : NULL;
}

static void raise_to(__u64 *slot, __u64 val)
{
	__u64 seen = *(volatile __u64 *)slot;

	/* bounded CAS loop: losing it needs 8 racing threads in a row */
	for (int i = 0; i < 8 && val > seen; i++) {
		__u64 prev = __sync_val_compare_and_swap(slot, seen, val);

		if (prev == seen)
			break;
		seen = prev;
	}
}

static __always_inline void count_alloc(struct hs_proc_val *p, __u64 size)
{
	__sync_fetch_and_add(&p->c.allocs, weight_count(size));
	__sync_fetch_and_add(&p->c.bytes_allocated, weight_bytes(size));
}

static void count_live(struct hs_proc_val *p, __u64 size)
{
	__u64 w = weight_bytes(size);
	__u64 cur = __sync_fetch_and_add(&p->c.current, w) + w;
	__u64 e = epoch;

	__sync_fetch_and_add(&p->c.count, weight_count(size));
	raise_to(&p->c.peak, cur);
	if (p->epoch != e) {
		p->c.interval_peak = cur;
		p->epoch = e;
	} else {
		raise_to(&p->c.interval_peak, cur);
	}
}

static void count_free(struct hs_proc_val *p, __u64 size)
{
	__sync_fetch_and_sub(&p->c.current, weight_bytes(size));
	__sync_fetch_and_sub(&p->c.count, weight_count(size));
	__sync_fetch_and_add(&p->c.frees, weight_count(size));
}

/*
 * The process replaced its image: its counters start again (the losses
 * stay: they were losses); user space drops the blocks older than exec_ns.
 */
static __always_inline void restart_counters(struct hs_proc_val *p)
{
	__sync_lock_test_and_set(&p->c.current, 0);
	__sync_lock_test_and_set(&p->c.count, 0);
	__sync_lock_test_and_set(&p->c.peak, 0);
	__sync_lock_test_and_set(&p->c.interval_peak, 0);
	__sync_lock_test_and_set(&p->c.allocs, 0);
	__sync_lock_test_and_set(&p->c.frees, 0);
	__sync_lock_test_and_set(&p->c.bytes_allocated, 0);
	p->exec_ns = bpf_ktime_get_ns();
}

#endif
