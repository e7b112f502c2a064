// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The unwind tables: each module's rows built and loaded once, in a BPF
 * array of their own sized to them; process mappings per pid; the dynamic
 * loader's hook, which updates a process when its modules change.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cfi_pack.h"
#include "collect.h"
#include "grow.h"
#include "heapsnap.h"
#include "heapsnap.skel.h"
#include "procmaps.h"
#include "snapshot.h"
#include "unwind.h"
#include "unwind_loader.h"

/* The x86-64 ABI's dynamic loader, for a command that is a script. */
#define SYSTEM_LOADER "/lib64/ld-linux-x86-64.so.2"

struct module {
	struct hs_cfi_file_key key;
	char *path; /* as a process first mapped it */
	uint8_t table; /* enum hs_unwind_table */
	char *note; /* why it has no table */
	uint32_t id, nblocks;
	uint64_t rows, bytes;
	uint32_t flags; /* HS_MAP_FRAME_POINTERS */
	bool loader; /* the dynamic loader: its hook is probed */
	struct hs_loader_hook hook;
	struct bpf_link *hook_all; /* probed for every process */
};

struct proc {
	pid_t pid;
	uint32_t gen;
	struct bpf_link *hook; /* the loader's hook, probed in this process */
	struct hs_unwind_proc *last; /* what the BPF side has */
};

struct hs_unwind {
	struct heapsnap_bpf *skel;
	struct hs_unwind_opts o;
	struct module *mods;
	size_t nmods, mods_cap;
	struct proc *procs;
	size_t nprocs, procs_cap;
	struct hs_cfi_rules rules;
	size_t rules_loaded; /* rules the BPF side has */
	uint32_t next_id;
	uint64_t rows, bytes;
	struct ring_buffer *events;
	pid_t released_pid; /* hs_unwind_consume(): whose release it counts */
	int released;
};

static int on_loader_event(void *ctx, void *data, size_t size);

struct hs_unwind *hs_unwind_new(struct heapsnap_bpf *skel,
				const struct hs_unwind_opts *o)
{
	struct hs_unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->skel = skel;
	u->o = *o;
	u->events = ring_buffer__new(bpf_map__fd(skel->maps.loader_events),
				     on_loader_event, u, NULL);
	if (!u->events || hs_cfi_rules_init(&u->rules, HS_CFI_RULES)) {
		hs_unwind_free(u);
		return NULL;
	}
	return u;
}

void hs_unwind_free(struct hs_unwind *u)
{
	if (!u)
		return;
	/* a process stopped at the hook must not stay stopped */
	if (u->events)
		ring_buffer__consume(u->events);
	for (size_t i = 0; i < u->nprocs; i++) {
		bpf_link__destroy(u->procs[i].hook);
		free(u->procs[i].last);
	}
	for (size_t i = 0; i < u->nmods; i++) {
		bpf_link__destroy(u->mods[i].hook_all);
		free(u->mods[i].path);
		free(u->mods[i].note);
	}
	ring_buffer__free(u->events);
	hs_cfi_rules_free(&u->rules);
	free(u->procs);
	free(u->mods);
	free(u);
}

static struct proc *proc_of(struct hs_unwind *u, pid_t pid, bool add)
{
	struct proc *p;

	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	if (!add)
		return NULL;
	p = hs_grow_append(&u->procs, &u->nprocs, &u->procs_cap, sizeof(*p));
	if (p)
		*p = (struct proc){ .pid = pid };
	return p;
}

/* Kernel memory of a map, as its fdinfo says. */
static uint64_t memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static void set_note(struct module *m, uint8_t table, const char *why)
{
	m->table = table;
	free(m->note);
	m->note = strdup(why);
}

/* The rules packing added since the last upload. */
static int upload_rules(struct hs_unwind *u)
{
	int fd = bpf_map__fd(u->skel->maps.cfi_rules);

	for (; u->rules_loaded < u->rules.n; u->rules_loaded++) {
		__u32 key = (__u32)u->rules_loaded;

		if (bpf_map_update_elem(fd, &key,
					&u->rules.rules[u->rules_loaded],
					BPF_ANY))
			return -errno;
	}
	return 0;
}

