/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The allocator calls of a thread, one state machine per thread: the
 * outermost call's entry notes what is asked (and, when it is sampled, its
 * stack), its return records the block it made; calls made inside it
 * (realloc calling malloc) are its own. A free erases its block at entry.
 */
#ifndef HEAPSNAP_ALLOC_BPF_H
#define HEAPSNAP_ALLOC_BPF_H

#include "common.bpf.h"
#include "livetable.bpf.h"
#include "procs.bpf.h"
#include "sampler.bpf.h"
#include "stackwalk.bpf.h"

/* --max-live: the blocks a process may hold, when every one is traced. */
const volatile __u64 max_live = 1 << 20;

/* Per-thread state between an allocator's entry and its return. */
struct hs_task {
	__u32 depth; /* nesting of allocator calls on this thread */
	__u32 fn;
	__u64 entry_sp; /* stack pointer at the outermost entry */
	__u64 size;
	__u64 arg; /* realloc: old block; posix_memalign: where the result goes */
	__u64 stack;
	__u8 old_state; /* realloc: OLD_NONE, OLD_LIVE or OLD_UNKNOWN */
	__u8 sampled; /* the new block is to be recorded */
	__u8 domain; /* of the new block */
	/*
	 * A block a CPython free erased, which it hands on to free() (a large
	 * one): that inner free is its own, not a free of an unknown block.
	 */
	__u64 freed_ptr, freed_sp;
	struct hs_sampler sampler;
	struct hs_proc_ref proc;
	struct hs_map_event sys; /* an mmap-domain syscall in progress */
	__u64 sys_sp; /* its entry's %rsp, when probed in libc */
	__u64 wrap_sp; /* entry of a wrapper whose allocator call is pending */
	__u64 wrap_fp;
	__u64 wrap_ret; /* the wrapper's return address, read at its entry */
	struct hs_live_val old;
	struct hs_walker walk;
};

enum { OLD_NONE, OLD_LIVE, OLD_UNKNOWN };

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hs_task);
} tasks SEC(".maps");

static struct hs_task *task_state(bool create)
{
	return bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE :
					     0);
}

/*
 * The thread's state at an entry. A return probe that never fired leaves
 * depth set above our frame.
 */
static __always_inline struct hs_task *entry_task(__u64 sp)
{
	struct hs_task *t = task_state(true);

	if (!t) {
		__sync_fetch_and_add(&global.c.nested_overflow, 1);
		return NULL;
	}
	if (t->depth && sp > t->entry_sp)
		t->depth = 0;
	return t;
}

/*
 * A call inside an allocator call belongs to the outer one: a session skips
 * its return (1), a classic return probe counts in the depth (0).
 */
static __always_inline int nest(struct hs_task *t, bool session)
{
	if (session)
		return 1;
	t->depth++;
	return 0;
}

/* The thread's outermost allocator call begins. */
static __always_inline void begin_call(struct hs_task *t, __u32 fn, __u64 sp,
				       bool sampled)
{
	t->depth = 1;
	t->fn = fn;
	t->entry_sp = sp;
	t->sampled = sampled;
	t->domain = HS_DOMAIN_HEAP;
	t->freed_ptr = 0;
}

static __u64 request_size(__u32 fn, __u64 a0, __u64 a1, __u64 a2)
{
	switch (fn) {
	case HS_FN_CALLOC:
		return a0 * a1;
	case HS_FN_REALLOC:
	case HS_FN_MEMALIGN:
		return a1;
	case HS_FN_REALLOCARRAY:
		return a1 * a2;
	case HS_FN_POSIX_MEMALIGN:
		return a2;
	default:
		return a0;
	}
}

static __always_inline bool is_realloc(__u32 fn)
{
	return fn == HS_FN_REALLOC || fn == HS_FN_REALLOCARRAY;
}

/*
 * Functions that may call another public allocator function (glibc's
 * realloc(NULL, n) calls malloc, memalign may too): they always take their
 * return, so the nesting depth covers the inner call.
 */
static bool may_nest(__u32 fn)
{
	return fn != HS_FN_MALLOC && fn != HS_FN_CALLOC;
}

static bool inside_wrapper(struct hs_task *t, __u64 sp)
{
	return t->wrap_sp && sp < t->wrap_sp &&
	       t->wrap_sp - sp < HS_WRAPPER_FRAME_MAX;
}

/*
 * A wrapper's entry (operator new...): its caller's frames stay intact until
 * its allocator call; its return address is read now, before any return
 * probe (ours or another tracer's) replaces it with the trampoline's.
 */
static __always_inline void enter_wrapper(struct hs_task *t, __u64 sp, __u64 fp)
{
	if (!t->depth && !inside_wrapper(t, sp) &&
	    !bpf_probe_read_user(&t->wrap_ret, sizeof(t->wrap_ret),
				 (void *)sp)) {
		t->wrap_sp = sp;
		t->wrap_fp = fp;
	}
}

