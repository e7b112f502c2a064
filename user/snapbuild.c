// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Raw traces -> symbolized snapshot. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "grow.h"
#include "heapsnap.h"
#include "pyframes.h"
#include "snapbuild.h"

#define INLINE_MAX 16

struct module_handle {
	int fd; /* procmaps keeps it open as long as we live */
	int handle; /* symbolizer handle, or negative errno */
};

/* A raw stack's key, and the snapshot's stack built from it. */
struct built_stack {
	uint64_t key; /* 0: a free slot */
	uint32_t idx;
	uint32_t cut; /* the unwind entry where it was cut short, or HS_NONE */
	uint32_t why; /* enum hs_unwind_stop */
};

struct hs_snapbuild {
	struct hs_procmaps *pm;
	struct hs_symbolizer *sym;
	char *const *skip;
	size_t nskip;
	struct module_handle *handles;
	size_t nhandles, handles_cap;
	const struct hs_pycodes *codes;

	/* The snapshot whose traces are being built, and its stacks by key. */
	struct hs_snapshot *s;
	hs_stack_read_fn read;
	void *read_arg;
	struct built_stack *built; /* open addressing */
	size_t nbuilt, built_cap; /* a power of two, or 0 */
	uint32_t empty; /* the stack of traces that have none */
	uint64_t wall_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	size_t missing;
};

void hs_snapbuild_set_python(struct hs_snapbuild *b,
			     const struct hs_pycodes *codes)
{
	b->codes = codes;
}

struct hs_snapbuild *hs_snapbuild_new(struct hs_procmaps *pm,
				      struct hs_symbolizer *sym,
				      char *const *skip, size_t nskip)
{
	struct hs_snapbuild *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->pm = pm;
	b->sym = sym;
	b->skip = skip;
	b->nskip = nskip;
	return b;
}

void hs_snapbuild_free(struct hs_snapbuild *b)
{
	if (!b)
		return;
	free(b->handles);
	free(b->built);
	free(b);
}

