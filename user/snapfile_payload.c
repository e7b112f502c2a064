// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The payload of a snapshot file: a sequence of sections "u32 tag, u64
 * length, body" in any order, each known tag at most once. Readers skip
 * tags they do not know.
 *
 *   1 meta      u32 format_version, u64 time_ns, u32 command, u32 kernel,
 *               u32 traceback_limit, u64 sample_bytes, u64 tracer_memory,
 *               u32 seq
 *   2 strings   u32 count, then count times: u32 length, bytes (no NUL)
 *   9 global    the u64s of struct hs_global_counters (bpf/heapsnap.h) in
 *               their order: proc_map_full, nested_overflow,
 *               map_events_lost, events_lost, stacks_missing,
 *               py_codes_lost, mmap_calls_unseen, in_flight_lost (a
 *               reader takes what is there: the first version 2 files
 *               end at stacks_missing)
 *               (version 2 on)
 *
 * The other sections are tables: u32 count, u32 record size, records.
 *
 *   3 procs     u32 pid, u32 command, u8 flags (bit 0: exited; bit 1:
 *               attached, tracing began after the process did), then the
 *               u64s of struct hs_counters in their order: current, count,
 *               peak, interval_peak, allocs, frees, bytes_allocated,
 *               map_full, stack_failures, stack_collisions, unknown_frees;
 *               then (version 2 on, optional) u32 python: a string, the
 *               CPython it runs and how it was traced, or 0xffffffff;
 *               version 1 has one more u64, lost_events, which a reader
 *               adds to the global events_lost (its stack_failures
 *               already hold the stacks that were missing)
 *   4 modules   u32 path, u8 build_id_len, u8 build_id[32]
 *   5 frames    u32 module, u32 function, u32 file, u32 line, u64 offset,
 *               u8 flags (bit 0: inlined)
 *   6 stack_frames  u32 frame
 *   7 stacks    u32 first, u32 nframes
 *   8 traces    u64 addr, u64 size, u64 time_ns, u32 pid, u32 tid,
 *               u32 stack, u32 total_nframe, u8 domain; then (version 2
 *               on) u8 flags (bit 0: an estimate), u32 blocks (0: 1)
 *
 * Sections 10 and 11 (version 2 on, optional) say where unwinding was cut
 * short: snapfile_unwind.h.
 *
 * Later versions may append fields to the meta and global bodies or to a
 * table's records (a larger record size) and add sections; readers ignore
 * what they do not know. Unknown flag bits inside a record are ignored too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapfile_payload.h"
#include "snapfile_unwind.h"

/* Tags are part of the format: never renumber them. */
enum section_tag {
	SEC_META = 1,
	SEC_STRINGS = 2,
	SEC_PROCS = 3,
	SEC_MODULES = 4,
	SEC_FRAMES = 5,
	SEC_STACK_FRAMES = 6,
	SEC_STACKS = 7,
	SEC_TRACES = 8,
	SEC_GLOBAL = 9,
	SEC_UNWIND = HS_SEC_UNWIND,
	SEC_UNWIND_STATS = HS_SEC_UNWIND_STATS,
	SEC_MAX,
};

/* Sizes of the records this version writes; readers accept longer ones. */
#define SECTION_HDR 12
#define TABLE_HDR 8
#define BUILD_ID_LEN 32
#define META_LEN 44
#define COUNTERS_LEN (11 * 8)
#define GLOBAL_LEN (8 * 8)
#define GLOBAL_MIN_LEN (5 * 8) /* the first version 2 files */
#define PROC_HDR (4 + 4 + 1)
#define PROC_V2_LEN (PROC_HDR + COUNTERS_LEN)
#define PROC_LEN (PROC_V2_LEN + 4)
#define PROC_V1_LEN (PROC_V2_LEN + 8) /* and lost_events */
#define MODULE_LEN (4 + 1 + BUILD_ID_LEN)
#define FRAME_LEN (4 * 4 + 8 + 1)
#define STACK_FRAME_LEN 4
#define STACK_LEN 8
#define TRACE_V1_LEN (3 * 8 + 4 * 4 + 1)
#define TRACE_LEN (TRACE_V1_LEN + 1 + 4)

