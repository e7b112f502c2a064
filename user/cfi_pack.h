/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A module's rows (cfi.h) packed as the BPF unwinder searches them: blocks
 * of HS_CFI_BLOCK_ROWS rows, each an address offset and the index of its
 * rule in one table of distinct rules that every module shares. About 4.3
 * bytes a row, where the rows of a module repeat a few hundred rules.
 */
#ifndef HEAPSNAP_CFI_PACK_H
#define HEAPSNAP_CFI_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi.h"

/* The distinct rules; rule 0 is HS_CFA_NONE. */
struct hs_cfi_rules {
	struct hs_cfi_rule *rules;
	size_t n, max;
	uint16_t *slots; /* open addressing: rule index + 1, 0 when empty */
	size_t nslots;
};

/* At most max (<= HS_CFI_RULES) rules. Returns 0 or -ENOMEM. */
int hs_cfi_rules_init(struct hs_cfi_rules *d, size_t max);
void hs_cfi_rules_free(struct hs_cfi_rules *d);

struct hs_cfi_packed {
	struct hs_cfi_block *blocks;
	size_t n;
};

/*
 * Packs t's rows, adding the rules it lacks to d (d->n grows: rules from
 * the old d->n on are new). Returns 0, -ENOSPC when d is full (rules
 * added before stay), -E2BIG for more blocks than a u32 counts, -ENOMEM.
 */
int hs_cfi_pack(const struct hs_cfi_table *t, struct hs_cfi_rules *d,
		struct hs_cfi_packed *out);
void hs_cfi_packed_free(struct hs_cfi_packed *p);

/*
 * The rule of ELF address x, searched as the BPF side does; false below
 * the first row.
 */
bool hs_cfi_packed_find(const struct hs_cfi_packed *p,
			const struct hs_cfi_rules *d, uint64_t x,
			struct hs_cfi_rule *out);

#endif
