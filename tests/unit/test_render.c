// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text and JSON output: the pretty top of each key with source lines, diff
 * rows, JSON read back with json-c, info, lookup and loss warnings.
 */
#include <json-c/json.h>
#include <unistd.h>

#include "test.h"
#include "snap_fixture.h"
#include "render.h"

#define SNAP_TIME_NS (1795304400ull * 1000000000ull) /* 2026-11-21T23:40:00Z */

struct fixture {
	char dir[64];
	char src[128]; /* a readable source file */
	char missing[128]; /* a source file that does not exist */
	struct hs_snapshot *s;
	uint64_t first_addr; /* first block of the [A, B] stack, 128 bytes */
	uint32_t a;
};

static const char source_text[] = "#include <stdlib.h>\n"
				  "\n"
				  "void *make(void)\n"
				  "{\n"
				  "\treturn malloc(128);   \n"
				  "}\n";

/*
 * Frames: A make src.c:5 /bin/app+0x1234, B other src.c:3 /bin/app+0x2000,
 * C /lib/libc.so+0x99 (no symbol), D lost missing.c:7.
 * Stacks: [A, B] 100 x 128, [B] 4 x 1024, [C, A] 2 x 10, [D] 1 x 5.
 * Total 16921 bytes in 107 blocks.
 */
static int fixture_init(struct fixture *fx)
{
	struct hs_snapshot *s;
	uint32_t b, c, d;
	FILE *f;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/hs-render-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->src, sizeof(fx->src), "%s/src.c", fx->dir);
	snprintf(fx->missing, sizeof(fx->missing), "%s/missing.c", fx->dir);
	f = fopen(fx->src, "w");
	if (!f)
		return -1;
	fputs(source_text, f);
	fclose(f);
	s = fx->s = hs_snapshot_new();
	fx->a = fx_frame(s, "make", fx->src, 5, "/bin/app", 0x1234);
	b = fx_frame(s, "other", fx->src, 3, "/bin/app", 0x2000);
	c = fx_frame(s, NULL, NULL, 0, "/lib/libc.so", 0x99);
	d = fx_frame(s, "lost", fx->missing, 7, "/bin/app", 0x3000);
	fx->first_addr = fx_traces(s, fx_stack(s, 2, fx->a, b), 100, 128, 0);
	fx_traces(s, fx_stack(s, 1, b), 4, 1024, 0);
	fx_traces(s, fx_stack(s, 2, c, fx->a), 2, 10, 0);
	fx_traces(s, fx_stack(s, 1, d), 1, 5, 0);
	return 0;
}

static void fixture_fini(struct fixture *fx)
{
	unlink(fx->src);
	rmdir(fx->dir);
	hs_snapshot_free(fx->s);
}

/* asprintf() that aborts the test program when memory runs out. */
static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *cap_open(struct capture *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	return c->f;
}

/* The captured text; the caller frees it. */
static char *cap_close(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

/* Renders top (or diff when old is set) of q to a string. */
static char *render_query(const struct hs_snapshot *old,
			  const struct hs_snapshot *s, const struct hs_query *q,
			  const struct hs_render_opts *o)
{
	struct capture cap;
	struct hs_stats st;
	int err;

	err = old ? hs_stats_diff(old, s, q, &st) : hs_stats_top(s, q, &st);
	if (!ASSERT_EQ(err, 0, "stats") || !cap_open(&cap))
		return NULL;
	hs_render_stats(cap.f, &st, o);
	hs_stats_free(&st);
	return cap_close(&cap);
}

static char *render(const struct hs_snapshot *old, const struct hs_snapshot *s,
		    enum hs_key key, const struct hs_render_opts *o)
{
	struct hs_query q = fx_query(key, false);

	return render_query(old, s, &q, o);
}

static json_object *render_json(const struct hs_snapshot *old,
				const struct hs_snapshot *s, enum hs_key key,
				size_t limit)
{
	struct hs_render_opts o = { .json = true, .limit = limit };
	char *text = render(old, s, key, &o);
	json_object *j = text ? json_tokener_parse(text) : NULL;

	ASSERT_TRUE(j != NULL, "output parses as JSON");
	free(text);
	return j;
}

/* j.path, following object keys and array indices ("stats.0.size"). */
static json_object *jget(json_object *j, const char *path)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j;
	     tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(j, json_type_array))
			j = json_object_array_get_idx(j, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(j, tok, &j))
			return NULL;
	}
	return j;
}

