/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The stack walk: from a function's entry, the return addresses of its call
 * chain, by the frame-pointer chain or by the call-frame rows of the
 * modules (cfi.c compacts them, unwind.c places them), interned in stacks.
 */
#ifndef HEAPSNAP_STACKWALK_BPF_H
#define HEAPSNAP_STACKWALK_BPF_H

#include "common.bpf.h"

const volatile __u32 traceback_limit = 64;
/* enum hs_unwind_mode: how stacks are walked. */
const volatile __u32 unwind_mode = HS_UNWIND_FP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct hs_stack_val)); /* trimmed to the limit */
	__uint(max_entries, 1 << 16);
} stacks SEC(".maps");

/* Call-frame rows of every module, and where each process maps them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct hs_cfi_row);
	__uint(max_entries, 1);
} cfi_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct hs_unwind_proc);
	__uint(max_entries, 4096);
} cfi_procs SEC(".maps");

/*
 * Where a walk starts, at a function's entry: its return address is at
 * (sp), unless ret holds it already, and fp is its caller's frame.
 */
struct hs_frame0 {
	__u64 sp, fp, ret;
};

/* What the Python walk keeps on the thread, between its calls. */
struct hs_py_thread {
	__u64 tgid; /* the process tstate belongs to */
	__u64 tstate; /* the thread's PyThreadState, when found */
	/*
	 * A window of the thread's frame stack: a frame's callers lie just
	 * below it, so one read covers several frames.
	 */
	__u64 win[HS_PY_WINDOW / 8];
	__u64 win_base; /* user address of win[0] */
	__u64 win_end; /* of what win holds */
	__u64 frame; /* offset in win of the frame being read */
	__u64 ident[32 / 8]; /* a code object's co_filename .. co_linetable */
	struct {
		__u64 code, ident;
		__u32 id, pad;
	} codes[HS_PY_CODES]; /* ids of recent code objects */
	__u64 out[HS_MAX_FRAMES]; /* the frames found, most recent first */
};

/* A thread's walking state, kept between walks for its caches. */
struct hs_walker {
	struct {
		__u64 pc;
		__u32 row; /* index into cfi_rows */
		__u16 gen;
		__u16 fp; /* the module keeps frame pointers */
	} ucache[HS_UCACHE]; /* the unwind rows of recent return addresses */
	__u32 total_nframe; /* frames the last walk counted */
	__u64 window_base; /* user address of window[0] */
	__u64 window_words; /* words of window[] that are valid */
	__u64 window[HS_STACK_WINDOW];
	struct hs_stack_val scratch;
	struct hs_py_thread py;
	/*
	 * The native frames below a Python thread's outermost interpreter
	 * loop, from the last walk: they stay while that loop runs, found
	 * again by its frame's CFA and return address.
	 */
	struct {
		__u64 cfa, ret;
		__u32 tgid, gen;
		__u32 n, total, flags, pad;
		__u64 ip[HS_MAX_FRAMES];
	} base;
	/* this walk's outermost loop frame so far: the base's key, and where */
	__u64 cand_cfa, cand_ret;
	__u32 cand_n, tgid;
	__u64 eval_lo, eval_hi; /* this walk's CPython interpreter loop, or 0 */
};

/* Why a walk's stack is not in stacks as its own. */
enum {
	HS_WALK_OK,
	HS_WALK_FAILED, /* not interned: no stack for the block */
	HS_WALK_COLLIDED, /* its key holds another stack */
};

/*
 * The stack is read in windows of HS_STACK_WINDOW words: most frames of a
 * call chain lie within a few hundred bytes, and one read of a window costs
 * about what one read of a frame does.
 */
