// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The record command: the recorder's life, its signals and its event loop. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "clock.h"
#include "collect.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "mmapdom.h"
#include "procmaps.h"
#include "push.h"
#include "record.h"
#include "pyprocs.h"
#include "readcut.h"
#include "recorder.h"
#include "sideband.h"
#include "snapbuild.h"
#include "symbolize.h"
#include "unwind.h"

#define TICK_MS 200
#define EV_SIGNAL UINT64_MAX
#define EV_MAP_EVENTS (UINT64_MAX - 1)
#define EV_PY_EVENTS (UINT64_MAX - 2)
#define EV_LOADER_EVENTS (UINT64_MAX - 3)

void hs_rec_defaults(struct record_opts *o)
{
	o->frames = 64;
	o->max_live = 1 << 20;
	o->max_stacks = 1 << 16;
	o->max_procs = 4096;
	o->max_unwind_rows = 1 << 23;
	o->unwind = HS_UNWIND_AUTO;
	o->python = HS_PY_AUTO;
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
	ev.data.u64 = EV_LOADER_EVENTS;
	if (r->unwind && epoll_ctl(r->epfd, EPOLL_CTL_ADD,
				   hs_unwind_fd(r->unwind), &ev))
		return -1;
	ev.data.u64 = EV_PY_EVENTS;
	if (r->python && epoll_ctl(r->epfd, EPOLL_CTL_ADD,
				   hs_python_fd(r->python), &ev))
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

static void refresh_status(struct recorder *r)
{
	struct hs_counters sum;
	struct hs_proc_val v;

	if (!r->status.tty)
		return;
	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < r->nprocs; i++)
		if (hs_collect_counters(r->skel, r->procs[i].t.pid, &v))
			hs_counters_add(&sum, &v.c);
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
		else if (id == EV_PY_EVENTS)
			hs_python_consume(r->python);
		else if (id == EV_LOADER_EVENTS)
			hs_unwind_consume(r->unwind, 0);
		else
			hs_rec_target_exited(r, (pid_t)id);
	}
	hs_sideband_drain(r->sb);
	hs_rec_housekeeping(r);
}

static void run_loop(struct recorder *r)
{
	double start = hs_now_s(), next_interval = start + r->o.interval;

	while (!r->stop) {
		double t;

		hs_rec_step(r, TICK_MS);
		if (hs_rec_all_exited(r))
			break;
		t = hs_now_s();
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
	hs_python_free(r->python);
	hs_readcut_free(r->cut);
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
	r->python = r->o.python == HS_PY_OFF ?
			    NULL :
			    hs_python_new(r->skel, r->o.python, r->o.verbose);
	if (r->o.python != HS_PY_OFF && !r->python) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	hs_snapbuild_set_python(r->build, hs_python_codes(r->python));
	if (r->o.unwind != HS_UNWIND_FP) {
		struct hs_unwind_opts uo = { .max_rows = r->o.max_unwind_rows,
					     .verbose = r->o.verbose,
					     .stop = r->o.argv != NULL,
					     .all = r->o.all };

		r->unwind = hs_unwind_new(r->skel, &uo);
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
	hs_rec_defaults(&r.o);
	ret = hs_rec_parse_args(&r.o, argc, argv);
	if (ret >= 0)
		return ret;
	ret = hs_rec_push_open(&r);
	if (ret)
		return ret;
	if (hs_rec_open(&r, err, sizeof(err))) {
		hs_cli_error(false, "%s", err);
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
