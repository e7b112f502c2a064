// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The record command: targets, signals, and the snapshot schedule. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect.h"
#include "discover.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "mmapdom.h"
#include "probes.h"
#include "procmaps.h"
#include "record.h"
#include "sampling.h"
#include "sideband.h"
#include "snapbuild.h"
#include "snapfile.h"
#include "status.h"
#include "symbolize.h"
#include "targets.h"

#define MAX_TARGETS 64
#define TICK_MS 200

struct record_opts {
	pid_t pids[MAX_TARGETS];
	size_t npids;
	char **argv; /* the command after "--" */
	const char *output;
	char output_buf[64];
	double duration; /* seconds; 0 = until the targets exit or a signal */
	double interval;
	uint32_t frames;
	char *libs[16];
	size_t nlibs;
	char *wrappers[16];
	size_t nwrappers;
	uint32_t max_live;
	uint32_t max_stacks;
	uint32_t max_procs;
	uint64_t sample_bytes;
	bool at_entry;
	bool classic;
	bool follow_forks;
	bool no_mmap;
	enum hs_floor floor;
	bool verbose;
};

struct proc_state {
	uint64_t last_current; /* current at the previous snapshot */
	uint64_t epoch; /* epoch that started at the previous snapshot */
	uint64_t exec_ns; /* the exec whose old blocks are dropped */
};

struct recorder {
	struct record_opts o;
	struct heapsnap_bpf *skel;
	struct hs_target targets[MAX_TARGETS];
	struct proc_state state[MAX_TARGETS];
	struct hs_attachment *attach[MAX_TARGETS];
	size_t ntargets;
	struct hs_probe_set probes;
	enum hs_attach_mode mode;
	struct hs_procmaps *pm;
	struct hs_symbolizer *sym;
	struct hs_snapbuild *build;
	struct hs_sideband *sb;
	struct hs_mmapdom *mmaps;
	struct ring_buffer *map_events; /* NULL: the mmap domain is not traced */
	struct hs_status status;
	uint64_t lost_events;
	uint32_t seq; /* last numbered snapshot written */
	pid_t forks[MAX_TARGETS]; /* children of targets, to trace */
	size_t nforks;
	int epfd, sigfd;
	bool stop;
};

static int usage(FILE *f)
{
	fprintf(f,
		"Usage: heapsnap record -p PID[,PID...] [options]\n"
		"       heapsnap record [options] -- CMD [ARGS...]\n"
		"\n"
		"Traces every heap block of the targets and writes snapshots.\n"
		"\n"
		"  -p, --pid PID[,PID...]  attach to running processes\n"
		"  -o, --output FILE       snapshot file (default heapsnap-PID.hsnap)\n"
		"  -d, --duration SECONDS  stop after that long\n"
		"  -i, --interval SECONDS  also write FILE.1, FILE.2, ... every SECONDS\n"
		"  -f, --frames N          traceback limit, 1..%d (default 64)\n"
		"      --lib PATH          probe the allocator in PATH (repeatable)\n"
		"      --wrapper GLOB      treat matching functions as allocation\n"
		"                          wrappers: their caller is frame 0\n"
		"      --max-live N        live blocks the tracer can hold (default 1048576)\n"
		"      --max-stacks N      distinct stacks it can hold (default 65536)\n"
		"      --sample-bytes N    production mode: sample one block per N bytes\n"
		"                          allocated on average (Poisson, per thread);\n"
		"                          sizes and counts become unbiased estimates\n"
		"      --probe-at-entry    probe each function at its first instruction\n"
		"                          instead of its cheapest equivalent one\n"
		"      --no-mmap           do not trace the mmap domain (anonymous mmap,\n"
		"                          munmap, mremap and brk outside the allocator;\n"
		"                          --sample-bytes leaves it out too)\n"
		"      --follow-forks      also trace the children the targets fork,\n"
		"                          each as its own process\n"
		"      --classic-uprobes   use uprobe/uretprobe pairs even where the\n"
		"                          kernel has uprobe sessions\n"
		"      --floor return|entry  benchmarking: attach empty programs at the\n"
		"                          same points (taking or skipping the return)\n"
		"  -v, --verbose           say what is probed and why\n"
		"\n"
		"SIGUSR1 writes a numbered snapshot now; SIGINT or SIGTERM writes the\n"
		"final snapshot and exits.\n",
		HS_MAX_FRAMES);
	return f == stderr ? 2 : 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_pids(struct record_opts *o, char *arg)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint32_t pid;

		if (parse_u32(tok, 1, INT_MAX, &pid)) {
			fprintf(stderr, "Error: invalid pid '%s'\n", tok);
			return -1;
		}
		if (o->npids == MAX_TARGETS) {
			fprintf(stderr, "Error: at most %d pids\n", MAX_TARGETS);
			return -1;
		}
		o->pids[o->npids++] = (pid_t)pid;
	}
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	if (end == s || *end || !(*out > 0)) {
		fprintf(stderr, "Error: invalid number of seconds '%s'\n", s);
		return -1;
	}
	return 0;
}