_Static_assert(HS_BUILD_ID_MAX <= BUILD_ID_LEN, "build-id field too small");
_Static_assert(HS_PAYLOAD_TRACES_HDR_LEN == SECTION_HDR + TABLE_HDR &&
		       HS_PAYLOAD_TRACE_LEN == TRACE_LEN,
	       "the traces section as the streaming writer sizes it");
/* A counter more changes the procs records: a new format version. */
_Static_assert(sizeof(struct hs_counters) == COUNTERS_LEN,
	       "the procs records hold every counter");
_Static_assert(sizeof(struct hs_global_counters) == GLOBAL_LEN,
	       "the global section holds every global counter");

static const char *const section_names[SEC_MAX] = {
	[SEC_META] = "meta",	 [SEC_STRINGS] = "strings",
	[SEC_PROCS] = "procs",	 [SEC_MODULES] = "modules",
	[SEC_FRAMES] = "frames", [SEC_STACK_FRAMES] = "stack_frames",
	[SEC_STACKS] = "stacks", [SEC_TRACES] = "traces",
	[SEC_GLOBAL] = "global", [SEC_UNWIND] = "unwind",
	[SEC_UNWIND_STATS] = "unwind_stats",
};

static int seterr(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int seterr(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool str_ok(const struct hs_snapshot *s, uint32_t idx, bool none_ok)
{
	return idx < s->nstrings || (none_ok && idx == HS_NONE);
}

static int check_refs(const struct hs_snapshot *s, char *msg, size_t len)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (!str_ok(s, s->procs[i].command, true))
			return seterr(msg, len,
				      "proc %zu: command %u out of range", i,
				      s->procs[i].command);
	for (i = 0; i < s->nmodules; i++) {
		const struct hs_module *m = &s->modules[i];

		if (!str_ok(s, m->path, false) ||
		    m->build_id_len > HS_BUILD_ID_MAX)
			return seterr(msg, len,
				      "module %zu: bad path or build-id", i);
	}
	for (i = 0; i < s->nframes; i++) {
		const struct hs_frame *f = &s->frames[i];

		if ((f->module != HS_NONE && f->module >= s->nmodules) ||
		    !str_ok(s, f->function, true) || !str_ok(s, f->file, true))
			return seterr(msg, len,
				      "frame %zu: reference out of range", i);
	}
	for (i = 0; i < s->nstack_frames; i++)
		if (s->stack_frames[i] >= s->nframes)
			return seterr(msg, len,
				      "stack frame %zu: frame %u out of range",
				      i, s->stack_frames[i]);
	for (i = 0; i < s->nstacks; i++) {
		const struct hs_stack *st = &s->stacks[i];

		if ((uint64_t)st->first + st->nframes > s->nstack_frames)
			return seterr(msg, len,
				      "stack %zu: frames out of range", i);
	}
	for (i = 0; i < s->ntraces; i++) {
		const struct hs_trace *t = &s->traces[i];

		if (t->stack >= s->nstacks)
			return seterr(msg, len,
				      "trace %zu: stack %u out of range", i,
				      t->stack);
		if (t->domain >= HS_DOMAIN_COUNT)
			return seterr(msg, len, "trace %zu: unknown domain %u",
				      i, t->domain);
	}
	return hs_unwind_check(s, msg, len);
}

int hs_payload_check(const struct hs_snapshot *s, char *msg, size_t len)
{
	size_t i;

	if (s->nstrings >= HS_NONE || s->nprocs > UINT32_MAX ||
	    s->nmodules >= HS_NONE || s->nframes >= HS_NONE ||
	    s->nstack_frames > UINT32_MAX || s->nstacks >= HS_NONE ||
	    s->ntraces > UINT32_MAX)
		return seterr(msg, len, "too many items");
	for (i = 0; i < s->nstrings; i++)
		if (!s->strings[i] || strlen(s->strings[i]) > UINT32_MAX)
			return seterr(msg, len,
				      "string %zu missing or too long", i);
	if (!str_ok(s, s->command, true) || !str_ok(s, s->kernel, true))
		return seterr(msg, len,
			      "command or kernel string out of range");
	return check_refs(s, msg, len);
}

/* Writing */

/* Counters are stored as the u64s of their struct, in its order. */
static uint8_t *put_words(uint8_t *p, const void *words, size_t size)
{
	const __u64 *w = words;

	for (size_t i = 0; i < size / sizeof(*w); i++)
		p = hs_put_u64(p, w[i]);
	return p;
}

static void get_words(const uint8_t *p, void *words, size_t size)
{
	__u64 *w = words;

	for (size_t i = 0; i < size / sizeof(*w); i++)
		w[i] = hs_get_u64(p + 8 * i);
}

static uint64_t table_len(size_t n, size_t rec)
{
	return SECTION_HDR + TABLE_HDR + (uint64_t)n * rec;
}

static uint64_t strings_len(const struct hs_snapshot *s)
{
	uint64_t len = 4;
	size_t i;

	for (i = 0; i < s->nstrings; i++)
		len += 4 + strlen(s->strings[i]);
	return len;
}

static uint64_t payload_len(const struct hs_snapshot *s, uint64_t slen)
{
	uint64_t len = SECTION_HDR + META_LEN + SECTION_HDR + slen;

	len += SECTION_HDR + GLOBAL_LEN;
	len += table_len(s->nprocs, PROC_LEN);
	len += table_len(s->nmodules, MODULE_LEN);
	len += table_len(s->nframes, FRAME_LEN);
	len += table_len(s->nstack_frames, STACK_FRAME_LEN);
	len += table_len(s->nstacks, STACK_LEN);
	return len + hs_unwind_sections_len(s);
}

static uint8_t *put_section(uint8_t *p, uint32_t tag, uint64_t len)
{
	p = hs_put_u32(p, tag);
	return hs_put_u64(p, len);
}

static uint8_t *put_table(uint8_t *p, uint32_t tag, size_t n, uint32_t rec)
{
	p = put_section(p, tag, TABLE_HDR + (uint64_t)n * rec);
	p = hs_put_u32(p, (uint32_t)n);
	return hs_put_u32(p, rec);
}

static uint8_t *put_meta(uint8_t *p, const struct hs_snapshot *s)
{
	p = put_section(p, SEC_META, META_LEN);
	p = hs_put_u32(p, HS_FORMAT_VERSION);
	p = hs_put_u64(p, s->time_ns);
	p = hs_put_u32(p, s->command);
	p = hs_put_u32(p, s->kernel);
	p = hs_put_u32(p, s->traceback_limit);
	p = hs_put_u64(p, s->sample_bytes);
	p = hs_put_u64(p, s->tracer_memory);
	return hs_put_u32(p, s->seq);
}

static uint8_t *put_strings(uint8_t *p, const struct hs_snapshot *s,
			    uint64_t len)
{
	size_t i, n;

	p = put_section(p, SEC_STRINGS, len);
	p = hs_put_u32(p, (uint32_t)s->nstrings);
	for (i = 0; i < s->nstrings; i++) {
		n = strlen(s->strings[i]);
		p = hs_put_u32(p, (uint32_t)n);
		memcpy(p, s->strings[i], n);
		p += n;
	}
	return p;
}

static uint8_t *put_procs(uint8_t *p, const struct hs_snapshot *s)
{
	p = put_table(p, SEC_PROCS, s->nprocs, PROC_LEN);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct hs_proc *pr = &s->procs[i];

		p = hs_put_u32(p, pr->pid);
		p = hs_put_u32(p, pr->command);
		*p++ = (pr->exited ? 1 : 0) | (pr->attached ? 2 : 0);
		p = put_words(p, &pr->counters, sizeof(pr->counters));
		p = hs_put_u32(p, pr->python);
	}
	p = put_section(p, SEC_GLOBAL, GLOBAL_LEN);
	return put_words(p, &s->global, sizeof(s->global));
}

