// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The unwind sections of a snapshot: each module's table and where walks
 * were cut short, written and read back; records of fewer or more reasons
 * (older and later writers) read; and info's lines, from the sections or,
 * for files without them, from the tracebacks' last frames.
 */
#include <json-c/json.h>
#include <unistd.h>

#include "le.h"
#include "render.h"
#include "snap_fixture.h"
#include "snapfile.h"
#include "snapfile_unwind.h"
#include "test.h"

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define BIG "/usr/lib/libbig.so"

/* 3 live blocks, 2 of them cut short in libc (no table), and 1 whole. */
static struct hs_snapshot *sample(bool sections)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_unwind_entry *e;
	uint32_t main_, start, stop;

	main_ = fx_frame(s, "main", "a.c", 3, "/bin/a", 0x10);
	start = fx_frame(s, "_start", NULL, 0, "/bin/a", 0x20);
	stop = fx_frame(s, hs_unwind_stop_name(HS_STOP_NO_TABLE), NULL, 0, NULL,
			0);
	fx_traces(s, fx_stack(s, 2, main_, stop), 2, 100, HS_DOMAIN_HEAP);
	fx_traces(s, fx_stack(s, 2, main_, start), 1, 50, HS_DOMAIN_HEAP);
	if (!sections)
		return s;
	e = hs_snapshot_unwind_entry(s, LIBC);
	e->table = HS_UT_NO_ROOM;
	e->note = hs_snapshot_intern(s, "no room: its rows pass 5000");
	e->stacks[HS_STOP_NO_TABLE] = 1;
	e->blocks[HS_STOP_NO_TABLE] = 2;
	e = hs_snapshot_unwind_entry(s, BIG);
	e->table = HS_UT_OK;
	e->rows = 2500000;
	e->bytes = 11000000;
	e->stacks[HS_STOP_BUSY] = 0;
	e = hs_snapshot_unwind_entry(s, NULL);
	e->stacks[HS_STOP_NO_MODULE] = 4;
	e->blocks[HS_STOP_NO_MODULE] = 7;
	s->unwind_stats = (struct hs_unwind_stats){ .modules = 1,
						    .rows = 2500000,
						    .max_rows = 8388608,
						    .rules = 1487,
						    .bytes = 12000000,
						    .events_lost = 3,
						    .mode = HS_UNWIND_AUTO + 1 };
	return s;
}

static char *info_text(const struct hs_snapshot *s, bool json)
{
	struct hs_render_opts o = { .json = json };
	size_t len;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	hs_render_info(f, s, &o);
	fclose(f);
	return buf;
}

static struct hs_snapshot *write_read(const struct hs_snapshot *s)
{
	char path[] = "/tmp/test_snapunwind-XXXXXX", err[256] = "";
	struct hs_snapshot *r;
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	close(fd);
	if (!ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err)) {
		unlink(path);
		return NULL;
	}
	r = hs_snapfile_read(path, err, sizeof(err));
	ASSERT_TRUE(r != NULL, err);
	unlink(path);
	return r;
}

static void test_roundtrip(void)
{
	struct hs_snapshot *s = sample(true), *r = write_read(s);

	if (!r)
		goto out;
	ASSERT_EQ(r->nunwind, 3, "entries");
	for (size_t i = 0; i < r->nunwind && i < s->nunwind; i++) {
		const struct hs_unwind_entry *a = &s->unwind[i], *b = &r->unwind[i];

		ASSERT_STREQ(hs_snapshot_str(r, b->module),
			     hs_snapshot_str(s, a->module), "module");
		ASSERT_STREQ(hs_snapshot_str(r, b->note),
			     hs_snapshot_str(s, a->note), "note");
		ASSERT_EQ(b->table, a->table, "table");
		ASSERT_EQ(b->rows, a->rows, "rows");
		ASSERT_EQ(b->bytes, a->bytes, "bytes");
		ASSERT_TRUE(!memcmp(a->stacks, b->stacks, sizeof(a->stacks)),
			    "stacks");
		ASSERT_TRUE(!memcmp(a->blocks, b->blocks, sizeof(a->blocks)),
			    "blocks");
	}
	ASSERT_TRUE(!memcmp(&s->unwind_stats, &r->unwind_stats,
			    sizeof(s->unwind_stats)),
		    "stats");
out:
	hs_snapshot_free(s);
	hs_snapshot_free(r);
}

