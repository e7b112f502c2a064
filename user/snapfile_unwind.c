// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The unwind sections of a snapshot's payload: what snapfile_unwind.h says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "snapfile_unwind.h"

#define HDR 12 /* u32 tag, u64 length */
#define ENTRY_HEAD (4 + 4 + 1 + 8 + 8)
#define ENTRY_REASONS (HS_STOP_COUNT - 1)
#define ENTRY_LEN (ENTRY_HEAD + 16 * ENTRY_REASONS)
#define STATS_LEN (7 * 8)

_Static_assert(sizeof(struct hs_unwind_stats) == STATS_LEN,
	       "the unwind_stats section holds every figure");

uint64_t hs_unwind_sections_len(const struct hs_snapshot *s)
{
	return HDR + 8 + (uint64_t)s->nunwind * ENTRY_LEN + HDR + STATS_LEN;
}

uint8_t *hs_unwind_sections_put(uint8_t *p, const struct hs_snapshot *s)
{
	const uint64_t *st = (const uint64_t *)&s->unwind_stats;

	p = hs_put_u32(p, HS_SEC_UNWIND);
	p = hs_put_u64(p, 8 + (uint64_t)s->nunwind * ENTRY_LEN);
	p = hs_put_u32(p, (uint32_t)s->nunwind);
	p = hs_put_u32(p, ENTRY_LEN);
	for (size_t i = 0; i < s->nunwind; i++) {
		const struct hs_unwind_entry *e = &s->unwind[i];

		p = hs_put_u32(p, e->module);
		p = hs_put_u32(p, e->note);
		*p++ = e->table;
		p = hs_put_u64(p, e->rows);
		p = hs_put_u64(p, e->bytes);
		for (int k = 1; k < HS_STOP_COUNT; k++) {
			p = hs_put_u64(p, e->stacks[k]);
			p = hs_put_u64(p, e->blocks[k]);
		}
	}
	p = hs_put_u32(p, HS_SEC_UNWIND_STATS);
	p = hs_put_u64(p, STATS_LEN);
	for (size_t i = 0; i < STATS_LEN / 8; i++)
		p = hs_put_u64(p, st[i]);
	return p;
}

static int bad(char *msg, size_t msglen, const char *what)
{
	if (msg && msglen)
		snprintf(msg, msglen, "corrupt (bad %s section)", what);
	return -1;
}

static int parse_entries(struct hs_snapshot *s, const uint8_t *p, uint64_t len,
			 char *msg, size_t msglen)
{
	uint32_t n, rec;
	size_t reasons;

	if (len < 8)
		return bad(msg, msglen, "unwind");
	n = hs_get_u32(p);
	rec = hs_get_u32(p + 4);
	if (rec < ENTRY_HEAD || (uint64_t)n * rec != len - 8)
		return bad(msg, msglen, "unwind");
	s->unwind = calloc(n ? n : 1, sizeof(*s->unwind));
	if (!s->unwind) {
		snprintf(msg, msglen, "%s", strerror(ENOMEM));
		return -1;
	}
	s->nunwind = s->cap.unwind = n;
	reasons = (rec - ENTRY_HEAD) / 16;
	if (reasons > ENTRY_REASONS)
		reasons = ENTRY_REASONS;
	for (p += 8; n--; p += rec) {
		struct hs_unwind_entry *e = &s->unwind[s->nunwind - n - 1];

		e->module = hs_get_u32(p);
		e->note = hs_get_u32(p + 4);
		e->table = p[8] < HS_UT_COUNT ? p[8] : HS_UT_UNKNOWN;
		e->rows = hs_get_u64(p + 9);
		e->bytes = hs_get_u64(p + 17);
		for (size_t k = 0; k < reasons; k++) {
			e->stacks[k + 1] = hs_get_u64(p + ENTRY_HEAD + 16 * k);
			e->blocks[k + 1] =
				hs_get_u64(p + ENTRY_HEAD + 16 * k + 8);
		}
	}
	return 0;
}

int hs_unwind_section_parse(struct hs_snapshot *s, uint32_t tag,
			    const uint8_t *p, uint64_t len, char *msg,
			    size_t msglen)
{
	uint64_t *st = (uint64_t *)&s->unwind_stats;

	if (tag == HS_SEC_UNWIND)
		return parse_entries(s, p, len, msg, msglen);
	if (len < STATS_LEN)
		return bad(msg, msglen, "unwind_stats");
	for (size_t i = 0; i < STATS_LEN / 8; i++)
		st[i] = hs_get_u64(p + 8 * i);
	return 0;
}

int hs_unwind_check(const struct hs_snapshot *s, char *msg, size_t msglen)
{
	for (size_t i = 0; i < s->nunwind; i++) {
		const struct hs_unwind_entry *e = &s->unwind[i];

		if ((e->module != HS_NONE && e->module >= s->nstrings) ||
		    (e->note != HS_NONE && e->note >= s->nstrings) ||
		    e->table >= HS_UT_COUNT) {
			snprintf(msg, msglen, "unwind entry %zu out of range",
				 i);
			return -1;
		}
	}
	return 0;
}
