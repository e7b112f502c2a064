// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The snapshot file format: exact round trips, atomic writes, and reads of
 * malformed files that must fail cleanly. Hand-made files below follow the
 * layout documented in user/snapfile.c, with their own CRC-32C, so these
 * tests also pin the format down.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libgen.h>
#include <zstd.h>

#include "crc32c.h"
#include "snapfile.h"
#include "snapshot.h"
#include "test.h"

/* Like RUN_TEST, for a test that returns nonzero when it cannot run here. */
#define RUN_TEST_OR_SKIP(fn)                                                   \
	do {                                                                   \
		test_failed = 0;                                               \
		if (fn()) {                                                    \
			printf("SKIP %s\n", #fn);                              \
		} else {                                                       \
			printf("%s %s\n", test_failed ? "FAIL" : "PASS", #fn); \
			tests_failed += test_failed;                           \
		}                                                              \
	} while (0)

#define HDR_LEN 40
#define SKIP_EXIT 77

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Bit by bit, independent of the table-driven one under test. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void fix_header_crc(uint8_t *f)
{
	put32(f + 36, crc32c(f, 36));
}

static void fix_crcs(uint8_t *f, size_t len)
{
	put32(f + 32, crc32c(f + HDR_LEN, len - HDR_LEN));
	fix_header_crc(f);
}

/* A file image of that format version around payload. */
static uint8_t *seal_version(const uint8_t *payload, size_t plen,
			     uint32_t version, size_t *out_len)
{
	size_t bound = ZSTD_compressBound(plen), clen;
	uint8_t *f = malloc(HDR_LEN + bound);

	clen = ZSTD_compress(f + HDR_LEN, bound, payload, plen, 1);
	memcpy(f, "HSNAP\r\n\x1a", 8);
	put32(f + 8, version);
	put32(f + 12, 1);
	put64(f + 16, plen);
	put64(f + 24, clen);
	*out_len = HDR_LEN + clen;
	fix_crcs(f, *out_len);
	return f;
}

/* A file image around payload, as the writer makes it. */
static uint8_t *seal(const uint8_t *payload, size_t plen, size_t *out_len)
{
	return seal_version(payload, plen, HS_FORMAT_VERSION, out_len);
}

static uint8_t *unseal(const uint8_t *f, size_t len, size_t *plen)
{
	uint64_t raw = 0;
	uint8_t *p;

	for (int i = 7; i >= 0; i--)
		raw = raw << 8 | f[16 + i];
	p = malloc(raw);
	*plen = ZSTD_decompress(p, raw, f + HDR_LEN, len - HDR_LEN);
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/hs-snapfile-XXXXXX";

	if (!mkdtemp(tmpl))
		return NULL;
	return strdup(tmpl);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(char *dir)
{
	if (dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static int write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret;

	if (!f)
		return -1;
	ret = fwrite(buf, 1, len, f) == len ? 0 : -1;
	return fclose(f) ? -1 : ret;
}

static void set_counters(struct hs_counters *c, uint64_t base)
{
	c->current = base + 1;
	c->count = base + 2;
	c->peak = base + 3;
	c->interval_peak = base + 4;
	c->allocs = base + 5;
	c->frees = base + 6;
	c->bytes_allocated = base + 7;
	c->map_full = base + 8;
	c->stack_failures = base + 9;
	c->stack_collisions = base + 10;
	c->unknown_frees = base + 11;
}

/* Every field set to a distinct value, every HS_NONE the model allows. */
static struct hs_snapshot *make_sample(void)
{
	static const uint8_t bid20[20] = { 0xde, 0xad, 0xbe, 0xef, 1,  2, 3,
					   4,	 5,    6,    7,	   8,  9, 10,
					   11,	 12,   13,   14,   15, 16 };
	uint8_t bid32[HS_BUILD_ID_MAX];
	struct hs_snapshot *s = hs_snapshot_new();
	uint32_t app, libc, f[6], st[3];
	struct hs_frame fr;
	struct hs_proc p;
	struct hs_trace t;

	for (int i = 0; i < HS_BUILD_ID_MAX; i++)
		bid32[i] = (uint8_t)(0xf0 ^ i);
	s->time_ns = 1795304400123456789ull;
	s->command = hs_snapshot_intern(s, "./app --flag 'quoted arg'");
	s->kernel = hs_snapshot_intern(s, "6.18.0-heapsnap");
	s->traceback_limit = 64;
	s->sample_bytes = 4096;
	s->tracer_memory = 31457280;
	s->seq = 3;
	s->global.proc_map_full = 21;
	s->global.nested_overflow = 22;
	s->global.map_events_lost = 23;
	s->global.events_lost = UINT64_MAX;
	s->global.stacks_missing = 25;

	app = hs_snapshot_add_module(s, "/usr/bin/app", bid20, sizeof(bid20));
	libc = hs_snapshot_add_module(s, "/lib/x86_64-linux-gnu/libc.so.6",
				      bid32, sizeof(bid32));
	hs_snapshot_add_module(s, "[vdso]", NULL, 0);

	memset(&fr, 0, sizeof(fr));
	fr.module = app;
	fr.function = hs_snapshot_intern(s, "parse_item");
	fr.file = hs_snapshot_intern(s, "/src/app/parse.c");
	fr.line = 42;
	fr.offset = 0x1234;
	f[0] = hs_snapshot_add_frame(s, &fr);
	fr.function = hs_snapshot_intern(s, "inline_helper");
	fr.line = 7;
	fr.inlined = true;
	f[1] = hs_snapshot_add_frame(s, &fr);
	fr.function = hs_snapshot_intern(s, "main");
	fr.line = 100;
	fr.offset = 0x1300;
	fr.inlined = false;
	f[2] = hs_snapshot_add_frame(s, &fr);
	fr.module = libc;
	fr.function = hs_snapshot_intern(s, "__libc_start_call_main");
	fr.file = HS_NONE;
	fr.line = 0;
	fr.offset = 0x29d90;
	f[3] = hs_snapshot_add_frame(s, &fr);
	fr.module = HS_NONE;
	fr.function = HS_NONE;
	fr.offset = 0x7fffdeadbeefull;
	f[4] = hs_snapshot_add_frame(s, &fr);
	fr.module = libc;
	fr.function = hs_snapshot_intern(s, "opérateur_ünicode");
	fr.offset = UINT64_MAX;
	f[5] = hs_snapshot_add_frame(s, &fr);

	st[0] = hs_snapshot_add_stack(s, f, 4);
	st[1] = hs_snapshot_add_stack(s, f + 4, 2);
	st[2] = hs_snapshot_add_stack(s, NULL, 0);
	hs_snapshot_intern(s, "");

	for (int i = 0; i < 7; i++) {
		memset(&t, 0, sizeof(t));
		t.addr = 0x5555000000ull + 0x100 * (uint64_t)i;
		t.size = 16 + (uint64_t)i * 1000;
		t.time_ns = s->time_ns - 1000000 * (uint64_t)i;
		t.pid = 1000 + (uint32_t)i % 3;
		t.tid = 2000 + (uint32_t)i;
		t.stack = st[i % 3];
		t.total_nframe = 4 + (uint32_t)i * 10;
		t.domain = i % 2 ? HS_DOMAIN_MMAP : HS_DOMAIN_HEAP;
		hs_snapshot_add_trace(s, &t);
	}
	t.addr = UINT64_MAX;
	t.size = 0;
	t.time_ns = UINT64_MAX;
	t.pid = UINT32_MAX;
	t.tid = 0;
	t.total_nframe = UINT32_MAX;
	hs_snapshot_add_trace(s, &t);

	for (int i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.pid = 1000 + (uint32_t)i;
		p.command = i == 2 ?
				    HS_NONE :
				    hs_snapshot_intern(
					    s, i ? "./worker" :
						   "./app --flag 'quoted arg'");
		p.exited = i == 1;
		set_counters(&p.counters, 100 * (uint64_t)i);
		hs_snapshot_add_proc(s, &p);
	}
	p.counters.unknown_frees = UINT64_MAX;
	hs_snapshot_add_proc(s, &p);
	hs_snapshot_seal(s);
	return s;
}

static bool counters_eq(const struct hs_counters *a,
			const struct hs_counters *b)
{
	return ASSERT_EQ(a->current, b->current, "current") &&
	       ASSERT_EQ(a->count, b->count, "count") &&
	       ASSERT_EQ(a->peak, b->peak, "peak") &&
	       ASSERT_EQ(a->interval_peak, b->interval_peak, "interval_peak") &&
	       ASSERT_EQ(a->allocs, b->allocs, "allocs") &&
	       ASSERT_EQ(a->frees, b->frees, "frees") &&
	       ASSERT_EQ(a->bytes_allocated, b->bytes_allocated,
			 "bytes_allocated") &&
	       ASSERT_EQ(a->map_full, b->map_full, "map_full") &&
	       ASSERT_EQ(a->stack_failures, b->stack_failures,
			 "stack_failures") &&
	       ASSERT_EQ(a->stack_collisions, b->stack_collisions,
			 "stack_collisions") &&
	       ASSERT_EQ(a->unknown_frees, b->unknown_frees, "unknown_frees");
}

static bool global_eq(const struct hs_global_counters *a,
		      const struct hs_global_counters *b)
{
	return ASSERT_EQ(a->proc_map_full, b->proc_map_full, "proc_map_full") &&
	       ASSERT_EQ(a->nested_overflow, b->nested_overflow,
			 "nested_overflow") &&
	       ASSERT_EQ(a->map_events_lost, b->map_events_lost,
			 "map_events_lost") &&
	       ASSERT_EQ(a->events_lost, b->events_lost, "events_lost") &&
	       ASSERT_EQ(a->stacks_missing, b->stacks_missing,
			 "stacks_missing");
}

/* Field by field, stopping at the first difference. */
static bool snapshots_eq(const struct hs_snapshot *a,
			 const struct hs_snapshot *b)
{
	size_t i;

	if (!ASSERT_TRUE(a && b, "both snapshots"))
		return false;
	if (!(ASSERT_EQ(a->format_version, b->format_version, "version") &&
	      ASSERT_EQ(a->time_ns, b->time_ns, "time_ns") &&
	      ASSERT_EQ(a->command, b->command, "command") &&
	      ASSERT_EQ(a->kernel, b->kernel, "kernel") &&
	      ASSERT_EQ(a->traceback_limit, b->traceback_limit, "limit") &&
	      ASSERT_EQ(a->sample_bytes, b->sample_bytes, "sample_bytes") &&
	      ASSERT_EQ(a->tracer_memory, b->tracer_memory, "tracer_memory") &&
	      ASSERT_EQ(a->seq, b->seq, "seq") &&
	      global_eq(&a->global, &b->global) &&
	      ASSERT_EQ(a->nprocs, b->nprocs, "nprocs") &&
	      ASSERT_EQ(a->nstrings, b->nstrings, "nstrings") &&
	      ASSERT_EQ(a->nmodules, b->nmodules, "nmodules") &&
	      ASSERT_EQ(a->nframes, b->nframes, "nframes") &&
	      ASSERT_EQ(a->nstack_frames, b->nstack_frames, "nstack_frames") &&
	      ASSERT_EQ(a->nstacks, b->nstacks, "nstacks") &&
	      ASSERT_EQ(a->ntraces, b->ntraces, "ntraces")))
		return false;
	for (i = 0; i < a->nprocs; i++) {
		const struct hs_proc *x = &a->procs[i], *y = &b->procs[i];

		if (!(ASSERT_EQ(x->pid, y->pid, "proc pid") &&
		      ASSERT_EQ(x->command, y->command, "proc command") &&
		      ASSERT_EQ(x->exited, y->exited, "proc exited") &&
		      counters_eq(&x->counters, &y->counters)))
			return false;
	}
	for (i = 0; i < a->nstrings; i++)
		if (!ASSERT_STREQ(a->strings[i], b->strings[i], "string"))
			return false;
	for (i = 0; i < a->nmodules; i++) {
		const struct hs_module *x = &a->modules[i], *y = &b->modules[i];

		if (!(ASSERT_EQ(x->path, y->path, "module path") &&
		      ASSERT_EQ(x->build_id_len, y->build_id_len,
				"build_id_len") &&
		      ASSERT_EQ(
			      memcmp(x->build_id, y->build_id, x->build_id_len),
			      0, "build_id")))
			return false;
	}
	for (i = 0; i < a->nframes; i++) {
		const struct hs_frame *x = &a->frames[i], *y = &b->frames[i];

		if (!(ASSERT_EQ(x->module, y->module, "frame module") &&
		      ASSERT_EQ(x->function, y->function, "frame function") &&
		      ASSERT_EQ(x->file, y->file, "frame file") &&
		      ASSERT_EQ(x->line, y->line, "frame line") &&
		      ASSERT_EQ(x->offset, y->offset, "frame offset") &&
		      ASSERT_EQ(x->inlined, y->inlined, "frame inlined")))
			return false;
	}
	for (i = 0; i < a->nstack_frames; i++)
		if (!ASSERT_EQ(a->stack_frames[i], b->stack_frames[i],
			       "stack_frames"))
			return false;
	for (i = 0; i < a->nstacks; i++)
		if (!(ASSERT_EQ(a->stacks[i].first, b->stacks[i].first,
				"stack first") &&
		      ASSERT_EQ(a->stacks[i].nframes, b->stacks[i].nframes,
				"stack nframes")))
			return false;
	for (i = 0; i < a->ntraces; i++) {
		const struct hs_trace *x = &a->traces[i], *y = &b->traces[i];

		if (!(ASSERT_EQ(x->addr, y->addr, "trace addr") &&
		      ASSERT_EQ(x->size, y->size, "trace size") &&
		      ASSERT_EQ(x->time_ns, y->time_ns, "trace time_ns") &&
		      ASSERT_EQ(x->pid, y->pid, "trace pid") &&
		      ASSERT_EQ(x->tid, y->tid, "trace tid") &&
		      ASSERT_EQ(x->stack, y->stack, "trace stack") &&
		      ASSERT_EQ(x->total_nframe, y->total_nframe,
				"trace total_nframe") &&
		      ASSERT_EQ(x->domain, y->domain, "trace domain")))
			return false;
	}
	return true;
}

/* The sample as file bytes, written by hs_snapfile_write. */
static uint8_t *sample_file(const char *dir, size_t *len)
{
	struct hs_snapshot *s = make_sample();
	char *path = join(dir, "sample.hsnap");
	char err[256];
	uint8_t *buf = NULL;

	if (ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err))
		buf = read_bytes(path, len);
	hs_snapshot_free(s);
	free(path);
	return buf;
}

/* Parses buf, which must be rejected with a message containing want. */
static bool expect_reject(const void *buf, size_t len, const char *want,
			  const char *name)
{
	struct hs_snapshot *s;
	char err[256] = "";

	s = hs_snapfile_parse(buf, len, err, sizeof(err));
	if (!ASSERT_TRUE(!s, name)) {
		hs_snapshot_free(s);
		return false;
	}
	if (!ASSERT_TRUE(err[0] && !strchr(err, '\n'), name))
		return false;
	if (want && !strstr(err, want)) {
		fprintf(stderr, "  %s: error \"%s\" lacks \"%s\"\n", name, err,
			want);
		test_failed = 1;
		return false;
	}
	return true;
}

static void test_crc32c_reference(void)
{
	ASSERT_EQ(crc32c((const uint8_t *)"123456789", 9), 0xe3069283u,
		  "crc32c check value");
}

static void test_roundtrip(void)
{
	struct hs_snapshot *s = make_sample(), *r = NULL, *m = NULL;
	char *dir = make_tmpdir(), *path = join(dir, "heapsnap.hsnap");
	char err[256] = "";
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err))
		goto out;
	ASSERT_EQ(count_entries(dir), 1, "no temporary file left");
	r = hs_snapfile_read(path, err, sizeof(err));
	if (!ASSERT_TRUE(r, err))
		goto out;
	ASSERT_TRUE(r->index == NULL, "read snapshot is sealed");
	ASSERT_EQ(r->format_version, HS_FORMAT_VERSION, "format_version");
	snapshots_eq(s, r);
	ASSERT_STREQ(hs_snapshot_str(r, r->command),
		     "./app --flag 'quoted arg'", "command");
	ASSERT_STREQ(hs_snapshot_str(r, r->frames[5].function),
		     "opérateur_ünicode", "utf-8 string");
	ASSERT_EQ(r->traces[7].addr, UINT64_MAX, "extreme values");

	buf = read_bytes(path, &len);
	ASSERT_EQ(memcmp(buf, "HSNAP", 5), 0, "magic");
	m = hs_snapfile_parse(buf, len, err, sizeof(err));
	if (ASSERT_TRUE(m, err))
		snapshots_eq(s, m);
out:
	hs_snapshot_free(s);
	hs_snapshot_free(r);
	hs_snapshot_free(m);
	free(buf);
	free(path);
	rm_tree(dir);
}

static void test_empty_snapshot(void)
{
	struct hs_snapshot *s = hs_snapshot_new(), *r = NULL;
	char *dir = make_tmpdir(), *path = join(dir, "empty.hsnap");
	char err[256] = "";

	hs_snapshot_seal(s);
	if (!ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err))
		goto out;
	r = hs_snapfile_read(path, err, sizeof(err));
	if (!ASSERT_TRUE(r, err))
		goto out;
	snapshots_eq(s, r);
	ASSERT_EQ(r->command, HS_NONE, "command HS_NONE");
	ASSERT_EQ(r->kernel, HS_NONE, "kernel HS_NONE");
out:
	hs_snapshot_free(s);
	hs_snapshot_free(r);
	free(path);
	rm_tree(dir);
}

