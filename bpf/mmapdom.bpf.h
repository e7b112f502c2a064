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

/* What a call asks, in the syscall's order: kept in t->sys until it ends. */
static __always_inline void sys_args(struct hs_task *t, __u64 a0, __u64 a1,
				     __u64 a2)
{
	t->sys.op = 0;
	t->sys.a0 = a0;
	t->sys.a1 = a1;
	t->sys.a2 = a2;
}

/* An mmap of these flags and fd is the domain's: anonymous, no stack. */
static __always_inline bool anon_map(__u64 flags, long fd)
{
	return (flags & (HS_MAP_ANONYMOUS | HS_MAP_STACK)) ==
		       HS_MAP_ANONYMOUS &&
	       (int)fd == -1;
}

/*
 * A call whose arguments are in t->sys (sys_args()) begins on thread t at
 * frame f, with the stack of the calls that make a mapping. False when it
 * is not the domain's: the allocator's own, a query of the break, a mapping
 * that is not anonymous (!anon) or is a thread's stack.
 */
static __always_inline bool begin_sys(struct hs_task *t, __u32 op, bool anon,
				      struct hs_frame0 *f, __u64 pc)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct hs_proc_val *p;

	t->sys.op = 0;
	t->sys_sp = f->sp; /* the call's own, before a wrapper's replaces it */
	/* brk(0) asks for the break (sbrk's first call does): no change */
	if (op == HS_MAP_BRK && !t->sys.a0)
		return false;
	/* libc's wrappers of these calls (sbrk...) may be probed */
	start_frame(t, f);
	if (op == HS_MAP_MMAP && !anon)
		return false;
	p = get_proc(&t->proc, tgid);
	if (!p)
		return false;
	t->sys.op = op;
	t->sys.tgid = tgid;
	t->sys.tid = (__u32)id;
	t->sys.stack = 0;
	t->sys.total_nframe = 0;
	if (op == HS_MAP_BRK) {
		struct task_struct *task = bpf_get_current_task_btf();

		t->sys.a0 = BPF_CORE_READ(task, mm, brk);
	}
	if (op == HS_MAP_MUNMAP)
		return true;
	/* not in a wrapper: the walk starts where the call was made */
	if (pc && !f->ret)
		t->walk.start_pc = pc;
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
	struct hs_frame0 f = { .sp = PT_REGS_SP(ctx), .fp = PT_REGS_FP(ctx) };
	__u32 op = HS_COOKIE_SYS_OP(cookie);
	struct hs_task *t;
	__u64 nr = ctx->di;
	bool anon = true;

	barrier_var(nr);
	if (op == HS_SYS_ANY)
		op = nr_op((long)nr);
	if (!op)
		return 1;
	t = sys_task(f.sp);
	if (!t)
		return 1;
	if (HS_COOKIE_SYS_OP(cookie) == HS_SYS_ANY) {
		/* syscall(nr, ...): the rest shift by one */
		sys_args(t, ctx->si, ctx->dx, ctx->cx);
		anon = anon_map(ctx->r8, (long)ctx->r9);
	} else if (op == HS_SYS_EARLY) { /* _dl_early_allocate(size) */
		op = HS_MAP_MMAP;
		sys_args(t, 0, ctx->di, 0);
	} else {
		sys_args(t, ctx->di, ctx->si, ctx->dx);
		anon = anon_map(ctx->cx, (long)ctx->r8);
	}
	barrier_var(anon);
	if (!begin_sys(t, op, anon, &f, 0))
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
	struct hs_frame0 f = {
		.sp = PT_REGS_SP(ctx) + 8 * HS_COOKIE_SYS_SP(cookie),
		.fp = PT_REGS_FP(ctx),
	};
	__u32 op = HS_COOKIE_SYS_OP(cookie);
	long ret = (long)ctx->ax;
	struct hs_task *t;
	bool anon;

	barrier_var(ret);
	if (op == HS_SYS_ANY || op == HS_MAP_BRK) {
		t = task_state(false);
		if (t && t->sys.op && t->sys_sp == f.sp)
			end_sys(t, t->sys.op, ret);
		return 1;
	}
	t = sys_task(f.sp);
	if (!t)
		return 1;
	sys_args(t, ctx->di, ctx->si, ctx->dx);
	anon = anon_map(ctx->r10, (long)ctx->r8);
	barrier_var(anon);
	if (begin_sys(t, op, anon, &f, 0))
		end_sys(t, op, ret);
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
	struct hs_task *t;

	if (!op || !trace_mmap)
		return 0;
	t = tp_task(bpf_get_current_pid_tgid() >> 32);
	if (!t)
		return 0;
	/* syscall arguments: rdi, rsi, rdx, r10, r8 */
	sys_args(t, regs->di, op == HS_MAP_BRK ? 0 : regs->si,
		 op == HS_MAP_MREMAP ? regs->dx : 0);
	uregs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	f.sp = BPF_CORE_READ(uregs, sp);
	f.fp = BPF_CORE_READ(uregs, bp);
	begin_sys(t, op, anon_map(regs->r10, (long)regs->r8), &f,
		  BPF_CORE_READ(uregs, ip));
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

