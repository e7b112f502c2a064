/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Little-endian integers in byte buffers, as snapshot files store them. */
#ifndef HEAPSNAP_LE_H
#define HEAPSNAP_LE_H

#include <stdint.h>

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

#endif
