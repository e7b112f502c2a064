// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The snapshot file format. Every integer is little-endian.
 *
 * Header, 40 bytes:
 *    0  magic "HSNAP\r\n\x1a"
 *    8  u32 format version (HS_FORMAT_VERSION)
 *   12  u32 flags; bit 0: the payload is zstd-compressed (always set)
 *   16  u64 payload size, uncompressed
 *   24  u64 payload size, compressed: the rest of the file
 *   32  u32 CRC-32C of the compressed payload
 *   36  u32 CRC-32C of header bytes 0..35
 *
 * The payload is a sequence of sections "u32 tag, u64 length, body" in any
 * order, each known tag at most once. Readers skip tags they do not know.
 *
 *   1 meta      u32 format_version, u64 time_ns, u32 command, u32 kernel,
 *               u32 traceback_limit, u64 sample_bytes, u64 tracer_memory,
 *               u32 seq
 *   2 strings   u32 count, then count times: u32 length, bytes (no NUL)
 *
 * The other sections are tables: u32 count, u32 record size, records.
 *
 *   3 procs     u32 pid, u32 command, u8 flags (bit 0: exited), u64 current,
 *               count, peak, interval_peak, allocs, frees, bytes_allocated,
 *               map_full, stack_failures, stack_collisions, unknown_frees,
 *               lost_events
 *   4 modules   u32 path, u8 build_id_len, u8 build_id[32]
 *   5 frames    u32 module, u32 function, u32 file, u32 line, u64 offset,
 *               u8 flags (bit 0: inlined)
 *   6 stack_frames  u32 frame
 *   7 stacks    u32 first, u32 nframes
 *   8 traces    u64 addr, u64 size, u64 time_ns, u32 pid, u32 tid,
 *               u32 stack, u32 total_nframe, u8 domain
 *
 * Later versions may append fields to the meta body or to a table's records
 * (a larger record size) and add sections; readers ignore what they do not
 * know. Unknown flag bits inside a record are ignored too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "snapfile.h"

#define MAGIC "HSNAP\r\n\x1a"
#define MAGIC_LEN 8
#define HEADER_LEN 40
#define FLAG_ZSTD 0x1u
#define ZSTD_LEVEL 1

/* zstd cannot expand data much beyond this; more means a forged header. */
#define MAX_RATIO 1000
#define MAX_SLACK (64ull << 20)

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
	SEC_MAX,
};

/* Sizes of the version 1 records; readers accept longer ones. */
#define SECTION_HDR 12
#define TABLE_HDR 8
#define BUILD_ID_LEN 32
#define META_LEN 44
#define PROC_LEN (4 + 4 + 1 + 12 * 8)
#define MODULE_LEN (4 + 1 + BUILD_ID_LEN)
#define FRAME_LEN (4 * 4 + 8 + 1)
#define STACK_FRAME_LEN 4
#define STACK_LEN 8
#define TRACE_LEN (3 * 8 + 4 * 4 + 1)

_Static_assert(HS_BUILD_ID_MAX <= BUILD_ID_LEN, "build-id field too small");

