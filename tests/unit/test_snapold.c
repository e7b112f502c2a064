// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Snapshots of an older format version: the recordings in tests/unit/fixtures
 * (v1_*.hsnap, written by the version 1 recorder, with the info --json and
 * top --json it printed) must read with the same figures. info may add
 * fields; top must not change.
 */
#include <json-c/json.h>
#include <libgen.h>

#include "test.h"
#include "render.h"
#include "snapfile.h"
#include "stats.h"

static char *fixture(const char *name, const char *ext)
{
	char *src = strdup(__FILE__), *path;

	if (!src ||
	    asprintf(&path, "%s/fixtures/%s%s", dirname(src), name, ext) < 0)
		path = NULL;
	free(src);
	return path;
}

static json_object *read_json(const char *name, const char *ext)
{
	char *path = fixture(name, ext);
	json_object *j = path ? json_object_from_file(path) : NULL;

	ASSERT_TRUE(j != NULL, path ? path : name);
	free(path);
	return j;
}

static json_object *render_json(void (*fn)(FILE *, const void *,
					   const struct hs_render_opts *),
				const void *arg, const struct hs_render_opts *o)
{
	json_object *j = NULL;
	size_t len;
	char *buf;
	FILE *f = open_memstream(&buf, &len);

	if (!ASSERT_TRUE(f != NULL, "memstream"))
		return NULL;
	fn(f, arg, o);
	fclose(f);
	j = json_tokener_parse(buf);
	ASSERT_TRUE(j != NULL, buf);
	free(buf);
	return j;
}

static void info_fn(FILE *out, const void *s, const struct hs_render_opts *o)
{
	hs_render_info(out, s, o);
}

static void stats_fn(FILE *out, const void *st, const struct hs_render_opts *o)
{
	hs_render_stats(out, st, o);
}

/* Is every field of want in got, with the same value? */
static bool json_within(json_object *want, json_object *got, const char *at)
{
	char name[256];
	size_t i, n;

	if (json_object_is_type(want, json_type_object)) {
		if (!ASSERT_TRUE(json_object_is_type(got, json_type_object),
				 at))
			return false;
		json_object_object_foreach(want, key, val)
		{
			snprintf(name, sizeof(name), "%s.%s", at, key);
			if (!json_within(val, json_object_object_get(got, key),
					 name))
				return false;
		}
		return true;
	}
	if (json_object_is_type(want, json_type_array)) {
		n = json_object_array_length(want);
		if (!ASSERT_TRUE(json_object_is_type(got, json_type_array),
				 at) ||
		    !ASSERT_EQ(json_object_array_length(got), n, at))
			return false;
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s[%zu]", at, i);
			if (!json_within(json_object_array_get_idx(want, i),
					 json_object_array_get_idx(got, i),
					 name))
				return false;
		}
		return true;
	}
	if (json_object_equal(want, got))
		return true;
	fprintf(stderr, "  %s: got %s, want %s\n", at,
		json_object_to_json_string(got),
		json_object_to_json_string(want));
	test_failed = 1;
	return false;
}

static uint64_t jnum(json_object *j, const char *a, const char *b)
{
	json_object *o = json_object_object_get(j, a);

	return json_object_get_uint64(b ? json_object_object_get(o, b) : o);
}

/* Top as the command prints it, with its loss warning. */
static json_object *top_json(const struct hs_snapshot *s, int domain)
{
	struct hs_query q = { .key = HS_KEY_LINENO, .domain = domain };
	struct hs_render_opts o = { .json = true };
	char loss[512], warning[600];
	const char *warnings[] = { warning };
	struct hs_stats st;
	json_object *j;

	if (hs_loss_summary(s, loss, sizeof(loss))) {
		snprintf(warning, sizeof(warning),
			 "this snapshot lost data: %s", loss);
		o.warnings = warnings;
		o.nwarnings = 1;
	}
	if (!ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "top"))
		return NULL;
	j = render_json(stats_fn, &st, &o);
	hs_stats_free(&st);
	return j;
}

static void check_top(const struct hs_snapshot *s, const char *name,
		      const char *ext, int domain)
{
	json_object *want = read_json(name, ext), *got = top_json(s, domain);

	if (want && got && !json_object_equal(want, got))
		json_within(want, got, ext);
	if (want && got)
		ASSERT_TRUE(json_object_equal(want, got), "top is the same");
	json_object_put(want);
	json_object_put(got);
}

/* Reads fixture name and compares its info and top with the saved ones. */
static struct hs_snapshot *check_fixture(const char *name)
{
	struct hs_render_opts o = { .json = true };
	char *path = fixture(name, ".hsnap"), err[256] = "";
	struct hs_snapshot *s = hs_snapfile_read(path, err, sizeof(err));
	json_object *want = read_json(name, ".info.json"), *got = NULL;

	free(path);
	if (!ASSERT_TRUE(s != NULL, err) || !want)
		goto out;
	ASSERT_EQ(s->format_version, 1, "format_version");
	got = render_json(info_fn, s, &o);
	if (got)
		json_within(want, got, "info");
	check_top(s, name, ".top.json", -1);
out:
	json_object_put(want);
	json_object_put(got);
	return s;
}

static void test_v1_basic(void)
{
	struct hs_snapshot *s = check_fixture("v1_basic");
	json_object *info = read_json("v1_basic", ".info.json");
	struct hs_counters t;
	struct hs_lost l;

	if (!s || !info)
		goto out;
	hs_snapshot_totals(s, &t);
	hs_snapshot_lost(s, &l);
	ASSERT_EQ(t.current, jnum(info, "current", NULL), "current");
	ASSERT_EQ(t.count, jnum(info, "count", NULL), "count");
	ASSERT_EQ(t.allocs, jnum(info, "totals", "allocs"), "allocs");
	ASSERT_EQ(l.events, 0, "no events lost");
	ASSERT_EQ(s->global.events_lost, 0, "global events_lost");
out:
	json_object_put(info);
	hs_snapshot_free(s);
}

static void test_v1_mapfull(void)
{
	struct hs_snapshot *s = check_fixture("v1_mapfull");
	json_object *info = read_json("v1_mapfull", ".info.json");
	struct hs_lost l;

	if (!s || !info)
		goto out;
	hs_snapshot_lost(s, &l);
	ASSERT_TRUE(l.map_full > 0, "blocks lost to a full map");
	ASSERT_EQ(l.map_full, jnum(info, "lost", "map_full"), "map_full");
	ASSERT_EQ(l.stack_failures, jnum(info, "lost", "stack_failures"),
		  "stack_failures");
	ASSERT_EQ(l.events, jnum(info, "lost", "events"), "events");
out:
	json_object_put(info);
	hs_snapshot_free(s);
}

static void test_v1_mmap(void)
{
	struct hs_snapshot *s = check_fixture("v1_mmap");

	if (s)
		check_top(s, "v1_mmap", ".top-mmap.json", HS_DOMAIN_MMAP);
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_v1_basic);
	RUN_TEST(test_v1_mapfull);
	RUN_TEST(test_v1_mmap);
	return TEST_EXIT();
}
