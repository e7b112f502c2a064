// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Writes snapshot files (laid out as snapfile.c says) as they are made:
 * each trace is encoded and compressed when it comes, so that a snapshot of
 * millions of blocks is never whole in memory. The traces section's header
 * needs their count: it goes in a slot kept before them, filled last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "snapfile.h"
#include "snapfile_payload.h"

#define ZSTD_LEVEL 1
/* A frame of the traces section's header, then a skippable frame. */
#define SLOT_LEN 128
#define SKIPPABLE_MAGIC 0x184d2a50u
#define SKIPPABLE_HDR 8
#define IN_LEN (64 * 1024) /* trace records, encoded, before compression */

struct hs_snapwriter {
	char *path, *tmp;
	int fd;
	int err; /* errno of the first failure, or 0 */
	char why[200]; /* a failure with no errno */
	bool invalid; /* why says what makes the snapshot invalid */
	ZSTD_CCtx *cctx;
	uint8_t *in, *out;
	size_t nin, out_cap;
	uint64_t ntraces;
	uint64_t raw_len, clen; /* of the frame after the slot, so far */
	uint32_t crc; /* of that frame's bytes written */
	uint32_t max_stack;
	struct hs_crc32c crc_tab;
};

/* "cannot write PATH: WHY" in err, WHY in parentheses when invalid. */
static void cannot_write(char *err, size_t errlen, const char *path,
			 bool invalid, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "cannot write %s: %s%s%s", path,
			 invalid ? "invalid snapshot (" : "", why,
			 invalid ? ")" : "");
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

static bool failed(const struct hs_snapwriter *w)
{
	return w->err || w->why[0];
}

