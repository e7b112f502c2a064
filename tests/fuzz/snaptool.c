// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A helper for the fuzz corpus and the malformed-file tests:
 *
 *   snaptool seeds DIR         writes the builder-made seeds: small valid
 *                              snapshots, broken copies of them, and their
 *                              payloads, into DIR/fuzz_parse, DIR/fuzz_analyze
 *                              and DIR/fuzz_payload
 *   snaptool unwrap FILE OUT   writes the uncompressed payload of FILE to OUT
 *   snaptool wrap PAYLOAD OUT  wraps a payload into a file with a valid
 *                              header, checksums and zstd frame
 *
 * tests/fuzz/make-corpus runs it and adds snapshots of real recordings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "fuzz.h"
#include "snapfile.h"
#include "snapshot.h"

#define HDR_LEN 40

static const char *const targets[] = { "fuzz_parse", "fuzz_analyze" };

static void die(const char *what)
{
	fprintf(stderr, "snaptool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		die(path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf)
		die("malloc");
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		die(path);
}

static uint8_t *unwrap(const uint8_t *f, size_t len, size_t *plen)
{
	uint64_t raw = 0;
	uint8_t *p;
	size_t n;

	if (len < HDR_LEN)
		return NULL;
	for (int i = 7; i >= 0; i--)
		raw = raw << 8 | f[16 + i];
	p = malloc(raw ? raw : 1);
	if (!p)
		die("malloc");
	n = ZSTD_decompress(p, raw, f + HDR_LEN, len - HDR_LEN);
	if (ZSTD_isError(n)) {
		free(p);
		return NULL;
	}
	*plen = n;
	return p;
}

/* Writes name into the directories of the file targets. */
static void put_seed(const char *dir, const char *name, const void *buf,
		     size_t len)
{
	char path[4096];

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, targets[i], name);
		write_file(path, buf, len);
	}
}

static void put_payload(const char *dir, const char *name, const void *buf,
			size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/fuzz_payload/%s", dir, name);
	write_file(path, buf, len);
}

static uint32_t frame(struct hs_snapshot *s, uint32_t module, const char *fn,
		      const char *file, uint32_t line, uint64_t off,
		      bool inlined)
{
	struct hs_frame f = {
		.module = module,
		.function = hs_snapshot_intern(s, fn),
		.file = hs_snapshot_intern(s, file),
		.line = line,
		.offset = off,
		.inlined = inlined,
	};

	return hs_snapshot_add_frame(s, &f);
}

static void trace(struct hs_snapshot *s, uint32_t stack, uint64_t addr,
		  uint64_t size, uint8_t domain, uint32_t pid)
{
	struct hs_trace t = {
		.addr = addr,
		.size = size,
		.time_ns = 1795304400000000000ull - addr,
		.pid = pid,
		.tid = pid + 1,
		.stack = stack,
		.total_nframe = 70,
		.domain = domain,
	};

	hs_snapshot_add_trace(s, &t);
}

static void proc(struct hs_snapshot *s, uint32_t pid, const char *cmd,
		 uint64_t lost)
{
	struct hs_proc p = {
		.pid = pid,
		.command = hs_snapshot_intern(s, cmd),
		.exited = pid & 1,
	};

	p.counters.current = 5000;
	p.counters.count = 5;
	p.counters.peak = 9000;
	p.counters.interval_peak = 7000;
	p.counters.allocs = 50;
	p.counters.frees = 45;
	p.counters.bytes_allocated = 90000;
	p.counters.map_full = lost;
	p.counters.stack_failures = lost;
	p.counters.unknown_frees = lost;
	hs_snapshot_add_proc(s, &p);
}

/* kind 0: empty; 1: small; 2: small, sampled; 3: one deep stack */
static struct hs_snapshot *make(int kind)
{
	struct hs_snapshot *s = hs_snapshot_new();
	uint32_t app, libc, f[64], st[3];
	static const uint8_t bid[20] = {
		1,  2,	3,  4,	5,  6,	7,  8,	9,  10,
		11, 12, 13, 14, 15, 16, 17, 18, 19, 20
	};

