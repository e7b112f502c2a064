/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Python targets while recording: which traced processes run a CPython
 * heapsnap reads (their frames are walked from then on), and the code
 * objects the BPF walker reports as it first sees them.
 */
#ifndef HEAPSNAP_PYPROCS_H
#define HEAPSNAP_PYPROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pyalloc.h"

struct heapsnap_bpf;
struct hs_pycodes;

/* What a process runs, as found. */
struct hs_pyproc {
	pid_t pid;
	uint32_t version; /* PY_VERSION_HEX; 0: not CPython */
	bool frames; /* its Python frames are walked */
	char path[256]; /* the interpreter file, as the process names it */
	uint64_t bias; /* of that file's mapping */
	struct hs_pyalloc alloc;
	char note[256]; /* why frames are not walked, for a CPython */
};

struct hs_python;

struct hs_python *hs_python_new(struct heapsnap_bpf *skel, bool verbose);
void hs_python_free(struct hs_python *py);

/*
 * Reads pid's mappings; when it runs a CPython whose frames heapsnap
 * reads, the BPF walker gets its layout. Returns the process's entry
 * (version 0 when it runs no CPython), or NULL on error.
 */
const struct hs_pyproc *hs_python_update(struct hs_python *py, pid_t pid);
const struct hs_pyproc *hs_python_find(const struct hs_python *py, pid_t pid);
void hs_python_forget(struct hs_python *py, pid_t pid);

/* The code objects' ring buffer: an fd to poll, and its reader. */
int hs_python_fd(const struct hs_python *py);
void hs_python_consume(struct hs_python *py);
const struct hs_pycodes *hs_python_codes(const struct hs_python *py);

#endif