/* A read snapshot's arrays must take more items, as the model promises. */
static void test_read_snapshot_extends(void)
{
	struct hs_snapshot *s = make_sample(), *r = NULL;
	char *dir = make_tmpdir(), *path = join(dir, "x.hsnap");
	struct hs_trace t = { .addr = 1, .size = 2 };
	struct hs_proc p = { .pid = 9, .command = HS_NONE };
	char err[256] = "";
	uint32_t idx = HS_NONE;
	int i;

	if (!ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err))
		goto out;
	r = hs_snapfile_read(path, err, sizeof(err));
	if (!ASSERT_TRUE(r, err))
		goto out;
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(hs_snapshot_add_trace(r, &t), 0, "add_trace");
		ASSERT_EQ(hs_snapshot_add_proc(r, &p), 0, "add_proc");
		idx = hs_snapshot_intern(r, "new string");
	}
	ASSERT_EQ(r->ntraces, s->ntraces + 100, "ntraces");
	ASSERT_STREQ(hs_snapshot_str(r, idx), "new string", "new string");
out:
	hs_snapshot_free(s);
	hs_snapshot_free(r);
	free(path);
	rm_tree(dir);
}

static void test_mode_and_overwrite(void)
{
	struct hs_snapshot *a = make_sample(), *b = hs_snapshot_new(), *r;
	char *dir = make_tmpdir(), *path = join(dir, "out.hsnap");
	char err[256] = "";
	struct stat st;
	mode_t old = umask(0);

	hs_snapshot_seal(b);
	b->seq = 77;
	write_bytes(path, "old", 3);
	chmod(path, 0644);
	ASSERT_EQ(hs_snapfile_write(a, path, err, sizeof(err)), 0, err);
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 07777, 0600, "mode 0600 despite umask 0");
	umask(0277);
	ASSERT_EQ(hs_snapfile_write(b, path, err, sizeof(err)), 0, err);
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 07777, 0600, "mode 0600 despite umask 0277");
	ASSERT_EQ(count_entries(dir), 1, "no temporary file left");
	umask(old);
	r = hs_snapfile_read(path, err, sizeof(err));
	if (ASSERT_TRUE(r, err))
		snapshots_eq(b, r);
	hs_snapshot_free(a);
	hs_snapshot_free(b);
	hs_snapshot_free(r);
	free(path);
	rm_tree(dir);
}

