// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The probes: record each block at the allocator's return, erase it at free.
 * Nothing else happens here; user space reads the maps.
 *
 * Two attach mechanisms share the same logic: a uprobe session (one program
 * that runs at entry and, if the entry asks for it, at return) where the
 * kernel has them, and a classic uprobe/uretprobe pair where it does not.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "heapsnap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 traceback_limit = 64;
const volatile bool track_all = false;
/* The tracer itself, which a system-wide trace must leave alone. */
const volatile __u32 ignore_tgid = 0;
/* Byte sampling: mean bytes between samples; 0 traces every allocation. */
const volatile __u64 sample_bytes = 0;
/* Quantiles of Exp(1), in 1/65536: the gap to the next sample. */
const volatile __u32 sample_gap[HS_SAMPLE_GAPS];
/* x / (1 - e^-x) at x = i / HS_WEIGHT_STEPS, in 1/65536. */
const volatile __u32 sample_weight[HS_WEIGHT_POINTS + 1];
/* enum hs_unwind_mode: how stacks are walked. */
const volatile __u32 unwind_mode = HS_UNWIND_FP;
/* Trace the mmap domain (anonymous mmap, munmap, mremap, brk). */
const volatile bool trace_mmap = false;
/* Benchmark floor: the empty program's return value. */
const volatile int floor_ret = 0;

/* Bumped by user space at each snapshot: restarts interval_peak. */
volatile __u64 epoch;
struct hs_global_val global;

extern bool bpf_session_is_return(void) __ksym __weak;

/*
 * The live blocks: buckets of HS_WAYS keys (a block's address tagged with
 * its process's counters slot, 0 when free) and, beside each key, its
 * block. Array lookups cost no call and a bucket is one cache line: a
 * block's insert or erase is a scan of the line and one compare-and-swap.
 * A block whose bucket is full, or whose key cannot be tagged, spills into
 * the hash map spill.
 */
const volatile __u32 nbuckets = 1;
/* --max-live: the blocks a process may hold, when every one is traced. */
const volatile __u64 max_live = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hs_bucket);
	__uint(max_entries, 1);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hs_live_val);
	__uint(max_entries, HS_WAYS);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct hs_live_key);
	__type(value, struct hs_live_val);
	__uint(max_entries, 1 << 17);
} spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct hs_stack_val)); /* trimmed to the limit */
	__uint(max_entries, 1 << 16);
} stacks SEC(".maps");

/*
 * With sampling: one bit per hash of every block ever recorded, so that a
 * free of an unsampled block is one array read, not a failed lookup in
 * the live table. Bits are never cleared: a stale one only costs that
 * lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << (HS_SEEN_BITS - 6));
} seen SEC(".maps");

/* Each traced process has a slot in counters; procs maps its pid to it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4096);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct hs_proc_val);
	__uint(max_entries, 4096);
} counters SEC(".maps");

/* Unused slots: user space fills it, and takes slots back from the gone. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 4096);
} free_slots SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} map_events SEC(".maps");

/* Per-thread state between an allocator's entry and its return. */
struct hs_task {
	__u32 depth; /* nesting of allocator calls on this thread */
	__u32 fn;
	__u64 entry_sp; /* stack pointer at the outermost entry */
	__u64 size;
	__u64 arg; /* realloc: old block; posix_memalign: where the result goes */
	__u64 stack;
	__u32 total_nframe;
	__u8 old_state; /* realloc: OLD_NONE, OLD_LIVE or OLD_UNKNOWN */
	__u8 sampled; /* the new block is to be recorded */
	__u8 sampler_ready;
	__s64 until_sample; /* bytes left before the next sample */
	__u32 slot_tgid; /* the process whose counters slot is cached */
	__u32 slot;
	struct hs_map_event sys; /* an mmap-domain syscall in progress */
	struct {
		__u64 pc;
		__u32 row; /* index into cfi_rows */
		__u16 gen;
		__u16 fp; /* the module keeps frame pointers */
	} ucache[HS_UCACHE]; /* the unwind rows of recent return addresses */
	__u64 wrap_sp; /* entry of a wrapper whose allocator call is pending */
	__u64 wrap_fp;
	__u64 wrap_ret; /* the wrapper's return address, read at its entry */
	__u64 ret0; /* frame 0 for capture_stack(), when read already */
	struct hs_live_val old;
	__u64 window_base; /* user address of window[0] */
	__u64 window_words; /* words of window[] that are valid */
	__u64 window[HS_STACK_WINDOW];
	struct hs_stack_val scratch;
};