static const char *const section_names[SEC_MAX] = {
	[SEC_META] = "meta",	 [SEC_STRINGS] = "strings",
	[SEC_PROCS] = "procs",	 [SEC_MODULES] = "modules",
	[SEC_FRAMES] = "frames", [SEC_STACK_FRAMES] = "stack_frames",
	[SEC_STACKS] = "stacks", [SEC_TRACES] = "traces",
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint8_t *put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	p = put_u32(p, (uint32_t)v);
	return put_u32(p, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* CRC-32C (Castagnoli), slicing by 8. */
static uint32_t crc32c(const void *buf, size_t len)
{
	uint32_t t[8][256], crc = ~0u, c, lo, hi;
	const uint8_t *p = buf;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		t[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
	for (; len >= 8; p += 8, len -= 8) {
		lo = get_u32(p) ^ crc;
		hi = get_u32(p + 4);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

static bool str_ok(const struct hs_snapshot *s, uint32_t idx, bool none_ok)
{
	return idx < s->nstrings || (none_ok && idx == HS_NONE);
}

/*
 * The invariants every reader of a snapshot relies on. The writer checks
 * them too, so that it never writes a file that cannot be read back.
 */
static int check_snapshot(const struct hs_snapshot *s, char *msg, size_t len)
{
	size_t i;

	if (s->nstrings >= HS_NONE || s->nprocs > UINT32_MAX ||
	    s->nmodules >= HS_NONE || s->nframes >= HS_NONE ||
	    s->nstack_frames > UINT32_MAX || s->nstacks >= HS_NONE ||
	    s->ntraces > UINT32_MAX) {
		seterr(msg, len, "too many items");
		return -1;
	}
	for (i = 0; i < s->nstrings; i++) {
		if (!s->strings[i] || strlen(s->strings[i]) > UINT32_MAX) {
			seterr(msg, len, "string %zu missing or too long", i);
			return -1;
		}
	}
	if (!str_ok(s, s->command, true) || !str_ok(s, s->kernel, true)) {
		seterr(msg, len, "command or kernel string out of range");
		return -1;
	}
	for (i = 0; i < s->nprocs; i++) {
		if (!str_ok(s, s->procs[i].command, true)) {
			seterr(msg, len, "proc %zu: command %u out of range", i,
			       s->procs[i].command);
			return -1;
		}
	}
	for (i = 0; i < s->nmodules; i++) {
		const struct hs_module *m = &s->modules[i];

		if (!str_ok(s, m->path, false) ||
		    m->build_id_len > HS_BUILD_ID_MAX) {
			seterr(msg, len, "module %zu: bad path or build-id", i);
			return -1;
		}
	}
	for (i = 0; i < s->nframes; i++) {
		const struct hs_frame *f = &s->frames[i];

		if ((f->module != HS_NONE && f->module >= s->nmodules) ||
		    !str_ok(s, f->function, true) ||
		    !str_ok(s, f->file, true)) {
			seterr(msg, len, "frame %zu: reference out of range",
			       i);
			return -1;
		}
	}
	for (i = 0; i < s->nstack_frames; i++) {
		if (s->stack_frames[i] >= s->nframes) {
			seterr(msg, len,
			       "stack frame %zu: frame %u out of range", i,
			       s->stack_frames[i]);
			return -1;
		}
	}
	for (i = 0; i < s->nstacks; i++) {
		const struct hs_stack *st = &s->stacks[i];

		if ((uint64_t)st->first + st->nframes > s->nstack_frames) {
			seterr(msg, len, "stack %zu: frames out of range", i);
			return -1;
		}
	}
	for (i = 0; i < s->ntraces; i++) {
		const struct hs_trace *t = &s->traces[i];

		if (t->stack >= s->nstacks) {
			seterr(msg, len, "trace %zu: stack %u out of range", i,
			       t->stack);
			return -1;
		}
		if (t->domain >= HS_DOMAIN_COUNT) {
			seterr(msg, len, "trace %zu: unknown domain %u", i,
			       t->domain);
			return -1;
		}
	}
	return 0;
}

/* Writing */

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

	len += table_len(s->nprocs, PROC_LEN);
	len += table_len(s->nmodules, MODULE_LEN);
	len += table_len(s->nframes, FRAME_LEN);
	len += table_len(s->nstack_frames, STACK_FRAME_LEN);
	len += table_len(s->nstacks, STACK_LEN);
	len += table_len(s->ntraces, TRACE_LEN);
	return len;
}

static uint8_t *put_section(uint8_t *p, uint32_t tag, uint64_t len)
{
	p = put_u32(p, tag);
	return put_u64(p, len);
}

static uint8_t *put_table(uint8_t *p, uint32_t tag, size_t n, uint32_t rec)
{
	p = put_section(p, tag, TABLE_HDR + (uint64_t)n * rec);
	p = put_u32(p, (uint32_t)n);
	return put_u32(p, rec);
}

static uint8_t *put_meta(uint8_t *p, const struct hs_snapshot *s)
{
	p = put_section(p, SEC_META, META_LEN);
	p = put_u32(p, HS_FORMAT_VERSION);
	p = put_u64(p, s->time_ns);
	p = put_u32(p, s->command);
	p = put_u32(p, s->kernel);
	p = put_u32(p, s->traceback_limit);
	p = put_u64(p, s->sample_bytes);
	p = put_u64(p, s->tracer_memory);
	return put_u32(p, s->seq);
}

static uint8_t *put_strings(uint8_t *p, const struct hs_snapshot *s,
			    uint64_t len)
{
	size_t i, n;

	p = put_section(p, SEC_STRINGS, len);
	p = put_u32(p, (uint32_t)s->nstrings);
	for (i = 0; i < s->nstrings; i++) {
		n = strlen(s->strings[i]);
		p = put_u32(p, (uint32_t)n);
		memcpy(p, s->strings[i], n);
		p += n;
	}
	return p;
}

static uint8_t *put_counters(uint8_t *p, const struct hs_counters *c)
{
	p = put_u64(p, c->current);
	p = put_u64(p, c->count);
	p = put_u64(p, c->peak);
	p = put_u64(p, c->interval_peak);
	p = put_u64(p, c->allocs);
	p = put_u64(p, c->frees);
	p = put_u64(p, c->bytes_allocated);
	p = put_u64(p, c->map_full);
	p = put_u64(p, c->stack_failures);
	p = put_u64(p, c->stack_collisions);
	p = put_u64(p, c->unknown_frees);
	return put_u64(p, c->lost_events);
}

static void encode(const struct hs_snapshot *s, uint8_t *p, uint64_t slen)
{
	size_t i;

	p = put_meta(p, s);
	p = put_strings(p, s, slen);

	p = put_table(p, SEC_PROCS, s->nprocs, PROC_LEN);
	for (i = 0; i < s->nprocs; i++) {
		const struct hs_proc *pr = &s->procs[i];

		p = put_u32(p, pr->pid);
		p = put_u32(p, pr->command);
		p = put_u8(p, pr->exited ? 1 : 0);
		p = put_counters(p, &pr->counters);
	}

	p = put_table(p, SEC_MODULES, s->nmodules, MODULE_LEN);
	for (i = 0; i < s->nmodules; i++) {
		const struct hs_module *m = &s->modules[i];

		p = put_u32(p, m->path);
		p = put_u8(p, (uint8_t)m->build_id_len);
		memset(p, 0, BUILD_ID_LEN);
		memcpy(p, m->build_id, m->build_id_len);
		p += BUILD_ID_LEN;
	}

	p = put_table(p, SEC_FRAMES, s->nframes, FRAME_LEN);
	for (i = 0; i < s->nframes; i++) {
		const struct hs_frame *f = &s->frames[i];

		p = put_u32(p, f->module);
		p = put_u32(p, f->function);
		p = put_u32(p, f->file);
		p = put_u32(p, f->line);
		p = put_u64(p, f->offset);
		p = put_u8(p, f->inlined ? 1 : 0);
	}

	p = put_table(p, SEC_STACK_FRAMES, s->nstack_frames, STACK_FRAME_LEN);
	for (i = 0; i < s->nstack_frames; i++)
		p = put_u32(p, s->stack_frames[i]);

	p = put_table(p, SEC_STACKS, s->nstacks, STACK_LEN);
	for (i = 0; i < s->nstacks; i++) {
		p = put_u32(p, s->stacks[i].first);
		p = put_u32(p, s->stacks[i].nframes);
	}

	p = put_table(p, SEC_TRACES, s->ntraces, TRACE_LEN);
	for (i = 0; i < s->ntraces; i++) {
		const struct hs_trace *t = &s->traces[i];

		p = put_u64(p, t->addr);
		p = put_u64(p, t->size);
		p = put_u64(p, t->time_ns);
		p = put_u32(p, t->pid);
		p = put_u32(p, t->tid);
		p = put_u32(p, t->stack);
		p = put_u32(p, t->total_nframe);
		p = put_u8(p, t->domain);
	}
}

/* Returns the whole file image (header and compressed payload). */
static uint8_t *build_file(const struct hs_snapshot *s, size_t *file_len,
			   char *msg, size_t msglen)
{
	uint8_t *raw = NULL, *file = NULL, *p;
	ZSTD_CCtx *cctx = NULL;
	uint64_t slen = strings_len(s), raw_len = payload_len(s, slen);
	size_t bound, clen;

	if (raw_len > SIZE_MAX / 2) {
		seterr(msg, msglen, "%s", strerror(EFBIG));
		return NULL;
	}
	raw = malloc(raw_len);
	bound = ZSTD_compressBound(raw_len);
	if (raw && !ZSTD_isError(bound))
		file = malloc(HEADER_LEN + bound);
	cctx = ZSTD_createCCtx();
	if (!raw || !file || !cctx) {
		seterr(msg, msglen, "%s", strerror(ENOMEM));
		goto fail;
	}
	encode(s, raw, slen);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	clen = ZSTD_compress2(cctx, file + HEADER_LEN, bound, raw, raw_len);
	if (ZSTD_isError(clen)) {
		seterr(msg, msglen, "zstd: %s", ZSTD_getErrorName(clen));
		goto fail;
	}
	memcpy(file, MAGIC, MAGIC_LEN);
	p = put_u32(file + MAGIC_LEN, HS_FORMAT_VERSION);
	p = put_u32(p, FLAG_ZSTD);
	p = put_u64(p, raw_len);
	p = put_u64(p, clen);
	p = put_u32(p, crc32c(file + HEADER_LEN, clen));
	put_u32(p, crc32c(file, HEADER_LEN - 4));
	ZSTD_freeCCtx(cctx);
	free(raw);
	*file_len = HEADER_LEN + clen;
	return file;
fail:
	ZSTD_freeCCtx(cctx);
	free(raw);
	free(file);
	return NULL;
}

/* Creates "DIR/.BASE.XXXXXXXX.tmp" next to path. */
static int open_temp(const char *path, char **tmp_out)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int baselen = strlen(base) > 200 ? 200 : (int)strlen(base);
	size_t size = strlen(path) + 32;
	struct timespec ts;
	uint32_t rnd;
	char *tmp;
	int fd, i;

	if (!*base) {
		errno = EISDIR;
		return -1;
	}
	tmp = malloc(size);
	if (!tmp)
		return -1;
	for (i = 0; i < 100; i++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) !=
		    sizeof(rnd)) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 31 ^
			      (uint32_t)i;
		}
		snprintf(tmp, size, "%.*s.%.*s.%08x.tmp", dirlen, path, baselen,
			 base, rnd);
		fd = open(tmp,
			  O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			*tmp_out = tmp;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	free(tmp);
	return -1;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes the rename durable; the new file is in place either way. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash) {
		dir = strdup(".");
	} else {
		dir = strndup(path, (size_t)(slash - path));
		if (dir && !*dir) {
			free(dir);
			dir = strdup("/");
		}
	}
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int hs_snapfile_write(const struct hs_snapshot *s, const char *path, char *err,
		      size_t errlen)
{
	uint8_t *file = NULL;
	char *tmp = NULL;
	char msg[160];
	size_t file_len;
	int fd = -1, e;

	if (check_snapshot(s, msg, sizeof(msg))) {
		seterr(err, errlen, "cannot write %s: invalid snapshot (%s)",
		       path, msg);
		return -1;
	}
	file = build_file(s, &file_len, msg, sizeof(msg));
	if (!file) {
		seterr(err, errlen, "cannot write %s: %s", path, msg);
		return -1;
	}
	fd = open_temp(path, &tmp);
	if (fd < 0 || fchmod(fd, 0600) || write_all(fd, file, file_len) ||
	    fsync(fd))
		goto fail;
	e = close(fd);
	fd = -1;
	if (e || rename(tmp, path))
		goto fail;
	sync_dir(path);
	free(tmp);
	free(file);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(file);
	seterr(err, errlen, "cannot write %s: %s", path, strerror(e));
	return -1;
}

int hs_snapfile_check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *tmp = NULL;
	int fd;

	/* rename() would replace a symlink there, but not a directory */
	if (!lstat(path, &st) && S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "cannot write %s: %s", path,
		       strerror(EISDIR));
		return -1;
	}
	fd = open_temp(path, &tmp);
	if (fd < 0) {
		seterr(err, errlen, "cannot write %s: %s", path,
		       strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}

/* Reading */

struct parser {
	const char *name; /* prefix of error messages, or NULL */
	char *err;
	size_t errlen;
	struct hs_snapshot *s;
	uint32_t seen; /* bit per section tag already read */
};

static void *fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void *fail(struct parser *ps, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->name)
		seterr(ps->err, ps->errlen, "%s: %s", ps->name, msg);
	else
		seterr(ps->err, ps->errlen, "%s", msg);
	return NULL;
}

static int parse_meta(struct parser *ps, const uint8_t *p, uint64_t len,
		      uint32_t version)
{
	struct hs_snapshot *s = ps->s;

	if (len < META_LEN) {
		fail(ps, "corrupt (meta section too short)");
		return -1;
	}
	if (get_u32(p) != version) {
		fail(ps, "corrupt (meta says format version %u)", get_u32(p));
		return -1;
	}
	s->format_version = version;
	s->time_ns = get_u64(p + 4);
	s->command = get_u32(p + 12);
	s->kernel = get_u32(p + 16);
	s->traceback_limit = get_u32(p + 20);
	s->sample_bytes = get_u64(p + 24);
	s->tracer_memory = get_u64(p + 32);
	s->seq = get_u32(p + 40);
	return 0;
}

static int parse_strings(struct parser *ps, const uint8_t *p, uint64_t len)
{
	struct hs_snapshot *s = ps->s;
	const uint8_t *end = p + len;
	uint32_t n, i, slen;

	if (len < 4)
		goto bad;
	n = get_u32(p);
	p += 4;
	if (n >= HS_NONE || (uint64_t)n * 4 > (uint64_t)(end - p))
		goto bad;
	s->strings = hs_array_alloc(n, sizeof(char *));
	if (!s->strings)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (end - p < 4)
			goto bad;
		slen = get_u32(p);
		p += 4;
		if (slen > (uint64_t)(end - p) || memchr(p, 0, slen))
			goto bad;
		s->strings[i] = strndup((const char *)p, slen);
		if (!s->strings[i])
			goto nomem;
		s->nstrings++;
		p += slen;
	}
	if (p != end)
		goto bad;
	return 0;
bad:
	fail(ps, "corrupt (bad strings section)");
	return -1;
nomem:
	fail(ps, "%s", strerror(ENOMEM));
	return -1;
}

