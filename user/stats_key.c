// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Frames' symbolic keys, interned by value. */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "aggregate.h"
#include "grow.h"
#include "htab.h"
#include "stats_key.h"

struct hs_fkey_entry {
	UT_hash_handle hh;
	uint32_t id;
	size_t len;
	unsigned char bytes[];
};

static struct hs_fkey fkey_of(enum hs_fkey_kind kind, const char *str,
			      uint64_t num)
{
	struct hs_fkey k = { .str = str, .num = num, .kind = (uint8_t)kind };

	if (!str)
		k = hs_fkey_unknown();
	return k;
}

struct hs_fkey hs_fkey_unknown(void)
{
	return (struct hs_fkey){ .kind = HS_FK_UNKNOWN };
}

struct hs_fkey hs_frame_fkey(const struct hs_snapshot *s, uint32_t fidx,
			     enum hs_key key)
{
	struct hs_frame_view v;

	if (fidx >= s->nframes)
		return hs_fkey_unknown();
	hs_frame_view(s, fidx, &v);
	switch (key) {
	case HS_KEY_FILENAME:
		return fkey_of(HS_FK_NAME, v.file ? v.file : v.module, 0);
	case HS_KEY_FUNCTION:
		/* a function, wherever in it the call was: never one line */
		if (v.function) {
			struct hs_fkey k =
				fkey_of(HS_FK_FUNCTION, v.function, 0);

			k.where = v.file ? v.file : v.module;
			return k;
		}
		return fkey_of(HS_FK_MODULE_OFFSET, v.module, v.offset);
	case HS_KEY_MODULE:
		return fkey_of(HS_FK_NAME, v.module, 0);
	default:
		if (v.file)
			return fkey_of(HS_FK_FILE_LINE, v.file, v.line);
		return fkey_of(HS_FK_MODULE_OFFSET, v.module, v.offset);
	}
}

static int str_cmp(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? 1 : -1;
	return strcmp(a, b);
}

int hs_fkey_cmp(const struct hs_fkey *a, const struct hs_fkey *b)
{
	int c = str_cmp(a->str, b->str);

	if (c)
		return c;
	c = str_cmp(a->where, b->where);
	if (c)
		return c;
	c = hs_cmp_u64(a->num, b->num);
	return c ? c : hs_cmp_u64(a->kind, b->kind);
}

/* The bytes of a key: kind, number, the string and where, each ended. */
uint32_t hs_fkeys_intern(struct hs_fkeys *t, const struct hs_fkey *k)
{
	size_t slen = k->str ? strlen(k->str) + 1 : 0;
	size_t wlen = k->where ? strlen(k->where) + 1 : 0;
	size_t len = 9 + slen + wlen;
	struct hs_fkey_entry *e;
	uint32_t id;

	if (hs_grow_zeroed(&t->scratch, &t->scratch_cap, len, 1))
		return HS_NONE;
	t->scratch[0] = k->kind;
	memcpy(t->scratch + 1, &k->num, 8);
	if (slen)
		memcpy(t->scratch + 9, k->str, slen);
	if (wlen)
		memcpy(t->scratch + 9 + slen, k->where, wlen);
	HASH_FIND(hh, t->index, t->scratch, len, e);
	if (e)
		return e->id;
	if (t->nkeys >= HS_NONE ||
	    hs_grow_zeroed(&t->keys, &t->cap, t->nkeys + 1, sizeof(*t->keys)))
		return HS_NONE;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return HS_NONE;
	id = (uint32_t)t->nkeys++;
	t->keys[id] = *k;
	e->id = id;
	e->len = len;
	memcpy(e->bytes, t->scratch, len);
	HASH_ADD(hh, t->index, bytes[0], len, e);
	return id;
}

void hs_fkeys_fini(struct hs_fkeys *t)
{
	HS_HASH_FREE(t->index);
	free(t->keys);
	free(t->scratch);
	memset(t, 0, sizeof(*t));
}
