/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* CRC-32C (Castagnoli), the checksum of snapshot files. */
#ifndef HEAPSNAP_CRC32C_H
#define HEAPSNAP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The tables of slicing by 8. */
struct hs_crc32c {
	uint32_t t[8][256];
};

void hs_crc32c_init(struct hs_crc32c *c);
/* The CRC of what crc covered followed by buf; 0 covers nothing. */
uint32_t hs_crc32c_update(const struct hs_crc32c *c, uint32_t crc,
			  const void *buf, size_t len);
/* The CRC of buf alone. */
uint32_t hs_crc32c(const void *buf, size_t len);
/* The CRC of A then B, from A's CRC, B's CRC and B's length. */
uint32_t hs_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

#endif