enum {
	OPT_LIB = 256,
	OPT_WRAPPER,
	OPT_MAX_LIVE,
	OPT_MAX_STACKS,
	OPT_SAMPLE_BYTES,
	OPT_AT_ENTRY,
	OPT_CLASSIC,
	OPT_FLOOR,
	OPT_FOLLOW_FORKS,
	OPT_NO_MMAP,
};

static int parse_floor(const char *s, enum hs_floor *floor)
{
	if (!strcmp(s, "return"))
		*floor = HS_FLOOR_RETURN;
	else if (!strcmp(s, "entry"))
		*floor = HS_FLOOR_ENTRY;
	else
		return -1;
	return 0;
}

static int parse_args(struct record_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "frames", required_argument, NULL, 'f' },
		{ "lib", required_argument, NULL, OPT_LIB },
		{ "wrapper", required_argument, NULL, OPT_WRAPPER },
		{ "max-live", required_argument, NULL, OPT_MAX_LIVE },
		{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
		{ "probe-at-entry", no_argument, NULL, OPT_AT_ENTRY },
		{ "classic-uprobes", no_argument, NULL, OPT_CLASSIC },
		{ "floor", required_argument, NULL, OPT_FLOOR },
		{ "follow-forks", no_argument, NULL, OPT_FOLLOW_FORKS },
		{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	o->frames = 64;
	o->max_live = 1 << 20;
	o->max_stacks = 1 << 16;
	o->max_procs = 4096;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:o:d:i:f:vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pids(o, optarg))
				return 2;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'd':
			if (parse_seconds(optarg, &o->duration))
				return 2;
			break;
		case 'i':
			if (parse_seconds(optarg, &o->interval))
				return 2;
			break;
		case 'f':
			if (parse_u32(optarg, 1, HS_MAX_FRAMES, &o->frames)) {
				fprintf(stderr,
					"Error: --frames must be 1..%d\n",
					HS_MAX_FRAMES);
				return 2;
			}
			break;
		case OPT_LIB:
		case OPT_WRAPPER: {
			char **arr = c == OPT_LIB ? o->libs : o->wrappers;
			size_t *n = c == OPT_LIB ? &o->nlibs : &o->nwrappers;

			if (*n == 16) {
				fprintf(stderr, "Error: too many %s options\n",
					c == OPT_LIB ? "--lib" : "--wrapper");
				return 2;
			}
			arr[(*n)++] = optarg;
			break;
		}
		case OPT_MAX_LIVE:
		case OPT_MAX_STACKS:
			if (parse_u32(optarg, 1, 1u << 30,
				      c == OPT_MAX_LIVE ? &o->max_live :
							  &o->max_stacks)) {
				fprintf(stderr, "Error: invalid size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_SAMPLE_BYTES: {
			uint32_t n;

			if (parse_u32(optarg, 1, 1u << 30, &n)) {
				fprintf(stderr,
					"Error: --sample-bytes must be 1..%u\n",
					1u << 30);
				return 2;
			}
			o->sample_bytes = n;
			break;
		}
		case OPT_AT_ENTRY:
			o->at_entry = true;
			break;
		case OPT_FOLLOW_FORKS:
			o->follow_forks = true;
			break;
		case OPT_NO_MMAP:
			o->no_mmap = true;
			break;
		case OPT_CLASSIC:
			o->classic = true;
			break;
		case OPT_FLOOR:
			if (parse_floor(optarg, &o->floor)) {
				fprintf(stderr,
					"Error: --floor takes return or entry\n");
				return 2;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return usage(stdout) ? 2 : 1;
		default:
			return usage(stderr);
		}
	}
	if (optind < argc)
		o->argv = argv + optind;
	if (!!o->npids + !!o->argv != 1) {
		fprintf(stderr, "Error: give either -p PID or -- CMD\n");
		return 2;
	}
	return 0;
}

