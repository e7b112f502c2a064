/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The mmap domain: anonymous mappings made outside the allocator. Calls made
 * while an allocator function runs on the thread (its depth is set) are the
 * allocator's own and are left out. Events are rare; each goes to user space,
 * which keeps the regions (partial unmaps split them).
 *
 * Two ways in. By default, probes in the traced processes' libc: on the
 * instruction just after the syscall instruction of mmap, munmap and mremap
 * (the result in %rax, the arguments still in the syscall's registers: one
 * hit a call), and at the entry of brk and syscall() too (the old break, the
 * call's number). Where a process makes these calls without libc, or when
 * the user asks, the raw sys_enter and sys_exit tracepoints, which every
 * syscall of every task on the host then goes through.
 */
#ifndef HEAPSNAP_MMAPDOM_BPF_H
#define HEAPSNAP_MMAPDOM_BPF_H

#include "alloc.bpf.h"
#include "common.bpf.h"
#include "procs.bpf.h"
#include "stackwalk.bpf.h"

/* Trace the mmap domain (anonymous mmap, munmap, mremap, brk). */
const volatile bool trace_mmap = false;
/* Every traced process on the syscall tracepoints, not only mmap_sys_procs. */
const volatile bool mmap_sys_all = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} map_events SEC(".maps");

/* The processes whose mmap domain the syscall tracepoints trace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 4096);
} mmap_sys_procs SEC(".maps");

#define HS_MAP_ANONYMOUS 0x20
#define HS_MAP_STACK 0x20000

/* x86-64 syscall numbers of the mmap domain. */
#define HS_NR_MMAP 9
#define HS_NR_MUNMAP 11
#define HS_NR_BRK 12
#define HS_NR_MREMAP 25

#define HS_TS_COMPAT 0x0002 /* a 32-bit call, numbered otherwise */

/* What a call of the domain asks: its arguments in the syscall's order. */
enum { SYS_A0, SYS_A1, SYS_A2, SYS_FLAGS, SYS_FD, SYS_NARGS };

static __always_inline __u32 nr_op(long nr)
{
	switch (nr) {
	case HS_NR_MMAP:
		return HS_MAP_MMAP;
	case HS_NR_MUNMAP:
		return HS_MAP_MUNMAP;
	case HS_NR_MREMAP:
		return HS_MAP_MREMAP;
	case HS_NR_BRK:
		return HS_MAP_BRK;
	default:
		return 0;
	}
}

/*
 * A call begins on thread t at frame f: what it asks goes to t->sys, with
 * the stack of the calls that make a mapping. False when it is not the
 * domain's: the allocator's own, a query of the break, a mapping that is
 * not anonymous or is a thread's stack.
 */
static __always_inline bool begin_sys(struct hs_task *t, __u32 op,
				      const __u64 *a, struct hs_frame0 *f)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct hs_proc_val *p;

	t->sys.op = 0;
	t->sys_sp = f->sp; /* the call's own, before a wrapper's replaces it */
	/* brk(0) asks for the break (sbrk's first call does): no change */
	if (op == HS_MAP_BRK && !a[SYS_A0])
		return false;
	/* libc's wrappers of these calls (sbrk...) may be probed */
	start_frame(t, f);
	if (op == HS_MAP_MMAP &&
	    ((a[SYS_FLAGS] & (HS_MAP_ANONYMOUS | HS_MAP_STACK)) !=
		     HS_MAP_ANONYMOUS ||
	     (int)a[SYS_FD] != -1))
		return false;
	p = get_proc(&t->proc, tgid);
	if (!p)
		return false;
	t->sys.op = op;
	t->sys.tgid = tgid;
	t->sys.tid = (__u32)id;
	t->sys.a0 = a[SYS_A0];
	t->sys.a1 = a[SYS_A1];
	t->sys.a2 = a[SYS_A2];
	t->sys.stack = 0;
	t->sys.total_nframe = 0;
	if (op == HS_MAP_BRK) {
		struct task_struct *task = bpf_get_current_task_btf();

		t->sys.a0 = BPF_CORE_READ(task, mm, brk);
	}
	if (op == HS_MAP_MUNMAP)
		return true;
	t->sys.stack = stack_of(t, f, tgid, p);
	t->sys.total_nframe = t->walk.total_nframe;
	return true;
}

/* The call in t->sys ended with ret: when it worked, to user space. */
static __always_inline void end_sys(struct hs_task *t, __u32 op, long ret)
{
	struct hs_map_event *e;

	if (!op || t->sys.op != op)
		return;
	t->sys.op = 0;
	if (ret < 0 && ret > -4096)
		return;
	if (op == HS_MAP_MMAP && !ret) /* _dl_early_allocate failed */
		return;
	if (op == HS_MAP_BRK && (__u64)ret == t->sys.a0)
		return;
	e = bpf_ringbuf_reserve(&map_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&global.c.map_events_lost, 1);
		return;
	}
	*e = t->sys;
	e->op = op;
	e->ret = (__u64)ret;
	e->time_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
}

/* The thread's state for a call outside any allocator call, or NULL. */
static __always_inline struct hs_task *sys_task(__u64 sp)
{
	struct hs_task *t;

	if (!trace_mmap)
		return NULL;
	t = entry_task(sp);
	return t && !t->depth ? t : NULL;
}

