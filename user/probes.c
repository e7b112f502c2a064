// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The probe points of allocator files, from their symbol tables and code. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allocators.h"
#include "grow.h"
#include "heapsnap.h"
#include "placement.h"
#include "probes.h"
#include "sysplace.h"

#define HS_FUNC_BYTES 64

static const char *const func_names[HS_FN_COUNT] = {
	[HS_FN_MALLOC] = "malloc",
	[HS_FN_CALLOC] = "calloc",
	[HS_FN_REALLOC] = "realloc",
	[HS_FN_REALLOCARRAY] = "reallocarray",
	[HS_FN_MEMALIGN] = "memalign",
	[HS_FN_POSIX_MEMALIGN] = "posix_memalign",
	[HS_FN_VALLOC] = "valloc",
	[HS_FN_PVALLOC] = "pvalloc",
	[HS_FN_FREE] = "free",
	[HS_FN_WRAPPER] = "wrapper",
	[HS_FN_FREE_NESTS] = "free, calling a free",
	[HS_FN_PY_POOL] = "pymalloc's new pool",
	[HS_FN_SYS_ENTRY] = "mmap domain, at its entry",
	[HS_FN_SYS_AFTER] = "mmap domain, after its syscall",
};

const char *hs_func_name(uint32_t cookie)
{
	uint32_t fn = HS_COOKIE_FN(cookie);

	return fn < HS_FN_COUNT ? func_names[fn] : "?";
}

static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static bool has_offset(const struct hs_probe_set *set, dev_t dev, ino_t ino,
		       uint64_t off)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->pts[i].dev == dev && set->pts[i].ino == ino &&
		    set->pts[i].func_offset == off)
			return true;
	return false;
}

static unsigned int needs_of_fn(uint32_t fn)
{
	switch (fn) {
	case HS_FN_FREE:
		return HS_NEED_ARG0;
	case HS_FN_CALLOC:
	case HS_FN_REALLOC:
	case HS_FN_MEMALIGN:
		return HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_STACK;
	case HS_FN_REALLOCARRAY:
	case HS_FN_POSIX_MEMALIGN:
		return HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_ARG2 |
		       HS_NEED_STACK;
	default:
		return HS_NEED_ARG0 | HS_NEED_STACK;
	}
}

/* The C arguments an mmap-domain call's entry reads. */
static unsigned int needs_of_sys(uint32_t op)
{
	switch (op) {
	case HS_MAP_MMAP: /* addr, length, prot, flags, fd */
		return HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_ARG3 |
		       HS_NEED_ARG4 | HS_NEED_STACK;
	case HS_MAP_MUNMAP:
		return HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_STACK;
	case HS_MAP_BRK:
	case HS_SYS_EARLY:
		return HS_NEED_ARG0 | HS_NEED_STACK;
	default: /* mremap, and syscall(nr, up to five arguments) */
		return HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_ARG2 |
		       HS_NEED_ARG3 | HS_NEED_ARG4 | HS_NEED_ARG5 |
		       HS_NEED_STACK;
	}
}

/* The registers the program reads: CPython's arguments follow a context. */
static unsigned int needs_of(uint32_t cookie)
{
	unsigned int args = HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_ARG2;
	unsigned int n = needs_of_fn(HS_COOKIE_FN(cookie));

	if (HS_COOKIE_FN(cookie) == HS_FN_SYS_ENTRY)
		return needs_of_sys(HS_COOKIE_SYS_OP(cookie));
	if (HS_COOKIE_FN(cookie) == HS_FN_PY_POOL)
		return HS_NEED_STACK;
	if (!(cookie & HS_COOKIE_PYTHON))
		return n;
	return (n & ~args) | (n & HS_NEED_ARG0 ? HS_NEED_ARG1 : 0) |
	       (n & HS_NEED_ARG1 ? HS_NEED_ARG2 : 0) |
	       (n & HS_NEED_ARG2 ? HS_NEED_ARG3 : 0);
}

