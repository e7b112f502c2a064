// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The live top: traces running processes like record does, and every
 * refresh takes a snapshot in memory, compares it with the previous one and
 * redraws the screen. Keys act at once; the terminal is restored on every
 * way out.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "live.h"
#include "live_render.h"
#include "recorder.h"
#include "render.h"
#include "snapfile.h"
#include "snapshot.h"

#define STEP_MS 200
#define MSG_LEN (PATH_MAX + 64)
#define EV_RECORDER 1
#define EV_KEYS 2

struct live {
	double delay; /* seconds between refreshes */
	size_t limit; /* rows; 0: as many as the terminal has room for */
	bool json; /* one JSON object per refresh */
	struct hs_query q;
	struct recorder r;
	struct hs_snapshot *prev; /* the previous refresh's snapshot */
	struct hs_counters prev_totals;
	double start, prev_time, next_refresh;
	double peak_since; /* uptime of the last reset; < 0: none */
	uint64_t peak; /* since that reset */
	char target[256];
	char message[MSG_LEN];
	int epfd;
	bool screen; /* full-screen on a terminal, else one frame per refresh */
	bool keys; /* stdin is a terminal whose keys we read */
	bool exited;
	bool quit;
	struct termios saved;
};

static void term_size(unsigned int *w, unsigned int *h)
{
	struct winsize ws;

	*w = 80;
	*h = 24;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		*w = ws.ws_col;
		*h = ws.ws_row;
	}
}

static void term_enter(struct live *l)
{
	struct termios t;

	if (l->keys && !tcgetattr(STDIN_FILENO, &l->saved)) {
		t = l->saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
			l->keys = false;
	} else {
		l->keys = false;
	}
	if (l->screen)
		fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
}

static void term_leave(struct live *l)
{
	if (l->keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &l->saved);
	if (l->screen)
		fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
}

static void describe_targets(struct live *l)
{
	const struct recorder *r = &l->r;
	size_t used = 0;

	if (r->nprocs == 1) {
		snprintf(l->target, sizeof(l->target), "pid %d (%s)",
			 r->procs[0].t.pid,
			 r->procs[0].t.command ? r->procs[0].t.command : "?");
		return;
	}
	used = (size_t)snprintf(l->target, sizeof(l->target), "pids");
	for (size_t i = 0; i < r->nprocs && used < sizeof(l->target); i++)
		used += (size_t)snprintf(l->target + used,
					 sizeof(l->target) - used, "%s%d",
					 i ? "," : " ", r->procs[i].t.pid);
}

static double per_s(uint64_t now, uint64_t before, double dt)
{
	return dt > 0 && now >= before ? (double)(now - before) / dt : 0;
}

static void print_json(struct live *l, const struct hs_live_view *v,
		       const struct hs_render_opts *ro)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uptime", json_object_new_double(v->uptime));
	json_object_object_add(o, "current",
			       json_object_new_uint64(v->current));
	json_object_object_add(o, "count", json_object_new_uint64(v->count));
	json_object_object_add(o, "peak", json_object_new_uint64(v->peak));
	json_object_object_add(o, "allocs_per_s",
			       json_object_new_double(v->allocs_per_s));
	json_object_object_add(o, "bytes_per_s",
			       json_object_new_double(v->bytes_per_s));
	json_object_object_add(o, "frees_per_s",
			       json_object_new_double(v->frees_per_s));
	json_object_object_add(o, "lost", json_object_new_uint64(v->lost));
	json_object_object_add(o, "exited", json_object_new_boolean(l->exited));
	json_object_object_add(o, "top", hs_stats_json(v->st, ro));
	hs_cli_print_json(o);
}