static uint8_t *put_frames(uint8_t *p, const struct hs_snapshot *s)
{
	size_t i;

	p = put_table(p, SEC_MODULES, s->nmodules, MODULE_LEN);
	for (i = 0; i < s->nmodules; i++) {
		const struct hs_module *m = &s->modules[i];

		p = hs_put_u32(p, m->path);
		*p++ = (uint8_t)m->build_id_len;
		memset(p, 0, BUILD_ID_LEN);
		memcpy(p, m->build_id, m->build_id_len);
		p += BUILD_ID_LEN;
	}

	p = put_table(p, SEC_FRAMES, s->nframes, FRAME_LEN);
	for (i = 0; i < s->nframes; i++) {
		const struct hs_frame *f = &s->frames[i];

		p = hs_put_u32(p, f->module);
		p = hs_put_u32(p, f->function);
		p = hs_put_u32(p, f->file);
		p = hs_put_u32(p, f->line);
		p = hs_put_u64(p, f->offset);
		*p++ = f->inlined ? 1 : 0;
	}

	p = put_table(p, SEC_STACK_FRAMES, s->nstack_frames, STACK_FRAME_LEN);
	for (i = 0; i < s->nstack_frames; i++)
		p = hs_put_u32(p, s->stack_frames[i]);

	p = put_table(p, SEC_STACKS, s->nstacks, STACK_LEN);
	for (i = 0; i < s->nstacks; i++) {
		p = hs_put_u32(p, s->stacks[i].first);
		p = hs_put_u32(p, s->stacks[i].nframes);
	}
	return p;
}