static void place(struct hs_probe_point *p, int fd, uint64_t size,
		  const struct hs_probe_opts *o)
{
	struct hs_placement pl = { 0, "+0: --probe-at-entry" };
	uint8_t code[HS_FUNC_BYTES];
	ssize_t n = 0;

	if (!o->at_entry) {
		if (size > sizeof(code) || !size)
			size = sizeof(code);
		n = pread(fd, code, (size_t)size, (off_t)p->func_offset);
		if (n > 0)
			hs_place_probe(code, (size_t)n, needs_of(p->fn), &pl);
		else
			snprintf(pl.why, sizeof(pl.why), "+0: unreadable code");
	}
	p->offset = p->func_offset + pl.delta;
	p->why = strdup(pl.why);
}

static int add_point(struct hs_probe_set *set, const char *path, int fd,
		     const struct stat *st, uint64_t off, uint64_t size,
		     int fn, const char *name, const struct hs_probe_opts *o)
{
	struct hs_probe_point *p;

	if (hs_grow(&set->pts, &set->cap, set->n + 1, sizeof(*p)))
		return -ENOMEM;
	p = &set->pts[set->n];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	p->name = strdup(name);
	p->dev = st->st_dev;
	p->ino = st->st_ino;
	p->func_offset = off;
	p->func_size = size;
	p->fn = (uint32_t)fn;
	place(p, fd, size, o);
	if (!p->path || !p->name || !p->why) {
		free(p->path);
		free(p->name);
		free(p->why);
		return -ENOMEM;
	}
	set->n++;
	return 0;
}

#define HS_SYS_FUNC_BYTES 512

/* x86-64 syscall numbers of the mmap domain's calls, by enum hs_map_op. */
static const int sys_nr[HS_SYS_ANY + 1] = { [HS_MAP_MMAP] = 9,
					    [HS_MAP_MUNMAP] = 11,
					    [HS_MAP_MREMAP] = 25,
					    [HS_MAP_BRK] = 12,
					    [HS_SYS_ANY] = -1 };

/* The syscall's registers a probe after it reads, by enum hs_map_op. */
static const unsigned int sys_regs[HS_SYS_ANY + 1] = {
	[HS_MAP_MMAP] = HS_SYS_RSI | HS_SYS_R10 | HS_SYS_R8,
	[HS_MAP_MUNMAP] = HS_SYS_RDI | HS_SYS_RSI,
	[HS_MAP_MREMAP] = HS_SYS_RDI | HS_SYS_RSI | HS_SYS_RDX,
};

/* Where a probe after the function's syscall goes; false: none. */
static bool sys_after(int fd, uint64_t off, uint64_t size, int op,
		      const struct hs_probe_opts *o, struct hs_sys_place *pl)
{
	uint8_t code[HS_SYS_FUNC_BYTES];
	ssize_t n;

	if (o->at_entry || op == HS_SYS_EARLY || !size || size > sizeof(code))
		return false;
	n = pread(fd, code, (size_t)size, (off_t)off);
	return n == (ssize_t)size &&
	       hs_place_after_syscall(code, (size_t)n, sys_nr[op], sys_regs[op],
				      pl);
}

/*
 * An mmap-domain call of libc: one probe just after its syscall where it
 * can sit there; brk and syscall() also take their entry (the old break,
 * the call's number). Elsewhere (and for _dl_early_allocate, which makes
 * several), the entry and the return.
 */
static int add_sys_points(struct hs_probe_set *set, const char *path, int fd,
			  const struct stat *st, uint64_t off, uint64_t size,
			  int op, const char *name,
			  const struct hs_probe_opts *o)
{
	struct hs_sys_place pl;
	struct hs_probe_point *p;
	uint32_t entry = HS_COOKIE_SYS(HS_FN_SYS_ENTRY, op, 0);
	int err;

	if (!sys_after(fd, off, size, op, o, &pl))
		return add_point(set, path, fd, st, off, size,
				 (int)(entry | HS_COOKIE_SYS_RET), name, o);
	if (op == HS_MAP_BRK || op == HS_SYS_ANY) {
		err = add_point(set, path, fd, st, off, size, (int)entry, name,
				o);
		if (err)
			return err;
	}
	err = add_point(set, path, fd, st, off, size,
			(int)HS_COOKIE_SYS(HS_FN_SYS_AFTER, op, pl.sp_words),
			name, o);
	if (err)
		return err;
	p = &set->pts[set->n - 1];
	free(p->why);
	p->offset = off + pl.delta;
	p->why = strdup(pl.why);
	return p->why ? 0 : -ENOMEM;
}

