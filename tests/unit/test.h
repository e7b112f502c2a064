/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A minimal test harness in the spirit of the kernel's test_progs: each
 * ASSERT prints the values it compared when it fails, and each test prints
 * one PASS or FAIL line that tests/run counts.
 */
#ifndef HEAPSNAP_TEST_H
#define HEAPSNAP_TEST_H

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed;
static int tests_failed;

#define ASSERT_TRUE(cond, name)                                               \
	({                                                                    \
		int ok_ = !!(cond);                                           \
		if (!ok_) {                                                   \
			fprintf(stderr, "  %s:%d: %s: expected true: %s\n",   \
				__FILE__, __LINE__, name, #cond);             \
			test_failed = 1;                                      \
		}                                                             \
		ok_;                                                          \
	})

#define ASSERT_EQ(got, want, name)                                            \
	({                                                                    \
		long long got_ = (long long)(got), want_ = (long long)(want); \
		int ok_ = got_ == want_;                                      \
		if (!ok_) {                                                   \
			fprintf(stderr, "  %s:%d: %s: got %lld, want %lld\n", \
				__FILE__, __LINE__, name, got_, want_);       \
			test_failed = 1;                                      \
		}                                                             \
		ok_;                                                          \
	})

#define ASSERT_STREQ(got, want, name)                                         \
	({                                                                    \
		const char *got_ = (got), *want_ = (want);                    \
		int ok_ = got_ && want_ ? !strcmp(got_, want_) : got_ == want_; \
		if (!ok_) {                                                   \
			fprintf(stderr, "  %s:%d: %s: got \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, name,                     \
				got_ ? got_ : "(null)",                       \
				want_ ? want_ : "(null)");                    \
			test_failed = 1;                                      \
		}                                                             \
		ok_;                                                          \
	})

#define RUN_TEST(fn)                                                          \
	do {                                                                  \
		test_failed = 0;                                              \
		fn();                                                         \
		printf("%s %s\n", test_failed ? "FAIL" : "PASS", #fn);        \
		tests_failed += test_failed;                                  \
	} while (0)

#define TEST_EXIT() (tests_failed ? 1 : 0)

/* Why the running test was skipped; NULL when it ran. */
static const char *skip_reason __attribute__((unused));

/* RUN_TEST for a test that may set skip_reason and return. */
#define RUN_SKIPPABLE(fn)                                                      \
	do {                                                                   \
		skip_reason = NULL;                                            \
		test_failed = 0;                                               \
		fn();                                                          \
		if (skip_reason && !test_failed) {                             \
			printf("SKIP %s: %s\n", #fn, skip_reason);             \
		} else {                                                       \
			printf("%s %s\n", test_failed ? "FAIL" : "PASS", #fn); \
			tests_failed += test_failed;                           \
		}                                                              \
	} while (0)

/* dir/name, in one of four buffers: the last four results stay valid. */
static inline const char *path_in(const char *dir, const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];

	if (snprintf(p, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
	return p;
}

#endif
