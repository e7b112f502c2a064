/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The payload of a snapshot file: the model's tables as sections, without
 * the container (header, checksums, compression) that snapfile.c puts
 * around them. Every integer is little-endian.
 */
#ifndef HEAPSNAP_SNAPFILE_PAYLOAD_H
#define HEAPSNAP_SNAPFILE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

static inline uint8_t *hs_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static inline uint8_t *hs_put_u64(uint8_t *p, uint64_t v)
{
	p = hs_put_u32(p, (uint32_t)v);
	return hs_put_u32(p, (uint32_t)(v >> 32));
}

static inline uint32_t hs_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t hs_get_u64(const uint8_t *p)
{
	return (uint64_t)hs_get_u32(p) | (uint64_t)hs_get_u32(p + 4) << 32;
}

/*
 * The invariants every reader of a snapshot relies on: 0, or -1 with the
 * reason in msg. The writer checks them too, so that it never writes a
 * file that cannot be read back.
 */
int hs_payload_check(const struct hs_snapshot *s, char *msg, size_t len);

/*
 * Every section of s but the traces (format version HS_FORMAT_VERSION), in
 * a new buffer of *len bytes; NULL, with the reason in msg, when it cannot
 * be made. The traces section is written record by record, below.
 */
uint8_t *hs_payload_encode_tables(const struct hs_snapshot *s, size_t *len,
				  char *msg, size_t msglen);

/* The traces section: its header, then its n records. */
#define HS_PAYLOAD_TRACES_HDR_LEN 20
#define HS_PAYLOAD_TRACE_LEN 46
uint8_t *hs_payload_put_traces_header(uint8_t *p, uint32_t n);
uint8_t *hs_payload_put_trace(uint8_t *p, const struct hs_trace *t);

/*
 * Fills the new, sealed s from a payload of that format version: 0, or -1
 * with the reason in msg. s then passes hs_payload_check().
 */
int hs_payload_decode(struct hs_snapshot *s, const uint8_t *p, size_t len,
		      uint32_t version, char *msg, size_t msglen);

#endif