/* A function of the file that may be probed. */
struct cand {
	const char *name;
	uint64_t vaddr;
	uint64_t size;
	int fn;
	/* an mmap-domain call (enum hs_map_op), 0 its wrapper, -1 neither */
	int sys_op;
	bool or_wrapper;
	bool alias; /* only jumps to another probed function */
};

struct got_name {
	uint64_t slot;
	const char *name;
};

struct plt_range {
	uint64_t lo, hi, off;
};

/* What one file offers, read once. */
struct scan {
	Elf *elf;
	int fd;
	enum hs_alloc_family fam;
	struct cand *c;
	size_t n, cap;
	struct got_name *got;
	size_t ngot, got_cap;
	struct plt_range plt[4];
	size_t nplt;
};

static bool is_candidate_sym(const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);

	return GELF_ST_TYPE(sym->st_info) == STT_FUNC &&
	       sym->st_shndx != SHN_UNDEF && sym->st_value &&
	       (bind == STB_GLOBAL || bind == STB_WEAK);
}

/* Calls fn for every defined global function of the symbol tables. */
static int each_func(struct scan *sc,
		     int (*fn)(struct scan *sc, const char *name,
			       const GElf_Sym *sym, void *arg),
		     void *arg)
{
	/* .dynsym first: its names are the ones other modules call */
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(sc->elf, scn))) {
			Elf_Data *data = elf_getdata(scn, NULL);
			GElf_Shdr sh;
			size_t i, n;

			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass ? SHT_SYMTAB : SHT_DYNSYM) ||
			    !data || !sh.sh_entsize)
				continue;
			n = sh.sh_size / sh.sh_entsize;
			for (i = 0; i < n; i++) {
				const char *name;
				GElf_Sym sym;
				int r;

				if (!gelf_getsym(data, (int)i, &sym) ||
				    !is_candidate_sym(&sym))
					continue;
				name = elf_strptr(sc->elf, sh.sh_link,
						  sym.st_name);
				if (!name)
					continue;
				r = fn(sc, name, &sym, arg);
				if (r)
					return r;
			}
		}
	}
	return 0;
}

static int find_family(struct scan *sc, const char *name, const GElf_Sym *sym,
		       void *arg)
{
	enum hs_alloc_family f = hs_family_marker(name);

	(void)sym;
	(void)arg;
	if (f == HS_FAM_LIBC)
		return 0;
	sc->fam = f;
	return 1;
}

/*
 * A libc function of the mmap domain, probed as o->mmap asks: the call it
 * makes (k->fn is then HS_FN_SYS_AFTER), 0 for a wrapper (k->fn), -1 when
 * it is not probed.
 */
static int sys_class(const struct hs_probe_opts *o, const char *name,
		     struct hs_sym_class *k)
{
	int op = hs_sys_func(name);

	if (op < 0 || o->mmap == HS_MMAP_NONE)
		return -1;
	if (o->mmap == HS_MMAP_WRAPPERS) {
		if (op && op != HS_MAP_MREMAP)
			return -1;
		k->fn = HS_FN_WRAPPER;
		return 0;
	}
	k->fn = op ? HS_FN_SYS_AFTER : HS_FN_WRAPPER;
	return op;
}

static int add_cand(struct scan *sc, const char *name, const GElf_Sym *sym,
		    void *arg)
{
	const struct hs_probe_opts *o = arg;
	struct hs_sym_class k = hs_classify(sc->fam, name);
	struct cand *c;
	int sys_op = -1;

	if (k.fn < 0) {
		for (size_t i = 0; i < o->nwrappers; i++)
			if (!fnmatch(o->wrappers[i], name, 0))
				k.fn = HS_FN_WRAPPER;
		if (sc->fam == HS_FAM_LIBC)
			sys_op = sys_class(o, name, &k);
		if (k.fn < 0)
			return 0;
	}
	if (o->mmap_only && sys_op < 0)
		return 0;
	for (size_t i = 0; i < sc->n; i++)
		if (sc->c[i].vaddr == sym->st_value)
			return 0; /* an alias at one address is probed once */
	if (hs_grow(&sc->c, &sc->cap, sc->n + 1, sizeof(*c)))
		return -ENOMEM;
	c = &sc->c[sc->n++];
	c->name = name;
	c->vaddr = sym->st_value;
	c->size = sym->st_size;
	c->fn = k.fn;
	c->sys_op = sys_op;
	c->or_wrapper = k.or_wrapper;
	c->alias = false;
	return 0;
}

