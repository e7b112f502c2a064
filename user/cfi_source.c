// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Where a module's CFI is: its .eh_frame, and the .debug_frame of the file
 * or else of its separate debug file under /usr/lib/debug/.build-id, each
 * opened through libdw and its FDEs listed.
 */
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfi_builder.h"

#define DEBUG_BUILD_ID_DIR "/usr/lib/debug/.build-id"

/* A compressed debug section may claim at most this ratio (zlib: ~1000). */
#define MAX_INFLATE 1100
#define MAX_INFLATE_SLACK (1ULL << 20)

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	const char *s;
	size_t strndx;

	if (elf_getshdrstrndx(elf, &strndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, shdr) || shdr->sh_type == SHT_NOBITS)
			continue;
		s = elf_strptr(elf, strndx, shdr->sh_name);
		if (s && !strcmp(s, name))
			return scn;
	}
	return NULL;
}

/*
 * Whether the compressed debug sections (which dwarf_begin_elf() may
 * inflate) claim sizes that their compressed bytes can hold.
 */
static bool inflate_bounded(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	GElf_Chdr chdr;
	Elf_Data *raw;
	const uint8_t *z;
	uint64_t size;
	size_t strndx;
	const char *s;
	int i;

	if (elf_getshdrstrndx(elf, &strndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		if (shdr.sh_flags & SHF_COMPRESSED) {
			if (!gelf_getchdr(scn, &chdr))
				return false;
			size = chdr.ch_size;
		} else {
			s = elf_strptr(elf, strndx, shdr.sh_name);
			if (!s || strncmp(s, ".zdebug", 7))
				continue;
			/* "ZLIB" and the size, big-endian */
			raw = elf_rawdata(scn, NULL);
			if (!raw || raw->d_size < 12)
				return false;
			z = raw->d_buf;
			for (size = 0, i = 4; i < 12; i++)
				size = size << 8 | z[i];
		}
		if (size > MAX_INFLATE_SLACK &&
		    (size - MAX_INFLATE_SLACK) / MAX_INFLATE > shdr.sh_size)
			return false;
	}
	return true;
}

/* The .debug_frame of elf, through libdw, as source src. */
static int open_debug_frame(struct cfi_builder *b, Elf *elf, int *listed)
{
	struct cfi_source *s = &b->src[SRC_DEBUG];
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;

	*listed = 0;
	scn = find_section(elf, ".debug_frame", &shdr);
	if (!scn || !inflate_bounded(elf))
		return 0;
	if ((shdr.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return 0;
	s->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	s->cfi = s->dw ? dwarf_getcfi(s->dw) : NULL;
	if (!s->cfi)
		return 0;
	s->bytes = data->d_size;
	*listed = 1;
	return cfi_list_fdes(b, SRC_DEBUG, elf, data, 0);
}

static bool same_build_id(Elf *a, Elf *b)
{
	const void *ida, *idb;
	ssize_t la = dwelf_elf_gnu_build_id(a, &ida);
	ssize_t lb = dwelf_elf_gnu_build_id(b, &idb);

	return la > 0 && la == lb && !memcmp(ida, idb, la);
}

/* The separate debug file found by the build-id of elf, if any. */
static int open_debug_file(struct cfi_builder *b, Elf *elf)
{
	struct cfi_source *s = &b->src[SRC_DEBUG];
	char path[sizeof(DEBUG_BUILD_ID_DIR) + 2 * 64 + 16];
	const uint8_t *id;
	ssize_t len, i;
	size_t n;
	GElf_Ehdr ehdr;
	int listed;

	len = dwelf_elf_gnu_build_id(elf, (const void **)&id);
	if (len < 2 || len > 64)
		return 0;
	n = (size_t)snprintf(path, sizeof(path), "%s/%02x/", DEBUG_BUILD_ID_DIR,
			     id[0]);
	for (i = 1; i < len; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%02x",
				      id[i]);
	snprintf(path + n, sizeof(path) - n, ".debug");
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return 0;
	s->elf = elf_begin(s->fd, ELF_C_READ_MMAP, NULL);
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF ||
	    !gelf_getehdr(s->elf, &ehdr) || ehdr.e_machine != EM_X86_64 ||
	    gelf_getclass(s->elf) != ELFCLASS64 || !same_build_id(elf, s->elf))
		return 0;
	return open_debug_frame(b, s->elf, &listed);
}

int cfi_open_sources(struct cfi_builder *b, Elf *elf)
{
	struct cfi_source *s = &b->src[SRC_EH];
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;
	int err, listed;

	scn = find_section(elf, ".eh_frame", &shdr);
	data = scn ? elf_getdata(scn, NULL) : NULL;
	if (data && data->d_buf && data->d_size) {
		s->cfi = dwarf_getcfi_elf(elf);
		s->cfi_owned = true;
	}
	if (s->cfi) {
		s->bytes = data->d_size;
		err = cfi_list_fdes(b, SRC_EH, elf, data, shdr.sh_addr);
		if (err)
			return err;
	}
	err = open_debug_frame(b, elf, &listed);
	if (err || listed)
		return err;
	return open_debug_file(b, elf);
}

void cfi_close_sources(struct cfi_builder *b)
{
	struct cfi_source *s;
	int i;

	for (i = 0; i < NSRC; i++) {
		s = &b->src[i];
		if (s->cfi_owned)
			dwarf_cfi_end(s->cfi);
		dwarf_end(s->dw);
		if (s->fd >= 0) {
			elf_end(s->elf);
			close(s->fd);
		}
	}
}
