// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The analysis paths and the payload wrapper shared by the fuzz targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fuzz.h"
#include "render.h"
#include "stats.h"

#define HDR_LEN 40

/* libFuzzer's mutator; a weak stub lets snaptool link without libFuzzer. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
	__attribute__((weak));

static FILE *devnull(void)
{
	static FILE *f;

	if (!f) {
		f = fopen("/dev/null", "w");
		if (!f)
			abort();
	}
	return f;
}

/* The totals of a top without filters are those of every trace (a pool
 * trace stands for its blocks). */
static void check_totals(const struct hs_snapshot *s, const struct hs_stats *st)
{
	uint64_t size = 0, count = 0;
	size_t i;

	if (st->cumulative || s->sample_bytes)
		return;
	for (i = 0; i < s->ntraces; i++) {
		size += s->traces[i].size;
		count += hs_trace_blocks(&s->traces[i]);
	}
	if (st->total_count != count || st->total_size != size)
		abort();
}

static void render_both(const struct hs_stats *st, size_t limit, bool source)
{
	static const char *const warnings[] = { "fuzz warning" };
	struct hs_render_opts o = {
		.limit = limit,
		.source = source,
		.warnings = warnings,
		.nwarnings = 1,
	};

	hs_render_stats(devnull(), st, &o);
	o.json = true;
	hs_render_stats(devnull(), st, &o);
}

static void run_query(const struct hs_snapshot *s, const struct hs_query *q,
		      bool filtered)
{
	struct hs_stats st;

	if (!hs_stats_top(s, q, &st)) {
		if (!filtered)
			check_totals(s, &st);
		render_both(&st, q->cumulative ? 0 : 3,
			    q->key == HS_KEY_LINENO);
		hs_stats_free(&st);
	}
	if (!hs_stats_diff(s, s, q, &st)) {
		if (st.total_size_diff || st.total_count_diff)
			abort(); /* a snapshot never differs from itself */
		render_both(&st, 0, false);
		hs_stats_free(&st);
	}
}

static void lookup(const struct hs_snapshot *s, uint64_t addr)
{
	struct hs_render_opts o = { .limit = 10 };

	hs_render_lookup(devnull(), s, addr, &o);
	o.json = true;
	hs_render_lookup(devnull(), s, addr, &o);
}

void fuzz_analyze(const struct hs_snapshot *s)
{
	struct hs_filter filters[3];
	struct hs_render_opts o = { .limit = 10 };
	struct hs_query q = { .domain = -1 };
	size_t i;
	int key;

	for (key = HS_KEY_LINENO; key <= HS_KEY_TRACEBACK; key++) {
		q.key = (enum hs_key)key;
		q.cumulative = false;
		run_query(s, &q, false);
		q.cumulative = true;
		run_query(s, &q, false);
	}

	/* filters: an include and an exclude with a line, every frame */
	if (hs_filter_parse("*.c", true, &filters[0]) ||
	    hs_filter_parse("/usr/*:42", false, &filters[1]) ||
	    hs_filter_parse("<unknown>", false, &filters[2]))
		abort();
	q.key = HS_KEY_TRACEBACK;
	q.cumulative = false;
	q.filters = filters;
	q.nfilters = 3;
	q.all_frames = true;
	q.domain = HS_DOMAIN_HEAP;
	run_query(s, &q, true);
	q.all_frames = false;
	q.domain = HS_DOMAIN_MMAP;
	q.key = HS_KEY_FILENAME;
	run_query(s, &q, true);

	hs_render_info(devnull(), s, &o);
	o.json = true;
	hs_render_info(devnull(), s, &o);

	for (i = 0; i < s->ntraces && i < 4; i++) {
		lookup(s, s->traces[i].addr);
		lookup(s, s->traces[i].addr + s->traces[i].size - 1);
		lookup(s, s->traces[i].addr + s->traces[i].size);
	}
	lookup(s, 0);
	lookup(s, UINT64_MAX);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

/* CRC-32C, bit by bit: small and independent of the reader's own. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	uint32_t crc = ~0u;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
	}
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return ~crc;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The version a leading meta section gives, when this heapsnap reads it. */
static uint32_t payload_version(const uint8_t *payload, size_t len)
{
	uint32_t v =
		len >= 16 && get_u32(payload) == 1 ? get_u32(payload + 12) : 0;

	return v >= HS_FORMAT_OLDEST && v <= HS_FORMAT_VERSION ?
		       v :
		       HS_FORMAT_VERSION;
}

uint8_t *fuzz_wrap_payload(const uint8_t *payload, size_t len, size_t *file_len)
{
	size_t bound = ZSTD_compressBound(len), clen;
	uint8_t *f = malloc(HDR_LEN + bound);

	if (!f)
		return NULL;
	clen = ZSTD_compress(f + HDR_LEN, bound, payload, len, 1);
	if (ZSTD_isError(clen)) {
		free(f);
		return NULL;
	}
	memcpy(f, "HSNAP\r\n\x1a", 8);
	put_u32(f + 8, payload_version(payload, len));
	put_u32(f + 12, 1);
	put_u64(f + 16, len);
	put_u64(f + 24, clen);
	put_u32(f + 32, crc32c(f + HDR_LEN, clen));
	put_u32(f + 36, crc32c(f, 36));
	*file_len = HDR_LEN + clen;
	return f;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void fix_crcs(uint8_t *data, size_t size)
{
	put_u32(data + 32, crc32c(data + HDR_LEN, size - HDR_LEN));
	put_u32(data + 36, crc32c(data, 36));
}

/* Mutates the payload of a valid file; 0 when data is not one. */
static size_t mutate_payload(uint8_t *data, size_t size, size_t max_size)
{
	uint64_t raw_len = get_u64(data + 16);
	size_t n, cap, len, file_len;
	uint8_t *raw, *file;

	if (raw_len > (1u << 20) || !LLVMFuzzerMutate)
		return 0;
	cap = raw_len + 4096;
	raw = malloc(cap);
	if (!raw)
		return 0;
	n = ZSTD_decompress(raw, cap, data + HDR_LEN, size - HDR_LEN);
	if (ZSTD_isError(n)) {
		free(raw);
		return 0;
	}
	len = LLVMFuzzerMutate(raw, n, cap);
	file = fuzz_wrap_payload(raw, len, &file_len);
	free(raw);
	if (!file || file_len > max_size) {
		free(file);
		return 0;
	}
	memcpy(data, file, file_len);
	free(file);
	return file_len;
}

size_t fuzz_mutate_file(uint8_t *data, size_t size, size_t max_size,
			unsigned int seed)
{
	size_t n;

	if (!LLVMFuzzerMutate)
		return size;
	switch (seed % 3) {
	case 0:
		return LLVMFuzzerMutate(data, size, max_size);
	case 1:
		n = LLVMFuzzerMutate(data, size, max_size);
		if (n >= HDR_LEN)
			fix_crcs(data, n);
		return n;
	default:
		if (size > HDR_LEN && !memcmp(data, "HSNAP\r\n\x1a", 8)) {
			n = mutate_payload(data, size, max_size);
			if (n)
				return n;
		}
		return LLVMFuzzerMutate(data, size, max_size);
	}
}
