// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Exports: folded stacks (exact lines, sums, filters, sampling scale) and
 * the pprof profile, decoded back with zlib and protobuf-c: sample types,
 * samples, locations with their inlined lines, functions and mappings.
 */
#include <math.h>
#include <stdlib.h>
#include <zlib.h>

#include "test.h"
#include "snap_fixture.h"
#include "export.h"
#include "profile.pb-c.h"

static const uint8_t app_build_id[] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };

/* A frame of /bin/app (with a build-id); func NULL: no symbol. */
static uint32_t app_frame(struct hs_snapshot *s, const char *func,
			  const char *file, uint32_t line, uint64_t offset,
			  bool inlined)
{
	struct hs_frame f = {
		.module = hs_snapshot_add_module(s, "/bin/app", app_build_id,
						 sizeof(app_build_id)),
		.function = hs_snapshot_intern(s, func),
		.file = hs_snapshot_intern(s, file),
		.line = line,
		.offset = offset,
		.inlined = inlined,
	};

	return hs_snapshot_add_frame(s, &f);
}

/*
 * Frames: mk make src.c:5, mk2 make src.c:6, inl (inlined into oth) src.c:9,
 * oth other src.c:3, mn main main.c:10, all in /bin/app; lc /lib/libc.so+0x99
 * without a symbol.
 * Stacks (most recent call first):
 *   S1 [mk, inl, oth, mn]  100 x 128 = 12800  heap
 *   S2 [oth, mn]             4 x 1024 = 4096  heap
 *   S3 [lc, mk, mn]          2 x 10   = 20    heap
 *   S4 [mk2, inl, oth, mn]   3 x 100  = 300   heap
 *   S5 [mn]                  1 x 5000 = 5000  mmap
 * Total 22216 bytes in 110 blocks.
 */
static struct hs_snapshot *fixture(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	uint32_t mk, mk2, inl, oth, mn, lc;

	mk = app_frame(s, "make", "/src/src.c", 5, 0x1234, false);
	mk2 = app_frame(s, "make", "/src/src.c", 6, 0x1240, false);
	inl = app_frame(s, "inl", "/src/src.c", 9, 0x2000, true);
	oth = app_frame(s, "other", "/src/src.c", 3, 0x2000, false);
	mn = app_frame(s, "main", "/src/main.c", 10, 0x3000, false);
	lc = fx_frame(s, NULL, NULL, 0, "/lib/libc.so", 0x99);
	fx_traces(s, fx_stack(s, 4, mk, inl, oth, mn), 100, 128, 0);
	fx_traces(s, fx_stack(s, 2, oth, mn), 4, 1024, 0);
	fx_traces(s, fx_stack(s, 3, lc, mk, mn), 2, 10, 0);
	fx_traces(s, fx_stack(s, 4, mk2, inl, oth, mn), 3, 100, 0);
	fx_traces(s, fx_stack(s, 1, mn), 1, 5000, HS_DOMAIN_MMAP);
	return s;
}

static char *folded_text(const struct hs_folded *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		abort();
	hs_folded_write(out, f);
	fclose(out);
	return buf;
}

static void test_folded_lines_and_total(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_folded f;
	uint64_t sum = 0;
	char *text;
	size_t i;

	if (!ASSERT_EQ(hs_folded_build(s, &q, &f), 0, "build"))
		goto out;
	text = folded_text(&f);
	/* outermost first; S1 and S4 have the same names and merge */
	ASSERT_STREQ(text,
		     "main 5000\n"
		     "main;make;libc.so+0x99 20\n"
		     "main;other 4096\n"
		     "main;other;inl;make 13100\n",
		     "folded text");
	free(text);
	for (i = 0; i < f.nlines; i++)
		sum += f.lines[i].bytes;
	ASSERT_EQ(sum, 22216, "lines sum to the live bytes");
	ASSERT_EQ(f.total_bytes, 22216, "total bytes");
	ASSERT_EQ(f.total_count, 110, "total count");
	ASSERT_EQ(f.lines[3].count, 103, "merged line count");
	hs_folded_free(&f);
out:
	hs_snapshot_free(s);
}

