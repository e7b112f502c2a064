// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Arrays grown by doubling: capacities, kept contents, zeroed appends. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "grow.h"

static void test_grow(void)
{
	size_t cap = 0;
	int *v = NULL;

	ASSERT_EQ(hs_grow(&v, &cap, 0, sizeof(*v)), 0, "nothing needed");
	ASSERT_TRUE(!v && !cap, "nothing allocated");
	ASSERT_EQ(hs_grow(&v, &cap, 1, sizeof(*v)), 0, "one");
	ASSERT_EQ(cap, 16, "starts at 16");
	for (int i = 0; i < 16; i++)
		v[i] = i;
	ASSERT_EQ(hs_grow(&v, &cap, 100, sizeof(*v)), 0, "a hundred");
	ASSERT_EQ(cap, 128, "doubled until it holds them");
	ASSERT_EQ(v[15], 15, "contents kept");
	ASSERT_EQ(hs_grow(&v, &cap, SIZE_MAX / 2, sizeof(*v)), -ENOMEM,
		  "too large");
	ASSERT_EQ(hs_grow(&v, &cap, SIZE_MAX, 1), -ENOMEM,
		  "no doubling holds it");
	ASSERT_EQ(cap, 128, "unchanged on failure");
	free(v);
}

static void test_append(void)
{
	struct item {
		int a, b;
	} *v = NULL, *e;
	size_t n = 0, cap = 0;

	for (int i = 0; i < 40; i++) {
		e = hs_grow_append(&v, &n, &cap, sizeof(*v));
		if (!ASSERT_TRUE(e, "appended"))
			break;
		ASSERT_TRUE(e == &v[i] && !e->a && !e->b, "the next, zeroed");
		e->a = i;
		e->b = -1;
	}
	ASSERT_EQ(n, 40, "counted");
	ASSERT_EQ(cap, 64, "capacity");
	ASSERT_EQ(v[39].a, 39, "kept");
	n = 1; /* what was after it is stale, and is zeroed again */
	e = hs_grow_append(&v, &n, &cap, sizeof(*v));
	ASSERT_TRUE(e && !e->a && !e->b && n == 2, "reused slot zeroed");
	free(v);
}

int main(void)
{
	RUN_TEST(test_grow);
	RUN_TEST(test_append);
	return TEST_EXIT();
}