/*
 * Checks a table's header against its section length and allocates the
 * array for it; *rec is the record size, *recs the first record.
 */
static void *parse_table(struct parser *ps, uint32_t tag, const uint8_t *p,
			 uint64_t len, uint32_t minrec, size_t elem,
			 size_t *count, uint32_t *rec, const uint8_t **recs)
{
	uint32_t n;
	void *arr;

	if (len < TABLE_HDR)
		return fail(ps, "corrupt (bad %s section)", section_names[tag]);
	n = get_u32(p);
	*rec = get_u32(p + 4);
	if (*rec < minrec || (uint64_t)n * *rec != len - TABLE_HDR)
		return fail(ps, "corrupt (bad %s section)", section_names[tag]);
	arr = hs_array_alloc(n, elem);
	if (!arr)
		return fail(ps, "%s", strerror(ENOMEM));
	*count = n;
	*recs = p + TABLE_HDR;
	return arr;
}

static void get_counters(const uint8_t *p, struct hs_counters *c)
{
	c->current = get_u64(p);
	c->count = get_u64(p + 8);
	c->peak = get_u64(p + 16);
	c->interval_peak = get_u64(p + 24);
	c->allocs = get_u64(p + 32);
	c->frees = get_u64(p + 40);
	c->bytes_allocated = get_u64(p + 48);
	c->map_full = get_u64(p + 56);
	c->stack_failures = get_u64(p + 64);
	c->stack_collisions = get_u64(p + 72);
	c->unknown_frees = get_u64(p + 80);
	c->lost_events = get_u64(p + 88);
}

