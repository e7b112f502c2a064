// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * record: the traced processes. Named targets (-p, a command, a followed
 * child) get probes of their own; under -a each allocator file is probed
 * once for every process, and processes come and go with the side-band.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uthash.h>

#include "collect.h"
#include "discover.h"
#include "grow.h"
#include "mmapdom.h"
#include "procmaps.h"
#include "entrystop.h"
#include "pyprocs.h"
#include "recorder.h"
#include "sideband.h"
#include "snapfile.h"
#include "unwind.h"

/* -a: files (device and inode) already looked at for an allocator. */
struct known_file {
	UT_hash_handle hh;
	struct {
		dev_t dev;
		uint64_t ino;
	} key;
};

struct hs_known_files {
	struct known_file *set;
};

/* Returns true the first time a file is seen. */
static bool first_sight(struct recorder *r, dev_t dev, uint64_t ino)
{
	struct known_file *k, probe;

	if (!r->seen) {
		r->seen = calloc(1, sizeof(*r->seen));
		if (!r->seen)
			return false;
	}
	memset(&probe, 0, sizeof(probe));
	probe.key.dev = dev;
	probe.key.ino = ino;
	HASH_FIND(hh, r->seen->set, &probe.key, sizeof(probe.key), k);
	if (k)
		return false;
	k = calloc(1, sizeof(*k));
	if (!k)
		return false;
	k->key = probe.key;
	HASH_ADD(hh, r->seen->set, key, sizeof(k->key), k);
	return true;
}

static void push(struct pid_queue *q, pid_t pid)
{
	pid_t *p = hs_grow_append(&q->pids, &q->n, &q->cap, sizeof(*p));

	if (p)
		*p = pid;
}

/* A process under -a: no pidfd, nothing to wait for. */
struct rec_proc *hs_rec_add(struct recorder *r, pid_t pid)
{
	struct rec_proc *p;

	p = hs_grow_append(&r->procs, &r->nprocs, &r->procs_cap, sizeof(*p));
	if (!p)
		return NULL;
	p->t.pid = pid;
	p->t.pidfd = -1;
	p->t.command = hs_read_cmdline(pid);
	return p;
}

/* Forgets what the maps hold of pid, when hs_collect_forget() has not. */
static void forget(struct recorder *r, pid_t pid, bool maps)
{
	struct rec_proc *p = hs_rec_find(r, pid);

	if (maps)
		hs_collect_forget(r->skel, &pid, 1);
	hs_unwind_forget(r->unwind, pid);
	hs_python_forget(r->python, pid);
	hs_procmaps_forget(r->pm, pid);
	hs_mmapdom_forget(r->mmaps, (uint32_t)pid);
	hs_rec_mmap_forget(r, pid);
	if (!p)
		return;
	hs_links_free(p->attach);
	hs_links_free(p->py_attach);
	hs_target_close(&p->t);
	*p = r->procs[--r->nprocs];
}

static void sb_mmap(void *ctx, pid_t pid, uint64_t start, uint64_t len,
		    uint64_t pgoff, dev_t dev, uint64_t ino, const char *path,
		    uint64_t time_ns)
{
	struct recorder *r = ctx;

	if (!r->o.all && !hs_rec_find(r, pid))
		return;
	hs_procmaps_add(r->pm, pid, start, len, pgoff, ino, path, time_ns);
	if (r->unwind || r->python)
		push(&r->remaps, pid);
	/* a file never seen may be a new allocator (a container's libc) */
	if (r->o.all && first_sight(r, dev, ino))
		push(&r->scans, pid);
}

static void sb_exec(void *ctx, pid_t pid, const char *comm, uint64_t time_ns)
{
	struct recorder *r = ctx;

	if (!r->o.all && !hs_rec_find(r, pid))
		return;
	hs_rec_gone_named(r, pid, comm);
	hs_procmaps_exec(r->pm, pid, time_ns);
	push(&r->execs, pid);
	if (r->unwind)
		push(&r->remaps, pid);
}

static void sb_fork(void *ctx, pid_t pid, pid_t ppid, uint64_t time_ns)
{
	struct recorder *r = ctx;

	(void)time_ns;
	if (r->o.all) {
		hs_procmaps_fork(r->pm, ppid, pid);
		return;
	}
	if (!r->o.follow_forks || !hs_rec_find(r, ppid))
		return;
	hs_procmaps_fork(r->pm, ppid, pid);
	push(&r->forks, pid);
}

