// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Looks like a CPython 3.11 to heapsnap (it exports Py_Version,
 * Py_Initialize, _PyRuntime and _PyEval_EvalFrameDefault) but its runtime
 * is garbage: pointers to unmapped memory, to itself, and cycles. The
 * Python frame walk must find nothing and end, and the native tracebacks
 * must stay exact. Built -rdynamic so that the symbols are in .dynsym.
 */
#include <stdint.h>

#include "gt.h"

const unsigned long Py_Version = 0x030b02f0; /* 3.11.2 final */
/* every word points back into the runtime, or to page 1 */
uintptr_t _PyRuntime[8192];

void Py_Initialize(void)
{
}

__attribute__((noinline)) void *_PyEval_EvalFrameDefault(void *a, void *b)
{
	gt_sink = a;
	return b;
}

static void *keep[16];

__attribute__((noinline)) static void allocate(void)
{
	for (int i = 0; i < 8; i++)
		keep[i] = TRACK(malloc(4096), 4096);
	keep[8] = TRACK(calloc(3, 333), 999);
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	for (size_t i = 0; i < sizeof(_PyRuntime) / sizeof(_PyRuntime[0]);
	     i++)
		_PyRuntime[i] = i % 3 ? (uintptr_t)&_PyRuntime[(i * 7) % 8192] :
					(uintptr_t)4096 + i;
	gt_checkpoint(0, wait);
	allocate();
	gt_checkpoint(1, wait);
	return 0;
}
