/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Address -> function, file:line and inlined frames, with libdw. The only
 * stage that includes libdw. Modules are given as open file descriptors so
 * that a library can be symbolized after it was unmapped, and a container's
 * library is read from the container's own file.
 */
#ifndef HEAPSNAP_SYMBOLIZE_H
#define HEAPSNAP_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

struct hs_symbolizer;

struct hs_sym_frame {
	const char *function; /* demangled; NULL when unknown */
	const char *file; /* NULL when unknown */
	uint32_t line; /* 0 when unknown */
	bool inlined; /* inlined into the frame that follows */
};

struct hs_symbolizer *hs_symbolizer_new(void);
void hs_symbolizer_free(struct hs_symbolizer *sym);

/*
 * Registers a module. fd is duplicated, so the caller keeps its own. Returns
 * a handle >= 0, the same handle for a file (device and inode) already
 * registered, or a negative errno when the file is not a usable ELF file.
 */
int hs_symbolizer_add_module(struct hs_symbolizer *sym, const char *path,
			     int fd);

/*
 * path names the file in another mount namespace (a container's): separate
 * debug files are looked up by build-id only, never by path on this host.
 */
#define HS_SYM_FOREIGN 0x1u

/* hs_symbolizer_add_module() with HS_SYM_* flags. */
int hs_symbolizer_add_module_flags(struct hs_symbolizer *sym,
				   const char *path, int fd, unsigned int flags);

/* The module's GNU build-id; returns its length, 0 when it has none. */
int hs_symbolizer_build_id(struct hs_symbolizer *sym, int module,
			   const uint8_t **id);

/*
 * Resolves a return address given as an offset into the module's file.
 * Sets *elf_addr to the ELF virtual address of that return address, and
 * fills frames[] innermost first: the inlined calls at that address, then
 * the function that contains it. Returns the number of frames (at least 1:
 * a frame whose fields are unknown), or a negative errno when the offset is
 * in no loadable segment. The strings live as long as the symbolizer.
 */
int hs_symbolizer_resolve(struct hs_symbolizer *sym, int module,
			  uint64_t file_off, uint64_t *elf_addr,
			  struct hs_sym_frame *frames, int max);

#endif
