// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Process mappings over time, and the files behind them, opened early. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "grow.h"
#include "procmaps.h"

struct mapping {
	uint64_t start, end, pgoff;
	uint64_t time_ns; /* 0: present when we first looked */
	size_t file;
};

struct proc {
	pid_t pid;
	bool same_root; /* the process sees our file system, from our root */
	struct mapping *maps; /* sorted by start */
	size_t nmaps, maps_cap;
	uint64_t max_len;
};

struct file {
	struct hs_module_file mf;
	dev_t dev;
	ino_t ino;
};

struct hs_procmaps {
	struct proc *procs;
	size_t nprocs, procs_cap;
	struct file *files;
	size_t nfiles, files_cap;
	ino_t self_mntns;
	struct stat self_root;
	bool self_root_ok;
};

static ino_t mntns_of(const char *pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	return stat(path, &st) ? 0 : st.st_ino;
}

struct hs_procmaps *hs_procmaps_new(void)
{
	struct hs_procmaps *pm = calloc(1, sizeof(*pm));

	if (pm) {
		pm->self_mntns = mntns_of("self");
		pm->self_root_ok = !stat("/", &pm->self_root);
	}
	return pm;
}

/* Same mount namespace and same root directory (not chrooted). */
static bool shares_root(const struct hs_procmaps *pm, const char *pid)
{
	char path[64];
	struct stat st;

	if (!pm->self_mntns || mntns_of(pid) != pm->self_mntns ||
	    !pm->self_root_ok)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/root", pid);
	return !stat(path, &st) && st.st_dev == pm->self_root.st_dev &&
	       st.st_ino == pm->self_root.st_ino;
}

void hs_procmaps_free(struct hs_procmaps *pm)
{
	size_t i;

	if (!pm)
		return;
	for (i = 0; i < pm->nprocs; i++)
		free(pm->procs[i].maps);
	for (i = 0; i < pm->nfiles; i++) {
		free((char *)pm->files[i].mf.path);
		if (pm->files[i].mf.fd >= 0)
			close(pm->files[i].mf.fd);
	}
	free(pm->procs);
	free(pm->files);
	free(pm);
}

static struct proc *find_proc(struct hs_procmaps *pm, pid_t pid, bool create)
{
	char pidstr[16];
	struct proc *p;
	size_t i;

