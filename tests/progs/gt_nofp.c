// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Built -O2 -fomit-frame-pointer, like most distribution binaries: only
 * call-frame tables can walk its stacks. Three chains, each printed as
 *   TB <chain> <function> <line>
 * frame 0 first: main -> level1 -> level2 -> site; main -> lib_through
 * (a library without frame pointers) -> site2; and main -> dl_through (a
 * dlopen()ed one) -> site3.
 */
#include "gt.h"

extern int lib_line;
void lib_through(void (*cb)(void));

static int tb[3][4];

__attribute__((noinline)) static void site(void)
{
	tb[0][0] = __LINE__; gt_sink = TRACK(malloc(4242), 4242);
}

__attribute__((noinline)) static void level2(void)
{
	tb[0][1] = __LINE__; site();
	gt_sink = NULL;
}

__attribute__((noinline)) static void level1(void)
{
	tb[0][2] = __LINE__; level2();
	gt_sink = NULL;
}

__attribute__((noinline)) static void site2(void)
{
	tb[1][0] = __LINE__; gt_sink = TRACK(malloc(5353), 5353);
}

__attribute__((noinline)) static void site3(void)
{
	tb[2][0] = __LINE__; gt_sink = TRACK(malloc(6464), 6464);
}

static void (*dl_through)(void (*)(void));
static int *dl_line;

static void load(void)
{
	void *h = gt_dlopen_beside("libgtnofp_dl.so");

	*(void **)&dl_through = dlsym(h, "dl_through");
	dl_line = dlsym(h, "dl_line");
}

int main(int argc, char **argv)
{
	static const char *const names[3][4] = {
		{ "site", "level2", "level1", "main" },
		{ "site2", "lib_through", "main", NULL },
		{ "site3", "dl_through", "main", NULL },
	};
	int wait = argc > 1 && !strcmp(argv[1], "wait");

	gt_checkpoint(0, wait);
	tb[0][3] = __LINE__; level1();
	tb[1][2] = __LINE__; lib_through(site2);
	tb[1][1] = lib_line;
	load();
	/* heapsnap learns of the new library through the side-band */
	usleep(300 * 1000);
	tb[2][2] = __LINE__; dl_through(site3);
	tb[2][1] = *dl_line;
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < 4 && names[c][i]; i++)
			printf("TB %d %s %d\n", c, names[c][i], tb[c][i]);
	gt_checkpoint(1, wait);
	return 0;
}