static void sb_exit(void *ctx, pid_t pid, uint64_t time_ns)
{
	struct recorder *r = ctx;

	(void)time_ns;
	if (r->o.all)
		push(&r->exits, pid);
}

static void sb_lost(void *ctx, uint64_t n)
{
	((struct recorder *)ctx)->lost_events += n;
}

const struct hs_sideband_ops hs_rec_sideband_ops = {
	.mmap = sb_mmap,
	.exec = sb_exec,
	.fork = sb_fork,
	.exit = sb_exit,
	.lost = sb_lost,
};

/*
 * The mmap domain is probed in libc unless it goes on the syscall
 * tracepoints, asked for, where only libc's wrappers are probed.
 */
static struct hs_probe_opts probe_opts(const struct recorder *r)
{
	struct hs_probe_opts po = {
		.wrappers = r->o.wrappers,
		.nwrappers = r->o.nwrappers,
		.at_entry = r->o.at_entry,
		.mmap = !hs_rec_mmap_traced(&r->o) ? HS_MMAP_NONE :
			r->o.mmap_tracepoints	   ? HS_MMAP_WRAPPERS :
						     HS_MMAP_CALLS,
	};

	return po;
}

static void print_discovery(const struct hs_discovery *d, pid_t pid)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr,
			"heapsnap: pid %d: allocator %s (%s; %d probe points)\n",
			pid, d->files[i].shown, d->files[i].why,
			d->files[i].points);
}

/*
 * The allocator files of a target: a command not yet run is asked of its
 * dynamic linker, a running process of its maps; --lib overrides both.
 */
static int discover(struct recorder *r, const struct hs_target *t,
		    const struct hs_probe_opts *po, struct hs_discovery *d,
		    char *err, size_t errlen)
{
	int n = -ENOEXEC;

	if (t->exe)
		n = hs_discover_exec(&r->probes, d, t->exe, po, err, errlen);
	if (n == -ENOEXEC)
		n = hs_discover_pid(&r->probes, d, t->pid, po, err, errlen);
	return n;
}

/* --lib: the mmap domain's functions of the target's own libc still. */
static void discover_mmap(struct recorder *r, const struct hs_target *t,
			  const struct hs_probe_opts *po)
{
	struct hs_probe_opts mo = *po;
	struct hs_discovery d = { .n = 0 };
	char ignore[512];

	mo.mmap_only = true;
	if (mo.mmap != HS_MMAP_NONE)
		discover(r, t, &mo, &d, ignore, sizeof(ignore));
}

static int probe_set_for(struct recorder *r, const struct hs_target *t,
			 const struct hs_probe_opts *po, char *err,
			 size_t errlen)
{
	struct hs_discovery d = { .n = 0 };
	int n;

	hs_probe_set_clear(&r->probes);
	if (!r->o.nlibs) {
		n = discover(r, t, po, &d, err, errlen);
		if (r->o.verbose)
			print_discovery(&d, t->pid);
		return n;
	}
	for (size_t i = 0; i < r->o.nlibs; i++) {
		n = hs_probes_scan(&r->probes, r->o.libs[i], po);
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
	discover_mmap(r, t, po);
	return 0;
}

/* Does the probe set trace the mmap domain's mmap calls in libc? */
static bool probes_mmap(const struct hs_probe_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t c = set->pts[i].fn, fn = HS_COOKIE_FN(c);

		if ((fn == HS_FN_SYS_ENTRY || fn == HS_FN_SYS_AFTER) &&
		    HS_COOKIE_SYS_OP(c) == HS_MAP_MMAP)
			return true;
	}
	return false;
}

/*
 * The probes of a target. One whose mmap domain cannot be probed in libc (a
 * static executable without symbols) has it traced on the syscall
 * tracepoints, and libc's wrappers probed for them.
 */
