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

#include "le.h"
#include "snapshot.h"

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