static void show(struct live *l, const struct hs_snapshot *cur,
		 const struct hs_stats *st, double t)
{
	struct hs_render_opts ro = { .json = true, .limit = l->limit };
	struct hs_counters c;
	struct hs_lost lost;
	struct hs_live_view v = {
		.target = l->target,
		.uptime = t - l->start,
		.delay = l->delay,
		.peak_since = l->peak_since,
		.exited = l->exited,
		.st = st,
		.limit = l->limit,
		.message = l->message[0] ? l->message : NULL,
		.ansi = l->screen,
	};
	double dt = t - l->prev_time;

	hs_snapshot_totals(cur, &c);
	v.current = c.current;
	v.count = c.count;
	v.peak = l->peak_since >= 0 ? l->peak : c.peak;
	v.allocs_per_s = per_s(c.allocs, l->prev_totals.allocs, dt);
	v.frees_per_s = per_s(c.frees, l->prev_totals.frees, dt);
	v.bytes_per_s =
		per_s(c.bytes_allocated, l->prev_totals.bytes_allocated, dt);
	hs_snapshot_lost(cur, &lost);
	v.lost = lost.map_full + lost.stack_failures + lost.events;
	if (l->json) {
		print_json(l, &v, &ro);
	} else if (l->screen) {
		term_size(&v.width, &v.height);
		fputs("\033[H", stdout);
		hs_live_render(stdout, &v);
	} else {
		if (!v.limit)
			v.limit = 10;
		hs_live_render(stdout, &v);
		fputc('\n', stdout);
	}
	fflush(stdout);
	l->prev_totals = c;
}

/* Takes a snapshot (numbered seq when it is to be written) and shows it. */
static int refresh(struct live *l, uint32_t seq, struct hs_snapshot **out)
{
	char err[MSG_LEN / 2];
	struct hs_snapshot *cur;
	struct hs_counters c;
	struct hs_stats st;
	double t = hs_now_s();

	cur = hs_rec_take_snapshot(&l->r, seq, err, sizeof(err));
	if (!cur) {
		snprintf(l->message, sizeof(l->message), "%s", err);
		return -1;
	}
	hs_snapshot_totals(cur, &c);
	if (c.interval_peak > l->peak)
		l->peak = c.interval_peak;
	if (hs_stats_diff(l->prev, cur, &l->q, &st)) {
		hs_snapshot_free(cur);
		snprintf(l->message, sizeof(l->message), "out of memory");
		return -1;
	}
	hs_stats_sort_by_size(&st);
	show(l, cur, &st, t);
	hs_stats_free(&st);
	hs_snapshot_free(l->prev);
	l->prev = cur;
	l->prev_time = t;
	l->next_refresh = t + l->delay;
	if (out)
		*out = cur;
	return 0;
}

static void write_snapshot(struct live *l)
{
	char path[PATH_MAX], err[MSG_LEN / 2];
	struct hs_snapshot *s;
	uint32_t seq = ++l->r.seq;

	snprintf(path, sizeof(path), "%s.%u", l->r.o.output, seq);
	l->message[0] = '\0';
	if (refresh(l, seq, &s))
		return;
	if (hs_snapfile_write(s, path, err, sizeof(err)))
		snprintf(l->message, sizeof(l->message), "%s", err);
	else
		snprintf(l->message, sizeof(l->message), "wrote %s", path);
	refresh(l, 0, NULL);
}

static void cycle_key(struct live *l)
{
	l->q.key = l->q.key == HS_KEY_PROCESS ? HS_KEY_LINENO :
						(enum hs_key)(l->q.key + 1);
	if (l->q.key == HS_KEY_PROCESS)
		l->q.cumulative = false;
}

static void on_key(struct live *l, char k)
{
	switch (k) {
	case 'q':
	case 'Q':
		l->quit = true;
		return;
	case 's':
		write_snapshot(l);
		return;
	case 'c':
		if (l->q.key != HS_KEY_PROCESS)
			l->q.cumulative = !l->q.cumulative;
		break;
	case 'k':
		cycle_key(l);
		break;
	case 'r':
		l->peak_since = hs_now_s() - l->start;
		l->peak = l->prev_totals.current;
		break;
	default:
		return;
	}
	l->message[0] = '\0';
	refresh(l, 0, NULL);
}