static bool jhas(json_object *j, const char *path)
{
	char buf[256], *dot;
	json_object *parent = j;

	snprintf(buf, sizeof(buf), "%s", path);
	dot = strrchr(buf, '.');
	if (dot) {
		*dot = '\0';
		parent = jget(j, buf);
	}
	return parent &&
	       json_object_object_get_ex(parent, dot ? dot + 1 : buf, NULL);
}

static int64_t jint(json_object *j, const char *path)
{
	return json_object_get_int64(jget(j, path));
}

static const char *jstr(json_object *j, const char *path)
{
	json_object *v = jget(j, path);

	return json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       NULL;
}

static bool jnull(json_object *j, const char *path)
{
	return jhas(j, path) && jget(j, path) == NULL;
}

static void test_top_text_lineno(void)
{
	struct hs_render_opts o = { .limit = 2, .source = true };
	struct fixture fx;
	char *got, *want;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	got = render(NULL, fx.s, HS_KEY_LINENO, &o);
	want = xasprintf(
		"Top 2 lines\n"
		"#1: %s:5: 12.5 KiB (12800 B) in 100 blocks, average 128 B\n"
		"    return malloc(128);\n"
		"#2: %s:3: 4096 B in 4 blocks, average 1024 B\n"
		"    void *make(void)\n"
		"2 other: 25 B in 3 blocks\n"
		"Total: 16.5 KiB (16921 B) in 107 blocks\n",
		fx.src, fx.src);
	ASSERT_STREQ(got, want, "pretty top");
	free(got);
	free(want);

	o.limit = 0;
	got = render(NULL, fx.s, HS_KEY_LINENO, &o);
	want = xasprintf(
		"Top 4 lines\n"
		"#1: %s:5: 12.5 KiB (12800 B) in 100 blocks, average 128 B\n"
		"    return malloc(128);\n"
		"#2: %s:3: 4096 B in 4 blocks, average 1024 B\n"
		"    void *make(void)\n"
		"#3: /lib/libc.so+0x99: 20 B in 2 blocks, average 10 B\n"
		"#4: %s:7: 5 B in 1 block, average 5 B\n"
		"Total: 16.5 KiB (16921 B) in 107 blocks\n",
		fx.src, fx.src, fx.missing);
	ASSERT_STREQ(got, want, "all rows, unreadable source skipped");
	free(got);
	free(want);
	fixture_fini(&fx);
}

static void test_top_text_keys(void)
{
	struct hs_render_opts o = { .limit = 0, .source = false };
	struct fixture fx;
	char *got, *want;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	got = render(NULL, fx.s, HS_KEY_FUNCTION, &o);
	want = xasprintf(
		"Top 4 functions\n"
		"#1: make (%s): 12.5 KiB (12800 B) in 100 blocks, average 128 B\n"
		"#2: other (%s): 4096 B in 4 blocks, average 1024 B\n"
		"#3: /lib/libc.so+0x99: 20 B in 2 blocks, average 10 B\n"
		"#4: lost (%s): 5 B in 1 block, average 5 B\n"
		"Total: 16.5 KiB (16921 B) in 107 blocks\n",
		fx.src, fx.src, fx.missing);
	ASSERT_STREQ(got, want, "by function");
	free(got);
	free(want);

	got = render(NULL, fx.s, HS_KEY_MODULE, &o);
	ASSERT_STREQ(
		got,
		"Top 2 modules\n"
		"#1: /bin/app: 16.5 KiB (16901 B) in 105 blocks, average 161 B\n"
		"#2: /lib/libc.so: 20 B in 2 blocks, average 10 B\n"
		"Total: 16.5 KiB (16921 B) in 107 blocks\n",
		"by module");
	free(got);
	fixture_fini(&fx);
}

static void test_top_text_traceback(void)
{
	struct hs_render_opts o = { .limit = 1, .source = true };
	struct fixture fx;
	char *got, *want;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	got = render(NULL, fx.s, HS_KEY_TRACEBACK, &o);
	want = xasprintf("Top 1 traceback\n"
			 "#1: 12.5 KiB (12800 B) in 100 blocks, average 128 B\n"
			 "  %s:5 in make\n"
			 "    return malloc(128);\n"
			 "  %s:3 in other\n"
			 "    void *make(void)\n"
			 "3 other: 4121 B in 7 blocks\n"
			 "Total: 16.5 KiB (16921 B) in 107 blocks\n",
			 fx.src, fx.src);
	ASSERT_STREQ(got, want, "traceback rows");
	free(got);
	free(want);
	fixture_fini(&fx);
}

