/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The symbolic key of a frame for each key type of the statistics, and a
 * table that interns keys by value: equal keys of two snapshots get one id
 * whatever the string, frame and stack indices of each file are.
 */
#ifndef HEAPSNAP_STATS_KEY_H
#define HEAPSNAP_STATS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"
#include "snapshot.h"

enum hs_fkey_kind {
	HS_FK_UNKNOWN, /* nothing known: "<unknown>" */
	HS_FK_NAME, /* a file or module name */
	HS_FK_FILE_LINE,
	HS_FK_MODULE_OFFSET,
	HS_FK_FUNCTION, /* a function's name, and its file (else module) */
};

struct hs_fkey {
	const char *str; /* NULL for HS_FK_UNKNOWN */
	const char *where; /* HS_FK_FUNCTION: its file or module, or NULL */
	uint64_t num;
	uint8_t kind;
};

struct hs_fkey_entry;

struct hs_fkeys {
	struct hs_fkey *keys; /* by id */
	size_t nkeys, cap;
	struct hs_fkey_entry *index;
	unsigned char *scratch;
	size_t scratch_cap;
};

/* The key of frame fidx of s for key; "<unknown>" when out of range. */
struct hs_fkey hs_frame_fkey(const struct hs_snapshot *s, uint32_t fidx,
			     enum hs_key key);
/* The key of an empty traceback. */
struct hs_fkey hs_fkey_unknown(void);
/* Interns k by value; returns its dense id or HS_NONE without memory. */
uint32_t hs_fkeys_intern(struct hs_fkeys *t, const struct hs_fkey *k);
void hs_fkeys_fini(struct hs_fkeys *t);
/* Orders keys by string, then where, then number, then kind. */
int hs_fkey_cmp(const struct hs_fkey *a, const struct hs_fkey *b);

static inline int hs_cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

#endif
