/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Tables for the BPF byte sampler: BPF has no floating point, so the
 * exponential gaps between samples and the weight of a sampled block are
 * precomputed here and read from .rodata.
 */
#ifndef HEAPSNAP_SAMPLING_H
#define HEAPSNAP_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

/* Quantiles (i + 0.5) / n of Exp(1), in 1/65536. */
void hs_sampling_gaps(uint32_t *gaps, size_t n);

/* x / (1 - e^-x) at x = i / steps for i = 0..n-1, in 1/65536. */
void hs_sampling_weights(uint32_t *weights, size_t n, unsigned int steps);

#endif