	if (!s)
		die("hs_snapshot_new");
	s->time_ns = 1795304400000000000ull;
	s->command = hs_snapshot_intern(s, "./app --flag");
	s->kernel = hs_snapshot_intern(s, "6.18.0");
	s->traceback_limit = 64;
	s->tracer_memory = 1 << 20;
	s->seq = (uint32_t)kind;
	if (kind == 0) {
		proc(s, 100, "./app", 0);
		hs_snapshot_seal(s);
		return s;
	}
	app = hs_snapshot_add_module(s, "/usr/bin/app", bid, sizeof(bid));
	libc = hs_snapshot_add_module(s, "/lib/x86_64-linux-gnu/libc.so.6",
				      NULL, 0);
	if (kind == 3) {
		for (int i = 0; i < 64; i++) {
			char name[16];

			snprintf(name, sizeof(name), "fn%d", i);
			f[i] = frame(s, app, name, "/src/deep.c",
				     (uint32_t)(10 + i), 0x1000 + 16 * i,
				     i % 3 == 1);
		}
		st[0] = hs_snapshot_add_stack(s, f, 64);
		trace(s, st[0], 0x10000, 100, HS_DOMAIN_HEAP, 7);
		proc(s, 7, "./deep", 0);
		hs_snapshot_seal(s);
		return s;
	}
	if (kind == 2) {
		s->sample_bytes = 4096;
		s->global.proc_map_full = 1;
		s->global.events_lost = 3;
		s->global.stacks_missing = 2;
	}
	f[0] = frame(s, app, "parse_item", "/src/app/parse.c", 42, 0x1234,
		     false);
	f[1] = frame(s, app, "helper", "/src/app/util.h", 7, 0x1240, true);
	f[2] = frame(s, app, "main", "/src/app/main.c", 100, 0x1300, false);
	f[3] = frame(s, libc, "__libc_start_call_main", NULL, 0, 0x29d90,
		     false);
	f[4] = frame(s, libc, NULL, NULL, 0, 0x5000, false);
	f[5] = frame(s, HS_NONE, NULL, NULL, 0, 0x7fffdead, false);
	st[0] = hs_snapshot_add_stack(s, f, 4);
	st[1] = hs_snapshot_add_stack(s, (uint32_t[]){ f[1], f[2], f[3] }, 3);
	st[2] = hs_snapshot_add_stack(s, f + 4, 2);
	trace(s, st[0], 0x5555000000, 4096, HS_DOMAIN_HEAP, 100);
	trace(s, st[0], 0x5555001000, 4096, HS_DOMAIN_HEAP, 100);
	trace(s, st[1], 0x5555002000, 24, HS_DOMAIN_HEAP, 100);
	trace(s, st[2], 0x7f0000000000, 1 << 20, HS_DOMAIN_MMAP, 101);
	trace(s, st[2], 0x5555003000, 0, HS_DOMAIN_HEAP, 101);
	proc(s, 100, "./app --flag", kind == 2 ? 3 : 0);
	proc(s, 101, "./worker", 0);
	hs_snapshot_seal(s);
	return s;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void seeds(const char *dir)
{
	static const char *const names[] = { "empty.hsnap", "small.hsnap",
					     "sampled.hsnap", "deep.hsnap" };
	char path[4096], err[256], name[64];
	uint8_t *file, *payload, *bad;
	size_t len, plen, blen;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, targets[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/fuzz_payload", dir);
	mkdir(path, 0755);

	for (int k = 0; k < 4; k++) {
		struct hs_snapshot *s = make(k);

		snprintf(path, sizeof(path), "%s/fuzz_parse/%s", dir, names[k]);
		if (hs_snapfile_write(s, path, err, sizeof(err))) {
			fprintf(stderr, "snaptool: %s\n", err);
			exit(1);
		}
		hs_snapshot_free(s);
		file = read_file(path, &len);
		put_seed(dir, names[k], file, len);
		payload = unwrap(file, len, &plen);
		if (!payload)
			die("unwrap");
		snprintf(name, sizeof(name), "%.*s.payload",
			 (int)strlen(names[k]) - 6, names[k]);
		put_payload(dir, name, payload, plen);
		if (k != 1) {
			free(payload);
			free(file);
			continue;
		}

		/* broken copies of the small one */
		put_seed(dir, "broken-truncated-header", file, 20);
		put_seed(dir, "broken-truncated-payload", file, len / 2);
		bad = malloc(len);
		memcpy(bad, file, len);
		bad[len - 3] ^= 0x10;
		put_seed(dir, "broken-bitflip", bad, len);
		memcpy(bad, file, len);
		put32(bad + 8, HS_FORMAT_VERSION + 1);
		put_seed(dir, "broken-version", bad, len);
		free(bad);

		/* a payload whose strings claim four billion entries */
		bad = malloc(plen);
		memcpy(bad, payload, plen);
		for (size_t off = 0; off + 12 <= plen;) {
			uint32_t tag = bad[off] | bad[off + 1] << 8;
			uint64_t slen = 0;

			for (int j = 7; j >= 0; j--)
				slen = slen << 8 | bad[off + 4 + j];
			if (tag == 2) {
				put32(bad + off + 12, 0xfffffff0u);
				break;
			}
			off += 12 + slen;
		}
		put_payload(dir, "broken-huge-count.payload", bad, plen);
		free(file);
		file = fuzz_wrap_payload(bad, plen, &blen);
		put_seed(dir, "broken-huge-count", file, blen);
		put_payload(dir, "broken-truncated.payload", payload, plen / 3);
		free(bad);
		free(payload);
		free(file);
	}
}

int main(int argc, char **argv)
{
	uint8_t *file, *payload;
	size_t len, plen;

	if (argc == 4 && !strcmp(argv[1], "wrap")) {
		payload = read_file(argv[2], &plen);
		file = fuzz_wrap_payload(payload, plen, &len);
		if (!file)
			die("wrap");
		write_file(argv[3], file, len);
		free(payload);
		free(file);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "unwrap")) {
		file = read_file(argv[2], &len);
		payload = unwrap(file, len, &plen);
		if (!payload) {
			fprintf(stderr, "snaptool: %s: not a snapshot\n",
				argv[2]);
			return 1;
		}
		write_file(argv[3], payload, plen);
		free(payload);
		free(file);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "seeds")) {
		fprintf(stderr,
			"usage: snaptool seeds DIR | unwrap FILE OUT | wrap PAYLOAD OUT\n");
		return 2;
	}
	seeds(argv[2]);
	return 0;
}
