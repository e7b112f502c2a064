// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A library without frame pointers that calls back into its caller. */
int lib_line;

__attribute__((noinline)) void lib_through(void (*cb)(void));

__attribute__((noinline)) void lib_through(void (*cb)(void))
{
	lib_line = __LINE__; cb();
	lib_line += 0; /* no tail call: the frame stays */
}
