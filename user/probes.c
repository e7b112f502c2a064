// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Allocator discovery, symbol lookup, probe placement, attach and detach. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "allocators.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "placement.h"
#include "probes.h"

/* Newer than the UAPI headers Debian 12 ships. */
#define HS_BPF_TRACE_UPROBE_SESSION 57
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
};

const char *hs_func_name(uint32_t fn)
{
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

static unsigned int needs_of(uint32_t fn)
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

	p = realloc(set->pts, (set->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	set->pts = p;
	p = &set->pts[set->n];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	p->name = strdup(name);
	p->dev = st->st_dev;
	p->ino = st->st_ino;
	p->func_offset = off;
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

/* A function of the file that may be probed. */
struct cand {
	const char *name;
	uint64_t vaddr;
	uint64_t size;
	int fn;
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
	size_t n;
	struct got_name *got;
	size_t ngot;
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

static int add_cand(struct scan *sc, const char *name, const GElf_Sym *sym,
		    void *arg)
{
	const struct hs_probe_opts *o = arg;
	struct hs_sym_class k = hs_classify(sc->fam, name);
	struct cand *c;

	if (k.fn < 0) {
		for (size_t i = 0; i < o->nwrappers; i++)
			if (!fnmatch(o->wrappers[i], name, 0))
				k.fn = HS_FN_WRAPPER;
		if (o->syscall_wrappers && sc->fam == HS_FAM_LIBC &&
		    hs_is_syscall_wrapper(name))
			k.fn = HS_FN_WRAPPER;
		if (k.fn < 0)
			return 0;
	}
	for (size_t i = 0; i < sc->n; i++)
		if (sc->c[i].vaddr == sym->st_value)
			return 0; /* an alias at one address is probed once */
	c = realloc(sc->c, (sc->n + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	sc->c = c;
	c = &sc->c[sc->n++];
	c->name = name;
	c->vaddr = sym->st_value;
	c->size = sym->st_size;
	c->fn = k.fn;
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
			struct got_name *g;
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
			g = realloc(sc->got, (sc->ngot + 1) * sizeof(*g));
			if (!g)
				return -ENOMEM;
			sc->got = g;
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
		if (sc->c[i].vaddr == vaddr)
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
		err = add_point(set, path, sc.fd, &st, off, c->size, c->fn,
				c->name, o);
		if (!err)
			added++;
	}
out:
	free(sc.c);
	free(sc.got);
	elf_end(sc.elf);
	close(sc.fd);
	return err ? err : added;
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
	set->n = 0;
}

enum hs_attach_mode hs_probes_mode(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return HS_ATTACH_CLASSIC;
	id = btf__find_by_name_kind(btf, "bpf_session_is_return",
				    BTF_KIND_FUNC);
	btf__free(btf);
	return id > 0 ? HS_ATTACH_SESSION : HS_ATTACH_CLASSIC;
}

const char *hs_attach_mode_name(enum hs_attach_mode mode)
{
	return mode == HS_ATTACH_SESSION ? "uprobe sessions (uprobe_multi)" :
					   "classic uprobes and uretprobes";
}

void hs_probes_prepare(struct heapsnap_bpf *skel, enum hs_attach_mode mode,
		       enum hs_floor floor)
{
	bool session = mode == HS_ATTACH_SESSION;

	bpf_program__set_autoload(skel->progs.hs_session, session && !floor);
	bpf_program__set_autoload(skel->progs.hs_entry, !session && !floor);
	bpf_program__set_autoload(skel->progs.hs_return, !session && !floor);
	bpf_program__set_autoload(skel->progs.hs_floor, floor != HS_FLOOR_OFF);
	if (session) {
		bpf_program__set_expected_attach_type(
			skel->progs.hs_session,
			(enum bpf_attach_type)HS_BPF_TRACE_UPROBE_SESSION);
		bpf_program__set_expected_attach_type(
			skel->progs.hs_floor,
			(enum bpf_attach_type)HS_BPF_TRACE_UPROBE_SESSION);
	}
	skel->rodata->floor_ret = floor == HS_FLOOR_ENTRY;
}

struct hs_attachment {
	struct bpf_link **links; /* classic */
	size_t n;
	int *fds; /* sessions: one link per file */
	size_t nfds;
};

static bool takes_return(uint32_t fn, enum hs_floor floor)
{
	if (fn == HS_FN_FREE || fn == HS_FN_WRAPPER)
		return false;
	return floor != HS_FLOOR_ENTRY;
}

static int attach_classic(struct hs_attachment *a, struct bpf_program *prog,
			  bool retprobe, pid_t pid,
			  const struct hs_probe_point *pt)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe,
		    .bpf_cookie = pt->fn);
	struct bpf_link *link, **links;

	link = bpf_program__attach_uprobe_opts(prog, pid, pt->path,
					       (size_t)pt->offset, &opts);
	if (!link)
		return -errno;
	links = realloc(a->links, (a->n + 1) * sizeof(*links));
	if (!links) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	a->links = links;
	a->links[a->n++] = link;
	return 0;
}

/* BPF_LINK_CREATE's uprobe_multi attributes, as in the kernel's UAPI. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

/* One session link carrying every point of one file. */
static int attach_file(struct hs_attachment *a, int prog_fd, pid_t pid,
		       const struct hs_probe_set *set, size_t first)
{
	const struct hs_probe_point *f = &set->pts[first];
	__u64 *offsets = calloc(set->n, sizeof(*offsets));
	__u64 *cookies = calloc(set->n, sizeof(*cookies));
	struct uprobe_multi_attr attr;
	int fd, *fds, err = 0;
	__u32 cnt = 0;

	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = first; i < set->n; i++) {
		if (set->pts[i].dev != f->dev || set->pts[i].ino != f->ino)
			continue;
		offsets[cnt] = set->pts[i].offset;
		cookies[cnt++] = set->pts[i].fn;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = HS_BPF_TRACE_UPROBE_SESSION;
	attr.path = (__u64)(unsigned long)f->path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = cnt;
	attr.pid = pid > 0 ? (__u32)pid : 0; /* 0: every process */
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	fds = realloc(a->fds, (a->nfds + 1) * sizeof(*fds));
	if (!fds) {
		close(fd);
		err = -ENOMEM;
		goto out;
	}
	a->fds = fds;
	a->fds[a->nfds++] = fd;
out:
	free(offsets);
	free(cookies);
	return err;
}

static bool first_of_file(const struct hs_probe_set *set, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (set->pts[j].dev == set->pts[i].dev &&
		    set->pts[j].ino == set->pts[i].ino)
			return false;
	return true;
}

struct hs_attachment *hs_probes_attach(struct heapsnap_bpf *skel,
				       const struct hs_probe_set *set,
				       pid_t pid, enum hs_attach_mode mode,
				       enum hs_floor floor, char *err,
				       size_t errlen)
{
	struct hs_attachment *a = calloc(1, sizeof(*a));
	struct bpf_program *entry, *ret;
	int r = 0;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	entry = floor ? skel->progs.hs_floor :
			mode == HS_ATTACH_SESSION ? skel->progs.hs_session :
						    skel->progs.hs_entry;
	ret = floor ? skel->progs.hs_floor : skel->progs.hs_return;
	for (size_t i = 0; i < set->n && !r; i++) {
		const struct hs_probe_point *pt = &set->pts[i];

		if (mode == HS_ATTACH_SESSION) {
			if (first_of_file(set, i))
				r = attach_file(a, bpf_program__fd(entry), pid,
						set, i);
			continue;
		}
		r = attach_classic(a, entry, false, pid > 0 ? pid : -1, pt);
		if (!r && takes_return(pt->fn, floor))
			r = attach_classic(a, ret, true, pid > 0 ? pid : -1,
					   pt);
		if (r)
			snprintf(err, errlen, "cannot attach to %s in %s: %s",
				 pt->name, pt->path, strerror(-r));
	}
	if (r) {
		if (mode == HS_ATTACH_SESSION)
			snprintf(err, errlen,
				 "cannot attach uprobe sessions to pid %d: %s",
				 pid, strerror(-r));
		hs_probes_detach(a);
		return NULL;
	}
	return a;
}

struct hs_attachment *hs_probes_attach_file(struct heapsnap_bpf *skel,
					    const struct hs_probe_set *set,
					    dev_t dev, ino_t ino, pid_t pid,
					    enum hs_attach_mode mode,
					    enum hs_floor floor, char *err,
					    size_t errlen)
{
	struct hs_probe_set one = { calloc(set->n + 1, sizeof(*one.pts)), 0 };
	struct hs_attachment *a;

	if (!one.pts) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->pts[i].dev == dev && set->pts[i].ino == ino)
			one.pts[one.n++] = set->pts[i]; /* borrowed, not owned */
	a = hs_probes_attach(skel, &one, pid, mode, floor, err, errlen);
	free(one.pts);
	return a;
}

void hs_probes_detach(struct hs_attachment *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		bpf_link__destroy(a->links[i]);
	for (i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	free(a->links);
	free(a->fds);
	free(a);
}

size_t hs_attachment_links(const struct hs_attachment *a)
{
	return a ? a->n + a->nfds : 0;
}
