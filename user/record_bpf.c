// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* record: the system checks, the BPF programs, and the mmap domain's events. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
		.mmap_tracepoints = o->mmap_tracepoints,
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

/* The raw sys_enter and sys_exit tracepoints, once. */
static int attach_tracepoints(struct heapsnap_bpf *s)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} tp[] = {
		{ s->progs.hs_sys_enter, &s->links.hs_sys_enter },
		{ s->progs.hs_sys_exit, &s->links.hs_sys_exit },
	};
	int e = 0;

	for (size_t i = 0; !e && i < sizeof(tp) / sizeof(tp[0]); i++) {
		if (!*tp[i].link)
			*tp[i].link = bpf_program__attach(tp[i].prog);
		if (!*tp[i].link)
			e = -errno;
	}
	if (!e)
		return 0;
	for (size_t i = 0; i < sizeof(tp) / sizeof(tp[0]); i++) {
		bpf_link__destroy(*tp[i].link);
		*tp[i].link = NULL;
	}
	return e;
}

/*
 * The mmap domain's events; on the syscall tracepoints from the start with
 * --mmap-tracepoints. Failing here only leaves the mmap domain out, with a
 * warning.
 */
void hs_rec_start_mmap_domain(struct recorder *r)
{
	struct heapsnap_bpf *s = r->skel;
	int e = 0;

	if (!s->rodata->trace_mmap)
		return;
	r->map_events = ring_buffer__new(bpf_map__fd(s->maps.map_events),
					 on_map_event, r, NULL);
	if (!r->map_events)
		e = -errno;
	if (!e && s->rodata->mmap_sys_all)
		e = attach_tracepoints(s);
	if (!e && !s->rodata->mmap_sys_all) {
		s->links.hs_mmap_lock =
			bpf_program__attach(s->progs.hs_mmap_lock);
		if (!s->links.hs_mmap_lock)
			fprintf(stderr,
				"heapsnap: warning: the mmap domain's calls made outside libc cannot be counted: cannot attach to mmap_lock_start_locking: %s\n",
				strerror(errno));
	}
	if (!e)
		return;
	ring_buffer__free(r->map_events);
	r->map_events = NULL;
	fprintf(stderr,
		"heapsnap: warning: the mmap domain is not traced: %s: %s\n",
		s->rodata->mmap_sys_all ?
			"cannot attach to syscall tracepoints" :
			"cannot read its events",
		strerror(-e));
}

int hs_rec_mmap_by_tracepoints(struct recorder *r, pid_t pid)
{
	struct heapsnap_bpf *s = r->skel;
	__u32 key = (__u32)pid;
	__u8 one = 1;
	int e;

	if (!r->map_events || s->rodata->mmap_sys_all)
		return 0;
	e = attach_tracepoints(s);
	if (!e && bpf_map_update_elem(bpf_map__fd(s->maps.mmap_sys_procs), &key,
				      &one, BPF_ANY))
		e = -errno;
	if (e) {
		fprintf(stderr,
			"heapsnap: warning: pid %d: its mmap domain is not traced: cannot attach to syscall tracepoints: %s\n",
			pid, strerror(-e));
		return e;
	}
	fprintf(stderr,
		"heapsnap: pid %d: no libc mmap function to probe: its mmap domain is traced on the syscall tracepoints, which every syscall on this host goes through while they are attached (--no-mmap leaves it out)\n",
		pid);
	return 0;
}

/* The kernel's numbering of a device: 12 bits of major, 20 of minor. */
static __u32 kernel_dev(dev_t dev)
{
	return (__u32)(major(dev) << 20 | minor(dev));
}

static void add_mmap_func(int fd, const struct hs_probe_point *pt)
{
	struct hs_file_key key = { .ino = pt->ino, .dev = kernel_dev(pt->dev) };
	struct hs_mmap_funcs fs = { .n = 0 };
	uint64_t lo = pt->func_offset, hi = lo + pt->func_size;

	bpf_map_lookup_elem(fd, &key, &fs);
	for (__u32 i = 0; i < fs.n; i++)
		if (fs.r[i].lo == lo)
			return;
	if (fs.n == HS_MMAP_FUNCS_MAX)
		return;
	fs.r[fs.n].lo = lo;
	fs.r[fs.n].hi = hi > lo ? hi : lo + 1;
	fs.n++;
	bpf_map_update_elem(fd, &key, &fs, BPF_ANY);
}

void hs_rec_mmap_funcs(struct recorder *r, const struct hs_probe_set *set)
{
	if (!r->skel || !r->skel->links.hs_mmap_lock)
		return;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t fn = HS_COOKIE_FN(set->pts[i].fn);

		if (fn == HS_FN_SYS_ENTRY || fn == HS_FN_SYS_AFTER)
			add_mmap_func(bpf_map__fd(r->skel->maps.mmap_funcs),
				      &set->pts[i]);
	}
}

void hs_rec_mmap_forget(struct recorder *r, pid_t pid)
{
	__u32 key = (__u32)pid;

	if (r->skel && r->skel->links.hs_sys_enter)
		bpf_map_delete_elem(bpf_map__fd(r->skel->maps.mmap_sys_procs),
				    &key);
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
