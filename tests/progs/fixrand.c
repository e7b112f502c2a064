// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * LD_PRELOAD shim for the symlink test: getrandom() returns 0, 1, 2, ... so
 * that the temporary file names heapsnap picks can be predicted.
 */
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags);

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	static unsigned int n;
	unsigned int v = n++;

	(void)flags;
	memset(buf, 0, len);
	memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	return (ssize_t)len;
}
