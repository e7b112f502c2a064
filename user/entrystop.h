/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A command spawned held before exec, stopped once more at its entry point:
 * what it maps is known then (its libraries are loaded) and nothing of its
 * own has run, so unwind tables and Python probes can be ready before it
 * goes on. What runs before the entry point (the dynamic loader, library
 * constructors) is traced with what was ready before exec.
 */
#ifndef HEAPSNAP_ENTRYSTOP_H
#define HEAPSNAP_ENTRYSTOP_H

#include <sys/types.h>

struct bpf_link;
struct bpf_program;

/* A probe on exe's entry point that stops pid there; NULL: not ELF. */
struct bpf_link *hs_entry_hold(struct bpf_program *stop, const char *exe,
			       pid_t pid);
/* Waits for the stop: 0, or -ECHILD (it is gone) or -ETIMEDOUT. */
int hs_entry_wait(struct bpf_link *hold, pid_t pid);
/* Removes the probe and lets pid go on. */
void hs_entry_go(struct bpf_link *hold, pid_t pid);

#endif