static int parse_section(struct parser *ps, uint32_t tag, const uint8_t *p,
			 uint64_t len)
{
	struct hs_snapshot *s = ps->s;
	uint32_t rec;
	size_t i;

	switch (tag) {
	case SEC_STRINGS:
		return parse_strings(ps, p, len);
	case SEC_PROCS:
		s->procs = parse_table(ps, tag, p, len, PROC_LEN,
				       sizeof(*s->procs), &s->nprocs, &rec, &p);
		if (!s->procs)
			return -1;
		for (i = 0; i < s->nprocs; i++, p += rec) {
			s->procs[i].pid = get_u32(p);
			s->procs[i].command = get_u32(p + 4);
			s->procs[i].exited = p[8] & 1;
			get_counters(p + 9, &s->procs[i].counters);
		}
		return 0;
	case SEC_MODULES:
		s->modules = parse_table(ps, tag, p, len, MODULE_LEN,
					 sizeof(*s->modules), &s->nmodules,
					 &rec, &p);
		if (!s->modules)
			return -1;
		for (i = 0; i < s->nmodules; i++, p += rec) {
			s->modules[i].path = get_u32(p);
			s->modules[i].build_id_len = p[4];
			if (p[4] > HS_BUILD_ID_MAX) {
				fail(ps,
				     "corrupt (module %zu: build-id of %u bytes)",
				     i, p[4]);
				return -1;
			}
			memcpy(s->modules[i].build_id, p + 5, p[4]);
		}
		return 0;
	case SEC_FRAMES:
		s->frames =
			parse_table(ps, tag, p, len, FRAME_LEN,
				    sizeof(*s->frames), &s->nframes, &rec, &p);
		if (!s->frames)
			return -1;
		for (i = 0; i < s->nframes; i++, p += rec) {
			s->frames[i].module = get_u32(p);
			s->frames[i].function = get_u32(p + 4);
			s->frames[i].file = get_u32(p + 8);
			s->frames[i].line = get_u32(p + 12);
			s->frames[i].offset = get_u64(p + 16);
			s->frames[i].inlined = p[24] & 1;
		}
		return 0;
	case SEC_STACK_FRAMES:
		s->stack_frames = parse_table(ps, tag, p, len, STACK_FRAME_LEN,
					      sizeof(*s->stack_frames),
					      &s->nstack_frames, &rec, &p);
		if (!s->stack_frames)
			return -1;
		for (i = 0; i < s->nstack_frames; i++, p += rec)
			s->stack_frames[i] = get_u32(p);
		return 0;
	case SEC_STACKS:
		s->stacks =
			parse_table(ps, tag, p, len, STACK_LEN,
				    sizeof(*s->stacks), &s->nstacks, &rec, &p);
		if (!s->stacks)
			return -1;
		for (i = 0; i < s->nstacks; i++, p += rec) {
			s->stacks[i].first = get_u32(p);
			s->stacks[i].nframes = get_u32(p + 4);
		}
		return 0;
	case SEC_TRACES:
		s->traces =
			parse_table(ps, tag, p, len, TRACE_LEN,
				    sizeof(*s->traces), &s->ntraces, &rec, &p);
		if (!s->traces)
			return -1;
		for (i = 0; i < s->ntraces; i++, p += rec) {
			struct hs_trace *t = &s->traces[i];

			t->addr = get_u64(p);
			t->size = get_u64(p + 8);
			t->time_ns = get_u64(p + 16);
			t->pid = get_u32(p + 24);
			t->tid = get_u32(p + 28);
			t->stack = get_u32(p + 32);
			t->total_nframe = get_u32(p + 36);
			t->domain = p[40];
		}
		return 0;
	}
	return 0;
}