static void test_write_failures(void)
{
	struct hs_snapshot *s = make_sample();
	char *dir = make_tmpdir(), *sub = join(dir, "sub"), *path;
	char err[256] = "", want[512];
	struct stat st;

	path = join(dir, "missing/x.hsnap");
	ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), -1, "no dir");
	snprintf(want, sizeof(want),
		 "cannot write %s: No such file or directory", path);
	ASSERT_STREQ(err, want, "no dir message");
	free(path);

	mkdir(sub, 0700);
	ASSERT_EQ(hs_snapfile_write(s, sub, err, sizeof(err)), -1,
		  "path is a directory");
	ASSERT_TRUE(strstr(err, "Is a directory"), err);
	ASSERT_TRUE(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "dir kept");
	ASSERT_EQ(count_entries(dir), 1, "no temporary file left");

	path = join(dir, "dir/");
	ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), -1,
		  "trailing slash");
	free(path);

	path = join(dir, "invalid.hsnap");
	s->traces[0].stack = 99;
	ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), -1,
		  "invalid snapshot");
	ASSERT_TRUE(strstr(err, "invalid snapshot (trace 0: stack 99"), err);
	s->traces[0].stack = 0;
	s->traces[1].domain = HS_DOMAIN_COUNT;
	ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), -1,
		  "invalid domain");
	ASSERT_EQ(access(path, F_OK), -1, "nothing written");
	ASSERT_EQ(count_entries(dir), 1, "no temporary file left");
	free(path);
	free(sub);
	hs_snapshot_free(s);
	rm_tree(dir);
}

/* What record checks before it attaches: the writes to come would work. */
static void test_check_path(void)
{
	char *dir = make_tmpdir(), *sub = join(dir, "sub"), *path;
	char err[256] = "", want[512];

	path = join(dir, "ok.hsnap");
	ASSERT_EQ(hs_snapfile_check_path(path, err, sizeof(err)), 0, err);
	ASSERT_EQ(count_entries(dir), 0, "the probe file is removed");
	ASSERT_EQ(access(path, F_OK), -1, "nothing at the path");
	free(path);

	path = join(dir, "missing/x.hsnap");
	ASSERT_EQ(hs_snapfile_check_path(path, err, sizeof(err)), -1,
		  "no dir");
	snprintf(want, sizeof(want),
		 "cannot write %s: No such file or directory", path);
	ASSERT_STREQ(err, want, "no dir message");
	free(path);

	mkdir(sub, 0700);
	ASSERT_EQ(hs_snapfile_check_path(sub, err, sizeof(err)), -1,
		  "path is a directory");
	ASSERT_TRUE(strstr(err, "Is a directory"), err);
	path = join(dir, "sub/");
	ASSERT_EQ(hs_snapfile_check_path(path, err, sizeof(err)), -1,
		  "trailing slash");
	ASSERT_EQ(count_entries(dir), 1, "only the directory");
	ASSERT_EQ(count_entries(sub), 0, "nothing in the directory");
	free(path);
	free(sub);
	rm_tree(dir);
}

