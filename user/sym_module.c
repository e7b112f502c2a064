// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A module's offline Dwfl.
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
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <unistd.h>

#include "grow.h"
#include "sym_module.h"

struct sym_segment {
	uint64_t offset, vaddr, filesz, memsz;
	bool exec;
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

static int read_segments(struct sym_module *m)
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
		m->segs[m->nsegs++] = (struct sym_segment){
			.offset = phdr.p_offset,
			.vaddr = phdr.p_vaddr,
			.filesz = phdr.p_filesz,
			.memsz = phdr.p_memsz,
			.exec = phdr.p_flags & PF_X,
		};
	}
	return m->nsegs ? 0 : -ENOEXEC;
}

int sym_module_open(struct sym_module *m, const char *path, int fd)
{
	int dupfd, err;

	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return -errno;
	m->dwfl = dwfl_begin(m->foreign ? &foreign_callbacks :
					  &offline_callbacks);
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
	return 0;
fail:
	sym_module_release(m);
	return err;
}

void sym_module_release(struct sym_module *m)
{
	dwfl_end(m->dwfl);
	free(m->segs);
	sym_index_free(&m->index);
}

int sym_module_build_id(const struct sym_module *m, const uint8_t **id)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len;

	len = dwfl_module_build_id(m->mod, &bits, &vaddr);
	if (len <= 0) {
		*id = NULL;
		return 0;
	}
	*id = bits;
	return len;
}

int sym_module_file_to_vaddr(const struct sym_module *m, uint64_t off,
			     uint64_t *vaddr)
{
	const struct sym_segment *s, *found = NULL;
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

int sym_module_lookup(struct sym_module *m, uint64_t vaddr, sym_frame_fn fn,
		      void *ctx)
{
	return sym_lookup(m->mod, &m->index, vaddr + m->bias, fn, ctx);
}
