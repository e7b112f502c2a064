// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Symbolization with libdwfl: one offline Dwfl per module file, results
 * cached per (module, file offset), strings interned in an arena.
 *
 * Separate debug info comes from dwfl_standard_find_debuginfo(): by build-id
 * under /usr/lib/debug/.build-id/xx/yyyy.debug, then by .gnu_debuglink next
 * to the module, in its .debug/ and under /usr/lib/debug. Failing those, and
 * when the module has a build-id, elfutils 0.188 dlopens libdebuginfod.so.1
 * and asks the servers in DEBUGINFOD_URLS (read at each query, so unset or
 * empty means no network; sudo drops it unless told to keep it). A lookup
 * happens once per module, on its first uncached address, and may block for
 * as long as the servers take.
 *
 * A module of another mount namespace (HS_SYM_FOREIGN: a container's) has a
 * path that means nothing on this host. Looking for its .gnu_debuglink file
 * next to that path, or under /usr/lib/debug by that path, would read host
 * files that the container names. Such a module gets only the build-id
 * lookup, whose files are checked against the module's build-id (and no
 * debuginfod).
 *
 * Not thread-safe.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "symbolize.h"

/* From libstdc++ (linked with -lstdc++); cxxabi.h is C++ only. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Deeper DIE nesting is taken as malformed and cut there. */
#define MAX_SCOPES 128
#define MAX_DEPTH 256
#define CHUNK_SIZE 65536

struct segment {
	uint64_t offset, vaddr, filesz, memsz;
	bool exec;
};

/* An address range of a DIE: of a CU, or of a function. */
struct die_range {
	Dwarf_Addr low, high;
	Dwarf_Die die;
};

/* Sorted by low address once filled. */
struct die_ranges {
	struct die_range *v;
	size_t n, cap;
};

/* The functions of a CU, built on its first lookup. */
struct cu_index {
	const void *cu; /* the CU DIE's address in the mapped DWARF */
	struct die_ranges funcs;
};

struct module {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	/* libdwfl lays out an offline ET_DYN module at an address of its own. */
	Dwarf_Addr bias;
	dev_t dev;
	ino_t ino;
	struct segment *segs;
	size_t nsegs;
	struct cu_index *cus; /* sorted by cu */
	size_t ncus, cus_cap;
	/* Every CU, when .debug_aranges does not cover an address. */
	struct die_ranges cu_ranges;
	Dwarf_Addr dwbias;
	bool cu_ranges_done;
	bool foreign; /* added with HS_SYM_FOREIGN */
};

/* A slot is empty when nframes is 0: a resolved address has >= 1 frame. */
struct cache_entry {
	uint64_t file_off;
	uint64_t elf_addr;
	int32_t module;
	uint32_t nframes;
	size_t first;
};