enum { OLD_NONE, OLD_LIVE, OLD_UNKNOWN };

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hs_task);
} tasks SEC(".maps");

static void raise_to(__u64 *slot, __u64 val)
{
	__u64 seen = *(volatile __u64 *)slot;

	/* bounded CAS loop: losing it needs 8 racing threads in a row */
	for (int i = 0; i < 8 && val > seen; i++) {
		__u64 prev = __sync_val_compare_and_swap(slot, seen, val);

		if (prev == seen)
			break;
		seen = prev;
	}
}

/*
 * What a block stands for: itself when every allocation is traced, else
 * size / P(sampled) bytes, as Go's heap profile scales.
 */
static __u64 weight_bytes(__u64 size)
{
	__u64 n = sample_bytes, x, i, rem, f0, f1;

	if (!n)
		return size;
	x = (size * HS_WEIGHT_STEPS) / n;
	if (x >= HS_WEIGHT_POINTS)
		return size;
	i = x;
	rem = size * HS_WEIGHT_STEPS - i * n;
	f0 = sample_weight[i];
	f1 = sample_weight[i + 1];
	return (n * (f0 + (f1 - f0) * rem / n)) >> 16;
}

static __u64 weight_count(__u64 size)
{
	if (!sample_bytes || !size)
		return 1;
	return weight_bytes(size) / size;
}

static void count_live(struct hs_proc_val *p, __u64 size)
{
	__u64 w = weight_bytes(size);
	__u64 cur = __sync_fetch_and_add(&p->c.current, w) + w;
	__u64 e = epoch;

	__sync_fetch_and_add(&p->c.count, weight_count(size));
	raise_to(&p->c.peak, cur);
	if (p->epoch != e) {
		p->c.interval_peak = cur;
		p->epoch = e;
	} else {
		raise_to(&p->c.interval_peak, cur);
	}
}

static void count_free(struct hs_proc_val *p, __u64 size)
{
	__sync_fetch_and_sub(&p->c.current, weight_bytes(size));
	__sync_fetch_and_sub(&p->c.count, weight_count(size));
	__sync_fetch_and_add(&p->c.frees, weight_count(size));
}

/*
 * The stack is read in windows of HS_STACK_WINDOW words: most frames of a
 * call chain lie within a few hundred bytes, and one read of a window costs
 * about what one read of a frame does.
 */
static bool load_window(struct hs_task *t, __u64 at)
{
	if (!bpf_probe_read_user(t->window, sizeof(t->window), (void *)at)) {
		t->window_base = at;
		t->window_words = HS_STACK_WINDOW;
		return true;
	}
	/* near the top of the stack a whole window may not be mapped */
	if (!bpf_probe_read_user(t->window, 2 * sizeof(__u64), (void *)at)) {
		t->window_base = at;
		t->window_words = 2;
		return true;
	}
	return false;
}

/* Reads the two words at addr: a frame's saved fp and its return address. */
static bool read_frame(struct hs_task *t, __u64 addr, __u64 *next_fp,
		       __u64 *ret)
{
	__u64 idx = (addr - t->window_base) / 8;

	if (addr < t->window_base || idx + 1 >= t->window_words) {
		if (!load_window(t, addr))
			return false;
		idx = 0;
	}
	barrier_var(idx);
	if (idx >= HS_STACK_WINDOW - 1)
		return false;
	*next_fp = t->window[idx];
	*ret = t->window[idx + 1];
	return true;
}

struct walk {
	struct hs_task *t;
	struct hs_unwind_proc *up; /* the process's mappings, for DWARF */
	__u64 pc, sp, fp, h, check;
	__u32 n, total, limit;
	__u32 flags; /* HS_STACK_* */
	bool fp_valid;
};

/* Appends a return address to the stack being captured. */
static __always_inline void add_frame(struct walk *w, __u64 ret)
{
	struct hs_task *t = w->t;
	__u32 n = w->n;

	if (n < w->limit && n < HS_MAX_FRAMES) {
		t->scratch.ip[n] = ret;
		w->h = (w->h ^ ret) * 0xff51afd7ed558ccdULL;
		w->h ^= w->h >> 32;
		w->check = w->check * 31 + (ret >> 4);
		w->n = n + 1;
	}
	w->total++;
}

