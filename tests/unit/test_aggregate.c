// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The aggregation stage: per-stack sums (exact, filtered, scaled under
 * sampling and rounded once per slot and once for the total), sums into
 * slots of the caller's choice, the frames of a stack, and frame names for
 * known, unknown and inlined frames.
 */
#include <stdlib.h>

#include "test.h"
#include "snap_fixture.h"
#include "aggregate.h"

#define LIST(...) ((const char *[]){ __VA_ARGS__, NULL })

/*
 * Frames: mk make /src/a.c:5 in /bin/app, inl inlined /src/a.c:9, lc
 * /lib/libc.so.6+0x99 without symbol or file, fl only /src/b.c:12, nn
 * nothing at all.
 * Stacks (most recent call first) and traces:
 *   S0 [mk, inl]   3 x 100 heap
 *   S1 [lc, fl]    2 x 50 heap, 1 x 7 mmap
 *   S2 []          1 x 9 heap
 *   stack 999      1 x 11 heap (no such stack)
 */
struct fixture {
	struct hs_snapshot *s;
	uint32_t mk, inl, lc, fl, nn;
	uint32_t s0, s1, s2;
};

static void build(struct fixture *fx)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_frame f = {
		.module = hs_snapshot_add_module(s, "/bin/app", NULL, 0),
		.function = hs_snapshot_intern(s, "inl"),
		.file = hs_snapshot_intern(s, "/src/a.c"),
		.line = 9,
		.offset = 0x40,
		.inlined = true,
	};
	struct hs_trace bad = { .addr = 1, .size = 11, .stack = 999 };

	fx->s = s;
	fx->mk = fx_frame(s, "make", "/src/a.c", 5, "/bin/app", 0x40);
	fx->inl = hs_snapshot_add_frame(s, &f);
	fx->lc = fx_frame(s, NULL, NULL, 0, "/lib/libc.so.6", 0x99);
	fx->fl = fx_frame(s, NULL, "/src/b.c", 12, NULL, 0x10);
	fx->nn = fx_frame(s, NULL, NULL, 7, NULL, 0x20);
	fx->s0 = fx_stack(s, 2, fx->mk, fx->inl);
	fx->s1 = fx_stack(s, 2, fx->lc, fx->fl);
	fx->s2 = fx_stack(s, 0);
	fx_traces(s, fx->s0, 3, 100, HS_DOMAIN_HEAP);
	fx_traces(s, fx->s1, 2, 50, HS_DOMAIN_HEAP);
	fx_traces(s, fx->s1, 1, 7, HS_DOMAIN_MMAP);
	fx_traces(s, fx->s2, 1, 9, HS_DOMAIN_HEAP);
	hs_snapshot_add_trace(s, &bad);
}

static void assert_sum(const struct hs_sum *got, uint64_t bytes, uint64_t count,
		       const char *name)
{
	char what[128];

	snprintf(what, sizeof(what), "%s: bytes", name);
	ASSERT_EQ(got->bytes, bytes, what);
	snprintf(what, sizeof(what), "%s: count", name);
	ASSERT_EQ(got->count, count, what);
}

static void test_stack_sums_exact(void)
{
	struct fixture fx;
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_sums sums;

	build(&fx);
	if (!ASSERT_EQ(hs_stack_sums(fx.s, &q, &sums), 0, "sums"))
		goto out;
	if (ASSERT_EQ(sums.nslots, 4, "a slot per stack and one for none")) {
		assert_sum(&sums.slots[fx.s0], 300, 3, "S0");
		assert_sum(&sums.slots[fx.s1], 107, 3, "S1, both domains");
		assert_sum(&sums.slots[fx.s2], 9, 1, "S2, empty");
		assert_sum(&sums.slots[3], 11, 1, "no such stack");
	}
	assert_sum(&sums.total, 427, 8, "total");
	hs_sums_free(&sums);

	q.domain = HS_DOMAIN_MMAP;
	if (ASSERT_EQ(hs_stack_sums(fx.s, &q, &sums), 0, "mmap sums")) {
		assert_sum(&sums.slots[fx.s0], 0, 0, "mmap S0");
		assert_sum(&sums.slots[fx.s1], 7, 1, "mmap S1");
		assert_sum(&sums.total, 7, 1, "mmap total");
		hs_sums_free(&sums);
	}
out:
	hs_snapshot_free(fx.s);
}

/* Sums with filters parsed from globs; all frames or only frame 0. */
static void check_filtered(struct fixture *fx, const char *const *inc,
			   const char *const *exc, bool all_frames,
			   uint64_t bytes, uint64_t count, const char *name)
{
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_filter f[8];
	struct hs_sums sums;
	uint64_t slots_bytes = 0;
	size_t i;

	for (; inc && *inc; inc++)
		ASSERT_EQ(hs_filter_parse(*inc, true, &f[q.nfilters++]), 0,
			  name);
	for (; exc && *exc; exc++)
		ASSERT_EQ(hs_filter_parse(*exc, false, &f[q.nfilters++]), 0,
			  name);
	q.filters = f;
	q.all_frames = all_frames;
	if (!ASSERT_EQ(hs_stack_sums(fx->s, &q, &sums), 0, name))
		return;
	assert_sum(&sums.total, bytes, count, name);
	for (i = 0; i < sums.nslots; i++)
		slots_bytes += sums.slots[i].bytes;
	ASSERT_EQ(slots_bytes, bytes, name);
	hs_sums_free(&sums);
}