static void test_folded_filters_match_top(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_filter filt;
	struct hs_query q = fx_query(HS_KEY_LINENO, false);
	struct hs_stats st;
	struct hs_folded f;
	char *text;

	hs_filter_parse("*/src.c:9", true, &filt);
	q.filters = &filt;
	q.nfilters = 1;
	q.all_frames = true;
	if (!ASSERT_EQ(hs_folded_build(s, &q, &f), 0, "build"))
		goto out;
	text = folded_text(&f);
	ASSERT_STREQ(text, "main;other;inl;make 13100\n", "include line 9");
	free(text);
	ASSERT_EQ(hs_stats_top(s, &q, &st), 0, "top");
	ASSERT_EQ(f.total_bytes, st.total_size, "same total as top");
	ASSERT_EQ(f.total_count, st.total_count, "same count as top");
	hs_stats_free(&st);
	hs_folded_free(&f);

	q = fx_query(HS_KEY_LINENO, false);
	q.domain = HS_DOMAIN_MMAP;
	if (!ASSERT_EQ(hs_folded_build(s, &q, &f), 0, "build mmap"))
		goto out;
	text = folded_text(&f);
	ASSERT_STREQ(text, "main 5000\n", "domain mmap");
	free(text);
	hs_folded_free(&f);
out:
	hs_snapshot_free(s);
}

static void test_folded_sampled_scale(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	uint32_t a = fx_frame(s, "a", "/a.c", 1, "/bin/x", 1);
	double scale = 1 / -expm1(-100.0 / 1000.0);
	struct hs_folded f;

	s->sample_bytes = 1000;
	fx_traces(s, fx_stack(s, 1, a), 3, 100, 0);
	if (!ASSERT_EQ(hs_folded_build(s, &q, &f), 0, "build"))
		goto out;
	ASSERT_EQ(f.nlines, 1, "one line");
	ASSERT_EQ(f.lines[0].bytes, llround(300 * scale), "scaled bytes");
	ASSERT_EQ(f.lines[0].count, llround(3 * scale), "scaled count");
	ASSERT_TRUE(f.lines[0].bytes > 3000, "scale > 10");
	hs_folded_free(&f);
out:
	hs_snapshot_free(s);
}

static void test_folded_names_are_clean(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	uint32_t a = fx_frame(s, "f;g\nh", "/a.c", 1, "/bin/x", 1);
	uint32_t b = fx_frame(s, NULL, "/b.c", 7, "/bin/x", 2);
	struct hs_folded f;
	char *text;

	fx_traces(s, fx_stack(s, 2, a, b), 1, 8, 0);
	fx_traces(s, HS_NONE, 1, 16, 0);
	fx_traces(s, fx_stack(s, 1, a), 1, 0, 0); /* no bytes: no line */
	if (!ASSERT_EQ(hs_folded_build(s, &q, &f), 0, "build"))
		goto out;
	text = folded_text(&f);
	ASSERT_STREQ(text, "/b.c:7;f_g_h 8\n<unknown> 16\n",
		     "separators replaced, file:line, unknown stack");
	free(text);
	hs_folded_free(&f);
out:
	hs_snapshot_free(s);
}

/* ---- pprof ---- */

static uint8_t *gunzip(const void *in, size_t len, size_t *outlen)
{
	size_t cap = 1 << 16;
	uint8_t *out = malloc(cap);
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (!out || inflateInit2(&z, 15 + 16) != Z_OK)
		abort();
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	} while (rc == Z_OK);
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static Perftools__Profiles__Profile *encode_decode(const struct hs_snapshot *s,
						   const struct hs_query *q,
						   struct hs_pprof_summary *sum)
{
	Perftools__Profiles__Profile *p = NULL;
	uint8_t *raw = NULL;
	size_t len, rawlen;
	void *buf;