/*
 * The mmap domain needs every allocator call to set the nesting depth, so
 * that the allocator's own mappings are told apart: sampling skips that.
 */
static bool mmap_traced(const struct record_opts *o)
{
	return !o->no_mmap && !o->sample_bytes && !o->floor;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt,
			  va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Privilege and kernel features, checked before anything is touched. */
static int check_system(char *err, size_t errlen)
{
	struct stat st;

	if (geteuid() != 0) {
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

#define MMAP_PROGS 8

struct mmap_prog {
	struct bpf_program *prog;
	struct bpf_link **link;
};

/* The syscall tracepoints of the mmap domain. */
static void mmap_progs(struct heapsnap_bpf *s, struct mmap_prog out[MMAP_PROGS])
{
	const struct mmap_prog p[MMAP_PROGS] = {
		{ s->progs.hs_enter_mmap, &s->links.hs_enter_mmap },
		{ s->progs.hs_exit_mmap, &s->links.hs_exit_mmap },
		{ s->progs.hs_enter_munmap, &s->links.hs_enter_munmap },
		{ s->progs.hs_exit_munmap, &s->links.hs_exit_munmap },
		{ s->progs.hs_enter_mremap, &s->links.hs_enter_mremap },
		{ s->progs.hs_exit_mremap, &s->links.hs_exit_mremap },
		{ s->progs.hs_enter_brk, &s->links.hs_enter_brk },
		{ s->progs.hs_exit_brk, &s->links.hs_exit_brk },
	};

	memcpy(out, p, sizeof(p));
}

static void set_mmap_autoload(struct heapsnap_bpf *s, bool on)
{
	struct mmap_prog p[MMAP_PROGS];

	mmap_progs(s, p);
	for (int i = 0; i < MMAP_PROGS; i++)
		bpf_program__set_autoload(p[i].prog, on);
}

static int load_bpf(struct recorder *r, char *err, size_t errlen)
{
	struct heapsnap_bpf *skel;
	int e;

	skel = heapsnap_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s",
			 strerror(errno));
		return -1;
	}
	skel->rodata->traceback_limit = r->o.frames;
	skel->rodata->sample_bytes = r->o.sample_bytes;
	hs_sampling_gaps((uint32_t *)skel->rodata->sample_gap, HS_SAMPLE_GAPS);
	hs_sampling_weights((uint32_t *)skel->rodata->sample_weight,
			    HS_WEIGHT_POINTS + 1, HS_WEIGHT_STEPS);
	r->mode = r->o.classic ? HS_ATTACH_CLASSIC : hs_probes_mode();
	hs_probes_prepare(skel, r->mode, r->o.floor);
	skel->rodata->trace_mmap = mmap_traced(&r->o);
	set_mmap_autoload(skel, skel->rodata->trace_mmap);
	if (r->o.verbose)
		fprintf(stderr, "heapsnap: attaching with %s\n",
			hs_attach_mode_name(r->mode));
	bpf_map__set_max_entries(skel->maps.live, r->o.max_live);
	bpf_map__set_max_entries(skel->maps.stacks, r->o.max_stacks);
	bpf_map__set_max_entries(skel->maps.procs, r->o.max_procs);
	bpf_map__set_max_entries(skel->maps.counters, r->o.max_procs);
	bpf_map__set_max_entries(skel->maps.free_slots, r->o.max_procs);
	bpf_map__set_value_size(skel->maps.stacks,
				(__u32)(offsetof(struct hs_stack_val, ip) +
					r->o.frames * sizeof(__u64)));
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

static int find_target(const struct recorder *r, pid_t pid)
{
	for (size_t i = 0; i < r->ntargets; i++)
		if (r->targets[i].pid == pid)
			return (int)i;
	return -1;
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

	if (size < sizeof(*e) || find_target(r, (pid_t)e->tgid) < 0)
		return 0;
	if (e->op != HS_MAP_MUNMAP && by_loader(r, e))
		return 0;
	hs_mmapdom_apply(r->mmaps, e);
	return 0;
}

/* Mapping events first: whether a region is the loader's depends on them. */
static void consume_map_events(struct recorder *r)
{
	if (!r->map_events)
		return;
	hs_sideband_drain(r->sb);
	ring_buffer__consume(r->map_events);
}

/* libbpf finds syscall tracepoints through tracefs; mount it if need be. */
static int ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	return 0;
}

/* Failing here only leaves the mmap domain out, with a warning. */
static void start_mmap_domain(struct recorder *r)
{
	struct mmap_prog p[MMAP_PROGS];
	int e = ensure_tracefs();

	if (!r->skel->rodata->trace_mmap)
		return;
	mmap_progs(r->skel, p);
	for (int i = 0; !e && i < MMAP_PROGS; i++) {
		*p[i].link = bpf_program__attach(p[i].prog);
		if (!*p[i].link)
			e = -errno;
	}
	if (!e) {
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

static void sb_mmap(void *ctx, pid_t pid, uint64_t start, uint64_t len,
		    uint64_t pgoff, uint64_t ino, const char *path,
		    uint64_t time_ns)
{
	struct recorder *r = ctx;

	if (find_target(r, pid) >= 0)
		hs_procmaps_add(r->pm, pid, start, len, pgoff, ino, path,
				time_ns);
}

static void sb_exec(void *ctx, pid_t pid, uint64_t time_ns)
{
	struct recorder *r = ctx;
	int i = find_target(r, pid);

	if (i < 0)
		return;
	hs_procmaps_exec(r->pm, pid, time_ns);
	r->targets[i].exec_pending = true;
}

static void sb_fork(void *ctx, pid_t pid, pid_t ppid, uint64_t time_ns)
{
	struct recorder *r = ctx;

	(void)time_ns;
	if (!r->o.follow_forks || find_target(r, ppid) < 0)
		return;
	hs_procmaps_fork(r->pm, ppid, pid);
	if (r->nforks < MAX_TARGETS)
		r->forks[r->nforks++] = pid;
	else
		r->lost_events++;
}

static void sb_lost(void *ctx, uint64_t n)
{
	((struct recorder *)ctx)->lost_events += n;
}

static const struct hs_sideband_ops sb_ops = {
	.mmap = sb_mmap,
	.exec = sb_exec,
	.fork = sb_fork,
	.lost = sb_lost,
};

/*
 * The allocator files of a target: a command not yet run is asked of its
 * dynamic linker, a running process of its maps; --lib overrides both.
 */
static int probe_set_for(struct recorder *r, const struct hs_target *t,
			 char *err, size_t errlen)
{
	struct hs_probe_opts po = {
		.wrappers = r->o.wrappers,
		.nwrappers = r->o.nwrappers,
		.at_entry = r->o.at_entry,
		.syscall_wrappers = mmap_traced(&r->o),
	};
	struct hs_discovery d = { .n = 0 };
	size_t i;
	int n;

	hs_probe_set_clear(&r->probes);
	if (!r->o.nlibs) {
		n = -ENOEXEC;
		if (t->exe)
			n = hs_discover_exec(&r->probes, &d, t->exe, &po, err,
					     errlen);
		if (n == -ENOEXEC)
			n = hs_discover_pid(&r->probes, &d, t->pid, &po, err,
					    errlen);
		for (i = 0; r->o.verbose && i < d.n; i++)
			fprintf(stderr,
				"heapsnap: pid %d: allocator %s (%s; %d probe points)\n",
				t->pid, d.files[i].shown, d.files[i].why,
				d.files[i].points);
		return n;
	}
	for (i = 0; i < r->o.nlibs; i++) {
		n = hs_probes_scan(&r->probes, r->o.libs[i], &po);
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", r->o.libs[i],
				 n < 0 ? strerror(-n) :
					 "no allocator functions in it");
			return -1;
		}
		if (r->o.verbose)
			fprintf(stderr,
				"heapsnap: pid %d: allocator %s (--lib; %d probe points)\n",
				t->pid, r->o.libs[i], n);
	}
	return 0;
}

static void print_probes(const struct recorder *r, pid_t pid)
{
	for (size_t i = 0; i < r->probes.n; i++) {
		const struct hs_probe_point *p = &r->probes.pts[i];

		fprintf(stderr, "heapsnap: pid %d: %s (%s) at %s+0x%llx, %s\n",
			pid, p->name, hs_func_name(p->fn), p->path,
			(unsigned long long)p->func_offset, p->why);
	}
}

static int attach_target(struct recorder *r, size_t i, char *err,
			 size_t errlen)
{
	pid_t pid = r->targets[i].pid;
	int e;

	e = hs_collect_add_proc(r->skel, pid);
	if (e) {
		snprintf(err, errlen, "cannot track pid %d: %s", pid,
			 strerror(-e));
		return -1;
	}
	if (!r->o.nlibs && hs_target_check_exe(&r->targets[i], err, errlen))
		return -1;
	if (probe_set_for(r, &r->targets[i], err, errlen))
		return -1;
	if (r->o.verbose)
		print_probes(r, pid);
	r->attach[i] = hs_probes_attach(r->skel, &r->probes, pid, r->mode,
					r->o.floor, err, errlen);
	if (!r->attach[i])
		return -1;
	hs_procmaps_read(r->pm, pid);
	return 0;
}

static void snapshot_path(const struct recorder *r, uint32_t seq, char *buf,
			  size_t len)
{
	if (seq)
		snprintf(buf, len, "%s.%u", r->o.output, seq);
	else
		snprintf(buf, len, "%s", r->o.output);
}

/*
 * A process's totals cover both domains. The peak is the heap's peak plus
 * the mmap domain's: the two are kept apart, so this is an upper bound.
 */
static void add_mmap_counters(struct recorder *r, pid_t pid,
			      struct hs_counters *c)
{
	struct hs_mmap_counters m;

	hs_mmapdom_counters(r->mmaps, (uint32_t)pid, &m);
	c->current += m.current;
	c->count += m.count;
	c->peak += m.peak;
	c->interval_peak += m.interval_peak;
	c->allocs += m.maps;
	c->frees += m.unmaps;
	c->bytes_allocated += m.bytes_mapped;
}

static void add_proc(struct recorder *r, struct hs_snapshot *s, size_t i,
		     uint64_t epoch)
{
	struct proc_state *ps = &r->state[i];
	struct hs_raw_counters c;
	struct hs_proc p;

	memset(&p, 0, sizeof(p));
	p.pid = (uint32_t)r->targets[i].pid;
	p.command = hs_snapshot_intern(s, r->targets[i].command);
	p.exited = r->targets[i].exited;
	hs_collect_counters(r->skel, r->targets[i].pid, &c);
	p.counters.current = c.current;
	p.counters.count = c.count;
	p.counters.peak = c.peak;
	p.counters.interval_peak = ps->last_current;
	if (c.interval_epoch == ps->epoch && c.interval_peak > ps->last_current)
		p.counters.interval_peak = c.interval_peak;
	p.counters.allocs = c.allocs;
	p.counters.frees = c.frees;
	p.counters.bytes_allocated = c.bytes_allocated;
	p.counters.map_full = c.map_full;
	p.counters.stack_failures = c.stack_failures;
	p.counters.stack_collisions = c.stack_collisions;
	p.counters.unknown_frees = c.unknown_frees;
	add_mmap_counters(r, r->targets[i].pid, &p.counters);
	if (i == 0)
		p.counters.lost_events =
			r->lost_events + hs_collect_global_losses(r->skel);
	ps->last_current = c.current;
	ps->epoch = epoch;
	hs_snapshot_add_proc(s, &p);
}

static struct hs_snapshot *take_snapshot(struct recorder *r, uint32_t seq,
					 char *err, size_t errlen)
{
	pid_t pids[MAX_TARGETS];
	struct hs_snapshot *s;
	struct utsname uts;
	struct timespec now;
	struct hs_raw raw;
	uint64_t epoch;
	int e;

	hs_sideband_drain(r->sb);
	for (size_t i = 0; i < r->ntargets; i++)
		pids[i] = r->targets[i].pid;
	s = hs_snapshot_new();
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	consume_map_events(r);
	e = hs_collect(r->skel, pids, r->ntargets, &raw);
	for (size_t i = 0; !e && i < r->ntargets; i++)
		e = hs_mmapdom_collect(r->mmaps, (uint32_t)pids[i], &raw);
	if (!e)
		e = hs_collect_stacks(r->skel, &raw);
	if (e) {
		snprintf(err, errlen, "cannot read the BPF maps: %s",
			 strerror(-e));
		hs_snapshot_free(s);
		return NULL;
	}
	epoch = hs_collect_new_epoch(r->skel);
	s->time_ns = (uint64_t)now.tv_sec * 1000000000ull +
		     (uint64_t)now.tv_nsec;
	s->command = hs_snapshot_intern(s, r->targets[0].command);
	s->kernel = hs_snapshot_intern(s, uname(&uts) ? NULL : uts.release);
	s->traceback_limit = r->o.frames;
	s->sample_bytes = r->o.sample_bytes;
	s->tracer_memory = hs_collect_map_memory(r->skel);
	s->seq = seq;
	for (size_t i = 0; i < r->ntargets; i++)
		add_proc(r, s, i, epoch);
	e = hs_snapbuild_add(r->build, s, &raw);
	if (e) {
		snprintf(err, errlen, "cannot build the snapshot: %s",
			 strerror(-e));
		hs_raw_free(&raw);
		hs_snapshot_free(s);
		return NULL;
	}
	if (raw.stacks_missing && s->nprocs)
		s->procs[0].counters.stack_failures += raw.stacks_missing;
	hs_raw_free(&raw);
	hs_snapshot_seal(s);
	return s;
}

/* The final snapshot is the command's result; a numbered one is not. */
static void report_write_error(uint32_t seq, const char *err)
{
	if (seq)
		fprintf(stderr, "heapsnap: warning: %s; recording goes on\n",
			err);
	else
		fprintf(stderr, "Error: %s\n", err);
}

static int write_snapshot(struct recorder *r, uint32_t seq)
{
	char path[PATH_MAX], err[512];
	struct hs_snapshot *s;
	int ret;

	snapshot_path(r, seq, path, sizeof(path));
	s = take_snapshot(r, seq, err, sizeof(err));
	if (!s) {
		hs_status_clear(&r->status);
		report_write_error(seq, err);
		return -1;
	}
	ret = hs_snapfile_write(s, path, err, sizeof(err));
	hs_status_clear(&r->status);
	if (ret)
		report_write_error(seq, err);
	else
		hs_status_wrote(&r->status, s, path);
	hs_snapshot_free(s);
	return ret;
}

static int setup_events(struct recorder *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -1;
	r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->sigfd < 0 || r->epfd < 0)
		return -1;
	ev.data.u64 = UINT64_MAX;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->sigfd, &ev))
		return -1;
	ev.data.u64 = UINT64_MAX - 1;
	if (r->map_events &&
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD,
		      ring_buffer__epoll_fd(r->map_events), &ev))
		return -1;
	for (size_t i = 0; i < r->ntargets; i++) {
		ev.data.u64 = i;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->targets[i].pidfd,
			      &ev))
			return -1;
	}
	return 0;
}

