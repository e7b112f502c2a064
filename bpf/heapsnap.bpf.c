// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The probes: record each block at the allocator's return, erase it at free.
 * Nothing else happens here; user space reads the maps.
 *
 * Two attach mechanisms share the handlers: a uprobe session (one program
 * that runs at entry and, if the entry asks for it, at return) where the
 * kernel has them, and a classic uprobe/uretprobe pair where it does not.
 * The attach cookie says what the probed function is (enum hs_func, and
 * whether it is CPython's: HS_COOKIE_*). An entry handler returns 0 when it
 * needs the return, 1 when it does not (a session then skips the return
 * trap).
 */
#include "alloc.bpf.h"
#include "common.bpf.h"
#include "mmapdom.bpf.h"
#include "procs.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

extern bool bpf_session_is_return(void) __ksym __weak;

/*
 * The arguments of a probed function: after the context of CPython's.
 * Every register is read as it is: the verifier refuses a context read at
 * an offset computed from the cookie.
 */
static __always_inline void get_args(struct pt_regs *ctx, bool py, __u64 *a)
{
	__u64 r[4] = { PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
		       PT_REGS_PARM3(ctx), PT_REGS_PARM4(ctx) };

	barrier_var(r[0]);
	a[0] = py ? r[1] : r[0];
	a[1] = py ? r[2] : r[1];
	a[2] = py ? r[3] : r[2];
}

/* A free: one array read when the block was not sampled. */
static __always_inline int on_free(struct pt_regs *ctx, __u32 tgid,
				   __u32 cookie)
{
	bool py = cookie & HS_COOKIE_PYTHON;
	__u64 sp = PT_REGS_SP(ctx), a[3], ptr;
	struct hs_task *t;

	get_args(ctx, py, a);
	ptr = a[0];
	if (py && ptr)
		py_code_freed(tgid, ptr);
	if (!ptr || (sample_bytes && !maybe_sampled(tgid, ptr)))
		return 1;
	t = entry_task(sp);
	if (!t || t->depth || handed_on(t, ptr, sp))
		return 1;
	if (py)
		record_py_free(t, tgid, ptr, sp, cookie & HS_COOKIE_RAW);
	else
		record_free(t, tgid, ptr);
	return 1;
}

/* A free that hands the block on to another probed free, inside its depth. */
static __always_inline int on_free_nests(struct pt_regs *ctx, __u32 tgid,
					 bool session)
{
	__u64 sp = PT_REGS_SP(ctx);
	struct hs_task *t = entry_task(sp);

	if (!t)
		return 1;
	if (t->depth)
		return nest(t, session);
	record_free(t, tgid, PT_REGS_PARM1(ctx));
	begin_call(t, HS_FN_FREE_NESTS, sp, false);
	return 0;
}

/* A wrapper (operator new...): its caller is the block's frame 0. */
static __always_inline int on_wrapper(struct pt_regs *ctx)
{
	__u64 sp = PT_REGS_SP(ctx);
	struct hs_task *t = entry_task(sp);

	if (t)
		enter_wrapper(t, sp, PT_REGS_FP(ctx));
	return 1; /* no return probe: it never counts in depth */
}

/*
 * malloc and its kin (CPython's too, and pymalloc taking a pool): what is
 * asked, and where from when it is sampled.
 */
static __noinline int on_alloc(struct pt_regs *ctx, __u32 tgid, __u32 cookie,
			       bool session)
{
	__u32 fn = HS_COOKIE_FN(cookie);
	bool py = cookie & HS_COOKIE_PYTHON;
	__u64 sp = PT_REGS_SP(ctx), a[3];
	struct hs_proc_val *p = NULL;
	struct hs_task *t;
	__u64 size;
	bool sampled;

	t = entry_task(sp);
	if (!t)
		return 1;
	if (t->depth)
		return nest(t, session);
	get_args(ctx, py, a);
	if (fn == HS_FN_PY_POOL)
		size = 1ULL << HS_COOKIE_POOL_BITS(cookie);
	else
		size = request_size(fn, a[0], a[1], a[2]);
	sampled = take_sample(&t->sampler, size);
	if (sampled || may_nest(fn))
		p = get_proc(&t->proc, tgid);
	if (!p) {
		t->wrap_sp = 0;
		return 1;
	}
	begin_call(t, fn, sp, sampled);
	if (py)
		t->domain = HS_DOMAIN_PYTHON;
	t->size = size;
	t->arg = is_realloc(fn) || fn == HS_FN_POSIX_MEMALIGN ? a[0] : 0;
	t->stack = 0;
	if (sampled) {
		struct hs_frame0 f = { .sp = sp, .fp = PT_REGS_FP(ctx) };

		start_frame(t, &f);
		t->stack = stack_of(t, &f, tgid, p);
	}
	t->wrap_sp = 0;
	if (is_realloc(fn))
		hold_old(t, tgid);
	return 0;
}

static __always_inline int on_entry(struct pt_regs *ctx, __u32 cookie,
				    bool session)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == ignore_tgid)
		return 1;
	switch (HS_COOKIE_FN(cookie)) {
	case HS_FN_FREE:
		return on_free(ctx, tgid, cookie);
	case HS_FN_FREE_NESTS:
		return on_free_nests(ctx, tgid, session);
	case HS_FN_WRAPPER:
		return on_wrapper(ctx);
	case HS_FN_SYS_ENTRY:
		return mmap_call_entry(ctx, cookie);
	case HS_FN_SYS_AFTER:
		return mmap_call_after(ctx, cookie);
	default:
		return on_alloc(ctx, tgid, cookie, session);
	}
}

