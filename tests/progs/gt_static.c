// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Linked statically (and a stripped copy): its malloc is inside it. With
 * "wait", it stays up until EOF on stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink;

int main(int argc, char **argv)
{
	char c;

	sink = malloc(1234);
	printf("static done\n");
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "wait"))
		while (read(0, &c, 1) > 0)
			;
	return 0;
}
