/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Python frames (bpf/python.h): the running thread's CPython frames, most
 * recent first, appended to a stack after its native frames. A code object
 * gets an id the first time a stack meets it, and what its frames need is
 * copied to user space then (ring buffer py_events), so that code that is
 * gone by snapshot time is still named.
 *
 * Every read of the target's memory may fail or find garbage (another
 * version's layout, a corrupted runtime, a thread in its start-up): each
 * loop is bounded, and a walk that fails ends with the frames found.
 */
#ifndef HEAPSNAP_PYTHON_BPF_H
#define HEAPSNAP_PYTHON_BPF_H

#include "common.bpf.h"
#include "python.h"
#include "stackwin.bpf.h"

/* Read the Python frames of the processes in py_procs. */
const volatile bool python_frames = false;

#define HS_PY_THREADS 256 /* a thread's state is searched among so many */
#define HS_PY_FRAME_BYTES 80 /* a frame's fixed part, at most */

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
	__u64 ts[HS_PY_TSTATE_WORDS]; /* the thread state's fields read */
	struct {
		__u64 code, ident;
		__u32 id;
		__u32 gen; /* global.py_code_gen when last checked */
	} codes[HS_PY_CODES]; /* ids of recent code objects */
	__u64 out[HS_MAX_FRAMES]; /* the frames found, most recent first */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct hs_py_proc);
	__uint(max_entries, 1);
} py_procs SEC(".maps");

/* A code object of a process: its address and two of its fields. */
struct hs_py_code_key {
	__u32 tgid;
	__u32 pad;
	__u64 code;
	__u64 ident; /* co_filename ^ co_linetable: a new object at an old address */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct hs_py_code_key);
	__type(value, __u32);
	__uint(max_entries, 1 << 16);
} py_code_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} py_events SEC(".maps");

/*
 * The code objects given ids, by address, where their process's frees are
 * seen: a free of one forgets its id and bumps global.py_code_gen, and the
 * threads check the ids they keep again. A new code object often takes a
 * freed one's place, with its name and line table where the freed one's
 * were: only the free tells them apart.
 */
#define HS_PY_CODE_SLOTS (1 << 14)

struct hs_py_watched {
	__u64 code; /* 0: none */
	__u64 ident;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct hs_py_watched);
	__uint(max_entries, HS_PY_CODE_SLOTS);
} py_code_addrs SEC(".maps");

static __always_inline __u32 py_code_slot(__u64 addr)
{
	return (__u32)((addr * 0x9E3779B97F4A7C15ULL) >> 50);
}

static __always_inline __u64 py_code_gen(void)
{
	return *(volatile __u64 *)&global.py_code_gen;
}

/*
 * A free of the python domain: was it a code object with an id? A function
 * of its own: its key is not on the stack of the walks.
 */
static __noinline void py_code_freed(__u32 tgid, __u64 addr)
{
	__u32 slot = py_code_slot(addr);
	struct hs_py_watched *w = bpf_map_lookup_elem(&py_code_addrs, &slot);
	struct hs_py_code_key k = { .tgid = tgid, .code = addr };

	if (!w || w->code != addr || w->tgid != tgid)
		return;
	k.ident = w->ident;
	if (__sync_val_compare_and_swap(&w->code, addr, 0) != addr)
		return;
	bpf_map_delete_elem(&py_code_ids, &k);
	__sync_fetch_and_add(&global.py_code_gen, 1);
}

/*
 * Watches the code object k names; one it pushes out is no longer watched,
 * so every thread checks its ids again.
 */
static __always_inline void py_code_watch(const struct hs_py_code_key *k)
{
	__u32 slot = py_code_slot(k->code);
	struct hs_py_watched *w = bpf_map_lookup_elem(&py_code_addrs, &slot);
	__u64 was;

	if (!w ||
	    (w->code == k->code && w->tgid == k->tgid && w->ident == k->ident))
		return;
	was = w->code;
	w->ident = k->ident;
	w->tgid = k->tgid;
	if (__sync_val_compare_and_swap(&w->code, was, k->code) == was && was)
		__sync_fetch_and_add(&global.py_code_gen, 1);
}

