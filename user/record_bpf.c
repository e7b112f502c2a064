// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* record: the system checks, the BPF programs, and the mmap domain's events. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "mmapdom.h"
#include "procmaps.h"
#include "recorder.h"
#include "sampling.h"
#include "sideband.h"

/*
 * The mmap domain needs every allocator call to set the nesting depth, so
 * that the allocator's own mappings are told apart: sampling skips that.
 */
bool hs_rec_mmap_traced(const struct record_opts *o)
{
	return !o->no_mmap && !o->sample_bytes && !o->floor;
}

/* Root, or CAP_BPF and CAP_PERFMON in the effective set. */
static bool privileged(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (geteuid() == 0)
		return true;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return (d[CAP_BPF / 32].effective & (1u << (CAP_BPF % 32))) &&
	       (d[CAP_PERFMON / 32].effective & (1u << (CAP_PERFMON % 32)));
}

/* Privilege and kernel features, checked before anything is touched. */
int hs_rec_check_system(char *err, size_t errlen)
{
	struct stat st;

	if (!privileged()) {
		snprintf(err, errlen,
			 "heapsnap record needs root (or CAP_BPF and CAP_PERFMON)");
		return -1;
	}
	if (stat("/sys/kernel/btf/vmlinux", &st)) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux); heapsnap needs CONFIG_DEBUG_INFO_BTF");
		return -1;
	}
	if (stat("/sys/bus/event_source/devices/uprobe", &st)) {
		snprintf(err, errlen,
			 "this kernel has no uprobes; heapsnap needs CONFIG_UPROBE_EVENTS");
		return -1;
	}
	return 0;
}

#define MMAP_PROGS 2

struct mmap_prog {
	struct bpf_program *prog;
	struct bpf_link **link;
};

/*
 * The syscall tracepoints of the mmap domain, or the floor's empty programs
 * on them: the bench's exact floor pays what the domain's probe points cost
 * every syscall (the uretprobe's return is one), as heapsnap does.
 */
static void mmap_progs(struct heapsnap_bpf *s, bool floor,
		       struct mmap_prog out[MMAP_PROGS])
{
	const struct mmap_prog p[MMAP_PROGS] = {
		{ s->progs.hs_sys_enter, &s->links.hs_sys_enter },
		{ s->progs.hs_sys_exit, &s->links.hs_sys_exit },
	};
	const struct mmap_prog f[MMAP_PROGS] = {
		{ s->progs.hs_floor_sys_enter, &s->links.hs_floor_sys_enter },
		{ s->progs.hs_floor_sys_exit, &s->links.hs_floor_sys_exit },
	};

	memcpy(out, floor ? f : p, sizeof(p));
}

/* The floor of exact tracing keeps the mmap domain's probe points. */
static bool floor_sys(const struct record_opts *o)
{
	return o->floor == HS_FLOOR_RETURN && !o->no_mmap;
}

static void set_mmap_autoload(struct heapsnap_bpf *s,
			      const struct record_opts *o)
{
	struct mmap_prog p[MMAP_PROGS];

	mmap_progs(s, false, p);
	for (int i = 0; i < MMAP_PROGS; i++)
		bpf_program__set_autoload(p[i].prog, hs_rec_mmap_traced(o));
	mmap_progs(s, true, p);
	for (int i = 0; i < MMAP_PROGS; i++)
		bpf_program__set_autoload(p[i].prog, floor_sys(o));
}

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

static void set_options(struct recorder *r, struct heapsnap_bpf *skel)
{
	skel->rodata->traceback_limit = r->o.frames;
	skel->rodata->sample_bytes = r->o.sample_bytes;
	skel->rodata->track_all = r->o.all;
	skel->rodata->ignore_tgid = (__u32)getpid();
	hs_sampling_gaps((uint32_t *)skel->rodata->sample_gap, HS_SAMPLE_GAPS);
	hs_sampling_weights((uint32_t *)skel->rodata->sample_weight,
			    HS_WEIGHT_POINTS + 1, HS_WEIGHT_STEPS);
	hs_probes_prepare(skel, r->mode, r->o.floor);
	skel->rodata->trace_mmap = hs_rec_mmap_traced(&r->o);
	skel->rodata->unwind_mode = r->o.unwind;
	bpf_map__set_max_entries(skel->maps.cfi_rows,
				 r->o.unwind == HS_UNWIND_FP ?
					 1 :
					 r->o.max_unwind_rows);
	bpf_map__set_max_entries(skel->maps.cfi_procs, r->o.max_procs);
	set_mmap_autoload(skel, &r->o);
	set_live_size(skel, r->o.max_live);
	if (!r->o.sample_bytes) /* the sampled-address filter is unused */
		bpf_map__set_max_entries(skel->maps.seen, 1);
	bpf_map__set_max_entries(skel->maps.stacks, r->o.max_stacks);
	bpf_map__set_max_entries(skel->maps.procs, r->o.max_procs);
	bpf_map__set_max_entries(skel->maps.counters, r->o.max_procs);
	bpf_map__set_max_entries(skel->maps.free_slots, r->o.max_procs);
	bpf_map__set_value_size(skel->maps.stacks,
				(__u32)(offsetof(struct hs_stack_val, ip) +
					r->o.frames * sizeof(__u64)));
}

