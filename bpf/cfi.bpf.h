/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The unwind tables the DWARF walk searches: each module's rows in a BPF
 * array of its own (user/unwind.c makes them), the rules they share, each
 * process's executable mappings, and each module by the file the kernel
 * maps, for code the process's list does not have yet. Also the dynamic
 * loader's hook, which tells user space that a process's modules changed.
 */
#ifndef HEAPSNAP_CFI_BPF_H
#define HEAPSNAP_CFI_BPF_H

#include "common.bpf.h"
#include "procs.bpf.h"

struct cfi_blocks {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct hs_cfi_block));
	__uint(max_entries, 1);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, HS_CFI_MODULES);
	__type(key, __u32);
	__array(values, struct cfi_blocks);
} cfi_modules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct hs_cfi_rule);
	__uint(max_entries, HS_CFI_RULES);
} cfi_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct hs_cfi_file_key);
	__type(value, struct hs_cfi_file);
	__uint(max_entries, HS_CFI_MODULES);
} cfi_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct hs_unwind_proc);
	__uint(max_entries, 4096);
} cfi_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} loader_events SEC(".maps");

/* Loader events the ring buffer had no room for. */
__u64 loader_events_lost;

/* Binary searches: one step per bpf_loop() callback. */
struct search {
	const struct hs_unwind_proc *up;
	void *blocks; /* a module's rows */
	__u64 x;
	__u32 lo, hi;
	bool failed;
};