static void read_keys(struct live *l)
{
	char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
			l->keys = false;
		}
		return;
	}
	for (ssize_t i = 0; i < n && !l->quit; i++)
		on_key(l, buf[i]);
}

static int setup_events(struct live *l)
{
	struct epoll_event ev = { .events = EPOLLIN };

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -1;
	ev.data.u32 = EV_RECORDER;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->r.epfd, &ev))
		return -1;
	ev.data.u32 = EV_KEYS;
	if (l->keys && epoll_ctl(l->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev))
		l->keys = false;
	return 0;
}

static int wait_ms(const struct live *l)
{
	double left = (l->next_refresh - hs_now_s()) * 1000;

	if (l->exited)
		return STEP_MS;
	return left < 0 ? 0 : left > STEP_MS ? STEP_MS : (int)left + 1;
}

static void run(struct live *l)
{
	struct epoll_event evs[4];

	while (!l->quit && !l->r.stop) {
		int n = epoll_wait(l->epfd, evs, 4, wait_ms(l));

		for (int k = 0; k < n; k++)
			if (evs[k].data.u32 == EV_KEYS)
				read_keys(l);
		hs_rec_step(&l->r, 0);
		if (!l->exited && hs_rec_all_exited(&l->r)) {
			l->exited = true;
			refresh(l, 0, NULL);
			/* without a terminal to read q from, this is the end */
			if (!l->keys)
				return;
		}
		if (!l->exited && hs_now_s() >= l->next_refresh)
			refresh(l, 0, NULL);
	}
}

static int start(struct live *l, const struct hs_cli_args *a, char *err,
		 size_t errlen)
{
	hs_rec_defaults(&l->r.o);
	if (a->nlive > MAX_PIDS) {
		snprintf(err, errlen, "at most %d pids", MAX_PIDS);
		return -1;
	}
	if (a->q.python_only) {
		snprintf(err, errlen,
			 "--python-frames-only reads snapshot files, not the live view");
		return -1;
	}
	for (size_t i = 0; i < a->nlive; i++)
		l->r.o.pids[i] = (pid_t)a->live_pids[i];
	l->r.o.npids = a->nlive;
	l->r.o.output = a->output;
	if (hs_rec_open(&l->r, err, errlen))
		return -1;
	describe_targets(l);
	l->start = l->prev_time = hs_now_s();
	/* what was live at attach, the base of the first change column */
	l->prev = hs_rec_take_snapshot(&l->r, 0, err, errlen);
	if (!l->prev)
		return -1;
	hs_snapshot_totals(l->prev, &l->prev_totals);
	l->next_refresh = l->start + l->delay;
	if (setup_events(l)) {
		snprintf(err, errlen, "cannot set up events: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int hs_live_top(const struct hs_cli_args *a)
{
	struct live l;
	char err[MSG_LEN];
	int rc = 0;

	memset(&l, 0, sizeof(l));
	l.delay = a->delay ? a->delay : 1.0;
	l.limit = a->limit_given ? a->limit : 0;
	l.json = a->json;
	l.q = a->q;
	l.r.epfd = l.r.sigfd = -1;
	l.epfd = -1;
	l.peak_since = -1;
	l.screen = !l.json && isatty(STDOUT_FILENO);
	l.keys = l.screen && isatty(STDIN_FILENO);
	if (start(&l, a, err, sizeof(err))) {
		hs_cli_error(l.json, "%s", err);
		rc = 1;
		goto out;
	}
	term_enter(&l);
	refresh(&l, 0, NULL);
	run(&l);
	term_leave(&l);
out:
	hs_snapshot_free(l.prev);
	hs_rec_close(&l.r);
	if (l.epfd >= 0)
		close(l.epfd);
	return rc;
}
