/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The stack walk: from a function's entry, the return addresses of its call
 * chain, by the frame-pointer chain or by the call-frame rows of the
 * modules (cfi.c compacts them, unwind.c places them), interned in stacks.
 */
#ifndef HEAPSNAP_STACKWALK_BPF_H
#define HEAPSNAP_STACKWALK_BPF_H

#include "cfi.bpf.h"
#include "common.bpf.h"
#include "python.bpf.h"
#include "stackwin.bpf.h"

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

/*
 * Where a walk starts, at a function's entry: its return address is at
 * (sp), unless ret holds it already, and fp is its caller's frame.
 */
struct hs_frame0 {
	__u64 sp, fp, ret;
};

/* A thread's walking state, kept between walks for its caches. */
struct hs_walker {
	struct {
		__u64 pc;
		struct hs_cfi_rule rule;
	} ucache[HS_UCACHE]; /* the unwind rules of recent return addresses */
	__u64 ucache_image, ucache_gen; /* of the mappings the cache is for */
	/*
	 * When set, the next walk starts inside a function interrupted at
	 * this pc (a system call), whose sp and fp its hs_frame0 holds.
	 */
	__u64 start_pc;
	__u32 total_nframe; /* frames the last walk counted */
	struct hs_stack_window win;
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
		__u64 stop_pc; /* where its walk was cut short, with flags */
		__u64 ip[HS_MAX_FRAMES];
	} base;
	/* this walk's outermost loop frame so far: the base's key, and where */
	__u64 cand_cfa, cand_ret;
	__u32 cand_n, tgid;
	__u64 eval_lo, eval_hi; /* this walk's CPython interpreter loop, or 0 */
	bool python; /* this walk's process is a CPython in py_procs */
	/* stacks this thread interned lately: no map lookup to find them */
	struct {
		__u64 key;
		__u32 check, nframe;
	} interned[HS_INTERNED];
};

/* Why a walk's stack is not in stacks as its own. */
enum {
	HS_WALK_OK,
	HS_WALK_FAILED, /* not interned: no stack for the block */
	HS_WALK_COLLIDED, /* its key holds another stack */
};

struct walk {
	struct hs_walker *wk;
	__u64 pc, sp, fp, h, check;
	__u32 n, total, limit;
	__u32 flags; /* HS_STACK_* */
	bool fp_valid;
	bool ended; /* the walk reached its last frame, or was cut short */
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

	w->ended = true; /* unless it goes on */
	if (!w->fp || (w->fp & 7) || w->fp < w->sp)
		return 1;
	if (!read_frame(&w->wk->win, w->fp, &next_fp, &ret) || !ret)
		return 1;
	add_frame(w, ret);
	w->pc = ret;
	if (next_fp <= w->fp)
		return 1;
	w->fp = next_fp;
	w->ended = false;
	return 0;
}

/* bpf_loop() keeps the verifier's work linear. */
static long walk_frame(__u64 i, void *data)
{
	return walk_step(i, data);
}

/* The walk stops here: a frame it cannot unwind. */
static __always_inline long cut_short(struct walk *w, int why)
{
	w->flags |= HS_STACK_UNKNOWN_CODE | (why << HS_STACK_STOP_SHIFT);
	w->ended = true;
	return 1;
}

/* Empties the thread's rule cache when the mappings it was for changed. */
struct ucache_ctx {
	struct hs_walker *wk;
};

static long ucache_clear(__u64 i, void *data)
{
	struct ucache_ctx *c = data;

	if (i >= HS_UCACHE)
		return 1;
	c->wk->ucache[i].pc = 0;
	return 0;
}

/* A function of its own: the walk's frame has no room for it. */
static __noinline void ucache_check(struct hs_walker *wk, __u32 tgid,
				    __u64 image)
{
	const struct hs_unwind_proc *up =
		bpf_map_lookup_elem(&cfi_procs, &tgid);
	__u64 gen = up && up->image == image ? up->gen : 0;
	struct ucache_ctx c = { wk };

	if (!wk || (wk->ucache_image == image && wk->ucache_gen == gen))
		return;
	bpf_loop(HS_UCACHE, ucache_clear, &c, 0);
	wk->ucache_image = image;
	wk->ucache_gen = gen;
}

/*
 * The rule for return address pc, through the thread's cache: in its slot
 * there, which *rule points to. Returns an enum hs_unwind_stop,
 * HS_STOP_NONE when the slot holds the rule.
 */
static __always_inline int rule_for(struct walk *w, __u64 pc,
				    struct hs_cfi_rule **rule)
{
	__u32 slot = ((pc >> 1) ^ (pc >> 9)) & (HS_UCACHE - 1);
	struct hs_walker *wk = w->wk;
	int why;

	*rule = &wk->ucache[slot].rule;
	if (wk->ucache[slot].pc == pc)
		return HS_STOP_NONE;
	wk->ucache[slot].pc = 0;
	why = hs_cfi_rule(wk->tgid, wk->ucache_image, pc, *rule);
	if (why == HS_STOP_NONE)
		wk->ucache[slot].pc = pc;
	return why;
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
	struct hs_cfi_rule *row;
	__u64 cfa, ret, fp = w->fp;
	int why;