struct string_slot {
	const char *str;
	uint64_t hash;
};

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct hs_symbolizer {
	struct module *modules;
	size_t nmodules, modules_cap;

	struct cache_entry *cache;
	size_t ncache, cache_cap;

	struct hs_sym_frame *frames;
	size_t nframes, frames_cap;

	struct string_slot *strings;
	size_t nstrings, strings_cap;
	struct chunk *chunks;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* No lookup by path: /usr/lib/debug/.build-id only. */
static const Dwfl_Callbacks foreign_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_string(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix64(h);
}

static char *arena_alloc(struct hs_symbolizer *sym, size_t len)
{
	struct chunk *c = sym->chunks;
	size_t size;

	if (!c || c->size - c->used < len) {
		size = len > CHUNK_SIZE / 4 ? len : CHUNK_SIZE;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		/* A string of its own chunk must not strand the current one. */
		if (size == len && sym->chunks) {
			c->next = sym->chunks->next;
			sym->chunks->next = c;
		} else {
			c->next = sym->chunks;
			sym->chunks = c;
		}
	}
	c->used += len;
	return c->data + c->used - len;
}

static int strings_rehash(struct hs_symbolizer *sym, size_t cap)
{
	struct string_slot *old = sym->strings, *slots;
	size_t i, j;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < sym->strings_cap; i++) {
		if (!old[i].str)
			continue;
		for (j = old[i].hash & (cap - 1); slots[j].str;
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	sym->strings = slots;
	sym->strings_cap = cap;
	return 0;
}

/* Returns the symbolizer's copy of s, NULL only when out of memory. */
static const char *intern(struct hs_symbolizer *sym, const char *s)
{
	uint64_t h = hash_string(s);
	size_t i, len;
	char *copy;

	if ((sym->nstrings + 1) * 4 > sym->strings_cap * 3 &&
	    strings_rehash(sym, sym->strings_cap ? sym->strings_cap * 2 : 1024))
		return NULL;
	for (i = h & (sym->strings_cap - 1); sym->strings[i].str;
	     i = (i + 1) & (sym->strings_cap - 1)) {
		if (sym->strings[i].hash == h &&
		    !strcmp(sym->strings[i].str, s))
			return sym->strings[i].str;
	}
	len = strlen(s) + 1;
	copy = arena_alloc(sym, len);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	sym->strings[i].str = copy;
	sym->strings[i].hash = h;
	sym->nstrings++;
	return copy;
}

static uint64_t cache_hash(int module, uint64_t file_off)
{
	return mix64(file_off + (uint64_t)module * 0x9e3779b97f4a7c15ULL);
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

static void module_release(struct module *m)
{
	size_t i;

	dwfl_end(m->dwfl);
	free(m->segs);
	for (i = 0; i < m->ncus; i++)
		free(m->cus[i].funcs.v);
	free(m->cus);
	free(m->cu_ranges.v);
}

struct hs_symbolizer *hs_symbolizer_new(void)
{
	return calloc(1, sizeof(struct hs_symbolizer));
}

void hs_symbolizer_free(struct hs_symbolizer *sym)
{
	struct chunk *c, *next;
	size_t i;

	if (!sym)
		return;
	for (i = 0; i < sym->nmodules; i++)
		module_release(&sym->modules[i]);
	free(sym->modules);
	free(sym->cache);
	free(sym->frames);
	free(sym->strings);
	for (c = sym->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(sym);
}

static int read_segments(struct module *m)
{
	GElf_Phdr phdr;
	size_t n, i, cap = 0;
	Elf *elf;

	elf = dwfl_module_getelf(m->mod, &m->bias);
	if (!elf || elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &phdr))
			return -ENOEXEC;
		if (phdr.p_type != PT_LOAD || !phdr.p_filesz)
			continue;
		if (hs_grow(&m->segs, &cap, m->nsegs + 1, sizeof(*m->segs)))
			return -ENOMEM;
		m->segs[m->nsegs++] = (struct segment){
			.offset = phdr.p_offset,
			.vaddr = phdr.p_vaddr,
			.filesz = phdr.p_filesz,
			.memsz = phdr.p_memsz,
			.exec = phdr.p_flags & PF_X,
		};
	}
	return m->nsegs ? 0 : -ENOEXEC;
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
	struct module *m;
	struct stat st;
	size_t i;
	int dupfd, err;

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
	*m = (struct module){
		.dev = st.st_dev,
		.ino = st.st_ino,
		.foreign = foreign,
	};

	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return -errno;
	m->dwfl = dwfl_begin(foreign ? &foreign_callbacks : &offline_callbacks);
	if (!m->dwfl) {
		close(dupfd);
		return -ENOMEM;
	}
	/* On success libdwfl owns dupfd (and closes it once it has mapped the
	 * file); on failure it leaves it open. */
	m->mod = dwfl_report_offline(m->dwfl, path, path, dupfd);
	if (!m->mod) {
		close(dupfd);
		err = -ENOEXEC;
		goto fail;
	}
	if (dwfl_report_end(m->dwfl, NULL, NULL)) {
		err = -ENOEXEC;
		goto fail;
	}
	err = read_segments(m);
	if (err)
		goto fail;
	return sym->nmodules++;
fail:
	module_release(m);
	return err;
}

static struct module *get_module(struct hs_symbolizer *sym, int module)
{
	if (!sym || module < 0 || (size_t)module >= sym->nmodules)
		return NULL;
	return &sym->modules[module];
}

int hs_symbolizer_build_id(struct hs_symbolizer *sym, int module,
			   const uint8_t **id)
{
	struct module *m = get_module(sym, module);
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len;

	if (!m || !id)
		return -EINVAL;
	len = dwfl_module_build_id(m->mod, &bits, &vaddr);
	if (len <= 0) {
		*id = NULL;
		return 0;
	}
	*id = bits;
	return len;
}

static int file_to_vaddr(const struct module *m, uint64_t off, uint64_t *vaddr)
{
	const struct segment *s, *found = NULL;
	size_t i;

	for (i = 0; i < m->nsegs; i++) {
		s = &m->segs[i];
		if (off < s->offset || off - s->offset >= s->filesz)
			continue;
		if (!found || (s->exec && !found->exec))
			found = s;
	}
	if (!found)
		return -ERANGE;
	*vaddr = found->vaddr + (off - found->offset);
	return 0;
}

/*
 * Appends a frame; function and file are raw names, NULL when unknown. A
 * relative file (the compiler was given a relative path) is made absolute
 * with the compilation directory, as addr2line does.
 */
static int push_frame(struct hs_symbolizer *sym, const char *function,
		      const char *comp_dir, const char *file, int line,
		      bool inlined)
{
	struct hs_sym_frame f = { .line = line > 0 ? line : 0,
				  .inlined = inlined };
	char *demangled = NULL, *joined = NULL;
	int status;

	if (function && !strncmp(function, "_Z", 2))
		demangled = __cxa_demangle(function, NULL, NULL, &status);
	if (function) {
		f.function = intern(sym, demangled ? demangled : function);
		free(demangled);
		if (!f.function)
			return -ENOMEM;
	}
	if (file && file[0] != '/' && comp_dir &&
	    asprintf(&joined, "%s/%s", comp_dir, file) < 0)
		return -ENOMEM;
	if (file) {
		f.file = intern(sym, joined ? joined : file);
		free(joined);
		if (!f.file)
			return -ENOMEM;
	}
	if (hs_grow(&sym->frames, &sym->frames_cap, sym->nframes + 1,
		    sizeof(*sym->frames)))
		return -ENOMEM;
	sym->frames[sym->nframes++] = f;
	return 0;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(
			die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

static const char *symtab_name(Dwfl_Module *mod, Dwarf_Addr addr)
{
	GElf_Off off;
	GElf_Sym s;

	return dwfl_module_addrinfo(mod, addr, &off, &s, NULL, NULL, NULL);
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Adds the ranges of die, pointing to owner. */
static int add_ranges(struct die_ranges *r, Dwarf_Die *die, Dwarf_Die *owner)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (low >= high)
			continue;
		if (hs_grow(&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
			return -ENOMEM;
		r->v[r->n++] = (struct die_range){ .low = low,
						   .high = high,
						   .die = *owner };
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct die_range *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

static void sort_ranges(struct die_ranges *r)
{
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_range);
}

static Dwarf_Die *find_range(struct die_ranges *r, Dwarf_Addr pc)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->v[mid].low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pc < r->v[lo - 1].high ? &r->v[lo - 1].die : NULL;
}

/*
 * Collects every function with code under parent, however deep: the code of
 * a lambda or a local class may be described inside its enclosing function,
 * and inlined scopes are then searched from the function found.
 */
static int index_functions(Dwarf_Die *parent, struct die_ranges *funcs,
			   int depth)
{
	Dwarf_Die child;
	int tag, err;

	if (depth >= MAX_DEPTH || dwarf_child(parent, &child))
		return 0;
	do {
		tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
			err = add_ranges(funcs, &child, &child);
			if (err)
				return err;
		}
		err = index_functions(&child, funcs, depth + 1);
		if (err)
			return err;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/*
 * Finds the function of a CU that contains pc through the CU's index, made
 * by one walk of the CU: a walk per lookup (as dwarf_getscopes() does) costs
 * about a millisecond in a large C++ CU.
 */
static int find_function(struct module *m, Dwarf_Die *cudie, Dwarf_Addr pc,
			 Dwarf_Die *func)
{
	struct cu_index idx = { .cu = cudie->addr };
	size_t lo = 0, hi = m->ncus, mid;
	Dwarf_Die *found;
	int err;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((uintptr_t)m->cus[mid].cu < (uintptr_t)idx.cu)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->ncus || m->cus[lo].cu != idx.cu) {
		err = index_functions(cudie, &idx.funcs, 0);
		if (!err)
			err = hs_grow(&m->cus, &m->cus_cap, m->ncus + 1,
				      sizeof(*m->cus));
		if (err) {
			free(idx.funcs.v);
			return err;
		}
		sort_ranges(&idx.funcs);
		memmove(&m->cus[lo + 1], &m->cus[lo],
			(m->ncus - lo) * sizeof(*m->cus));
		m->cus[lo] = idx;
		m->ncus++;
	}
	found = find_range(&m->cus[lo].funcs, pc);
	if (!found)
		return 0;
	*func = *found;
	return 1;
}

/*
 * libdw 0.188 maps an address to its CU with .debug_aranges only, which
 * clang and rustc do not emit by default: then the ranges of every CU are
 * read, once.
 */
static int index_cus(struct module *m)
{
	struct die_ranges *r = &m->cu_ranges;
	Dwarf_Die cudie, subdie;
	Dwarf_CU *cu = NULL;
	uint8_t type;
	Dwarf *dw;
	int err;

	dw = dwfl_module_getdwarf(m->mod, &m->dwbias);
	while (dw &&
	       !dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, &subdie)) {
		if (type != DW_UT_compile && type != DW_UT_skeleton)
			continue;
		err = add_ranges(r, &cudie,
				 type == DW_UT_skeleton && subdie.addr ?
					 &subdie :
					 &cudie);
		if (err) {
			free(r->v);
			*r = (struct die_ranges){ 0 };
			return err;
		}
	}
	sort_ranges(r);
	m->cu_ranges_done = true;
	return 0;
}

/*
 * Appends to path[] the scopes under parent that contain pc, outermost
 * first. Not dwarf_getscopes(): above an inlined instance it goes on with
 * the scopes of the abstract definition, not with the callers.
 */
static void find_scopes(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *path,
			int *n)
{
	Dwarf_Die child;

	if (*n >= MAX_SCOPES || dwarf_child(parent, &child))
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_entry_point:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_with_stmt:
			if (dwarf_haspc(&child, pc) <= 0)
				break;
			path[(*n)++] = child;
			find_scopes(&child, pc, path, n);
			return;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void call_site(Dwarf_Die *inlined, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word val;
	Dwarf_Die cu;

	*file = NULL;
	*line = 0;
	if (!dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr),
			     &val) &&
	    dwarf_diecu(inlined, &cu, NULL, NULL) &&
	    !dwarf_getsrcfiles(&cu, &files, NULL))
		*file = dwarf_filesrc(files, val, NULL, NULL);
	if (!dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr),
			     &val) &&
	    val <= INT32_MAX)
		*line = val;
}

/* Appends the frames of an ELF address to sym->frames, innermost first. */
static int symbolize(struct hs_symbolizer *sym, struct module *m,
		     Dwarf_Addr vaddr)
{
	Dwarf_Addr addr = vaddr + m->bias, pc, dwbias;
	Dwarf_Die path[MAX_SCOPES], *cudie, *die;
	const char *file = NULL, *comp_dir = NULL, *name;
	Dwarf_Attribute attr;
	Dwarf_Line *line;
	int lineno = 0, n = 0, i, err;
	bool inlined;

	cudie = dwfl_module_addrdie(m->mod, addr, &dwbias);
	if (!cudie) {
		if (!m->cu_ranges_done) {
			err = index_cus(m);
			if (err)
				return err;
		}
		dwbias = m->dwbias;
		cudie = find_range(&m->cu_ranges, addr - dwbias);
	}
	if (cudie) {
		pc = addr - dwbias;
		comp_dir = dwarf_formstring(
			dwarf_attr_integrate(cudie, DW_AT_comp_dir, &attr));
		line = dwarf_getsrc_die(cudie, pc);
		if (line && dwarf_lineno(line, &lineno) == 0)
			file = dwarf_linesrc(line, NULL, NULL);
		err = find_function(m, cudie, pc, &path[0]);
		if (err < 0)
			return err;
		n = err;
		if (n)
			find_scopes(&path[0], pc, path, &n);
	}

	for (i = n - 1; i >= 0 && !is_function(&path[i]); i--)
		;
	while (i >= 0) {
		die = &path[i];
		inlined = dwarf_tag(die) == DW_TAG_inlined_subroutine;
		name = die_name(die);
		if (!name && !inlined)
			name = symtab_name(m->mod, addr);
		err = push_frame(sym, name, comp_dir, file, lineno, inlined);
		if (err || !inlined)
			return err;
		call_site(die, &file, &lineno);
		for (i--; i >= 0 && !is_function(&path[i]); i--)
			;
	}
	return push_frame(sym, symtab_name(m->mod, addr), comp_dir, file,
			  lineno, false);
}

int hs_symbolizer_resolve(struct hs_symbolizer *sym, int module,
			  uint64_t file_off, uint64_t *elf_addr,
			  struct hs_sym_frame *frames, int max)
{
	struct module *m = get_module(sym, module);
	struct cache_entry *e, fresh;
	uint64_t vaddr;
	int err;

	if (!m || !frames || max <= 0)
		return -EINVAL;
	e = cache_find(sym, module, file_off);
	if (!e) {
		err = file_to_vaddr(m, file_off, &vaddr);
		if (err)
			return err;
		fresh = (struct cache_entry){ .file_off = file_off,
					      .elf_addr = vaddr,
					      .module = module,
					      .first = sym->nframes };
		/* A return address follows its call: look up the call. */
		err = symbolize(sym, m, vaddr ? vaddr - 1 : 0);
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
