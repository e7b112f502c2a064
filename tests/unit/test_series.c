// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The snapshots of a recording on disk: found from the base name or a
 * numbered file, in order, with the final one last; gaps, unreadable and
 * out-of-order files left out and listed; a named file that cannot be read
 * is an error.
 */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "series.h"
#include "snapfile.h"

#define SEC 1000000000ull

struct dir {
	char path[64];
};

static int dir_init(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/hs-series-XXXXXX");
	return mkdtemp(d->path) ? 0 : -1;
}

static void dir_free(struct dir *d)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd))
		fprintf(stderr, "  cannot remove %s\n", d->path);
}

static void file_path(const struct dir *d, const char *name, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/%s", d->path, name);
}

/* Two processes: current is split 1/4 and 3/4 between them. */
static int write_snap(const struct dir *d, const char *name, uint32_t seq,
		      uint64_t secs, uint64_t current)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_proc p = { .pid = 10, .command = HS_NONE };
	char path[128], err[256];
	int rc;

	if (!s)
		return -1;
	s->time_ns = secs * SEC;
	s->seq = seq;
	p.counters.current = current / 4;
	p.counters.count = 1;
	p.counters.peak = 2 * current;
	p.counters.interval_peak = current;
	hs_snapshot_add_proc(s, &p);
	p.pid = 11;
	p.counters.current = current - current / 4;
	hs_snapshot_add_proc(s, &p);
	hs_snapshot_seal(s);
	file_path(d, name, path, sizeof(path));
	rc = hs_snapfile_write(s, path, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  %s\n", err);
	hs_snapshot_free(s);
	return rc;
}

static int write_junk(const struct dir *d, const char *name)
{
	char path[128];
	FILE *f;

	file_path(d, name, path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("HSNAP but not really\n", f);
	return fclose(f);
}

static void check_seqs(const struct hs_series *s, const uint32_t *want,
		       size_t n, const char *name)
{
	char what[64];

	if (!ASSERT_EQ(s->n, n, name))
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%s: seq of entry %zu", name, i);
		ASSERT_EQ(s->entries[i].seq, want[i], what);
	}
}

static void test_base_or_numbered(void)
{
	const uint32_t want[] = { 1, 2, 10, 0 };
	struct hs_series s;
	char path[128], base[128], err[256];
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	ASSERT_EQ(write_snap(&d, "s.hsnap.1", 1, 1, 100), 0, "write 1");
	ASSERT_EQ(write_snap(&d, "s.hsnap.2", 2, 2, 400), 0, "write 2");
	ASSERT_EQ(write_snap(&d, "s.hsnap.10", 10, 3, 300), 0, "write 10");
	ASSERT_EQ(write_snap(&d, "s.hsnap", 0, 4, 200), 0, "write final");
	/* not of the series */
	ASSERT_EQ(write_snap(&d, "s.hsnap.01", 1, 0, 1), 0, "leading zero");
	ASSERT_EQ(write_snap(&d, "s.hsnap.3x", 3, 0, 1), 0, "suffix");
	ASSERT_EQ(write_snap(&d, "s.hsnap.0", 0, 0, 1), 0, "zero");
	ASSERT_EQ(write_snap(&d, "t.hsnap.5", 5, 0, 1), 0, "other base");
	file_path(&d, "s.hsnap", base, sizeof(base));

	if (ASSERT_EQ(hs_series_load(base, &s, NULL, err, sizeof(err)), 0,
		      err)) {
		ASSERT_STREQ(s.base, base, "base");
		check_seqs(&s, want, 4, "from the base");
		if (ASSERT_EQ(s.nskipped, 1, "one gap")) {
			ASSERT_EQ(s.skipped[0].first_seq, 3, "gap from");
			ASSERT_EQ(s.skipped[0].last_seq, 9, "gap to");
		}
		ASSERT_EQ(s.entries[1].totals.current, 400, "summed current");
		ASSERT_EQ(s.entries[1].totals.interval_peak, 800,
			  "summed interval peak");
		ASSERT_EQ(s.entries[1].totals.peak, 1600, "summed peak");
		ASSERT_EQ(s.entries[1].totals.count, 2, "summed count");
		ASSERT_EQ(s.entries[3].time_ns, 4 * SEC, "time");
		file_path(&d, "s.hsnap.10", path, sizeof(path));
		ASSERT_STREQ(s.entries[2].path, path, "path");
		hs_series_free(&s);
	}
	file_path(&d, "s.hsnap.2", path, sizeof(path));
	if (ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), 0,
		      err)) {
		ASSERT_STREQ(s.base, base, "base of a numbered file");
		check_seqs(&s, want, 4, "from a numbered file");
		hs_series_free(&s);
	}
	dir_free(&d);
}

/* A final snapshot whose own name ends in a number is a base name. */
static void test_final_named_like_a_number(void)
{
	const uint32_t want[] = { 1, 0 };
	char path[128], err[256];
	struct hs_series s;
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	ASSERT_EQ(write_snap(&d, "run.1.1", 1, 1, 10), 0, "write 1");
	ASSERT_EQ(write_snap(&d, "run.1", 0, 2, 20), 0, "write final");
	ASSERT_EQ(write_snap(&d, "run", 0, 3, 30), 0, "another recording");
	file_path(&d, "run.1", path, sizeof(path));
	if (ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), 0,
		      err)) {
		ASSERT_STREQ(s.base, path, "base");
		check_seqs(&s, want, 2, "run.1");
		hs_series_free(&s);
	}
	dir_free(&d);
}