static int module_handle(struct hs_snapbuild *b, const struct hs_module_file *f)
{
	struct module_handle *h;
	size_t i;

	if (f->fd < 0)
		return -ENOENT;
	for (i = 0; i < b->nhandles; i++)
		if (b->handles[i].fd == f->fd)
			return b->handles[i].handle;
	h = hs_grow_append(&b->handles, &b->nhandles, &b->handles_cap,
			   sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = f->fd;
	h->handle = hs_symbolizer_add_module_flags(
		b->sym, f->path, f->fd, f->foreign ? HS_SYM_FOREIGN : 0);
	return h->handle;
}

static bool skipped(const struct hs_snapbuild *b, const char *function)
{
	size_t i;

	for (i = 0; function && i < b->nskip; i++)
		if (!fnmatch(b->skip[i], function, 0))
			return true;
	return false;
}

/* Appends the frames of one return address to out; returns how many. */
static int resolve_ip(struct hs_snapbuild *b, struct hs_snapshot *s,
		      uint32_t pid, uint64_t ip, uint64_t time_ns,
		      uint32_t *out, int max)
{
	struct hs_sym_frame sf[INLINE_MAX];
	const struct hs_module_file *file;
	const uint8_t *build_id = NULL;
	struct hs_frame f;
	uint64_t off, elf_addr;
	int handle, n = 0, bid_len = 0;

	memset(&f, 0, sizeof(f));
	f.module = HS_NONE;
	f.function = HS_NONE;
	f.file = HS_NONE;
	f.offset = ip;
	if (!hs_procmaps_find(b->pm, (pid_t)pid, ip, time_ns, &file, &off)) {
		out[0] = hs_snapshot_add_frame(s, &f);
		return out[0] == HS_NONE ? -ENOMEM : 1;
	}
	handle = module_handle(b, file);
	if (handle >= 0) {
		bid_len = hs_symbolizer_build_id(b->sym, handle, &build_id);
		n = hs_symbolizer_resolve(b->sym, handle, off, &elf_addr, sf,
					  max < INLINE_MAX ? max : INLINE_MAX);
	}
	f.module = hs_snapshot_add_module(s, file->path, build_id,
					  bid_len > 0 ? (uint32_t)bid_len : 0);
	if (n <= 0) {
		f.offset = off;
		out[0] = hs_snapshot_add_frame(s, &f);
		return out[0] == HS_NONE ? -ENOMEM : 1;
	}
	f.offset = elf_addr;
	for (int i = 0; i < n; i++) {
		f.function = hs_snapshot_intern(s, sf[i].function);
		f.file = hs_snapshot_intern(s, sf[i].file);
		f.line = sf[i].line;
		f.inlined = sf[i].inlined;
		out[i] = hs_snapshot_add_frame(s, &f);
		if (out[i] == HS_NONE)
			return -ENOMEM;
	}
	return n;
}

/* Why a walk was cut short (no reason given: it had no rule there). */
static unsigned int stop_of(uint32_t flags)
{
	unsigned int why = HS_STACK_STOP(flags);

	return why && why < HS_STOP_COUNT ? why : HS_STOP_NO_RULE;
}

/*
 * The unwinder stopped at code it could not unwind: the traceback ends
 * here, marked with the reason, rather than going on with frames that
 * could be wrong.
 */
static uint32_t stop_frame(struct hs_snapshot *s, uint32_t flags)
{
	struct hs_frame f;

	memset(&f, 0, sizeof(f));
	f.module = HS_NONE;
	f.file = HS_NONE;
	f.function = hs_snapshot_intern(s, hs_unwind_stop_name(stop_of(flags)));
	return f.function == HS_NONE ? HS_NONE : hs_snapshot_add_frame(s, &f);
}

/*
 * Where a walk was cut short: the module of the code it stopped at, whose
 * unwind entry counts the stack. Returns the entry's index, HS_NONE when
 * the walk was not cut short, or -ENOMEM.
 */
static int64_t count_stop(struct hs_snapbuild *b, struct hs_snapshot *s,
			  const struct hs_raw_stack *rs, uint64_t time_ns)
{
	const struct hs_module_file *file;
	struct hs_unwind_entry *e;
	const char *path = NULL;
	uint64_t off;

	if (!(rs->flags & HS_STACK_UNKNOWN_CODE))
		return HS_NONE;
	if (hs_procmaps_find(b->pm, (pid_t)rs->pid, rs->stop_ip, time_ns, &file,
			     &off))
		path = file->path;
	e = hs_snapshot_unwind_entry(s, path);
	if (!e)
		return -ENOMEM;
	e->stacks[stop_of(rs->flags)]++;
	return e - s->unwind;
}

/* A Python frame: its code object's file and name, its line. */
static int resolve_py(struct hs_snapbuild *b, struct hs_snapshot *s,
		      uint64_t ip, uint32_t *out)
{
	const struct hs_pycode *pc =
		b->codes ? hs_pycodes_find(b->codes, HS_PYFRAME_ID(ip)) : NULL;
	uint32_t instr = HS_PYFRAME_INSTR(ip);
	struct hs_frame f;

	memset(&f, 0, sizeof(f));
	f.module = hs_snapshot_add_module(s, HS_PYTHON_MODULE, NULL, 0);
	f.function = hs_snapshot_intern(s, pc ? pc->name : "<unknown>");
	f.file = pc ? hs_snapshot_intern(s, pc->file) : HS_NONE;
	if (pc)
		f.line = instr == HS_PYFRAME_INSTR_MAX ?
				 (uint32_t)pc->firstlineno :
				 (uint32_t)hs_pycode_line_at(pc, instr);
	out[0] = hs_snapshot_add_frame(s, &f);
	return out[0] == HS_NONE ? -ENOMEM : 1;
}

static bool is_eval(const struct hs_snapshot *s, const uint32_t *frames,
		    uint32_t n)
{
	const char *fn;

	if (!n)
		return false;
	fn = hs_snapshot_str(s, s->frames[frames[n - 1]].function);
	return fn && !strcmp(fn, "_PyEval_EvalFrameDefault");
}

/* The module of the interpreter loop among ips' frames, or HS_NONE. */
static uint32_t interpreter(const struct hs_snapshot *s,
			    const struct hs_raw_stack *rs, const bool *eval,
			    const uint32_t *tmp, const uint32_t *at)
{
	for (uint32_t i = 0; i < rs->nips; i++)
		if (eval[i])
			return s->frames[tmp[at[i]]].module;
	return HS_NONE;
}

/*
 * Above its most recent Python frame, a traceback's frames in the
 * interpreter itself are how CPython serves an allocation (PyUnicode_New,
 * call plumbing): the Python line that asked comes first, as tracemalloc
 * shows it, after the frames of any C extension it called. Returns the
 * frames left.
 */
static uint32_t drop_interpreter_top(const struct hs_snapshot *s,
				     uint32_t *frames, uint32_t n,
				     uint32_t interp)
{
	uint32_t k = 0, first_py = 0;

	while (first_py < n &&
	       !hs_frame_is_python(s, &s->frames[frames[first_py]]))
		first_py++;
	if (interp == HS_NONE || first_py == n)
		return n;
	for (uint32_t i = 0; i < n; i++)
		if (i >= first_py || s->frames[frames[i]].module != interp)
			frames[k++] = frames[i];
	return k;
}

/*
 * The frames of each return address (inline chains), then in their order:
 * Python frames where their interpreter loop runs.
 */
static int resolve_stack(struct hs_snapbuild *b, struct hs_snapshot *s,
			 const struct hs_raw_stack *rs, uint64_t time_ns,
			 uint32_t *frames, size_t cap, uint32_t *nframes)
{
	uint32_t *at = calloc(rs->nips + 1, sizeof(*at) * 3), *len, *order;
	bool *eval = calloc(rs->nips + 1, sizeof(*eval));
	uint32_t *tmp = malloc(cap * sizeof(*tmp)), n = 0;
	size_t norder;
	int r = 0;

	if (!at || !eval || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	len = at + rs->nips + 1;
	order = len + rs->nips + 1;
	for (uint32_t i = 0; i < rs->nips && r >= 0; i++) {
		at[i] = n;
		if (rs->ips[i] & HS_PYFRAME)
			r = resolve_py(b, s, rs->ips[i], tmp + n);
		else
			r = resolve_ip(b, s, rs->pid, rs->ips[i], time_ns,
				       tmp + n, (int)(cap - n));
		if (r > 0) {
			len[i] = (uint32_t)r;
			eval[i] = !(rs->ips[i] & HS_PYFRAME) &&
				  is_eval(s, tmp + n, (uint32_t)r);
			n += (uint32_t)r;
		}
	}
	if (r < 0)
		goto out;
	norder = hs_pyframes_order(rs->ips, rs->nips, eval, order, rs->nips);
	*nframes = 0;
	for (size_t k = 0; k < norder; k++) {
		memcpy(frames + *nframes, tmp + at[order[k]],
		       len[order[k]] * sizeof(*frames));
		*nframes += len[order[k]];
	}
	*nframes = drop_interpreter_top(s, frames, *nframes,
					interpreter(s, rs, eval, tmp, at));
out:
	free(at);
	free(eval);
	free(tmp);
	return r < 0 ? r : 0;
}

static uint32_t build_stack(struct hs_snapbuild *b, struct hs_snapshot *s,
			    const struct hs_raw_stack *rs, uint64_t time_ns)
{
	size_t cap = (size_t)rs->nips * INLINE_MAX + 1;
	uint32_t *frames = malloc(cap * sizeof(*frames));
	uint32_t n = 0, first = 0, idx;

	if (!frames)
		return HS_NONE;
	if (resolve_stack(b, s, rs, time_ns, frames, cap, &n)) {
		free(frames);
		return HS_NONE;
	}
	while (first + 1 < n &&
	       skipped(b,
		       hs_snapshot_str(s, s->frames[frames[first]].function)))
		first++;
	if (rs->flags & HS_STACK_UNKNOWN_CODE) {
		frames[n] = stop_frame(s, rs->flags);
		if (frames[n] != HS_NONE)
			n++;
	}
	idx = hs_snapshot_add_stack(s, frames + first, n - first);
	free(frames);
	return idx;
}

static struct built_stack *built_slot(const struct hs_snapbuild *b,
				      uint64_t key)
{
	size_t mask = b->built_cap - 1;
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 32) & mask;

	while (b->built[i].key && b->built[i].key != key)
		i = (i + 1) & mask;
	return &b->built[i];
}

/* Keeps the table at most half full. */
static int built_room(struct hs_snapbuild *b)
{
	struct built_stack *old = b->built;
	size_t i, old_cap = b->built_cap;

	if (2 * (b->nbuilt + 1) <= b->built_cap)
		return 0;
	b->built_cap = old_cap ? 2 * old_cap : 256;
	b->built = calloc(b->built_cap, sizeof(*b->built));
	if (!b->built) {
		b->built = old;
		b->built_cap = old_cap;
		return -ENOMEM;
	}
	for (i = 0; i < old_cap; i++)
		if (old[i].key)
			*built_slot(b, old[i].key) = old[i];
	free(old);
	return 0;
}

/*
 * The snapshot's stack of raw stack key, built when a trace first uses it
 * (its allocation time picks the mappings that were there). The trace's
 * blocks count where its walk was cut short, if it was.
 */
static int stack_of(struct hs_snapbuild *b, uint64_t key, uint64_t time_ns,
		    uint64_t blocks, uint32_t *idx)
{
	uint64_t ips[HS_MAX_FRAMES];
	struct hs_raw_stack rs;
	struct built_stack *slot;
	int64_t cut = HS_NONE;
	int err;

	*idx = b->empty;
	if (!key)
		return 0;
	if (built_room(b))
		return -ENOMEM;
	slot = built_slot(b, key);
	if (slot->key)
		goto found;
	memset(&rs, 0, sizeof(rs));
	err = b->read(b->read_arg, key, &rs, ips);
	if (err == -ENOENT) {
		b->missing++;
	} else if (err) {
		return err;
	} else {
		*idx = build_stack(b, b->s, &rs, time_ns);
		cut = count_stop(b, b->s, &rs, time_ns);
	}
	if (*idx == HS_NONE || cut < 0)
		return -ENOMEM;
	slot->key = key;
	slot->idx = *idx;
	slot->cut = (uint32_t)cut;
	slot->why = stop_of(rs.flags);
	b->nbuilt++;
found:
	*idx = slot->idx;
	/* the blocks of a trace whose walk was cut short count there */
	if (slot->cut != HS_NONE)
		b->s->unwind[slot->cut].blocks[slot->why] += blocks;
	return 0;
}

int hs_snapbuild_begin(struct hs_snapbuild *b, struct hs_snapshot *s,
		       hs_stack_read_fn read, void *arg)
{
	b->s = s;
	b->read = read;
	b->read_arg = arg;
	b->missing = 0;
	b->wall_offset = hs_mono_to_wall_ns(0);
	b->empty = hs_snapshot_add_stack(s, NULL, 0);
	return b->empty == HS_NONE ? -ENOMEM : 0;
}

int hs_snapbuild_traces(struct hs_snapbuild *b, const struct hs_raw *raw,
			hs_trace_fn fn, void *arg)
{
	uint32_t stack;
	int err = 0;

	for (size_t i = 0; i < raw->ntraces && !err; i++) {
		const struct hs_raw_trace *rt = &raw->traces[i];

		err = stack_of(b, rt->stack, rt->time_ns,
			       rt->blocks ? rt->blocks : 1, &stack);
		if (!err) {
			struct hs_trace t = {
				.addr = rt->addr,
				.size = rt->size,
				.time_ns = rt->time_ns + b->wall_offset,
				.pid = rt->pid,
				.tid = rt->tid,
				.stack = stack,
				.total_nframe = rt->total_nframe,
				.domain = rt->domain,
				.flags = rt->flags,
				.blocks = rt->blocks,
			};

			err = fn(arg, &t);
		}
	}
	return err;
}

size_t hs_snapbuild_end(struct hs_snapbuild *b)
{
	free(b->built);
	b->built = NULL;
	b->nbuilt = 0;
	b->built_cap = 0;
	b->s = NULL;
	return b->missing;
}