static void on_signal(struct recorder *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			write_snapshot(r, ++r->seq);
		else
			r->stop = true;
	}
}

static bool all_exited(const struct recorder *r)
{
	for (size_t i = 0; i < r->ntargets; i++)
		if (!r->targets[i].exited)
			return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void refresh_status(struct recorder *r)
{
	struct hs_raw_counters sum, c;

	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < r->ntargets; i++) {
		if (!hs_collect_counters(r->skel, r->targets[i].pid, &c))
			continue;
		sum.current += c.current;
		sum.count += c.count;
		sum.peak += c.peak;
		sum.map_full += c.map_full;
		sum.stack_failures += c.stack_failures;
	}
	hs_status_update(&r->status, sum.current, sum.count, sum.peak,
			 sum.map_full + sum.stack_failures + r->lost_events);
}

/*
 * After an exec the probes stay (they follow the task), the counters were
 * restarted by the BPF exec hook, and the old image's blocks go here.
 */
static void handle_execs(struct recorder *r)
{
	struct hs_raw_counters c;
	char *cmd;

	for (size_t i = 0; i < r->ntargets; i++) {
		struct hs_target *t = &r->targets[i];

		if (!t->exec_pending ||
		    !hs_collect_counters(r->skel, t->pid, &c) ||
		    c.exec_ns == r->state[i].exec_ns)
			continue;
		hs_collect_forget_image(r->skel, t->pid);
		hs_mmapdom_exec(r->mmaps, (uint32_t)t->pid, c.exec_ns);
		r->state[i].exec_ns = c.exec_ns;
		r->state[i].last_current = 0;
		t->exec_pending = false;
		cmd = hs_read_cmdline(t->pid);
		if (cmd) {
			free(t->command);
			t->command = cmd;
		}
		if (r->o.verbose)
			fprintf(stderr, "heapsnap: pid %d called exec: %s\n",
				t->pid, t->command ? t->command : "?");
	}
}

