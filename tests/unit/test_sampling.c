// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The byte sampler's tables: the gaps between samples and the weights. */
#include <math.h>

#include "heapsnap.h"
#include "sampling.h"
#include "test.h"

static uint32_t gaps[HS_SAMPLE_GAPS];
static uint32_t weights[HS_WEIGHT_POINTS + 1];

/* Quantile (i + 0.5) / n of Exp(1), in 1/65536. */
static double exp_quantile(size_t i, size_t n)
{
	return -log1p(-((double)i + 0.5) / (double)n) * 65536.0;
}

static void test_gaps_are_the_quantiles_of_exp1(void)
{
	size_t n = HS_SAMPLE_GAPS, bad = 0;

	hs_sampling_gaps(gaps, n);
	for (size_t i = 0; i < n; i++)
		if (fabs(gaps[i] - exp_quantile(i, n)) > 0.5)
			bad++;
	ASSERT_EQ(bad, 0, "gaps off their quantile by more than rounding");
	ASSERT_EQ(gaps[0], 8, "first gap: -ln(1 - 0.5/4096)");
	/* the median of Exp(1) is ln 2 */
	ASSERT_TRUE(fabs(gaps[n / 2] / 65536.0 - M_LN2) < 1e-3, "median");
}

static void test_gaps_grow_and_average_one(void)
{
	size_t n = HS_SAMPLE_GAPS, down = 0;
	double sum = 0;

	hs_sampling_gaps(gaps, n);
	for (size_t i = 0; i < n; i++) {
		sum += gaps[i];
		if (i && gaps[i] <= gaps[i - 1])
			down++;
	}
	ASSERT_EQ(down, 0, "gaps strictly increasing");
	/* the mean gap is sample_bytes: Exp(1) has mean 1 */
	ASSERT_TRUE(fabs(sum / n / 65536.0 - 1.0) < 1e-3, "mean gap");
}

static void test_weights_are_x_over_one_minus_exp(void)
{
	size_t n = HS_WEIGHT_POINTS + 1, bad = 0, down = 0;

	hs_sampling_weights(weights, n, HS_WEIGHT_STEPS);
	ASSERT_EQ(weights[0], 65536, "x = 0: the limit 1");
	for (size_t i = 1; i < n; i++) {
		double x = (double)i / HS_WEIGHT_STEPS;

		if (fabs(weights[i] - x / -expm1(-x) * 65536.0) > 0.5)
			bad++;
		if (weights[i] <= weights[i - 1])
			down++;
	}
	ASSERT_EQ(bad, 0, "weights off x / (1 - e^-x) by more than rounding");
	ASSERT_EQ(down, 0, "weights strictly increasing");
	/* a block of sample_bytes is sampled with probability 1 - 1/e */
	ASSERT_EQ(weights[HS_WEIGHT_STEPS], 103676, "x = 1");
	/* 16 * sample_bytes: sampled all but surely, it stands for itself */
	ASSERT_EQ(weights[HS_WEIGHT_POINTS], 16 * 65536, "x = 16");
}

static void test_weights_follow_the_steps(void)
{
	uint32_t coarse[17];

	hs_sampling_weights(weights, HS_WEIGHT_POINTS + 1, HS_WEIGHT_STEPS);
	hs_sampling_weights(coarse, 17, 1);
	for (size_t i = 0; i < 17; i++)
		ASSERT_EQ(coarse[i], weights[i * HS_WEIGHT_STEPS], "same x");
}

int main(void)
{
	RUN_TEST(test_gaps_are_the_quantiles_of_exp1);
	RUN_TEST(test_gaps_grow_and_average_one);
	RUN_TEST(test_weights_are_x_over_one_minus_exp);
	RUN_TEST(test_weights_follow_the_steps);
	return TEST_EXIT();
}
