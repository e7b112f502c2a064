/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * An address of a module -> the function that contains it, its file:line,
 * and the chain of inlined calls there, from the module's DWARF.
 */
#ifndef HEAPSNAP_SYM_LOOKUP_H
#define HEAPSNAP_SYM_LOOKUP_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>

/* An address range of a DIE: of a CU, or of a function. */
struct sym_die_range {
	Dwarf_Addr low, high;
	Dwarf_Die die;
};

/* Sorted by low address once filled. */
struct sym_die_ranges {
	struct sym_die_range *v;
	size_t n, cap;
};

/* What the lookups learned of a module's DWARF, kept for the next ones. */
struct sym_index {
	struct sym_cu_index *cus; /* sorted by cu */
	size_t ncus, cus_cap;
	/* Every CU, when .debug_aranges does not cover an address. */
	struct sym_die_ranges cu_ranges;
	Dwarf_Addr dwbias;
	bool cu_ranges_done;
	/*
	 * The symbol table's answers: between two consecutive bounds (the
	 * starts and ends of every symbol and section), the symbol an
	 * address is in cannot change, so it is asked once per interval.
	 */
	Dwarf_Addr *bounds;
	const char **names; /* per interval, once asked */
	size_t nbounds;
	bool bounds_done;
};

void sym_index_free(struct sym_index *x);

/*
 * Receives the frames of an address, innermost first; function and file
 * are raw names (not demangled, file maybe relative to comp_dir), NULL
 * when unknown. Returns 0, or a negative errno that ends the lookup.
 */
typedef int (*sym_frame_fn)(void *ctx, const char *function,
			    const char *comp_dir, const char *file, int line,
			    bool inlined);

/*
 * Looks up addr (a Dwfl address of mod) and gives its frames to fn: at
 * least one. Returns 0, or a negative errno.
 */
int sym_lookup(Dwfl_Module *mod, struct sym_index *x, Dwarf_Addr addr,
	       sym_frame_fn fn, void *ctx);

#endif
