/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A module of the symbolizer: one file, read through an offline Dwfl of its
 * own, with its loadable segments and what its lookups learned.
 */
#ifndef HEAPSNAP_SYM_MODULE_H
#define HEAPSNAP_SYM_MODULE_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sym_lookup.h"

struct sym_module {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	/* libdwfl lays out an offline ET_DYN module at an address of its own. */
	Dwarf_Addr bias;
	dev_t dev;
	ino_t ino;
	struct sym_segment *segs;
	size_t nsegs;
	struct sym_index index;
	bool foreign; /* added with HS_SYM_FOREIGN */
};

/*
 * Opens m (dev, ino and foreign set) from the file at fd, which is
 * duplicated; path names it for the lookup of separate debug files.
 * Returns 0, or a negative errno (m is then released).
 */
int sym_module_open(struct sym_module *m, const char *path, int fd);
void sym_module_release(struct sym_module *m);

/* The module's GNU build-id; returns its length, 0 when it has none. */
int sym_module_build_id(const struct sym_module *m, const uint8_t **id);

/* The ELF address of a file offset; -ERANGE in no loadable segment. */
int sym_module_file_to_vaddr(const struct sym_module *m, uint64_t off,
			     uint64_t *vaddr);

/* sym_lookup() of an ELF address of the module. */
int sym_module_lookup(struct sym_module *m, uint64_t vaddr, sym_frame_fn fn,
		      void *ctx);

#endif