int hs_rec_load_bpf(struct recorder *r, char *err, size_t errlen)
{
	struct heapsnap_bpf *skel;
	int e;

	skel = heapsnap_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s",
			 strerror(errno));
		return -1;
	}
	r->mode = r->o.classic ? HS_ATTACH_CLASSIC : hs_probes_mode();
	if (r->o.verbose)
		fprintf(stderr, "heapsnap: attaching with %s\n",
			hs_attach_mode_name(r->mode));
	set_options(r, skel);
	e = heapsnap_bpf__load(skel);
	if (e) {
		snprintf(err, errlen, "cannot load the BPF programs: %s",
			 strerror(-e));
		heapsnap_bpf__destroy(skel);
		return -1;
	}
	r->skel = skel;
	skel->links.hs_exec = bpf_program__attach(skel->progs.hs_exec);
	if (!skel->links.hs_exec) {
		snprintf(err, errlen, "cannot attach to sched_process_exec: %s",
			 strerror(errno));
		return -1;
	}
	e = hs_collect_init_slots(skel);
	if (e) {
		snprintf(err, errlen, "cannot fill the process slots: %s",
			 strerror(-e));
		return -1;
	}
	return 0;
}

/*
 * The dynamic loader maps anonymous memory for libraries' zeroed data and
 * for its own early heap: that is not the program's mmap domain.
 */
static bool by_loader(struct recorder *r, const struct hs_map_event *e)
{
	struct hs_stack_val st;

	if (!e->stack || bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.stacks),
					     &e->stack, &st))
		return false;
	return st.nframe &&
	       hs_procmaps_in_loader(r->pm, (pid_t)e->tgid, st.ip[0],
				     e->time_ns);
}

static int on_map_event(void *ctx, void *data, size_t size)
{
	const struct hs_map_event *e = data;
	struct recorder *r = ctx;

	if (size < sizeof(*e) ||
	    (!r->o.all && !hs_rec_find(r, (pid_t)e->tgid)))
		return 0;
	if (e->op != HS_MAP_MUNMAP && by_loader(r, e))
		return 0;
	hs_mmapdom_apply(r->mmaps, e);
	return 0;
}

/* Mapping events first: whether a region is the loader's depends on them. */
void hs_rec_consume_map_events(struct recorder *r)
{
	if (!r->map_events)
		return;
	hs_sideband_drain(r->sb);
	ring_buffer__consume(r->map_events);
}

/* Failing here only leaves the mmap domain out, with a warning. */
void hs_rec_start_mmap_domain(struct recorder *r)
{
	struct mmap_prog p[MMAP_PROGS];
	bool floor = floor_sys(&r->o);
	int e = 0;

	if (!r->skel->rodata->trace_mmap && !floor)
		return;
	mmap_progs(r->skel, floor, p);
	for (int i = 0; !e && i < MMAP_PROGS; i++) {
		*p[i].link = bpf_program__attach(p[i].prog);
		if (!*p[i].link)
			e = -errno;
	}
	if (!e && !floor) {
		r->map_events = ring_buffer__new(
			bpf_map__fd(r->skel->maps.map_events), on_map_event, r,
			NULL);
		if (!r->map_events)
			e = -errno;
	}
	if (!e)
		return;
	for (int i = 0; i < MMAP_PROGS; i++) {
		bpf_link__destroy(*p[i].link);
		*p[i].link = NULL;
	}
	fprintf(stderr,
		"heapsnap: warning: the mmap domain is not traced: cannot attach to syscall tracepoints: %s\n",
		strerror(-e));
}

void hs_rec_report_table(const struct recorder *r)
{
	if (r->o.verbose && r->skel)
		fprintf(stderr,
			"heapsnap: live table: %u buckets of %d blocks, %llu blocks in its spill map\n",
			bpf_map__max_entries(r->skel->maps.buckets), HS_WAYS,
			(unsigned long long)r->skel->bss->global.spilled);
}