/* One frame of the walk; bpf_loop() keeps the verifier's work linear. */
static __always_inline long walk_step(__u64 i, void *data)
{
	struct walk *w = data;
	struct hs_task *t = w->t;
	__u64 next_fp, ret;

	if (!w->fp || (w->fp & 7) || w->fp < w->sp)
		return 1;
	if (!read_frame(t, w->fp, &next_fp, &ret) || !ret)
		return 1;
	add_frame(w, ret);
	if (next_fp <= w->fp)
		return 1;
	w->fp = next_fp;
	return 0;
}

static long walk_frame(__u64 i, void *data)
{
	return walk_step(i, data);
}

/* Reads one word of the user stack, through the window. */
static __always_inline bool read_word(struct hs_task *t, __u64 addr,
				      __u64 *val)
{
	__u64 ignore;

	if (addr & 7)
		return bpf_probe_read_user(val, sizeof(*val), (void *)addr) == 0;
	return read_frame(t, addr - 8, &ignore, val);
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
	struct hs_task *t = w->t;
	struct hs_unwind_map *m;
	__u32 row;
	long r;
	int k;

	if (t->ucache[slot].pc == pc &&
	    t->ucache[slot].gen == (__u16)w->up->gen) {
		row = t->ucache[slot].row;
		*fp_module = t->ucache[slot].fp;
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
	t->ucache[slot].pc = pc;
	t->ucache[slot].row = row;
	t->ucache[slot].gen = (__u16)w->up->gen;
	t->ucache[slot].fp = *fp_module;
	return bpf_map_lookup_elem(&cfi_rows, &row);
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
	if (cfa <= w->sp || !read_word(w->t, cfa - 8, &ret)) {
		w->flags |= HS_STACK_UNKNOWN_CODE;
		return 1;
	}
	if (row->rbp_off == HS_RBP_UNDEF)
		w->fp_valid = false;
	else if (row->rbp_off != HS_RBP_SAME &&
		 !read_word(w->t, cfa + 8 * (__s64)row->rbp_off, &fp))
		w->fp_valid = false;
	w->fp = fp;
	w->sp = cfa;
	w->pc = ret;
	if (!ret)
		return 1;
	add_frame(w, ret);
	return 0;
}

/*
 * Walks the frame-pointer chain from an entry probe: the return address is
 * at (sp) and fp is the caller's frame. Stores up to traceback_limit
 * frames, counts up to HS_MAX_FRAMES, and interns the stack. Returns its
 * key, 0 when no stack could be read.
 */
static __u64 capture_stack(struct hs_task *t, __u64 sp, __u64 fp, __u32 tgid,
			   struct hs_proc_val *p)
{
	struct hs_stack_val *st = &t->scratch;
	struct walk w = {
		.t = t,
		.sp = sp,
		.fp = fp,
		.h = 0x9E3779B97F4A7C15ULL ^ tgid,
		.check = tgid,
		.n = 1,
		.total = 1,
		.limit = traceback_limit,
		.fp_valid = true,
	};
	struct hs_stack_val *old;
	__u64 ret, h;
	int err;

	t->total_nframe = 0;
	t->window_words = 0;
	if (!load_window(t, sp)) {
		t->ret0 = 0;
		__sync_fetch_and_add(&p->c.stack_failures, 1);
		return 0;
	}
	ret = t->ret0 ? t->ret0 : t->window[0];
	t->ret0 = 0;
	st->ip[0] = ret;
	w.h = (w.h ^ ret) * 0xff51afd7ed558ccdULL;
	w.check = w.check * 31 + (ret >> 4);
	if (unwind_mode != HS_UNWIND_FP) {
		/* the caller's frame: its return address is popped */
		w.pc = ret;
		w.sp = sp + 8;
		w.up = bpf_map_lookup_elem(&cfi_procs, &tgid);
		if (w.up)
			bpf_loop(HS_MAX_FRAMES - 1, dwarf_frame, &w, 0);
		else
			w.flags |= HS_STACK_UNKNOWN_CODE;
		goto walked;
	}
	/* the first frames inline: most stacks end there, and a call costs */
	for (int i = 0; i < HS_INLINE_FRAMES; i++)
		if (walk_step(i, &w))
			goto walked;
	bpf_loop(HS_MAX_FRAMES - 1 - HS_INLINE_FRAMES, walk_frame, &w, 0);
walked:
	t->total_nframe = w.total;
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
			__sync_fetch_and_add(&p->c.stack_collisions, 1);
		return h;
	}
	err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another thread was first */) {
		__sync_fetch_and_add(&p->c.stack_failures, 1);
		return 0;
	}
	return h;
}

