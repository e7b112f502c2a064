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

/*
 * One row: from pc up to the next row's pc, the CFA is cfa_reg (enum
 * hs_cfa_reg) plus cfa_off and rbp is recovered as rbp_off says
 * (HS_RBP_SAME, HS_RBP_UNDEF, or saved at CFA + 8 * rbp_off).
 */
struct hs_cfi_row {
	uint32_t pc; /* ELF virtual address inside the module */
	int32_t cfa_off;
	uint8_t cfa_reg;
	int8_t rbp_off;
};

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
 * The exception is the file's entry point: where no FDE covers it, the
 * code from there to the next FDE is the outermost frame (HS_CFA_END).
 * A malformed FDE is skipped or cut short (counted in nbad) rather than
 * failing the whole table. Returns 0, or a negative errno with a one-line
 * reason in err: -ENOEXEC not a usable x86-64 ELF file, -ENOENT no FDE,
 * -E2BIG addresses above 4 GiB, -ENOMEM.
 */
int hs_cfi_build(int fd, struct hs_cfi_table *t, char *err, size_t errlen);
void hs_cfi_free(struct hs_cfi_table *t);

#endif
