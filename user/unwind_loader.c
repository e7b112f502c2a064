// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The dynamic loader's debugger hook: found, and probed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "unwind_loader.h"

/* struct r_debug: int r_version; struct link_map *r_map; r_brk; r_state */
#define R_STATE_OFFSET 24

int hs_elf_file_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t n = 0;

	if (elf_getphdrnum(elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* The two symbols of the hook, from the dynamic symbol table. */
static int hook_symbols(Elf *elf, uint64_t *hook, uint64_t *r_debug)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int found = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			if (!strcmp(name, "_dl_debug_state") &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
				*hook = sym.st_value;
				found |= 1;
			} else if (!strcmp(name, "_r_debug") &&
				   sym.st_size >= R_STATE_OFFSET + 4) {
				*r_debug = sym.st_value;
				found |= 2;
			}
		}
	}
	return found == 3 ? 0 : -ENOENT;
}

int hs_loader_find(Elf *elf, struct hs_loader_hook *h)
{
	uint64_t hook = 0, r_debug = 0;

	if (hook_symbols(elf, &hook, &r_debug) ||
	    hs_elf_file_offset(elf, hook, &h->offset))
		return -ENOENT;
	h->state = (int64_t)(r_debug + R_STATE_OFFSET - hook);
	return 0;
}

int hs_loader_of(const char *exe, char *buf, size_t len)
{
	int fd = open(exe, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	size_t n = 0;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	for (size_t i = 0; elf && !elf_getphdrnum(elf, &n) && i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP ||
		    !ph.p_filesz || ph.p_filesz >= len ||
		    pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) !=
			    (ssize_t)ph.p_filesz)
			continue;
		buf[ph.p_filesz] = 0;
		err = buf[0] ? 0 : -ENOENT;
		break;
	}
	elf_end(elf);
	close(fd);
	return err;
}

struct bpf_link *hs_loader_attach(struct bpf_program *prog, const char *path,
				  pid_t pid, const struct hs_loader_hook *h,
				  bool stop)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts);

	opts.bpf_cookie = (uint64_t)h->state << 1 | stop;
	return bpf_program__attach_uprobe_opts(prog, pid, path,
					       (size_t)h->offset, &opts);
}
