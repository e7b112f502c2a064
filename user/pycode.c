// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * CPython 3.11+ location tables and str objects, decoded. The table is a
 * sequence of entries, each covering 1 to 8 code units: a first byte with
 * bit 7 set, the entry's kind in bits 3-6 and its length - 1 in bits 0-2,
 * then the kind's operands (CPython's Objects/locations.md).
 */
#include <string.h>

#include "pycode.h"

enum {
	LOC_ONE_LINE0 = 10, /* the line of the entry before */
	LOC_ONE_LINE1 = 11, /* one more */
	LOC_ONE_LINE2 = 12, /* two more */
	LOC_NO_COLUMNS = 13, /* a signed line delta */
	LOC_LONG = 14, /* a signed line delta, then end line and columns */
	LOC_NONE = 15, /* no line */
};

/* An unsigned varint of 6-bit groups, bit 6 set on all but the last. */
static uint32_t varint(const uint8_t *p, const uint8_t *end)
{
	uint32_t val = 0, shift = 0;

	while (p < end && shift < 32) {
		val |= (uint32_t)(*p & 63) << shift;
		if (!(*p++ & 64))
			break;
		shift += 6;
	}
	return val;
}

static int line_delta(const uint8_t *p, const uint8_t *end)
{
	uint32_t v;

	switch ((*p >> 3) & 15) {
	case LOC_NO_COLUMNS:
	case LOC_LONG:
		v = varint(p + 1, end);
		return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
	case LOC_ONE_LINE1:
		return 1;
	case LOC_ONE_LINE2:
		return 2;
	default:
		return 0;
	}
}

int hs_pycode_line(const uint8_t *table, size_t len, int firstlineno,
		   uint32_t addr)
{
	const uint8_t *p = table, *end = table + len;
	int line = firstlineno;
	uint32_t at = 0;

	while (p < end) {
		if (!(*p & 128))
			return 0; /* not the start of an entry: damaged */
		line += line_delta(p, end);
		at += (uint32_t)(*p & 7) + 1;
		if (addr < at)
			return (*p >> 3) == 0x1f || line < 0 ? 0 : line;
		do
			p++;
		while (p < end && !(*p & 128));
	}
	return 0;
}

#define STATE_KIND(s) (((s) >> 2) & 7)
#define STATE_COMPACT(s) (((s) >> 5) & 1)
#define STATE_ASCII(s) (((s) >> 6) & 1)

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Appends code point c as UTF-8 if it fits; false when it does not. */
static int put_utf8(char *out, size_t outlen, size_t *n, uint32_t c)
{
	char b[4];
	size_t k;

	if (c < 0x80) {
		b[0] = (char)c;
		k = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 63));
		k = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 63));
		b[2] = (char)(0x80 | (c & 63));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | ((c >> 18) & 7));
		b[1] = (char)(0x80 | ((c >> 12) & 63));
		b[2] = (char)(0x80 | ((c >> 6) & 63));
		b[3] = (char)(0x80 | (c & 63));
		k = 4;
	}
	if (*n + k >= outlen)
		return 0;
	memcpy(out + *n, b, k);
	*n += k;
	return 1;
}

int hs_pystr_decode(const uint8_t *obj, size_t objlen,
		    const struct hs_pystr_layout *l, char *out, size_t outlen)
{
	uint32_t state, kind, c;
	size_t data, length, have, n = 0;
	int64_t len;

	if (!outlen || l->state + 4 > objlen || l->length + 8 > objlen)
		return -1;
	memcpy(&len, obj + l->length, sizeof(len));
	state = get_u32(obj + l->state);
	kind = STATE_KIND(state);
	if (len < 0 || !STATE_COMPACT(state) ||
	    (kind != 1 && kind != 2 && kind != 4))
		return -1;
	data = STATE_ASCII(state) ? l->ascii_size : l->compact_size;
	if (data > objlen)
		return -1;
	length = (size_t)len;
	have = (objlen - data) / kind;
	if (length > have)
		length = have;
	for (size_t i = 0; i < length; i++) {
		const uint8_t *p = obj + data + i * kind;

		if (kind == 1)
			c = *p;
		else if (kind == 2)
			c = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		else
			c = get_u32(p);
		if (c > 0x10ffff || !put_utf8(out, outlen, &n, c))
			break;
	}
	out[n] = '\0';
	return (int)n;
}
