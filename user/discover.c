// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Which allocator files a process uses, for a pid or a command not yet run. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover.h"
#include "grow.h"
#include "procmaps.h"

#define LIST_MAX (256 * 1024)

/* A file the process maps or will load, in the order the linker searches. */
struct seen {
	char path[PATH_MAX + 32]; /* reaches it from here */
	char shown[PATH_MAX]; /* as the process names it */
	bool exe;
};

struct file_list {
	struct seen *f;
	size_t n, cap;
	const char *how; /* "maps it" or "loads it" */
};

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Libraries worth a scan: the allocators, and libstdc++ for operator new. */
static const char *lib_role(const char *path)
{
	const char *b = base_name(path);

	if (starts(b, "libc.so") || starts(b, "libc-2."))
		return "glibc";
	if (starts(b, "libstdc++.so"))
		return "C++ operator new";
	if (starts(b, "libjemalloc"))
		return "jemalloc";
	if (starts(b, "libtcmalloc"))
		return "tcmalloc";
	if (starts(b, "libmimalloc"))
		return "mimalloc";
	return NULL;
}

static int rank(const struct seen *f)
{
	const char *role = lib_role(f->shown);

	if (f->exe)
		return 0;
	if (role && strcmp(role, "glibc") && strcmp(role, "C++ operator new"))
		return 1;
	return 2;
}

static int add_seen(struct file_list *l, const char *path, const char *shown,
		    bool exe)
{
	struct seen *f;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->f[i].shown, shown))
			return 0;
	f = hs_grow_append(&l->f, &l->n, &l->cap, sizeof(*f));
	if (!f)
		return -ENOMEM;
	snprintf(f->path, sizeof(f->path), "%s", path);
	snprintf(f->shown, sizeof(f->shown), "%s", shown);
	f->exe = exe;
	return 0;
}

static void note(struct hs_discovery *d, const char *shown, const char *why,
		 int points)
{
	struct hs_alloc_file *f;

	if (d->n == HS_DISCOVER_FILES)
		return;
	f = &d->files[d->n++];
	snprintf(f->shown, sizeof(f->shown), "%s", shown);
	snprintf(f->why, sizeof(f->why), "%s", why);
	f->points = points;
}

/*
 * Scans the files of l that hold an allocator: the executable when it
 * defines malloc, and the libraries lib_role() names. The first of them
 * that defines malloc, in the linker's search order, serves malloc.
 */
static int scan_files(struct hs_probe_set *set, struct hs_discovery *d,
		      const struct file_list *l, const struct hs_probe_opts *o,
		      char *err, size_t errlen)
{
	bool served = false;
	int total = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct seen *f = &l->f[i];
		const char *role =
			f->exe ? "its executable" : lib_role(f->shown);
		struct hs_file_info fi;
		char why[128];
		bool bare;
		int r;

		if (!role || hs_probes_inspect(f->path, &fi))
			continue;
		if (f->exe && !fi.defines_malloc && fi.fam == HS_FAM_LIBC)
			continue;
		r = hs_probes_scan(set, f->path, o);
		if (r < 0) {
			snprintf(err, errlen, "cannot read symbols of %s: %s",
				 f->shown, strerror(-r));
			return r;
		}
		bare = lib_role(f->shown) || fi.fam == HS_FAM_LIBC;
		snprintf(why, sizeof(why), "%s%s%s; %s%s", role,
			 bare ? "" : ", ", bare ? "" : hs_family_name(fi.fam),
			 !f->exe	   ? l->how :
			 fi.defines_malloc ? "defines malloc" :
					     "defines allocator functions",
			 fi.defines_malloc && !served ? "; serves malloc" : "");
		served = served || fi.defines_malloc;
		note(d, f->shown, why, r);
		total += r;
	}
	return total;
}

static int finish(int total, const char *who, char *err, size_t errlen)
{
	if (total < 0)
		return total;
	if (!total) {
		snprintf(err, errlen,
			 "%s uses no allocator heapsnap knows (use --lib PATH)",
			 who);
		return -ENOENT;
	}
	return 0;
}