/* A BPF array of the blocks, in the modules' array at m->id. */
static int upload_blocks(struct hs_unwind *u, struct module *m,
			 const struct hs_cfi_packed *pk)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts, .map_flags = BPF_F_INNER_MAP);
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	__u32 count = (__u32)pk->n, *keys;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cfi_blocks", sizeof(__u32),
			    sizeof(struct hs_cfi_block), count, &copts);
	if (fd < 0)
		return -errno;
	keys = malloc(pk->n * sizeof(*keys));
	if (!keys)
		err = -ENOMEM;
	for (size_t i = 0; keys && i < pk->n; i++)
		keys[i] = (__u32)i;
	if (!err &&
	    (bpf_map_update_batch(fd, keys, pk->blocks, &count, &bopts) ||
	     bpf_map_update_elem(bpf_map__fd(u->skel->maps.cfi_modules),
				 &m->id, &fd, BPF_ANY)))
		err = -errno;
	if (!err)
		m->bytes = memlock(fd);
	free(keys);
	close(fd);
	return err;
}

/* ELF address - file offset of the module's code; false when not one. */
static bool code_delta(Elf *elf, int64_t *delta)
{
	size_t n = 0;
	bool any = false;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		int64_t d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X))
			continue;
		d = (int64_t)(ph.p_vaddr - ph.p_offset);
		if (any && d != *delta)
			return false;
		*delta = d;
		any = true;
	}
	return any;
}

/* Loads the built table t of module m, when there is room. */
static void load_table(struct hs_unwind *u, struct module *m,
		       const struct hs_cfi_table *t, Elf *elf)
{
	struct hs_cfi_file f = { 0 };
	struct hs_cfi_packed pk;
	int64_t delta;
	char why[128];
	int err;

	if (u->next_id >= HS_CFI_MODULES ||
	    t->n > u->o.max_rows - u->rows) {
		snprintf(why, sizeof(why),
			 u->next_id >= HS_CFI_MODULES ?
				 "no room: %d modules have tables" :
				 "no room: its rows pass --max-unwind-rows %u",
			 u->next_id >= HS_CFI_MODULES ? HS_CFI_MODULES :
							(int)u->o.max_rows);
		set_note(m, HS_UT_NO_ROOM, why);
		fprintf(stderr, "heapsnap: warning: %s: %s\n", m->path, why);
		return;
	}
	err = hs_cfi_pack(t, &u->rules, &pk);
	if (!err) {
		m->id = u->next_id;
		err = upload_rules(u);
		if (!err)
			err = upload_blocks(u, m, &pk);
	}
	if (err) {
		snprintf(why, sizeof(why), "no room: %s", strerror(-err));
		set_note(m, HS_UT_NO_ROOM, why);
		fprintf(stderr, "heapsnap: warning: %s: %s\n", m->path, why);
		hs_cfi_packed_free(&pk);
		return;
	}
	u->next_id++;
	m->nblocks = (uint32_t)pk.n;
	m->rows = t->n;
	m->flags = t->frame_pointers ? HS_MAP_FRAME_POINTERS : 0;
	m->table = HS_UT_OK;
	u->rows += t->n;
	u->bytes += m->bytes;
	hs_cfi_packed_free(&pk);
	f.module = m->id;
	f.nblocks = m->nblocks;
	f.flags = m->flags;
	f.delta = code_delta(elf, &delta) ? delta : 0;
	if (code_delta(elf, &delta))
		bpf_map_update_elem(bpf_map__fd(u->skel->maps.cfi_files),
				    &m->key, &f, BPF_ANY);
}

static void build_module(struct hs_unwind *u, struct module *m, int fd)
{
	struct hs_cfi_table t;
	char err[256];
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	m->loader = elf && !hs_loader_find(elf, &m->hook);
	if (hs_cfi_build(fd, &t, err, sizeof(err))) {
		set_note(m, HS_UT_NONE, err);
		if (u->o.verbose)
			fprintf(stderr, "heapsnap: no unwind table for %s: %s\n",
				m->path, err);
	} else {
		load_table(u, m, &t, elf);
		hs_cfi_free(&t);
	}
	elf_end(elf);
}

