/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Reads the BPF maps into raw traces and counters: the live table in place
 * (livetable.c), the others by batch operations.
 */
#ifndef HEAPSNAP_COLLECT_H
#define HEAPSNAP_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heapsnap.h"
#include "progress.h"

struct heapsnap_bpf;

struct hs_raw_trace {
	uint64_t addr;
	uint64_t size;
	uint64_t stack; /* key into the raw stacks; 0: none */
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	uint32_t pid;
	uint32_t tid;
	uint32_t total_nframe;
	uint8_t domain;
	uint8_t flags; /* HS_TRACE_* (snapshot.h) */
	uint32_t blocks; /* 0: one */
};

struct hs_raw_stack {
	uint64_t key;
	uint32_t pid;
	uint32_t flags; /* HS_STACK_* */
	uint64_t stop_ip; /* where the unwinding was cut short */
	uint32_t nips;
	uint64_t *ips; /* return addresses, most recent call first */
};

struct hs_raw {
	struct hs_raw_trace *traces;
	size_t ntraces;
};

/* Takes a chunk of traces; may change or drop them. 0, or a negative errno. */
typedef int (*hs_chunk_fn)(void *arg, struct hs_raw *chunk);

/*
 * Hands fn the live heap traces of the given processes (all when npids is
 * 0), read from the maps in place, HS_COLLECT_CHUNK at a time: what a
 * snapshot holds is never all in our memory at once. Stops at fn's first
 * error, which it returns. progress may be NULL.
 */
#define HS_COLLECT_CHUNK 4096
int hs_collect_stream(struct heapsnap_bpf *skel, const pid_t *pids,
		      size_t npids, hs_chunk_fn fn, void *arg,
		      const struct hs_progress *progress);
/*
 * Reads the stack of key: its return addresses go in ips, which has room
 * for HS_MAX_FRAMES. 0, or -ENOENT when the map does not hold it.
 */
int hs_collect_stack(struct heapsnap_bpf *skel, uint64_t key,
		     struct hs_raw_stack *rs, uint64_t *ips);

/* The processes that have counters (a system-wide trace meets them). */
int hs_collect_pids(struct heapsnap_bpf *skel, pid_t **pids, size_t *n);
/* Puts every counters slot in the free list; once, after load. */
int hs_collect_init_slots(struct heapsnap_bpf *skel);
/* The counters of one process; false (and zeros) when it has none yet. */
bool hs_collect_counters(struct heapsnap_bpf *skel, pid_t pid,
			 struct hs_proc_val *v);
int hs_collect_add_proc(struct heapsnap_bpf *skel, pid_t pid);
/* Drops the blocks of a process's image before its last exec. */
void hs_collect_forget_image(struct heapsnap_bpf *skel, pid_t pid);
/* Drops processes' traces, stacks and counters from the maps, at once. */
void hs_collect_forget(struct heapsnap_bpf *skel, const pid_t *pids, size_t n);
/* Starts a new interval_peak period. */
uint64_t hs_collect_new_epoch(struct heapsnap_bpf *skel);
/* Bytes of kernel memory the maps use now (approximate). */
uint64_t hs_collect_map_memory(struct heapsnap_bpf *skel);
/* The global losses the BPF side counts; it leaves the others zero. */
void hs_collect_global(struct heapsnap_bpf *skel, struct hs_global_counters *g);

#endif
