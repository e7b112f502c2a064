// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The record command: its options, its signals and its event loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cmd_analyze.h"
#include "collect.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "mmapdom.h"
#include "procmaps.h"
#include "push.h"
#include "record.h"
#include "recorder.h"
#include "sideband.h"
#include "snapbuild.h"
#include "symbolize.h"
#include "unwind.h"

#define TICK_MS 200
#define EV_SIGNAL UINT64_MAX
#define EV_MAP_EVENTS (UINT64_MAX - 1)

static int usage(FILE *f)
{
	fprintf(f,
		"Usage: heapsnap record -p PID[,PID...] [options]\n"
		"       heapsnap record [options] -- CMD [ARGS...]\n"
		"       heapsnap record -a [options]\n"
		"\n"
		"Traces every heap block of the targets and writes snapshots.\n"
		"\n"
		"  -p, --pid PID[,PID...]  attach to running processes\n"
		"  -a, --all               every process on the machine, also those\n"
		"                          started later (default heapsnap-all.hsnap)\n"
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
		"      --unwind fp|dwarf|auto  walk stacks by frame pointers, by the\n"
		"                          call-frame tables of each module, or by frame\n"
		"                          pointers where modules keep them (default)\n"
		"      --max-unwind-rows N call-frame rows the tracer can hold\n"
		"                          (default 2097152)\n"
		"      --no-mmap           do not trace the mmap domain (anonymous mmap,\n"
		"                          munmap, mremap and brk outside the allocator;\n"
		"                          --sample-bytes leaves it out too)\n"
		"      --follow-forks      also trace the children the targets fork,\n"
		"                          each as its own process\n"
		"      --classic-uprobes   use uprobe/uretprobe pairs even where the\n"
		"                          kernel has uprobe sessions\n"
		"      --push URL          also send each snapshot as pprof to the\n"
		"                          Pyroscope-compatible backend at URL (its\n"
		"                          /ingest); a push that fails is a warning, the\n"
		"                          file is still written and the exit status\n"
		"                          stays the recording's\n"
		"      --app NAME          application name for --push (default: the\n"
		"                          target's command name; A-Z a-z 0-9 _ . - /)\n"
		"      --label KEY=VALUE   a label for --push (repeatable; KEY as a\n"
		"                          Prometheus label name)\n"
		"  -v, --verbose           say what is probed and why\n"
		"  -h, --help              this help\n"
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
		if (o->npids == MAX_PIDS) {
			fprintf(stderr, "Error: at most %d pids\n", MAX_PIDS);
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
	OPT_FOLLOW_FORKS,
	OPT_NO_MMAP,
	OPT_UNWIND,
	OPT_MAX_UNWIND_ROWS,
	OPT_PUSH,
	OPT_APP,
	OPT_LABEL,
};

static int parse_unwind(const char *s, uint32_t *mode)
{
	if (!strcmp(s, "fp"))
		*mode = HS_UNWIND_FP;
	else if (!strcmp(s, "dwarf"))
		*mode = HS_UNWIND_DWARF;
	else if (!strcmp(s, "auto"))
		*mode = HS_UNWIND_AUTO;
	else
		return -1;
	return 0;
}

void hs_rec_defaults(struct record_opts *o)
{
	o->frames = 64;
	o->max_live = 1 << 20;
	o->max_stacks = 1 << 16;
	o->max_procs = 4096;
	o->max_unwind_rows = 1 << 21;
	o->unwind = HS_UNWIND_AUTO;
}

static int parse_args(struct record_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
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
		{ "follow-forks", no_argument, NULL, OPT_FOLLOW_FORKS },
		{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "max-unwind-rows", required_argument, NULL,
		  OPT_MAX_UNWIND_ROWS },
		{ "push", required_argument, NULL, OPT_PUSH },
		{ "app", required_argument, NULL, OPT_APP },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	hs_rec_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:ao:d:i:f:vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pids(o, optarg))
				return 2;
			break;
		case 'a':
			o->all = true;
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

			if (*n == MAX_LIST) {
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
		case OPT_UNWIND:
			if (parse_unwind(optarg, &o->unwind)) {
				fprintf(stderr,
					"Error: --unwind takes fp, dwarf or auto\n");
				return 2;
			}
			break;
		case OPT_MAX_UNWIND_ROWS:
			if (parse_u32(optarg, 1, 1u << 28,
				      &o->max_unwind_rows)) {
				fprintf(stderr, "Error: invalid size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_CLASSIC:
			o->classic = true;
			break;
		case OPT_PUSH:
			o->push_url = optarg;
			break;
		case OPT_APP:
			o->push_app = optarg;
			break;
		case OPT_LABEL:
			if (o->npush_labels == MAX_LIST) {
				fprintf(stderr,
					"Error: at most %d --label options\n",
					MAX_LIST);
				return 2;
			}
			o->push_labels[o->npush_labels++] = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return usage(stdout) ? 2 : 1;
		default:
			hs_report_getopt_error(false, c, argv);
			return 2;
		}
	}
	if (optind < argc)
		o->argv = argv + optind;
	if (!!o->npids + !!o->argv + o->all != 1) {
		fprintf(stderr, "Error: give one of -p PID, -a or -- CMD\n");
		return 2;
	}
	if (o->all && o->follow_forks) {
		fprintf(stderr, "Error: -a traces every process already\n");
		return 2;
	}
	if (!o->push_url && (o->push_app || o->npush_labels)) {
		fprintf(stderr, "Error: --app and --label need --push URL\n");
		return 2;
	}
	return 0;
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

/* Waited-for targets are registered by pid: the array may move. */
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
	ev.data.u64 = EV_SIGNAL;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->sigfd, &ev))
		return -1;
	ev.data.u64 = EV_MAP_EVENTS;
	if (r->map_events &&
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD,
		      ring_buffer__epoll_fd(r->map_events), &ev))
		return -1;
	for (size_t i = 0; i < r->nprocs; i++) {
		if (!r->procs[i].waited)
			continue;
		ev.data.u64 = (uint64_t)r->procs[i].t.pid;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->procs[i].t.pidfd,
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
			hs_rec_write_snapshot(r, ++r->seq);
		else
			r->stop = true;
	}
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

	if (!r->status.tty)
		return;
	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < r->nprocs; i++) {
		if (!hs_collect_counters(r->skel, r->procs[i].t.pid, &c))
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

void hs_rec_step(struct recorder *r, int timeout_ms)
{
	struct epoll_event evs[8];
	int n = epoll_wait(r->epfd, evs, 8, timeout_ms);

	for (int k = 0; k < n; k++) {
		uint64_t id = evs[k].data.u64;

		if (id == EV_SIGNAL)
			on_signal(r);
		else if (id == EV_MAP_EVENTS)
			hs_rec_consume_map_events(r);
		else
			hs_rec_target_exited(r, (pid_t)id);
	}
	hs_sideband_drain(r->sb);
	hs_rec_housekeeping(r);
}

static void run_loop(struct recorder *r)
{
	double start = now_s(), next_interval = start + r->o.interval;

	while (!r->stop) {
		double t;

		hs_rec_step(r, TICK_MS);
		if (hs_rec_all_exited(r))
			break;
		t = now_s();
		if (r->o.duration && t - start >= r->o.duration)
			break;
		if (r->o.interval && t >= next_interval) {
			hs_rec_write_snapshot(r, ++r->seq);
			next_interval += r->o.interval;
		}
		refresh_status(r);
	}
}

static void announce(const struct recorder *r)
{
	if (r->o.all) {
		fprintf(stderr,
			"heapsnap: tracing every process (%zu allocator files); snapshots go to %s\n",
			r->nfiles, r->o.output);
		return;
	}
	fprintf(stderr, "heapsnap: tracing");
	for (size_t i = 0; i < r->nprocs; i++)
		fprintf(stderr, "%s pid %d (%s)", i ? "," : "",
			r->procs[i].t.pid,
			r->procs[i].t.command ? r->procs[i].t.command : "?");
	fprintf(stderr, "; snapshots go to %s\n", r->o.output);
}

void hs_rec_close(struct recorder *r)
{
	hs_rec_free_procs(r);
	hs_push_free(r->push);
	hs_unwind_free(r->unwind);
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

int hs_rec_open(struct recorder *r, char *err, size_t errlen)
{
	libbpf_set_print(r->o.verbose ? libbpf_verbose : libbpf_quiet);
	if (hs_rec_check_system(err, errlen))
		return -1;
	r->pm = hs_procmaps_new();
	r->sym = hs_symbolizer_new();
	r->build = hs_snapbuild_new(r->pm, r->sym, r->o.wrappers,
				    r->o.nwrappers);
	r->mmaps = hs_mmapdom_new();
	if (!r->pm || !r->sym || !r->build || !r->mmaps) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hs_rec_load_bpf(r, err, errlen))
		return -1;
	if (r->o.unwind != HS_UNWIND_FP) {
		r->unwind = hs_unwind_new(r->skel, r->o.verbose);
		if (!r->unwind) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	hs_rec_start_mmap_domain(r);
	r->sb = hs_sideband_open(&hs_rec_sideband_ops, r, err, errlen);
	if (!r->sb)
		return -1;
	if (hs_rec_start(r, err, errlen))
		return -1;
	if (setup_events(r)) {
		snprintf(err, errlen, "cannot set up events: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int hs_cmd_record(int argc, char **argv)
{
	struct recorder r;
	char err[512];
	int ret;

	memset(&r, 0, sizeof(r));
	r.epfd = r.sigfd = -1;
	ret = parse_args(&r.o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : ret;
	ret = hs_rec_push_open(&r);
	if (ret)
		return ret;
	if (hs_rec_open(&r, err, sizeof(err))) {
		fprintf(stderr, "Error: %s\n", err);
		hs_rec_close(&r);
		return 1;
	}
	announce(&r);
	hs_status_init(&r.status, isatty(STDERR_FILENO));
	run_loop(&r);
	ret = hs_rec_write_snapshot(&r, 0) ? 1 : 0;
	hs_rec_report_table(&r);
	hs_rec_report_exits(&r);
	hs_push_report(r.push);
	hs_rec_close(&r);
	return ret;
}