/* The module of a mapping, its table built and loaded once. */
static struct module *module_for(struct hs_unwind *u, int fd,
				 const struct hs_maps_entry *e)
{
	struct module *m;

	for (size_t i = 0; i < u->nmods; i++)
		if (u->mods[i].key.dev == e->dev &&
		    u->mods[i].key.ino == e->ino)
			return &u->mods[i];
	m = hs_grow_append(&u->mods, &u->nmods, &u->mods_cap, sizeof(*m));
	if (!m)
		return NULL;
	*m = (struct module){ .key = { e->dev, e->ino } };
	m->path = strdup(e->path);
	if (!m->path) {
		u->nmods--;
		return NULL;
	}
	build_module(u, m, fd);
	return m;
}

/* Probes the loader's hook in pid, or for every process, once. */
static void hook_loader(struct hs_unwind *u, struct module *m, pid_t pid,
			const char *link)
{
	struct proc *p = proc_of(u, pid, true);

	if (u->o.all) {
		if (!m->hook_all)
			m->hook_all = hs_loader_attach(u->skel->progs.hs_loader,
						       link, -1, &m->hook,
						       false);
	} else if (p && !p->hook) {
		p->hook = hs_loader_attach(u->skel->progs.hs_loader, link, pid,
					   &m->hook, u->o.stop);
	}
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

/* One executable mapping of the maps file: its module and where. */
static void add_mapping(struct hs_unwind *u, struct hs_unwind_proc *p,
			pid_t pid, const struct hs_maps_entry *e)
{
	char link[HS_MAPS_LINK_LEN];
	struct hs_unwind_map *m;
	struct module *mod;
	uint64_t bias;
	int fd;

	if (!e->exec || !e->path)
		return;
	hs_maps_link(link, sizeof(link), pid, e->start, e->end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	mod = module_for(u, fd, e);
	if (mod && mod->loader)
		hook_loader(u, mod, pid, link);
	/* past HS_UNWIND_MAPS, the BPF side finds the module by its file */
	if (mod && mod->table == HS_UT_OK && p->n < HS_UNWIND_MAPS &&
	    !load_bias(fd, e->start, e->pgoff, &bias)) {
		m = &p->m[p->n++];
		m->start = e->start;
		m->end = e->end;
		m->bias = bias;
		m->module = mod->id;
		m->nblocks = mod->nblocks;
		m->flags = mod->flags;
	}
	close(fd);
}

/* Writes p for pid, unless the BPF side has the very same. */
static int store(struct hs_unwind *u, struct proc *pr, struct hs_unwind_proc *p)
{
	__u32 key = (__u32)pr->pid;

	if (pr->last && pr->last->image == p->image && pr->last->n == p->n &&
	    !memcmp(pr->last->m, p->m, p->n * sizeof(p->m[0]))) {
		free(p);
		return 0;
	}
	p->gen = ++pr->gen;
	free(pr->last);
	pr->last = p;
	if (bpf_map_update_elem(bpf_map__fd(u->skel->maps.cfi_procs), &key, p,
				BPF_ANY))
		return -errno;
	return 0;
}

int hs_unwind_update(struct hs_unwind *u, pid_t pid)
{
	struct hs_unwind_proc *p;
	struct hs_maps_reader r;
	struct hs_maps_entry e;
	struct hs_proc_val v;
	struct proc *pr;
	int err;

	if (!u)
		return 0;
	pr = proc_of(u, pid, true);
	p = calloc(1, sizeof(*p));
	if (!pr || !p) {
		free(p);
		return -ENOMEM;
	}
	/* before the maps: a list read across an exec is then not used */
	p->image = hs_collect_counters(u->skel, pid, &v) ? v.exec_ns : 0;
	err = hs_maps_open(&r, pid);
	if (err) {
		free(p);
		return err;
	}
	elf_version(EV_CURRENT);
	/* /proc lists mappings by address: the array comes out sorted */
	while (hs_maps_next(&r, &e))
		add_mapping(u, p, pid, &e);
	hs_maps_close(&r);
	return store(u, pr, p);
}

void hs_unwind_forget(struct hs_unwind *u, pid_t pid)
{
	__u32 key = (__u32)pid;
	struct proc *p;

	if (!u)
		return;
	bpf_map_delete_elem(bpf_map__fd(u->skel->maps.cfi_procs), &key);
	p = proc_of(u, pid, false);
	if (!p)
		return;
	bpf_link__destroy(p->hook);
	free(p->last);
	*p = u->procs[--u->nprocs];
}

/*
 * The loader's table, by its file, before the process maps it: the code it
 * runs before its hook (its own mappings) unwinds too.
 */
static void loader_table(struct hs_unwind *u, int fd, const char *path)
{
	struct hs_maps_entry e = { .exec = true };
	char *real = realpath(path, NULL);
	struct stat st;

	/* the path the process's maps will show */
	e.path = real ? real : (char *)path;
	if (!fstat(fd, &st)) {
		e.dev = (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev);
		e.ino = st.st_ino;
		module_for(u, fd, &e);
	}
	free(real);
}

void hs_unwind_hold(struct hs_unwind *u, pid_t pid, const char *exe)
{
	char path[4096];
	struct hs_loader_hook h;
	struct proc *p;
	Elf *elf;
	int fd;

	if (!u || !(p = proc_of(u, pid, true)) || p->hook)
		return;
	if (!exe || hs_loader_of(exe, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", SYSTEM_LOADER);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	loader_table(u, fd, path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && !hs_loader_find(elf, &h))
		p->hook = hs_loader_attach(u->skel->progs.hs_loader, path, pid,
					   &h, u->o.stop);
	elf_end(elf);
	close(fd);
}

static int on_loader_event(void *ctx, void *data, size_t size)
{
	const struct hs_loader_event *e = data;
	struct hs_unwind *u = ctx;

	if (size < sizeof(*e))
		return 0;
	hs_unwind_update(u, (pid_t)e->tgid);
	if (e->stopped) {
		kill((pid_t)e->tgid, SIGCONT);
		if (!u->released_pid || u->released_pid == (pid_t)e->tgid)
			u->released++;
	}
	return 0;
}

int hs_unwind_fd(const struct hs_unwind *u)
{
	return ring_buffer__epoll_fd(u->events);
}

int hs_unwind_consume(struct hs_unwind *u, pid_t pid)
{
	if (!u)
		return 0;
	u->released_pid = pid;
	u->released = 0;
	ring_buffer__consume(u->events);
	return u->released;
}

uint64_t hs_unwind_memory(const struct hs_unwind *u)
{
	const struct heapsnap_bpf *skel;

	if (!u)
		return 0;
	skel = u->skel;
	return u->bytes + memlock(bpf_map__fd(skel->maps.cfi_modules)) +
	       memlock(bpf_map__fd(skel->maps.cfi_rules)) +
	       memlock(bpf_map__fd(skel->maps.cfi_files)) +
	       memlock(bpf_map__fd(skel->maps.cfi_procs)) +
	       memlock(bpf_map__fd(skel->maps.loader_events));
}

void hs_unwind_report(const struct hs_unwind *u, struct hs_snapshot *s)
{
	struct hs_unwind_stats *st = &s->unwind_stats;

	if (!u)
		return;
	for (size_t i = 0; i < u->nmods; i++) {
		const struct module *m = &u->mods[i];
		struct hs_unwind_entry *e = hs_snapshot_unwind_entry(s, m->path);

		if (!e)
			return;
		e->table = m->table;
		e->note = m->note ? hs_snapshot_intern(s, m->note) : HS_NONE;
		e->rows = m->rows;
		e->bytes = m->bytes;
		st->modules += m->table == HS_UT_OK;
	}
	st->rows = u->rows;
	st->max_rows = u->o.max_rows;
	st->rules = u->rules.n;
	st->bytes = hs_unwind_memory(u);
	st->events_lost = u->skel->bss->loader_events_lost;
}
