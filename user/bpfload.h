/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The heapsnap BPF object, configured for a recording and loaded. */
#ifndef HEAPSNAP_BPFLOAD_H
#define HEAPSNAP_BPFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "links.h"
#include "probes_attach.h"

struct heapsnap_bpf;

struct hs_bpf_config {
	enum hs_attach_mode mode; /* asked for; the load may fall back */
	uint32_t frames; /* traceback limit, 1..HS_MAX_FRAMES */
	uint64_t sample_bytes; /* 0: every allocation */
	bool all; /* every process */
	uint32_t unwind; /* enum hs_unwind_mode */
	uint32_t max_unwind_rows;
	bool mmap; /* trace the mmap domain */
	bool mmap_tracepoints; /* every process's on the syscall tracepoints */
	uint32_t max_live;
	uint32_t max_stacks;
	uint32_t max_procs;
	bool python; /* read Python frames where a process runs CPython */
};

/*
 * Test hook: set to 1, the uprobe session program fails to load, as on a
 * kernel that refuses its kfuncs, so that the fallback can be tested.
 */
#define HS_TEST_REFUSE_SESSIONS "HEAPSNAP_TEST_REFUSE_SESSIONS"

/*
 * Opens and loads the programs for c; NULL with err on failure. When the
 * uprobe sessions do not load but classic uprobes do, it says so in one
 * line on stderr and sets c->mode to HS_ATTACH_CLASSIC.
 */
struct heapsnap_bpf *hs_bpf_load(struct hs_bpf_config *c, char *err,
				 size_t errlen);

/* The programs at the probe points of a loaded object. */
struct hs_probe_progs hs_bpf_probe_progs(struct heapsnap_bpf *skel,
					 enum hs_attach_mode mode);

#endif