uint8_t *hs_payload_put_traces_header(uint8_t *p, uint32_t n)
{
	return put_table(p, SEC_TRACES, n, TRACE_LEN);
}

uint8_t *hs_payload_put_trace(uint8_t *p, const struct hs_trace *t)
{
	p = hs_put_u64(p, t->addr);
	p = hs_put_u64(p, t->size);
	p = hs_put_u64(p, t->time_ns);
	p = hs_put_u32(p, t->pid);
	p = hs_put_u32(p, t->tid);
	p = hs_put_u32(p, t->stack);
	p = hs_put_u32(p, t->total_nframe);
	*p++ = t->domain;
	*p++ = t->flags;
	return hs_put_u32(p, t->blocks);
}

uint8_t *hs_payload_encode_tables(const struct hs_snapshot *s, size_t *len,
				  char *msg, size_t msglen)
{
	uint64_t slen = strings_len(s), n = payload_len(s, slen);
	uint8_t *buf, *p;

	if (n > SIZE_MAX / 2) {
		seterr(msg, msglen, "%s", strerror(EFBIG));
		return NULL;
	}
	buf = malloc(n);
	if (!buf) {
		seterr(msg, msglen, "%s", strerror(ENOMEM));
		return NULL;
	}
	p = put_meta(buf, s);
	p = put_strings(p, s, slen);
	p = put_procs(p, s);
	p = put_frames(p, s);
	hs_unwind_sections_put(p, s);
	*len = n;
	return buf;
}

/* Reading */

struct decoder {
	struct hs_snapshot *s;
	uint32_t version;
	uint32_t seen; /* bit per section tag already read */
	char *msg;
	size_t msglen;
};