/* The symbols the GOT slots hold, from the relocations that fill them. */
static int read_got(struct scan *sc)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(sc->elf, scn))) {
		Elf_Data *data = elf_getdata(scn, NULL), *symd;
		Elf_Scn *symscn;
		GElf_Shdr sh, symsh;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !data || !sh.sh_entsize)
			continue;
		symscn = elf_getscn(sc->elf, sh.sh_link);
		symd = symscn ? elf_getdata(symscn, NULL) : NULL;
		if (!symd || !gelf_getshdr(symscn, &symsh))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			const char *name;
			GElf_Rela rel;
			GElf_Sym sym;
			int type;

			if (!gelf_getrela(data, (int)i, &rel))
				continue;
			type = (int)GELF_R_TYPE(rel.r_info);
			if ((type != R_X86_64_JUMP_SLOT &&
			     type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(symd, (int)GELF_R_SYM(rel.r_info),
					 &sym))
				continue;
			name = elf_strptr(sc->elf, symsh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (hs_grow(&sc->got, &sc->got_cap, sc->ngot + 1,
				    sizeof(*sc->got)))
				return -ENOMEM;
			sc->got[sc->ngot].slot = rel.r_offset;
			sc->got[sc->ngot++].name = name;
		}
	}
	return 0;
}

static void read_plt(struct scan *sc)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(sc->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(sc->elf, scn)) && sc->nplt < 4) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		name = elf_strptr(sc->elf, shstrndx, sh.sh_name);
		if (!name || strncmp(name, ".plt", 4))
			continue;
		sc->plt[sc->nplt].lo = sh.sh_addr;
		sc->plt[sc->nplt].hi = sh.sh_addr + sh.sh_size;
		sc->plt[sc->nplt++].off = sh.sh_offset;
	}
}

/* The name a PLT stub at vaddr jumps to, or NULL. */
static const char *plt_name(const struct scan *sc, uint64_t vaddr)
{
	uint8_t code[16];
	uint64_t slot;
	ssize_t n;

	for (size_t i = 0; i < sc->nplt; i++) {
		if (vaddr < sc->plt[i].lo || vaddr >= sc->plt[i].hi)
			continue;
		n = pread(sc->fd, code, sizeof(code),
			  (off_t)(sc->plt[i].off + vaddr - sc->plt[i].lo));
		if (n <= 0 || !hs_code_plt_slot(code, (size_t)n, vaddr, &slot))
			return NULL;
		for (size_t k = 0; k < sc->ngot; k++)
			if (sc->got[k].slot == slot)
				return sc->got[k].name;
		return NULL;
	}
	return NULL;
}

/*
 * Is the code at vaddr a function heapsnap probes, here or, through the
 * PLT, wherever the name resolves (every allocator file is scanned)?
 */
static bool probed_at(const struct scan *sc, uint64_t vaddr)
{
	const char *name;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->c[i].vaddr == vaddr && sc->c[i].sys_op < 0)
			return true;
	name = plt_name(sc, vaddr);
	return name && hs_classify(sc->fam, name).fn >= 0;
}

static ssize_t read_code(const struct scan *sc, const struct cand *c,
			 uint8_t *buf, size_t len)
{
	uint64_t off;

	if (c->size && c->size < len)
		len = (size_t)c->size;
	if (vaddr_to_offset(sc->elf, c->vaddr, &off))
		return -1;
	return pread(sc->fd, buf, len, (off_t)off);
}

/*
 * An alias (a jump to another probed function) is probed there only, or a
 * free would count twice. An operator new that calls a probed function is
 * a wrapper of it; one that allocates by itself is an allocator.
 */