/* The return of the outermost allocator call: the block it made. */
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
	p = get_proc(&t->proc, tgid);
	if (!p)
		return 0;
	if (t->fn == HS_FN_POSIX_MEMALIGN) {
		if ((int)ptr != 0 ||
		    bpf_probe_read_user(&ptr, sizeof(ptr), (void *)t->arg))
			ptr = 0;
	}
	/* the block pymalloc returns is in the pool it took */
	if (t->fn == HS_FN_PY_POOL)
		ptr &= ~(t->size - 1);
	/* glibc's realloc(p, 0) frees p and returns NULL */
	if (is_realloc(t->fn))
		release_old(t, tgid, p, ptr || !t->size);
	if (ptr && t->sampled)
		record_alloc(t, tgid, (__u32)id, p, ptr);
	return 0;
}

SEC("uprobe")
int hs_session(struct pt_regs *ctx)
{
	__u32 cookie = bpf_get_attach_cookie(ctx);

	/* the most frequent call first: a free never asks for its return */
	if (HS_COOKIE_FN(cookie) != HS_FN_FREE && bpf_session_is_return()) {
		if (HS_COOKIE_FN(cookie) == HS_FN_SYS_ENTRY)
			return mmap_call_return(ctx);
		return on_return(ctx);
	}
	return on_entry(ctx, cookie, true);
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
	if (HS_COOKIE_FN(bpf_get_attach_cookie(ctx)) == HS_FN_SYS_ENTRY)
		return mmap_call_return(ctx);
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

/* The dynamic loader's debugger hook: a process's modules changed. */
SEC("uprobe")
int hs_loader(struct pt_regs *ctx)
{
	return loader_hook(ctx);
}

/* A traced process replaced its image: what the old one allocated is gone. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(hs_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct hs_proc_val *p = traced_proc(bpf_get_current_pid_tgid() >> 32);

	if (p) {
		restart_counters(p);
		/* the ids threads keep named the old image's code */
		__sync_fetch_and_add(&global.py_code_gen, 1);
	}
	return 0;
}

/*
 * Where the mmap domain is not traced in libc: one program on the raw
 * sys_enter tracepoint for the domain's four calls, and one on sys_exit:
 * attached and detached at once, where a tracepoint per call (eight) took a
 * grace period each to detach. Every other syscall returns at the first
 * compare.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(hs_sys_enter, struct pt_regs *regs, long nr)
{
	return mmap_sys_enter(regs, nr);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(hs_sys_exit, struct pt_regs *regs, long ret)
{
	return mmap_sys_exit(regs, ret);
}

/* The mmap domain's calls made outside the probed code are counted. */
SEC("tp_btf/mmap_lock_start_locking")
int BPF_PROG(hs_mmap_lock, struct mm_struct *mm, bool write)
{
	return write ? mmap_unseen(mm) : 0;
}
