/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Is an ELF file a CPython interpreter (an executable or libpython), which
 * version, and where its runtime keeps threads, frames and code objects:
 * 3.13 describes itself in _Py_DebugOffsets; 3.11 and 3.12 are known
 * tables. Other versions are named, and traced without Python frames.
 */
#ifndef HEAPSNAP_PYLAYOUT_H
#define HEAPSNAP_PYLAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "python.h"

struct hs_elf;

struct hs_pylayout {
	uint32_t version; /* PY_VERSION_HEX, 0 when unknown */
	bool supported; /* Python frames can be read */
	uint64_t runtime; /* _PyRuntime, ELF address */
	uint64_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault, ELF addresses */
	struct hs_py_offsets off;
	char note[256]; /* why a CPython is not supported */
};

/*
 * 1 when the file at path (opened as e) is a CPython interpreter, with
 * *l filled (l->supported false and l->note set for versions heapsnap
 * cannot read); 0 when it is not one.
 */
int hs_pylayout_read(struct hs_elf *e, const char *path, struct hs_pylayout *l);

/* "3.11.2" */
void hs_pyversion_str(uint32_t version, char *buf, size_t len);

#endif