/*
 * A write that runs out of space keeps the old file. Runs in a child with
 * its own mount namespace, so the small tmpfs goes away with it.
 */
static int test_write_enospc(void)
{
	char *dir = make_tmpdir(), *path = join(dir, "heapsnap.hsnap");
	struct hs_snapshot *small = make_sample(), *big, *r;
	char err[256] = "", want[512], str[1001];
	uint64_t rng = 42;
	int status, skipped = 0;
	pid_t pid;

	big = hs_snapshot_new();
	for (int i = 0; i < 400; i++) {
		for (int k = 0; k < 1000; k++)
			str[k] = (char)(' ' + xorshift(&rng) % 95);
		str[1000] = 0;
		hs_snapshot_intern(big, str);
	}
	hs_snapshot_seal(big);

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"))
			_exit(SKIP_EXIT);
		ASSERT_EQ(hs_snapfile_write(small, path, err, sizeof(err)), 0,
			  err);
		ASSERT_EQ(hs_snapfile_write(big, path, err, sizeof(err)), -1,
			  "write to a full disk fails");
		snprintf(want, sizeof(want),
			 "cannot write %s: No space left on device", path);
		ASSERT_STREQ(err, want, "ENOSPC message");
		ASSERT_EQ(count_entries(dir), 1, "temporary file removed");
		r = hs_snapfile_read(path, err, sizeof(err));
		if (ASSERT_TRUE(r, err))
			snapshots_eq(small, r);
		hs_snapshot_free(r);
		_exit(test_failed);
	}
	if (ASSERT_TRUE(pid > 0, "fork") &&
	    ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid")) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT)
			skipped = 1;
		else
			ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status),
				    "child passed");
	}
	hs_snapshot_free(small);
	hs_snapshot_free(big);
	free(path);
	rm_tree(dir);
	return skipped;
}

static void test_truncation(void)
{
	char *dir = make_tmpdir(), *path = join(dir, "cut.hsnap");
	struct hs_snapshot *s;
	char err[256], name[64];
	size_t len = 0, cut;
	uint8_t *buf = sample_file(dir, &len);

	if (!ASSERT_TRUE(buf && len > HDR_LEN, "sample file"))
		goto out;
	for (cut = 0; cut < len; cut++) {
		snprintf(name, sizeof(name), "parse truncated at %zu", cut);
		if (!expect_reject(buf, cut, NULL, name))
			break;
		write_bytes(path, buf, cut);
		s = hs_snapfile_read(path, err, sizeof(err));
		snprintf(name, sizeof(name), "read truncated at %zu", cut);
		if (!ASSERT_TRUE(!s, name)) {
			hs_snapshot_free(s);
			break;
		}
	}
	expect_reject(buf, 0, "empty file", "empty");
	expect_reject(buf, 5, "truncated", "inside the magic");
	expect_reject(buf, 20, "truncated", "inside the header");
	expect_reject(buf, len - 1, "truncated", "inside the payload");
out:
	free(buf);
	free(path);
	rm_tree(dir);
}