static struct hs_task *task_state(bool create)
{
	return bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE :
					     0);
}

/* A new process seen by a system-wide trace gets a free slot. */
static __u32 *claim_slot(__u32 tgid)
{
	__u32 slot, *have;

	if (tgid == ignore_tgid)
		return NULL;
	if (bpf_map_pop_elem(&free_slots, &slot)) {
		__sync_fetch_and_add(&global.c.proc_map_full, 1);
		return NULL;
	}
	if (bpf_map_update_elem(&procs, &tgid, &slot, BPF_NOEXIST)) {
		bpf_map_push_elem(&free_slots, &slot, 0);
		have = bpf_map_lookup_elem(&procs, &tgid);
		if (!have)
			__sync_fetch_and_add(&global.c.proc_map_full, 1);
		return have;
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

/* The process's counters, through the slot this thread has cached. */
static struct hs_proc_val *get_proc(struct hs_task *t, __u32 tgid)
{
	__u32 *slot;

	if (t->slot_tgid != tgid) {
		slot = bpf_map_lookup_elem(&procs, &tgid);
		if (!slot && track_all)
			slot = claim_slot(tgid);
		if (!slot)
			return NULL;
		t->slot = *slot;
		t->slot_tgid = tgid;
	}
	return bpf_map_lookup_elem(&counters, &t->slot);
}

/* The word of seen that holds (tgid, ptr)'s bit, and the bit. */
static __always_inline __u64 *seen_word(__u32 tgid, __u64 ptr, __u64 *bit)
{
	__u64 h = (ptr ^ ((__u64)tgid << 44)) * 0x9E3779B97F4A7C15ULL;
	__u32 idx;

	h >>= 64 - HS_SEEN_BITS;
	idx = (__u32)(h >> 6);
	*bit = 1ULL << (h & 63);
	return bpf_map_lookup_elem(&seen, &idx);
}

static __always_inline bool maybe_sampled(__u32 tgid, __u64 ptr)
{
	__u64 bit, *w = seen_word(tgid, ptr, &bit);

	return !w || (*w & bit);
}

static __always_inline void mark_sampled(__u32 tgid, __u64 ptr)
{
	__u64 bit, *w = seen_word(tgid, ptr, &bit);

	if (w && !(*w & bit))
		__sync_fetch_and_or(w, bit);
}

static __always_inline __u64 block_key(__u32 slot, __u64 addr)
{
	if (addr >> HS_KEY_ADDR_BITS || slot >= 0xffff)
		return 0;
	return addr | ((__u64)(slot + 1) << HS_KEY_ADDR_BITS);
}

static __always_inline __u32 bucket_of(__u64 key)
{
	__u64 h = (key * 0x9E3779B97F4A7C15ULL) >> 32;

	return (__u32)((h * nbuckets) >> 32);
}

static __always_inline struct hs_live_val *block_at(__u32 bucket, int way)
{
	__u32 idx = bucket * HS_WAYS + (__u32)way;

	return bpf_map_lookup_elem(&blocks, &idx);
}

static __always_inline bool spilled(void)
{
	return *(volatile __u64 *)&global.spilled != 0;
}

/* Takes the block at addr out of the live set, into *out. */
static bool block_take(__u32 tgid, __u32 slot, __u64 addr,
		       struct hs_live_val *out)
{
	struct hs_live_key hk = { .tgid = tgid, .addr = addr };
	__u64 key = block_key(slot, addr);
	struct hs_live_val *v;
	struct hs_bucket *b;
	__u32 bi;

	if (key) {
		bi = bucket_of(key);
		b = bpf_map_lookup_elem(&buckets, &bi);
		if (!b)
			return false;
		for (int i = 0; i < HS_WAYS; i++) {
			if (b->key[i] != key)
				continue;
			v = block_at(bi, i);
			if (!v)
				return false;
			*out = *v;
			/* a racing free of the same block (a double free) */
			return __sync_val_compare_and_swap(&b->key[i], key,
							   0) == key;
		}
	}
	if (!spilled())
		return false;
	v = bpf_map_lookup_elem(&spill, &hk);
	if (!v)
		return false;
	*out = *v;
	if (bpf_map_delete_elem(&spill, &hk))
		return false;
	__sync_fetch_and_sub(&global.spilled, 1);
	return true;
}

/*
 * Puts a block in the live set. One already at its address is stale (its
 * free went unseen): it counts as freed and is replaced.
 */
static int block_put(__u32 tgid, __u32 slot, __u64 addr,
		     const struct hs_live_val *val, struct hs_proc_val *p)
{
	struct hs_live_key hk = { .tgid = tgid, .addr = addr };
	__u64 key = block_key(slot, addr);
	struct hs_live_val *v, stale;
	struct hs_bucket *b;
	__u32 bi;
	int err;

	if (key) {
		bi = bucket_of(key);
		b = bpf_map_lookup_elem(&buckets, &bi);
		if (!b)
			return -1;
		if (block_take(tgid, slot, addr, &stale))
			count_free(p, stale.size);
		for (int i = 0; i < HS_WAYS; i++) {
			if (b->key[i] ||
			    __sync_val_compare_and_swap(&b->key[i], 0, key))
				continue;
			v = block_at(bi, i);
			if (v)
				*v = *val;
			return 0;
		}
	}
	err = bpf_map_update_elem(&spill, &hk, val, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		v = bpf_map_lookup_elem(&spill, &hk);
		if (v)
			count_free(p, v->size);
		return bpf_map_update_elem(&spill, &hk, val, BPF_ANY);
	}
	if (!err)
		__sync_fetch_and_add(&global.spilled, 1);
	return err;
}

static void record_free(struct hs_task *t, __u32 tgid, __u64 ptr)
{
	struct hs_live_val old;
	struct hs_proc_val *p;

	if (!ptr)
		return;
	p = get_proc(t, tgid);
	if (!p)
		return;
	if (block_take(tgid, t->slot, ptr, &old))
		count_free(p, old.size);
	else if (!sample_bytes) /* with sampling, most were never recorded */
		__sync_fetch_and_add(&p->c.unknown_frees, 1);
}

/* Takes a realloc's old block out of the live set until the realloc ends. */
static void hold_old(struct hs_task *t, __u32 tgid)
{
	t->old_state = OLD_NONE;
	if (!t->arg)
		return;
	t->old_state = OLD_UNKNOWN;
	if (sample_bytes && !maybe_sampled(tgid, t->arg))
		return;
	if (block_take(tgid, t->slot, t->arg, &t->old))
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
	if (freed)
		count_free(p, t->old.size);
	else if (block_put(tgid, t->slot, t->arg, &t->old, p)) {
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
		.total_nframe = t->total_nframe,
		.domain = HS_DOMAIN_HEAP,
	};

	__sync_fetch_and_add(&p->c.allocs, weight_count(t->size));
	__sync_fetch_and_add(&p->c.bytes_allocated, weight_bytes(t->size));
	if (sample_bytes)
		mark_sampled(tgid, ptr);
	/* signed: an exec resets count while its old blocks may still go */
	if ((!sample_bytes &&
	     *(volatile __s64 *)&p->c.count >= (__s64)max_live) ||
	    block_put(tgid, t->slot, ptr, &val, p)) {
		__sync_fetch_and_add(&p->c.map_full, 1);
		return;
	}
	count_live(p, t->size);
}

static bool inside_wrapper(struct hs_task *t, __u64 sp)
{
	return t->wrap_sp && sp < t->wrap_sp &&
	       t->wrap_sp - sp < HS_WRAPPER_FRAME_MAX;
}

/* Is this allocation of size sampled? Advances the thread's sampler. */
static bool take_sample(struct hs_task *t, __u64 size)
{
	__u32 r;

	if (!sample_bytes)
		return true;
	if (!t->sampler_ready) {
		r = bpf_get_prandom_u32() & (HS_SAMPLE_GAPS - 1);
		t->until_sample = (sample_bytes * sample_gap[r]) >> 16;
		t->sampler_ready = 1;
	}
	/* a request of 2^63 or more (it fails) must not wrap the countdown */
	if (size > HS_SAMPLE_SIZE_MAX)
		size = HS_SAMPLE_SIZE_MAX;
	t->until_sample -= size;
	if (t->until_sample > 0)
		return false;
	r = bpf_get_prandom_u32() & (HS_SAMPLE_GAPS - 1);
	t->until_sample = (sample_bytes * sample_gap[r]) >> 16;
	return true;
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

/*
 * Functions that may call another public allocator function (glibc's
 * realloc(NULL, n) calls malloc, memalign may too): they always take their
 * return, so the nesting depth covers the inner call.
 */
static bool may_nest(__u32 fn)
{
	return fn != HS_FN_MALLOC && fn != HS_FN_CALLOC;
}

/* A free: one array read when the block was not sampled. */
static __always_inline int on_free(__u32 tgid, __u64 ptr, __u64 sp)
{
	struct hs_task *t;

	if (!ptr || (sample_bytes && !maybe_sampled(tgid, ptr)))
		return 1;
	t = task_state(true);
	if (!t) {
		__sync_fetch_and_add(&global.c.nested_overflow, 1);
		return 1;
	}
	if (t->depth && sp > t->entry_sp)
		t->depth = 0;
	if (!t->depth)
		record_free(t, tgid, ptr);
	return 1;
}

/*
 * The entry of any probed function. Returns 0 when the return must be seen,
 * 1 when it need not (sessions then skip the return trap).
 */
static int on_entry(struct pt_regs *ctx, __u32 fn, bool session)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 sp = PT_REGS_SP(ctx), fp = PT_REGS_FP(ctx);
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx);
	__u64 a2 = PT_REGS_PARM3(ctx);
	struct hs_proc_val *p;
	struct hs_task *t;
	__u64 size;
	bool sampled;

	if (tgid == ignore_tgid)
		return 1;
	if (fn == HS_FN_FREE)
		return on_free(tgid, a0, sp);
	t = task_state(true);
	if (!t) {
		__sync_fetch_and_add(&global.c.nested_overflow, 1);
		return 1;
	}
	/* a return probe that never fired leaves depth set above our frame */
	if (t->depth && sp > t->entry_sp)
		t->depth = 0;
	if (fn == HS_FN_FREE_NESTS) {
		/* the free it hands the block on to runs inside its depth */
		if (t->depth) {
			if (session)
				return 1;
			t->depth++;
			return 0;
		}
		record_free(t, tgid, a0);
		t->depth = 1;
		t->fn = fn;
		t->entry_sp = sp;
		t->sampled = 0;
		return 0;
	}
	if (fn == HS_FN_WRAPPER) {
		/*
		 * Its caller's frames stay intact until its allocator call; its
		 * return address is read now, before any return probe (ours or
		 * another tracer's) replaces it with the trampoline's.
		 */
		if (!t->depth && !inside_wrapper(t, sp) &&
		    !bpf_probe_read_user(&t->wrap_ret, sizeof(t->wrap_ret),
					 (void *)sp)) {
			t->wrap_sp = sp;
			t->wrap_fp = fp;
		}
		return 1; /* no return probe: it never counts in depth */
	}
	if (t->depth) {
		if (session)
			return 1;
		t->depth++;
		return 0;
	}
	size = request_size(fn, a0, a1, a2);
	sampled = take_sample(t, size);
	if (!sampled && !may_nest(fn)) {
		t->wrap_sp = 0;
		return 1;
	}
	p = get_proc(t, tgid);
	if (!p) {
		t->wrap_sp = 0;
		return 1;
	}
	t->depth = 1;
	t->fn = fn;
	t->entry_sp = sp;
	t->size = size;
	t->sampled = sampled;
	t->arg = fn == HS_FN_REALLOC || fn == HS_FN_REALLOCARRAY ||
				 fn == HS_FN_POSIX_MEMALIGN ?
			 a0 :
			 0;
	t->stack = 0;
	if (sampled) {
		if (inside_wrapper(t, sp)) {
			t->ret0 = t->wrap_ret;
			t->stack = capture_stack(t, t->wrap_sp, t->wrap_fp,
						 tgid, p);
		} else {
			t->stack = capture_stack(t, sp, fp, tgid, p);
		}
	}
	t->wrap_sp = 0;
	if (fn == HS_FN_REALLOC || fn == HS_FN_REALLOCARRAY)
		hold_old(t, tgid);
	return 0;
}

static int on_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), ptr = PT_REGS_RC(ctx);
	__u32 tgid = id >> 32;
	struct hs_proc_val *p;
	struct hs_task *t;

	t = task_state(false);
	if (!t || !t->depth)
		return 0;
	if (--t->depth)
		return 0;
	p = get_proc(t, tgid);
	if (!p)
		return 0;
	if (t->fn == HS_FN_POSIX_MEMALIGN) {
		if ((int)ptr != 0 ||
		    bpf_probe_read_user(&ptr, sizeof(ptr), (void *)t->arg))
			ptr = 0;
	}
	if (t->fn == HS_FN_REALLOC || t->fn == HS_FN_REALLOCARRAY) {
		/* glibc's realloc(p, 0) frees p and returns NULL */
		release_old(t, tgid, p, ptr || !t->size);
	}
	if (ptr && t->sampled)
		record_alloc(t, tgid, (__u32)id, p, ptr);
	return 0;
}

