/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Python frames in user space: the code objects the BPF walker copied as
 * it first saw them (so that code gone by snapshot time is still named),
 * and where a stack's Python frames stand among its native ones.
 */
#ifndef HEAPSNAP_PYFRAMES_H
#define HEAPSNAP_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "python.h"

struct hs_pycode {
	uint32_t id;
	char *file; /* co_filename, UTF-8 */
	char *name; /* co_qualname */
	int firstlineno;
	uint8_t *linetable;
	size_t linetable_len;
	bool cut; /* only the start of co_linetable was copied */
};

struct hs_pycodes;

struct hs_pycodes *hs_pycodes_new(void);
void hs_pycodes_free(struct hs_pycodes *c);

/*
 * Keeps what ev says of a code object, its strings decoded with the str
 * layout of its process's interpreter. 0, or a negative errno.
 */
int hs_pycodes_add(struct hs_pycodes *c, const struct hs_py_code_event *ev,
		   const struct hs_py_offsets *off);
/* NULL when id was never reported (its event was lost). */
const struct hs_pycode *hs_pycodes_find(const struct hs_pycodes *c,
					uint32_t id);
/* The line of the instruction at instr (code units); 0 when unknown. */
int hs_pycode_line_at(const struct hs_pycode *pc, uint32_t instr);

/*
 * The order of a stack's frames, most recent first, with its Python
 * frames where the interpreter runs them: order[] gets indices into the
 * stack's ip[] (native frames first, then Python ones, as BPF stores
 * them). is_eval[i] says that native frame i is _PyEval_EvalFrameDefault:
 * it stands for the Python frames of one run of the interpreter, up to
 * the next one marked HS_PYFRAME_ENTRY, and gives them its place. Python
 * frames left when the native ones end go last. Returns the frames in
 * order[], at most max.
 */
size_t hs_pyframes_order(const uint64_t *ip, size_t n, const bool *is_eval,
			 uint32_t *order, size_t max);

#endif
