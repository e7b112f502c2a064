/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Which CPython a process runs: its interpreter file (an executable or
 * libpython) found in its mappings, the runtime's layout and address, and
 * how its allocator can be traced, with the probe points that takes.
 */
#ifndef HEAPSNAP_PYTARGET_H
#define HEAPSNAP_PYTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pyalloc.h"
#include "python.h"

/* How CPython's allocator is traced (record --python). */
enum hs_pymode {
	HS_PY_OFF, /* not at all: native frames only */
	HS_PY_AUTO, /* exact where every call can be probed, else pools */
	HS_PY_EXACT, /* each PyMem_Raw*, PyMem_* and PyObject_* call */
	HS_PY_POOLS, /* pools as pymalloc takes them: estimates */
	HS_PY_FRAMES, /* Python frames, no python domain */
};

const char *hs_pymode_name(enum hs_pymode mode);

/* What a process runs, as found. */
struct hs_pytarget {
	pid_t pid;
	uint32_t version; /* PY_VERSION_HEX; 0: not CPython */
	bool frames; /* its Python frames can be walked */
	enum hs_pymode mode; /* how its allocator is traced */
	char path[256]; /* the interpreter file, as the process names it */
	char link[64]; /* the same file, reachable from here */
	uint64_t runtime; /* _PyRuntime's address in the process */
	uint64_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault in it */
	struct hs_py_offsets off;
	struct hs_pyalloc alloc;
	char note[256]; /* why frames are not walked, for a CPython */
};

/* Interpreter files, each read once however many processes map it. */
struct hs_pyfiles;

struct hs_pyfiles *hs_pyfiles_new(void);
void hs_pyfiles_free(struct hs_pyfiles *f);

/*
 * What pid runs now, with its allocator traced as asked where it can be:
 * 1 with *t filled when it runs a CPython, 0 when it does not (t->version
 * 0), or a negative errno.
 */
int hs_pytarget_find(struct hs_pyfiles *files, pid_t pid, enum hs_pymode asked,
		     struct hs_pytarget *t);

struct hs_probe_set;
struct hs_probe_opts;

/*
 * Adds to set the probe points of t's allocator, as its mode says (none
 * for HS_PY_FRAMES). Returns how many, or a negative errno.
 */
int hs_pytarget_probes(const struct hs_pytarget *t, struct hs_probe_set *set,
		       const struct hs_probe_opts *o);

/* One line on what t runs and how it is traced; false: no CPython. */
bool hs_pytarget_describe(const struct hs_pytarget *t, char *buf, size_t len);

#endif
