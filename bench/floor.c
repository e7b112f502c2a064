// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The bench's floor: attaches empty programs to a running process at
 * exactly heapsnap's probe points, found as record -p finds them, attached
 * the same way, with returns where heapsnap takes them, the mmap domain's
 * probes in libc included; then waits for the process to exit.
 *
 *   floor -p PID [--entry] [--no-mmap] [--classic-uprobes]
 *         [--python exact|pools]
 *
 * --entry: every probe skips its return, as heapsnap's unsampled calls do
 * (sampling leaves the mmap domain out, so its probes go too).
 * --python: a CPython's allocator too, as record --python traces it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "discover.h"
#include "floor.skel.h"
#include "floorbpf.h"
#include "links.h"
#include "probes_attach.h"
#include "pytarget.h"
#include "targets.h"

struct floor {
	struct hs_floor_config c;
	pid_t pid;
	struct floor_bpf *skel;
	struct hs_target t;
	struct hs_probe_set set;
	struct hs_links *links;
	enum hs_pymode python; /* HS_PY_OFF: no Python probes */
};

static int usage(void)
{
	fprintf(stderr,
		"usage: floor -p PID [--entry] [--no-mmap] [--classic-uprobes] [--python exact|pools]\n");
	return 2;
}

static int parse(struct floor *f, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "entry", no_argument, NULL, 'e' },
		{ "no-mmap", no_argument, NULL, 'n' },
		{ "classic-uprobes", no_argument, NULL, 'c' },
		{ "python", required_argument, NULL, 'y' },
		{},
	};
	bool no_mmap = false, classic = false;
	int c;

	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			f->pid = atoi(optarg);
			break;
		case 'e':
			f->c.entry_only = true;
			break;
		case 'n':
			no_mmap = true;
			break;
		case 'c':
			classic = true;
			break;
		case 'y':
			if (!strcmp(optarg, "exact"))
				f->python = HS_PY_EXACT;
			else if (!strcmp(optarg, "pools"))
				f->python = HS_PY_POOLS;
			else
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (f->pid <= 0 || optind != argc)
		return -1;
	f->c.mode = classic ? HS_ATTACH_CLASSIC : hs_links_mode();
	f->c.mmap = !f->c.entry_only && !no_mmap;
	return 0;
}

/* A CPython's allocator, at the points record --python probes. */
static int python_points(struct floor *f, const struct hs_probe_opts *po,
			 char *err, size_t errlen)
{
	struct hs_pyfiles *files;
	struct hs_pytarget t;
	int r;

	if (f->python == HS_PY_OFF)
		return 0;
	files = hs_pyfiles_new();
	r = files ? hs_pytarget_find(files, f->pid, f->python, &t) : -ENOMEM;
	if (r == 1 && t.mode != f->python)
		r = -EOPNOTSUPP;
	if (r == 1)
		r = hs_pytarget_probes(&t, &f->set, po);
	hs_pyfiles_free(files);
	if (r > 0)
		return 0;
	snprintf(err, errlen, "pid %d: no CPython allocator to probe %s: %s",
		 f->pid, hs_pymode_name(f->python),
		 r < 0 ? strerror(-r) : "no points");
	return -1;
}

/* What record -p attaches, with the same placement. */
static int attach(struct floor *f, char *err, size_t errlen)
{
	struct hs_probe_opts po = {
		.mmap = f->c.mmap ? HS_MMAP_CALLS : HS_MMAP_NONE,
	};
	struct hs_discovery d = { .n = 0 };
	struct hs_probe_progs pp;

	if (hs_target_open(&f->t, f->pid, err, errlen)) {
		f->t.pidfd = -1;
		return -1;
	}
	if (hs_discover_pid(&f->set, &d, f->pid, &po, err, errlen) ||
	    python_points(f, &po, err, errlen))
		return -1;
	pp = hs_floor_probe_progs(f->skel, &f->c);
	f->links = hs_probes_attach(&pp, &f->set, f->pid, err, errlen);
	return f->links ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct floor f = { .t.pidfd = -1 };
	struct pollfd pfd;
	char err[512];
	int ret = 1;

	if (parse(&f, argc, argv))
		return usage();
	f.skel = hs_floor_load(&f.c, err, sizeof(err));
	if (!f.skel || attach(&f, err, sizeof(err))) {
		fprintf(stderr, "floor: %s\n", err);
		goto out;
	}
	fprintf(stderr, "floor: attached to pid %d with %s%s%s\n", f.pid,
		hs_attach_mode_name(f.c.mode),
		f.c.entry_only ? ", no returns" : "",
		f.c.mmap ? ", the mmap domain's probes in libc included" : "");
	pfd.fd = f.t.pidfd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	ret = 0;
out:
	hs_links_free(f.links);
	hs_probe_set_clear(&f.set);
	hs_target_close(&f.t);
	floor_bpf__destroy(f.skel);
	return ret;
}
