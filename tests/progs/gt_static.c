// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Linked statically (and a stripped copy): its malloc is inside it. */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

int main(void)
{
	sink = malloc(1234);
	printf("static done\n");
	return 0;
}
