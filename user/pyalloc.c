// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Where CPython allocates. In a build without link-time inlining the
 * exported PyObject_Malloc only jumps through the allocator table to
 * _PyObject_Malloc, and every allocation reaches it. An LTO build (Debian's
 * python3) inlines pymalloc's fast path into PyObject_Malloc and its callers
 * and only calls out for the slow path: allocate_from_new_pool, when a size
 * class needs a new pool. That call is what the code of the allocator
 * reveals in a stripped file too.
 */
#include <stdio.h>
#include <string.h>

#include "allocators.h"
#include "elffile.h"
#include "pyalloc.h"

#define CODE_BYTES 1024
#define MAX_CALLS 16

static const char *const fn_syms[HS_PYFN_COUNT] = {
	[HS_PYFN_MALLOC] = "_PyObject_Malloc",
	[HS_PYFN_CALLOC] = "_PyObject_Calloc",
	[HS_PYFN_REALLOC] = "_PyObject_Realloc",
	[HS_PYFN_FREE] = "_PyObject_Free",
	[HS_PYFN_RAW_MALLOC] = "_PyMem_RawMalloc",
	[HS_PYFN_RAW_CALLOC] = "_PyMem_RawCalloc",
	[HS_PYFN_RAW_REALLOC] = "_PyMem_RawRealloc",
	[HS_PYFN_RAW_FREE] = "_PyMem_RawFree",
};

const char *hs_pyfn_name(enum hs_pyfn fn)
{
	return fn < HS_PYFN_COUNT ? fn_syms[fn] : "?";
}

/* The code of the function named name: up to CODE_BYTES of it. */
static ssize_t read_func(struct hs_elf *e, const char *name, uint64_t *vaddr,
			 uint8_t *code)
{
	uint64_t size = 0;

	if (!hs_elf_symbol(e, name, vaddr, &size))
		return -1;
	if (!size || size > CODE_BYTES)
		size = CODE_BYTES;
	return hs_elf_read(e, *vaddr, code, (size_t)size);
}

/* The first direct call of the function into its own file, not its PLT. */
static uint64_t first_local_call(struct hs_elf *e, const char *name)
{
	uint64_t vaddr, calls[MAX_CALLS];
	uint8_t code[CODE_BYTES];
	ssize_t len = read_func(e, name, &vaddr, code);
	size_t n;

	if (len <= 0)
		return 0;
	n = hs_code_calls(code, (size_t)len, vaddr, calls, MAX_CALLS);
	for (size_t i = 0; i < n; i++)
		if (hs_elf_in_text(e, calls[i]) && !hs_elf_in_plt(e, calls[i]))
			return calls[i];
	return 0;
}

/* pymalloc's pool size: how its free rounds a block down to its pool. */
static uint32_t pool_size(struct hs_elf *e)
{
	static const char *const frees[] = { "_PyObject_Free",
					     "PyObject_Free" };
	uint8_t code[CODE_BYTES];
	uint64_t vaddr, size;
	ssize_t len;

	for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++) {
		len = read_func(e, frees[i], &vaddr, code);
		if (len <= 0)
			continue;
		size = hs_code_align_mask(code, (size_t)len, vaddr, 12, 18);
		if (size)
			return (uint32_t)size;
	}
	return 0;
}

int hs_pyalloc_read(struct hs_elf *e, struct hs_pyalloc *a)
{
	uint64_t inlined = first_local_call(e, "PyObject_Malloc");
	size_t found = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < HS_PYFN_COUNT; i++)
		if (hs_elf_symbol(e, fn_syms[i], &a->fn[i], NULL))
			found++;
	a->pool_size = pool_size(e);
	if (!hs_elf_symbol(e, "allocate_from_new_pool", &a->new_pool, NULL))
		a->new_pool = inlined ? inlined :
					first_local_call(e, "_PyObject_Malloc");
	if (inlined) {
		snprintf(
			a->why, sizeof(a->why),
			"pymalloc is inlined into its callers (an LTO build): only new pools and large blocks are seen");
	} else if (found < HS_PYFN_COUNT) {
		snprintf(
			a->why, sizeof(a->why),
			"the allocator's functions (_PyObject_Malloc...) are not in the symbol table: only new pools and large blocks are seen");
	} else {
		a->exact = true;
		snprintf(
			a->why, sizeof(a->why),
			"every call reaches _PyObject_Malloc and _PyMem_RawMalloc");
	}
	return a->exact || (a->new_pool && a->pool_size) ? 0 : -1;
}