	if (!ASSERT_EQ(hs_pprof_encode(s, q, &buf, &len, sum), 0, "encode"))
		return NULL;
	ASSERT_EQ(sum->compressed_bytes, len, "summary size");
	raw = gunzip(buf, len, &rawlen);
	if (ASSERT_TRUE(raw != NULL, "gunzip"))
		p = perftools__profiles__profile__unpack(NULL, rawlen, raw);
	ASSERT_TRUE(p != NULL, "protobuf unpacks");
	free(raw);
	free(buf);
	return p;
}

static const char *str_at(const Perftools__Profiles__Profile *p, int64_t i)
{
	return i >= 0 && (size_t)i < p->n_string_table ? p->string_table[i] :
							 NULL;
}

static const Perftools__Profiles__Location *
location(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	return NULL;
}

static const Perftools__Profiles__Function *
function(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	return NULL;
}

static const Perftools__Profiles__Mapping *
mapping(const Perftools__Profiles__Profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	return NULL;
}

static const Perftools__Profiles__Mapping *
loc_mapping(const Perftools__Profiles__Profile *p, uint64_t id)
{
	const Perftools__Profiles__Location *l = location(p, id);

	return l ? mapping(p, l->mapping_id) : NULL;
}

/*
 * A location as text: "0xADDR mapping-file: func file:line | func ..."
 * with its lines innermost first, "0xADDR mapping-file: -" without lines.
 */
static void loc_text(const Perftools__Profiles__Profile *p, uint64_t id,
		     char *buf, size_t len)
{
	const Perftools__Profiles__Location *l = location(p, id);
	const Perftools__Profiles__Mapping *m;
	const Perftools__Profiles__Function *fn;
	size_t i, used;

	if (!l) {
		snprintf(buf, len, "no location %llu", (unsigned long long)id);
		return;
	}
	m = mapping(p, l->mapping_id);
	used = (size_t)snprintf(buf, len,
				"0x%llx %s:", (unsigned long long)l->address,
				m ? str_at(p, m->filename) : "?");
	if (!l->n_line)
		snprintf(buf + used, len - used, " -");
	for (i = 0; i < l->n_line && used < len; i++) {
		fn = function(p, l->line[i]->function_id);
		used += (size_t)snprintf(buf + used, len - used,
					 "%s %s %s:%lld", i ? " |" : "",
					 fn ? str_at(p, fn->name) : "?",
					 fn ? str_at(p, fn->filename) : "?",
					 (long long)l->line[i]->line);
	}
}

/* The sample whose first value is count and second is bytes, or NULL. */
static const Perftools__Profiles__Sample *
sample_with(const Perftools__Profiles__Profile *p, int64_t count, int64_t bytes)
{
	size_t i;

	for (i = 0; i < p->n_sample; i++)
		if (p->sample[i]->n_value == 4 &&
		    p->sample[i]->value[0] == count &&
		    p->sample[i]->value[1] == bytes)
			return p->sample[i];
	return NULL;
}

static void test_pprof_header(void)
{
	static const char *const want[4][2] = { { "inuse_objects", "count" },
						{ "inuse_space", "bytes" },
						{ "alloc_objects", "count" },
						{ "alloc_space", "bytes" } };
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_pprof_summary sum;
	Perftools__Profiles__Profile *p;
	size_t i;

	s->time_ns = 1795304400ull * 1000000000ull;
	p = encode_decode(s, &q, &sum);
	if (!p)
		goto out;
	ASSERT_STREQ(str_at(p, 0), "", "string_table[0]");
	if (ASSERT_EQ(p->n_sample_type, 4, "sample types")) {
		for (i = 0; i < 4; i++) {
			ASSERT_STREQ(str_at(p, p->sample_type[i]->type),
				     want[i][0], "type");
			ASSERT_STREQ(str_at(p, p->sample_type[i]->unit),
				     want[i][1], "unit");
		}
	}
	ASSERT_STREQ(str_at(p, p->default_sample_type), "inuse_space",
		     "default sample type");
	ASSERT_EQ(p->time_nanos, s->time_ns, "time");
	ASSERT_TRUE(p->period_type != NULL, "period type");
	if (p->period_type)
		ASSERT_STREQ(str_at(p, p->period_type->type), "space",
			     "period type");
	ASSERT_TRUE(p->n_comment >= 3, "comments");
	ASSERT_EQ(sum.inuse_space, 22216, "summary bytes");
	ASSERT_EQ(sum.inuse_objects, 110, "summary objects");
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	hs_snapshot_free(s);
}