static void test_stack_sums_filtered(void)
{
	struct fixture fx;

	build(&fx);
	check_filtered(&fx, LIST("/src/a.c"), NULL, false, 300, 3,
		       "frame 0's file");
	check_filtered(&fx, LIST("*/b.c"), NULL, false, 0, 0,
		       "frame 1 not tested");
	check_filtered(&fx, LIST("*/b.c"), NULL, true, 107, 3, "all frames");
	check_filtered(&fx, LIST("*libc.so.6"), NULL, false, 107, 3,
		       "module path without a file");
	check_filtered(&fx, LIST("/src/a.c:5"), NULL, false, 300, 3,
		       "file and line");
	check_filtered(&fx, LIST("/src/a.c:9"), NULL, false, 0, 0,
		       "other line");
	check_filtered(&fx, NULL, LIST("<unknown>"), false, 407, 6,
		       "empty and missing stacks are <unknown>");
	check_filtered(&fx, LIST("*"), LIST("/src/*"), true, 20, 2,
		       "exclude wins");
	hs_snapshot_free(fx.s);
}

/*
 * At one sample per 1000 bytes a 1000-byte trace stands for
 * 1 / (1 - e^-1) = 1.58198 blocks (1581.98 bytes), a 500-byte one for
 * 2.54149 (1270.75 bytes). Each slot is rounded on its own, and the total
 * once: 1.58198 * 2 + 2.54149 = 5.70545 blocks make 6, not 2 + 2 + 3.
 */
static void test_stack_sums_sampled(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	uint32_t a = fx_frame(s, "a", "/a.c", 1, NULL, 0);
	uint32_t b = fx_frame(s, "b", "/b.c", 2, NULL, 0);
	uint32_t c = fx_frame(s, "c", "/c.c", 3, NULL, 0);
	struct hs_sums sums;

	s->sample_bytes = 1000;
	fx_traces(s, fx_stack(s, 1, a), 1, 1000, 0);
	fx_traces(s, fx_stack(s, 1, b), 1, 1000, 0);
	fx_traces(s, fx_stack(s, 1, c), 1, 500, 0);
	if (!ASSERT_EQ(hs_stack_sums(s, &q, &sums), 0, "sums"))
		goto out;
	assert_sum(&sums.slots[0], 1582, 2, "a");
	assert_sum(&sums.slots[1], 1582, 2, "b");
	assert_sum(&sums.slots[2], 1271, 3, "c");
	assert_sum(&sums.slots[3], 0, 0, "no stack");
	assert_sum(&sums.total, 4435, 6, "total, rounded once");
	hs_sums_free(&sums);
out:
	hs_snapshot_free(s);
}

/* Slots by process: pid 7 in slot 0, every other pid in slot 2. */
static size_t by_pid(const struct hs_trace *t, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (t->pid == 666)
		return SIZE_MAX;
	return t->pid == 7 ? 0 : 2;
}

static void test_sums_by_slot(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_trace t = { .size = 10, .pid = 7 };
	struct hs_sums sums;
	int calls = 0;

	t.stack = fx_stack(s, 1, fx_frame(s, "f", "/f.c", 1, NULL, 0));
	hs_snapshot_add_trace(s, &t);
	hs_snapshot_add_trace(s, &t);
	t.pid = 9;
	t.size = 5;
	hs_snapshot_add_trace(s, &t);
	t.domain = HS_DOMAIN_MMAP;
	hs_snapshot_add_trace(s, &t);
	q.domain = HS_DOMAIN_HEAP;
	if (!ASSERT_EQ(hs_sums_by(s, &q, by_pid, &calls, &sums), 0, "sums"))
		goto out;
	ASSERT_EQ(calls, 3, "asked for the selected traces only");
	if (ASSERT_EQ(sums.nslots, 3, "one past the highest slot")) {
		assert_sum(&sums.slots[0], 20, 2, "pid 7");
		assert_sum(&sums.slots[1], 0, 0, "unused slot");
		assert_sum(&sums.slots[2], 5, 1, "pid 9");
	}
	assert_sum(&sums.total, 25, 3, "total");
	hs_sums_free(&sums);

	t.pid = 666;
	t.domain = HS_DOMAIN_HEAP;
	hs_snapshot_add_trace(s, &t);
	ASSERT_EQ(hs_sums_by(s, &q, by_pid, &calls, &sums), -1,
		  "the slot function's failure");
	ASSERT_TRUE(!sums.slots && !sums.nslots, "nothing left to free");
out:
	hs_snapshot_free(s);
}

