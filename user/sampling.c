// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Tables for the BPF byte sampler. */
#include <math.h>

#include "sampling.h"

void hs_sampling_gaps(uint32_t *gaps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double q = ((double)i + 0.5) / (double)n;

		gaps[i] = (uint32_t)lround(-log1p(-q) * 65536.0);
	}
}

void hs_sampling_weights(uint32_t *weights, size_t n, unsigned int steps)
{
	weights[0] = 65536; /* the limit at x = 0 */
	for (size_t i = 1; i < n; i++) {
		double x = (double)i / steps;

		weights[i] = (uint32_t)lround(x / -expm1(-x) * 65536.0);
	}
}
