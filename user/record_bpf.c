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

#include "bpfload.h"
#include "collect.h"
#include "entrystop.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "mmapdom.h"
#include "procmaps.h"
#include "pyprocs.h"
#include "recorder.h"
#include "sideband.h"

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

static struct hs_bpf_config bpf_config(const struct record_opts *o)
{
	struct hs_bpf_config c = {
		.mode = o->classic ? HS_ATTACH_CLASSIC : hs_links_mode(),
		.frames = o->frames,
		.sample_bytes = o->sample_bytes,
		.all = o->all,
		.unwind = o->unwind,
		.max_unwind_rows = o->max_unwind_rows,
		.mmap = hs_rec_mmap_traced(o),
		.max_live = o->max_live,
		.max_stacks = o->max_stacks,
		.max_procs = o->max_procs,
		.python = o->python != HS_PY_OFF,
	};

	return c;
}

int hs_rec_load_bpf(struct recorder *r, char *err, size_t errlen)
{
	struct hs_bpf_config c = bpf_config(&r->o);
	int e;

	r->skel = hs_bpf_load(&c, err, errlen);
	if (!r->skel)
		return -1;
	r->progs = hs_bpf_probe_progs(r->skel, c.mode);
	if (r->o.verbose)
		fprintf(stderr, "heapsnap: attaching with %s\n",
			hs_attach_mode_name(c.mode));
	r->skel->links.hs_exec = bpf_program__attach(r->skel->progs.hs_exec);
	if (!r->skel->links.hs_exec) {
		snprintf(err, errlen, "cannot attach to sched_process_exec: %s",
			 strerror(errno));
		return -1;
	}
	e = hs_collect_init_slots(r->skel);
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
	struct heapsnap_bpf *s = r->skel;
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} tp[] = {
		{ s->progs.hs_sys_enter, &s->links.hs_sys_enter },
		{ s->progs.hs_sys_exit, &s->links.hs_sys_exit },
	};
	int e = 0;

	if (!s->rodata->trace_mmap)
		return;
	for (size_t i = 0; !e && i < sizeof(tp) / sizeof(tp[0]); i++) {
		*tp[i].link = bpf_program__attach(tp[i].prog);
		if (!*tp[i].link)
			e = -errno;
	}
	if (!e) {
		r->map_events = ring_buffer__new(
			bpf_map__fd(s->maps.map_events), on_map_event, r, NULL);
		if (!r->map_events)
			e = -errno;
	}
	if (!e)
		return;
	for (size_t i = 0; i < sizeof(tp) / sizeof(tp[0]); i++) {
		bpf_link__destroy(*tp[i].link);
		*tp[i].link = NULL;
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

struct bpf_link *hs_rec_hold_entry(struct recorder *r, const char *exe,
				   pid_t pid)
{
	return hs_entry_hold(r->skel->progs.hs_stop, exe, pid);
}
