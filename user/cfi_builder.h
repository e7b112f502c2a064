/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The state of one unwind table's build (hs_cfi_build() in cfi.c), shared
 * by its parts: cfi_source.c finds the CFI sections, cfi_fde.c lists and
 * orders their FDEs, cfi_rows.c turns the FDEs into rows.
 */
#ifndef HEAPSNAP_CFI_BUILDER_H
#define HEAPSNAP_CFI_BUILDER_H

#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi.h"

/* A row's pc is 32 bits, and so is the end of the last FDE. */
#define ADDR_LIMIT (1ULL << 32)

/*
 * The work allowed, in FDE instruction bytes that libdw runs (about 2 ns
 * each): a base, and so much per byte of the CFI sections. Each row also
 * costs ROW_COST for its lookup and allocation. libc, python3 and libLLVM
 * need 12 to 17 per byte, Rust's librsvg 37.
 */
#define WORK_BASE (1ULL << 26)
#define WORK_PER_BYTE 128
#define ROW_COST 32

enum { SRC_EH, SRC_DEBUG, NSRC };

struct cfi_fde {
	uint64_t start, end;
	uint64_t cost; /* instruction bytes: libdw runs them for each row */
	uint32_t src, seq;
};

struct cfi_source {
	int fd; /* a separate debug file's, or -1 */
	Elf *elf; /* owned when fd >= 0 */
	Dwarf *dw;
	Dwarf_CFI *cfi;
	bool cfi_owned; /* from dwarf_getcfi_elf() */
	size_t bytes;
};

struct cfi_builder {
	struct cfi_source src[NSRC];
	struct cfi_cie *cies;
	size_t ncies, cies_cap;
	struct cfi_fde *fdes;
	size_t nfdes, fdes_cap;
	struct hs_cfi_row *rows;
	size_t nrows, rows_cap;
	uint64_t work;
	uint64_t entry; /* the file's entry point; 0: none */
	size_t used, bad, multi_row, fp_switch;
};

/*
 * Lists the FDEs of one CFI section (src SRC_EH or SRC_DEBUG; its data at
 * ELF address sec_addr) into b->fdes. Returns 0, or -ENOMEM.
 */
int cfi_list_fdes(struct cfi_builder *b, int src, Elf *elf,
		  const Elf_Data *data, uint64_t sec_addr);
/*
 * Sorts the FDEs by address and empties (end = start) those of
 * .debug_frame that overlap one of .eh_frame.
 */
void cfi_sort_fdes(struct cfi_builder *b);

/*
 * Opens the CFI of elf: its .eh_frame, and the .debug_frame of the file or
 * of its separate debug file, and lists their FDEs. Returns 0, or -ENOMEM.
 */
int cfi_open_sources(struct cfi_builder *b, Elf *elf);
void cfi_close_sources(struct cfi_builder *b);

/*
 * The rows of the sorted FDEs into b->rows, and t->lo, t->hi. Returns 0,
 * -ENOENT when no FDE has rows, or -ENOMEM.
 */
int cfi_build_rows(struct cfi_builder *b, struct hs_cfi_table *t);

#endif