static bool load_window(struct hs_walker *wk, __u64 at)
{
	if (!bpf_probe_read_user(wk->window, sizeof(wk->window), (void *)at)) {
		wk->window_base = at;
		wk->window_words = HS_STACK_WINDOW;
		return true;
	}
	/* near the top of the stack a whole window may not be mapped */
	if (!bpf_probe_read_user(wk->window, 2 * sizeof(__u64), (void *)at)) {
		wk->window_base = at;
		wk->window_words = 2;
		return true;
	}
	return false;
}

/* Reads the two words at addr: a frame's saved fp and its return address. */
static bool read_frame(struct hs_walker *wk, __u64 addr, __u64 *next_fp,
		       __u64 *ret)
{
	__u64 idx = (addr - wk->window_base) / 8;

	if (addr < wk->window_base || idx + 1 >= wk->window_words) {
		if (!load_window(wk, addr))
			return false;
		idx = 0;
	}
	barrier_var(idx);
	if (idx >= HS_STACK_WINDOW - 1)
		return false;
	*next_fp = wk->window[idx];
	*ret = wk->window[idx + 1];
	return true;
}

/* Reads one word of the user stack, through the window. */
static __always_inline bool read_word(struct hs_walker *wk, __u64 addr,
				      __u64 *val)
{
	__u64 ignore;

	if (addr & 7)
		return bpf_probe_read_user(val, sizeof(*val), (void *)addr) == 0;
	return read_frame(wk, addr - 8, &ignore, val);
}

struct walk {
	struct hs_walker *wk;
	struct hs_unwind_proc *up; /* the process's mappings, for DWARF */
	__u64 pc, sp, fp, h, check;
	__u32 n, total, limit;
	__u32 flags; /* HS_STACK_* */
	bool fp_valid;
	bool base_hit; /* the rest of the walk is wk->base */
};

/* Appends a return address to the stack being captured. */
static __always_inline void add_frame(struct walk *w, __u64 ret)
{
	__u32 n = w->n;

	if (n < w->limit && n < HS_MAX_FRAMES) {
		w->wk->scratch.ip[n] = ret;
		w->h = (w->h ^ ret) * 0xff51afd7ed558ccdULL;
		w->h ^= w->h >> 32;
		w->check = w->check * 31 + (ret >> 4);
		w->n = n + 1;
	}
	w->total++;
}

/* One frame of the frame-pointer chain. */
static __always_inline long walk_step(__u64 i, void *data)
{
	struct walk *w = data;
	__u64 next_fp, ret;

	if (!w->fp || (w->fp & 7) || w->fp < w->sp)
		return 1;
	if (!read_frame(w->wk, w->fp, &next_fp, &ret) || !ret)
		return 1;
	add_frame(w, ret);
	if (next_fp <= w->fp)
		return 1;
	w->fp = next_fp;
	return 0;
}

/* bpf_loop() keeps the verifier's work linear. */
static long walk_frame(__u64 i, void *data)
{
	return walk_step(i, data);
}

/*
 * Binary searches, one step per bpf_loop() callback: a loop of compares
 * inside the walk would make the verifier follow every path through it.
 */
struct search {
	const struct hs_unwind_proc *up;
	const struct hs_unwind_map *m;
	__u64 x;
	__u32 lo, hi;
};