static void set_why(struct hs_snapwriter *w, bool invalid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(struct hs_snapwriter *w, bool invalid, const char *fmt, ...)
{
	va_list ap;

	if (failed(w))
		return;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	w->invalid = invalid;
}

static void set_errno(struct hs_snapwriter *w, int e)
{
	if (!failed(w))
		w->err = e ? e : EIO;
}

/* Compresses len bytes at p into the file; mode ZSTD_e_end ends the frame. */
static void compress(struct hs_snapwriter *w, const void *p, size_t len,
		     ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { p, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { w->out, w->out_cap, 0 };

		left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(left)) {
			set_why(w, false, "zstd: %s", ZSTD_getErrorName(left));
			return;
		}
		if (write_all(w->fd, w->out, out.pos)) {
			set_errno(w, errno);
			return;
		}
		w->crc = hs_crc32c_update(&w->crc_tab, w->crc, w->out, out.pos);
		w->clen += out.pos;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	w->raw_len += len;
}

static void flush_in(struct hs_snapwriter *w)
{
	if (w->nin && !failed(w))
		compress(w, w->in, w->nin, ZSTD_e_continue);
	w->nin = 0;
}

static void writer_free(struct hs_snapwriter *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	ZSTD_freeCCtx(w->cctx);
	free(w->tmp);
	free(w->path);
	free(w->in);
	free(w->out);
	free(w);
}

struct hs_snapwriter *hs_snapwriter_open(const char *path, char *err,
					 size_t errlen)
{
	struct hs_snapwriter *w = calloc(1, sizeof(*w));
	int e = ENOMEM;

	if (!w)
		goto fail;
	w->fd = open_temp(path, &w->tmp);
	if (w->fd < 0 || fchmod(w->fd, 0600) ||
	    lseek(w->fd, HS_SNAPFILE_HEADER_LEN + SLOT_LEN, SEEK_SET) < 0) {
		e = errno;
		goto fail;
	}
	w->path = strdup(path);
	w->cctx = ZSTD_createCCtx();
	w->in = malloc(IN_LEN);
	w->out_cap = ZSTD_CStreamOutSize();
	w->out = malloc(w->out_cap);
	if (!w->path || !w->cctx || !w->in || !w->out)
		goto fail;
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	hs_crc32c_init(&w->crc_tab);
	return w;
fail:
	if (w)
		writer_free(w);
	cannot_write(err, errlen, path, false, strerror(e));
	return NULL;
}

void hs_snapwriter_trace(struct hs_snapwriter *w, const struct hs_trace *t)
{
	if (failed(w))
		return;
	if (t->domain >= HS_DOMAIN_COUNT) {
		set_why(w, true, "trace %llu: unknown domain %u",
			(unsigned long long)w->ntraces, t->domain);
		return;
	}
	if (w->nin + HS_PAYLOAD_TRACE_LEN > IN_LEN)
		flush_in(w);
	hs_payload_put_trace(w->in + w->nin, t);
	w->nin += HS_PAYLOAD_TRACE_LEN;
	if (t->stack > w->max_stack || !w->ntraces)
		w->max_stack = t->stack;
	w->ntraces++;
}

uint64_t hs_snapwriter_count(const struct hs_snapwriter *w)
{
	return w->ntraces;
}

/* Are the traces' references good in s, and s itself? */
static void check(struct hs_snapwriter *w, const struct hs_snapshot *s)
{
	char msg[160];

	if (w->ntraces > UINT32_MAX)
		set_why(w, true, "too many items");
	else if (w->ntraces && w->max_stack >= s->nstacks)
		set_why(w, true, "a trace's stack %u out of range",
			w->max_stack);
	else if (hs_payload_check(s, msg, sizeof(msg)))
		set_why(w, true, "%s", msg);
}

/* The rest of the payload: every table but the traces. */
static void write_tables(struct hs_snapwriter *w, const struct hs_snapshot *s)
{
	uint8_t *tables;
	size_t len;

	flush_in(w);
	if (failed(w))
		return;
	tables = hs_payload_encode_tables(s, &len, w->why, sizeof(w->why));
	if (tables)
		compress(w, tables, len, ZSTD_e_end);
	free(tables);
}

/* The header and the slot: the traces section's header, padded. */
static void write_head(struct hs_snapwriter *w)
{
	uint8_t head[HS_SNAPFILE_HEADER_LEN + SLOT_LEN] = { 0 };
	uint8_t *slot = head + HS_SNAPFILE_HEADER_LEN, *p;
	uint8_t sec[HS_PAYLOAD_TRACES_HDR_LEN];
	size_t n;

	if (failed(w))
		return;
	hs_payload_put_traces_header(sec, (uint32_t)w->ntraces);
	n = ZSTD_compress2(w->cctx, slot, SLOT_LEN - SKIPPABLE_HDR, sec,
			   sizeof(sec));
	if (ZSTD_isError(n)) {
		set_why(w, false, "zstd: %s", ZSTD_getErrorName(n));
		return;
	}
	p = hs_put_u32(slot + n, SKIPPABLE_MAGIC);
	hs_put_u32(p, (uint32_t)(SLOT_LEN - n - SKIPPABLE_HDR));
	memcpy(head, HS_SNAPFILE_MAGIC, HS_SNAPFILE_MAGIC_LEN);
	p = hs_put_u32(head + HS_SNAPFILE_MAGIC_LEN, HS_FORMAT_VERSION);
	p = hs_put_u32(p, HS_SNAPFILE_ZSTD);
	p = hs_put_u64(p, sizeof(sec) + w->raw_len);
	p = hs_put_u64(p, SLOT_LEN + w->clen);
	p = hs_put_u32(p, hs_crc32c_combine(hs_crc32c(slot, SLOT_LEN), w->crc,
					    w->clen));
	hs_put_u32(p, hs_crc32c(head, HS_SNAPFILE_HEADER_LEN - 4));
	if (pwrite(w->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		set_errno(w, errno);
}

/* Makes the file durable and puts it at its path. */
static void put_in_place(struct hs_snapwriter *w)
{
	int e;

	if (failed(w))
		return;
	if (fsync(w->fd)) {
		set_errno(w, errno);
		return;
	}
	e = close(w->fd);
	w->fd = -1;
	if (e || rename(w->tmp, w->path)) {
		set_errno(w, errno);
		return;
	}
	free(w->tmp);
	w->tmp = NULL;
	sync_dir(w->path);
}

int hs_snapwriter_close(struct hs_snapwriter *w, const struct hs_snapshot *s,
			char *err, size_t errlen)
{
	int ret;

	if (!failed(w))
		check(w, s);
	write_tables(w, s);
	write_head(w);
	put_in_place(w);
	if (failed(w))
		cannot_write(err, errlen, w->path, w->invalid,
			     w->err ? strerror(w->err) : w->why);
	ret = failed(w) ? -1 : 0;
	writer_free(w);
	return ret;
}

void hs_snapwriter_abort(struct hs_snapwriter *w)
{
	if (w)
		writer_free(w);
}

int hs_snapfile_write(const struct hs_snapshot *s, const char *path, char *err,
		      size_t errlen)
{
	struct hs_snapwriter *w;
	char msg[160];

	if (hs_payload_check(s, msg, sizeof(msg))) {
		cannot_write(err, errlen, path, true, msg);
		return -1;
	}
	w = hs_snapwriter_open(path, err, errlen);
	if (!w)
		return -1;
	for (size_t i = 0; i < s->ntraces; i++)
		hs_snapwriter_trace(w, &s->traces[i]);
	return hs_snapwriter_close(w, s, err, errlen);
}

int hs_snapfile_check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *tmp = NULL;
	int fd;

	/* rename() would replace a symlink there, but not a directory */
	if (!lstat(path, &st) && S_ISDIR(st.st_mode)) {
		cannot_write(err, errlen, path, false, strerror(EISDIR));
		return -1;
	}
	fd = open_temp(path, &tmp);
	if (fd < 0) {
		cannot_write(err, errlen, path, false, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}
