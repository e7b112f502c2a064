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

#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "placement.h"
#include "probes.h"

/* Newer than the UAPI headers Debian 12 ships. */
#define HS_BPF_TRACE_UPROBE_SESSION 57
#define HS_FUNC_BYTES 64

struct alloc_sym {
	const char *name;
	uint32_t fn;
};

static const struct alloc_sym alloc_syms[] = {
	{ "malloc", HS_FN_MALLOC },
	{ "calloc", HS_FN_CALLOC },
	{ "realloc", HS_FN_REALLOC },
	{ "reallocarray", HS_FN_REALLOCARRAY },
	{ "free", HS_FN_FREE },
	{ "posix_memalign", HS_FN_POSIX_MEMALIGN },
	{ "aligned_alloc", HS_FN_MEMALIGN },
	{ "memalign", HS_FN_MEMALIGN },
	{ "valloc", HS_FN_VALLOC },
	{ "pvalloc", HS_FN_PVALLOC },
};

/* C++ operator new and new[], plain, nothrow and aligned. */
static const char *const default_wrappers[] = {
	"_Znwm",
	"_Znam",
	"_ZnwmRKSt9nothrow_t",
	"_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t",
	"_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t",
};

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
};

const char *hs_func_name(uint32_t fn)
{
	return fn < HS_FN_COUNT ? func_names[fn] : "?";
}

static int classify(const char *name, const struct hs_probe_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(alloc_syms) / sizeof(alloc_syms[0]); i++)
		if (!strcmp(name, alloc_syms[i].name))
			return (int)alloc_syms[i].fn;
	for (i = 0; i < sizeof(default_wrappers) / sizeof(default_wrappers[0]);
	     i++)
		if (!strcmp(name, default_wrappers[i]))
			return HS_FN_WRAPPER;
	for (i = 0; i < o->nwrappers; i++)
		if (!fnmatch(o->wrappers[i], name, 0))
			return HS_FN_WRAPPER;
	return -1;
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

static int scan_symtab(struct hs_probe_set *set, Elf *elf, Elf_Scn *scn,
		       const char *path, int fd, const struct stat *st,
		       const struct hs_probe_opts *o)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	size_t i, n;
	int added = 0;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		const char *name;
		uint64_t off;
		GElf_Sym sym;
		int fn, err;

		if (!gelf_getsym(data, (int)i, &sym) ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!name)
			continue;
		fn = classify(name, o);
		if (fn < 0 || vaddr_to_offset(elf, sym.st_value, &off) ||
		    has_offset(set, st->st_dev, st->st_ino, off))
			continue;
		err = add_point(set, path, fd, st, off, sym.st_size, fn, name,
				o);
		if (err)
			return err;
		added++;
	}
	return added;
}

int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   const struct hs_probe_opts *o)
{
	Elf_Scn *scn = NULL;
	struct stat st;
	int fd, added = 0, err = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	/* .dynsym first: its names are the ones other modules call */
	for (int pass = 0; pass < 2 && !err; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			int r;

			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass ? SHT_SYMTAB : SHT_DYNSYM))
				continue;
			r = scan_symtab(set, elf, scn, path, fd, &st, o);
			if (r < 0) {
				err = r;
				break;
			}
			added += r;
		}
	}
	elf_end(elf);
	close(fd);
	return err ? err : added;
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

static bool is_allocator_lib(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7) ||
	       !strncmp(base, "libstdc++.so", 12);
}

static bool set_has_file(const struct hs_probe_set *set, const char *path)
{
	struct stat st;
	size_t i;

	if (stat(path, &st))
		return false;
	for (i = 0; i < set->n; i++)
		if (set->pts[i].dev == st.st_dev && set->pts[i].ino == st.st_ino)
			return true;
	return false;
}

int hs_probes_discover(struct hs_probe_set *set, pid_t pid,
		       const struct hs_probe_opts *o, char *err,
		       size_t errlen)
{
	char maps[64], line[4096], path[PATH_MAX + 64];
	bool found_libc = false;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", maps,
			 strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');
		int r;

		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		if (!is_allocator_lib(file))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, file);
		if (set_has_file(set, path))
			continue;
		r = hs_probes_scan(set, path, o);
		if (r < 0) {
			snprintf(err, errlen, "cannot read symbols of %s: %s",
				 file, strerror(-r));
			fclose(f);
			return r;
		}
		if (strstr(file, "/libc"))
			found_libc = found_libc || r > 0;
	}
	fclose(f);
	if (!found_libc) {
		snprintf(err, errlen,
			 "process %d maps no glibc allocator (use --lib PATH)",
			 pid);
		return -ENOENT;
	}
	return 0;
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
	if (floor)
		return floor == HS_FLOOR_RETURN;
	return fn != HS_FN_FREE && fn != HS_FN_WRAPPER;
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
	attr.pid = (__u32)pid;
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
		r = attach_classic(a, entry, false, pid, pt);
		if (!r && takes_return(pt->fn, floor))
			r = attach_classic(a, ret, true, pid, pt);
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
