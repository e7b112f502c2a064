/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A module's call-frame information (.eh_frame, and .debug_frame where the
 * file or its separate debug file has one), read with libdw and compacted
 * into the rows the BPF unwinder searches (struct hs_cfi_row).
 */
#ifndef HEAPSNAP_CFI_H
#define HEAPSNAP_CFI_H

#include <stddef.h>
#include <stdint.h>

#include "heapsnap.h"

struct hs_cfi_table {
	struct hs_cfi_row *rows; /* sorted by pc, no two in a row alike */
	size_t n;
	uint64_t lo, hi; /* the ELF addresses the rows cover */
	bool frame_pointers; /* the code keeps %rbp as a frame pointer */
};

/*
 * Builds the table of the ELF file open at fd (not consumed). Addresses
 * covered by no FDE get an HS_CFA_NONE row. Returns 0, or a negative errno
 * with a one-line reason in err.
 */
int hs_cfi_build(int fd, struct hs_cfi_table *t, char *err, size_t errlen);
void hs_cfi_free(struct hs_cfi_table *t);

#endif