/* --follow-forks: each child of a target becomes a target of its own. */
static void adopt_forks(struct recorder *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char err[512];

	for (size_t k = 0; k < r->nforks; k++) {
		size_t i = r->ntargets;

		if (i == MAX_TARGETS) {
			fprintf(stderr,
				"heapsnap: warning: pid %d not traced: at most %d processes\n",
				r->forks[k], MAX_TARGETS);
			continue;
		}
		if (hs_target_open(&r->targets[i], r->forks[k], err,
				   sizeof(err)) ||
		    attach_target(r, i, err, sizeof(err))) {
			hs_target_close(&r->targets[i]);
			if (r->o.verbose)
				fprintf(stderr, "heapsnap: child %d: %s\n",
					r->forks[k], err);
			continue;
		}
		ev.data.u64 = i;
		epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->targets[i].pidfd, &ev);
		r->ntargets++;
		if (r->o.verbose)
			fprintf(stderr, "heapsnap: tracing child pid %d\n",
				r->forks[k]);
	}
	r->nforks = 0;
}

static void run_loop(struct recorder *r)
{
	double start = now_s(), next_interval = start + r->o.interval;
	struct epoll_event evs[8];

	while (!r->stop) {
		int n = epoll_wait(r->epfd, evs, 8, TICK_MS);
		double t;

		for (int k = 0; k < n; k++) {
			uint64_t id = evs[k].data.u64;

			if (id == UINT64_MAX) {
				on_signal(r);
			} else if (id == UINT64_MAX - 1) {
				consume_map_events(r);
			} else if (id < r->ntargets &&
				   !r->targets[id].exited) {
				hs_target_reap(&r->targets[id]);
				epoll_ctl(r->epfd, EPOLL_CTL_DEL,
					  r->targets[id].pidfd, NULL);
			}
		}
		hs_sideband_drain(r->sb);
		handle_execs(r);
		adopt_forks(r);
		if (all_exited(r))
			break;
		t = now_s();
		if (r->o.duration && t - start >= r->o.duration)
			break;
		if (r->o.interval && t >= next_interval) {
			write_snapshot(r, ++r->seq);
			next_interval += r->o.interval;
		}
		refresh_status(r);
	}
}

