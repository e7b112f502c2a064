// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The call-frame rows of a module, for the BPF unwinder to walk the stacks
 * of code built without frame pointers. The file is checked here; its CFI
 * sections are found in cfi_source.c, their FDEs listed in cfi_fde.c, and
 * each FDE's rows evaluated by libdw in cfi_rows.c.
 *
 * .eh_frame is what the program's own unwinder uses, so it wins: an FDE of
 * .debug_frame (the file's, or that of its separate debug file under
 * /usr/lib/debug/.build-id) is used only where no .eh_frame FDE overlaps it.
 *
 * libdw runs an FDE's instructions from its start for every row, so a
 * table costs the sum over FDEs of rows x instruction bytes. Real FDEs are
 * small, but a crafted one is not: the work is bounded in proportion to the
 * size of the sections, and what is left when it runs out is HS_CFA_NONE.
 *
 * No state outside the call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfi_builder.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int hs_cfi_build(int fd, struct hs_cfi_table *t, char *err, size_t errlen)
{
	struct cfi_builder b = { .src = { { .fd = -1 }, { .fd = -1 } } };
	GElf_Ehdr ehdr;
	GElf_Phdr phdr;
	struct stat st;
	Elf *elf = NULL;
	size_t i, n;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!t)
		return fail(err, errlen, -EINVAL, "no table");
	*t = (struct hs_cfi_table){ 0 };
	if (fd < 0)
		return fail(err, errlen, -EINVAL, "bad file descriptor");
	if (fstat(fd, &st))
		return fail(err, errlen, -errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, -ENOEXEC, "not a regular file");

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
		ret = fail(err, errlen, -ENOEXEC, "not an ELF file");
		goto out;
	}
	if (gelf_getclass(elf) != ELFCLASS64 ||
	    ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
	    ehdr.e_machine != EM_X86_64 ||
	    (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)) {
		ret = fail(err, errlen, -ENOEXEC,
			   "not an x86-64 executable or shared object");
		goto out;
	}
	if (elf_getphdrnum(elf, &n)) {
		ret = fail(err, errlen, -ENOEXEC, "no program headers: %s",
			   elf_errmsg(-1));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		if (phdr.p_vaddr >= ADDR_LIMIT ||
		    phdr.p_memsz > ADDR_LIMIT - phdr.p_vaddr) {
			ret = fail(err, errlen, -E2BIG,
				   "a segment ends above 4 GiB (%#llx)",
				   (unsigned long long)phdr.p_vaddr);
			goto out;
		}
	}

	b.entry = ehdr.e_entry;
	ret = cfi_open_sources(&b, elf);
	if (ret) {
		ret = fail(err, errlen, ret, "out of memory");
		goto out;
	}
	b.work = WORK_BASE + WORK_PER_BYTE * (uint64_t)(b.src[SRC_EH].bytes +
							b.src[SRC_DEBUG].bytes);
	cfi_sort_fdes(&b);
	ret = cfi_build_rows(&b, t);
	if (ret == -ENOENT) {
		ret = fail(
			err, errlen, ret,
			b.bad ? "no readable FDE in .eh_frame or .debug_frame" :
				"no FDE in .eh_frame or .debug_frame");
		goto out;
	}
	if (ret) {
		ret = fail(err, errlen, ret, "out of memory");
		goto out;
	}
	t->rows = b.rows;
	t->n = b.nrows;
	t->nfdes = b.used;
	t->nbad = b.bad;
	t->frame_pointers =
		b.multi_row && b.fp_switch * 5 >= (uint64_t)b.multi_row * 4;
	b.rows = NULL;
out:
	if (ret)
		*t = (struct hs_cfi_table){ 0 };
	cfi_close_sources(&b);
	elf_end(elf);
	free(b.cies);
	free(b.fdes);
	free(b.rows);
	return ret;
}

void hs_cfi_free(struct hs_cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	*t = (struct hs_cfi_table){ 0 };
}
