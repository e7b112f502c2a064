// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The unwind tables: module rows uploaded once, process mappings per pid. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cfi.h"
#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "procmaps.h"
#include "unwind.h"

struct module {
	dev_t dev;
	ino_t ino;
	bool ok; /* its rows are in the array */
	uint32_t first, count;
	bool frame_pointers;
};

struct proc_gen {
	pid_t pid;
	uint32_t gen;
};

struct hs_unwind {
	struct heapsnap_bpf *skel;
	struct module *mods;
	size_t nmods, mods_cap;
	struct proc_gen *gens;
	size_t ngens, gens_cap;
	uint32_t next_row, max_rows;
	uint64_t losses;
	bool verbose;
};

struct hs_unwind *hs_unwind_new(struct heapsnap_bpf *skel, bool verbose)
{
	struct hs_unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->skel = skel;
	u->max_rows = bpf_map__max_entries(skel->maps.cfi_rows);
	u->verbose = verbose;
	return u;
}

void hs_unwind_free(struct hs_unwind *u)
{
	if (!u)
		return;
	free(u->mods);
	free(u->gens);
	free(u);
}

uint64_t hs_unwind_losses(const struct hs_unwind *u)
{
	return u ? u->losses : 0;
}

static int upload(struct hs_unwind *u, const struct hs_cfi_table *t,
		  struct module *m)
{
	int fd = bpf_map__fd(u->skel->maps.cfi_rows);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys, count = (__u32)t->n;
	int err = 0;

	if (t->n > u->max_rows - u->next_row) {
		u->losses++;
		return -ENOSPC;
	}
	keys = malloc(t->n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		keys[i] = u->next_row + (uint32_t)i;
	if (bpf_map_update_batch(fd, keys, t->rows, &count, &opts))
		err = -errno;
	free(keys);
	if (err)
		return err;
	m->first = u->next_row;
	m->count = (uint32_t)t->n;
	m->frame_pointers = t->frame_pointers;
	m->ok = true;
	u->next_row += (uint32_t)t->n;
	return 0;
}

/* The module of the file at fd, its table built and uploaded once. */
static struct module *module_for(struct hs_unwind *u, int fd,
				 const char *shown)
{
	struct hs_cfi_table t = { 0 };
	struct module *m;
	struct stat st;
	char err[256];

	if (fstat(fd, &st))
		return NULL;
	for (size_t i = 0; i < u->nmods; i++)
		if (u->mods[i].dev == st.st_dev && u->mods[i].ino == st.st_ino)
			return &u->mods[i];
	m = hs_grow_append(&u->mods, &u->nmods, &u->mods_cap, sizeof(*m));
	if (!m)
		return NULL;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	if (hs_cfi_build(fd, &t, err, sizeof(err))) {
		if (u->verbose)
			fprintf(stderr, "heapsnap: no unwind table for %s: %s\n",
				shown, err);
		return m;
	}
	if (upload(u, &t, m))
		fprintf(stderr,
			"heapsnap: warning: the unwind rows of %s do not fit (raise --max-unwind-rows)\n",
			shown);
	hs_cfi_free(&t);
	return m;
}

/* runtime - ELF address, for the segment that maps file offset pgoff. */
static int load_bias(int fd, uint64_t start, uint64_t pgoff, uint64_t *bias)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t n = 0;
	int err = -ENOENT;

	if (!elf || elf_getphdrnum(elf, &n)) {
		elf_end(elf);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    pgoff < ph.p_offset || pgoff >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = start - (ph.p_vaddr + (pgoff - ph.p_offset));
		err = 0;
		break;
	}
	elf_end(elf);
	return err;
}

static uint32_t next_gen(struct hs_unwind *u, pid_t pid)
{
	struct proc_gen *g;

	for (size_t i = 0; i < u->ngens; i++)
		if (u->gens[i].pid == pid)
			return ++u->gens[i].gen;
	g = hs_grow_append(&u->gens, &u->ngens, &u->gens_cap, sizeof(*g));
	if (!g)
		return 1;
	g->pid = pid;
	g->gen = 1;
	return g->gen;
}

/* One executable mapping of the maps file: its module and where. */
static void add_mapping(struct hs_unwind *u, struct hs_unwind_proc *p,
			pid_t pid, const struct hs_maps_entry *e)
{
	struct hs_unwind_map *m;
	struct module *mod;
	char link[HS_MAPS_LINK_LEN];
	uint64_t bias;
	int fd;

	if (!e->exec || !e->path || p->n == HS_UNWIND_MAPS)
		return;
	hs_maps_link(link, sizeof(link), pid, e->start, e->end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	mod = module_for(u, fd, e->path);
	if (mod && mod->ok && !load_bias(fd, e->start, e->pgoff, &bias)) {
		m = &p->m[p->n++];
		m->start = e->start;
		m->end = e->end;
		m->bias = bias;
		m->first = mod->first;
		m->count = mod->count;
		m->flags = mod->frame_pointers ? HS_MAP_FRAME_POINTERS : 0;
	}
	close(fd);
}

int hs_unwind_update(struct hs_unwind *u, pid_t pid)
{
	struct hs_unwind_proc *p;
	struct hs_maps_reader r;
	struct hs_maps_entry e;
	__u32 key = (__u32)pid;
	int err;

	if (!u)
		return 0;
	err = hs_maps_open(&r, pid);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p) {
		hs_maps_close(&r);
		return -ENOMEM;
	}
	elf_version(EV_CURRENT);
	/* /proc lists mappings by address: the array comes out sorted */
	while (hs_maps_next(&r, &e))
		add_mapping(u, p, pid, &e);
	hs_maps_close(&r);
	p->gen = next_gen(u, pid);
	if (bpf_map_update_elem(bpf_map__fd(u->skel->maps.cfi_procs), &key, p,
				BPF_ANY))
		err = -errno;
	free(p);
	return err;
}

void hs_unwind_forget(struct hs_unwind *u, pid_t pid)
{
	__u32 key = (__u32)pid;

	if (u)
		bpf_map_delete_elem(bpf_map__fd(u->skel->maps.cfi_procs), &key);
}
