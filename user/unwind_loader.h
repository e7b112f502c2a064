/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The dynamic loader's debugger hook (_dl_debug_state, where debuggers
 * learn of new libraries): probed, it tells the unwinder that a process's
 * modules changed before any code of the new ones runs, so that their
 * tables can be built in time (bpf/cfi.bpf.h, loader_hook()).
 */
#ifndef HEAPSNAP_UNWIND_LOADER_H
#define HEAPSNAP_UNWIND_LOADER_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_link;
struct bpf_program;

struct hs_loader_hook {
	uint64_t offset; /* file offset of the hook */
	int64_t state; /* address of r_debug.r_state - the hook's */
};

/* Finds the hook in elf: 0, or -ENOENT when it is no dynamic loader. */
int hs_loader_find(Elf *elf, struct hs_loader_hook *h);

/* The dynamic loader exe asks for (PT_INTERP), in buf: 0 or -ENOENT. */
int hs_loader_of(const char *exe, char *buf, size_t len);

/*
 * Attaches prog to the hook in the file at path, for pid (-1: every
 * process); stop: the process stops (SIGSTOP) at the hook until user space
 * lets it go. NULL with errno set on failure.
 */
struct bpf_link *hs_loader_attach(struct bpf_program *prog, const char *path,
				  pid_t pid, const struct hs_loader_hook *h,
				  bool stop);

/* The file offset of ELF address vaddr: 0, or -ENOENT when none holds it. */
int hs_elf_file_offset(Elf *elf, uint64_t vaddr, uint64_t *off);

#endif
