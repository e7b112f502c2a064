// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Python targets: detection per process, and the code objects' events. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elffile.h"
#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "procmaps.h"
#include "pyframes.h"
#include "pylayout.h"
#include "pyprocs.h"
#include "python.h"

/* What one interpreter file is, read once however many processes map it. */
struct pyfile {
	dev_t dev;
	ino_t ino;
	struct hs_elf *elf; /* kept for a CPython file */
	bool python;
	struct hs_pylayout layout;
	struct hs_pyalloc alloc;
};

struct entry {
	struct hs_pyproc p;
	uint64_t runtime; /* _PyRuntime in the process */
	struct hs_py_offsets off;
};

struct hs_python {
	struct heapsnap_bpf *skel;
	struct ring_buffer *rb;
	struct hs_pycodes *codes;
	struct entry *procs;
	size_t nprocs, procs_cap;
	struct pyfile *files;
	size_t nfiles, files_cap;
	bool verbose;
};

static struct entry *entry_of(const struct hs_python *py, pid_t pid)
{
	for (size_t i = 0; i < py->nprocs; i++)
		if (py->procs[i].p.pid == pid)
			return &py->procs[i];
	return NULL;
}

static int on_code(void *ctx, void *data, size_t size)
{
	const struct hs_py_code_event *ev = data;
	struct hs_python *py = ctx;
	struct entry *e;

	if (size < sizeof(*ev))
		return 0;
	e = entry_of(py, (pid_t)ev->tgid);
	if (e)
		hs_pycodes_add(py->codes, ev, &e->off);
	return 0;
}

struct hs_python *hs_python_new(struct heapsnap_bpf *skel, bool verbose)
{
	struct hs_python *py = calloc(1, sizeof(*py));

	if (!py)
		return NULL;
	py->skel = skel;
	py->verbose = verbose;
	py->codes = hs_pycodes_new();
	py->rb = ring_buffer__new(bpf_map__fd(skel->maps.py_events), on_code,
				  py, NULL);
	if (!py->codes || !py->rb) {
		hs_python_free(py);
		return NULL;
	}
	return py;
}

void hs_python_free(struct hs_python *py)
{
	if (!py)
		return;
	ring_buffer__free(py->rb);
	hs_pycodes_free(py->codes);
	for (size_t i = 0; i < py->nfiles; i++)
		hs_elf_close(py->files[i].elf);
	free(py->procs);
	free(py->files);
	free(py);
}

int hs_python_fd(const struct hs_python *py)
{
	return ring_buffer__epoll_fd(py->rb);
}

void hs_python_consume(struct hs_python *py)
{
	if (py)
		ring_buffer__consume(py->rb);
}

const struct hs_pycodes *hs_python_codes(const struct hs_python *py)
{
	return py->codes;
}

const struct hs_pyproc *hs_python_find(const struct hs_python *py, pid_t pid)
{
	const struct entry *e = entry_of(py, pid);

	return e ? &e->p : NULL;
}

/* The walker reads co_filename, co_name, co_qualname, co_linetable at once. */
static bool ident_fields_follow(const struct hs_py_offsets *o)
{
	return o->code_name == o->code_filename + 8 &&
	       o->code_qualname == o->code_filename + 16 &&
	       o->code_linetable == o->code_filename + 24;
}