SEC("uprobe")
int hs_session(struct pt_regs *ctx)
{
	__u32 tgid, fn = bpf_get_attach_cookie(ctx);

	/* the most frequent call first: a free never asks for its return */
	if (fn == HS_FN_FREE) {
		tgid = bpf_get_current_pid_tgid() >> 32;
		if (tgid == ignore_tgid)
			return 1;
		return on_free(tgid, PT_REGS_PARM1(ctx), PT_REGS_SP(ctx));
	}
	if (bpf_session_is_return())
		return on_return(ctx);
	return on_entry(ctx, fn, true);
}

SEC("uprobe")
int hs_entry(struct pt_regs *ctx)
{
	on_entry(ctx, bpf_get_attach_cookie(ctx), false);
	return 0;
}

SEC("uretprobe")
int hs_return(struct pt_regs *ctx)
{
	return on_return(ctx);
}

/*
 * Stops a command at its entry point, so that user space can build the
 * unwind tables of what it maps before its own code runs.
 */
SEC("uprobe")
int hs_stop(struct pt_regs *ctx)
{
	bpf_send_signal(19 /* SIGSTOP */);
	return 0;
}

/* The benchmark floor: the same probe points and returns, nothing done. */
SEC("uprobe")
int hs_floor(struct pt_regs *ctx)
{
	__u64 fn = bpf_get_attach_cookie(ctx);

	return floor_ret || fn == HS_FN_FREE || fn == HS_FN_WRAPPER;
}

