// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Folded stacks: one line per stack, "root;...;leaf bytes", the frames
 * named as flame graphs name them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "export.h"
#include "grow.h"
#include "htab.h"

#define NAME_MAX_LEN 4096

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *str)
{
	size_t n = strlen(str);

	if (hs_grow(&b->p, &b->cap, b->len + n + 1, 1))
		return -1;
	memcpy(b->p + b->len, str, n + 1);
	b->len += n;
	return 0;
}

/* ';' separates frames and the line ends the record: neither is in a name. */
static void folded_clean(char *name)
{
	for (; *name; name++)
		if (*name == ';' || (unsigned char)*name < 0x20)
			*name = '_';
}

/* "root;...;leaf" for one stack, outermost frame first. */
static char *folded_stack(const struct hs_snapshot *s, const uint32_t *frames,
			  uint32_t n)
{
	struct sbuf b = { NULL, 0, 0 };
	char name[NAME_MAX_LEN];
	uint32_t i;

	if (!n && sbuf_add(&b, "<unknown>"))
		return NULL;
	for (i = n; i-- > 0;) {
		hs_frame_name(s, frames[i], name, sizeof(name));
		folded_clean(name);
		if ((i + 1 < n && sbuf_add(&b, ";")) || sbuf_add(&b, name)) {
			free(b.p);
			return NULL;
		}
	}
	return b.p;
}

struct folded_entry {
	UT_hash_handle hh;
	size_t line; /* index in hs_folded.lines */
};

static int cmp_folded(const void *a, const void *b)
{
	const struct hs_folded_line *x = a, *y = b;

	return strcmp(x->stack, y->stack);
}

/* Adds bytes to the line of stack str, which it takes over. */
static int folded_add(struct hs_folded *f, size_t *cap,
		      struct folded_entry **index, char *str,
		      const struct hs_sum *sum)
{
	struct folded_entry *e;

	HASH_FIND_STR(*index, str, e);
	if (e) {
		free(str);
		f->lines[e->line].bytes += sum->bytes;
		f->lines[e->line].count += sum->count;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || hs_grow(&f->lines, cap, f->nlines + 1, sizeof(*f->lines))) {
		free(e);
		free(str);
		return -1;
	}
	e->line = f->nlines++;
	f->lines[e->line] =
		(struct hs_folded_line){ str, sum->bytes, sum->count };
	HASH_ADD_KEYPTR(hh, *index, str, strlen(str), e);
	return 0;
}

int hs_folded_build(const struct hs_snapshot *s, const struct hs_query *q,
		    struct hs_folded *out)
{
	struct folded_entry *index = NULL;
	const struct hs_sum *sum;
	struct hs_sums sums;
	size_t i, cap = 0;
	const uint32_t *frames;
	uint32_t n;
	char *str;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (hs_stack_sums(s, q, &sums))
		return -1;
	for (i = 0; i < sums.nslots && !err; i++) {
		sum = &sums.slots[i];
		if (!sum->bytes)
			continue;
		frames = hs_stack_frames(s, i, &n);
		str = folded_stack(s, frames, n);
		err = !str || folded_add(out, &cap, &index, str, sum);
		out->total_bytes += sum->bytes;
		out->total_count += sum->count;
	}
	HS_HASH_FREE(index);
	hs_sums_free(&sums);
	if (err) {
		hs_folded_free(out);
		return -1;
	}
	if (out->nlines)
		qsort(out->lines, out->nlines, sizeof(*out->lines), cmp_folded);
	return 0;
}

void hs_folded_write(FILE *out, const struct hs_folded *f)
{
	size_t i;

	for (i = 0; i < f->nlines; i++)
		fprintf(out, "%s %" PRIu64 "\n", f->lines[i].stack,
			f->lines[i].bytes);
}

void hs_folded_free(struct hs_folded *f)
{
	size_t i;

	for (i = 0; i < f->nlines; i++)
		free(f->lines[i].stack);
	free(f->lines);
	memset(f, 0, sizeof(*f));
}