static long map_step(__u64 i, void *data)
{
	struct search *s = data;
	__u32 mid = (s->lo + s->hi) / 2;

	if (s->lo >= s->hi || mid >= HS_UNWIND_MAPS)
		return 1;
	if (s->up->m[mid].start <= s->x)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* The mapping of up that holds pc, or -1. */
static __always_inline int find_mapping(struct hs_unwind_proc *up, __u64 pc)
{
	struct search s = { .up = up, .x = pc, .hi = up->n };

	if (s.hi > HS_UNWIND_MAPS)
		s.hi = HS_UNWIND_MAPS;
	bpf_loop(8, map_step, &s, 0);
	if (!s.lo || s.lo > HS_UNWIND_MAPS)
		return -1;
	s.lo--;
	if (s.lo >= HS_UNWIND_MAPS || pc >= up->m[s.lo].end)
		return -1;
	return (int)s.lo;
}

static long row_step(__u64 i, void *data)
{
	struct search *s = data;
	__u32 mid = s->lo + (s->hi - s->lo) / 2, idx;
	struct hs_cfi_row *row;

	if (s->lo >= s->hi)
		return 1;
	idx = s->m->first + mid;
	row = bpf_map_lookup_elem(&cfi_rows, &idx);
	if (!row) {
		s->lo = 0;
		return 1;
	}
	if (row->pc <= s->x)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* The last row of the mapping's rows whose pc is at most x, or -1. */
static __always_inline long find_row(const struct hs_unwind_map *m, __u64 x)
{
	struct search s = { .m = m, .x = x, .hi = m->count };

	bpf_loop(32, row_step, &s, 0);
	return s.lo ? (long)(m->first + s.lo - 1) : -1;
}

/* The rule for return address pc, through the thread's cache. */
static __always_inline struct hs_cfi_row *rule_for(struct walk *w, __u64 pc,
						   bool *fp_module)
{
	__u32 slot = ((pc >> 1) ^ (pc >> 9)) & (HS_UCACHE - 1);
	struct hs_walker *wk = w->wk;
	struct hs_unwind_map *m;
	__u32 row;
	long r;
	int k;

	if (wk->ucache[slot].pc == pc &&
	    wk->ucache[slot].gen == (__u16)w->up->gen) {
		row = wk->ucache[slot].row;
		*fp_module = wk->ucache[slot].fp;
		return bpf_map_lookup_elem(&cfi_rows, &row);
	}
	/* pc - 1: the call, not what follows a call at a function's end */
	k = find_mapping(w->up, pc - 1);
	if (k < 0 || k >= HS_UNWIND_MAPS)
		return NULL;
	m = &w->up->m[k];
	r = find_row(m, pc - 1 - m->bias);
	if (r < 0)
		return NULL;
	row = (__u32)r;
	*fp_module = m->flags & HS_MAP_FRAME_POINTERS;
	wk->ucache[slot].pc = pc;
	wk->ucache[slot].row = row;
	wk->ucache[slot].gen = (__u16)w->up->gen;
	wk->ucache[slot].fp = *fp_module;
	return bpf_map_lookup_elem(&cfi_rows, &row);
}

/*
 * An interpreter loop frame of CFA cfa returning to ret, its caller's
 * frame to be stored at n, in process and mappings generation tgid_gen:
 * 1 when the base below it is the one kept,
 * else 0 with it noted as the outermost so far. A function of its own:
 * the verifier checks it once, and the walk's states do not grow by it.
 */
__noinline int hs_loop_frame(struct hs_walker *wk, __u64 cfa, __u64 ret,
			     __u32 n, __u64 tgid_gen)
{
	if (!wk)
		return 0;
	if (wk->base.cfa == cfa && wk->base.ret == ret &&
	    wk->base.tgid == (__u32)(tgid_gen >> 32) &&
	    wk->base.gen == (__u32)tgid_gen)
		return 1;
	wk->cand_cfa = cfa;
	wk->cand_ret = ret;
	wk->cand_n = n;
	return 0;
}

/*
 * One frame of a DWARF walk: from the return address pc and the registers
 * of the frame it returns into, the frame above. Stops, and marks the
 * stack, where no rule is known: never a wrong frame.
 */
static long dwarf_frame(__u64 i, void *data)
{
	struct walk *w = data;
	struct hs_cfi_row *row;
	__u64 cfa, ret, fp = w->fp;
	bool fp_module = false;

	row = rule_for(w, w->pc, &fp_module);
	if (!row) {
		w->flags |= HS_STACK_UNKNOWN_CODE;
		return 1;
	}
	if (unwind_mode == HS_UNWIND_AUTO && fp_module && w->fp_valid &&
	    row->cfa_reg == HS_CFA_RBP) {
		cfa = w->fp + 16; /* where the chain and the rules agree */
	} else {
		switch (row->cfa_reg) {
		case HS_CFA_RSP:
			cfa = w->sp + row->cfa_off;
			break;
		case HS_CFA_RBP:
			if (!w->fp_valid) {
				w->flags |= HS_STACK_UNKNOWN_CODE;
				return 1;
			}
			cfa = w->fp + row->cfa_off;
			break;
		case HS_CFA_PLT:
			cfa = w->sp + 8 +
			      ((w->pc & 15) >= (__u64)row->cfa_off ? 8 : 0);
			break;
		case HS_CFA_END:
			return 1;
		default:
			w->flags |= HS_STACK_UNKNOWN_CODE;
			return 1;
		}
	}
	if (cfa <= w->sp || !read_word(w->wk, cfa - 8, &ret)) {
		w->flags |= HS_STACK_UNKNOWN_CODE;
		return 1;
	}
	if (w->pc - w->wk->eval_lo < w->wk->eval_hi - w->wk->eval_lo &&
	    hs_loop_frame(w->wk, cfa, ret, w->n,
			  (__u64)w->wk->tgid << 32 | w->up->gen)) {
		w->base_hit = true;
		return 1;
	}
	if (row->rbp_off == HS_RBP_UNDEF)
		w->fp_valid = false;
	else if (row->rbp_off != HS_RBP_SAME &&
		 !read_word(w->wk, cfa + 8 * (__s64)row->rbp_off, &fp))
		w->fp_valid = false;
	w->fp = fp;
	w->sp = cfa;
	w->pc = ret;
	if (!ret)
		return 1;
	add_frame(w, ret);
	return 0;
}

#include "python.bpf.h"

/* Where the interpreter loop of a CPython process is, for python_base(). */
static __always_inline void python_loop(struct hs_walker *wk, __u32 tgid)
{
	const struct hs_py_proc *pp = bpf_map_lookup_elem(&py_procs, &tgid);

	wk->eval_lo = pp ? pp->eval_lo : 0;
	wk->eval_hi = pp ? pp->eval_hi : 0;
}

struct py_append {
	struct walk *w;
	struct hs_py_thread *pt;
};

static long base_append_step(__u64 i, void *data)
{
	struct walk *w = data;

	if (i >= HS_MAX_FRAMES)
		return 1;
	add_frame(w, w->wk->base.ip[i]);
	return 0;
}

static long base_save_step(__u64 i, void *data)
{
	struct walk *w = data;
	__u64 from = w->wk->cand_n + i;

	if (i >= HS_MAX_FRAMES || from >= HS_MAX_FRAMES)
		return 1;
	w->wk->base.ip[i] = w->wk->scratch.ip[from];
	return 0;
}

/*
 * A frame-pointer walk, in a function of its own: its frame does not add
 * to the stack of the DWARF walk's calls.
 */
static __noinline void walk_fp(struct walk *w)
{
	/* the first frames inline: most stacks end there, and a call costs */
	for (int i = 0; i < HS_INLINE_FRAMES; i++)
		if (walk_step(i, w))
			return;
	bpf_loop(HS_MAX_FRAMES - 1 - HS_INLINE_FRAMES, walk_frame, w, 0);
}

/*
 * The native frames below a Python thread's outermost interpreter loop:
 * taken from the last walk's when they are the same, else kept for the
 * next walk.
 */
static __noinline void python_base(struct walk *w)
{
	struct hs_walker *wk = w->wk;

	if (w->base_hit) {
		bpf_loop(wk->base.n, base_append_step, w, 0);
		w->total += wk->base.total - wk->base.n;
		w->flags |= wk->base.flags;
		return;
	}
	if (!wk->cand_cfa || w->n <= wk->cand_n || !w->up)
		return;
	wk->base.cfa = wk->cand_cfa;
	wk->base.ret = wk->cand_ret;
	wk->base.tgid = wk->tgid;
	wk->base.gen = w->up->gen;
	wk->base.n = w->n - wk->cand_n;
	wk->base.total = w->total - wk->cand_n;
	wk->base.flags = w->flags;
	bpf_loop(wk->base.n, base_save_step, w, 0);
}

static long py_append_step(__u64 i, void *data)
{
	struct py_append *pa = data;

	if (i >= HS_MAX_FRAMES)
		return 1;
	add_frame(pa->w, pa->pt->out[i]);
	return 0;
}

/*
 * Appends the thread's Python frames after the native ones: up to the
 * traceback limit of them stored, all of them counted.
 */
static __always_inline void add_python_frames(struct walk *w,
					      struct hs_walker *wk, __u32 tgid)
{
	struct py_append pa = { .w = w, .pt = &wk->py };
	int n = hs_py_walk(&wk->py, tgid);

	if (n <= 0)
		return;
	w->limit = w->n + traceback_limit < HS_MAX_FRAMES ?
			   w->n + traceback_limit :
			   HS_MAX_FRAMES;
	bpf_loop((__u32)n, py_append_step, &pa, 0);
}

/*
 * Walks the call chain from f: stores up to traceback_limit frames, counts
 * up to HS_MAX_FRAMES in wk->total_nframe, and interns the stack. Returns
 * its key, 0 when no stack could be read; *lost says why it is not the
 * stack's own (HS_WALK_*).
 */
static __noinline __u64 capture_stack(struct hs_walker *wk,
				      const struct hs_frame0 *f, __u32 tgid,
				      int *lost)
{
	struct hs_stack_val *st = &wk->scratch, *old;
	struct walk w = {
		.wk = wk,
		.sp = f->sp,
		.fp = f->fp,
		.h = 0x9E3779B97F4A7C15ULL ^ tgid,
		.check = tgid,
		.limit = traceback_limit,
		.fp_valid = true,
	};
	__u64 ret, h;
	int err;

	*lost = HS_WALK_OK;
	wk->total_nframe = 0;
	wk->window_words = 0;
	if (!load_window(wk, f->sp)) {
		*lost = HS_WALK_FAILED;
		return 0;
	}
	ret = f->ret ? f->ret : wk->window[0];
	add_frame(&w, ret);
	if (unwind_mode != HS_UNWIND_FP) {
		/* the caller's frame: its return address is popped */
		w.pc = ret;
		w.sp = f->sp + 8;
		wk->tgid = tgid;
		wk->cand_cfa = 0;
		wk->eval_lo = wk->eval_hi = 0;
		if (python_frames)
			python_loop(wk, tgid);
		w.up = bpf_map_lookup_elem(&cfi_procs, &tgid);
		if (w.up)
			bpf_loop(HS_MAX_FRAMES - 1, dwarf_frame, &w, 0);
		else
			w.flags |= HS_STACK_UNKNOWN_CODE;
		goto walked;
	}
	walk_fp(&w);
walked:
	if (python_frames) {
		if (unwind_mode != HS_UNWIND_FP)
			python_base(&w);
		add_python_frames(&w, wk, tgid);
	}
	wk->total_nframe = w.total;
	h = w.h ^ w.n ^ ((__u64)w.flags << 60);
	if (!h)
		h = 1;
	st->tgid = tgid;
	st->nframe = w.n;
	st->flags = w.flags;
	st->check = (__u32)(w.check ^ (w.check >> 32));

	old = bpf_map_lookup_elem(&stacks, &h);
	if (old) {
		if (old->check != st->check || old->nframe != w.n ||
		    old->tgid != tgid)
			*lost = HS_WALK_COLLIDED;
		return h;
	}
	err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
	if (err && err != -HS_EEXIST /* another thread was first */) {
		*lost = HS_WALK_FAILED;
		return 0;
	}
	return h;
}

#endif
