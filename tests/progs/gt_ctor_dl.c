// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Loaded with dlopen(): its constructor allocates, and so does dl_alloc(). */
#include <stdlib.h>

void *volatile dl_keep[2];

__attribute__((noinline)) static void dl_ctor_site(void)
{
	dl_keep[0] = malloc(7003);
}

__attribute__((constructor)) static void dl_ctor(void)
{
	dl_ctor_site();
	dl_keep[1] = dl_keep[1]; /* no tail call: the frame stays */
}

__attribute__((noinline)) void dl_alloc(void);

__attribute__((noinline)) void dl_alloc(void)
{
	dl_keep[1] = malloc(7004);
}