/* Cumulative rows overlap: the rest is counted, not summed. */
static void test_top_text_cumulative(void)
{
	struct hs_query q = fx_query(HS_KEY_LINENO, true);
	struct hs_render_opts o = { .limit = 1 };
	struct fixture fx;
	char *got, *want;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	got = render_query(NULL, fx.s, &q, &o);
	want = xasprintf(
		"Top 1 line (cumulative)\n"
		"#1: %s:3: 16.5 KiB (16896 B) in 104 blocks, average 162 B\n"
		"3 other lines, not summed (cumulative rows overlap)\n"
		"Total: 16.5 KiB (16921 B) in 107 blocks\n",
		fx.src);
	ASSERT_STREQ(got, want, "cumulative top");
	free(got);
	free(want);
	fixture_fini(&fx);
}

/* old has 60 blocks at line 5 and nothing else. */
static struct hs_snapshot *old_snapshot(const struct fixture *fx)
{
	struct hs_snapshot *old = hs_snapshot_new();
	uint32_t a = fx_frame(old, "make", fx->src, 5, "/bin/app", 0x1234);

	fx_traces(old, fx_stack(old, 1, a), 60, 128, 0);
	return old;
}

static void test_diff_text(void)
{
	struct hs_render_opts o = { .limit = 1 };
	struct hs_snapshot *old;
	struct fixture fx;
	char *got, *want;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	old = old_snapshot(&fx);
	got = render(old, fx.s, HS_KEY_LINENO, &o);
	want = xasprintf(
		"Top 1 differences by line\n"
		"#1: %s:5: size=12.5 KiB (+5120 B), count=100 (+40), average=128 B\n"
		"3 other: size=4121 B (+4121 B), count=7 (+7)\n"
		"Total: size=16.5 KiB (+9241 B), count=107 (+47)\n",
		fx.src);
	ASSERT_STREQ(got, want, "diff rows");
	free(got);
	free(want);
	/* swapped: the rows shrink and ones gone from NEW have no average */
	o.limit = 2;
	got = render(fx.s, old, HS_KEY_LINENO, &o);
	want = xasprintf(
		"Top 2 differences by line\n"
		"#1: %s:5: size=7680 B (-5120 B), count=60 (-40), average=128 B\n"
		"#2: %s:3: size=0 B (-4096 B), count=0 (-4)\n"
		"2 other: size=0 B (-25 B), count=0 (-3)\n"
		"Total: size=7680 B (-9241 B), count=60 (-47)\n",
		fx.src, fx.src);
	ASSERT_STREQ(got, want, "shrinking diff");
	free(got);
	free(want);
	hs_snapshot_free(old);
	fixture_fini(&fx);
}

static void test_warnings(void)
{
	const char *const warnings[] = { "this snapshot lost data: 3 x" };
	struct hs_render_opts o = { .limit = 1,
				    .warnings = warnings,
				    .nwarnings = 1 };
	const char *want = "warning: this snapshot lost data: 3 x\n"
			   "Top 1 module\n";
	struct fixture fx;
	json_object *j;
	char *got;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	got = render(NULL, fx.s, HS_KEY_MODULE, &o);
	ASSERT_TRUE(got && !strncmp(got, want, strlen(want)),
		    "warning line first");
	free(got);
	o.json = true;
	got = render(NULL, fx.s, HS_KEY_MODULE, &o);
	j = got ? json_tokener_parse(got) : NULL;
	ASSERT_EQ(json_object_array_length(jget(j, "warnings")), 1,
		  "one warning");
	ASSERT_STREQ(jstr(j, "warnings.0"), warnings[0], "warning text");
	json_object_put(j);
	free(got);
	fixture_fini(&fx);
}

