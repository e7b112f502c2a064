// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The processes to trace: validated pids, or a command started stopped. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "targets.h"

#define PF_KTHREAD 0x00200000

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Reads state and flags from /proc/PID/stat. */
static int read_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command may contain spaces and ')' */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EIO;
	return 0;
}

int hs_target_check(pid_t pid, char *err, size_t errlen)
{
	unsigned long flags;
	char state;
	int r;

	if (pid <= 0) {
		snprintf(err, errlen, "invalid pid %d", pid);
		return -1;
	}
	r = read_stat(pid, &state, &flags);
	if (r == -ENOENT) {
		snprintf(err, errlen, "no process with pid %d", pid);
		return -1;
	}
	if (r) {
		snprintf(err, errlen, "cannot read /proc/%d/stat: %s", pid,
			 strerror(-r));
		return -1;
	}
	if (flags & PF_KTHREAD) {
		snprintf(err, errlen,
			 "pid %d is a kernel thread; it has no user-space heap",
			 pid);
		return -1;
	}
	if (state == 'Z' || state == 'X') {
		snprintf(err, errlen, "pid %d is a zombie (it has exited)",
			 pid);
		return -1;
	}
	return 0;
}

char *hs_read_cmdline(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	while (n > 0 && !buf[n - 1])
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	return strdup(buf);
}

int hs_target_open(struct hs_target *t, pid_t pid, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (hs_target_check(pid, err, errlen))
		return -1;
	t->pidfd = pidfd_open(pid);
	if (t->pidfd < 0) {
		snprintf(err, errlen, "cannot open pid %d: %s", pid,
			 strerror(errno));
		return -1;
	}
	t->command = hs_read_cmdline(pid);
	return 0;
}

enum exe_kind {
	EXE_OTHER, /* dynamically linked, or not ELF (a script) */
	EXE_STATIC_MALLOC, /* static, with malloc in its symbol table */
	EXE_STATIC_NO_MALLOC, /* static, with symbols but no malloc */
	EXE_STATIC_STRIPPED, /* static, without a symbol table */
};

static bool symtab_has_malloc(Elf *elf, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	GElf_Sym sym;
	const char *name;
	size_t i, n;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return false;
	n = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym) ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (name && !strcmp(name, "malloc"))
			return true;
	}
	return false;
}

static enum exe_kind classify_elf(Elf *elf)
{
	enum exe_kind kind = EXE_STATIC_STRIPPED;
	Elf_Scn *scn = NULL;
	GElf_Phdr ph;
	GElf_Shdr sh;
	size_t i, n;

	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n))
		return EXE_OTHER;
	for (i = 0; i < n; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
			return EXE_OTHER;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (symtab_has_malloc(elf, scn))
			return EXE_STATIC_MALLOC;
		if (sh.sh_type == SHT_SYMTAB)
			kind = EXE_STATIC_NO_MALLOC;
	}
	return kind;
}

static enum exe_kind exe_kind(const char *path)
{
	enum exe_kind kind = EXE_OTHER;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return EXE_OTHER; /* the exec or the attach will say why */
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		kind = classify_elf(elf);
	elf_end(elf);
	close(fd);
	return kind;
}

int hs_target_check_exe(const struct hs_target *t, char *err, size_t errlen)
{
	char proc[64], shown[PATH_MAX];
	const char *path = t->exe, *name = t->exe;
	ssize_t n;

	if (!path) {
		snprintf(proc, sizeof(proc), "/proc/%d/exe", t->pid);
		path = proc;
		n = readlink(proc, shown, sizeof(shown) - 1);
		shown[n > 0 ? n : 0] = 0;
		name = n > 0 ? shown : proc;
	}
	switch (exe_kind(path)) {
	case EXE_STATIC_STRIPPED:
		snprintf(err, errlen,
			 "%s is statically linked and stripped: its allocator is inside it and has no symbol to probe",
			 name);
		return -1;
	case EXE_STATIC_NO_MALLOC:
		snprintf(err, errlen,
			 "%s is statically linked and defines no malloc: there is no allocator library to probe",
			 name);
		return -1;
	default:
		return 0;
	}
}

/* The executable execvp() would run, found before fork. */
static char *find_exec(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/'))
		return strdup(name);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len,
			 len ? path : ".", name);
		if (!access(buf, X_OK))
			return strdup(buf);
		path += len + (path[len] == ':');
	}
	return NULL;
}

static char *join_args(char *const *argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; argv[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/*
 * The child waits on the gate, then execs. It must not allocate between the
 * moment the probes are attached and exec: such a block would belong to our
 * image, not to the command's.
 */
static void child(int gate, int report, const char *exe, char *const *argv)
{
	char c;
	int e;

	while (read(gate, &c, 1) < 0 && errno == EINTR)
		;
	close(gate);
	execv(exe, argv);
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int hs_target_spawn(struct hs_target *t, char *const *argv,
		    struct hs_gate *gate, char *err, size_t errlen)
{
	int gate_fds[2], report_fds[2];
	char *exe;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	exe = find_exec(argv[0]);
	if (!exe) {
		snprintf(err, errlen, "cannot run %s: command not found",
			 argv[0]);
		return -1;
	}
	if (pipe2(gate_fds, O_CLOEXEC) || pipe2(report_fds, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(exe);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		free(exe);
		return -1;
	}
	if (!pid) {
		close(gate_fds[1]);
		close(report_fds[0]);
		child(gate_fds[0], report_fds[1], exe, argv);
	}
	t->exe = exe;
	close(gate_fds[0]);
	close(report_fds[1]);
	t->pid = pid;
	t->child = true;
	t->command = join_args(argv);
	t->pidfd = pidfd_open(pid);
	gate->release_fd = gate_fds[1];
	gate->report_fd = report_fds[0];
	if (t->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int hs_target_release(struct hs_gate *gate)
{
	int e = 0;
	ssize_t n;

	if (write(gate->release_fd, "x", 1) != 1)
		e = errno;
	close(gate->release_fd);
	do {
		n = read(gate->report_fd, &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	close(gate->report_fd);
	gate->release_fd = gate->report_fd = -1;
	return n == sizeof(e) || e ? -e : 0;
}

void hs_target_reap(struct hs_target *t)
{
	t->exited = true;
	if (t->child && t->pid > 0) {
		while (waitpid(t->pid, &t->status, 0) < 0 && errno == EINTR)
			;
		t->child = false;
	}
}

void hs_target_close(struct hs_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	free(t->command);
	t->command = NULL;
	free(t->exe);
	t->exe = NULL;
}