int hs_discover_pid(struct hs_probe_set *set, struct hs_discovery *d, pid_t pid,
		    const struct hs_probe_opts *o, char *err, size_t errlen)
{
	char mapped[128], exe[PATH_MAX], who[64];
	struct file_list l = { .how = "maps it" };
	struct hs_maps_reader mr;
	struct hs_maps_entry e;
	ssize_t n;
	int r;

	snprintf(mapped, sizeof(mapped), "/proc/%d/exe", pid);
	n = readlink(mapped, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	r = hs_maps_open(&mr, pid);
	if (r) {
		snprintf(err, errlen, "cannot read /proc/%d/maps: %s", pid,
			 strerror(-r));
		return r;
	}
	while (!r && hs_maps_next(&mr, &e)) {
		if (!e.path)
			continue;
		/*
		 * The mapping's own link reaches the very file mapped; a path
		 * under /proc/PID/root could meet a symlink the process planted
		 * and lead to a file of ours.
		 */
		hs_maps_link(mapped, sizeof(mapped), pid, e.start, e.end);
		r = add_seen(&l, mapped, e.path, !strcmp(e.path, exe));
	}
	hs_maps_close(&mr);
	/*
	 * The search order: the executable, then the allocators loaded
	 * besides glibc (they come before it, or they would not serve).
	 */
	for (size_t i = 1; i < l.n; i++) {
		struct seen e = l.f[i];
		size_t k = i;

		while (k > 0 && rank(&l.f[k - 1]) > rank(&e)) {
			l.f[k] = l.f[k - 1];
			k--;
		}
		l.f[k] = e;
	}
	if (!r)
		r = scan_files(set, d, &l, o, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	free(l.f);
	snprintf(who, sizeof(who), "process %d", pid);
	return finish(r, who, err, errlen);
}

/*
 * The PT_INTERP of exe into interp: 0, or 1 for a static executable, or
 * -ENOEXEC when exe is no ELF file we can read (the exec will say why).
 */
static int read_interp(const char *exe, char *interp, size_t len)
{
	size_t i, n = 0;
	int fd, r = 1;
	Elf *elf;

	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOEXEC;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n))
		r = -ENOEXEC;
	for (i = 0; r == 1 && i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (!ph.p_filesz || ph.p_filesz >= len ||
		    pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) !=
			    (ssize_t)ph.p_filesz) {
			r = -ENOEXEC;
			break;
		}
		interp[ph.p_filesz] = 0;
		r = 0;
	}
	elf_end(elf);
	close(fd);
	return r;
}

/* Runs "interp --list exe" in our environment; its output, or NULL. */
static char *list_libraries(const char *interp, const char *exe)
{
	char *out = malloc(LIST_MAX),
	     *argv[] = { (char *)interp, "--list", (char *)exe, NULL };
	size_t len = 0;
	int fds[2], status, nul;
	ssize_t n;
	pid_t pid;

	if (!out || pipe2(fds, O_CLOEXEC)) {
		free(out);
		return NULL;
	}
	pid = fork();
	if (pid == 0) {
		nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(fds[1], 1) < 0 ||
		    dup2(nul, 2) < 0)
			_exit(127);
		execv(interp, argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && len < LIST_MAX - 1 &&
	       ((n = read(fds[0], out + len, LIST_MAX - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(fds[0]);
	out[len] = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * Lines of "ld.so --list": "\tNAME => PATH (0x...)", "\tPATH (0x...)" for
 * the preloaded and the linker, "\tNAME => not found".
 */
static int parse_list(struct file_list *l, char *out)
{
	char *save = NULL, *line;
	int r = 0;

	for (line = strtok_r(out, "\n", &save); line && !r;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "=> "), *end;

		p = p ? p + 3 : line + strspn(line, " \t");
		if (*p != '/')
			continue;
		end = strstr(p, " (0x");
		if (end)
			*end = 0;
		r = add_seen(l, p, p, false);
	}
	return r;
}

int hs_discover_exec(struct hs_probe_set *set, struct hs_discovery *d,
		     const char *exe, const struct hs_probe_opts *o, char *err,
		     size_t errlen)
{
	struct file_list l = { .how = "loads it" };
	char interp[PATH_MAX] = "", *out;
	int r;

	r = read_interp(exe, interp, sizeof(interp));
	if (r < 0)
		return r;
	r = add_seen(&l, exe, exe, true);
	if (!r && interp[0] && !access(interp, X_OK)) {
		out = list_libraries(interp, exe);
		if (!out) {
			snprintf(err, errlen, "%s --list %s failed", interp,
				 exe);
			free(l.f);
			return -ENOEXEC;
		}
		r = parse_list(&l, out);
		free(out);
	}
	if (!r)
		r = scan_files(set, d, &l, o, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	free(l.f);
	return finish(r, exe, err, errlen);
}