static void report_exits(const struct recorder *r)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct hs_target *t = &r->targets[i];

		if (!t->exited)
			continue;
		if (t->status && WIFSIGNALED(t->status))
			fprintf(stderr,
				"heapsnap: pid %d was killed by signal %d; the snapshot holds what it had allocated\n",
				t->pid, WTERMSIG(t->status));
		else
			fprintf(stderr, "heapsnap: pid %d exited\n", t->pid);
	}
}

static int start_targets(struct recorder *r, char *err, size_t errlen)
{
	struct hs_gate gate = { -1, -1 };
	int e;

	if (r->o.argv) {
		if (hs_target_spawn(&r->targets[0], r->o.argv, &gate, err,
				    errlen))
			return -1;
		r->ntargets = 1;
	} else {
		for (size_t i = 0; i < r->o.npids; i++) {
			if (hs_target_open(&r->targets[i], r->o.pids[i], err,
					   errlen))
				return -1;
			r->ntargets++;
		}
	}
	if (!r->o.output) {
		snprintf(r->o.output_buf, sizeof(r->o.output_buf),
			 "heapsnap-%d.hsnap", r->targets[0].pid);
		r->o.output = r->o.output_buf;
	}
	/* Found now, not when a long recording ends. */
	if (hs_snapfile_check_path(r->o.output, err, errlen))
		return -1;
	for (size_t i = 0; i < r->ntargets; i++)
		if (attach_target(r, i, err, errlen))
			return -1;
	if (r->o.argv) {
		e = hs_target_release(&gate);
		if (e) {
			snprintf(err, errlen, "cannot run %s: %s", r->o.argv[0],
				 strerror(-e));
			return -1;
		}
	}
	return 0;
}

