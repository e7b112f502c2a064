/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Where to probe libc's functions of the mmap domain: just after their
 * syscall instruction, where %rax holds the result and the syscall's
 * registers still hold its arguments. One emulated hit then sees the whole
 * call, with no return probe (whose return, on this kernel, is a syscall of
 * its own) and no single-stepped entry (their first instructions are moves).
 */
#ifndef HEAPSNAP_SYSPLACE_H
#define HEAPSNAP_SYSPLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_sys_place {
	uint64_t delta; /* bytes past the function's start */
	uint32_t sp_words; /* the return address is at %rsp + 8 * sp_words */
	char why[256]; /* for record -v, or why there is no such place */
};

/* The syscall's argument registers a probe after it reads, besides %rax. */
enum hs_sys_regs {
	HS_SYS_RDI = 1 << 0,
	HS_SYS_RSI = 1 << 1,
	HS_SYS_RDX = 1 << 2,
	HS_SYS_R10 = 1 << 3,
	HS_SYS_R8 = 1 << 4,
};

/*
 * In the whole function code[0..len): the one syscall instruction made with
 * %eax = nr (any number when nr < 0), reached on every path with one %rsp
 * and the caller's %rbp, and the first emulated instruction after it that
 * only that syscall leads to, with regs, %rax, %rsp and %rbp as it left
 * them. False, with out->why, when there is none.
 */
bool hs_place_after_syscall(const uint8_t *code, size_t len, int nr,
			    unsigned int regs, struct hs_sys_place *out);

#endif