static void test_top_json(void)
{
	struct fixture fx;
	json_object *j;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	j = render_json(NULL, fx.s, HS_KEY_LINENO, 3);
	ASSERT_STREQ(jstr(j, "key"), "lineno", "key");
	ASSERT_TRUE(
		json_object_is_type(jget(j, "cumulative"), json_type_boolean) &&
			!json_object_get_boolean(jget(j, "cumulative")),
		"cumulative false");
	ASSERT_EQ(jint(j, "total.size"), 16921, "total size");
	ASSERT_EQ(jint(j, "total.count"), 107, "total count");
	ASSERT_TRUE(!jhas(j, "total.size_diff"), "no total size_diff");
	ASSERT_EQ(json_object_array_length(jget(j, "stats")), 3, "limit");
	ASSERT_EQ(jint(j, "stats.0.size"), 12800, "size");
	ASSERT_EQ(jint(j, "stats.0.count"), 100, "count");
	ASSERT_TRUE(!jhas(j, "stats.0.size_diff"), "no size_diff in top");
	ASSERT_TRUE(!jhas(j, "stats.0.count_diff"), "no count_diff in top");
	ASSERT_EQ(json_object_array_length(jget(j, "stats.0.traceback")), 1,
		  "one frame for lineno");
	ASSERT_STREQ(jstr(j, "stats.0.traceback.0.function"), "make",
		     "function");
	ASSERT_STREQ(jstr(j, "stats.0.traceback.0.file"), fx.src, "file");
	ASSERT_EQ(jint(j, "stats.0.traceback.0.line"), 5, "line");
	ASSERT_STREQ(jstr(j, "stats.0.traceback.0.module"), "/bin/app",
		     "module");
	ASSERT_EQ(jint(j, "stats.0.traceback.0.offset"), 0x1234, "offset");
	ASSERT_TRUE(jnull(j, "stats.2.traceback.0.file"), "null file");
	ASSERT_TRUE(jnull(j, "stats.2.traceback.0.line"), "null line");
	ASSERT_TRUE(jnull(j, "stats.2.traceback.0.function"), "null function");
	ASSERT_STREQ(jstr(j, "stats.2.traceback.0.module"), "/lib/libc.so",
		     "unsymbolized module");
	ASSERT_EQ(jint(j, "stats.2.traceback.0.offset"), 0x99,
		  "unsymbolized offset");
	ASSERT_EQ(json_object_array_length(jget(j, "warnings")), 0,
		  "no warnings");
	json_object_put(j);

	j = render_json(NULL, fx.s, HS_KEY_TRACEBACK, 0);
	ASSERT_EQ(json_object_array_length(jget(j, "stats")), 4, "all rows");
	ASSERT_EQ(json_object_array_length(jget(j, "stats.0.traceback")), 2,
		  "every frame for traceback");
	ASSERT_STREQ(jstr(j, "stats.0.traceback.1.function"), "other",
		     "second frame");
	json_object_put(j);
	fixture_fini(&fx);
}

static void test_diff_json(void)
{
	struct hs_snapshot *old;
	struct fixture fx;
	json_object *j;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	old = old_snapshot(&fx);
	j = render_json(old, fx.s, HS_KEY_LINENO, 0);
	ASSERT_EQ(json_object_array_length(jget(j, "stats")), 4, "rows");
	ASSERT_EQ(jint(j, "stats.0.size"), 12800, "size");
	ASSERT_EQ(jint(j, "stats.0.size_diff"), 5120, "size_diff");
	ASSERT_EQ(jint(j, "stats.0.count_diff"), 40, "count_diff");
	ASSERT_EQ(jint(j, "stats.1.size_diff"), 4096, "new row size_diff");
	ASSERT_EQ(jint(j, "total.size_diff"), 9241, "total size_diff");
	ASSERT_EQ(jint(j, "total.count_diff"), 47, "total count_diff");
	json_object_put(j);
	j = render_json(fx.s, old, HS_KEY_LINENO, 0);
	ASSERT_EQ(jint(j, "stats.1.size"), 0, "gone row size");
	ASSERT_EQ(jint(j, "stats.1.size_diff"), -4096, "negative size_diff");
	ASSERT_EQ(jint(j, "stats.1.traceback.0.line"), 3,
		  "gone row keeps its frame");
	json_object_put(j);
	hs_snapshot_free(old);
	fixture_fini(&fx);
}