static void test_pprof_samples_locations_lines(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	const Perftools__Profiles__Sample *sm, *s1;
	const Perftools__Profiles__Mapping *m;
	struct hs_pprof_summary sum;
	Perftools__Profiles__Profile *p;
	int64_t bytes = 0, count = 0;
	char t[512];
	size_t i;

	p = encode_decode(s, &q, &sum);
	if (!p)
		goto out;
	ASSERT_EQ(p->n_sample, 5, "one sample per stack");
	ASSERT_EQ(p->n_location, 6, "locations");
	ASSERT_EQ(p->n_function, 4, "functions: make, inl, other, main");
	ASSERT_EQ(p->n_mapping, 2, "mappings");
	ASSERT_EQ(sum.samples, 5, "summary samples");
	ASSERT_EQ(sum.locations, 6, "summary locations");
	for (i = 0; i < p->n_sample; i++) {
		count += p->sample[i]->value[0];
		bytes += p->sample[i]->value[1];
		ASSERT_EQ(p->sample[i]->value[2], p->sample[i]->value[0],
			  "alloc_objects = inuse_objects");
		ASSERT_EQ(p->sample[i]->value[3], p->sample[i]->value[1],
			  "alloc_space = inuse_space");
	}
	ASSERT_EQ(bytes, 22216, "inuse_space sums to the live bytes");
	ASSERT_EQ(count, 110, "inuse_objects sums to the live blocks");

	/* S1: the inlined frame shares the location of its caller */
	s1 = sm = sample_with(p, 100, 12800);
	if (ASSERT_TRUE(sm != NULL, "S1") &&
	    ASSERT_EQ(sm->n_location_id, 3, "S1 locations")) {
		loc_text(p, sm->location_id[0], t, sizeof(t));
		ASSERT_STREQ(t, "0x1234 /bin/app: make /src/src.c:5",
			     "S1 leaf");
		loc_text(p, sm->location_id[1], t, sizeof(t));
		ASSERT_STREQ(t,
			     "0x2000 /bin/app: inl /src/src.c:9 |"
			     " other /src/src.c:3",
			     "S1 inlined lines, innermost first");
		loc_text(p, sm->location_id[2], t, sizeof(t));
		ASSERT_STREQ(t, "0x3000 /bin/app: main /src/main.c:10",
			     "S1 root");
	}
	/* S4 reuses S1's inlined location */
	sm = sample_with(p, 3, 300);
	if (ASSERT_TRUE(sm != NULL, "S4") &&
	    ASSERT_EQ(sm->n_location_id, 3, "S4 locations")) {
		loc_text(p, sm->location_id[0], t, sizeof(t));
		ASSERT_STREQ(t, "0x1240 /bin/app: make /src/src.c:6",
			     "S4 leaf");
		ASSERT_TRUE(s1 && s1->n_location_id == 3 &&
				    sm->location_id[1] == s1->location_id[1],
			    "same location id");
	}
	/* S3: a frame without a symbol is an address in its mapping */
	sm = sample_with(p, 2, 20);
	if (ASSERT_TRUE(sm != NULL, "S3") &&
	    ASSERT_EQ(sm->n_location_id, 3, "S3 locations")) {
		loc_text(p, sm->location_id[0], t, sizeof(t));
		ASSERT_STREQ(t, "0x99 /lib/libc.so: -", "S3 leaf");
		m = loc_mapping(p, sm->location_id[0]);
		ASSERT_TRUE(m && !m->has_functions, "libc: no functions");
		ASSERT_STREQ(m ? str_at(p, m->build_id) : NULL, "",
			     "libc: no build-id");
	}
	sm = sample_with(p, 1, 5000);
	ASSERT_TRUE(sm && sm->n_location_id == 1, "S5");
	sm = sample_with(p, 4, 4096);
	ASSERT_TRUE(sm && sm->n_location_id == 2, "S2");

	m = s1 && s1->n_location_id ? loc_mapping(p, s1->location_id[0]) : NULL;
	if (ASSERT_TRUE(m != NULL, "app mapping")) {
		ASSERT_STREQ(str_at(p, m->build_id), "deadbeef01",
			     "hex build-id");
		ASSERT_TRUE(m->has_functions && m->has_filenames &&
				    m->has_line_numbers && m->has_inline_frames,
			    "app mapping is symbolized");
		ASSERT_EQ(m->memory_start, 0, "offsets start at 0");
		ASSERT_EQ(m->memory_limit, 0x3001,
			  "limit past the last offset");
	}
	for (i = 0; i < p->n_function; i++)
		ASSERT_EQ(p->function[i]->system_name, p->function[i]->name,
			  "system_name");
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	hs_snapshot_free(s);
}

