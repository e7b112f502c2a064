// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* An ELF file's symbols and load segments, read with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elffile.h"
#include "grow.h"

struct segment {
	uint64_t vaddr, filesz, memsz, offset;
	bool exec;
};

struct hs_elf {
	int fd;
	Elf *elf;
	struct segment *segs;
	size_t nsegs, cap;
	bool symtab;
};

static int read_segments(struct hs_elf *e)
{
	size_t n;

	if (elf_getphdrnum(e->elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (hs_grow(&e->segs, &e->cap, e->nsegs + 1, sizeof(*e->segs)))
			return -ENOMEM;
		e->segs[e->nsegs++] = (struct segment){
			.vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz,
			.memsz = ph.p_memsz,
			.offset = ph.p_offset,
			.exec = ph.p_flags & PF_X,
		};
	}
	return 0;
}

struct hs_elf *hs_elf_open(const char *path)
{
	struct hs_elf *e = calloc(1, sizeof(*e));
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	if (!e)
		return NULL;
	elf_version(EV_CURRENT);
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		goto fail;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		errno = ENOEXEC;
		goto fail;
	}
	err = read_segments(e);
	if (err) {
		errno = -err;
		goto fail;
	}
	while ((scn = elf_nextscn(e->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			e->symtab = true;
	return e;
fail:
	err = errno;
	hs_elf_close(e);
	errno = err;
	return NULL;
}

void hs_elf_close(struct hs_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->segs);
	free(e);
}

bool hs_elf_has_symtab(const struct hs_elf *e)
{
	return e->symtab;
}

static bool find_in(struct hs_elf *e, Elf64_Word type, const char *name,
		    GElf_Sym *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Data *data = elf_getdata(scn, NULL);
		GElf_Shdr sh;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !data ||
		    !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			const char *s;

			if (!gelf_getsym(data, (int)i, out) ||
			    out->st_shndx == SHN_UNDEF || !out->st_value)
				continue;
			s = elf_strptr(e->elf, sh.sh_link, out->st_name);
			if (s && !strcmp(s, name))
				return true;
		}
	}
	return false;
}

bool hs_elf_symbol(struct hs_elf *e, const char *name, uint64_t *vaddr,
		   uint64_t *size)
{
	GElf_Sym sym;

	if (!find_in(e, SHT_DYNSYM, name, &sym) &&
	    !find_in(e, SHT_SYMTAB, name, &sym))
		return false;
	*vaddr = sym.st_value;
	if (size)
		*size = sym.st_size;
	return true;
}

ssize_t hs_elf_read(struct hs_elf *e, uint64_t vaddr, void *buf, size_t len)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct segment *s = &e->segs[i];
		uint64_t at = vaddr - s->vaddr;
		size_t in_file = 0;
		ssize_t r;

		if (vaddr < s->vaddr || at >= s->memsz || len > s->memsz - at)
			continue;
		if (at < s->filesz)
			in_file = len < s->filesz - at ? len : s->filesz - at;
		r = in_file ? pread(e->fd, buf, in_file,
				    (off_t)(s->offset + at)) :
			      0;
		if (r < 0 || (size_t)r != in_file)
			return -1;
		memset((char *)buf + in_file, 0, len - in_file);
		return (ssize_t)len;
	}
	return -1;
}

int hs_elf_bias(const struct hs_elf *e, uint64_t start, uint64_t pgoff,
		uint64_t *bias)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct segment *s = &e->segs[i];

		if (pgoff < s->offset || pgoff >= s->offset + s->filesz)
			continue;
		*bias = start - (s->vaddr + (pgoff - s->offset));
		return 0;
	}
	return -1;
}

bool hs_elf_in_plt(struct hs_elf *e, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || vaddr < sh.sh_addr ||
		    vaddr >= sh.sh_addr + sh.sh_size)
			continue;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		return name && !strncmp(name, ".plt", 4);
	}
	return false;
}

bool hs_elf_in_text(const struct hs_elf *e, uint64_t vaddr)
{
	for (size_t i = 0; i < e->nsegs; i++)
		if (e->segs[i].exec && vaddr >= e->segs[i].vaddr &&
		    vaddr < e->segs[i].vaddr + e->segs[i].filesz)
			return true;
	return false;
}