/* The floor of the mmap domain: its tracepoints, nothing done. */
SEC("tp_btf/sys_enter")
int BPF_PROG(hs_floor_sys_enter, struct pt_regs *regs, long nr)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(hs_floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

/*
 * A traced process replaced its image: what the old image allocated is gone
 * with it. Its counters start again (the losses stay: they were losses);
 * user space drops the blocks older than exec_ns.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(hs_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *slot;
	struct hs_proc_val *p;

	slot = bpf_map_lookup_elem(&procs, &tgid);
	if (!slot)
		return 0;
	p = bpf_map_lookup_elem(&counters, slot);
	if (!p)
		return 0;
	__sync_lock_test_and_set(&p->c.current, 0);
	__sync_lock_test_and_set(&p->c.count, 0);
	__sync_lock_test_and_set(&p->c.peak, 0);
	__sync_lock_test_and_set(&p->c.interval_peak, 0);
	__sync_lock_test_and_set(&p->c.allocs, 0);
	__sync_lock_test_and_set(&p->c.frees, 0);
	__sync_lock_test_and_set(&p->c.bytes_allocated, 0);
	p->exec_ns = bpf_ktime_get_ns();
	return 0;
}

/*
 * The mmap domain: anonymous mappings made outside the allocator. Calls made
 * while an allocator function runs on the thread (its depth is set) are the
 * allocator's own and are left out. Events are rare; each goes to user space,
 * which keeps the regions (partial unmaps split them).
 */
#define HS_MAP_ANONYMOUS 0x20
#define HS_MAP_STACK 0x20000
#define HS_MAP_FIXED 0x10

static struct hs_task *mmap_task(__u32 tgid)
{
	struct hs_task *t;
	__u32 *slot;

	if (!trace_mmap)
		return NULL;
	slot = bpf_map_lookup_elem(&procs, &tgid);
	if (!slot && !track_all)
		return NULL;
	t = task_state(true);
	if (!t || t->depth)
		return NULL;
	return t;
}

/* x86-64 syscall numbers of the mmap domain. */
#define HS_NR_MMAP 9
#define HS_NR_MUNMAP 11
#define HS_NR_BRK 12
#define HS_NR_MREMAP 25

#define HS_TS_COMPAT 0x0002 /* a 32-bit call, numbered otherwise */

static __always_inline __u32 map_op(long nr)
{
	struct task_struct *task;
	__u32 op;

	switch (nr) {
	case HS_NR_MMAP:
		op = HS_MAP_MMAP;
		break;
	case HS_NR_MUNMAP:
		op = HS_MAP_MUNMAP;
		break;
	case HS_NR_MREMAP:
		op = HS_MAP_MREMAP;
		break;
	case HS_NR_BRK:
		op = HS_MAP_BRK;
		break;
	default:
		return 0;
	}
	task = bpf_get_current_task_btf();
	return task->thread_info.status & HS_TS_COMPAT ? 0 : op;
}

static __always_inline int sys_enter(__u32 op, __u64 a0, __u64 a1, __u64 a2,
				     __u64 flags, long fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct pt_regs *regs;
	struct hs_proc_val *p;
	struct hs_task *t;
	__u64 sp, fp, ret0 = 0;

	/* brk(0) asks for the break (sbrk's first call does): no change */
	if (op == HS_MAP_BRK && !a0)
		return 0;
	t = mmap_task(tgid);
	if (!t)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	sp = BPF_CORE_READ(regs, sp);
	fp = BPF_CORE_READ(regs, bp);
	/*
	 * The libc wrappers of these calls (sbrk, mremap...) may be probed as
	 * wrappers: their caller is frame 0. Their mark ends here, used or not.
	 */
	if (inside_wrapper(t, sp)) {
		sp = t->wrap_sp;
		fp = t->wrap_fp;
		ret0 = t->wrap_ret;
	}
	t->wrap_sp = 0;
	t->sys.op = 0;
	if (op == HS_MAP_MMAP &&
	    ((flags & (HS_MAP_ANONYMOUS | HS_MAP_STACK)) != HS_MAP_ANONYMOUS ||
	     (int)fd != -1))
		return 0;
	p = get_proc(t, tgid);
	if (!p)
		return 0;
	t->sys.op = op;
	t->sys.tgid = tgid;
	t->sys.tid = (__u32)id;
	t->sys.a0 = a0;
	t->sys.a1 = a1;
	t->sys.a2 = a2;
	t->sys.stack = 0;
	t->sys.total_nframe = 0;
	if (op == HS_MAP_BRK) {
		struct task_struct *task = bpf_get_current_task_btf();

		t->sys.a0 = BPF_CORE_READ(task, mm, brk);
	}
	if (op == HS_MAP_MUNMAP)
		return 0;
	t->ret0 = ret0;
	t->sys.stack = capture_stack(t, sp, fp, tgid, p);
	t->sys.total_nframe = t->total_nframe;
	return 0;
}

/*
 * One program on the raw sys_enter tracepoint for the four calls, and one
 * on sys_exit: attached and detached at once, where a tracepoint per call
 * (eight) took a grace period each to detach. Every other syscall returns
 * at the first compare.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(hs_sys_enter, struct pt_regs *regs, long nr)
{
	__u32 op = map_op(nr);

	if (!op || !trace_mmap)
		return 0;
	/* syscall arguments: rdi, rsi, rdx, r10, r8 */
	if (op == HS_MAP_MMAP)
		return sys_enter(op, regs->di, regs->si, 0, regs->r10,
				 (long)regs->r8);
	return sys_enter(op, regs->di, op == HS_MAP_BRK ? 0 : regs->si,
			 op == HS_MAP_MREMAP ? regs->dx : 0, 0, -1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(hs_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 op = map_op(regs->orig_ax);
	struct hs_map_event *e;
	struct hs_task *t;

	if (!op || !trace_mmap)
		return 0;
	t = task_state(false);
	if (!t || t->sys.op != op)
		return 0;
	t->sys.op = 0;
	if (ret < 0 && ret > -4096)
		return 0;
	if (op == HS_MAP_BRK && (__u64)ret == t->sys.a0)
		return 0;
	e = bpf_ringbuf_reserve(&map_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&global.c.map_events_lost, 1);
		return 0;
	}
	*e = t->sys;
	e->op = op;
	e->ret = (__u64)ret;
	e->time_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