/* Keeps the half of [lo, hi) where x is, by the key at mid. */
static __always_inline long halve(struct search *s, __u32 mid, __u64 key)
{
	if (key <= s->x)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

static long map_step(__u64 i, void *data)
{
	struct search *s = data;
	__u32 mid = (s->lo + s->hi) / 2;

	if (s->lo >= s->hi || mid >= HS_UNWIND_MAPS)
		return 1;
	return halve(s, mid, s->up->m[mid].start);
}

/* The mapping of up that holds pc, or -1. */
static __always_inline int find_mapping(const struct hs_unwind_proc *up,
					__u64 pc)
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

static long block_step(__u64 i, void *data)
{
	struct search *s = data;
	__u32 mid = s->lo + (s->hi - s->lo) / 2;
	struct hs_cfi_block *b;

	if (s->lo >= s->hi)
		return 1;
	b = bpf_map_lookup_elem(s->blocks, &mid);
	if (!b) {
		s->failed = true;
		return 1;
	}
	return halve(s, mid, b->base);
}

/* The last row at or below x in block b (its first row is at or below). */
static __always_inline __u32 row_in_block(const struct hs_cfi_block *b,
					  __u32 d)
{
	__u32 lo = 0, hi = HS_CFI_BLOCK_ROWS, mid;

#pragma unroll
	for (int k = 0; k < 4; k++) {
		mid = (lo + hi) / 2;
		if (lo < hi && mid < HS_CFI_BLOCK_ROWS) {
			if (b->off[mid] <= d)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return lo ? lo - 1 : 0;
}

/*
 * The rule of ELF address x in a module's table; false when the table
 * cannot say (x below its first row, a failed lookup).
 */
static __always_inline bool module_rule(__u32 module, __u32 nblocks, __u64 x,
					struct hs_cfi_rule *out)
{
	struct search s = { .x = x, .hi = nblocks };
	struct hs_cfi_block *b;
	struct hs_cfi_rule *r;
	__u32 k, id, row;

	if (x >= 1ULL << 32)
		return false;
	s.blocks = bpf_map_lookup_elem(&cfi_modules, &module);
	if (!s.blocks)
		return false;
	bpf_loop(32, block_step, &s, 0);
	if (s.failed || !s.lo)
		return false;
	k = s.lo - 1;
	b = bpf_map_lookup_elem(s.blocks, &k);
	if (!b || x < b->base)
		return false;
	row = row_in_block(b, (__u32)x - b->base);
	barrier_var(row);
	if (row >= HS_CFI_BLOCK_ROWS)
		return false;
	id = b->rule[row];
	r = bpf_map_lookup_elem(&cfi_rules, &id);
	if (!r)
		return false;
	*out = *r;
	return true;
}

/* What the kernel maps at an address: for code no process list has. */
struct vma_hit {
	__u64 start, pgoff;
	struct hs_cfi_file_key key;
	bool exec, file;
};

static long on_vma(struct task_struct *task, struct vm_area_struct *vma,
		   void *data)
{
	struct vma_hit *h = data;
	struct file *f = vma->vm_file;

	h->start = vma->vm_start;
	h->pgoff = vma->vm_pgoff;
	h->exec = vma->vm_flags & 0x4; /* VM_EXEC */
	if (f) {
		h->file = true;
		h->key.ino = BPF_CORE_READ(f, f_inode, i_ino);
		h->key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	}
	return 0;
}

/*
 * The rule of return address pc by the file mapped there, for a process
 * whose list has no mapping for it. Returns an enum hs_unwind_stop:
 * HS_STOP_NONE when *out holds the rule.
 */
static __always_inline int rule_by_file(__u64 pc, struct hs_cfi_rule *out)
{
	struct vma_hit h = {};
	struct hs_cfi_file *f;
	long err;

	err = bpf_find_vma(bpf_get_current_task_btf(), pc - 1, on_vma, &h, 0);
	if (err == -16 /* EBUSY */)
		return HS_STOP_BUSY;
	if (err || !h.exec || !h.file)
		return HS_STOP_NO_MODULE;
	f = bpf_map_lookup_elem(&cfi_files, &h.key);
	if (!f)
		return HS_STOP_NO_TABLE;
	if (!module_rule(f->module, f->nblocks,
			 pc - 1 - (h.start - h.pgoff * 4096 + f->delta), out))
		return HS_STOP_NO_RULE;
	out->fp = f->flags & HS_MAP_FRAME_POINTERS;
	return HS_STOP_NONE;
}

/*
 * The rule of return address pc in process tgid, whose image is the one of
 * its last exec at image: by the process's list of mappings, else by the
 * file mapped there. Returns an enum hs_unwind_stop: HS_STOP_NONE when
 * *out holds the rule. A function of its own: the verifier checks it once,
 * not at each frame of each walk.
 */
__noinline int hs_cfi_rule(__u32 tgid, __u64 image, __u64 pc,
			   struct hs_cfi_rule *out)
{
	const struct hs_unwind_proc *up;
	const struct hs_unwind_map *m;
	int k;

	if (!out)
		return HS_STOP_NO_RULE;
	up = bpf_map_lookup_elem(&cfi_procs, &tgid);
	/* a list read before the process's last exec is not its own */
	k = up && up->image == image ? find_mapping(up, pc - 1) : -1;
	if (!up || k < 0 || k >= HS_UNWIND_MAPS)
		return rule_by_file(pc, out);
	m = &up->m[k];
	/* pc - 1: the call, not what follows a call at a function's end */
	if (!module_rule(m->module, m->nblocks, pc - 1 - m->bias, out))
		return HS_STOP_NO_RULE;
	out->fp = m->flags & HS_MAP_FRAME_POINTERS;
	return HS_STOP_NONE;
}

/*
 * The dynamic loader calls its debugger hook (_dl_debug_state) when its
 * list of modules is about to change and when it is consistent again:
 * after a dlopen() has mapped its libraries, before their constructors
 * run. At the consistent state it tells user space, and stops the
 * process (SIGSTOP) when the cookie asks, until the new modules' tables
 * are in. The cookie's bits above the first are the offset from the hook
 * to the loader's r_debug.r_state.
 */
static __always_inline int loader_hook(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct hs_loader_event *e;
	int state;

	if (tgid == ignore_tgid ||
	    bpf_probe_read_user(&state, sizeof(state),
				(void *)(PT_REGS_IP(ctx) +
					 ((__s64)cookie >> 1))) ||
	    state != 0 /* RT_CONSISTENT */)
		return 0;
	e = bpf_ringbuf_reserve(&loader_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&loader_events_lost, 1);
		return 0;
	}
	e->tgid = tgid;
	e->stopped = (cookie & 1) && !bpf_send_signal(19 /* SIGSTOP */);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
