/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The unwind tables the BPF DWARF unwinder searches: each module's rows,
 * built once per file (device and inode) and uploaded into one array, and
 * each process's executable mappings pointing into it.
 */
#ifndef HEAPSNAP_UNWIND_H
#define HEAPSNAP_UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct heapsnap_bpf;
struct hs_unwind;

struct hs_unwind *hs_unwind_new(struct heapsnap_bpf *skel, bool verbose);
void hs_unwind_free(struct hs_unwind *u);

/*
 * Reads pid's executable mappings now and points the unwinder at their
 * tables, building those it lacks. Returns 0, or a negative errno.
 */
int hs_unwind_update(struct hs_unwind *u, pid_t pid);
void hs_unwind_forget(struct hs_unwind *u, pid_t pid);

/* Modules whose rows did not fit (raise --max-unwind-rows). */
uint64_t hs_unwind_losses(const struct hs_unwind *u);

#endif