/* Two processes, losses, a heap and an mmap trace. */
static struct hs_snapshot *info_snapshot(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_proc p1 = { .pid = 1234,
			      .counters = { .current = 5000,
					    .count = 3,
					    .peak = 9000,
					    .interval_peak = 7000,
					    .allocs = 10,
					    .frees = 7,
					    .bytes_allocated = 20000,
					    .unknown_frees = 3,
					    .stack_collisions = 1 } };
	struct hs_proc p2 = { .pid = 1235,
			      .exited = true,
			      .counters = { .current = 100,
					    .count = 1,
					    .peak = 200,
					    .allocs = 2,
					    .frees = 1,
					    .bytes_allocated = 300 } };
	uint32_t st = fx_stack(s, 0);

	s->time_ns = SNAP_TIME_NS + 123;
	s->command = hs_snapshot_intern(s, "./app --flag");
	s->kernel = hs_snapshot_intern(s, "6.18.0");
	s->traceback_limit = 64;
	s->tracer_memory = 31457280;
	s->seq = 2;
	s->global.map_events_lost = 1;
	s->global.events_lost = 1;
	p1.command = s->command;
	p2.command = hs_snapshot_intern(s, "./child");
	hs_snapshot_add_proc(s, &p1);
	hs_snapshot_add_proc(s, &p2);
	fx_traces(s, st, 3, 1000, HS_DOMAIN_HEAP);
	fx_traces(s, st, 1, 4096, HS_DOMAIN_MMAP);
	return s;
}

static void test_info_json(void)
{
	struct hs_snapshot *s = info_snapshot();
	struct hs_render_opts o = { .json = true };
	struct capture cap;
	json_object *j;
	char *text;

	if (!cap_open(&cap))
		return;
	hs_render_info(cap.f, s, &o);
	text = cap_close(&cap);
	j = json_tokener_parse(text);
	ASSERT_TRUE(j != NULL, "parses");
	ASSERT_EQ(jint(j, "format_version"), 2, "format_version");
	ASSERT_EQ(json_object_array_length(jget(j, "pids")), 2, "pids");
	ASSERT_EQ(jint(j, "pids.1"), 1235, "second pid");
	ASSERT_STREQ(jstr(j, "command"), "./app --flag", "command");
	ASSERT_STREQ(jstr(j, "time"), "2026-11-21T23:40:00Z", "time");
	ASSERT_STREQ(jstr(j, "kernel"), "6.18.0", "kernel");
	ASSERT_EQ(jint(j, "traceback_limit"), 64, "traceback_limit");
	ASSERT_EQ(jint(j, "current"), 5100, "current");
	ASSERT_EQ(jint(j, "peak"), 9200, "peak");
	ASSERT_EQ(jint(j, "interval_peak"), 7000, "interval_peak");
	ASSERT_EQ(jint(j, "count"), 4, "count");
	ASSERT_EQ(jint(j, "domains.heap.current"), 3000, "heap current");
	ASSERT_EQ(jint(j, "domains.heap.count"), 3, "heap count");
	ASSERT_EQ(jint(j, "domains.mmap.current"), 4096, "mmap current");
	ASSERT_EQ(jint(j, "domains.mmap.count"), 1, "mmap count");
	ASSERT_EQ(jint(j, "totals.allocs"), 12, "allocs");
	ASSERT_EQ(jint(j, "totals.frees"), 8, "frees");
	ASSERT_EQ(jint(j, "totals.bytes_allocated"), 20300, "bytes_allocated");
	ASSERT_EQ(jint(j, "lost.map_full"), 0, "map_full");
	ASSERT_EQ(jint(j, "lost.stack_failures"), 0, "stack_failures");
	ASSERT_EQ(jint(j, "lost.unknown_frees"), 3, "unknown_frees");
	ASSERT_EQ(jint(j, "lost.events"), 2, "events");
	ASSERT_EQ(jint(j, "lost.stack_collisions"), 1, "stack_collisions");
	ASSERT_EQ(jint(j, "global.proc_map_full"), 0, "proc_map_full");
	ASSERT_EQ(jint(j, "global.nested_overflow"), 0, "nested_overflow");
	ASSERT_EQ(jint(j, "global.map_events_lost"), 1, "map_events_lost");
	ASSERT_EQ(jint(j, "global.events_lost"), 1, "events_lost");
	ASSERT_EQ(jint(j, "global.stacks_missing"), 0, "stacks_missing");
	ASSERT_EQ(jint(j, "tracer_memory"), 31457280, "tracer_memory");
	ASSERT_EQ(jint(j, "sample_bytes"), 0, "sample_bytes");
	ASSERT_EQ(jint(j, "seq"), 2, "seq");
	ASSERT_EQ(jint(j, "processes.1.pid"), 1235, "process pid");
	ASSERT_STREQ(jstr(j, "processes.1.command"), "./child",
		     "process command");
	ASSERT_TRUE(json_object_get_boolean(jget(j, "processes.1.exited")),
		    "process exited");
	ASSERT_EQ(jint(j, "processes.0.current"), 5000, "process current");
	ASSERT_EQ(jint(j, "processes.0.peak"), 9000, "process peak");
	ASSERT_EQ(jint(j, "processes.0.count"), 3, "process count");
	ASSERT_EQ(json_object_array_length(jget(j, "warnings")), 1,
		  "loss warning");
	json_object_put(j);
	free(text);
	hs_snapshot_free(s);
}

