// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The same, loaded with dlopen(). */
int dl_line;

__attribute__((noinline)) void dl_through(void (*cb)(void));

__attribute__((noinline)) void dl_through(void (*cb)(void))
{
	dl_line = __LINE__; cb();
	dl_line += 0; /* no tail call: the frame stays */
}