static int probe_target(struct recorder *r, struct rec_proc *p, char *err,
			size_t errlen)
{
	struct hs_probe_opts po = probe_opts(r);

	if (probe_set_for(r, &p->t, &po, err, errlen))
		return -1;
	if (po.mmap != HS_MMAP_CALLS || probes_mmap(&r->probes) ||
	    hs_rec_mmap_by_tracepoints(r, p->t.pid))
		return 0;
	po.mmap = HS_MMAP_WRAPPERS;
	return probe_set_for(r, &p->t, &po, err, errlen);
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

/*
 * p runs a CPython, found now or after an exec: its frames are walked from
 * now on, and its allocator gets probes of its own.
 */
static void attach_python(struct recorder *r, struct rec_proc *p)
{
	const struct hs_pytarget *py = hs_python_find(r->python, p->t.pid);
	struct hs_probe_opts po = probe_opts(r);
	uint64_t runtime = py ? py->runtime : 0;
	char err[512];

	py = hs_python_update(r->python, p->t.pid);
	if (!py || (p->py_attach && py->runtime == runtime))
		return; /* the same interpreter, probed already */
	hs_links_free(p->py_attach);
	p->py_attach = NULL;
	if (py->mode != HS_PY_EXACT && py->mode != HS_PY_POOLS)
		return;
	hs_probe_set_clear(&r->probes);
	if (hs_python_probes(r->python, p->t.pid, &r->probes, &po) <= 0)
		return;
	if (r->o.verbose)
		print_probes(r, p->t.pid);
	p->py_attach = hs_probes_attach(&r->progs, &r->probes, p->t.pid, err,
					sizeof(err));
	if (!p->py_attach)
		fprintf(stderr, "heapsnap: warning: pid %d: %s\n", p->t.pid,
			err);
}

static int attach_target(struct recorder *r, struct rec_proc *p, char *err,
			 size_t errlen)
{
	pid_t pid = p->t.pid;
	int e;

	e = hs_collect_add_proc(r->skel, pid);
	if (e) {
		snprintf(err, errlen, "cannot track pid %d: %s", pid,
			 strerror(-e));
		return -1;
	}
	if (!r->o.nlibs && hs_target_check_exe(&p->t, err, errlen))
		return -1;
	if (probe_target(r, p, err, errlen))
		return -1;
	if (r->o.verbose)
		print_probes(r, pid);
	/* the tables first: the probes' first stacks use them */
	if (!p->t.exe)
		hs_unwind_update(r->unwind, pid);
	p->attach = hs_probes_attach(&r->progs, &r->probes, pid, err, errlen);
	if (!p->attach)
		return -1;
	hs_rec_mmap_funcs(r, &r->probes);
	hs_procmaps_read(r->pm, pid);
	/* a command held before exec still maps our files: later, then */
	if (!p->t.exe)
		attach_python(r, p);
	return 0;
}

static bool file_attached(const struct recorder *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].dev == dev && r->files[i].ino == ino)
			return true;
	return false;
}

/* record -v: a file probed for every process, by its name in pid. */
static void report_file(const char *link, pid_t pid)
{
	char name[PATH_MAX];
	ssize_t n = readlink(link, name, sizeof(name) - 1);

	if (n <= 0)
		snprintf(name, sizeof(name), "%s", link);
	else
		name[n] = '\0';
	fprintf(stderr,
		"heapsnap: probing %s for every process (first seen in pid %d)\n",
		name, pid);
}

/* -a: probes, for every process, on the allocator files pid uses. */
static void scan_process(struct recorder *r, pid_t pid)
{
	struct hs_probe_opts po = probe_opts(r);
	struct hs_discovery d = { .n = 0 };
	char err[512];

	hs_procmaps_read(r->pm, pid);
	hs_unwind_update(r->unwind, pid);
	hs_python_update(r->python, pid);
	hs_probe_set_clear(&r->probes);
	if (hs_discover_pid(&r->probes, &d, pid, &po, err, sizeof(err)))
		return; /* no allocator we know: its blocks are not ours */
	hs_python_probes(r->python, pid, &r->probes, &po);
	hs_rec_mmap_funcs(r, &r->probes);
	for (size_t i = 0; i < r->probes.n; i++) {
		const struct hs_probe_point *pt = &r->probes.pts[i];
		struct rec_file *f;

		if (file_attached(r, pt->dev, pt->ino))
			continue;
		if (hs_grow(&r->files, &r->files_cap, r->nfiles + 1,
			    sizeof(*f)))
			return;
		f = &r->files[r->nfiles];
		f->dev = pt->dev;
		f->ino = pt->ino;
		f->attach = hs_probes_attach_file(&r->progs, &r->probes,
						  pt->dev, pt->ino, 0, err,
						  sizeof(err));
		if (!f->attach) {
			fprintf(stderr, "heapsnap: warning: pid %d: %s\n", pid,
				err);
			continue;
		}
		r->nfiles++;
		if (r->o.verbose)
			report_file(pt->path, pid);
	}
}

