// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* CRC-32C (Castagnoli): slicing by 8, and combining two CRCs. */
#include <endian.h>
#include <string.h>

#include "crc32c.h"

#define POLY 0x82f63b78u /* reflected */

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

void hs_crc32c_init(struct hs_crc32c *c)
{
	uint32_t v;
	int i, k;

	for (i = 0; i < 256; i++) {
		v = (uint32_t)i;
		for (k = 0; k < 8; k++)
			v = v & 1 ? (v >> 1) ^ POLY : v >> 1;
		c->t[0][i] = v;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			c->t[k][i] = (c->t[k - 1][i] >> 8) ^
				     c->t[0][c->t[k - 1][i] & 0xff];
}

uint32_t hs_crc32c_update(const struct hs_crc32c *c, uint32_t crc,
			  const void *buf, size_t len)
{
	const uint32_t(*t)[256] = c->t;
	const uint8_t *p = buf;
	uint32_t lo, hi;

	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		lo = get_le32(p) ^ crc;
		hi = get_le32(p + 4);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

uint32_t hs_crc32c(const void *buf, size_t len)
{
	struct hs_crc32c c;

	hs_crc32c_init(&c);
	return hs_crc32c_update(&c, 0, buf, len);
}

/* a * b modulo the polynomial, bit-reflected: x^0 is the top bit. */
static uint32_t mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (; m; m >>= 1) {
		if (a & m)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
	}
	return p;
}

/* x^(8 * len) modulo the polynomial: len zero bytes appended. */
static uint32_t shift_of(uint64_t len)
{
	uint32_t p = 1u << 31, sq = 1u << 23; /* x^0, and x^8 */

	for (; len; len >>= 1) {
		if (len & 1)
			p = mulmod(p, sq);
		sq = mulmod(sq, sq);
	}
	return p;
}

uint32_t hs_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return mulmod(crc_a, shift_of(len_b)) ^ crc_b;
}
