// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tracemalloc semantics of the stats stage on snapshots with known contents:
 * grouping by each key, cumulative, filters, diff and its ordering.
 */
#include "test.h"
#include "snap_fixture.h"

struct want {
	const char *label;
	uint64_t size, count;
	int64_t size_diff, count_diff;
};

#define LABEL_LEN 512

static void check_rows(const struct hs_stats *st, const struct want *w,
		       size_t n, const char *what)
{
	char buf[LABEL_LEN], name[128];
	size_t i;

	if (!ASSERT_EQ(st->nrows, n, what))
		return;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s row %zu", what, i);
		ASSERT_STREQ(fx_label(st, i, buf, sizeof(buf)), w[i].label,
			     name);
		ASSERT_EQ(st->rows[i].size, w[i].size, name);
		ASSERT_EQ(st->rows[i].count, w[i].count, name);
		ASSERT_EQ(st->rows[i].size_diff, w[i].size_diff, name);
		ASSERT_EQ(st->rows[i].count_diff, w[i].count_diff, name);
	}
}

/* Runs top with q and checks its rows and totals. */
static void check_top(const struct hs_snapshot *s, const struct hs_query *q,
		      const struct want *w, size_t n, uint64_t total_size,
		      uint64_t total_count, const char *what)
{
	struct hs_stats st;

	if (!ASSERT_EQ(hs_stats_top(s, q, &st), 0, what))
		return;
	check_rows(&st, w, n, what);
	ASSERT_EQ(st.total_size, total_size, what);
	ASSERT_EQ(st.total_count, total_count, what);
	ASSERT_EQ(st.is_diff, 0, what);
	hs_stats_free(&st);
}

/*
 * Stacks (most recent first) and their traces:
 *   S1 [A, C]      3 x 100      A  f_a a.c:10 /bin/app+0x10
 *   S2 [B, C]      1 x 1000     A2 f_a a.c:10 /bin/app+0x14 (same line)
 *   S3 [C, A]      2 x 50       B  f_b a.c:20 /bin/app+0x20
 *   S4 [U, C]      4 x 10       C  f_c b.c:5  /bin/app+0x30
 *   S5 []          1 x 7        U  /lib/libc.so+0x99, no symbol
 *   S6 [A, A2, C]  1 x 5
 * Total 1452 bytes in 12 blocks.
 */
static struct hs_snapshot *base_snapshot(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	uint32_t a, a2, b, c, u;

	a = fx_frame(s, "f_a", "a.c", 10, "/bin/app", 0x10);
	a2 = fx_frame(s, "f_a", "a.c", 10, "/bin/app", 0x14);
	b = fx_frame(s, "f_b", "a.c", 20, "/bin/app", 0x20);
	c = fx_frame(s, "f_c", "b.c", 5, "/bin/app", 0x30);
	u = fx_frame(s, NULL, NULL, 0, "/lib/libc.so", 0x99);
	fx_traces(s, fx_stack(s, 2, a, c), 3, 100, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 2, b, c), 1, 1000, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 2, c, a), 2, 50, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 2, u, c), 4, 10, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 0), 1, 7, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 3, a, a2, c), 1, 5, HS_DOMAIN_HEAP);
	return s;
}

static void test_key_names(void)
{
	static const char *const names[] = { "lineno", "filename", "function",
					     "module", "traceback" };
	int i;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(hs_key_parse(names[i]), i, names[i]);
		ASSERT_STREQ(hs_key_name((enum hs_key)i), names[i], names[i]);
	}
	ASSERT_EQ(hs_key_parse("line"), -1, "unknown key");
	ASSERT_TRUE(hs_key_name((enum hs_key)9) == NULL, "bad key name");
}