static void test_info_text(void)
{
	struct hs_snapshot *s = info_snapshot();
	struct hs_render_opts o = { 0 };
	struct capture cap;
	char *text;

	if (!cap_open(&cap))
		return;
	hs_render_info(cap.f, s, &o);
	text = cap_close(&cap);
	ASSERT_TRUE(strstr(text, "command:          ./app --flag\n") != NULL,
		    "command line");
	ASSERT_TRUE(strstr(text, "time:             2026-11-21T23:40:00Z") !=
			    NULL,
		    "time line");
	ASSERT_TRUE(strstr(text, "current:          5100 B in 4 blocks\n") !=
			    NULL,
		    "current line");
	ASSERT_TRUE(strstr(text,
			   "warning: this snapshot lost data: 1 traceback "
			   "possibly wrong (stack id collisions), 2 events "
			   "dropped, 3 frees of blocks it never saw "
			   "allocated\n") != NULL,
		    "loss warning");
	ASSERT_TRUE(strstr(text,
			   "\n  heap traces:    3000 B in 3 blocks\n"
			   "  mmap traces:    4096 B in 1 block\n") != NULL,
		    "domain lines");
	ASSERT_TRUE(
		strstr(text,
		       "\nlost:             map full 0, stack failures 0, "
		       "stack collisions 1, unknown frees 3, events 2\n"
		       "  of no process:  proc map full 0, nested overflow "
		       "0, map events lost 1, events lost 1, stacks missing "
		       "0, py codes lost 0, mmap calls unseen 0, in flight lost 0\n") != NULL,
		"loss lines");
	free(text);
	memset(&s->procs[0].counters, 0, sizeof(s->procs[0].counters));
	memset(&s->procs[1].counters, 0, sizeof(s->procs[1].counters));
	memset(&s->global, 0, sizeof(s->global));
	if (!cap_open(&cap))
		return;
	hs_render_info(cap.f, s, &o);
	text = cap_close(&cap);
	ASSERT_TRUE(strstr(text, "warning") == NULL, "no loss, no warning");
	free(text);
	hs_snapshot_free(s);
}

static void test_loss_summary(void)
{
	struct hs_snapshot *s = info_snapshot();
	char buf[256];

	memset(&s->procs[0].counters, 0, sizeof(s->procs[0].counters));
	memset(&s->procs[1].counters, 0, sizeof(s->procs[1].counters));
	memset(&s->global, 0, sizeof(s->global));
	ASSERT_TRUE(!hs_loss_summary(s, buf, sizeof(buf)), "nothing lost");
	s->procs[0].counters.map_full = 5;
	s->procs[1].counters.stack_failures = 2;
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "lost");
	ASSERT_STREQ(buf,
		     "5 blocks not recorded (map full), 2 tracebacks not "
		     "captured",
		     "summary");
	/* the global losses count too: missing stacks as not captured */
	s->global.stacks_missing = 1;
	s->global.proc_map_full = 4;
	s->global.nested_overflow = 3;
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "global losses");
	ASSERT_STREQ(buf,
		     "5 blocks not recorded (map full), 3 tracebacks not "
		     "captured, 7 events dropped",
		     "summary with global losses");
	memset(&s->procs[0].counters, 0, sizeof(s->procs[0].counters));
	memset(&s->procs[1].counters, 0, sizeof(s->procs[1].counters));
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "global alone");
	ASSERT_STREQ(buf, "1 traceback not captured, 7 events dropped",
		     "summary of global losses alone");
	s->global.mmap_calls_unseen = 2;
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "unseen calls");
	ASSERT_STREQ(buf,
		     "1 traceback not captured, 7 events dropped, 2 "
		     "mmap-domain calls not seen (made outside the probed "
		     "libc; --mmap-tracepoints sees them)",
		     "summary with mmap-domain calls not seen");
	s->global.mmap_calls_unseen = 0;
	ASSERT_TRUE(hs_loss_summary(s, buf, 10), "small buffer");
	ASSERT_TRUE(strlen(buf) < 10, "truncated");
	/* one of each, in the singular */
	memset(&s->global, 0, sizeof(s->global));
	s->procs[0].counters.map_full = 1;
	s->procs[0].counters.unknown_frees = 1;
	s->global.py_codes_lost = 1;
	s->global.in_flight_lost = 1;
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "one of each");
	ASSERT_STREQ(buf,
		     "1 block not recorded (map full), 1 event dropped, 1 free "
		     "of a block it never saw allocated, 1 block freed while "
		     "the snapshot was read, left out",
		     "singular");
	/* a process attached to: its unknown frees are no loss */
	memset(&s->global, 0, sizeof(s->global));
	s->procs[0].counters.map_full = 0;
	s->procs[0].attached = true;
	ASSERT_TRUE(!hs_loss_summary(s, buf, sizeof(buf)), "early: no loss");
	ASSERT_TRUE(hs_early_frees_note(s, buf, sizeof(buf)), "early note");
	ASSERT_STREQ(buf,
		     "1 free was of a block allocated before tracing began "
		     "(expected: tracing began after the process did)",
		     "early frees, one");
	s->procs[0].counters.unknown_frees = 3;
	s->procs[1].counters.unknown_frees = 2;
	ASSERT_TRUE(hs_loss_summary(s, buf, sizeof(buf)), "the other's loss");
	ASSERT_STREQ(buf, "2 frees of blocks it never saw allocated",
		     "frees of the process traced from its start");
	ASSERT_TRUE(hs_early_frees_note(s, buf, sizeof(buf)), "early, many");
	ASSERT_STREQ(buf,
		     "3 frees were of blocks allocated before tracing began "
		     "(expected: tracing began after the process did)",
		     "early frees, many");
	hs_snapshot_free(s);
}