/* The mmap domain's functions probed in each file. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct hs_file_key);
	__type(value, struct hs_mmap_funcs);
	__uint(max_entries, 1024);
} mmap_funcs SEC(".maps");

#define HS_PAGE_SHIFT 12

/* What maps an address: a file (where in it, its name), or nothing. */
struct vma_at {
	__u64 addr;
	struct hs_file_key key;
	__u64 off;
	bool mapped;
	bool file;
	char name[16];
};

static long vma_at_cb(struct task_struct *task, struct vm_area_struct *vma,
		      void *data)
{
	struct vma_at *w = data;
	struct file *f = vma->vm_file;

	w->mapped = true;
	if (!f)
		return 0;
	w->file = true;
	w->key.ino = BPF_CORE_READ(f, f_inode, i_ino);
	w->key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	w->off = w->addr - vma->vm_start + (vma->vm_pgoff << HS_PAGE_SHIFT);
	bpf_probe_read_kernel_str(w->name, sizeof(w->name),
				  BPF_CORE_READ(f, f_path.dentry, d_name.name));
	return 0;
}

static __always_inline void vma_at(struct task_struct *task, __u64 addr,
				   struct vma_at *w)
{
	__builtin_memset(w, 0, sizeof(*w));
	w->addr = addr;
	bpf_find_vma(task, addr, vma_at_cb, w, 0);
}

static long in_range_cb(__u32 i, void *data)
{
	struct {
		struct hs_mmap_funcs *fs;
		__u64 off;
		bool in;
	} *c = data;

	if (i >= c->fs->n || i >= HS_MMAP_FUNCS_MAX)
		return 1;
	if (c->off >= c->fs->r[i].lo && c->off < c->fs->r[i].hi) {
		c->in = true;
		return 1;
	}
	return 0;
}

static __always_inline bool starts(const char *s, const char *with, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != with[i])
			return false;
	return true;
}

/*
 * Is the code at ip in one of the domain's probed functions, or in the
 * dynamic loader (whose anonymous mappings, libraries' zeroed data and its
 * early heap, are not the program's)?
 */
static __always_inline bool probed_code(struct task_struct *task, __u64 ip)
{
	struct {
		struct hs_mmap_funcs *fs;
		__u64 off;
		bool in;
	} c = { 0 };
	struct vma_at w;

	vma_at(task, ip, &w);
	if (!w.file)
		return false;
	if (starts(w.name, "ld-linux", 8) || starts(w.name, "ld-musl", 7) ||
	    starts(w.name, "ld.so", 5))
		return true;
	c.fs = bpf_map_lookup_elem(&mmap_funcs, &w.key);
	if (!c.fs)
		return false;
	c.off = w.off;
	bpf_loop(HS_MMAP_FUNCS_MAX, in_range_cb, &c, 0);
	return c.in;
}

/*
 * Where the mmap domain is probed in libc, a call of the domain made from
 * other code (a raw syscall instruction, another libc) is not seen: the
 * kernel is about to take the address space's lock for writing in one of
 * the domain's syscalls; when the call would be the domain's and its
 * syscall instruction is in no probed function, it is counted. Other
 * processes pay one compare per lock taken for writing, not per syscall.
 */
static __always_inline int mmap_unseen(struct mm_struct *mm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *regs;
	struct hs_task *t;
	struct vma_at w;
	__u64 a0, ip;
	__u32 op;

	if (!trace_mmap || mmap_sys_all || task->mm != mm)
		return 0;
	if (!bpf_map_lookup_elem(&procs, &tgid) && !track_all)
		return 0;
	if (tgid == ignore_tgid || bpf_map_lookup_elem(&mmap_sys_procs, &tgid))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	op = map_op(BPF_CORE_READ(regs, orig_ax));
	if (!op)
		return 0;
	t = task_state(false);
	if (t && t->depth && BPF_CORE_READ(regs, sp) <= t->entry_sp)
		return 0; /* the allocator's own */
	a0 = BPF_CORE_READ(regs, di);
	switch (op) {
	case HS_MAP_MMAP:
		if ((BPF_CORE_READ(regs, r10) &
		     (HS_MAP_ANONYMOUS | HS_MAP_STACK)) != HS_MAP_ANONYMOUS ||
		    (int)BPF_CORE_READ(regs, r8) != -1)
			return 0;
		break;
	case HS_MAP_BRK:
		if (!a0)
			return 0;
		break;
	default: /* a file's mapping, or none, is not the domain's */
		vma_at(task, a0, &w);
		if (!w.mapped || w.file)
			return 0;
	}
	ip = BPF_CORE_READ(regs, ip);
	if (!probed_code(task, ip))
		__sync_fetch_and_add(&global.c.mmap_calls_unseen, 1);
	return 0;
}

#endif
