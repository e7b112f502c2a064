/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Growing arrays by doubling. */
#ifndef HEAPSNAP_GROW_H
#define HEAPSNAP_GROW_H

#include <stddef.h>

/*
 * Grows the array *arr (arr is the address of the array pointer) of
 * capacity *cap to hold at least need elements of elem bytes. Returns 0, or
 * -ENOMEM when memory ran out, and *arr and *cap are then unchanged.
 */
int hs_grow(void *arr, size_t *cap, size_t need, size_t elem);

/* hs_grow(), with the new elements zeroed. */
int hs_grow_zeroed(void *arr, size_t *cap, size_t need, size_t elem);

/*
 * Appends one zeroed element to the array *arr of *n elements and capacity
 * *cap, and counts it in *n. Returns the element, or NULL when memory ran
 * out (*arr, *n and *cap are then unchanged).
 */
void *hs_grow_append(void *arr, size_t *n, size_t *cap, size_t elem);

#endif