static void read_cands(struct scan *sc)
{
	uint64_t targets[64], t;
	uint8_t code[4096];

	for (size_t i = 0; i < sc->n; i++) {
		struct cand *c = &sc->c[i];
		ssize_t len = read_code(sc, c, code, sizeof(code));
		size_t nt;

		if (len <= 0)
			continue;
		if (hs_code_thunk(code, (size_t)len, c->vaddr, &t) &&
		    t != c->vaddr && probed_at(sc, t)) {
			c->alias = true;
			continue;
		}
		if (!c->or_wrapper && c->fn != HS_FN_FREE)
			continue;
		nt = hs_code_branches(code, (size_t)len, c->vaddr, targets,
				      sizeof(targets) / sizeof(targets[0]));
		for (size_t k = 0; k < nt; k++) {
			if (targets[k] >= c->vaddr &&
			    targets[k] < c->vaddr + (uint64_t)len)
				continue;
			if (probed_at(sc, targets[k])) {
				/* a free calling a free takes its return */
				c->fn = c->fn == HS_FN_FREE ? HS_FN_FREE_NESTS :
							      HS_FN_WRAPPER;
				break;
			}
		}
	}
}

int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   const struct hs_probe_opts *o)
{
	struct scan sc = { .fd = -1, .fam = HS_FAM_LIBC };
	size_t first = set->n;
	int added = 0, err = 0;
	struct stat st;

	elf_version(EV_CURRENT);
	sc.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (sc.fd < 0)
		return -errno;
	if (fstat(sc.fd, &st)) {
		err = -errno;
		goto out;
	}
	sc.elf = elf_begin(sc.fd, ELF_C_READ_MMAP, NULL);
	if (!sc.elf || elf_kind(sc.elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	each_func(&sc, find_family, NULL);
	err = each_func(&sc, add_cand, (void *)o);
	if (!err)
		err = read_got(&sc);
	if (err)
		goto out;
	read_plt(&sc);
	read_cands(&sc);
	for (size_t i = 0; i < sc.n && !err; i++) {
		const struct cand *c = &sc.c[i];
		uint64_t off;

		if (c->alias || vaddr_to_offset(sc.elf, c->vaddr, &off) ||
		    has_offset(set, st.st_dev, st.st_ino, off))
			continue;
		if (c->sys_op > 0)
			err = add_sys_points(set, path, sc.fd, &st, off,
					     c->size, c->sys_op, c->name, o);
		else
			err = add_point(set, path, sc.fd, &st, off, c->size,
					c->fn, c->name, o);
	}
	added = (int)(set->n - first);
out:
	free(sc.c);
	free(sc.got);
	elf_end(sc.elf);
	close(sc.fd);
	return err ? err : added;
}

int hs_probes_add(struct hs_probe_set *set, const char *path, uint64_t vaddr,
		  uint64_t size, uint32_t cookie, const char *name,
		  const struct hs_probe_opts *o)
{
	struct stat st;
	uint64_t off;
	Elf *elf = NULL;
	int fd, err;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = !elf || elf_kind(elf) != ELF_K_ELF ? -ENOEXEC :
						  vaddr_to_offset(elf, vaddr, &off);
	if (err)
		goto out;
	if (has_offset(set, st.st_dev, st.st_ino, off))
		goto out;
	err = add_point(set, path, fd, &st, off, size, (int)cookie, name, o);
	if (!err)
		err = 1;
out:
	elf_end(elf);
	close(fd);
	return err;
}

static int note_func(struct scan *sc, const char *name, const GElf_Sym *sym,
		     void *arg)
{
	struct hs_file_info *fi = arg;
	enum hs_alloc_family f = hs_family_marker(name);

	(void)sc;
	(void)sym;
	if (f != HS_FAM_LIBC)
		fi->fam = f;
	if (!strcmp(name, "malloc"))
		fi->defines_malloc = true;
	return 0;
}

int hs_probes_inspect(const char *path, struct hs_file_info *fi)
{
	struct scan sc = { .fd = -1, .fam = HS_FAM_LIBC };
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err = 0;

	memset(fi, 0, sizeof(*fi));
	elf_version(EV_CURRENT);
	sc.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (sc.fd < 0)
		return -errno;
	sc.elf = elf_begin(sc.fd, ELF_C_READ_MMAP, NULL);
	if (!sc.elf || elf_kind(sc.elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(sc.elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			fi->has_symbols = true;
	each_func(&sc, note_func, fi);
out:
	elf_end(sc.elf);
	close(sc.fd);
	return err;
}

void hs_probe_set_clear(struct hs_probe_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->pts[i].path);
		free(set->pts[i].name);
		free(set->pts[i].why);
	}
	free(set->pts);
	set->pts = NULL;
	set->n = set->cap = 0;
}