static void test_filter_parse(void)
{
	struct hs_filter f;

	ASSERT_EQ(hs_filter_parse("*.c", true, &f), 0, "glob");
	ASSERT_EQ(f.line, -1, "glob line");
	ASSERT_EQ(f.pattern_len, 0, "glob len");
	ASSERT_TRUE(f.inclusive, "glob inclusive");
	ASSERT_EQ(hs_filter_parse("src/a.c:12", false, &f), 0, "glob:line");
	ASSERT_EQ(f.line, 12, "glob:line line");
	ASSERT_EQ(f.pattern_len, 7, "glob:line len");
	ASSERT_TRUE(!f.inclusive, "exclusive");
	ASSERT_EQ(hs_filter_parse("c:/x:y", true, &f), 0, "colons");
	ASSERT_EQ(f.line, -1, "colons line");
	ASSERT_EQ(hs_filter_parse("a.c:", true, &f), 0, "trailing colon");
	ASSERT_EQ(f.line, -1, "trailing colon is part of the glob");
	ASSERT_EQ(hs_filter_parse(":12", true, &f), -1, "empty glob");
	ASSERT_EQ(hs_filter_parse("", true, &f), -1, "empty");
	ASSERT_EQ(hs_filter_parse("a.c:99999999999", true, &f), -1,
		  "line too big");
}

