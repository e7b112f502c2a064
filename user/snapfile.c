// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The snapshot file: a header, then the payload (snapfile_payload.c)
 * compressed. Every integer is little-endian.
 *
 * Header, 40 bytes:
 *    0  magic "HSNAP\r\n\x1a"
 *    8  u32 format version (HS_FORMAT_OLDEST to HS_FORMAT_VERSION)
 *   12  u32 flags; bit 0: the payload is zstd-compressed (always set)
 *   16  u64 payload size, uncompressed
 *   24  u64 payload size, compressed: the rest of the file
 *   32  u32 CRC-32C of the compressed payload
 *   36  u32 CRC-32C of header bytes 0..35
 *
 * The compressed payload is one or more zstd frames, skippable frames
 * among them, which decompress one after the other into the payload.
 * The writer (snapwrite.c) streams the traces: its files hold a frame of
 * the traces section's header (once their count is known), a skippable
 * frame that pads it to a fixed size, then one frame of the trace records
 * followed by the other sections.
 *
 * Files are written to a temporary file next to their path and renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "snapfile.h"
#include "snapfile_payload.h"

#define MAGIC HS_SNAPFILE_MAGIC
#define MAGIC_LEN HS_SNAPFILE_MAGIC_LEN
#define HEADER_LEN HS_SNAPFILE_HEADER_LEN
#define FLAG_ZSTD HS_SNAPFILE_ZSTD

/* zstd cannot expand data much beyond this; more means a forged header. */
#define MAX_RATIO 1000
#define MAX_SLACK (64ull << 20)

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

/* Reading */

/* Where a read reports what went wrong. */
struct reader {
	const char *name; /* prefix of error messages, or NULL */
	char *err;
	size_t errlen;
};

static int fail(const struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct reader *rd, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->name)
		seterr(rd->err, rd->errlen, "%s: %s", rd->name, msg);
	else
		seterr(rd->err, rd->errlen, "%s", msg);
	return -1;
}

/* Checks the header: the payload's format version, or -1. */
static int check_header(const struct reader *rd, const uint8_t *buf, size_t len)
{
	uint64_t raw_len, clen;
	uint32_t version, flags;

	if (!len)
		return fail(rd, "empty file");
	if (memcmp(buf, MAGIC, len < MAGIC_LEN ? len : MAGIC_LEN))
		return fail(rd, "not a heapsnap snapshot (bad magic)");
	if (len < MAGIC_LEN + 4)
		return fail(rd, "truncated");
	version = hs_get_u32(buf + MAGIC_LEN);
	if (version < HS_FORMAT_OLDEST || version > HS_FORMAT_VERSION)
		return fail(
			rd,
			"unsupported format version %u (this heapsnap reads versions %u to %u)",
			version, HS_FORMAT_OLDEST, HS_FORMAT_VERSION);
	if (len < HEADER_LEN)
		return fail(rd, "truncated");
	if (hs_get_u32(buf + 36) != hs_crc32c(buf, HEADER_LEN - 4))
		return fail(rd, "corrupt (header checksum mismatch)");
	flags = hs_get_u32(buf + 12);
	raw_len = hs_get_u64(buf + 16);
	clen = hs_get_u64(buf + 24);
	if (flags != FLAG_ZSTD)
		return fail(rd, "unsupported flags 0x%x", flags);
	if (clen > len - HEADER_LEN)
		return fail(rd, "truncated");
	if (clen < len - HEADER_LEN)
		return fail(rd, "corrupt (trailing data after the payload)");
	if (raw_len > clen * MAX_RATIO + MAX_SLACK || raw_len > SIZE_MAX / 2)
		return fail(rd, "corrupt (implausible payload size %llu)",
			    (unsigned long long)raw_len);
	if (hs_get_u32(buf + 32) != hs_crc32c(buf + HEADER_LEN, clen))
		return fail(rd, "corrupt (checksum mismatch)");
	return (int)version;
}

static struct hs_snapshot *parse(const uint8_t *buf, size_t len,
				 const char *name, char *err, size_t errlen)
{
	struct reader rd = { .name = name, .err = err, .errlen = errlen };
	int version = check_header(&rd, buf, len);
	struct hs_snapshot *s = NULL;
	uint64_t raw_len;
	uint8_t *raw = NULL;
	char msg[160];
	size_t n;

	if (version < 0)
		return NULL;
	raw_len = hs_get_u64(buf + 16);
	raw = malloc(raw_len ? raw_len : 1);
	s = hs_snapshot_new();
	if (!raw || !s) {
		fail(&rd, "%s", strerror(ENOMEM));
		goto fail;
	}
	hs_snapshot_seal(s);
	n = ZSTD_decompress(raw, raw_len, buf + HEADER_LEN, len - HEADER_LEN);
	if (ZSTD_isError(n)) {
		fail(&rd, "corrupt (zstd: %s)", ZSTD_getErrorName(n));
		goto fail;
	}
	if (n != raw_len) {
		fail(&rd, "corrupt (payload size mismatch)");
		goto fail;
	}
	if (hs_payload_decode(s, raw, raw_len, (uint32_t)version, msg,
			      sizeof(msg))) {
		fail(&rd, "%s", msg);
		goto fail;
	}
	free(raw);
	return s;
fail:
	free(raw);
	hs_snapshot_free(s);
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
