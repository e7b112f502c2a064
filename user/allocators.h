/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The allocators heapsnap knows, and what each of their function names is:
 * the probe kind (enum hs_func) that reads its arguments, or nothing. Also
 * the little code reading that tells an alias from a function of its own.
 */
#ifndef HEAPSNAP_ALLOCATORS_H
#define HEAPSNAP_ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hs_alloc_family {
	HS_FAM_LIBC, /* glibc, libstdc++, and any file without a marker */
	HS_FAM_JEMALLOC,
	HS_FAM_TCMALLOC,
	HS_FAM_MIMALLOC,
	HS_FAM_COUNT,
};

struct hs_sym_class {
	int fn; /* enum hs_func, or -1: not probed */
	/*
	 * The kind above when the function allocates by itself; a wrapper
	 * when its own code calls another probed function (C++ operator new
	 * of libstdc++ calls malloc, jemalloc's and tcmalloc's do not).
	 */
	bool or_wrapper;
};

/* The family a file belongs to when it defines name; HS_FAM_LIBC if none. */
enum hs_alloc_family hs_family_marker(const char *name);
const char *hs_family_name(enum hs_alloc_family fam);

/* What name is in a file of family fam. */
struct hs_sym_class hs_classify(enum hs_alloc_family fam, const char *name);

/*
 * A libc function of the mmap domain: the call it makes (enum hs_map_op, or
 * HS_SYS_ANY for syscall(), HS_SYS_EARLY for _dl_early_allocate), 0 for
 * sbrk (it calls brk), -1 for none.
 */
int hs_sys_func(const char *name);

/*
 * A function whose first instruction (after endbr64) is a direct jmp:
 * returns true with the jump's target. It is an alias of that target.
 */
bool hs_code_thunk(const uint8_t *code, size_t len, uint64_t vaddr,
		   uint64_t *target);

/*
 * The targets of the direct calls and jumps in code at vaddr, up to max.
 * Returns how many were stored.
 */
size_t hs_code_branches(const uint8_t *code, size_t len, uint64_t vaddr,
			uint64_t *targets, size_t max);

/* The targets of the direct calls only, up to max. */
size_t hs_code_calls(const uint8_t *code, size_t len, uint64_t vaddr,
		     uint64_t *targets, size_t max);

/*
 * The first `and $-2^b, reg` of the code with lo_bits <= b <= hi_bits
 * (rounding an address down to a 2^b boundary): 2^b, or 0.
 */
uint64_t hs_code_align_mask(const uint8_t *code, size_t len, uint64_t vaddr,
			    unsigned int lo_bits, unsigned int hi_bits);

/* A PLT stub at vaddr: the GOT slot its indirect jmp goes through. */
bool hs_code_plt_slot(const uint8_t *code, size_t len, uint64_t vaddr,
		      uint64_t *slot);

#endif