static char *lookup(const struct hs_snapshot *s, uint64_t addr, bool json,
		    int *rc)
{
	struct hs_render_opts o = { .json = json };
	struct capture cap;

	if (!cap_open(&cap))
		return NULL;
	*rc = hs_render_lookup(cap.f, s, addr, &o);
	return cap_close(&cap);
}

static void test_lookup(void)
{
	struct fixture fx;
	char *got, *want;
	uint64_t addr;
	int rc = -1;

	if (!ASSERT_EQ(fixture_init(&fx), 0, "fixture"))
		return;
	addr = fx.first_addr;
	fx.s->time_ns = SNAP_TIME_NS;
	fx.s->traces[0].time_ns = SNAP_TIME_NS - 2500000000ull;
	fx.s->traces[0].total_nframe = 5;
	got = lookup(fx.s, addr + 16, false, &rc);
	ASSERT_EQ(rc, 0, "hit");
	want = xasprintf("0x%llx is at offset 16 of the 128 B block at 0x%llx\n"
			 "  pid 42, tid 43, domain heap, age 2.500 s\n"
			 "  traceback (most recent call first):\n"
			 "  #0 make at %s:5 (/bin/app+0x1234)\n"
			 "  #1 other at %s:3 (/bin/app+0x2000)\n"
			 "  ... 3 more frames (traceback limit)\n",
			 (unsigned long long)addr + 16,
			 (unsigned long long)addr, fx.src, fx.src);
	ASSERT_STREQ(got, want, "hit text");
	free(got);
	free(want);

	got = lookup(fx.s, addr + 128, false, &rc);
	ASSERT_EQ(rc, 1, "end is outside");
	want = xasprintf("no live block contains 0x%llx\n",
			 (unsigned long long)addr + 128);
	ASSERT_STREQ(got, want, "miss text");
	free(got);
	free(want);

	got = lookup(fx.s, addr + 127, true, &rc);
	ASSERT_EQ(rc, 0, "last byte is inside");
	{
		json_object *j = json_tokener_parse(got);

		ASSERT_TRUE(json_object_get_boolean(jget(j, "found")), "found");
		ASSERT_EQ(jint(j, "blocks.0.addr"), addr, "block addr");
		ASSERT_EQ(jint(j, "blocks.0.size"), 128, "block size");
		ASSERT_EQ(jint(j, "blocks.0.pid"), 42, "pid");
		ASSERT_EQ(jint(j, "blocks.0.age_ns"), 2500000000ll, "age");
		ASSERT_STREQ(jstr(j, "blocks.0.traceback.0.function"), "make",
			     "frame");
		json_object_put(j);
	}
	free(got);
	fixture_fini(&fx);
}

