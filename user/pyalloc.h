/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * CPython's allocator in one interpreter file: the functions that serve
 * the PyMem_Raw*, PyMem_* and PyObject_* families, when every call reaches
 * them; else pymalloc's pool slow path, which every inlined copy of the
 * fast path shares.
 */
#ifndef HEAPSNAP_PYALLOC_H
#define HEAPSNAP_PYALLOC_H

#include <stdbool.h>
#include <stdint.h>

struct hs_elf;

enum hs_pyfn {
	HS_PYFN_MALLOC, /* pymalloc: PyMem_* and PyObject_* */
	HS_PYFN_CALLOC,
	HS_PYFN_REALLOC,
	HS_PYFN_FREE,
	HS_PYFN_RAW_MALLOC, /* PyMem_Raw* */
	HS_PYFN_RAW_CALLOC,
	HS_PYFN_RAW_REALLOC,
	HS_PYFN_RAW_FREE,
	HS_PYFN_COUNT,
};

struct hs_pyalloc {
	/* every call reaches fn[]: they can be traced one by one */
	bool exact;
	uint64_t fn[HS_PYFN_COUNT]; /* ELF addresses, 0 when absent */
	uint64_t new_pool; /* allocate_from_new_pool, 0 when not found */
	uint32_t pool_size; /* bytes, 0 when not found */
	char why[200]; /* why exact tracing is or is not possible */
};

/* Reads what the interpreter file e offers; 0, or -1 with a->why set. */
int hs_pyalloc_read(struct hs_elf *e, struct hs_pyalloc *a);

const char *hs_pyfn_name(enum hs_pyfn fn);

#endif
