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
 * Files are written to a temporary file next to their path and renamed.
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
#include "snapfile_payload.h"

#define MAGIC "HSNAP\r\n\x1a"
#define MAGIC_LEN 8
#define HEADER_LEN 40
#define FLAG_ZSTD 0x1u
#define ZSTD_LEVEL 1

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
		lo = hs_get_u32(p) ^ crc;
		hi = hs_get_u32(p + 4);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* Writing */

/* Returns the whole file image (header and compressed payload). */
static uint8_t *build_file(const struct hs_snapshot *s, size_t *file_len,
			   char *msg, size_t msglen)
{
	uint8_t *raw, *file = NULL, *p;
	ZSTD_CCtx *cctx = NULL;
	size_t raw_len, bound, clen;

	raw = hs_payload_encode(s, &raw_len, msg, msglen);
	if (!raw)
		return NULL;
	bound = ZSTD_compressBound(raw_len);
	if (!ZSTD_isError(bound))
		file = malloc(HEADER_LEN + bound);
	cctx = ZSTD_createCCtx();
	if (!file || !cctx) {
		seterr(msg, msglen, "%s", strerror(ENOMEM));
		goto fail;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	clen = ZSTD_compress2(cctx, file + HEADER_LEN, bound, raw, raw_len);
	if (ZSTD_isError(clen)) {
		seterr(msg, msglen, "zstd: %s", ZSTD_getErrorName(clen));
		goto fail;
	}
	memcpy(file, MAGIC, MAGIC_LEN);
	p = hs_put_u32(file + MAGIC_LEN, HS_FORMAT_VERSION);
	p = hs_put_u32(p, FLAG_ZSTD);
	p = hs_put_u64(p, raw_len);
	p = hs_put_u64(p, clen);
	p = hs_put_u32(p, crc32c(file + HEADER_LEN, clen));
	hs_put_u32(p, crc32c(file, HEADER_LEN - 4));
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

/*
 * Under sudo, the file goes to the user who ran it: root wrote it for them,
 * and their next command (heapsnap top) runs without sudo.
 */
static void give_to_invoker(int fd)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	unsigned long uid, gid;
	char *end;

	if (geteuid() || !u || !g || !*u || !*g)
		return;
	errno = 0;
	uid = strtoul(u, &end, 10);
	if (errno || *end || *u < '0' || *u > '9' || !uid || uid >= UINT32_MAX)
		return;
	gid = strtoul(g, &end, 10);
	if (errno || *end || *g < '0' || *g > '9' || gid >= UINT32_MAX)
		return;
	/* a file system that refuses leaves it root's, written all the same */
	if (fchown(fd, (uid_t)uid, (gid_t)gid))
		errno = 0;
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

	if (hs_payload_check(s, msg, sizeof(msg))) {
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
	give_to_invoker(fd);
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
	if (hs_get_u32(buf + 36) != crc32c(buf, HEADER_LEN - 4))
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
	if (hs_get_u32(buf + 32) != crc32c(buf + HEADER_LEN, clen))
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