static void test_stack_frames(void)
{
	struct fixture fx;
	const uint32_t *frames;
	uint32_t n, bogus[] = { 0, 1234 }, bad;

	build(&fx);
	frames = hs_stack_frames(fx.s, fx.s1, &n);
	if (ASSERT_EQ(n, 2, "S1 frames") && ASSERT_TRUE(frames, "S1")) {
		ASSERT_EQ(frames[0], fx.lc, "most recent first");
		ASSERT_EQ(frames[1], fx.fl, "caller");
	}
	frames = hs_stack_frames(fx.s, fx.s2, &n);
	ASSERT_EQ(n, 0, "empty stack");
	frames = hs_stack_frames(fx.s, fx.s->nstacks, &n);
	ASSERT_TRUE(!frames && !n, "the slot of traces without a stack");

	bad = hs_snapshot_add_stack(fx.s, bogus, 2);
	ASSERT_TRUE(hs_stack_at(fx.s, bad) != NULL, "its range is valid");
	frames = hs_stack_frames(fx.s, bad, &n);
	ASSERT_TRUE(!frames && !n, "a frame the snapshot lacks: none");
	ASSERT_TRUE(!hs_stack_at(fx.s, 999), "no such stack");
	fx.s->stacks[bad].nframes = 1000;
	ASSERT_TRUE(!hs_stack_at(fx.s, bad), "frames out of range");
	hs_snapshot_free(fx.s);
}

static const char *name_of(const struct hs_snapshot *s, uint32_t idx)
{
	static char buf[256];

	hs_frame_name(s, idx, buf, sizeof(buf));
	return buf;
}

static void test_frame_names(void)
{
	struct fixture fx;
	struct hs_frame_view v;

	build(&fx);
	ASSERT_STREQ(name_of(fx.s, fx.mk), "make", "function");
	ASSERT_STREQ(name_of(fx.s, fx.inl), "inl", "inlined function");
	ASSERT_STREQ(name_of(fx.s, fx.fl), "/src/b.c:12", "file and line");
	ASSERT_STREQ(name_of(fx.s, fx.lc), "libc.so.6+0x99",
		     "module base name and offset");
	ASSERT_STREQ(name_of(fx.s, fx.nn), "<unknown>", "nothing known");
	ASSERT_STREQ(name_of(fx.s, 4242), "<unknown>", "no such frame");

	hs_frame_view(fx.s, fx.inl, &v);
	ASSERT_STREQ(v.function, "inl", "view: function");
	ASSERT_STREQ(v.file, "/src/a.c", "view: file");
	ASSERT_STREQ(v.module, "/bin/app", "view: module path");
	ASSERT_EQ(v.line, 9, "view: line");
	ASSERT_EQ(v.offset, 0x40, "view: offset");
	ASSERT_TRUE(v.inlined, "view: inlined");
	hs_frame_view(fx.s, fx.mk, &v);
	ASSERT_TRUE(!v.inlined, "view: not inlined");
	hs_frame_view(fx.s, fx.nn, &v);
	ASSERT_TRUE(!v.function && !v.file && !v.module, "view: unknown");
	ASSERT_EQ(v.line, 0, "view: no line without a file");
	ASSERT_EQ(v.offset, 0x20, "view: the offset stays");
	hs_frame_view(NULL, 0, &v);
	ASSERT_TRUE(!v.function && !v.offset, "view: no snapshot");

	ASSERT_STREQ(hs_base_name("/usr/lib/libc.so.6"), "libc.so.6",
		     "base name");
	ASSERT_STREQ(hs_base_name("plain"), "plain", "no slash");
	hs_snapshot_free(fx.s);
}

static void test_process_selection(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_PROCESS, false);
	struct hs_proc p = {
		.pid = 42, .command = hs_snapshot_intern(s, "/usr/bin/app --x")
	};
	struct hs_trace t = { .pid = 42, .stack = HS_NONE };
	const char *comms[] = { "ap?" }, *other[] = { "bash" };
	uint32_t pids[] = { 41, 42 };

	hs_snapshot_add_proc(s, &p);
	ASSERT_TRUE(hs_proc_of(s, 42) == &s->procs[0], "proc of 42");
	ASSERT_TRUE(!hs_proc_of(s, 43), "no such process");
	q.comms = comms;
	q.ncomms = 1;
	ASSERT_TRUE(hs_trace_selected(s, &t, &q), "command's base name");
	q.comms = other;
	ASSERT_TRUE(!hs_trace_selected(s, &t, &q), "other command");
	q.ncomms = 0;
	q.pids = pids;
	q.npids = 2;
	ASSERT_TRUE(hs_trace_selected(s, &t, &q), "listed pid");
	q.npids = 1;
	ASSERT_TRUE(!hs_trace_selected(s, &t, &q), "pid not listed");
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_stack_sums_exact);
	RUN_TEST(test_stack_sums_filtered);
	RUN_TEST(test_stack_sums_sampled);
	RUN_TEST(test_sums_by_slot);
	RUN_TEST(test_stack_frames);
	RUN_TEST(test_frame_names);
	RUN_TEST(test_process_selection);
	return TEST_EXIT();
}