static void test_lookup_zero_size(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	uint64_t addr = fx_traces(s, fx_stack(s, 0), 1, 0, 0);
	json_object *j;
	char *got;
	int rc = -1;

	got = lookup(s, addr, false, &rc);
	ASSERT_EQ(rc, 0, "own address");
	ASSERT_TRUE(strstr(got, "  <unknown>\n") != NULL, "empty traceback");
	free(got);
	got = lookup(s, addr + 1, false, &rc);
	ASSERT_EQ(rc, 1, "next byte");
	free(got);
	got = lookup(s, addr - 1, true, &rc);
	ASSERT_EQ(rc, 1, "byte before");
	j = json_tokener_parse(got);
	ASSERT_TRUE(j && !json_object_get_boolean(jget(j, "found")),
		    "found false");
	ASSERT_EQ(json_object_array_length(jget(j, "blocks")), 0, "no blocks");
	json_object_put(j);
	free(got);
	hs_snapshot_free(s);
}

/*
 * A function's row sums every line of it: top and diff label it with the
 * function and its file, never one of its call lines, and two functions of
 * one name in two files are two rows.
 */
static void test_function_rows_name_no_line(void)
{
	struct hs_render_opts o = { .limit = 0, .source = false };
	struct hs_snapshot *old = hs_snapshot_new(), *s = hs_snapshot_new();
	json_object *top, *diff;
	char *got;

	/* old: line 52 only; new: lines 49 and 52, and another file's main */
	fx_traces(old,
		  fx_stack(old, 1,
			   fx_frame(old, "main", "/src/leaky.c", 52,
				    "/bin/leaky", 0x152)),
		  1, 10000, 0);
	fx_traces(s,
		  fx_stack(s, 1,
			   fx_frame(s, "main", "/src/leaky.c", 49, "/bin/leaky",
				    0x149)),
		  2, 100, 0);
	fx_traces(s,
		  fx_stack(s, 1,
			   fx_frame(s, "main", "/src/leaky.c", 52, "/bin/leaky",
				    0x152)),
		  1, 10000, 0);
	fx_traces(s,
		  fx_stack(s, 1,
			   fx_frame(s, "main", "/src/other.c", 7, "/bin/other",
				    0x7)),
		  1, 50, 0);
	got = render(NULL, s, HS_KEY_FUNCTION, &o);
	ASSERT_STREQ(got,
		     "Top 2 functions\n"
		     "#1: main (/src/leaky.c): 10200 B in 3 blocks, "
		     "average 3400 B\n"
		     "#2: main (/src/other.c): 50 B in 1 block, average 50 B\n"
		     "Total: 10.0 KiB (10250 B) in 4 blocks\n",
		     "top by function");
	free(got);
	got = render(old, s, HS_KEY_FUNCTION, &o);
	ASSERT_TRUE(got && strstr(got, "#1: main (/src/leaky.c): size=10200 B "
				       "(+200 B), count=3 (+2)") != NULL,
		    "diff by function: the same label");
	free(got);
	top = render_json(NULL, s, HS_KEY_FUNCTION, 0);
	diff = render_json(old, s, HS_KEY_FUNCTION, 0);
	ASSERT_STREQ(jstr(top, "stats.0.traceback.0.function"), "main",
		     "function");
	ASSERT_STREQ(jstr(top, "stats.0.traceback.0.file"), "/src/leaky.c",
		     "file");
	ASSERT_TRUE(jnull(top, "stats.0.traceback.0.line"), "no line");
	ASSERT_TRUE(jnull(top, "stats.0.traceback.0.offset"), "no offset");
	ASSERT_STREQ(
		json_object_to_json_string(jget(top, "stats.0.traceback")),
		json_object_to_json_string(jget(diff, "stats.0.traceback")),
		"top and diff give the same frame");
	json_object_put(top);
	json_object_put(diff);
	hs_snapshot_free(old);
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_top_text_lineno);
	RUN_TEST(test_top_text_keys);
	RUN_TEST(test_function_rows_name_no_line);
	RUN_TEST(test_top_text_traceback);
	RUN_TEST(test_top_text_cumulative);
	RUN_TEST(test_diff_text);
	RUN_TEST(test_warnings);
	RUN_TEST(test_top_json);
	RUN_TEST(test_diff_json);
	RUN_TEST(test_info_json);
	RUN_TEST(test_info_text);
	RUN_TEST(test_loss_summary);
	RUN_TEST(test_lookup);
	RUN_TEST(test_lookup_zero_size);
	return TEST_EXIT();
}
