/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The mmap domain: anonymous mappings made outside the allocator. Calls made
 * while an allocator function runs on the thread (its depth is set) are the
 * allocator's own and are left out. Events are rare; each goes to user space,
 * which keeps the regions (partial unmaps split them).
 */
#ifndef HEAPSNAP_MMAPDOM_BPF_H
#define HEAPSNAP_MMAPDOM_BPF_H

#include "alloc.bpf.h"
#include "common.bpf.h"
#include "procs.bpf.h"
#include "stackwalk.bpf.h"

/* Trace the mmap domain (anonymous mmap, munmap, mremap, brk). */
const volatile bool trace_mmap = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} map_events SEC(".maps");

#define HS_MAP_ANONYMOUS 0x20
#define HS_MAP_STACK 0x20000

/* x86-64 syscall numbers of the mmap domain. */
#define HS_NR_MMAP 9
#define HS_NR_MUNMAP 11
#define HS_NR_BRK 12
#define HS_NR_MREMAP 25

#define HS_TS_COMPAT 0x0002 /* a 32-bit call, numbered otherwise */

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
	struct hs_frame0 f = { 0 };
	struct pt_regs *regs;
	struct hs_proc_val *p;
	struct hs_task *t;

	/* brk(0) asks for the break (sbrk's first call does): no change */
	if (op == HS_MAP_BRK && !a0)
		return 0;
	t = mmap_task(tgid);
	if (!t)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	f.sp = BPF_CORE_READ(regs, sp);
	f.fp = BPF_CORE_READ(regs, bp);
	/* libc's wrappers of these calls (sbrk, mremap...) may be probed */
	start_frame(t, &f);
	t->sys.op = 0;
	if (op == HS_MAP_MMAP &&
	    ((flags & (HS_MAP_ANONYMOUS | HS_MAP_STACK)) != HS_MAP_ANONYMOUS ||
	     (int)fd != -1))
		return 0;
	p = get_proc(&t->proc, tgid);
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
	/* not in a wrapper: the walk starts where the call was made */
	if (!f.ret)
		t->walk.start_pc = BPF_CORE_READ(regs, ip);
	t->sys.stack = stack_of(t, &f, tgid, p);
	t->sys.total_nframe = t->walk.total_nframe;
	return 0;
}

/* Every syscall's entry: the four calls of the domain note what they ask. */
static __always_inline int mmap_sys_enter(struct pt_regs *regs, long nr)
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

/* Every syscall's exit: a domain call that worked goes to user space. */
static __always_inline int mmap_sys_exit(struct pt_regs *regs, long ret)
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

#endif
