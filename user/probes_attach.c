// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Attaching a probe set: a session link per file, or a uprobe per point. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"
#include "links.h"
#include "probes_attach.h"

/*
 * A free never takes its return, nor a wrapper: neither counts in depth. An
 * mmap-domain call takes it only where no probe sits after its syscall.
 */
static bool takes_return(uint32_t cookie)
{
	uint32_t fn = HS_COOKIE_FN(cookie);

	if (fn == HS_FN_SYS_ENTRY)
		return cookie & HS_COOKIE_SYS_RET;
	return fn != HS_FN_FREE && fn != HS_FN_WRAPPER && fn != HS_FN_SYS_AFTER;
}

static bool same_file(const struct hs_probe_point *a,
		      const struct hs_probe_point *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static bool first_of_file(const struct hs_probe_set *set, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_file(&set->pts[j], &set->pts[i]))
			return false;
	return true;
}

/* One session link carrying every point of the file of set->pts[first]. */
static int attach_session(struct hs_links *l, const struct hs_probe_progs *pp,
			  const struct hs_probe_set *set, size_t first,
			  pid_t pid)
{
	const struct hs_probe_point *f = &set->pts[first];
	uint64_t *offsets = calloc(set->n, sizeof(*offsets));
	uint64_t *cookies = calloc(set->n, sizeof(*cookies));
	struct hs_link_points lp = { f->path, offsets, cookies, 0 };
	int err = -ENOMEM;

	if (offsets && cookies) {
		for (size_t i = first; i < set->n; i++) {
			if (!same_file(&set->pts[i], f))
				continue;
			offsets[lp.n] = set->pts[i].offset;
			cookies[lp.n++] = set->pts[i].fn;
		}
		err = hs_links_session(l, pp->entry, pid, &lp);
	}
	free(offsets);
	free(cookies);
	return err;
}

static int attach_classic(struct hs_links *l, const struct hs_probe_progs *pp,
			  const struct hs_probe_point *pt, pid_t pid)
{
	uint64_t offset = pt->offset, cookie = pt->fn;
	struct hs_link_points lp = { pt->path, &offset, &cookie, 1 };
	int err;

	err = hs_links_uprobe(l, pp->entry, false, pid, &lp);
	if (!err && pp->ret && takes_return(pt->fn))
		err = hs_links_uprobe(l, pp->ret, true, pid, &lp);
	return err;
}

struct hs_links *hs_probes_attach(const struct hs_probe_progs *pp,
				  const struct hs_probe_set *set, pid_t pid,
				  char *err, size_t errlen)
{
	struct hs_links *l = hs_links_new();
	int r = 0;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < set->n && !r; i++) {
		const struct hs_probe_point *pt = &set->pts[i];

		if (pp->mode == HS_ATTACH_SESSION) {
			if (first_of_file(set, i))
				r = attach_session(l, pp, set, i, pid);
			if (r)
				snprintf(err, errlen,
					 "cannot attach uprobe sessions to pid %d: %s",
					 pid, strerror(-r));
			continue;
		}
		r = attach_classic(l, pp, pt, pid);
		if (r)
			snprintf(err, errlen, "cannot attach to %s in %s: %s",
				 pt->name, pt->path, strerror(-r));
	}
	if (r) {
		hs_links_free(l);
		return NULL;
	}
	return l;
}

struct hs_links *hs_probes_attach_file(const struct hs_probe_progs *pp,
				       const struct hs_probe_set *set,
				       dev_t dev, ino_t ino, pid_t pid,
				       char *err, size_t errlen)
{
	struct hs_probe_set one = { calloc(set->n + 1, sizeof(*one.pts)), 0,
				    set->n + 1 };
	struct hs_links *l;

	if (!one.pts) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->pts[i].dev == dev && set->pts[i].ino == ino)
			one.pts[one.n++] = set->pts[i]; /* borrowed, not owned */
	l = hs_probes_attach(pp, &one, pid, err, errlen);
	free(one.pts);
	return l;
}