/* Processes whose /proc entries a system-wide trace reads: many fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int scan_all(struct recorder *r, char *err, size_t errlen)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *dir;

	raise_fd_limit();
	dir = opendir("/proc");
	if (!dir) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		char why[256];
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self || hs_target_check(pid, why, sizeof(why)))
			continue;
		scan_process(r, pid);
	}
	closedir(dir);
	if (!r->nfiles) {
		snprintf(err, errlen, "no process uses an allocator heapsnap knows");
		return -1;
	}
	return 0;
}

static int start_named(struct recorder *r, struct hs_gate *gate, char *err,
		       size_t errlen)
{
	size_t n = r->o.argv ? 1 : r->o.npids;

	r->procs = calloc(n, sizeof(*r->procs));
	if (!r->procs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->procs_cap = n;
	if (r->o.argv) {
		r->procs[0].t.pidfd = -1;
		if (hs_target_spawn(&r->procs[0].t, r->o.argv, gate, err,
				    errlen))
			return -1;
		r->procs[0].waited = true;
		r->nprocs = 1;
		return 0;
	}
	for (size_t i = 0; i < r->o.npids; i++) {
		if (hs_target_open(&r->procs[i].t, r->o.pids[i], err, errlen))
			return -1;
		r->procs[i].waited = true;
		r->nprocs++;
	}
	return 0;
}

/*
 * Lets the held command exec, and stops it again at its entry point for
 * what needs its mappings: unwind tables, and its Python probes.
 */
static int run_command(struct recorder *r, struct hs_gate *gate, char *err,
		       size_t errlen)
{
	struct rec_proc *p = &r->procs[0];
	struct bpf_link *hold = NULL;
	int e;

	if (r->unwind || r->python)
		hold = hs_rec_hold_entry(r, p->t.exe, p->t.pid);
	hs_unwind_hold(r->unwind, p->t.pid, p->t.exe);
	e = hs_target_release(gate);
	if (e) {
		snprintf(err, errlen, "cannot run %s: %s", r->o.argv[0],
			 strerror(-e));
		hs_entry_go(hold, p->t.pid);
		return -1;
	}
	/* first the loader's stop, its libraries mapped: their tables */
	do
		e = hs_entry_wait(hold, p->t.pid);
	while (!e && hs_unwind_consume(r->unwind, p->t.pid));
	if (!e || !hold) {
		hs_unwind_update(r->unwind, p->t.pid);
		attach_python(r, p);
	}
	hs_entry_go(hold, p->t.pid);
	return 0;
}

int hs_rec_start(struct recorder *r, char *err, size_t errlen)
{
	struct hs_gate gate = { -1, -1 };

	if (!r->o.all && start_named(r, &gate, err, errlen))
		return -1;
	if (!r->o.output) {
		if (r->o.all)
			snprintf(r->o.output_buf, sizeof(r->o.output_buf),
				 "heapsnap-all.hsnap");
		else
			snprintf(r->o.output_buf, sizeof(r->o.output_buf),
				 "heapsnap-%d.hsnap", r->procs[0].t.pid);
		r->o.output = r->o.output_buf;
	}
	/* Found now, not when a long recording ends. */
	if (hs_snapfile_check_path(r->o.output, err, errlen))
		return -1;
	if (r->o.all)
		return scan_all(r, err, errlen);
	for (size_t i = 0; i < r->nprocs; i++)
		if (attach_target(r, &r->procs[i], err, errlen))
			return -1;
	if (r->o.argv)
		return run_command(r, &gate, err, errlen);
	return 0;
}

/*
 * After an exec the probes stay (they follow the task), the counters were
 * restarted by the BPF exec hook, and the old image's blocks go here.
 */
static void handle_exec(struct recorder *r, pid_t pid)
{
	struct rec_proc *p = hs_rec_find(r, pid);
	struct hs_proc_val c;
	char *cmd;

	if (!hs_collect_counters(r->skel, pid, &c) || !c.exec_ns)
		return;
	hs_collect_forget_image(r->skel, pid);
	hs_mmapdom_exec(r->mmaps, (uint32_t)pid, c.exec_ns);
	if (r->o.all)
		push(&r->scans, pid); /* its new image may bring an allocator */
	if (!p || c.exec_ns == p->st.exec_ns)
		return;
	p->st.exec_ns = c.exec_ns;
	p->st.last_current = 0;
	cmd = hs_read_cmdline(pid);
	if (cmd) {
		free(p->t.command);
		p->t.command = cmd;
	}
	if (r->o.verbose)
		fprintf(stderr, "heapsnap: pid %d called exec: %s\n", pid,
			p->t.command ? p->t.command : "?");
	attach_python(r, p);
}