static __always_inline __u64 py_read_u64(__u64 addr)
{
	__u64 v;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

struct py_search {
	const struct hs_py_offsets *off;
	__u64 ts, want;
};

static long py_thread_step(__u64 i, void *data)
{
	struct py_search *s = data;

	if (!s->ts)
		return 1;
	if (py_read_u64(s->ts + s->off->tstate_thread_id) == s->want)
		return 1;
	s->ts = py_read_u64(s->ts + s->off->tstate_next);
	return 0;
}

/* A field of pt->ts, read from lo: false when it is not there. */
static __always_inline bool py_ts_field(struct hs_py_thread *pt, __u16 lo,
					__u16 at, __u64 *val)
{
	__u32 i = (__u32)(at - lo) / 8;

	if (at < lo || ((at - lo) & 7) || i >= HS_PY_TSTATE_WORDS)
		return false;
	*val = pt->ts[i];
	return true;
}

/*
 * The thread's PyThreadState: its thread_id is pthread_self(), which on
 * x86-64 is the thread's fs base. The one found last is checked first, in
 * the read that gives its frame too. Returns it, its frame field in *frame.
 */
static __u64 py_tstate(struct hs_py_thread *pt, __u32 tgid,
		       const struct hs_py_proc *pp, __u64 *frame)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct hs_py_offsets *off = &pp->off;
	struct py_search s = { .off = off, .want = task->thread.fsbase };
	__u16 lo = off->tstate_thread_id < off->tstate_frame ?
			   off->tstate_thread_id :
			   off->tstate_frame;
	__u64 interp, tid;

	if (pt->tgid == tgid && pt->tstate &&
	    !bpf_probe_read_user(pt->ts, sizeof(pt->ts),
				 (void *)(pt->tstate + lo)) &&
	    py_ts_field(pt, lo, off->tstate_thread_id, &tid) &&
	    py_ts_field(pt, lo, off->tstate_frame, frame)) {
		if (tid == s.want)
			return pt->tstate;
	} else if (pt->tgid == tgid && pt->tstate &&
		   py_read_u64(pt->tstate + off->tstate_thread_id) == s.want) {
		*frame = py_read_u64(pt->tstate + off->tstate_frame);
		return pt->tstate;
	}
	interp = py_read_u64(pp->runtime + off->runtime_interp_head);
	if (!interp)
		return 0;
	s.ts = py_read_u64(interp + off->interp_threads_head);
	bpf_loop(HS_PY_THREADS, py_thread_step, &s, 0);
	pt->tgid = tgid;
	pt->tstate = s.ts;
	*frame = s.ts ? py_read_u64(s.ts + off->tstate_frame) : 0;
	return s.ts;
}

/*
 * Makes the frame at addr the one read: through the window, else a new
 * window that ends with it (or, near the start of its stack chunk, the
 * frame alone). False when it cannot be read.
 */
static __always_inline bool py_load_frame(struct hs_py_thread *pt, __u64 addr)
{
	__u64 start;

	if (addr >= pt->win_base && addr + HS_PY_FRAME_BYTES <= pt->win_end) {
		pt->frame = addr - pt->win_base;
		return true;
	}
	start = addr + HS_PY_FRAME_BYTES - HS_PY_WINDOW;
	if (addr + HS_PY_FRAME_BYTES > HS_PY_WINDOW &&
	    !bpf_probe_read_user(pt->win, sizeof(pt->win), (void *)start)) {
		pt->win_base = start;
		pt->win_end = start + HS_PY_WINDOW;
		pt->frame = HS_PY_WINDOW - HS_PY_FRAME_BYTES;
		return true;
	}
	if (bpf_probe_read_user(pt->win, HS_PY_FRAME_BYTES, (void *)addr))
		return false;
	pt->win_base = addr;
	pt->win_end = addr + HS_PY_FRAME_BYTES;
	pt->frame = 0;
	return true;
}