static int parse_payload(struct parser *ps, const uint8_t *p, size_t len,
			 uint32_t version)
{
	const uint8_t *end = p + len;
	char msg[160];
	uint64_t slen;
	uint32_t tag;

	while (p < end) {
		if (end - p < SECTION_HDR) {
			fail(ps, "corrupt (truncated section header)");
			return -1;
		}
		tag = get_u32(p);
		slen = get_u64(p + 4);
		p += SECTION_HDR;
		if (slen > (uint64_t)(end - p)) {
			fail(ps, "corrupt (section %u overruns the payload)",
			     tag);
			return -1;
		}
		if (tag > 0 && tag < SEC_MAX) {
			if (ps->seen & 1u << tag) {
				fail(ps, "corrupt (duplicate %s section)",
				     section_names[tag]);
				return -1;
			}
			ps->seen |= 1u << tag;
			if (tag == SEC_META ? parse_meta(ps, p, slen, version) :
					      parse_section(ps, tag, p, slen))
				return -1;
		}
		p += slen;
	}
	if (!(ps->seen & 1u << SEC_META)) {
		fail(ps, "corrupt (no meta section)");
		return -1;
	}
	if (check_snapshot(ps->s, msg, sizeof(msg))) {
		fail(ps, "corrupt (%s)", msg);
		return -1;
	}
	return 0;
}

