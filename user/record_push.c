// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * record --push: the client, the application name the targets give, and
 * the traces a push needs, gathered while the snapshot is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "push.h"
#include "pushname.h"
#include "recorder.h"
#include "snapshot.h"

/* The targets' application name when --app is not given. */
static void default_app(const struct record_opts *o, char *buf, size_t len)
{
	char *cmdline;

	if (o->all) {
		snprintf(buf, len, "heapsnap-all");
	} else if (o->argv) {
		hs_push_app_from_command(o->argv[0], buf, len);
	} else {
		cmdline = hs_read_cmdline(o->pids[0]);
		hs_push_app_from_command(cmdline, buf, len);
		free(cmdline);
	}
}

int hs_rec_push_open(struct recorder *r)
{
	const struct record_opts *o = &r->o;
	char app[256], err[512], *name;
	int e;

	if (!o->push_url)
		return 0;
	if (!o->push_app)
		default_app(o, app, sizeof(app));
	name = hs_push_name(o->push_app ? o->push_app : app, o->push_labels,
			    o->npush_labels, err, sizeof(err));
	if (!name) {
		fprintf(stderr, "Error: %s\n", err);
		return 2;
	}
	e = hs_push_new(&r->push, o->push_url, name, err, sizeof(err));
	free(name);
	if (e) {
		fprintf(stderr, "Error: %s\n", err);
		return e == -EINVAL ? 2 : 1;
	}
	return 0;
}

void hs_rec_push_sums_init(struct hs_push_sums *p, bool sampled)
{
	memset(p, 0, sizeof(*p));
	p->sampled = sampled;
}

/*
 * A profile sums each stack's bytes and blocks; a sampled one scales each
 * trace by its own size first, so it keeps them all.
 */
int hs_rec_push_add(struct hs_push_sums *p, const struct hs_trace *t)
{
	size_t slot = (size_t)t->stack * HS_DOMAIN_COUNT + t->domain;
	struct hs_trace *sum;

	if (p->sampled) {
		sum = hs_grow_append(&p->traces, &p->ntraces, &p->cap,
				     sizeof(*sum));
		if (!sum)
			return -ENOMEM;
		*sum = *t;
		return 0;
	}
	if (hs_grow_zeroed(&p->at, &p->nat, slot + 1, sizeof(*p->at)))
		return -ENOMEM;
	sum = p->at[slot] ? &p->traces[p->at[slot] - 1] : NULL;
	if (!sum || sum->blocks > UINT32_MAX - hs_trace_blocks(t)) {
		sum = hs_grow_append(&p->traces, &p->ntraces, &p->cap,
				     sizeof(*sum));
		if (!sum)
			return -ENOMEM;
		sum->stack = t->stack;
		sum->domain = t->domain;
		p->at[slot] = p->ntraces;
	}
	sum->size += t->size;
	sum->blocks += (uint32_t)hs_trace_blocks(t);
	sum->flags |= t->flags;
	return 0;
}

void hs_rec_push_send(struct recorder *r, struct hs_push_sums *p,
		      struct hs_snapshot *s, const char *path)
{
	struct hs_trace *traces = s->traces;
	size_t ntraces = s->ntraces;

	s->traces = p->traces;
	s->ntraces = p->ntraces;
	hs_push_snapshot(r->push, s, path);
	s->traces = traces;
	s->ntraces = ntraces;
}

void hs_rec_push_sums_free(struct hs_push_sums *p)
{
	free(p->traces);
	free(p->at);
	memset(p, 0, sizeof(*p));
}