/*
 * Where the stack of a call starts: at the wrapper's caller when a
 * wrapper's allocator call is pending below f->sp. The wrapper's mark ends
 * here.
 */
static __always_inline void start_frame(struct hs_task *t, struct hs_frame0 *f)
{
	if (inside_wrapper(t, f->sp)) {
		f->sp = t->wrap_sp;
		f->fp = t->wrap_fp;
		f->ret = t->wrap_ret;
	}
	t->wrap_sp = 0;
}

/* The stack from f, counted in p's losses when it is none or not its own. */
static __always_inline __u64 stack_of(struct hs_task *t,
				      const struct hs_frame0 *f, __u32 tgid,
				      struct hs_proc_val *p)
{
	__u64 key;
	int lost;

	key = capture_stack(&t->walk, f, tgid, p->exec_ns, &lost);
	if (lost == HS_WALK_FAILED)
		__sync_fetch_and_add(&p->c.stack_failures, 1);
	else if (lost == HS_WALK_COLLIDED)
		__sync_fetch_and_add(&p->c.stack_collisions, 1);
	return key;
}

/* Erases the block at ptr; returns its size, or -1 when it is unknown. */
static __noinline long record_free(struct hs_task *t, __u32 tgid, __u64 ptr)
{
	struct hs_live_val old;
	struct hs_proc_val *p;

	if (!ptr)
		return -1;
	p = get_proc(&t->proc, tgid);
	if (!p)
		return -1;
	if (block_take(tgid, t->proc.slot, ptr, &old)) {
		cut_keep(tgid, ptr, &old);
		count_free(p, old.size);
		return (long)old.size;
	}
	if (!sample_bytes) /* with sampling, most were never recorded */
		__sync_fetch_and_add(&p->c.unknown_frees, 1);
	return -1;
}

/*
 * A free of the python domain: a raw block, or an object one that pymalloc
 * did not serve, goes on to free() from inside it.
 */
static __always_inline void record_py_free(struct hs_task *t, __u32 tgid,
					   __u64 ptr, __u64 sp, bool raw)
{
	long size = record_free(t, tgid, ptr);

	if (raw || size == 0 || size > HS_PY_SMALL_MAX) {
		t->freed_ptr = ptr;
		t->freed_sp = sp;
	}
}

/*
 * Is this free the inner one of a CPython free that erased its block? Its
 * stack is deeper, or the same where the CPython free tail-calls free().
 */
static __always_inline bool handed_on(struct hs_task *t, __u64 ptr, __u64 sp)
{
	return ptr == t->freed_ptr && sp <= t->freed_sp;
}

/* Takes a realloc's old block out of the live set until the realloc ends. */
static __noinline void hold_old(struct hs_task *t, __u32 tgid)
{
	t->old_state = OLD_NONE;
	if (!t->arg)
		return;
	t->old_state = OLD_UNKNOWN;
	if (sample_bytes && !maybe_sampled(tgid, t->arg))
		return;
	if (block_take(tgid, t->proc.slot, t->arg, &t->old))
		t->old_state = OLD_LIVE;
}

/* Ends a realloc's old block: freed (it succeeded) or put back (it failed). */
static void release_old(struct hs_task *t, __u32 tgid, struct hs_proc_val *p,
			bool freed)
{
	if (t->old_state == OLD_UNKNOWN && freed && !sample_bytes)
		__sync_fetch_and_add(&p->c.unknown_frees, 1);
	if (t->old_state != OLD_LIVE)
		return;
	/* out of the table since its realloc began, live all the same */
	cut_keep(tgid, t->arg, &t->old);
	if (freed)
		count_free(p, t->old.size);
	else if (block_put(tgid, t->proc.slot, t->arg, &t->old, p)) {
		count_free(p, t->old.size); /* no room to put it back */
		__sync_fetch_and_add(&p->c.map_full, 1);
	}
}

static void record_alloc(struct hs_task *t, __u32 tgid, __u32 tid,
			 struct hs_proc_val *p, __u64 ptr)
{
	struct hs_live_val val = {
		.size = t->size,
		.stack = t->stack,
		.time_ns = bpf_ktime_get_ns(),
		.tid = tid,
		.total_nframe = t->walk.total_nframe,
		.domain = t->domain,
	};

	count_alloc(p, t->size);
	if (sample_bytes)
		mark_sampled(tgid, ptr);
	/* signed: an exec resets count while its old blocks may still go */
	if ((!sample_bytes &&
	     *(volatile __s64 *)&p->c.count >= (__s64)max_live) ||
	    block_put(tgid, t->proc.slot, ptr, &val, p)) {
		__sync_fetch_and_add(&p->c.map_full, 1);
		return;
	}
	count_live(p, t->size);
}

#endif
