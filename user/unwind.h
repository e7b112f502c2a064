/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The unwind tables the BPF DWARF unwinder searches: each module's rows,
 * built once per file and loaded into a BPF array of its own (only the
 * modules the traced processes map, packed: cfi_pack.h), each process's
 * executable mappings pointing at them, and the dynamic loader's hook that
 * says when a process's modules change.
 */
#ifndef HEAPSNAP_UNWIND_H
#define HEAPSNAP_UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct heapsnap_bpf;
struct hs_snapshot;
struct hs_unwind;

struct hs_unwind_opts {
	uint32_t max_rows; /* rows all tables may hold together */
	bool verbose;
	bool stop; /* the targets are our command: stop them at the hook */
	bool all; /* every process: the hook probed for every process */
};

struct hs_unwind *hs_unwind_new(struct heapsnap_bpf *skel,
				const struct hs_unwind_opts *o);
/* Lets every process stopped at the hook go, and frees u. */
void hs_unwind_free(struct hs_unwind *u);

/*
 * Reads pid's executable mappings now and points the unwinder at their
 * tables, building those it lacks; probes the dynamic loader's hook in
 * pid. Returns 0, or a negative errno.
 */
int hs_unwind_update(struct hs_unwind *u, pid_t pid);
void hs_unwind_forget(struct hs_unwind *u, pid_t pid);

/*
 * A command held before exec: probes the hook of the dynamic loader exe
 * asks for (the system's, for a script), stopping it there, so that its
 * libraries have their tables before their constructors run.
 */
void hs_unwind_hold(struct hs_unwind *u, pid_t pid, const char *exe);

/* The fd that is readable when a process's modules changed. */
int hs_unwind_fd(const struct hs_unwind *u);
/*
 * Updates the processes whose modules changed, and lets go those the hook
 * stopped. Returns how many it let go of pid (0: any pid).
 */
int hs_unwind_consume(struct hs_unwind *u, pid_t pid);

/* Kernel memory of every unwind map. */
uint64_t hs_unwind_memory(const struct hs_unwind *u);

/* Each module's table, and the figures of all, into s's unwind entries. */
void hs_unwind_report(const struct hs_unwind *u, struct hs_snapshot *s);

#endif
