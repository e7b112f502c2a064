/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A thread's user stack as the walks read it: a window of it copied at
 * once, and words read through it.
 */
#ifndef HEAPSNAP_STACKWIN_BPF_H
#define HEAPSNAP_STACKWIN_BPF_H

#include "common.bpf.h"

struct hs_stack_window {
	__u64 base; /* user address of w[0] */
	__u64 words; /* words of w[] that are valid */
	__u64 w[HS_STACK_WINDOW];
};

/*
 * The stack is read in windows of HS_STACK_WINDOW words: most frames of a
 * call chain lie within a few hundred bytes, and one read of a window costs
 * about what one read of a frame does.
 */
static bool load_window(struct hs_stack_window *win, __u64 at)
{
	if (!bpf_probe_read_user(win->w, sizeof(win->w), (void *)at)) {
		win->base = at;
		win->words = HS_STACK_WINDOW;
		return true;
	}
	/* near the top of the stack a whole window may not be mapped */
	if (!bpf_probe_read_user(win->w, 2 * sizeof(__u64), (void *)at)) {
		win->base = at;
		win->words = 2;
		return true;
	}
	return false;
}

/* Reads the two words at addr: a frame's saved fp and its return address. */
static bool read_frame(struct hs_stack_window *win, __u64 addr, __u64 *next_fp,
		       __u64 *ret)
{
	__u64 idx = (addr - win->base) / 8;

	if (addr < win->base || idx + 1 >= win->words) {
		if (!load_window(win, addr))
			return false;
		idx = 0;
	}
	barrier_var(idx);
	if (idx >= HS_STACK_WINDOW - 1)
		return false;
	*next_fp = win->w[idx];
	*ret = win->w[idx + 1];
	return true;
}

/* Reads one word of the user stack, through the window. */
static __always_inline bool read_word(struct hs_stack_window *win, __u64 addr,
				      __u64 *val)
{
	__u64 ignore;

	if (addr & 7)
		return bpf_probe_read_user(val, sizeof(*val), (void *)addr) ==
		       0;
	return read_frame(win, addr - 8, &ignore, val);
}

/* A word of the thread's memory: from the stack's window when it is there. */
static __always_inline __u64 stack_u64(struct hs_stack_window *win, __u64 addr)
{
	__u64 idx = (addr - win->base) / 8, v;

	if (addr >= win->base && !(addr & 7) && idx < win->words &&
	    idx < HS_STACK_WINDOW)
		return win->w[idx];
	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

#endif