/* --follow-forks: each child of a target becomes a target of its own. */
static void adopt_fork(struct recorder *r, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct rec_proc *p;
	char err[512];

	p = hs_rec_add(r, pid);
	if (!p)
		return;
	free(p->t.command);
	if (hs_target_open(&p->t, pid, err, sizeof(err)) ||
	    attach_target(r, p, err, sizeof(err))) {
		if (r->o.verbose)
			fprintf(stderr, "heapsnap: child %d: %s\n", pid, err);
		forget(r, pid, true);
		return;
	}
	p->waited = true;
	p->forked = true;
	ev.data.u64 = (uint64_t)pid;
	epoll_ctl(r->epfd, EPOLL_CTL_ADD, p->t.pidfd, &ev);
	if (r->o.verbose)
		fprintf(stderr, "heapsnap: tracing child pid %d\n", pid);
}

/* A process's mappings changed: a traced one may now run a CPython. */
static void remapped_python(struct recorder *r, pid_t pid)
{
	struct rec_proc *p = r->o.all ? NULL : hs_rec_find(r, pid);

	if (p)
		attach_python(r, p);
	else
		hs_python_update(r->python, pid);
}

/* Each process once, however many of its mappings changed. */
static void update_unwind(struct recorder *r)
{
	for (size_t i = 0; i < r->remaps.n; i++) {
		pid_t pid = r->remaps.pids[i];
		size_t k;

		for (k = 0; k < i && r->remaps.pids[k] != pid; k++)
			;
		if (k == i) {
			hs_unwind_update(r->unwind, pid);
			remapped_python(r, pid);
		}
	}
	r->remaps.n = 0;
}

void hs_rec_housekeeping(struct recorder *r)
{
	size_t i;

	update_unwind(r);
	for (i = 0; i < r->execs.n; i++)
		handle_exec(r, r->execs.pids[i]);
	for (i = 0; i < r->forks.n; i++)
		adopt_fork(r, r->forks.pids[i]);
	for (i = 0; i < r->scans.n; i++)
		scan_process(r, r->scans.pids[i]);
	/*
	 * -a: a process that is gone leaves nothing behind in the maps but its
	 * totals; one pass over the maps for all that went
	 */
	for (i = 0; i < r->exits.n; i++) {
		const struct rec_proc *p = hs_rec_find(r, r->exits.pids[i]);

		hs_rec_keep_gone(r, r->exits.pids[i], p ? p->t.command : NULL);
	}
	hs_collect_forget(r->skel, r->exits.pids, r->exits.n);
	for (i = 0; i < r->exits.n; i++) {
		forget(r, r->exits.pids[i], false);
		if (r->o.verbose)
			fprintf(stderr, "heapsnap: pid %d exited: forgotten\n",
				r->exits.pids[i]);
	}
	r->execs.n = r->forks.n = r->scans.n = r->exits.n = 0;
}

void hs_rec_target_exited(struct recorder *r, pid_t pid)
{
	struct rec_proc *p = hs_rec_find(r, pid);

	if (!p || p->t.exited)
		return;
	hs_target_reap(&p->t);
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, p->t.pidfd, NULL);
}

bool hs_rec_all_exited(const struct recorder *r)
{
	if (r->o.all)
		return false;
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].waited && !r->procs[i].t.exited)
			return false;
	return true;
}

void hs_rec_report_exits(const struct recorder *r)
{
	for (size_t i = 0; i < r->nprocs && !r->o.all; i++) {
		const struct hs_target *t = &r->procs[i].t;

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

void hs_rec_free_procs(struct recorder *r)
{
	struct known_file *k, *tmp;

	for (size_t i = 0; i < r->nprocs; i++) {
		struct rec_proc *p = &r->procs[i];

		hs_links_free(p->attach);
		hs_links_free(p->py_attach);
		if (p->t.child && !p->t.exited) {
			kill(p->t.pid, SIGKILL);
			hs_target_reap(&p->t);
		}
		hs_target_close(&p->t);
	}
	for (size_t i = 0; i < r->nfiles; i++)
		hs_links_free(r->files[i].attach);
	if (r->seen) {
		HASH_ITER(hh, r->seen->set, k, tmp) {
			HASH_DEL(r->seen->set, k);
			free(k);
		}
		free(r->seen);
	}
	hs_rec_free_gone(r);
	free(r->procs);
	free(r->files);
	free(r->forks.pids);
	free(r->execs.pids);
	free(r->exits.pids);
	free(r->scans.pids);
	free(r->remaps.pids);
	hs_probe_set_clear(&r->probes);
}