static struct hs_snapshot *parse(const uint8_t *buf, size_t len,
				 const char *name, char *err, size_t errlen)
{
	struct parser ps = { .name = name, .err = err, .errlen = errlen };
	uint64_t raw_len, clen;
	uint32_t version, flags;
	uint8_t *raw = NULL;
	size_t n;

	if (!len)
		return fail(&ps, "empty file");
	if (memcmp(buf, MAGIC, len < MAGIC_LEN ? len : MAGIC_LEN))
		return fail(&ps, "not a heapsnap snapshot (bad magic)");
	if (len < MAGIC_LEN + 4)
		return fail(&ps, "truncated");
	version = get_u32(buf + MAGIC_LEN);
	if (version != HS_FORMAT_VERSION)
		return fail(
			&ps,
			"unsupported format version %u (this heapsnap reads version %u)",
			version, HS_FORMAT_VERSION);
	if (len < HEADER_LEN)
		return fail(&ps, "truncated");
	if (get_u32(buf + 36) != crc32c(buf, HEADER_LEN - 4))
		return fail(&ps, "corrupt (header checksum mismatch)");
	flags = get_u32(buf + 12);
	raw_len = get_u64(buf + 16);
	clen = get_u64(buf + 24);
	if (flags != FLAG_ZSTD)
		return fail(&ps, "unsupported flags 0x%x", flags);
	if (clen > len - HEADER_LEN)
		return fail(&ps, "truncated");
	if (clen < len - HEADER_LEN)
		return fail(&ps, "corrupt (trailing data after the payload)");
	if (raw_len > clen * MAX_RATIO + MAX_SLACK || raw_len > SIZE_MAX / 2)
		return fail(&ps, "corrupt (implausible payload size %llu)",
			    (unsigned long long)raw_len);
	if (get_u32(buf + 32) != crc32c(buf + HEADER_LEN, clen))
		return fail(&ps, "corrupt (checksum mismatch)");

	raw = malloc(raw_len ? raw_len : 1);
	ps.s = hs_snapshot_new();
	if (!raw || !ps.s) {
		fail(&ps, "%s", strerror(ENOMEM));
		goto fail;
	}
	hs_snapshot_seal(ps.s);
	n = ZSTD_decompress(raw, raw_len, buf + HEADER_LEN, clen);
	if (ZSTD_isError(n)) {
		fail(&ps, "corrupt (zstd: %s)", ZSTD_getErrorName(n));
		goto fail;
	}
	if (n != raw_len) {
		fail(&ps, "corrupt (payload size mismatch)");
		goto fail;
	}
	if (parse_payload(&ps, raw, raw_len, version))
		goto fail;
	free(raw);
	return ps.s;
fail:
	free(raw);
	hs_snapshot_free(ps.s);
	return NULL;
}

