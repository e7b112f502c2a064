/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The symbolizer's strings: function names demangled, file names made
 * absolute, each interned once in an arena that lives as long as the
 * symbolizer.
 */
#ifndef HEAPSNAP_SYM_STRINGS_H
#define HEAPSNAP_SYM_STRINGS_H

#include <stddef.h>
#include <stdint.h>

struct sym_strings {
	struct sym_string_slot *slots; /* open addressing */
	size_t n, cap;
	struct sym_chunk *chunks;
};

/* A function's name as shown: a C++ symbol demangled; interned. */
const char *sym_function_name(struct sym_strings *t, const char *name);
/*
 * A source file's name, interned. A relative one (the compiler was given a
 * relative path) is made absolute with the compilation directory, as
 * addr2line does.
 */
const char *sym_file_name(struct sym_strings *t, const char *comp_dir,
			  const char *file);
void sym_strings_free(struct sym_strings *t);

/* The finalizer of MurmurHash3: spreads a key over all 64 bits. */
static inline uint64_t sym_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