/* The file at path (shown: its name in the process), read once. */
static struct pyfile *file_of(struct hs_python *py, const char *path,
			      const char *shown)
{
	struct pyfile *f;
	struct stat st;

	if (stat(path, &st))
		return NULL;
	for (size_t i = 0; i < py->nfiles; i++)
		if (py->files[i].dev == st.st_dev &&
		    py->files[i].ino == st.st_ino)
			return &py->files[i];
	if (hs_grow(&py->files, &py->files_cap, py->nfiles + 1,
		    sizeof(*py->files)))
		return NULL;
	f = &py->files[py->nfiles];
	memset(f, 0, sizeof(*f));
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->elf = hs_elf_open(path);
	if (!f->elf)
		return NULL;
	py->nfiles++;
	f->python = hs_pylayout_read(f->elf, shown, &f->layout) == 1;
	if (!f->python) {
		hs_elf_close(f->elf);
		f->elf = NULL;
		return f;
	}
	hs_pyalloc_read(f->elf, &f->alloc);
	if (f->layout.supported && !ident_fields_follow(&f->layout.off)) {
		f->layout.supported = false;
		snprintf(
			f->layout.note, sizeof(f->layout.note),
			"its code objects are laid out unlike 3.11-3.13's: traced natively, without Python frames");
	}
	return f;
}

/* An executable mapping of the process: is it a CPython? */
static bool python_mapping(struct hs_python *py, pid_t pid,
			   const struct hs_maps_entry *m, struct entry *e)
{
	char link[HS_MAPS_LINK_LEN];
	struct pyfile *f;

	if (!m->exec || !m->path || m->path[0] != '/')
		return false;
	hs_maps_link(link, sizeof(link), pid, m->start, m->end);
	f = file_of(py, link, m->path);
	if (!f || !f->python ||
	    hs_elf_bias(f->elf, m->start, m->pgoff, &e->p.bias))
		return false;
	e->p.version = f->layout.version;
	e->p.frames = f->layout.supported;
	e->p.alloc = f->alloc;
	snprintf(e->p.path, sizeof(e->p.path), "%s", m->path);
	snprintf(e->p.note, sizeof(e->p.note), "%s", f->layout.note);
	e->off = f->layout.off;
	e->runtime = f->layout.runtime + e->p.bias;
	return true;
}

static void report(const struct entry *e)
{
	char ver[32];

	hs_pyversion_str(e->p.version, ver, sizeof(ver));
	if (!e->p.frames) {
		fprintf(stderr, "heapsnap: pid %d runs CPython %s (%s): %s\n",
			e->p.pid, ver, e->p.path, e->p.note);
		return;
	}
	fprintf(stderr,
		"heapsnap: pid %d runs CPython %s (%s): Python frames; allocator: %s\n",
		e->p.pid, ver, e->p.path, e->p.alloc.why);
}

const struct hs_pyproc *hs_python_update(struct hs_python *py, pid_t pid)
{
	struct entry e = { .p.pid = pid }, *have;
	struct hs_maps_reader rd;
	struct hs_maps_entry m;
	struct hs_py_proc val;
	__u32 key = (__u32)pid;
	bool found = false;

	if (!py || hs_maps_open(&rd, pid))
		return NULL;
	while (!found && hs_maps_next(&rd, &m))
		found = python_mapping(py, pid, &m, &e);
	hs_maps_close(&rd);
	have = entry_of(py, pid);
	if (!have) {
		if (hs_grow(&py->procs, &py->procs_cap, py->nprocs + 1,
			    sizeof(*py->procs)))
			return NULL;
		have = &py->procs[py->nprocs++];
	} else if (have->p.version == e.p.version &&
		   have->runtime == e.runtime &&
		   !strcmp(have->p.path, e.p.path)) {
		return &have->p; /* nothing changed: a library came or went */
	}
	*have = e;
	if (!found)
		return &have->p;
	if (e.p.frames) {
		val.runtime = e.runtime;
		val.off = e.off;
		if (bpf_map_update_elem(bpf_map__fd(py->skel->maps.py_procs),
					&key, &val, BPF_ANY)) {
			have->p.frames = false;
			snprintf(have->p.note, sizeof(have->p.note),
				 "no room for its Python frames: %s",
				 strerror(errno));
		}
	}
	if (py->verbose || !e.p.frames)
		report(have);
	return &have->p;
}

void hs_python_forget(struct hs_python *py, pid_t pid)
{
	__u32 key = (__u32)pid;

	if (py)
		bpf_map_delete_elem(bpf_map__fd(py->skel->maps.py_procs), &key);
}