/* A field of the frame being read, at a runtime offset. */
static __always_inline __u64 py_frame_u64(struct hs_py_thread *pt, __u16 at)
{
	__u64 i = (pt->frame + at) / 8;

	if (i >= HS_PY_WINDOW / 8 || at >= HS_PY_FRAME_BYTES)
		return 0;
	return pt->win[i];
}

static __always_inline __u8 py_frame_u8(struct hs_py_thread *pt, __u16 at)
{
	__u64 i = pt->frame + at;

	if (i >= HS_PY_WINDOW || at >= HS_PY_FRAME_BYTES)
		return 0;
	return ((__u8 *)pt->win)[i];
}

/* Copies a str object: HS_PY_STR_BYTES of it, or what its page holds. */
static __always_inline __u16 py_copy_str(__u8 *dst, __u64 obj)
{
	__u32 n;

	if (!obj)
		return 0;
	if (!bpf_probe_read_user(dst, HS_PY_STR_BYTES, (void *)obj))
		return HS_PY_STR_BYTES;
	n = 4096 - (obj & 4095);
	if (n >= HS_PY_STR_BYTES || n < 64 ||
	    bpf_probe_read_user(dst, n & (HS_PY_STR_BYTES - 1), (void *)obj))
		return 0;
	return (__u16)n;
}

/*
 * The first sight of a code object: a new id, and its names, first line
 * and line table sent to user space. 0 when the event cannot be sent: the
 * frame is then reported as unknown code, and counted.
 */
static __u32 py_new_code(const struct hs_py_code_key *k, __u64 linetable,
			 __u64 filename, __u64 qualname,
			 const struct hs_py_offsets *off)
{
	struct hs_py_code_event *e;
	__u64 len;
	__u32 id;

	e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&global.c.py_codes_lost, 1);
		return 0;
	}
	id = (__u32)__sync_add_and_fetch(&global.py_next_id, 1);
	e->tgid = k->tgid;
	e->id = id;
	e->code = k->code;
	e->firstlineno = 0;
	bpf_probe_read_user(&e->firstlineno, sizeof(e->firstlineno),
			    (void *)(k->code + off->code_firstlineno));
	e->filename_copied = py_copy_str(e->filename, filename);
	e->qualname_copied = py_copy_str(e->qualname, qualname);
	len = py_read_u64(linetable + off->bytes_size);
	e->linetable_len = (__u32)len;
	if (len > HS_PY_LINETABLE_BYTES)
		len = HS_PY_LINETABLE_BYTES;
	e->linetable_copied = 0;
	if (len && !bpf_probe_read_user(e->linetable, len,
					(void *)(linetable + off->bytes_data)))
		e->linetable_copied = (__u32)len;
	if (bpf_map_update_elem(&py_code_ids, k, &id, BPF_NOEXIST)) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return id;
}

/*
 * The id of the code object at code, read into pt->ident. Where the
 * process's frees are seen, an id the thread keeps holds until a code
 * object it may name is freed.
 */
static __u32 py_code_id(struct hs_py_thread *pt, __u32 tgid, __u64 code,
			const struct hs_py_proc *pp)
{
	const struct hs_py_offsets *off = &pp->off;
	struct hs_py_code_key k = { .tgid = tgid, .code = code };
	__u64 filename, qualname, linetable, gen = 0;
	__u32 *id, slot, found;

	slot = (code >> 4) & (HS_PY_CODES - 1);
	if (pp->frees_traced && pt->codes[slot].code == code &&
	    pt->codes[slot].gen == (__u32)py_code_gen())
		return pt->codes[slot].id;
	if (bpf_probe_read_user(pt->ident, sizeof(pt->ident),
				(void *)(code + off->code_filename)))
		return 0;
	/* user space checks that these four fields follow each other */
	filename = pt->ident[0];
	qualname = pt->ident[2];
	linetable = pt->ident[3];
	k.ident = filename ^ linetable;
	if (pp->frees_traced) {
		py_code_watch(&k);
		gen = py_code_gen();
	}
	if (pt->codes[slot].code == code && pt->codes[slot].ident == k.ident &&
	    (!pp->frees_traced || pt->codes[slot].gen == (__u32)gen)) {
		pt->codes[slot].gen = (__u32)gen;
		return pt->codes[slot].id;
	}
	id = bpf_map_lookup_elem(&py_code_ids, &k);
	found = id ? *id : py_new_code(&k, linetable, filename, qualname, off);
	if (found) {
		pt->codes[slot].code = code;
		pt->codes[slot].ident = k.ident;
		pt->codes[slot].id = found;
		pt->codes[slot].gen = (__u32)gen;
	}
	return found;
}

