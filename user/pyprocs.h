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

#include "pytarget.h"

struct heapsnap_bpf;
struct hs_pycodes;

struct hs_python;

struct hs_python *hs_python_new(struct heapsnap_bpf *skel,
				 enum hs_pymode mode, bool verbose);
void hs_python_free(struct hs_python *py);

/*
 * Reads pid's mappings; when it runs a CPython whose frames heapsnap
 * reads, the BPF walker gets its layout. Returns the process's entry
 * (version 0 when it runs no CPython), or NULL on error.
 */
const struct hs_pytarget *hs_python_update(struct hs_python *py, pid_t pid);
const struct hs_pytarget *hs_python_find(const struct hs_python *py, pid_t pid);
void hs_python_forget(struct hs_python *py, pid_t pid);

struct hs_probe_set;
struct hs_probe_opts;

/*
 * Adds to set the probe points of pid's CPython allocator, as its mode
 * says (none for HS_PY_FRAMES). Returns how many, or a negative errno.
 */
int hs_python_probes(struct hs_python *py, pid_t pid, struct hs_probe_set *set,
		     const struct hs_probe_opts *o);

struct hs_raw;

/*
 * The python domain's traces of processes traced by pools are pools: each
 * gets the blocks pymalloc has live in it and their estimated bytes, read
 * from the pool's header now (or, once the process is gone, as last read).
 */
void hs_python_estimate(struct hs_python *py, struct hs_raw *raw);

/* The code objects' ring buffer: an fd to poll, and its reader. */
int hs_python_fd(const struct hs_python *py);
void hs_python_consume(struct hs_python *py);
const struct hs_pycodes *hs_python_codes(const struct hs_python *py);

#endif
