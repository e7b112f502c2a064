// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Rows packed in blocks over a shared table of rules. A block starts at
 * its first row's address and holds the next rows while their offsets from
 * it fit 16 bits; its unused rows repeat its last one, so that a search
 * for "the last row at or below x" over all its rows finds the right rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfi_pack.h"

static uint64_t rule_hash(const struct hs_cfi_rule *r)
{
	uint64_t h = (uint32_t)r->cfa_off;

	h = (h << 16 | r->cfa_reg << 8 | (uint8_t)r->rbp_off) *
	    0x9E3779B97F4A7C15ULL;
	return h ^ h >> 29;
}

static bool same_rule(const struct hs_cfi_rule *a, const struct hs_cfi_rule *b)
{
	return a->cfa_off == b->cfa_off && a->cfa_reg == b->cfa_reg &&
	       a->rbp_off == b->rbp_off;
}

int hs_cfi_rules_init(struct hs_cfi_rules *d, size_t max)
{
	*d = (struct hs_cfi_rules){ .max = max ? max : 1 };
	if (d->max > HS_CFI_RULES)
		d->max = HS_CFI_RULES;
	/* at most half full: short probes */
	d->nslots = 2;
	while (d->nslots < 2 * d->max)
		d->nslots *= 2;
	d->rules = calloc(d->max, sizeof(*d->rules));
	d->slots = calloc(d->nslots, sizeof(*d->slots));
	if (!d->rules || !d->slots) {
		hs_cfi_rules_free(d);
		return -ENOMEM;
	}
	d->rules[0] = (struct hs_cfi_rule){ .cfa_reg = HS_CFA_NONE };
	d->slots[rule_hash(&d->rules[0]) & (d->nslots - 1)] = 1;
	d->n = 1;
	return 0;
}

void hs_cfi_rules_free(struct hs_cfi_rules *d)
{
	free(d->rules);
	free(d->slots);
	*d = (struct hs_cfi_rules){ 0 };
}

/* The index of r, added when new; -ENOSPC when the table is full. */
static int intern(struct hs_cfi_rules *d, const struct hs_cfi_rule *r)
{
	size_t mask = d->nslots - 1, i = rule_hash(r) & mask;

	for (; d->slots[i]; i = (i + 1) & mask)
		if (same_rule(&d->rules[d->slots[i] - 1], r))
			return d->slots[i] - 1;
	if (d->n == d->max)
		return -ENOSPC;
	d->rules[d->n] = *r;
	d->slots[i] = (uint16_t)(d->n + 1);
	return (int)d->n++;
}

/* Fills the rest of block b from its row k on with row k - 1. */
static void fill(struct hs_cfi_block *b, size_t k)
{
	for (; k < HS_CFI_BLOCK_ROWS; k++) {
		b->off[k] = b->off[k - 1];
		b->rule[k] = b->rule[k - 1];
	}
}

int hs_cfi_pack(const struct hs_cfi_table *t, struct hs_cfi_rules *d,
		struct hs_cfi_packed *out)
{
	struct hs_cfi_block *b = NULL;
	size_t n = 0, k = HS_CFI_BLOCK_ROWS;
	int id;

	*out = (struct hs_cfi_packed){ 0 };
	/* a block per row at worst */
	if (t->n > UINT32_MAX)
		return -E2BIG;
	out->blocks = calloc(t->n ? t->n : 1, sizeof(*out->blocks));
	if (!out->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct hs_cfi_row *r = &t->rows[i];
		struct hs_cfi_rule rule = { .cfa_off = r->cfa_off,
					    .cfa_reg = r->cfa_reg,
					    .rbp_off = r->rbp_off };

		id = intern(d, &rule);
		if (id < 0) {
			hs_cfi_packed_free(out);
			return id;
		}
		if (k == HS_CFI_BLOCK_ROWS || r->pc - b->base > UINT16_MAX) {
			if (b)
				fill(b, k);
			b = &out->blocks[n++];
			b->base = r->pc;
			k = 0;
		}
		b->off[k] = (uint16_t)(r->pc - b->base);
		b->rule[k++] = (uint16_t)id;
	}
	if (b)
		fill(b, k);
	out->n = n;
	return 0;
}

void hs_cfi_packed_free(struct hs_cfi_packed *p)
{
	free(p->blocks);
	*p = (struct hs_cfi_packed){ 0 };
}

bool hs_cfi_packed_find(const struct hs_cfi_packed *p,
			const struct hs_cfi_rules *d, uint64_t x,
			struct hs_cfi_rule *out)
{
	size_t lo = 0, hi = p->n, mid;
	const struct hs_cfi_block *b;
	uint32_t k = 0, n = HS_CFI_BLOCK_ROWS, m;

	if (x > UINT32_MAX)
		return false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->blocks[mid].base <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	b = &p->blocks[lo - 1];
	/* the BPF side's steps: the last row whose offset is at most x's */
	for (int step = 0; step < 4; step++) {
		m = (k + n) / 2;
		if (k < n && m < HS_CFI_BLOCK_ROWS) {
			if (b->off[m] <= x - b->base)
				k = m + 1;
			else
				n = m;
		}
	}
	k = k ? k - 1 : 0;
	if (b->rule[k] >= d->n)
		return false;
	*out = d->rules[b->rule[k]];
	return true;
}
