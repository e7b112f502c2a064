// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A spawned command stopped at its entry point, then let go. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "entrystop.h"

/* The file offset of exe's entry point. */
static int entry_offset(const char *exe, uint64_t *off)
{
	int fd = open(exe, O_RDONLY | O_CLOEXEC), err = -ENOEXEC;
	size_t n = 0;
	GElf_Ehdr eh;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && gelf_getehdr(elf, &eh) && !elf_getphdrnum(elf, &n)) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph) ||
			    ph.p_type != PT_LOAD || eh.e_entry < ph.p_vaddr ||
			    eh.e_entry >= ph.p_vaddr + ph.p_filesz)
				continue;
			*off = eh.e_entry - ph.p_vaddr + ph.p_offset;
			err = 0;
			break;
		}
	}
	elf_end(elf);
	close(fd);
	return err;
}

struct bpf_link *hs_entry_hold(struct bpf_program *stop, const char *exe,
			       pid_t pid)
{
	uint64_t off = 0;

	if (!exe || entry_offset(exe, &off))
		return NULL;
	return bpf_program__attach_uprobe(stop, false, pid, exe, (size_t)off);
}

int hs_entry_wait(struct bpf_link *hold, pid_t pid)
{
	int status;

	if (!hold)
		return -ENOENT;
	for (int i = 0; i < 2000; i++) {
		pid_t w = waitpid(pid, &status, WUNTRACED | WNOHANG);

		if (w == pid && WIFSTOPPED(status))
			return 0;
		if (w == pid || w < 0)
			return -ECHILD; /* it is gone: the exit reports it */
		usleep(1000);
	}
	return -ETIMEDOUT;
}

void hs_entry_go(struct bpf_link *hold, pid_t pid)
{
	if (!hold)
		return;
	bpf_link__destroy(hold);
	kill(pid, SIGCONT);
}