#define corrupt(d, fmt, ...) \
	seterr((d)->msg, (d)->msglen, "corrupt (" fmt ")", ##__VA_ARGS__)

static int parse_meta(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;

	if (len < META_LEN)
		return corrupt(d, "meta section too short");
	if (hs_get_u32(p) != d->version)
		return corrupt(d, "meta says format version %u", hs_get_u32(p));
	s->format_version = d->version;
	s->time_ns = hs_get_u64(p + 4);
	s->command = hs_get_u32(p + 12);
	s->kernel = hs_get_u32(p + 16);
	s->traceback_limit = hs_get_u32(p + 20);
	s->sample_bytes = hs_get_u64(p + 24);
	s->tracer_memory = hs_get_u64(p + 32);
	s->seq = hs_get_u32(p + 40);
	return 0;
}

static int parse_global(struct decoder *d, const uint8_t *p, uint64_t len)
{
	if (len < GLOBAL_MIN_LEN)
		return corrupt(d, "global section too short");
	get_words(p, &d->s->global,
		  len < sizeof(d->s->global) ? len : sizeof(d->s->global));
	return 0;
}

static int parse_strings(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;
	const uint8_t *end = p + len;
	uint32_t n, i, slen;

	if (len < 4)
		goto bad;
	n = hs_get_u32(p);
	p += 4;
	if (n >= HS_NONE || (uint64_t)n * 4 > (uint64_t)(end - p))
		goto bad;
	s->strings = calloc(n ? n : 1, sizeof(char *));
	if (!s->strings)
		return seterr(d->msg, d->msglen, "%s", strerror(ENOMEM));
	s->cap.strings = n;
	for (i = 0; i < n; i++) {
		if (end - p < 4)
			goto bad;
		slen = hs_get_u32(p);
		p += 4;
		if (slen > (uint64_t)(end - p) || memchr(p, 0, slen))
			goto bad;
		s->strings[i] = strndup((const char *)p, slen);
		if (!s->strings[i])
			return seterr(d->msg, d->msglen, "%s",
				      strerror(ENOMEM));
		s->nstrings++;
		p += slen;
	}
	if (p == end)
		return 0;
bad:
	return corrupt(d, "bad strings section");
}

/*
 * Checks a table's header against its section length and allocates the
 * array for it (*count elements, and as many of capacity); *rec is the
 * record size, *recs the first record.
 */
static void *parse_table(struct decoder *d, uint32_t tag, const uint8_t *p,
			 uint64_t len, uint32_t minrec, size_t elem,
			 size_t *count, size_t *cap, uint32_t *rec,
			 const uint8_t **recs)
{
	uint32_t n;
	void *arr;

	if (len < TABLE_HDR) {
		corrupt(d, "bad %s section", section_names[tag]);
		return NULL;
	}
	n = hs_get_u32(p);
	*rec = hs_get_u32(p + 4);
	if (*rec < minrec || (uint64_t)n * *rec != len - TABLE_HDR) {
		corrupt(d, "bad %s section", section_names[tag]);
		return NULL;
	}
	arr = calloc(n ? n : 1, elem);
	if (!arr) {
		seterr(d->msg, d->msglen, "%s", strerror(ENOMEM));
		return NULL;
	}
	*count = *cap = n;
	*recs = p + TABLE_HDR;
	return arr;
}

/* parse_table() for the array arr of d->s, with its count and capacity. */
#define TABLE(d, tag, p, len, minrec, arr, rec)                            \
	((d)->s->arr =                                                     \
		 parse_table(d, tag, p, len, minrec, sizeof(*(d)->s->arr), \
			     &(d)->s->n##arr, &(d)->s->cap.arr, &(rec), &(p)))

static int parse_procs(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;
	bool v1 = d->version == 1;
	uint32_t rec;

	if (!TABLE(d, SEC_PROCS, p, len, v1 ? PROC_V1_LEN : PROC_V2_LEN, procs,
		   rec))
		return -1;
	for (size_t i = 0; i < s->nprocs; i++, p += rec) {
		struct hs_proc *pr = &s->procs[i];

		pr->pid = hs_get_u32(p);
		pr->command = hs_get_u32(p + 4);
		pr->exited = p[8] & 1;
		pr->attached = p[8] & 2;
		get_words(p + PROC_HDR, &pr->counters, sizeof(pr->counters));
		pr->python = !v1 && rec >= PROC_LEN ? hs_get_u32(p + PROC_V2_LEN) :
						      HS_NONE;
		if (v1)
			s->global.events_lost += hs_get_u64(p + PROC_V2_LEN);
	}
	return 0;
}

static int parse_modules(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;
	uint32_t rec;

	if (!TABLE(d, SEC_MODULES, p, len, MODULE_LEN, modules, rec))
		return -1;
	for (size_t i = 0; i < s->nmodules; i++, p += rec) {
		if (p[4] > HS_BUILD_ID_MAX)
			return corrupt(d, "module %zu: build-id of %u bytes", i,
				       p[4]);
		s->modules[i].path = hs_get_u32(p);
		s->modules[i].build_id_len = p[4];
		memcpy(s->modules[i].build_id, p + 5, p[4]);
	}
	return 0;
}

static int parse_frames(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;
	uint32_t rec;

	if (!TABLE(d, SEC_FRAMES, p, len, FRAME_LEN, frames, rec))
		return -1;
	for (size_t i = 0; i < s->nframes; i++, p += rec) {
		struct hs_frame *f = &s->frames[i];

		f->module = hs_get_u32(p);
		f->function = hs_get_u32(p + 4);
		f->file = hs_get_u32(p + 8);
		f->line = hs_get_u32(p + 12);
		f->offset = hs_get_u64(p + 16);
		f->inlined = p[24] & 1;
	}
	return 0;
}

static int parse_stacks(struct decoder *d, uint32_t tag, const uint8_t *p,
			uint64_t len)
{
	struct hs_snapshot *s = d->s;
	uint32_t rec;
	size_t i;

	if (tag == SEC_STACK_FRAMES) {
		if (!TABLE(d, tag, p, len, STACK_FRAME_LEN, stack_frames, rec))
			return -1;
		for (i = 0; i < s->nstack_frames; i++, p += rec)
			s->stack_frames[i] = hs_get_u32(p);
		return 0;
	}
	if (!TABLE(d, tag, p, len, STACK_LEN, stacks, rec))
		return -1;
	for (i = 0; i < s->nstacks; i++, p += rec) {
		s->stacks[i].first = hs_get_u32(p);
		s->stacks[i].nframes = hs_get_u32(p + 4);
	}
	return 0;
}

static int parse_traces(struct decoder *d, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = d->s;
	uint32_t rec;

	if (!TABLE(d, SEC_TRACES, p, len, TRACE_V1_LEN, traces, rec))
		return -1;
	for (size_t i = 0; i < s->ntraces; i++, p += rec) {
		struct hs_trace *t = &s->traces[i];

		t->addr = hs_get_u64(p);
		t->size = hs_get_u64(p + 8);
		t->time_ns = hs_get_u64(p + 16);
		t->pid = hs_get_u32(p + 24);
		t->tid = hs_get_u32(p + 28);
		t->stack = hs_get_u32(p + 32);
		t->total_nframe = hs_get_u32(p + 36);
		t->domain = p[40];
		if (rec >= TRACE_LEN) {
			t->flags = p[41];
			t->blocks = hs_get_u32(p + 42);
		}
	}
	return 0;
}

/* Is tag a section of this version? Readers skip the others. */
static bool known(uint32_t tag, uint32_t version)
{
	return tag > 0 && tag < SEC_MAX && (tag < SEC_GLOBAL || version > 1);
}

static int parse_section(struct decoder *d, uint32_t tag, const uint8_t *p,
			 uint64_t len)
{
	switch (tag) {
	case SEC_META:
		return parse_meta(d, p, len);
	case SEC_STRINGS:
		return parse_strings(d, p, len);
	case SEC_GLOBAL:
		return parse_global(d, p, len);
	case SEC_PROCS:
		return parse_procs(d, p, len);
	case SEC_MODULES:
		return parse_modules(d, p, len);
	case SEC_FRAMES:
		return parse_frames(d, p, len);
	case SEC_STACK_FRAMES:
	case SEC_STACKS:
		return parse_stacks(d, tag, p, len);
	case SEC_TRACES:
		return parse_traces(d, p, len);
	case SEC_UNWIND:
	case SEC_UNWIND_STATS:
		return hs_unwind_section_parse(d->s, tag, p, len, d->msg,
					       d->msglen);
	}
	return 0;
}

int hs_payload_decode(struct hs_snapshot *s, const uint8_t *p, size_t len,
		      uint32_t version, char *msg, size_t msglen)
{
	struct decoder d = { s, version, 0, msg, msglen };
	const uint8_t *end = p + len;
	char why[160];
	uint64_t slen;
	uint32_t tag;

	while (p < end) {
		if (end - p < SECTION_HDR)
			return corrupt(&d, "truncated section header");
		tag = hs_get_u32(p);
		slen = hs_get_u64(p + 4);
		p += SECTION_HDR;
		if (slen > (uint64_t)(end - p))
			return corrupt(&d, "section %u overruns the payload",
				       tag);
		if (known(tag, version)) {
			if (d.seen & 1u << tag)
				return corrupt(&d, "duplicate %s section",
					       section_names[tag]);
			d.seen |= 1u << tag;
			if (parse_section(&d, tag, p, slen))
				return -1;
		}
		p += slen;
	}
	if (!(d.seen & 1u << SEC_META))
		return corrupt(&d, "no meta section");
	if (hs_payload_check(s, why, sizeof(why)))
		return corrupt(&d, "%s", why);
	return 0;
}