static void test_top_lineno(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	const struct want w[] = {
		{ "a.c:20", 1000, 1 }, { "a.c:10", 305, 4 },
		{ "b.c:5", 100, 2 },   { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};

	check_top(s, &q, w, 5, 1452, 12, "lineno");
	hs_snapshot_free(s);
}

static void test_top_other_keys(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_FILENAME, false);
	const struct want by_file[] = {
		{ "a.c", 1305, 5 },
		{ "b.c", 100, 2 },
		{ "/lib/libc.so", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_func[] = {
		{ "f_b", 1000, 1 },    { "f_a", 305, 4 },
		{ "f_c", 100, 2 },     { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_module[] = {
		{ "/bin/app", 1405, 7 },
		{ "/lib/libc.so", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_tb[] = {
		{ "a.c:20 < b.c:5", 1000, 1 },
		{ "a.c:10 < b.c:5", 300, 3 },
		{ "b.c:5 < a.c:10", 100, 2 },
		{ "/lib/libc.so+0x99 < b.c:5", 40, 4 },
		{ "<unknown>", 7, 1 },
		{ "a.c:10 < a.c:10 < b.c:5", 5, 1 },
	};

	check_top(s, &q, by_file, 4, 1452, 12, "filename");
	q.key = HS_KEY_FUNCTION;
	check_top(s, &q, by_func, 5, 1452, 12, "function");
	q.key = HS_KEY_MODULE;
	check_top(s, &q, by_module, 3, 1452, 12, "module");
	q.key = HS_KEY_TRACEBACK;
	check_top(s, &q, by_tb, 6, 1452, 12, "traceback");
	hs_snapshot_free(s);
}

/* S6 has a.c:10 (and f_a) twice: its block counts once per key. */
static void test_cumulative(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_LINENO, true);
	const struct want by_line[] = {
		{ "b.c:5", 1445, 11 }, { "a.c:20", 1000, 1 },
		{ "a.c:10", 405, 6 },  { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_func[] = {
		{ "f_c", 1445, 11 },   { "f_b", 1000, 1 },
		{ "f_a", 405, 6 },     { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_file[] = {
		{ "b.c", 1445, 11 },
		{ "a.c", 1405, 7 },
		{ "/lib/libc.so", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	const struct want by_module[] = {
		{ "/bin/app", 1445, 11 },
		{ "/lib/libc.so", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	struct hs_stats st;

	check_top(s, &q, by_line, 5, 1452, 12, "cumulative lineno");
	q.key = HS_KEY_FUNCTION;
	check_top(s, &q, by_func, 5, 1452, 12, "cumulative function");
	q.key = HS_KEY_FILENAME;
	check_top(s, &q, by_file, 4, 1452, 12, "cumulative filename");
	q.key = HS_KEY_MODULE;
	check_top(s, &q, by_module, 3, 1452, 12, "cumulative module");
	q.key = HS_KEY_LINENO;
	if (ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "cumulative flag")) {
		ASSERT_TRUE(st.cumulative, "cumulative is reported");
		/* the row shows the frame of S1, the first stack with it */
		ASSERT_EQ(st.rows[2].frames[0], 0, "a.c:10 frame");
		hs_stats_free(&st);
	}
	hs_snapshot_free(s);
}

/* tracemalloc refuses cumulative tracebacks; heapsnap ignores the flag. */
static void test_cumulative_traceback_ignored(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, true);
	struct hs_stats st;

	if (!ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "top"))
		goto out;
	ASSERT_TRUE(!st.cumulative, "not cumulative");
	ASSERT_EQ(st.nrows, 6, "rows");
	ASSERT_EQ(st.rows[0].size, 1000, "first row");
	ASSERT_EQ(st.rows[0].nframes, 2, "whole traceback");
	hs_stats_free(&st);
out:
	hs_snapshot_free(s);
}

/* Equal size and count: key order, lines compared as numbers. */
static void test_sort_ties(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	const struct want w[] = {
		{ "a.c:1", 100, 2 }, { "a.c:2", 100, 1 }, { "a.c:10", 100, 1 },
		{ "b.c:1", 100, 1 }, { "c.c:1", 50, 1 },
	};

	fx_traces(s, fx_stack(s, 1, fx_frame(s, "f", "c.c", 1, NULL, 1)), 1, 50,
		  0);
	fx_traces(s, fx_stack(s, 1, fx_frame(s, "f", "b.c", 1, NULL, 2)), 1,
		  100, 0);
	fx_traces(s, fx_stack(s, 1, fx_frame(s, "f", "a.c", 10, NULL, 3)), 1,
		  100, 0);
	fx_traces(s, fx_stack(s, 1, fx_frame(s, "f", "a.c", 2, NULL, 4)), 1,
		  100, 0);
	fx_traces(s, fx_stack(s, 1, fx_frame(s, "f", "a.c", 1, NULL, 5)), 2, 50,
		  0);
	check_top(s, &q, w, 5, 450, 6, "ties");
	hs_snapshot_free(s);
}

static void check_filtered(const struct hs_snapshot *s, const char *const *inc,
			   const char *const *exc, bool all_frames,
			   uint64_t size, uint64_t count, const char *what)
{
	struct hs_filter f[8];
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	struct hs_stats st;
	uint64_t selected = 0;
	size_t i;

	for (; inc && *inc; inc++)
		ASSERT_EQ(hs_filter_parse(*inc, true, &f[q.nfilters++]), 0,
			  what);
	for (; exc && *exc; exc++)
		ASSERT_EQ(hs_filter_parse(*exc, false, &f[q.nfilters++]), 0,
			  what);
	q.filters = f;
	q.all_frames = all_frames;
	if (!ASSERT_EQ(hs_stats_top(s, &q, &st), 0, what))
		return;
	ASSERT_EQ(st.total_size, size, what);
	ASSERT_EQ(st.total_count, count, what);
	hs_stats_free(&st);
	for (i = 0; i < s->ntraces; i++)
		selected += hs_trace_selected(s, &s->traces[i], &q);
	ASSERT_EQ(selected, count, what);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_filters(void)
{
	struct hs_snapshot *s = base_snapshot();

	check_filtered(s, NULL, NULL, false, 1452, 12, "no filter");
	check_filtered(s, LIST("a.c"), NULL, false, 1305, 5, "include frame 0");
	check_filtered(s, LIST("a.c"), NULL, true, 1405, 7,
		       "include all frames");
	check_filtered(s, NULL, LIST("b.c"), false, 1352, 10,
		       "exclude frame 0");
	check_filtered(s, NULL, LIST("b.c"), true, 7, 1, "exclude all frames");
	check_filtered(s, LIST("a.c:20"), NULL, false, 1000, 1, "GLOB:LINE");
	check_filtered(s, LIST("a.c:21"), NULL, false, 0, 0, "wrong line");
	check_filtered(s, LIST("a.c:20", "b.c"), NULL, false, 1100, 3,
		       "includes are a union");
	check_filtered(s, LIST("*.c"), LIST("a.c:20"), false, 405, 6,
		       "include and exclude");
	check_filtered(s, LIST("/lib/*"), NULL, false, 40, 4,
		       "module path, * crosses /");
	check_filtered(s, NULL, LIST("<unknown>"), false, 1445, 11,
		       "exclude empty tracebacks");
	check_filtered(s, LIST("?.c"), NULL, false, 1405, 7, "? glob");
	check_filtered(s, LIST("[b].c"), NULL, true, 1445, 11, "[] glob");
	hs_snapshot_free(s);
}

static void test_domain_filter(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	const struct want mmap[] = { { "a.c:20", 8192, 2 } };
	const struct want heap[] = {
		{ "a.c:20", 1000, 1 }, { "a.c:10", 305, 4 },
		{ "b.c:5", 100, 2 },   { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	struct hs_trace t;

	fx_traces(s, s->traces[3].stack, 2, 4096, HS_DOMAIN_MMAP);
	q.domain = HS_DOMAIN_MMAP;
	check_top(s, &q, mmap, 1, 8192, 2, "mmap");
	q.domain = HS_DOMAIN_HEAP;
	check_top(s, &q, heap, 5, 1452, 12, "heap");
	q.domain = -1;
	t = s->traces[s->ntraces - 1];
	ASSERT_TRUE(hs_trace_selected(s, &t, &q), "all domains");
	q.domain = HS_DOMAIN_HEAP;
	ASSERT_TRUE(!hs_trace_selected(s, &t, &q), "other domain");
	hs_snapshot_free(s);
}

/*
 * A frame with neither file nor module, an empty traceback and a bad stack
 * index are all "<unknown>", and the row shows a real frame.
 */
static void test_unknown_frames(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	struct hs_trace bad = { .addr = 1, .size = 1000, .stack = 999 };
	struct hs_stats st;
	uint32_t n1 = fx_frame(s, NULL, NULL, 0, NULL, 0x1111);
	uint32_t n2 = fx_frame(s, NULL, NULL, 0, NULL, 0x2222);

	fx_traces(s, fx_stack(s, 0), 1, 1, 0);
	fx_traces(s, fx_stack(s, 1, n1), 1, 10, 0);
	fx_traces(s, fx_stack(s, 1, n2), 1, 100, 0);
	hs_snapshot_add_trace(s, &bad);
	if (!ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "top"))
		goto out;
	if (ASSERT_EQ(st.nrows, 1, "one unknown row")) {
		ASSERT_EQ(st.rows[0].size, 1111, "size");
		ASSERT_EQ(st.rows[0].count, 4, "count");
		ASSERT_EQ(st.rows[0].nframes, 1, "shows a frame");
	}
	hs_stats_free(&st);
	check_filtered(s, NULL, LIST("<unknown>"), false, 0, 0,
		       "<unknown> names them all");
out:
	hs_snapshot_free(s);
}

/*
 * old: gone.c:1 2x100, x.c:1 1x100, b.c:5 5x100, a.c:10 3x100
 * new: a.c:10 4x175, b.c:5 5x100, new.c:3 1x100
 * Built in different orders, so no index means the same thing in both.
 */
static void diff_snapshots(struct hs_snapshot **old, struct hs_snapshot **new)
{
	struct hs_snapshot *o = hs_snapshot_new(), *n = hs_snapshot_new();

	hs_snapshot_intern(o, "unrelated");
	fx_traces(o, fx_stack(o, 1, fx_frame(o, "g", "gone.c", 1, "/a", 1)), 2,
		  100, 0);
	fx_traces(o, fx_stack(o, 1, fx_frame(o, "x", "x.c", 1, "/a", 2)), 1,
		  100, 0);
	fx_traces(o, fx_stack(o, 1, fx_frame(o, "c", "b.c", 5, "/a", 3)), 5,
		  100, 0);
	fx_traces(o, fx_stack(o, 1, fx_frame(o, "a", "a.c", 10, "/a", 4)), 3,
		  100, 0);

	fx_traces(n, fx_stack(n, 1, fx_frame(n, "a", "a.c", 10, "/a", 4)), 4,
		  175, 0);
	fx_traces(n, fx_stack(n, 1, fx_frame(n, "c", "b.c", 5, "/a", 3)), 5,
		  100, 0);
	fx_traces(n, fx_stack(n, 1, fx_frame(n, "n", "new.c", 3, "/a", 5)), 1,
		  100, 0);
	*old = o;
	*new = n;
}

static void test_diff(void)
{
	struct hs_snapshot *old, *new;
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	const struct want w[] = {
		{ "a.c:10", 700, 4, 400, 1 },  { "gone.c:1", 0, 0, -200, -2 },
		{ "new.c:3", 100, 1, 100, 1 }, { "x.c:1", 0, 0, -100, -1 },
		{ "b.c:5", 500, 5, 0, 0 },
	};
	struct hs_stats st;

	diff_snapshots(&old, &new);
	if (!ASSERT_EQ(hs_stats_diff(old, new, &q, &st), 0, "diff"))
		goto out;
	ASSERT_TRUE(st.is_diff, "is_diff");
	check_rows(&st, w, 5, "diff");
	ASSERT_EQ(st.total_size, 1300, "total size");
	ASSERT_EQ(st.total_count, 10, "total count");
	ASSERT_EQ(st.total_size_diff, 200, "total size diff");
	ASSERT_EQ(st.total_count_diff, -1, "total count diff");
	if (st.nrows == 5) {
		ASSERT_TRUE(st.rows[0].snap == new, "a.c row from new");
		ASSERT_TRUE(st.rows[1].snap == old, "gone.c row from old");
		ASSERT_TRUE(st.rows[3].snap == old, "x.c row from old");
	}
	hs_stats_free(&st);
out:
	hs_snapshot_free(old);
	hs_snapshot_free(new);
}

static void test_diff_keys(void)
{
	struct hs_snapshot *old, *new;
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	const struct want by_tb[] = {
		{ "a.c:10", 700, 4, 400, 1 },  { "gone.c:1", 0, 0, -200, -2 },
		{ "new.c:3", 100, 1, 100, 1 }, { "x.c:1", 0, 0, -100, -1 },
		{ "b.c:5", 500, 5, 0, 0 },
	};
	const struct want by_module[] = { { "/a", 1300, 10, 200, -1 } };
	struct hs_stats st;

	diff_snapshots(&old, &new);
	if (ASSERT_EQ(hs_stats_diff(old, new, &q, &st), 0, "traceback")) {
		check_rows(&st, by_tb, 5, "traceback diff");
		hs_stats_free(&st);
	}
	q.key = HS_KEY_MODULE;
	if (ASSERT_EQ(hs_stats_diff(old, new, &q, &st), 0, "module")) {
		check_rows(&st, by_module, 1, "module diff");
		hs_stats_free(&st);
	}
	hs_snapshot_free(old);
	hs_snapshot_free(new);
}

/* A snapshot against itself: same rows as top, every delta zero. */
static void test_diff_self(void)
{
	struct hs_snapshot *s = base_snapshot();
	struct hs_query q = fx_query(HS_KEY_LINENO, true);
	const struct want w[] = {
		{ "b.c:5", 1445, 11 }, { "a.c:20", 1000, 1 },
		{ "a.c:10", 405, 6 },  { "/lib/libc.so+0x99", 40, 4 },
		{ "<unknown>", 7, 1 },
	};
	struct hs_stats st;

	if (!ASSERT_EQ(hs_stats_diff(s, s, &q, &st), 0, "diff"))
		goto out;
	check_rows(&st, w, 5, "self diff");
	ASSERT_EQ(st.total_size_diff, 0, "total diff");
	hs_stats_free(&st);
out:
	hs_snapshot_free(s);
}

static void test_empty_snapshot(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);

	check_top(s, &q, NULL, 0, 0, 0, "empty");
	hs_snapshot_free(s);
}

/* Two processes, one of them in two places; blocks of pid 7 are bigger. */
static struct hs_snapshot *two_processes(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_proc p = { .pid = 7 };
	uint32_t a, b;
	size_t i;

	p.command = hs_snapshot_intern(s, "/usr/bin/server --port 80");
	hs_snapshot_add_proc(s, &p);
	p.pid = 9;
	p.command = hs_snapshot_intern(s, "./worker");
	hs_snapshot_add_proc(s, &p);
	a = fx_stack(s, 1, fx_frame(s, "f", "a.c", 1, NULL, 0));
	b = fx_stack(s, 1, fx_frame(s, "g", "b.c", 2, NULL, 0));
	fx_traces(s, a, 3, 100, HS_DOMAIN_HEAP); /* pid 42 by default */
	fx_traces(s, b, 2, 10, HS_DOMAIN_HEAP);
	for (i = 0; i < s->ntraces; i++)
		s->traces[i].pid = i < 3 ? 7 : 9;
	fx_traces(s, a, 1, 1000, HS_DOMAIN_MMAP);
	s->traces[s->ntraces - 1].pid = 9;
	return s;
}

static void test_process_key_and_filters(void)
{
	struct hs_snapshot *s = two_processes();
	struct hs_query q = fx_query(HS_KEY_PROCESS, false);
	static const uint32_t only9[] = { 9 };
	static const char *const server[] = { "serv*" };
	struct hs_stats st;

	ASSERT_EQ(hs_key_parse("process"), HS_KEY_PROCESS, "key name");
	ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "top by process");
	ASSERT_EQ(st.nrows, 2, "rows");
	ASSERT_EQ(st.rows[0].pid, 9, "biggest first");
	ASSERT_EQ(st.rows[0].size, 1020, "pid 9 size");
	ASSERT_EQ(st.rows[0].count, 3, "pid 9 count");
	ASSERT_STREQ(st.rows[0].command, "./worker", "pid 9 command");
	ASSERT_EQ(st.rows[1].size, 300, "pid 7 size");
	ASSERT_EQ(st.total_size, 1320, "total");
	hs_stats_free(&st);

	q.domain = HS_DOMAIN_HEAP;
	ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "heap only");
	ASSERT_EQ(st.rows[0].pid, 7, "pid 7 leads the heap");
	ASSERT_EQ(st.total_size, 320, "heap total");
	hs_stats_free(&st);

	q = fx_query(HS_KEY_LINENO, false);
	q.pids = only9;
	q.npids = 1;
	ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "--pid 9");
	ASSERT_EQ(st.total_size, 1020, "--pid 9 total");
	ASSERT_EQ(st.nrows, 2, "--pid 9 rows");
	hs_stats_free(&st);

	q.npids = 0;
	q.comms = server;
	q.ncomms = 1;
	ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "--comm serv*");
	ASSERT_EQ(st.total_size, 300, "--comm matches the command's name");
	ASSERT_EQ(st.nrows, 1, "--comm rows");
	hs_stats_free(&st);

	q.key = HS_KEY_PROCESS;
	ASSERT_EQ(hs_stats_diff(s, s, &q, &st), 0, "diff by process");
	ASSERT_EQ(st.nrows, 1, "diff rows");
	ASSERT_EQ(st.rows[0].size_diff, 0, "no change");
	hs_stats_free(&st);
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_key_names);
	RUN_TEST(test_filter_parse);
	RUN_TEST(test_top_lineno);
	RUN_TEST(test_top_other_keys);
	RUN_TEST(test_cumulative);
	RUN_TEST(test_cumulative_traceback_ignored);
	RUN_TEST(test_sort_ties);
	RUN_TEST(test_filters);
	RUN_TEST(test_domain_filter);
	RUN_TEST(test_unknown_frames);
	RUN_TEST(test_diff);
	RUN_TEST(test_diff_keys);
	RUN_TEST(test_diff_self);
	RUN_TEST(test_empty_snapshot);
	RUN_TEST(test_process_key_and_filters);
	return TEST_EXIT();
}
