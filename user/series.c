// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Finds the snapshots of one recording on disk and reads their counters. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "series.h"
#include "snapfile.h"

#define ERR_LEN 512

void hs_series_path(const struct hs_series *s, uint32_t seq, char *buf,
		    size_t len)
{
	if (seq)
		snprintf(buf, len, "%s.%u", s->base, seq);
	else
		snprintf(buf, len, "%s", s->base);
}

/* N of a name "BASE.N" (N >= 1, no leading zero); 0 when it is not one. */
static uint32_t numbered(const char *name, const char *base, size_t blen)
{
	unsigned long long v = 0;
	const char *p;

	if (strncmp(name, base, blen) || name[blen] != '.')
		return 0;
	p = name + blen + 1;
	if (*p < '1' || *p > '9')
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The N of every BASE.N in base's directory, ascending. */
static int list_numbered(const char *base, uint32_t **seqs, size_t *n,
			 char *err, size_t errlen)
{
	char *dir = strdup(base), *slash;
	const char *name = base;
	size_t cap = 0, nlen;
	struct dirent *e;
	uint32_t *v;
	DIR *d;

	*seqs = NULL;
	*n = 0;
	if (!dir)
		goto nomem;
	slash = strrchr(dir, '/');
	if (slash) {
		name = base + (slash - dir) + 1;
		/* "/s.hsnap" is in "/" */
		slash[slash == dir] = '\0';
	}
	nlen = strlen(name);
	d = opendir(slash ? dir : ".");
	if (!d) {
		snprintf(err, errlen, "%s: %s", slash ? dir : ".",
			 strerror(errno));
		free(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		uint32_t seq = numbered(e->d_name, name, nlen);

		if (!seq)
			continue;
		v = hs_grow_append(seqs, n, &cap, sizeof(*v));
		if (!v) {
			closedir(d);
			goto nomem;
		}
		*v = seq;
	}
	closedir(d);
	free(dir);
	if (*n)
		qsort(*seqs, *n, sizeof(**seqs), cmp_u32);
	return 0;
nomem:
	free(dir);
	free(*seqs);
	*seqs = NULL;
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The reader's messages start with the path; a skip names it on its own. */
static const char *without_path(const char *msg, const char *path)
{
	size_t len = strlen(path);

	if (!strncmp(msg, path, len) && !strncmp(msg + len, ": ", 2))
		return msg + len + 2;
	return msg;
}

/* Reads path's counters into e; *stored gets the snapshot's own number. */
static int read_entry(const char *path, uint32_t seq, struct hs_series_entry *e,
		      uint32_t *stored, char *err, size_t errlen)
{
	struct hs_snapshot *s;

	err[0] = '\0';
	s = hs_snapfile_read(path, err, errlen);
	if (!s) {
		if (!err[0])
			snprintf(err, errlen, "%s: cannot read it", path);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	e->seq = seq;
	e->time_ns = s->time_ns;
	e->estimated = s->sample_bytes != 0;
	hs_snapshot_totals(s, &e->totals);
	if (stored)
		*stored = s->seq;
	hs_snapshot_free(s);
	if (!e->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The base name of the recording that path belongs to. A path that exists
 * is read, into *named, to learn whether it is a numbered snapshot.
 */
static char *find_base(const char *path, struct hs_series_entry *named,
		       bool *have_named, char *err, size_t errlen)
{
	size_t len = strlen(path), slen;
	uint32_t stored = 0;
	char suffix[16];
	struct stat st;
	char *base;

	*have_named = false;
	if (!stat(path, &st) || errno != ENOENT) {
		if (read_entry(path, 0, named, &stored, err, errlen))
			return NULL;
		*have_named = true;
	}
	slen = (size_t)snprintf(suffix, sizeof(suffix), ".%u", stored);
	if (stored && len > slen && !strcmp(path + len - slen, suffix)) {
		base = strndup(path, len - slen);
		named->seq = stored;
	} else {
		base = strdup(path);
	}
	if (!base)
		snprintf(err, errlen, "out of memory");
	return base;
}

static int add_skip(struct hs_series *s, uint32_t first, uint32_t last,
		    const char *reason)
{
	struct hs_series_skip *k;

	if (hs_grow(&s->skipped, &s->skipped_cap, s->nskipped + 1, sizeof(*k)))
		return -1;
	k = &s->skipped[s->nskipped];
	k->first_seq = first;
	k->last_seq = last;
	k->reason = strdup(reason);
	if (!k->reason)
		return -1;
	s->nskipped++;
	return 0;
}

/*
 * Adds snapshot seq: the one already read when it is the named one. One
 * that cannot be read, or that is older than the snapshot before it, is
 * skipped. Returns -1 only when memory ran out.
 */
static int add_entry(struct hs_series *s, uint32_t seq,
		     struct hs_series_entry *named, bool *have_named)
{
	char path[PATH_MAX], err[ERR_LEN], why[ERR_LEN + 64];
	const struct hs_series_entry *prev;
	struct hs_series_entry e;

	hs_series_path(s, seq, path, sizeof(path));
	if (*have_named && named->seq == seq) {
		e = *named;
		*have_named = false;
	} else if (read_entry(path, seq, &e, NULL, err, sizeof(err))) {
		if (!strcmp(err, "out of memory"))
			return -1;
		return add_skip(s, seq, seq, without_path(err, path));
	}
	prev = s->n ? &s->entries[s->n - 1] : NULL;
	if (prev && e.time_ns < prev->time_ns) {
		snprintf(why, sizeof(why),
			 "taken before %s: not of the same recording",
			 prev->path);
		free(e.path);
		return add_skip(s, seq, seq, why);
	}
	s->entries[s->n++] = e;
	return 0;
}

static int load_all(struct hs_series *s, const uint32_t *seqs, size_t nseqs,
		    bool final, struct hs_series_entry *named, bool *have_named,
		    const struct hs_progress *progress)
{
	size_t total = nseqs + final;

	s->entries = calloc(total ? total : 1, sizeof(*s->entries));
	if (!s->entries)
		return -1;
	for (size_t i = 0; i < nseqs; i++) {
		hs_progress_report(progress, "reading", "snapshots", i, total);
		if (i && seqs[i] > seqs[i - 1] + 1 &&
		    add_skip(s, seqs[i - 1] + 1, seqs[i] - 1, "missing"))
			return -1;
		if (add_entry(s, seqs[i], named, have_named))
			return -1;
	}
	hs_progress_report(progress, "reading", "snapshots", nseqs, total);
	return final ? add_entry(s, 0, named, have_named) : 0;
}

static void no_snapshot(const struct hs_series *s, char *err, size_t errlen)
{
	char first[PATH_MAX];

	if (!s->nskipped) {
		snprintf(err, errlen, "no snapshot of %s could be read",
			 s->base);
		return;
	}
	hs_series_path(s, s->skipped[0].first_seq, first, sizeof(first));
	snprintf(err, errlen, "no snapshot of %s could be read (%s: %s)",
		 s->base, first, s->skipped[0].reason);
}

int hs_series_load(const char *path, struct hs_series *out,
		   const struct hs_progress *progress, char *err, size_t errlen)
{
	struct hs_series_entry named;
	bool have_named, final;
	uint32_t *seqs = NULL;
	size_t nseqs = 0;
	struct stat st;

	memset(out, 0, sizeof(*out));
	memset(&named, 0, sizeof(named));
	out->base = find_base(path, &named, &have_named, err, errlen);
	if (!out->base)
		return -1;
	if (list_numbered(out->base, &seqs, &nseqs, err, errlen))
		goto fail;
	final = !stat(out->base, &st) || errno != ENOENT;
	if (!nseqs && !final) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOENT));
		goto fail;
	}
	if (load_all(out, seqs, nseqs, final, &named, &have_named, progress)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!out->n) {
		no_snapshot(out, err, errlen);
		goto fail;
	}
	if (have_named)
		free(named.path);
	free(seqs);
	return 0;
fail:
	if (have_named)
		free(named.path);
	free(seqs);
	hs_series_free(out);
	return -1;
}

void hs_series_free(struct hs_series *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->entries[i].path);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i].reason);
	free(s->entries);
	free(s->skipped);
	free(s->base);
	memset(s, 0, sizeof(*s));
}
