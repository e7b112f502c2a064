/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * An ELF file opened for reading: symbols by name (.dynsym, then .symtab)
 * and bytes at a virtual address, as the file's load segments place them.
 */
#ifndef HEAPSNAP_ELFFILE_H
#define HEAPSNAP_ELFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hs_elf;

/* NULL with errno set when path is not a readable ELF file. */
struct hs_elf *hs_elf_open(const char *path);
void hs_elf_close(struct hs_elf *e);

/* A defined symbol's address and size; false when there is none. */
bool hs_elf_symbol(struct hs_elf *e, const char *name, uint64_t *vaddr,
		   uint64_t *size);
/* Does the file have a .symtab (local functions' names)? */
bool hs_elf_has_symtab(const struct hs_elf *e);
/*
 * Reads len bytes at vaddr from the file's load segments; bytes past a
 * segment's file size read as zeros. Returns the bytes read, or -1.
 */
ssize_t hs_elf_read(struct hs_elf *e, uint64_t vaddr, void *buf, size_t len);
/*
 * The load bias (runtime address - ELF address) of a mapping at start of
 * the file's page pgoff; -1 when no load segment holds that page.
 */
int hs_elf_bias(const struct hs_elf *e, uint64_t start, uint64_t pgoff,
		uint64_t *bias);
/* Is vaddr in a PLT section (a stub that jumps to another module)? */
bool hs_elf_in_plt(struct hs_elf *e, uint64_t vaddr);
/* Is vaddr in an executable load segment? */
bool hs_elf_in_text(const struct hs_elf *e, uint64_t vaddr);

#endif