static void announce(const struct recorder *r)
{
	fprintf(stderr, "heapsnap: tracing");
	for (size_t i = 0; i < r->ntargets; i++)
		fprintf(stderr, "%s pid %d (%s)", i ? "," : "",
			r->targets[i].pid,
			r->targets[i].command ? r->targets[i].command : "?");
	fprintf(stderr, "; snapshots go to %s\n", r->o.output);
}

static void cleanup(struct recorder *r)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		hs_probes_detach(r->attach[i]);
		if (r->targets[i].child && !r->targets[i].exited) {
			kill(r->targets[i].pid, SIGKILL);
			hs_target_reap(&r->targets[i]);
		}
		hs_target_close(&r->targets[i]);
	}
	hs_probe_set_clear(&r->probes);
	hs_sideband_close(r->sb);
	ring_buffer__free(r->map_events);
	hs_mmapdom_free(r->mmaps);
	heapsnap_bpf__destroy(r->skel);
	hs_snapbuild_free(r->build);
	hs_symbolizer_free(r->sym);
	hs_procmaps_free(r->pm);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->sigfd >= 0)
		close(r->sigfd);
}

int hs_cmd_record(int argc, char **argv)
{
	struct recorder r;
	char err[512];
	int ret = 1;

	memset(&r, 0, sizeof(r));
	r.epfd = r.sigfd = -1;
	ret = parse_args(&r.o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : ret;
	ret = 1;
	libbpf_set_print(r.o.verbose ? libbpf_verbose : libbpf_quiet);
	if (check_system(err, sizeof(err)))
		goto fail;
	r.pm = hs_procmaps_new();
	r.sym = hs_symbolizer_new();
	r.build = hs_snapbuild_new(r.pm, r.sym, r.o.wrappers, r.o.nwrappers);
	r.mmaps = hs_mmapdom_new();
	if (!r.pm || !r.sym || !r.build || !r.mmaps) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (load_bpf(&r, err, sizeof(err)))
		goto fail;
	start_mmap_domain(&r);
	r.sb = hs_sideband_open(&sb_ops, &r, err, sizeof(err));
	if (!r.sb)
		goto fail;
	if (start_targets(&r, err, sizeof(err)))
		goto fail;
	if (setup_events(&r)) {
		snprintf(err, sizeof(err), "cannot set up events: %s",
			 strerror(errno));
		goto fail;
	}
	announce(&r);
	hs_status_init(&r.status, isatty(STDERR_FILENO));
	run_loop(&r);
	ret = write_snapshot(&r, 0) ? 1 : 0;
	report_exits(&r);
	cleanup(&r);
	return ret;
fail:
	fprintf(stderr, "Error: %s\n", err);
	cleanup(&r);
	return 1;
}
