/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* uthash tables whose entries were allocated one by one (handle hh). */
#ifndef HEAPSNAP_HTAB_H
#define HEAPSNAP_HTAB_H

#include <stdlib.h>
#include <uthash.h>

/* Frees every entry of the table at head, which is then empty. */
#define HS_HASH_FREE(head)                            \
	do {                                          \
		__typeof__(head) hs_e_, hs_tmp_;      \
		HASH_ITER(hh, head, hs_e_, hs_tmp_) { \
			HASH_DEL(head, hs_e_);        \
			free(hs_e_);                  \
		}                                     \
	} while (0)

#endif
