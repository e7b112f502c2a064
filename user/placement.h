/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Where in a function to put its entry probe. The kernel emulates a few
 * instructions at a probe (push, nop, jmp, jcc, call) and single-steps the
 * rest out of line, which costs a second trap. A probe may move from the
 * function's first instruction to the first emulated one of its
 * straight-line prefix, as long as nothing before it changed what the BPF
 * program reads there.
 */
#ifndef HEAPSNAP_PLACEMENT_H
#define HEAPSNAP_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the program at the probe reads and what must still hold there. */
enum hs_needs {
	HS_NEED_ARG0 = 1 << 0,
	HS_NEED_ARG1 = 1 << 1,
	HS_NEED_ARG2 = 1 << 2,
	HS_NEED_STACK = 1 << 3, /* %rsp and %rbp: return address, frame chain */
	HS_NEED_ARG3 = 1 << 4,
	HS_NEED_ARG4 = 1 << 5,
	HS_NEED_ARG5 = 1 << 6,
};

struct hs_placement {
	uint64_t delta; /* bytes past the function's start */
	char why[256]; /* for record -v */
};

/*
 * Decides where to probe the function whose first bytes are code[0..len)
 * (len may stop short of the function's end). Never fails: the fallback is
 * the function's start.
 */
void hs_place_probe(const uint8_t *code, size_t len, unsigned int needs,
		    struct hs_placement *out);

/* The instruction code[0..len) is one the kernel runs a probe on in a trap. */
bool hs_insn_emulated(const uint8_t *code, size_t len);

#endif
