// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Built -O2 -fomit-frame-pointer: allocations where the stack is young or
 * the code new. Each block has a size of its own; the program prints
 *   CT <bytes> <function of frame 0> <bottom>
 * for each, where <bottom> is the function its stack starts in. Blocks:
 * the program's own static constructor (run by libc), a C++ library's
 * static constructor (run by the dynamic loader at start-up), a dlopen()ed
 * library's constructor and a call into it right after dlopen() (no pause:
 * its table must be there in time), a thread, and main.
 */
#include "gt.h"

void *volatile ct_keep[8];
extern void *volatile lib_keep; /* libgtctor.so's: it stays linked */

__attribute__((noinline)) static void exe_ctor_site(void)
{
	ct_keep[0] = malloc(7001);
}

__attribute__((constructor)) static void exe_ctor(void)
{
	exe_ctor_site();
	ct_keep[7] = NULL; /* no tail call: the frame stays */
}

__attribute__((noinline)) static void *thread_site(void *arg)
{
	ct_keep[4] = malloc(7005);
	return arg;
}

__attribute__((noinline)) static void main_site(void)
{
	ct_keep[5] = malloc(7006);
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "wait");
	void (*dl_alloc)(void);
	pthread_t t;
	char line[16];

	if (!lib_keep)
		return 3;
	*(void **)&dl_alloc =
		dlsym(gt_dlopen_beside("libgtctor_dl.so"), "dl_alloc");
	dl_alloc();
	if (pthread_create(&t, NULL, thread_site, NULL) || pthread_join(t, NULL))
		return 2;
	main_site();
	printf("CT 7001 exe_ctor_site __libc_start_main_impl\n");
	printf("CT 7002 lib_ctor_site() _dl_start_user\n");
	printf("CT 7003 dl_ctor_site __libc_start_call_main\n");
	printf("CT 7004 dl_alloc __libc_start_call_main\n");
	printf("CT 7005 thread_site clone3\n");
	printf("CT 7006 main_site __libc_start_call_main\n");
	printf("READY 1\n");
	fflush(stdout);
	if (wait && !fgets(line, sizeof(line), stdin))
		clearerr(stdin);
	return 0;
}
