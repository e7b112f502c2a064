// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * record -a: the processes that exited during the recording. The maps
 * forget each one as it goes; its totals (allocations, peak, losses) stay,
 * and every later snapshot has it, exited, with nothing live. Past
 * GONE_MAX of them, the oldest are added up into one entry.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "collect.h"
#include "grow.h"
#include "htab.h"
#include "mmapdom.h"
#include "recorder.h"
#include "snapshot.h"

#define GONE_MAX 8192

/* The name a process took at its last exec, while it runs. */
struct name {
	UT_hash_handle hh;
	pid_t pid;
	char comm[16];
};

struct gone {
	pid_t pid;
	char *command;
	struct hs_counters c;
};

struct hs_gone {
	struct name *names;
	struct gone *procs; /* a ring of GONE_MAX, oldest at first */
	size_t n, first, cap;
	struct hs_counters rest; /* of the oldest, past GONE_MAX */
	uint64_t nrest;
};

static struct hs_gone *gone_of(struct recorder *r)
{
	if (!r->gone && r->o.all)
		r->gone = calloc(1, sizeof(*r->gone));
	return r->gone;
}

void hs_rec_gone_named(struct recorder *r, pid_t pid, const char *comm)
{
	struct hs_gone *g = gone_of(r);
	struct name *e;

	if (!g)
		return;
	HASH_FIND(hh, g->names, &pid, sizeof(pid), e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->pid = pid;
		HASH_ADD(hh, g->names, pid, sizeof(e->pid), e);
	}
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
}

/* Its command line when it was seen, else the name it took, else its comm. */
static char *command_of(struct hs_gone *g, pid_t pid, const char *command)
{
	char path[64], comm[32];
	struct name *e;
	ssize_t len;
	int fd;

	if (command)
		return strdup(command);
	HASH_FIND(hh, g->names, &pid, sizeof(pid), e);
	if (e)
		return strdup(e->comm);
	/* gone, perhaps not yet reaped */
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	len = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (len <= 0)
		return NULL;
	comm[len] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return strdup(comm);
}

static void fold_oldest(struct hs_gone *g)
{
	struct gone *old = &g->procs[g->first];

	hs_counters_add(&g->rest, &old->c);
	g->nrest++;
	free(old->command);
	g->first = (g->first + 1) % GONE_MAX;
	g->n--;
}

void hs_rec_keep_gone(struct recorder *r, pid_t pid, const char *command)
{
	struct hs_gone *g = gone_of(r);
	struct hs_counters mmaps;
	struct hs_proc_val v;
	struct name *e;
	struct gone *p;

	if (!g)
		return;
	if (hs_collect_counters(r->skel, pid, &v)) {
		if (g->n == GONE_MAX)
			fold_oldest(g);
		if (hs_grow(&g->procs, &g->cap, GONE_MAX, sizeof(*g->procs)))
			goto out;
		p = &g->procs[(g->first + g->n++) % GONE_MAX];
		p->pid = pid;
		p->command = command_of(g, pid, command);
		p->c = v.c;
		hs_mmapdom_counters(r->mmaps, (uint32_t)pid, &mmaps);
		hs_counters_add(&p->c, &mmaps);
		/* nothing of it is live */
		p->c.current = p->c.count = p->c.interval_peak = 0;
	}
out:
	HASH_FIND(hh, g->names, &pid, sizeof(pid), e);
	if (e) {
		HASH_DEL(g->names, e);
		free(e);
	}
}

static int add_gone(struct hs_snapshot *s, uint32_t pid, const char *command,
		    const struct hs_counters *c)
{
	struct hs_proc p = { .pid = pid, .exited = true, .attached = true };

	p.command = hs_snapshot_intern(s, command);
	p.python = HS_NONE;
	p.counters = *c;
	return hs_snapshot_add_proc(s, &p);
}

/* The pids a snapshot has an entry for. */
struct pid_seen {
	UT_hash_handle hh;
	uint32_t pid;
};

static bool seen_before(struct pid_seen **set, uint32_t pid, int *err)
{
	struct pid_seen *e;

	HASH_FIND(hh, *set, &pid, sizeof(pid), e);
	if (e)
		return true;
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = -1;
		return true;
	}
	e->pid = pid;
	HASH_ADD(hh, *set, pid, sizeof(e->pid), e);
	return false;
}

int hs_rec_add_gone(struct recorder *r, struct hs_snapshot *s)
{
	const struct hs_gone *g = r->gone;
	struct pid_seen *set = NULL;
	struct hs_counters rest;
	uint64_t nrest;
	char what[64];
	int err = 0;

	if (!g)
		return 0;
	rest = g->rest;
	nrest = g->nrest;
	for (size_t i = 0; !err && i < s->nprocs; i++)
		seen_before(&set, s->procs[i].pid, &err);
	for (size_t i = 0; !err && i < g->n; i++) {
		const struct gone *p = &g->procs[(g->first + i) % GONE_MAX];

		/* its pid went to another process since: one entry a pid */
		if (seen_before(&set, (uint32_t)p->pid, &err)) {
			hs_counters_add(&rest, &p->c);
			nrest++;
			continue;
		}
		err = add_gone(s, (uint32_t)p->pid, p->command, &p->c);
	}
	if (!err && nrest) {
		snprintf(what, sizeof(what), "(%llu other exited process%s)",
			 (unsigned long long)nrest, nrest == 1 ? "" : "es");
		err = add_gone(s, 0, what, &rest);
	}
	HS_HASH_FREE(set);
	return err;
}

void hs_rec_free_gone(struct recorder *r)
{
	struct hs_gone *g = r->gone;

	if (!g)
		return;
	HS_HASH_FREE(g->names);
	for (size_t i = 0; i < g->n; i++)
		free(g->procs[(g->first + i) % GONE_MAX].command);
	free(g->procs);
	free(g);
	r->gone = NULL;
}