static void test_info_lines(void)
{
	struct hs_snapshot *s = sample(true);
	char *text = info_text(s, false), *js = info_text(s, true);
	json_object *j = json_tokener_parse(js), *u, *m, *v;

	ASSERT_TRUE(strstr(text, "unwinding:        33.33% of live blocks "
				 "reach the bottom of their stack; 2 cut "
				 "short\n"),
		    text);
	ASSERT_TRUE(strstr(text, "  cut short in " LIBC ": 2 blocks (1 stack):"
				 " no table for the module\n"),
		    text);
	ASSERT_TRUE(strstr(text, "  cut short in code in no file: 7 blocks "
				 "(4 stacks): code in no file\n"),
		    text);
	ASSERT_TRUE(strstr(text, "  no table for " LIBC
				 ": no room: its rows pass 5000\n"),
		    text);
	ASSERT_TRUE(strstr(text, "  tables:         1 modules, 2500000 rows of "
				 "1487 rules, 11.4 MiB (12000000 B) (limit "
				 "8388608 rows)\n"),
		    text);
	ASSERT_TRUE(strstr(text, "  loader events lost: 3 "), text);
	ASSERT_TRUE(!strstr(text, BIG ":"), "a module that cut nothing");
	if (!ASSERT_TRUE(j && json_object_object_get_ex(j, "unwind", &u), js))
		goto out;
	json_object_object_get_ex(u, "cut_blocks", &v);
	ASSERT_EQ(json_object_get_int64(v), 2, "cut_blocks");
	json_object_object_get_ex(u, "mode", &v);
	ASSERT_STREQ(json_object_get_string(v), "auto", "mode");
	json_object_object_get_ex(u, "modules", &m);
	ASSERT_EQ(json_object_array_length(m), 3, "modules");
	m = json_object_array_get_idx(m, 0);
	json_object_object_get_ex(m, "table", &v);
	ASSERT_STREQ(json_object_get_string(v), "no room", "table");
	ASSERT_TRUE(json_object_object_get_ex(m, "cut", &v) &&
			    json_object_object_get_ex(
				    v, "no table for the module", &v) &&
			    json_object_object_get_ex(v, "blocks", &v),
		    "cut reason");
	ASSERT_EQ(json_object_get_int64(v), 2, "cut blocks of libc");
out:
	json_object_put(j);
	free(text);
	free(js);
	hs_snapshot_free(s);
}

/* A file written before the sections: its stop frames still count. */
static void test_without_sections(void)
{
	struct hs_snapshot *s = sample(false), *r = write_read(s);
	char *text = r ? info_text(r, false) : NULL;

	if (r) {
		ASSERT_EQ(r->nunwind, 0, "entries");
		ASSERT_TRUE(strstr(text, "unwinding:        33.33% of live "
					 "blocks reach the bottom of their "
					 "stack; 2 cut short\n"),
			    text);
		ASSERT_TRUE(!strstr(text, "  tables:"), text);
	}
	free(text);
	hs_snapshot_free(s);
	hs_snapshot_free(r);
}

static uint8_t *entry(uint8_t *p, uint32_t module, uint32_t reasons,
		      uint64_t base)
{
	p = hs_put_u32(p, module);
	p = hs_put_u32(p, HS_NONE);
	*p++ = HS_UT_OK;
	p = hs_put_u64(p, base); /* rows */
	p = hs_put_u64(p, base + 1); /* bytes */
	for (uint32_t k = 0; k < reasons; k++) {
		p = hs_put_u64(p, base + 10 + k); /* stacks */
		p = hs_put_u64(p, base + 20 + k); /* blocks */
	}
	return p;
}

/* Parses a section into a snapshot of its own: 0 or -1. */
static int parse(uint32_t tag, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = hs_snapshot_new();
	char msg[128];
	int r = hs_unwind_section_parse(s, tag, p, len, msg, sizeof(msg));

	hs_snapshot_free(s);
	return r;
}

/*
 * Records of one reason (an older writer) and of HS_STOP_COUNT + 2 (a
 * later one): the reasons a record holds are read, the others are 0 or
 * ignored; records of the wrong length are refused.
 */
static void test_record_lengths(void)
{
	uint32_t counts[] = { 1, HS_STOP_COUNT - 1, HS_STOP_COUNT + 2 };
	uint8_t buf[1024], *p;
	char msg[128];

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct hs_snapshot *s = hs_snapshot_new();
		uint32_t rec = 25 + 16 * counts[c];

		hs_snapshot_intern(s, "/lib/x.so");
		p = hs_put_u32(buf, 2);
		p = hs_put_u32(p, rec);
		p = entry(p, 0, counts[c], 100);
		p = entry(p, HS_NONE, counts[c], 200);
		if (!ASSERT_EQ(hs_unwind_section_parse(s, HS_SEC_UNWIND, buf,
						       (uint64_t)(p - buf), msg,
						       sizeof(msg)),
			       0, msg))
			goto next;
		ASSERT_EQ(s->nunwind, 2, "entries");
		ASSERT_EQ(s->unwind[1].module, HS_NONE, "module");
		ASSERT_EQ(s->unwind[1].rows, 200, "rows");
		ASSERT_EQ(s->unwind[1].bytes, 201, "bytes");
		for (uint32_t k = 1; k < HS_STOP_COUNT; k++) {
			bool held = k <= counts[c];

			ASSERT_EQ(s->unwind[0].stacks[k], held ? 110 + k - 1 : 0,
				  "stacks");
			ASSERT_EQ(s->unwind[1].blocks[k], held ? 220 + k - 1 : 0,
				  "blocks");
		}
		ASSERT_EQ(hs_unwind_check(s, msg, sizeof(msg)), 0, msg);
next:
		hs_snapshot_free(s);
	}
	/* one byte short of its records, and a record shorter than a head */
	p = hs_put_u32(buf, 1);
	p = hs_put_u32(p, 25);
	p = entry(p, 0, 0, 1);
	ASSERT_EQ(parse(HS_SEC_UNWIND, buf, (uint64_t)(p - buf) - 1), -1,
		  "short section");
	hs_put_u32(buf + 4, 24);
	ASSERT_EQ(parse(HS_SEC_UNWIND, buf, 8 + 24), -1, "short record");
	ASSERT_EQ(parse(HS_SEC_UNWIND_STATS, buf, 7 * 8 - 1), -1,
		  "short stats");
}

int main(void)
{
	RUN_TEST(test_roundtrip);
	RUN_TEST(test_info_lines);
	RUN_TEST(test_without_sections);
	RUN_TEST(test_record_lengths);
	return TEST_EXIT();
}