/*
 * The entry of brk or syscall() (or, where no probe can sit after the
 * syscall, of any call of the domain, and of _dl_early_allocate), with the
 * C calling convention's arguments. Returns 0 when the call's return probe
 * is wanted.
 */
static __noinline int mmap_call_entry(struct pt_regs *ctx, __u32 cookie)
{
	__u64 r[SYS_NARGS + 1] = { ctx->di, ctx->si, ctx->dx,
				   ctx->cx, ctx->r8, ctx->r9 };
	struct hs_frame0 f = { .sp = PT_REGS_SP(ctx), .fp = PT_REGS_FP(ctx) };
	__u32 op = HS_COOKIE_SYS_OP(cookie);
	struct hs_task *t;
	__u64 *a = r;

	barrier_var(r[0]);
	if (op == HS_SYS_ANY) { /* syscall(nr, ...): the rest shift by one */
		op = nr_op((long)r[0]);
		a = &r[1];
	} else if (op == HS_SYS_EARLY) { /* _dl_early_allocate(size) */
		op = HS_MAP_MMAP;
		r[SYS_A1] = r[0];
		r[SYS_FLAGS] = HS_MAP_ANONYMOUS;
		r[SYS_FD] = -1;
	}
	if (!op)
		return 1;
	t = sys_task(f.sp);
	if (!t || !begin_sys(t, op, a, &f))
		return 1;
	return cookie & HS_COOKIE_SYS_RET ? 0 : 1;
}

/*
 * The return of a call whose entry found no probe after its syscall. brk()
 * returns 0 or -1: the break it moved to is the task's.
 */
static __noinline int mmap_call_return(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct hs_task *t = task_state(false);
	long ret = (long)PT_REGS_RC(ctx);

	/* the return address is popped: the entry's %rsp is 8 below */
	if (!t || !t->sys.op || t->sys_sp != PT_REGS_SP(ctx) - 8)
		return 0;
	if (t->sys.op == HS_MAP_BRK)
		ret = (long)BPF_CORE_READ(task, mm, brk);
	end_sys(t, t->sys.op, ret);
	return 0;
}

/*
 * Just after a syscall instruction: %rax holds the result and the syscall's
 * registers its arguments (rdi, rsi, rdx, r10, r8). The call's return
 * address is HS_COOKIE_SYS_SP words above %rsp. brk and syscall() began at
 * their entry; the others begin and end here.
 */
static __noinline int mmap_call_after(struct pt_regs *ctx, __u32 cookie)
{
	__u64 r[SYS_NARGS + 1] = { ctx->di, ctx->si, ctx->dx,
				   ctx->r10, ctx->r8, ctx->ax };
	struct hs_frame0 f = {
		.sp = PT_REGS_SP(ctx) + 8 * HS_COOKIE_SYS_SP(cookie),
		.fp = PT_REGS_FP(ctx),
	};
	__u32 op = HS_COOKIE_SYS_OP(cookie);
	struct hs_task *t;

	barrier_var(r[0]);

	if (op == HS_SYS_ANY || op == HS_MAP_BRK) {
		t = task_state(false);
		if (t && t->sys.op && t->sys_sp == f.sp)
			end_sys(t, t->sys.op, (long)r[SYS_NARGS]);
		return 1;
	}
	t = sys_task(f.sp);
	if (t && begin_sys(t, op, r, &f))
		end_sys(t, op, (long)r[SYS_NARGS]);
	return 1;
}

/* The syscall tracepoints trace the process's mmap domain. */
static struct hs_task *tp_task(__u32 tgid)
{
	struct hs_task *t;
	__u32 *slot;

	if (!trace_mmap)
		return NULL;
	if (!mmap_sys_all && !bpf_map_lookup_elem(&mmap_sys_procs, &tgid))
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
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 op = nr_op(nr);

	return task->thread_info.status & HS_TS_COMPAT ? 0 : op;
}

/* Every syscall's entry: the four calls of the domain note what they ask. */
static __always_inline int mmap_sys_enter(struct pt_regs *regs, long nr)
{
	__u32 op = map_op(nr);
	struct hs_frame0 f = { 0 };
	struct pt_regs *uregs;
	__u64 a[SYS_NARGS];
	struct hs_task *t;

	if (!op || !trace_mmap)
		return 0;
	t = tp_task(bpf_get_current_pid_tgid() >> 32);
	if (!t)
		return 0;
	/* syscall arguments: rdi, rsi, rdx, r10, r8 */
	a[SYS_A0] = regs->di;
	a[SYS_A1] = op == HS_MAP_BRK ? 0 : regs->si;
	a[SYS_A2] = op == HS_MAP_MREMAP ? regs->dx : 0;
	a[SYS_FLAGS] = op == HS_MAP_MMAP ? regs->r10 : 0;
	a[SYS_FD] = op == HS_MAP_MMAP ? regs->r8 : -1;
	uregs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	f.sp = BPF_CORE_READ(uregs, sp);
	f.fp = BPF_CORE_READ(uregs, bp);
	begin_sys(t, op, a, &f);
	return 0;
}

/* Every syscall's exit: a domain call that worked goes to user space. */
static __always_inline int mmap_sys_exit(struct pt_regs *regs, long ret)
{
	__u32 op = map_op(regs->orig_ax);
	struct hs_task *t;

	if (!op || !trace_mmap)
		return 0;
	t = task_state(false);
	if (t)
		end_sys(t, op, ret);
	return 0;
}

#endif