	why = rule_for(w, w->pc, &row);
	if (why != HS_STOP_NONE)
		return cut_short(w, why);
	if (unwind_mode == HS_UNWIND_AUTO && row->fp && w->fp_valid &&
	    row->cfa_reg == HS_CFA_RBP) {
		cfa = w->fp + 16; /* where the chain and the rules agree */
	} else {
		switch (row->cfa_reg) {
		case HS_CFA_RSP:
			cfa = w->sp + row->cfa_off;
			break;
		case HS_CFA_RBP:
			if (!w->fp_valid)
				return cut_short(w, HS_STOP_LOST_RBP);
			cfa = w->fp + row->cfa_off;
			break;
		case HS_CFA_PLT:
			cfa = w->sp + 8 +
			      ((w->pc & 15) >= (__u64)row->cfa_off ? 8 : 0);
			break;
		case HS_CFA_END:
			w->ended = true;
			return 1;
		default:
			return cut_short(w, HS_STOP_NO_RULE);
		}
	}
	if (cfa <= w->sp || !read_word(&w->wk->win, cfa - 8, &ret))
		return cut_short(w, HS_STOP_BAD_STACK);
	if (w->pc - w->wk->eval_lo < w->wk->eval_hi - w->wk->eval_lo &&
	    hs_loop_frame(w->wk, cfa, ret, w->n,
			  (__u64)w->wk->tgid << 32 | w->wk->ucache_gen)) {
		w->base_hit = true;
		w->ended = true;
		return 1;
	}
	if (row->rbp_off == HS_RBP_UNDEF)
		w->fp_valid = false;
	else if (row->rbp_off != HS_RBP_SAME &&
		 !read_word(&w->wk->win, cfa + 8 * (__s64)row->rbp_off, &fp))
		w->fp_valid = false;
	w->fp = fp;
	w->sp = cfa;
	w->pc = ret;
	if (!ret) {
		w->ended = true;
		return 1;
	}
	add_frame(w, ret);
	return 0;
}

/* Where the interpreter loop of a CPython process is, for python_base(). */
static __always_inline void python_loop(struct hs_walker *wk, __u32 tgid)
{
	const struct hs_py_proc *pp = bpf_map_lookup_elem(&py_procs, &tgid);

	wk->python = pp != NULL;
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
		if (wk->base.flags)
			w->pc = wk->base.stop_pc;
		return;
	}
	/* a walk cut at the traceback limit has not stored its base whole */
	if (!wk->cand_cfa || w->n <= wk->cand_n || w->n < w->total)
		return;
	wk->base.cfa = wk->cand_cfa;
	wk->base.ret = wk->cand_ret;
	wk->base.tgid = wk->tgid;
	wk->base.gen = (__u32)wk->ucache_gen;
	wk->base.n = w->n - wk->cand_n;
	wk->base.total = w->total - wk->cand_n;
	wk->base.flags = w->flags;
	wk->base.stop_pc = w->pc;
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
	int n = hs_py_walk(&wk->py, &wk->win, tgid);

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
				      __u64 image, int *lost)
{
	struct hs_stack_val *st = &wk->scratch, *old;
	__u32 slot;
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

	w.pc = wk->start_pc;
	*lost = HS_WALK_OK;
	wk->python = false;
	wk->eval_lo = wk->eval_hi = 0;
	if (python_frames)
		python_loop(wk, tgid);
	wk->total_nframe = 0;
	wk->win.words = 0;
	if (!load_window(&wk->win, f->sp)) {
		wk->start_pc = 0;
		*lost = HS_WALK_FAILED;
		return 0;
	}
	if (unwind_mode != HS_UNWIND_FP) {
		if (w.pc) {
			/*
			 * Interrupted in a system call's wrapper: its rule is
			 * the row at pc itself, and its caller is frame 0.
			 */
			w.pc++;
		} else {
			/* the caller's frame: its return address is popped */
			w.pc = f->ret ? f->ret : wk->win.w[0];
			add_frame(&w, w.pc);
			w.sp = f->sp + 8;
		}
		wk->tgid = tgid;
		wk->cand_cfa = 0;
		ucache_check(wk, tgid, image);
		bpf_loop(HS_MAX_FRAMES - 1, dwarf_frame, &w, 0);
		/* its caller not found: the interrupted frame is frame 0 */
		if (!w.n && wk->start_pc)
			add_frame(&w, wk->start_pc);
		goto walked;
	}
	ret = f->ret ? f->ret : wk->win.w[0];
	add_frame(&w, ret);
	walk_fp(&w);
walked:
	wk->start_pc = 0;
	if (!w.ended)
		cut_short(&w, HS_STOP_TOO_DEEP);
	if (python_frames && wk->python) {
		if (unwind_mode != HS_UNWIND_FP)
			python_base(&w);
		add_python_frames(&w, wk, tgid);
	}
	wk->total_nframe = w.total;
	h = w.h ^ w.n ^ ((__u64)w.flags << 44);
	if (w.flags)
		h ^= w.pc * 0xc2b2ae3d27d4eb4fULL; /* where it stopped */
	if (!h)
		h = 1;
	st->tgid = tgid;
	st->nframe = w.n;
	st->flags = w.flags;
	st->stop_ip = w.flags ? w.pc : 0;
	st->check = (__u32)(w.check ^ (w.check >> 32));

	/* the key seeds with tgid: a thread's process is its own for life */
	slot = h & (HS_INTERNED - 1);
	if (wk->interned[slot].key == h &&
	    wk->interned[slot].check == st->check &&
	    wk->interned[slot].nframe == w.n)
		return h;
	old = bpf_map_lookup_elem(&stacks, &h);
	if (old) {
		if (old->check != st->check || old->nframe != w.n ||
		    old->tgid != tgid) {
			*lost = HS_WALK_COLLIDED;
			return h;
		}
	} else {
		err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
		if (err == -HS_EEXIST) /* another thread was first */
			return h;
		if (err) {
			*lost = HS_WALK_FAILED;
			return 0;
		}
	}
	wk->interned[slot].key = h;
	wk->interned[slot].check = st->check;
	wk->interned[slot].nframe = w.n;
	return h;
}

#endif
