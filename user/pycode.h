/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * CPython code objects as copied out of a traced process: their location
 * table (3.11 and later) gives the line of an instruction, and their
 * strings are decoded to UTF-8. Pure: bytes in, values out.
 */
#ifndef HEAPSNAP_PYCODE_H
#define HEAPSNAP_PYCODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of the instruction at addr (in code units, 2 bytes each) of a
 * code object whose first line is firstlineno and whose co_linetable is
 * table[0..len). 0 when the instruction has no line, or when the table
 * ends before addr (a table cut short).
 */
int hs_pycode_line(const uint8_t *table, size_t len, int firstlineno,
		   uint32_t addr);

/* Where a str object keeps its characters, by version. */
struct hs_pystr_layout {
	uint32_t length; /* offset of the length in characters */
	uint32_t state; /* offset of the state bit field */
	uint32_t ascii_size; /* sizeof(PyASCIIObject): ASCII data follows */
	uint32_t compact_size; /* sizeof(PyCompactUnicodeObject) */
};

/*
 * Decodes the compact str object whose first objlen bytes are obj into
 * out (NUL-terminated UTF-8), as many of its characters as obj holds and
 * out fits. Returns the bytes written, or -1 when obj is not a compact str.
 */
int hs_pystr_decode(const uint8_t *obj, size_t objlen,
		    const struct hs_pystr_layout *l, char *out, size_t outlen);

#endif