/* FILE.2 unreadable, FILE.3 and FILE.4 missing, FILE.6 older than FILE.5. */
static void test_gaps_and_bad_files(void)
{
	const uint32_t want[] = { 1, 5, 0 };
	char path[128], err[256];
	struct hs_series s;
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	ASSERT_EQ(write_snap(&d, "s.hsnap.1", 1, 10, 1), 0, "write 1");
	ASSERT_EQ(write_junk(&d, "s.hsnap.2"), 0, "write 2");
	ASSERT_EQ(write_snap(&d, "s.hsnap.5", 5, 50, 5), 0, "write 5");
	ASSERT_EQ(write_snap(&d, "s.hsnap.6", 6, 40, 6), 0, "write 6");
	ASSERT_EQ(write_snap(&d, "s.hsnap", 0, 70, 7), 0, "write final");
	file_path(&d, "s.hsnap.5", path, sizeof(path));
	if (!ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), 0,
		       err))
		goto out;
	check_seqs(&s, want, 3, "kept");
	if (ASSERT_EQ(s.nskipped, 3, "skipped")) {
		ASSERT_EQ(s.skipped[0].first_seq, 2, "unreadable");
		ASSERT_EQ(s.skipped[0].last_seq, 2, "one file");
		ASSERT_TRUE(!strchr(s.skipped[0].reason, '/'),
			    "the reason does not repeat the path");
		ASSERT_EQ(s.skipped[1].first_seq, 3, "missing from");
		ASSERT_EQ(s.skipped[1].last_seq, 4, "missing to");
		ASSERT_STREQ(s.skipped[1].reason, "missing", "missing");
		ASSERT_EQ(s.skipped[2].first_seq, 6, "older");
		ASSERT_TRUE(strstr(s.skipped[2].reason, "taken before ") &&
				    strstr(s.skipped[2].reason, "s.hsnap.5"),
			    s.skipped[2].reason);
	}
	hs_series_free(&s);
out:
	dir_free(&d);
}

static void test_errors(void)
{
	char path[128], err[256], want[256];
	struct hs_series s;
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	file_path(&d, "none.hsnap", path, sizeof(path));
	ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), -1,
		  "nothing there");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ASSERT_STREQ(err, want, "missing");

	ASSERT_EQ(write_junk(&d, "bad.hsnap"), 0, "write junk");
	ASSERT_EQ(write_snap(&d, "bad.hsnap.1", 1, 1, 1), 0, "write 1");
	file_path(&d, "bad.hsnap", path, sizeof(path));
	ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), -1,
		  "the named file is unreadable");
	ASSERT_TRUE(!strncmp(err, path, strlen(path)), err);

	ASSERT_EQ(write_junk(&d, "junk.hsnap.1"), 0, "write junk 1");
	file_path(&d, "junk.hsnap", path, sizeof(path));
	ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), -1,
		  "no snapshot readable");
	ASSERT_TRUE(strstr(err, "no snapshot of ") &&
			    strstr(err, "junk.hsnap.1: "),
		    err);
	dir_free(&d);
}

/* No final snapshot yet: the numbered ones are the series. */
static void test_recording_still_running(void)
{
	const uint32_t want[] = { 1, 2 };
	char path[128], err[256];
	struct hs_series s;
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	ASSERT_EQ(write_snap(&d, "s.hsnap.1", 1, 1, 1), 0, "write 1");
	ASSERT_EQ(write_snap(&d, "s.hsnap.2", 2, 2, 2), 0, "write 2");
	file_path(&d, "s.hsnap", path, sizeof(path));
	if (ASSERT_EQ(hs_series_load(path, &s, NULL, err, sizeof(err)), 0,
		      err)) {
		check_seqs(&s, want, 2, "numbered only");
		ASSERT_EQ(s.nskipped, 0, "the final one is not missed");
		hs_series_free(&s);
	}
	dir_free(&d);
}

struct reports {
	size_t calls, last_done, last_total;
};

static void count_report(void *ctx, const char *verb, const char *noun,
			 size_t done, size_t total)
{
	struct reports *r = ctx;

	(void)verb;
	(void)noun;
	r->calls++;
	r->last_done = done;
	r->last_total = total;
}

static void test_progress_reports(void)
{
	struct reports r = { 0 };
	struct hs_progress p = { .report = count_report, .ctx = &r };
	char path[128], err[256];
	struct hs_series s;
	struct dir d;

	if (!ASSERT_EQ(dir_init(&d), 0, "mkdtemp"))
		return;
	ASSERT_EQ(write_snap(&d, "s.hsnap.1", 1, 1, 1), 0, "write 1");
	ASSERT_EQ(write_snap(&d, "s.hsnap.2", 2, 2, 2), 0, "write 2");
	ASSERT_EQ(write_snap(&d, "s.hsnap", 0, 3, 3), 0, "write final");
	file_path(&d, "s.hsnap", path, sizeof(path));
	if (ASSERT_EQ(hs_series_load(path, &s, &p, err, sizeof(err)), 0, err)) {
		ASSERT_EQ(r.calls, 3, "a report per numbered file, and one");
		ASSERT_EQ(r.last_done, 2, "numbered ones read");
		ASSERT_EQ(r.last_total, 3, "of three");
		hs_series_free(&s);
	}
	dir_free(&d);
}

int main(void)
{
	RUN_TEST(test_base_or_numbered);
	RUN_TEST(test_final_named_like_a_number);
	RUN_TEST(test_gaps_and_bad_files);
	RUN_TEST(test_errors);
	RUN_TEST(test_recording_still_running);
	RUN_TEST(test_progress_reports);
	return TEST_EXIT();
}
