// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Symbolization with libdwfl: one offline Dwfl per module file
 * (sym_module.c), addresses looked up in its DWARF (sym_lookup.c), results
 * cached here per (module, file offset), strings interned in an arena
 * (sym_strings.c).
 *
 * Not thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "sym_module.h"
#include "sym_strings.h"
#include "symbolize.h"

/* A slot is empty when nframes is 0: a resolved address has >= 1 frame. */
struct cache_entry {
	uint64_t file_off;
	uint64_t elf_addr;
	int32_t module;
	uint32_t nframes;
	size_t first;
};

struct hs_symbolizer {
	struct sym_module *modules;
	size_t nmodules, modules_cap;

	struct cache_entry *cache;
	size_t ncache, cache_cap;

	struct hs_sym_frame *frames;
	size_t nframes, frames_cap;

	struct sym_strings strings;
};

static uint64_t cache_hash(int module, uint64_t file_off)
{
	return sym_mix64(file_off + (uint64_t)module * 0x9e3779b97f4a7c15ULL);
}

static struct cache_entry *cache_find(struct hs_symbolizer *sym, int module,
				      uint64_t file_off)
{
	size_t mask = sym->cache_cap - 1, i;

	if (!sym->cache_cap)
		return NULL;
	for (i = cache_hash(module, file_off) & mask; sym->cache[i].nframes;
	     i = (i + 1) & mask) {
		if (sym->cache[i].file_off == file_off &&
		    sym->cache[i].module == module)
			return &sym->cache[i];
	}
	return NULL;
}

static struct cache_entry *cache_slot(struct cache_entry *table, size_t cap,
				      int module, uint64_t file_off)
{
	size_t i;

	for (i = cache_hash(module, file_off) & (cap - 1); table[i].nframes;
	     i = (i + 1) & (cap - 1))
		;
	return &table[i];
}

static struct cache_entry *cache_insert(struct hs_symbolizer *sym,
					const struct cache_entry *e)
{
	struct cache_entry *table, *slot;
	size_t cap, i;

	if ((sym->ncache + 1) * 4 > sym->cache_cap * 3) {
		cap = sym->cache_cap ? sym->cache_cap * 2 : 4096;
		table = calloc(cap, sizeof(*table));
		if (!table)
			return NULL;
		for (i = 0; i < sym->cache_cap; i++) {
			if (!sym->cache[i].nframes)
				continue;
			slot = cache_slot(table, cap, sym->cache[i].module,
					  sym->cache[i].file_off);
			*slot = sym->cache[i];
		}
		free(sym->cache);
		sym->cache = table;
		sym->cache_cap = cap;
	}
	slot = cache_slot(sym->cache, sym->cache_cap, e->module, e->file_off);
	*slot = *e;
	sym->ncache++;
	return slot;
}

struct hs_symbolizer *hs_symbolizer_new(void)
{
	return calloc(1, sizeof(struct hs_symbolizer));
}

void hs_symbolizer_free(struct hs_symbolizer *sym)
{
	size_t i;

	if (!sym)
		return;
	for (i = 0; i < sym->nmodules; i++)
		sym_module_release(&sym->modules[i]);
	free(sym->modules);
	free(sym->cache);
	free(sym->frames);
	sym_strings_free(&sym->strings);
	free(sym);
}

int hs_symbolizer_add_module(struct hs_symbolizer *sym, const char *path,
			     int fd)
{
	return hs_symbolizer_add_module_flags(sym, path, fd, 0);
}

int hs_symbolizer_add_module_flags(struct hs_symbolizer *sym, const char *path,
				   int fd, unsigned int flags)
{
	bool foreign = flags & HS_SYM_FOREIGN;
	struct sym_module *m;
	struct stat st;
	size_t i;
	int err;

	if (!sym || !path || fd < 0 || (flags & ~HS_SYM_FOREIGN))
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	for (i = 0; i < sym->nmodules; i++) {
		if (sym->modules[i].dev == st.st_dev &&
		    sym->modules[i].ino == st.st_ino &&
		    sym->modules[i].foreign == foreign)
			return i;
	}
	if (sym->nmodules >= INT32_MAX)
		return -ENOSPC;
	err = hs_grow(&sym->modules, &sym->modules_cap, sym->nmodules + 1,
		      sizeof(*sym->modules));
	if (err)
		return err;
	m = &sym->modules[sym->nmodules];
	*m = (struct sym_module){
		.dev = st.st_dev,
		.ino = st.st_ino,
		.foreign = foreign,
	};
	err = sym_module_open(m, path, fd);
	if (err)
		return err;
	return sym->nmodules++;
}

static struct sym_module *get_module(struct hs_symbolizer *sym, int module)
{
	if (!sym || module < 0 || (size_t)module >= sym->nmodules)
		return NULL;
	return &sym->modules[module];
}

int hs_symbolizer_build_id(struct hs_symbolizer *sym, int module,
			   const uint8_t **id)
{
	struct sym_module *m = get_module(sym, module);

	if (!m || !id)
		return -EINVAL;
	return sym_module_build_id(m, id);
}

/* Appends a frame to sym->frames: a sym_frame_fn. */
static int push_frame(void *ctx, const char *function, const char *comp_dir,
		      const char *file, int line, bool inlined)
{
	struct hs_symbolizer *sym = ctx;
	struct hs_sym_frame f = { .line = line > 0 ? line : 0,
				  .inlined = inlined };

	if (function) {
		f.function = sym_function_name(&sym->strings, function);
		if (!f.function)
			return -ENOMEM;
	}
	if (file) {
		f.file = sym_file_name(&sym->strings, comp_dir, file);
		if (!f.file)
			return -ENOMEM;
	}
	if (hs_grow(&sym->frames, &sym->frames_cap, sym->nframes + 1,
		    sizeof(*sym->frames)))
		return -ENOMEM;
	sym->frames[sym->nframes++] = f;
	return 0;
}

int hs_symbolizer_resolve(struct hs_symbolizer *sym, int module,
			  uint64_t file_off, uint64_t *elf_addr,
			  struct hs_sym_frame *frames, int max)
{
	struct sym_module *m = get_module(sym, module);
	struct cache_entry *e, fresh;
	uint64_t vaddr;
	int err;

	if (!m || !frames || max <= 0)
		return -EINVAL;
	e = cache_find(sym, module, file_off);
	if (!e) {
		err = sym_module_file_to_vaddr(m, file_off, &vaddr);
		if (err)
			return err;
		fresh = (struct cache_entry){ .file_off = file_off,
					      .elf_addr = vaddr,
					      .module = module,
					      .first = sym->nframes };
		/* A return address follows its call: look up the call. */
		err = sym_module_lookup(m, vaddr ? vaddr - 1 : 0, push_frame,
					sym);
		fresh.nframes = sym->nframes - fresh.first;
		if (!err) {
			e = cache_insert(sym, &fresh);
			err = e ? 0 : -ENOMEM;
		}
		if (err) {
			sym->nframes = fresh.first;
			return err;
		}
	}
	if (elf_addr)
		*elf_addr = e->elf_addr;
	if ((uint32_t)max > e->nframes)
		max = e->nframes;
	memcpy(frames, &sym->frames[e->first], max * sizeof(*frames));
	return max;
}