static void test_pprof_filters(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_pprof_summary sum;
	Perftools__Profiles__Profile *p;

	q.domain = HS_DOMAIN_MMAP;
	p = encode_decode(s, &q, &sum);
	if (!p)
		goto out;
	ASSERT_EQ(p->n_sample, 1, "mmap only");
	ASSERT_TRUE(sample_with(p, 1, 5000) != NULL, "the mmap block");
	ASSERT_EQ(p->n_location, 1, "one location");
	ASSERT_EQ(p->n_function, 1, "one function");
	ASSERT_EQ(sum.inuse_space, 5000, "summary");
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	hs_snapshot_free(s);
}

static void test_pprof_unknown_stack(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	uint32_t a = fx_frame(s, "a", "/a.c", 1, "/bin/x", 1);
	const Perftools__Profiles__Sample *sm;
	struct hs_pprof_summary sum;
	Perftools__Profiles__Profile *p;
	char t[256];

	fx_traces(s, fx_stack(s, 1, a), 1, 8, 0);
	fx_traces(s, fx_stack(s, 0), 2, 16, 0);
	fx_traces(s, HS_NONE, 1, 4, 0);
	p = encode_decode(s, &q, &sum);
	if (!p)
		goto out;
	ASSERT_EQ(p->n_sample, 3, "[a], the empty and the invalid stack");
	sm = sample_with(p, 2, 32);
	if (ASSERT_TRUE(sm != NULL, "the empty stack") &&
	    ASSERT_EQ(sm->n_location_id, 1, "one location")) {
		loc_text(p, sm->location_id[0], t, sizeof(t));
		ASSERT_STREQ(t, "0x0 ?: <unknown> :0", "named <unknown>");
		ASSERT_TRUE(sample_with(p, 1, 4) &&
				    sample_with(p, 1, 4)->location_id[0] ==
					    sm->location_id[0],
			    "one unknown location");
	}
	ASSERT_TRUE(sample_with(p, 1, 8) != NULL, "[a] apart");
	perftools__profiles__profile__free_unpacked(p, NULL);
out:
	hs_snapshot_free(s);
}

static void test_pprof_empty(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_pprof_summary sum;
	Perftools__Profiles__Profile *p = encode_decode(s, &q, &sum);

	if (p) {
		ASSERT_EQ(p->n_sample, 0, "no samples");
		ASSERT_EQ(p->n_sample_type, 4, "sample types still there");
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_folded_lines_and_total);
	RUN_TEST(test_folded_filters_match_top);
	RUN_TEST(test_folded_sampled_scale);
	RUN_TEST(test_folded_names_are_clean);
	RUN_TEST(test_pprof_header);
	RUN_TEST(test_pprof_samples_locations_lines);
	RUN_TEST(test_pprof_filters);
	RUN_TEST(test_pprof_unknown_stack);
	RUN_TEST(test_pprof_empty);
	return TEST_EXIT();
}