/* The whole file is checksummed, so every single-bit flip is caught. */
static void test_bit_flips(void)
{
	char *dir = make_tmpdir();
	size_t len = 0, bit;
	uint8_t *buf = sample_file(dir, &len);
	char name[64];

	if (!ASSERT_TRUE(buf, "sample file"))
		goto out;
	for (bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		snprintf(name, sizeof(name), "bit %zu flipped", bit);
		if (!expect_reject(buf, len, NULL, name))
			break;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	buf[len - 1] ^= 1;
	expect_reject(buf, len, "checksum mismatch", "payload flip");
	buf[len - 1] ^= 1;
	buf[17] ^= 1;
	expect_reject(buf, len, "header checksum mismatch", "header flip");
out:
	free(buf);
	rm_tree(dir);
}

/*
 * Garbage behind valid checksums reaches the decompressor and the payload
 * parser. Each must fail or give a snapshot whose references hold.
 */
static void test_fuzz_behind_checksums(void)
{
	char *dir = make_tmpdir(), err[256];
	size_t len = 0, plen, flen, i;
	uint8_t *buf = sample_file(dir, &len), *copy, *payload, *f;
	struct hs_snapshot *s;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int iter, accepted = 0;

	if (!ASSERT_TRUE(buf, "sample file"))
		goto out;
	payload = unseal(buf, len, &plen);
	copy = malloc(len);
	for (iter = 0; iter < 4000; iter++) {
		int nflips = 1 + (int)(xorshift(&rng) % 4);

		if (iter % 2) {
			memcpy(copy, buf, len);
			for (int k = 0; k < nflips; k++)
				copy[HDR_LEN +
				     xorshift(&rng) % (len - HDR_LEN)] =
					(uint8_t)xorshift(&rng);
			fix_crcs(copy, len);
			s = hs_snapfile_parse(copy, len, err, sizeof(err));
		} else {
			uint8_t *p = malloc(plen);

			memcpy(p, payload, plen);
			for (int k = 0; k < nflips; k++) {
				uint64_t r = xorshift(&rng);

				p[r % plen] =
					r & 0x100 ? 0xff : (uint8_t)(r >> 16);
			}
			f = seal(p, plen, &flen);
			s = hs_snapfile_parse(f, flen, err, sizeof(err));
			free(f);
			free(p);
		}
		if (!s)
			continue;
		accepted++;
		for (i = 0; i < s->ntraces; i++)
			if (!ASSERT_TRUE(s->traces[i].stack < s->nstacks &&
						 s->traces[i].domain <
							 HS_DOMAIN_COUNT,
					 "accepted snapshot is consistent"))
				break;
		hs_snapshot_free(s);
	}
	fprintf(stderr, "  fuzz: %d of %d corrupted files still valid\n",
		accepted, iter);
	free(copy);
	free(payload);
out:
	free(buf);
	rm_tree(dir);
}

static void test_not_snapshots(void)
{
	char *dir = make_tmpdir(), *path, err[256], want[512];
	struct hs_snapshot *s;

	path = join(dir, "empty");
	write_bytes(path, "", 0);
	s = hs_snapfile_read(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: empty file", path);
	ASSERT_TRUE(!s, "empty file");
	ASSERT_STREQ(err, want, "empty file message");
	free(path);

	s = hs_snapfile_read(dir, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: is a directory", dir);
	ASSERT_TRUE(!s, "directory");
	ASSERT_STREQ(err, want, "directory message");

	path = join(dir, "nonexistent.hsnap");
	s = hs_snapfile_read(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ASSERT_TRUE(!s, "nonexistent");
	ASSERT_STREQ(err, want, "nonexistent message");
	free(path);

	path = join(dir, "fifo");
	mkfifo(path, 0600);
	s = hs_snapfile_read(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	ASSERT_TRUE(!s, "fifo");
	ASSERT_STREQ(err, want, "fifo message");
	free(path);

	path = join(dir, "text");
	write_bytes(path, "{\"format_version\": 1}\n", 22);
	s = hs_snapfile_read(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: not a heapsnap snapshot (bad magic)",
		 path);
	ASSERT_TRUE(!s, "bad magic");
	ASSERT_STREQ(err, want, "bad magic message");
	free(path);

	expect_reject("HSNAQ", 5, "bad magic", "short bad magic");
	rm_tree(dir);
}

static void test_bad_headers(void)
{
	char *dir = make_tmpdir();
	size_t len = 0;
	uint8_t *orig = sample_file(dir, &len), *buf;

	if (!ASSERT_TRUE(orig, "sample file"))
		goto out;
	buf = malloc(len + 7);
	memcpy(buf, orig, len);
	put32(buf + 8, 7);
	fix_header_crc(buf);
	expect_reject(buf, len, "unsupported format version 7",
		      "future version");
	put32(buf + 8, 0);
	fix_header_crc(buf);
	expect_reject(buf, len, "unsupported format version 0", "version 0");

	memcpy(buf, orig, len);
	put32(buf + 12, 3);
	fix_header_crc(buf);
	expect_reject(buf, len, "unsupported flags", "unknown flag");
	put32(buf + 12, 0);
	fix_header_crc(buf);
	expect_reject(buf, len, "unsupported flags", "uncompressed");

	memcpy(buf, orig, len);
	put64(buf + 16, 1ull << 62);
	fix_header_crc(buf);
	expect_reject(buf, len, "implausible payload size", "huge raw size");
	put64(buf + 16, UINT64_MAX);
	fix_header_crc(buf);
	expect_reject(buf, len, "implausible payload size", "max raw size");
	put64(buf + 16, 10);
	fix_header_crc(buf);
	expect_reject(buf, len, "corrupt", "raw size too small");
	put64(buf + 16, 1000000);
	fix_header_crc(buf);
	expect_reject(buf, len, "corrupt", "raw size too large");
	put64(buf + 16, 0);
	fix_header_crc(buf);
	expect_reject(buf, len, "corrupt", "raw size zero");

	memcpy(buf, orig, len);
	put64(buf + 24, UINT64_MAX);
	fix_header_crc(buf);
	expect_reject(buf, len, "truncated", "huge compressed size");
	put64(buf + 24, len - HDR_LEN - 1);
	fix_header_crc(buf);
	expect_reject(buf, len, "trailing data", "short compressed size");

	memcpy(buf, orig, len);
	memset(buf + len, 0, 7);
	expect_reject(buf, len + 7, "trailing data", "appended bytes");

	memcpy(buf, orig, len);
	memcpy(buf, "HSNAP\r\n\0", 8);
	expect_reject(buf, len, "bad magic", "magic byte 7");
	free(buf);
out:
	free(orig);
	rm_tree(dir);
}

/* A payload built by hand, from the documented layout. */
struct pb {
	uint8_t *buf;
	size_t len, cap;
};

static void pb_bytes(struct pb *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->buf = realloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void pb_u8(struct pb *b, uint8_t v)
{
	pb_bytes(b, &v, 1);
}

static void pb_u32(struct pb *b, uint32_t v)
{
	uint8_t x[4];

	put32(x, v);
	pb_bytes(b, x, 4);
}

static void pb_u64(struct pb *b, uint64_t v)
{
	uint8_t x[8];

	put64(x, v);
	pb_bytes(b, x, 8);
}

static size_t pb_begin(struct pb *b, uint32_t tag)
{
	pb_u32(b, tag);
	pb_u64(b, 0);
	return b->len;
}

static void pb_end(struct pb *b, size_t start)
{
	put64(b->buf + start - 8, b->len - start);
}

static size_t pb_table(struct pb *b, uint32_t tag, uint32_t n, uint32_t rec)
{
	size_t start = pb_begin(b, tag);

	pb_u32(b, n);
	pb_u32(b, rec);
	return start;
}

static void pb_pad(struct pb *b, size_t start, size_t used, uint32_t rec)
{
	while (rec < 4096 && b->len - start < used + rec)
		pb_u8(b, 0xaa);
}

/* Knobs over a small valid payload; each bad value must be rejected. */
struct knobs {
	uint32_t version; /* of the header; the layout of procs follows it */
	bool global; /* write a global section */
	uint32_t global_len;
	uint32_t meta_version, meta_command, meta_extra;
	const char *str;
	uint32_t str_len, nstrings;
	uint32_t proc_rec, proc_command;
	uint32_t module_path, build_id_len;
	uint32_t frame_module, frame_function, frame_rec;
	uint32_t stack_frame, stack_first, stack_nframes;
	uint32_t trace_count, trace_rec, trace_stack;
	uint8_t domain;
	bool unknown_section, dup_meta, no_meta, dup_traces;
};

static const struct knobs good = {
	.version = HS_FORMAT_VERSION,
	.global = true,
	.global_len = 6 * 8,
	.meta_version = HS_FORMAT_VERSION,
	.meta_command = 0,
	.str = "libc",
	.str_len = 4,
	.nstrings = 3,
	.proc_rec = 97,
	.proc_command = 1,
	.module_path = 2,
	.build_id_len = 20,
	.frame_module = 0,
	.frame_function = 1,
	.frame_rec = 25,
	.stack_frame = 0,
	.stack_first = 0,
	.stack_nframes = 1,
	.trace_count = 1,
	.trace_rec = 41,
	.trace_stack = 0,
	.domain = HS_DOMAIN_MMAP,
};

static void build_payload(struct pb *b, const struct knobs *k)
{
	static const char *const strs[] = { "./app", "main" };
	size_t sec;
	uint32_t i;

	if (k->unknown_section) {
		sec = pb_begin(b, 1000);
		pb_bytes(b, "later", 5);
		pb_end(b, sec);
	}
	for (i = 0; i < (k->no_meta ? 0u : k->dup_meta ? 2u : 1u); i++) {
		sec = pb_begin(b, 1);
		pb_u32(b, k->meta_version);
		pb_u64(b, 123456789);
		pb_u32(b, k->meta_command);
		pb_u32(b, HS_NONE);
		pb_u32(b, 64);
		pb_u64(b, 0);
		pb_u64(b, 1 << 20);
		pb_u32(b, 5);
		for (uint32_t x = 0; x < k->meta_extra; x++)
			pb_u8(b, 0x55);
		pb_end(b, sec);
	}

	sec = pb_begin(b, 2);
	pb_u32(b, k->nstrings);
	for (i = 0; i < 2; i++) {
		pb_u32(b, (uint32_t)strlen(strs[i]));
		pb_bytes(b, strs[i], strlen(strs[i]));
	}
	pb_u32(b, k->str_len);
	pb_bytes(b, k->str, k->str_len);
	pb_end(b, sec);

	/* version 1 has lost_events after the counters */
	sec = pb_table(b, 3, 1, k->proc_rec);
	pb_u32(b, 4242);
	pb_u32(b, k->proc_command);
	pb_u8(b, 0x81); /* exited, and a flag from the future */
	for (i = 0; i < (k->version == 1 ? 12u : 11u); i++)
		pb_u64(b, 1000 + i);
	pb_pad(b, sec + 8, 0, k->proc_rec);
	pb_end(b, sec);

	if (k->global) {
		sec = pb_begin(b, 9);
		for (i = 0; i < k->global_len / 8; i++)
			pb_u64(b, 2000 + i);
		while (b->len - sec < k->global_len)
			pb_u8(b, 0x77);
		pb_end(b, sec);
	}

	sec = pb_table(b, 4, 1, 37);
	pb_u32(b, k->module_path);
	pb_u8(b, (uint8_t)k->build_id_len);
	for (i = 0; i < 32; i++)
		pb_u8(b, (uint8_t)(i + 1));
	pb_end(b, sec);

	sec = pb_table(b, 5, 1, k->frame_rec);
	pb_u32(b, k->frame_module);
	pb_u32(b, k->frame_function);
	pb_u32(b, HS_NONE);
	pb_u32(b, 0);
	pb_u64(b, 0x4000);
	pb_u8(b, 1);
	pb_pad(b, sec + 8, 0, k->frame_rec);
	pb_end(b, sec);

	sec = pb_table(b, 6, 1, 4);
	pb_u32(b, k->stack_frame);
	pb_end(b, sec);

	sec = pb_table(b, 7, 1, 8);
	pb_u32(b, k->stack_first);
	pb_u32(b, k->stack_nframes);
	pb_end(b, sec);

	for (int rep = 0; rep < (k->dup_traces ? 2 : 1); rep++) {
		sec = pb_table(b, 8, k->trace_count, k->trace_rec);
		pb_u64(b, 0xabc000);
		pb_u64(b, 4096);
		pb_u64(b, 99);
		pb_u32(b, 4242);
		pb_u32(b, 4243);
		pb_u32(b, k->trace_stack);
		pb_u32(b, 80);
		pb_u8(b, k->domain);
		pb_pad(b, sec + 8, 0, k->trace_rec);
		pb_end(b, sec);
	}
}

static struct hs_snapshot *parse_knobs(const struct knobs *k, char *err,
				       size_t errlen)
{
	struct pb b = { 0 };
	struct hs_snapshot *s;
	uint8_t *f;
	size_t len;

	build_payload(&b, k);
	f = seal_version(b.buf, b.len, k->version, &len);
	s = hs_snapfile_parse(f, len, err, errlen);
	free(f);
	free(b.buf);
	return s;
}

static void check_handmade(const struct hs_snapshot *s, const struct knobs *k)
{
	ASSERT_EQ(s->format_version, k->version, "format_version");
	ASSERT_EQ(s->time_ns, 123456789, "time_ns");
	ASSERT_EQ(s->kernel, HS_NONE, "kernel");
	ASSERT_EQ(s->tracer_memory, 1 << 20, "tracer_memory");
	ASSERT_EQ(s->seq, 5, "seq");
	ASSERT_EQ(s->nstrings, 3, "nstrings");
	ASSERT_STREQ(hs_snapshot_str(s, 2), "libc", "string 2");
	ASSERT_EQ(s->nprocs, 1, "nprocs");
	ASSERT_EQ(s->procs[0].exited, 1, "exited");
	ASSERT_EQ(s->procs[0].counters.current, 1000, "current");
	ASSERT_EQ(s->procs[0].counters.bytes_allocated, 1006,
		  "bytes_allocated");
	ASSERT_EQ(s->procs[0].counters.unknown_frees, 1010, "unknown_frees");
	if (k->version == 1) {
		/* its lost_events are global; a global section is not its */
		ASSERT_EQ(s->global.events_lost, 1011, "v1 lost_events");
		ASSERT_EQ(s->global.proc_map_full, 0, "v1 proc_map_full");
		ASSERT_EQ(s->global.stacks_missing, 0, "v1 stacks_missing");
	} else {
		ASSERT_EQ(s->global.proc_map_full, 2000, "proc_map_full");
		ASSERT_EQ(s->global.events_lost, 2003, "events_lost");
		ASSERT_EQ(s->global.stacks_missing, 2004, "stacks_missing");
	}
	ASSERT_EQ(s->modules[0].build_id_len, 20, "build_id_len");
	ASSERT_EQ(s->modules[0].build_id[19], 20, "build_id");
	ASSERT_EQ(s->frames[0].inlined, 1, "inlined");
	ASSERT_EQ(s->frames[0].file, HS_NONE, "file");
	ASSERT_EQ(s->frames[0].offset, 0x4000, "offset");
	ASSERT_EQ(s->ntraces, 1, "ntraces");
	ASSERT_EQ(s->traces[0].addr, 0xabc000, "addr");
	ASSERT_EQ(s->traces[0].tid, 4243, "tid");
	ASSERT_EQ(s->traces[0].total_nframe, 80, "total_nframe");
	ASSERT_EQ(s->traces[0].domain, HS_DOMAIN_MMAP, "domain");
}

static void test_handmade_payloads(void)
{
	struct {
		const char *name;
		struct knobs k;
		const char *want;
	} bad[] = {
		{ "meta version", good, "meta says format version" },
		{ "no meta", good, "no meta section" },
		{ "duplicate meta", good, "duplicate meta" },
		{ "duplicate traces", good, "duplicate traces" },
		{ "meta command", good, "command or kernel" },
		{ "NUL in a string", good, "bad strings" },
		{ "string past the end", good, "bad strings" },
		{ "huge string count", good, "bad strings" },
		{ "string count short", good, "bad strings" },
		{ "short proc record", good, "bad procs" },
		{ "proc command", good, "proc 0: command" },
		{ "module path HS_NONE", good, "module 0" },
		{ "module path", good, "module 0" },
		{ "build-id too long", good, "build-id of 33 bytes" },
		{ "frame module", good, "frame 0" },
		{ "frame function", good, "frame 0" },
		{ "short frame record", good, "bad frames" },
		{ "stack frame index", good, "stack frame 0" },
		{ "stack range", good, "stack 0" },
		{ "stack range overflow", good, "stack 0" },
		{ "huge trace count", good, "bad traces" },
		{ "max trace count", good, "bad traces" },
		{ "zero trace count", good, "bad traces" },
		{ "huge trace record", good, "bad traces" },
		{ "trace stack", good, "trace 0: stack 1" },
		{ "trace stack HS_NONE", good, "trace 0: stack 4294967295" },
		{ "trace domain", good, "trace 0: unknown domain 3" },
		{ "short global section", good, "global section too short" },
		{ "version 1 proc record", good, "bad procs" },
		{ "short version 1 proc record", good, "bad procs" },
		{ "version 1 meta in version 2", good,
		  "meta says format version 1" },
	};
	struct knobs future = good, v1 = good;
	struct hs_snapshot *s;
	struct pb b = { 0 };
	char err[256] = "";
	uint8_t *f;
	size_t i = 0, len;

	bad[i++].k.meta_version = 1;
	bad[i++].k.no_meta = true;
	bad[i++].k.dup_meta = true;
	bad[i++].k.dup_traces = true;
	bad[i++].k.meta_command = 3;
	bad[i].k.str = "li\0c";
	bad[i++].k.str_len = 4;
	bad[i++].k.str_len = 5;
	bad[i++].k.nstrings = 0xfffffff0u;
	bad[i++].k.nstrings = 2;
	bad[i++].k.proc_rec = 96;
	bad[i++].k.proc_command = 3;
	bad[i++].k.module_path = HS_NONE;
	bad[i++].k.module_path = 3;
	bad[i++].k.build_id_len = 33;
	bad[i++].k.frame_module = 1;
	bad[i++].k.frame_function = 3;
	bad[i++].k.frame_rec = 24;
	bad[i++].k.stack_frame = 1;
	bad[i++].k.stack_nframes = 2;
	bad[i].k.stack_first = UINT32_MAX;
	bad[i++].k.stack_nframes = 2;
	bad[i++].k.trace_count = 0x10000000u;
	bad[i++].k.trace_count = UINT32_MAX;
	bad[i++].k.trace_count = 0;
	bad[i++].k.trace_rec = UINT32_MAX;
	bad[i++].k.trace_stack = 1;
	bad[i++].k.trace_stack = HS_NONE;
	bad[i++].k.domain = HS_DOMAIN_COUNT;
	bad[i++].k.global_len = 39;
	/* a version 1 file: its procs records are longer */
	bad[i].k.version = bad[i].k.meta_version = 1;
	bad[i++].k.proc_rec = 97;
	bad[i].k.version = bad[i].k.meta_version = 1;
	bad[i++].k.proc_rec = 104;
	bad[i].k.meta_version = 1;
	bad[i++].k.proc_rec = 105;
	if (!ASSERT_EQ(i, sizeof(bad) / sizeof(bad[0]), "table complete"))
		return;

	s = parse_knobs(&good, err, sizeof(err));
	if (ASSERT_TRUE(s, err))
		check_handmade(s, &good);
	hs_snapshot_free(s);

	/* Version 1: lost_events in procs, no global section (one is ignored) */
	v1.version = v1.meta_version = 1;
	v1.proc_rec = 105;
	v1.global = false;
	s = parse_knobs(&v1, err, sizeof(err));
	if (ASSERT_TRUE(s, err))
		check_handmade(s, &v1);
	hs_snapshot_free(s);
	v1.global = true;
	v1.global_len = 39;
	v1.proc_rec = 130;
	s = parse_knobs(&v1, err, sizeof(err));
	if (ASSERT_TRUE(s, err))
		check_handmade(s, &v1);
	hs_snapshot_free(s);

	/* What a later version may add: sections, fields, flag bits. */
	future.unknown_section = true;
	future.meta_extra = 9;
	future.proc_rec = 130;
	future.frame_rec = 40;
	future.trace_rec = 49;
	future.global_len = 48;
	s = parse_knobs(&future, err, sizeof(err));
	if (ASSERT_TRUE(s, err))
		check_handmade(s, &future);
	hs_snapshot_free(s);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pb p = { 0 };

		build_payload(&p, &bad[i].k);
		f = seal_version(p.buf, p.len, bad[i].k.version, &len);
		expect_reject(f, len, bad[i].want, bad[i].name);
		free(f);
		free(p.buf);
	}

	build_payload(&b, &good);
	put64(b.buf + 4, b.len);
	f = seal(b.buf, b.len, &len);
	expect_reject(f, len, "overruns the payload", "section too long");
	free(f);
	put64(b.buf + 4, UINT64_MAX);
	f = seal(b.buf, b.len, &len);
	expect_reject(f, len, "overruns the payload", "section length max");
	free(f);
	put64(b.buf + 4, 44);
	pb_bytes(&b, "\1\0\0\0\0", 5);
	f = seal(b.buf, b.len, &len);
	expect_reject(f, len, "truncated section header", "stray bytes");
	free(f);
	free(b.buf);
}

static void test_million_traces(void)
{
	const size_t ntraces = 1000000;
	struct hs_snapshot *s = hs_snapshot_new(), *r = NULL;
	char *dir = make_tmpdir(), *path = join(dir, "big.hsnap");
	uint32_t frames[5000], stacks[1000], mod, stk[16];
	uint64_t rng = 7, t0, t1, t2;
	char err[256] = "", name[64];
	struct hs_frame fr = { 0 };
	struct hs_trace t = { 0 };
	struct stat st;
	size_t i;

	mod = hs_snapshot_add_module(
		s, "/usr/bin/big", (const uint8_t *)"0123456789abcdefghij", 20);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "function_%zu", i);
		fr.module = mod;
		fr.function = hs_snapshot_intern(s, name);
		snprintf(name, sizeof(name), "/src/file_%zu.c", i / 20);
		fr.file = hs_snapshot_intern(s, name);
		fr.line = (uint32_t)(i % 500) + 1;
		fr.offset = 0x1000 + 16 * i;
		fr.inlined = i % 7 == 0;
		frames[i] = hs_snapshot_add_frame(s, &fr);
	}
	for (i = 0; i < 1000; i++) {
		for (int k = 0; k < 16; k++)
			stk[k] = frames[xorshift(&rng) % 5000];
		stacks[i] =
			hs_snapshot_add_stack(s, stk, 1 + (uint32_t)(i % 16));
	}
	for (i = 0; i < ntraces; i++) {
		t.addr = 0x7f0000000000ull + 64 * i;
		t.size = 16 + xorshift(&rng) % 4096;
		t.time_ns = 1795304400000000000ull + i * 1000;
		t.pid = 4000 + (uint32_t)(i % 4);
		t.tid = 5000 + (uint32_t)(i % 64);
		t.stack = stacks[xorshift(&rng) % 1000];
		t.total_nframe = 20;
		t.domain = i % 10 ? HS_DOMAIN_HEAP : HS_DOMAIN_MMAP;
		if (hs_snapshot_add_trace(s, &t))
			break;
	}
	hs_snapshot_seal(s);
	if (!ASSERT_EQ(s->ntraces, ntraces, "built"))
		goto out;

	t0 = now_ns();
	if (!ASSERT_EQ(hs_snapfile_write(s, path, err, sizeof(err)), 0, err))
		goto out;
	t1 = now_ns();
	r = hs_snapfile_read(path, err, sizeof(err));
	t2 = now_ns();
	if (!ASSERT_TRUE(r, err))
		goto out;
	snapshots_eq(s, r);
	stat(path, &st);
	printf("  1M traces: write %.0f ms, read %.0f ms, file %.1f MB\n",
	       (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
	       (double)st.st_size / 1e6);
out:
	hs_snapshot_free(s);
	hs_snapshot_free(r);
	free(path);
	rm_tree(dir);
}

/* The writer's CRC, in pieces and combined, is the bitwise one. */
static void test_crc32c_combine(void)
{
	static uint8_t buf[70000];
	uint64_t rng = 11;
	size_t cuts[] = { 0, 1, 7, 8, 9, 4095, 65536, sizeof(buf) };
	uint32_t whole;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)xorshift(&rng);
	whole = crc32c(buf, sizeof(buf));
	ASSERT_EQ(hs_crc32c(buf, sizeof(buf)), whole, "slicing by 8");
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		size_t cut = cuts[k];

		if (!ASSERT_EQ(hs_crc32c_combine(
				       hs_crc32c(buf, cut),
				       hs_crc32c(buf + cut, sizeof(buf) - cut),
				       sizeof(buf) - cut),
			       whole, "combined"))
			fprintf(stderr, "  cut at %zu\n", cut);
	}
}

/* The zstd frames of a file's compressed payload, in *sizes (at most max). */
static size_t frames_of(const uint8_t *f, size_t len, size_t *sizes, size_t max)
{
	size_t n = 0, off = HDR_LEN, sz;

	while (off < len && n < max) {
		sz = ZSTD_findFrameCompressedSize(f + off, len - off);
		if (ZSTD_isError(sz))
			return 0;
		sizes[n++] = sz;
		off += sz;
	}
	return off == len ? n : 0;
}

static bool is_skippable(const uint8_t *p)
{
	return (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d &&
	       p[3] == 0x18;
}

/*
 * Traces appended one by one, 100,000 of them (the writer compresses them
 * in many pieces), read back as if the snapshot had held them: the file
 * is a frame of the traces section's header, a skippable frame, then the
 * records and the other sections.
 */
static void test_streamed_traces(void)
{
	const size_t n = 100000;
	struct hs_snapshot *tables = make_sample(), *want = make_sample();
	char *dir = make_tmpdir(), *path = join(dir, "stream.hsnap");
	struct hs_snapshot *r = NULL;
	struct hs_snapwriter *w;
	uint8_t *buf = NULL, head[32];
	size_t len = 0, sizes[4];
	char err[256] = "";
	uint64_t rng = 5;

	free(want->traces);
	want->traces = NULL;
	want->ntraces = want->cap.traces = 0;
	w = hs_snapwriter_open(path, err, sizeof(err));
	if (!ASSERT_TRUE(w, err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct hs_trace t = {
			.addr = 0x7f0000000000ull + 32 * i,
			.size = 1 + xorshift(&rng) % 100000,
			.time_ns = 1795304400000000000ull + i,
			.pid = 1000 + (uint32_t)(i % 3),
			.tid = (uint32_t)i,
			.stack = (uint32_t)(xorshift(&rng) % tables->nstacks),
			.total_nframe = (uint32_t)(i % 128),
			.domain = (uint8_t)(i % HS_DOMAIN_COUNT),
			.flags = i % 5 ? 0 : HS_TRACE_ESTIMATE,
			.blocks = (uint32_t)(i % 7),
		};

		hs_snapwriter_trace(w, &t);
		hs_snapshot_add_trace(want, &t);
	}
	ASSERT_EQ(hs_snapwriter_count(w), n, "count");
	if (!ASSERT_EQ(hs_snapwriter_close(w, tables, err, sizeof(err)), 0,
		       err))
		goto out;
	ASSERT_EQ(count_entries(dir), 1, "no temporary file left");
	r = hs_snapfile_read(path, err, sizeof(err));
	if (!ASSERT_TRUE(r, err) || !snapshots_eq(want, r))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!ASSERT_EQ(r->traces[i].flags, want->traces[i].flags,
			       "flags") ||
		    !ASSERT_EQ(r->traces[i].blocks, want->traces[i].blocks,
			       "blocks"))
			break;

	buf = read_bytes(path, &len);
	if (!ASSERT_EQ(frames_of(buf, len, sizes, 4), 3, "three frames"))
		goto out;
	ASSERT_EQ(ZSTD_decompress(head, sizeof(head), buf + HDR_LEN, sizes[0]),
		  20, "the first frame is the traces section's header");
	ASSERT_EQ(head[0], 8, "traces tag");
	ASSERT_EQ(head[12] | head[13] << 8 | head[14] << 16 | head[15] << 24, n,
		  "traces count");
	ASSERT_TRUE(is_skippable(buf + HDR_LEN + sizes[0]), "padding");
out:
	hs_snapshot_free(tables);
	hs_snapshot_free(want);
	hs_snapshot_free(r);
	free(buf);
	free(path);
	rm_tree(dir);
}

/* What the streaming writer refuses, and a writer given up on. */
static void test_streamed_failures(void)
{
	struct hs_snapshot *s = make_sample();
	char *dir = make_tmpdir(), *path = join(dir, "bad.hsnap"), *missing;
	struct hs_trace t = { .addr = 1, .size = 2 };
	struct hs_snapwriter *w;
	char err[256] = "", want[512];

	w = hs_snapwriter_open(path, err, sizeof(err));
	t.stack = (uint32_t)s->nstacks;
	hs_snapwriter_trace(w, &t);
	ASSERT_EQ(hs_snapwriter_close(w, s, err, sizeof(err)), -1, "stack");
	ASSERT_TRUE(strstr(err, "invalid snapshot (a trace's stack 3 out of "
				"range)"),
		    err);

	w = hs_snapwriter_open(path, err, sizeof(err));
	t.stack = 0;
	hs_snapwriter_trace(w, &t);
	t.domain = HS_DOMAIN_COUNT;
	hs_snapwriter_trace(w, &t);
	ASSERT_EQ(hs_snapwriter_close(w, s, err, sizeof(err)), -1, "domain");
	ASSERT_TRUE(strstr(err, "invalid snapshot (trace 1: unknown domain"),
		    err);

	w = hs_snapwriter_open(path, err, sizeof(err));
	ASSERT_EQ(count_entries(dir), 1, "the temporary file");
	hs_snapwriter_abort(w);
	ASSERT_EQ(count_entries(dir), 0, "nothing left");

	missing = join(dir, "missing/x.hsnap");
	ASSERT_TRUE(!hs_snapwriter_open(missing, err, sizeof(err)), "no dir");
	snprintf(want, sizeof(want),
		 "cannot write %s: No such file or directory", missing);
	ASSERT_STREQ(err, want, "no dir message");
	free(missing);
	hs_snapshot_free(s);
	free(path);
	rm_tree(dir);
}

static char *fixture(const char *name)
{
	char *src = strdup(__FILE__), *path = NULL;

	if (src && asprintf(&path, "%s/fixtures/%s", dirname(src), name) < 0)
		path = NULL;
	free(src);
	return path;
}

static uint64_t jget(json_object *j, const char *a, const char *b)
{
	json_object *o = json_object_object_get(j, a);

	return json_object_get_uint64(b ? json_object_object_get(o, b) : o);
}

/*
 * A version 2 file of the writer that made the payload in one piece (one
 * zstd frame, the traces among the other sections) reads with the figures
 * its recorder printed, and written again, reads back the same.
 */
static void test_single_frame_version2_file(void)
{
	char *path = fixture("v2_single_frame.hsnap");
	char *info = fixture("v2_single_frame.info.json");
	char *dir = make_tmpdir(), *again = join(dir, "again.hsnap");
	struct hs_snapshot *s = NULL, *r = NULL;
	json_object *j = info ? json_object_from_file(info) : NULL;
	uint64_t bytes[HS_DOMAIN_COUNT] = { 0 }, count[HS_DOMAIN_COUNT] = { 0 };
	struct hs_counters tot;
	uint8_t *buf = NULL;
	size_t len = 0, sizes[4];
	char err[256] = "";

	buf = read_bytes(path, &len);
	if (!ASSERT_TRUE(buf && j, "fixture") ||
	    !ASSERT_EQ(frames_of(buf, len, sizes, 4), 1, "one frame"))
		goto out;
	s = hs_snapfile_read(path, err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	ASSERT_EQ(s->format_version, 2, "format_version");
	hs_snapshot_totals(s, &tot);
	ASSERT_EQ(tot.current, jget(j, "current", NULL), "current");
	ASSERT_EQ(tot.count, jget(j, "count", NULL), "count");
	ASSERT_EQ(s->ntraces, jget(j, "traces", NULL), "traces");
	for (size_t i = 0; i < s->ntraces; i++) {
		bytes[s->traces[i].domain] += s->traces[i].size;
		count[s->traces[i].domain] += hs_trace_blocks(&s->traces[i]);
	}
	for (int d = 0; d < HS_DOMAIN_COUNT; d++) {
		json_object *o = json_object_object_get(
			json_object_object_get(j, "domains"),
			hs_domain_name((unsigned int)d));

		ASSERT_EQ(bytes[d], jget(o, "current", NULL), "domain bytes");
		ASSERT_EQ(count[d], jget(o, "count", NULL), "domain count");
	}
	ASSERT_TRUE(count[HS_DOMAIN_HEAP] && count[HS_DOMAIN_MMAP],
		    "heap and mmap traces");
	if (!ASSERT_EQ(hs_snapfile_write(s, again, err, sizeof(err)), 0, err))
		goto out;
	r = hs_snapfile_read(again, err, sizeof(err));
	if (ASSERT_TRUE(r, err))
		snapshots_eq(s, r);
out:
	json_object_put(j);
	hs_snapshot_free(s);
	hs_snapshot_free(r);
	free(buf);
	free(path);
	free(info);
	free(again);
	rm_tree(dir);
}

int main(void)
{
	RUN_TEST(test_crc32c_reference);
	RUN_TEST(test_roundtrip);
	RUN_TEST(test_empty_snapshot);
	RUN_TEST(test_read_snapshot_extends);
	RUN_TEST(test_mode_and_overwrite);
	RUN_TEST(test_write_failures);
	RUN_TEST(test_check_path);
	RUN_TEST_OR_SKIP(test_write_enospc);
	RUN_TEST(test_truncation);
	RUN_TEST(test_bit_flips);
	RUN_TEST(test_fuzz_behind_checksums);
	RUN_TEST(test_not_snapshots);
	RUN_TEST(test_bad_headers);
	RUN_TEST(test_handmade_payloads);
	RUN_TEST(test_million_traces);
	RUN_TEST(test_crc32c_combine);
	RUN_TEST(test_streamed_traces);
	RUN_TEST(test_streamed_failures);
	RUN_TEST(test_single_frame_version2_file);
	return TEST_EXIT();
}
