// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Which CPython a process runs, and how its allocator is traced. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elffile.h"
#include "grow.h"
#include "heapsnap.h"
#include "probes.h"
#include "procmaps.h"
#include "pylayout.h"
#include "pytarget.h"

/* What one interpreter file is, read once however many processes map it. */
struct pyfile {
	dev_t dev;
	ino_t ino;
	struct hs_elf *elf; /* kept for a CPython file */
	bool python;
	struct hs_pylayout layout;
	struct hs_pyalloc alloc;
};

struct hs_pyfiles {
	struct pyfile *files;
	size_t nfiles, files_cap;
};

struct hs_pyfiles *hs_pyfiles_new(void)
{
	return calloc(1, sizeof(struct hs_pyfiles));
}

void hs_pyfiles_free(struct hs_pyfiles *py)
{
	if (!py)
		return;
	for (size_t i = 0; i < py->nfiles; i++)
		hs_elf_close(py->files[i].elf);
	free(py->files);
	free(py);
}

/* The walker reads co_filename, co_name, co_qualname, co_linetable at once. */
static bool ident_fields_follow(const struct hs_py_offsets *o)
{
	return o->code_name == o->code_filename + 8 &&
	       o->code_qualname == o->code_filename + 16 &&
	       o->code_linetable == o->code_filename + 24;
}

/* The file at path (shown: its name in the process), read once. */
static struct pyfile *file_of(struct hs_pyfiles *py, const char *path,
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

static const char *const mode_names[] = {
	[HS_PY_OFF] = "off",	 [HS_PY_AUTO] = "auto",
	[HS_PY_EXACT] = "exact", [HS_PY_POOLS] = "pools",
	[HS_PY_FRAMES] = "frames",
};

const char *hs_pymode_name(enum hs_pymode mode)
{
	return mode <= HS_PY_FRAMES ? mode_names[mode] : "?";
}

/* What a process gets of what was asked, with what its allocator allows. */
static enum hs_pymode decide(enum hs_pymode asked, const struct hs_pyalloc *a)
{
	bool pools = a->new_pool && a->pool_size;

	if (asked == HS_PY_FRAMES)
		return HS_PY_FRAMES;
	if (a->exact && asked != HS_PY_POOLS)
		return HS_PY_EXACT;
	return pools ? HS_PY_POOLS : HS_PY_FRAMES;
}

/* An executable mapping of the process: is it a CPython? */
static bool python_mapping(struct hs_pyfiles *py, pid_t pid,
			   enum hs_pymode asked, const struct hs_maps_entry *m,
			   struct hs_pytarget *t)
{
	char link[HS_MAPS_LINK_LEN];
	struct pyfile *f;
	uint64_t bias;

	if (!m->exec || !m->path || m->path[0] != '/')
		return false;
	hs_maps_link(link, sizeof(link), pid, m->start, m->end);
	f = file_of(py, link, m->path);
	if (!f || !f->python || hs_elf_bias(f->elf, m->start, m->pgoff, &bias))
		return false;
	t->version = f->layout.version;
	t->frames = f->layout.supported;
	t->alloc = f->alloc;
	t->mode = t->frames ? decide(asked, &f->alloc) : HS_PY_OFF;
	snprintf(t->link, sizeof(t->link), "%s", link);
	snprintf(t->path, sizeof(t->path), "%s", m->path);
	snprintf(t->note, sizeof(t->note), "%s", f->layout.note);
	t->off = f->layout.off;
	t->runtime = f->layout.runtime + bias;
	t->eval_lo = f->layout.eval_lo + bias;
	t->eval_hi = f->layout.eval_hi + bias;
	return true;
}

int hs_pytarget_find(struct hs_pyfiles *files, pid_t pid, enum hs_pymode asked,
		     struct hs_pytarget *t)
{
	struct hs_maps_reader rd;
	struct hs_maps_entry m;
	bool found = false;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	err = hs_maps_open(&rd, pid);
	if (err)
		return err;
	while (!found && hs_maps_next(&rd, &m))
		found = python_mapping(files, pid, asked, &m, t);
	hs_maps_close(&rd);
	return found;
}

/* The python domain's functions, each with its cookie. */
static const uint32_t fn_cookies[HS_PYFN_COUNT] = {
	[HS_PYFN_MALLOC] = HS_FN_MALLOC | HS_COOKIE_PYTHON,
	[HS_PYFN_CALLOC] = HS_FN_CALLOC | HS_COOKIE_PYTHON,
	[HS_PYFN_REALLOC] = HS_FN_REALLOC | HS_COOKIE_PYTHON,
	[HS_PYFN_FREE] = HS_FN_FREE | HS_COOKIE_PYTHON,
	[HS_PYFN_RAW_MALLOC] = HS_FN_MALLOC | HS_COOKIE_PYTHON | HS_COOKIE_RAW,
	[HS_PYFN_RAW_CALLOC] = HS_FN_CALLOC | HS_COOKIE_PYTHON | HS_COOKIE_RAW,
	[HS_PYFN_RAW_REALLOC] = HS_FN_REALLOC | HS_COOKIE_PYTHON |
				HS_COOKIE_RAW,
	[HS_PYFN_RAW_FREE] = HS_FN_FREE | HS_COOKIE_PYTHON | HS_COOKIE_RAW,
};

int hs_pytarget_probes(const struct hs_pytarget *t, struct hs_probe_set *set,
		       const struct hs_probe_opts *o)
{
	const struct hs_pyalloc *a = &t->alloc;
	int added = 0, r = 0;

	if (t->mode == HS_PY_EXACT) {
		for (int i = 0; i < HS_PYFN_COUNT && r >= 0; i++) {
			r = hs_probes_add(set, t->link, a->fn[i], 0,
					  fn_cookies[i], hs_pyfn_name(i), o);
			added += r > 0;
		}
	} else if (t->mode == HS_PY_POOLS) {
		r = hs_probes_add(set, t->link, a->new_pool, 0,
				  HS_FN_PY_POOL | HS_COOKIE_PYTHON |
					  HS_COOKIE_POOL(__builtin_ctz(
						  a->pool_size)),
				  "allocate_from_new_pool", o);
		added += r > 0;
	}
	return r < 0 ? r : added;
}

bool hs_pytarget_describe(const struct hs_pytarget *py, char *buf, size_t len)
{
	static const char *const how[] = {
		[HS_PY_OFF] = "traced natively, without Python frames",
		[HS_PY_AUTO] = "?",
		[HS_PY_EXACT] = "Python frames; python domain exact",
		[HS_PY_POOLS] =
			"Python frames; python domain estimated from the pools pymalloc takes",
		[HS_PY_FRAMES] = "Python frames; no python domain",
	};
	char ver[32];

	if (!py->version)
		return false;
	hs_pyversion_str(py->version, ver, sizeof(ver));
	snprintf(buf, len, "CPython %s (%s): %s (%s)", ver, py->path,
		 py->mode <= HS_PY_FRAMES ? how[py->mode] : "?",
		 py->mode == HS_PY_OFF ? py->note : py->alloc.why);
	return true;
}