struct py_walk {
	struct hs_py_thread *pt;
	const struct hs_py_proc *pp;
	__u64 frame;
	__u64 pending; /* the frame read last: stored once its successor is */
	__u32 tgid;
	__u32 n; /* frames in pt->out */
};

/* Stores the frame read before this one. */
static __always_inline void py_store(struct py_walk *pw)
{
	__u32 n = pw->n;

	if (pw->pending && n < HS_MAX_FRAMES) {
		pw->pt->out[n] = pw->pending;
		pw->n = n + 1;
	}
}

/*
 * One frame. A frame is stored one step late: in 3.12 and later, the shim
 * frame that follows the first frame of an interpreter run is what marks
 * it, and the mark is part of the stack's hash.
 */
static long py_frame_step(__u64 i, void *data)
{
	struct py_walk *pw = data;
	const struct hs_py_offsets *off = &pw->pp->off;
	struct hs_py_thread *pt = pw->pt;
	__u64 code, instr, first, at;
	__u32 id;

	if (!pw->frame || !py_load_frame(pt, pw->frame))
		return 1;
	pw->frame = py_frame_u64(pt, off->frame_previous);
	if (off->owner_cstack != 0xff &&
	    py_frame_u8(pt, off->frame_owner) == off->owner_cstack) {
		pw->pending |= pw->pending ? HS_PYFRAME_ENTRY : 0;
		return 0; /* the C stack's shim: not a frame of its own */
	}
	code = py_frame_u64(pt, off->frame_code);
	instr = py_frame_u64(pt, off->frame_instr);
	if (!code)
		return 1;
	py_store(pw);
	first = code + off->code_first_instr;
	at = instr >= first ? (instr - first) / 2 : HS_PYFRAME_INSTR_MAX;
	if (at > HS_PYFRAME_INSTR_MAX)
		at = HS_PYFRAME_INSTR_MAX;
	id = py_code_id(pt, pw->tgid, code, pw->pp);
	pw->pending = HS_PYFRAME | ((__u64)id << 24) | at;
	if (off->frame_is_entry != HS_PY_NO_FIELD &&
	    py_frame_u8(pt, off->frame_is_entry))
		pw->pending |= HS_PYFRAME_ENTRY;
	return 0;
}

/*
 * The thread's Python frames, most recent first, into pt->out: returns how
 * many (at most HS_MAX_FRAMES). A function of its own: the verifier checks
 * it once, not at each stack capture that calls it.
 */
__noinline int hs_py_walk(struct hs_py_thread *pt, struct hs_stack_window *win,
			  __u32 tgid)
{
	const struct hs_py_proc *pp;
	struct py_walk pw = { .pt = pt, .tgid = tgid };
	const struct hs_py_offsets *off;
	__u64 ts;

	if (!pt || !win)
		return 0;
	pt->win_base = pt->win_end = 0; /* the frames changed since */
	pp = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!pp)
		return 0;
	pw.pp = pp;
	off = &pp->off;
	ts = py_tstate(pt, tgid, pp, &pw.frame);
	if (!ts)
		return 0;
	/* 3.11's and 3.12's cframe is on the C stack, in the walk's window */
	if (off->cframe_frame != HS_PY_NO_FIELD && pw.frame)
		pw.frame = stack_u64(win, pw.frame + off->cframe_frame);
	bpf_loop(HS_MAX_FRAMES, py_frame_step, &pw, 0);
	py_store(&pw);
	return (int)pw.n;
}

#endif