	for (i = 0; i < pm->nprocs; i++)
		if (pm->procs[i].pid == pid)
			return &pm->procs[i];
	if (!create)
		return NULL;
	p = hs_grow_append(&pm->procs, &pm->nprocs, &pm->procs_cap, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	p->same_root = shares_root(pm, pidstr);
	return p;
}

/*
 * Opens path as the process sees it. Opening "/proc/PID/root" + path would
 * resolve an absolute symlink or ".." inside the container against our own
 * root, so a container could make us open any host file: the path is
 * resolved with openat2(RESOLVE_IN_ROOT) under the process's root instead.
 * The kernel gives mapped paths with every symlink resolved, so a symlink
 * on the way means the file was replaced since: it is not followed at all.
 */
static int open_in_root(pid_t pid, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int dirfd, fd, e;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	e = errno;
	close(dirfd);
	errno = e;
	return fd;
}

/*
 * Opens the mapped file the way that cannot pick the wrong one: the
 * mapping's own /proc/PID/map_files entry, then the path inside the
 * process's root. A host path is used only for a process that shares our
 * mount namespace and root (once it has exited, its /proc entries are gone).
 */
static int open_mapped(const struct proc *p, uint64_t start, uint64_t end,
		       uint64_t ino, const char *path)
{
	char link[HS_MAPS_LINK_LEN];
	struct stat st;
	int fd;

	hs_maps_link(link, sizeof(link), p->pid, start, end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	fd = open_in_root(p->pid, path);
	if (fd < 0 && p->same_root)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (ino && st.st_ino != ino)) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t intern_file(struct hs_procmaps *pm, int fd, const char *path,
			  bool foreign)
{
	struct stat st;
	struct file *f;
	size_t i;

	if (fd >= 0 && !fstat(fd, &st)) {
		for (i = 0; i < pm->nfiles; i++) {
			f = &pm->files[i];
			if (f->mf.fd >= 0 && f->dev == st.st_dev &&
			    f->ino == st.st_ino && f->mf.foreign == foreign &&
			    !strcmp(f->mf.path, path)) {
				close(fd);
				return i;
			}
		}
	} else {
		for (i = 0; i < pm->nfiles; i++)
			if (pm->files[i].mf.fd < 0 &&
			    pm->files[i].mf.foreign == foreign &&
			    !strcmp(pm->files[i].mf.path, path))
				return i;
		memset(&st, 0, sizeof(st));
	}
	if (hs_grow(&pm->files, &pm->files_cap, pm->nfiles + 1, sizeof(*f)))
		goto fail;
	f = &pm->files[pm->nfiles];
	f->mf.path = strdup(path);
	if (!f->mf.path)
		goto fail;
	f->mf.fd = fd;
	f->mf.foreign = foreign;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return pm->nfiles++;
fail:
	if (fd >= 0)
		close(fd);
	return SIZE_MAX;
}

static void insert_mapping(struct proc *p, const struct mapping *m)
{
	struct mapping *maps;
	size_t i;

	for (i = 0; i < p->nmaps; i++) {
		struct mapping *o = &p->maps[i];

		if (o->start == m->start && o->end == m->end &&
		    o->pgoff == m->pgoff && o->file == m->file)
			return; /* seen in /proc and in an event */
	}
	if (hs_grow(&p->maps, &p->maps_cap, p->nmaps + 1, sizeof(*maps)))
		return;
	maps = p->maps;
	i = p->nmaps;
	while (i > 0 && maps[i - 1].start > m->start) {
		maps[i] = maps[i - 1];
		i--;
	}
	maps[i] = *m;
	p->nmaps++;
	if (m->end - m->start > p->max_len)
		p->max_len = m->end - m->start;
}

void hs_procmaps_add(struct hs_procmaps *pm, pid_t pid, uint64_t start,
		     uint64_t len, uint64_t pgoff, uint64_t ino,
		     const char *path, uint64_t time_ns)
{
	struct proc *p = find_proc(pm, pid, true);
	struct mapping m;
	int fd;

	if (!p || path[0] != '/' || !len)
		return;
	fd = open_mapped(p, start, start + len, ino, path);
	m.start = start;
	m.end = start + len;
	m.pgoff = pgoff;
	m.time_ns = time_ns;
	m.file = intern_file(pm, fd, path, !p->same_root);
	if (m.file == SIZE_MAX)
		return;
	insert_mapping(p, &m);
}

int hs_maps_open(struct hs_maps_reader *r, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	r->f = fopen(path, "re");
	return r->f ? 0 : -errno;
}

bool hs_maps_next(struct hs_maps_reader *r, struct hs_maps_entry *e)
{
	while (fgets(r->line, sizeof(r->line), r->f)) {
		unsigned long long start, end, off, ino;
		unsigned int major, minor;
		char perms[8];

		if (sscanf(r->line, "%llx-%llx %7s %llx %x:%x %llu", &start,
			   &end, perms, &off, &major, &minor, &ino) != 7)
			continue;
		e->dev = (uint64_t)major << 20 | minor;
		e->start = start;
		e->end = end;
		e->pgoff = off;
		e->ino = ino;
		e->exec = perms[2] == 'x';
		e->path = strchr(r->line, '/');
		if (e->path)
			e->path[strcspn(e->path, "\n")] = 0;
		return true;
	}
	return false;
}

void hs_maps_close(struct hs_maps_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}

void hs_maps_link(char *buf, size_t len, pid_t pid, uint64_t start,
		  uint64_t end)
{
	snprintf(buf, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid,
		 start, end);
}

int hs_procmaps_read(struct hs_procmaps *pm, pid_t pid)
{
	struct hs_maps_reader r;
	struct hs_maps_entry e;
	char *deleted;
	int err;

	err = hs_maps_open(&r, pid);
	if (err)
		return err;
	while (hs_maps_next(&r, &e)) {
		if (!e.exec || !e.path)
			continue;
		deleted = strstr(e.path, " (deleted)");
		if (deleted && !deleted[10])
			*deleted = 0;
		hs_procmaps_add(pm, pid, e.start, e.end - e.start, e.pgoff,
				e.ino, e.path, 0);
	}
	hs_maps_close(&r);
	return 0;
}

void hs_procmaps_exec(struct hs_procmaps *pm, pid_t pid, uint64_t time_ns)
{
	struct proc *p = find_proc(pm, pid, false);
	size_t i, j = 0;

	if (!p)
		return;
	for (i = 0; i < p->nmaps; i++)
		if (p->maps[i].time_ns > time_ns)
			p->maps[j++] = p->maps[i];
	p->nmaps = j;
}

void hs_procmaps_forget(struct hs_procmaps *pm, pid_t pid)
{
	struct proc *p = find_proc(pm, pid, false);

	if (!p)
		return;
	free(p->maps);
	*p = pm->procs[--pm->nprocs];
}

void hs_procmaps_fork(struct hs_procmaps *pm, pid_t parent, pid_t child)
{
	struct proc *c = find_proc(pm, child, true), *p;

	p = find_proc(pm, parent, false); /* after the child: it may move */
	if (!c || !p || c->nmaps || !p->nmaps ||
	    hs_grow(&c->maps, &c->maps_cap, p->nmaps, sizeof(*c->maps)))
		return;
	memcpy(c->maps, p->maps, p->nmaps * sizeof(*c->maps));
	c->nmaps = p->nmaps;
	c->max_len = p->max_len;
}

bool hs_procmaps_find(struct hs_procmaps *pm, pid_t pid, uint64_t addr,
		      uint64_t time_ns, const struct hs_module_file **file,
		      uint64_t *file_off)
{
	struct proc *p = find_proc(pm, pid, false);
	const struct mapping *best = NULL;
	size_t lo = 0, hi;

	if (!p)
		return false;
	hi = p->nmaps;
	while (lo < hi) { /* first mapping starting above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (p->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* newest mapping that covers addr and existed when it was used */
	for (size_t i = lo; i-- > 0;) {
		const struct mapping *m = &p->maps[i];

		if (addr - m->start >= p->max_len)
			break;
		if (addr >= m->end || (time_ns && m->time_ns > time_ns))
			continue;
		if (!best || m->time_ns > best->time_ns)
			best = m;
	}
	if (!best)
		return false;
	*file = &pm->files[best->file].mf;
	*file_off = addr - best->start + best->pgoff;
	return true;
}

bool hs_procmaps_in_loader(struct hs_procmaps *pm, pid_t pid, uint64_t addr,
			   uint64_t time_ns)
{
	const struct hs_module_file *f;
	const char *base;
	uint64_t off;

	if (!hs_procmaps_find(pm, pid, addr, time_ns, &f, &off))
		return false;
	base = strrchr(f->path, '/');
	base = base ? base + 1 : f->path;
	return !strncmp(base, "ld-linux", 8) || !strncmp(base, "ld-musl", 7) ||
	       !strncmp(base, "ld.so", 5);
}
