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
#include <unistd.h>

#include <bpf/libbpf.h>

#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "probes.h"

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

static int classify(const char *name, char *const *wrappers, size_t nwrappers)
{
	size_t i;

	for (i = 0; i < sizeof(alloc_syms) / sizeof(alloc_syms[0]); i++)
		if (!strcmp(name, alloc_syms[i].name))
			return (int)alloc_syms[i].fn;
	for (i = 0; i < sizeof(default_wrappers) / sizeof(default_wrappers[0]);
	     i++)
		if (!strcmp(name, default_wrappers[i]))
			return HS_FN_WRAPPER;
	for (i = 0; i < nwrappers; i++)
		if (!fnmatch(wrappers[i], name, 0))
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
		    set->pts[i].offset == off)
			return true;
	return false;
}

static int add_point(struct hs_probe_set *set, const char *path,
		     const struct stat *st, uint64_t off, int fn,
		     const char *name)
{
	struct hs_probe_point *p;

	p = realloc(set->pts, (set->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	set->pts = p;
	p = &set->pts[set->n];
	p->path = strdup(path);
	p->name = strdup(name);
	if (!p->path || !p->name) {
		free(p->path);
		free(p->name);
		return -ENOMEM;
	}
	p->dev = st->st_dev;
	p->ino = st->st_ino;
	p->offset = off;
	p->fn = (uint32_t)fn;
	set->n++;
	return 0;
}

static int scan_symtab(struct hs_probe_set *set, Elf *elf, Elf_Scn *scn,
		       const char *path, const struct stat *st,
		       char *const *wrappers, size_t nwrappers)
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
		fn = classify(name, wrappers, nwrappers);
		if (fn < 0 || vaddr_to_offset(elf, sym.st_value, &off) ||
		    has_offset(set, st->st_dev, st->st_ino, off))
			continue;
		err = add_point(set, path, st, off, fn, name);
		if (err)
			return err;
		added++;
	}
	return added;
}

int hs_probes_scan(struct hs_probe_set *set, const char *path,
		   char *const *wrappers, size_t nwrappers)
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
			r = scan_symtab(set, elf, scn, path, &st, wrappers,
					nwrappers);
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
		       char *const *wrappers, size_t nwrappers, char *err,
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
		r = hs_probes_scan(set, path, wrappers, nwrappers);
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

struct hs_attachment {
	struct bpf_link **links;
	size_t n;
};

static int attach_one(struct hs_attachment *a, struct bpf_program *prog,
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

struct hs_attachment *hs_probes_attach(struct heapsnap_bpf *skel,
				       const struct hs_probe_set *set,
				       pid_t pid, char *err, size_t errlen)
{
	struct hs_attachment *a = calloc(1, sizeof(*a));
	size_t i;
	int r;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < set->n; i++) {
		const struct hs_probe_point *pt = &set->pts[i];

		r = attach_one(a, skel->progs.hs_entry, false, pid, pt);
		if (!r && pt->fn != HS_FN_FREE && pt->fn != HS_FN_WRAPPER)
			r = attach_one(a, skel->progs.hs_return, true, pid, pt);
		if (r) {
			snprintf(err, errlen, "cannot attach to %s in %s: %s",
				 pt->name, pt->path, strerror(-r));
			hs_probes_detach(a);
			return NULL;
		}
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
	free(a->links);
	free(a);
}

size_t hs_attachment_links(const struct hs_attachment *a)
{
	return a ? a->n : 0;
}
