// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The heapsnap BPF object: its programs, tables and map sizes, and its load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpfload.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "sampling.h"

/*
 * Buckets half full at max_live blocks, where few spill; the spill map holds
 * an eighth of them. Exact tracing caps each process at max_live itself.
 */
static void set_live_size(struct heapsnap_bpf *skel, uint32_t max_live)
{
	uint32_t n = max_live / (HS_WAYS / 2) + 1;

	skel->rodata->nbuckets = n;
	skel->rodata->max_live = max_live;
	bpf_map__set_max_entries(skel->maps.buckets, n);
	bpf_map__set_max_entries(skel->maps.blocks, n * HS_WAYS);
	bpf_map__set_max_entries(skel->maps.spill, max_live / 8 + 1024);
}

static void set_programs(struct heapsnap_bpf *skel,
			 const struct hs_bpf_config *c)
{
	bool session = c->mode == HS_ATTACH_SESSION;

	bpf_program__set_autoload(skel->progs.hs_session, session);
	bpf_program__set_autoload(skel->progs.hs_entry, !session);
	bpf_program__set_autoload(skel->progs.hs_return, !session);
	hs_links_prepare(skel->progs.hs_session, c->mode);
	if (session && getenv(HS_TEST_REFUSE_SESSIONS))
		hs_links_refuse_sessions(skel->progs.hs_session);
	bpf_program__set_autoload(skel->progs.hs_sys_enter, c->mmap);
	bpf_program__set_autoload(skel->progs.hs_sys_exit, c->mmap);
	bpf_program__set_autoload(skel->progs.hs_mmap_lock,
				  c->mmap && !c->mmap_tracepoints);
}

/* The frames a stack holds: with Python, its Python frames after the rest. */
static uint32_t stack_room(const struct hs_bpf_config *c)
{
	if (!c->python)
		return c->frames;
	return 2 * c->frames < HS_MAX_FRAMES ? 2 * c->frames : HS_MAX_FRAMES;
}

static void configure(struct heapsnap_bpf *skel, const struct hs_bpf_config *c)
{
	skel->rodata->traceback_limit = c->frames;
	skel->rodata->sample_bytes = c->sample_bytes;
	skel->rodata->track_all = c->all;
	skel->rodata->ignore_tgid = (__u32)getpid();
	hs_sampling_gaps((uint32_t *)skel->rodata->sample_gap, HS_SAMPLE_GAPS);
	hs_sampling_weights((uint32_t *)skel->rodata->sample_weight,
			    HS_WEIGHT_POINTS + 1, HS_WEIGHT_STEPS);
	set_programs(skel, c);
	skel->rodata->trace_mmap = c->mmap;
	skel->rodata->mmap_sys_all = c->mmap_tracepoints;
	bpf_map__set_max_entries(skel->maps.mmap_sys_procs, c->max_procs);
	skel->rodata->unwind_mode = c->unwind;
	bpf_map__set_max_entries(skel->maps.cfi_procs, c->max_procs);
	if (c->unwind == HS_UNWIND_FP) {
		bpf_map__set_max_entries(skel->maps.cfi_modules, 1);
		bpf_map__set_max_entries(skel->maps.cfi_rules, 1);
		bpf_map__set_max_entries(skel->maps.cfi_files, 1);
	}
	set_live_size(skel, c->max_live);
	if (!c->sample_bytes) /* the sampled-address filter is unused */
		bpf_map__set_max_entries(skel->maps.seen, 1);
	bpf_map__set_max_entries(skel->maps.stacks, c->max_stacks);
	bpf_map__set_max_entries(skel->maps.procs, c->max_procs);
	bpf_map__set_max_entries(skel->maps.counters, c->max_procs);
	bpf_map__set_max_entries(skel->maps.free_slots, c->max_procs);
	skel->rodata->python_frames = c->python;
	bpf_map__set_max_entries(skel->maps.py_procs,
				 c->python ? c->max_procs : 1);
	if (!c->python) {
		bpf_map__set_max_entries(skel->maps.py_code_ids, 1);
		bpf_map__set_max_entries(skel->maps.py_events, 4096);
	}
	bpf_map__set_value_size(skel->maps.stacks,
				(__u32)(offsetof(struct hs_stack_val, ip) +
					stack_room(c) * sizeof(__u64)));
}

/* NULL with err and *e, the negative errno, when it fails. */
static struct heapsnap_bpf *open_load(const struct hs_bpf_config *c, char *err,
				      size_t errlen, int *e)
{
	struct heapsnap_bpf *skel = heapsnap_bpf__open();

	if (!skel) {
		*e = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s",
			 strerror(errno));
		return NULL;
	}
	configure(skel, c);
	*e = heapsnap_bpf__load(skel);
	if (*e) {
		snprintf(err, errlen, "cannot load the BPF programs: %s",
			 strerror(-*e));
		heapsnap_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct heapsnap_bpf *hs_bpf_load(struct hs_bpf_config *c, char *err,
				 size_t errlen)
{
	struct hs_bpf_config classic = *c;
	struct heapsnap_bpf *skel;
	char ignore[256];
	int e, ec;

	skel = open_load(c, err, errlen, &e);
	if (skel || c->mode != HS_ATTACH_SESSION)
		return skel;
	classic.mode = HS_ATTACH_CLASSIC;
	skel = open_load(&classic, ignore, sizeof(ignore), &ec);
	if (!skel)
		return NULL; /* err says why the sessions did not load */
	fprintf(stderr,
		"heapsnap: warning: uprobe sessions do not load on this kernel (%s); using %s\n",
		strerror(-e), hs_attach_mode_name(HS_ATTACH_CLASSIC));
	c->mode = HS_ATTACH_CLASSIC;
	return skel;
}

struct hs_probe_progs hs_bpf_probe_progs(struct heapsnap_bpf *skel,
					 enum hs_attach_mode mode)
{
	struct hs_probe_progs pp = { mode, skel->progs.hs_entry,
				     skel->progs.hs_return };

	if (mode == HS_ATTACH_SESSION) {
		pp.entry = skel->progs.hs_session;
		pp.ret = NULL;
	}
	return pp;
}
