/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A module's call-frame information (.eh_frame, and .debug_frame where the
 * file or its separate debug file has one), read with libdw and compacted
 * into the rows the BPF unwinder searches (struct hs_cfi_row).
 */
#ifndef HEAPSNAP_CFI_H
#define HEAPSNAP_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapsnap.h"

struct hs_cfi_table {
	struct hs_cfi_row *rows; /* sorted by pc, no two in a row alike */
	size_t n;
	uint64_t lo, hi; /* the ELF addresses the rows cover */
	bool frame_pointers; /* the code keeps %rbp as a frame pointer */
	size_t nfdes; /* FDEs whose rows are in the table */
	size_t nbad; /* FDEs unreadable, dropped or cut short */
};

/*
 * Builds the table of the ELF file open at fd (not consumed). Addresses
 * covered by no FDE get an HS_CFA_NONE row, and so does hi: the last row
 * is HS_CFA_NONE (before hi when the code before hi has no rule either).
 * A malformed FDE is skipped or cut short (counted in nbad) rather than
 * failing the whole table. Returns 0, or a negative errno with a one-line
 * reason in err: -ENOEXEC not a usable x86-64 ELF file, -ENOENT no FDE,
 * -E2BIG addresses above 4 GiB, -ENOMEM.
 */
int hs_cfi_build(int fd, struct hs_cfi_table *t, char *err, size_t errlen);
void hs_cfi_free(struct hs_cfi_table *t);

#endif