struct hs_snapshot *hs_snapfile_parse(const void *buf, size_t len, char *err,
				      size_t errlen)
{
	return parse(buf, len, NULL, err, errlen);
}

/* Reads up to len bytes; fewer only at the end of the file. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

struct hs_snapshot *hs_snapfile_read(const char *path, char *err, size_t errlen)
{
	struct hs_snapshot *s = NULL;
	uint8_t head[HEADER_LEN], *buf = NULL;
	ssize_t nhead, nrest;
	struct stat st;
	size_t size;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st))
		goto sys_fail;
	if (S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "%s: is a directory", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2) {
		errno = EFBIG;
		goto sys_fail;
	}
	size = (size_t)st.st_size;
	nhead = read_full(fd, head, size < HEADER_LEN ? size : HEADER_LEN);
	if (nhead < 0)
		goto sys_fail;
	/* Some other file: say so without reading all of it. */
	if (nhead < HEADER_LEN || memcmp(head, MAGIC, MAGIC_LEN)) {
		s = parse(head, (size_t)nhead, path, err, errlen);
		goto out;
	}
	buf = malloc(size);
	if (!buf)
		goto sys_fail;
	memcpy(buf, head, HEADER_LEN);
	nrest = read_full(fd, buf + HEADER_LEN, size - HEADER_LEN);
	if (nrest < 0)
		goto sys_fail;
	s = parse(buf, HEADER_LEN + (size_t)nrest, path, err, errlen);
	goto out;
sys_fail:
	seterr(err, errlen, "%s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return s;
}
