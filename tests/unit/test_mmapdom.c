// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The mmap domain's region bookkeeping: splits, moves, brk, exec. */
#include <stdlib.h>

#include "mmapdom.h"
#include "test.h"

static void ev(struct hs_mmapdom *d, uint32_t op, uint64_t a0, uint64_t a1,
	       uint64_t a2, uint64_t ret, uint64_t stack, uint64_t time)
{
	struct hs_map_event e = { .op = op, .tgid = 7, .tid = 8, .a0 = a0,
				  .a1 = a1, .a2 = a2, .ret = ret,
				  .stack = stack, .time_ns = time };

	hs_mmapdom_apply(d, &e);
}

/* The regions of pid 7 as "start+size@stack" pairs, in address order. */
static struct hs_raw regions(struct hs_mmapdom *d)
{
	struct hs_raw raw = { 0 };

	if (hs_mmapdom_collect(d, 7, &raw))
		abort();
	return raw;
}

static void test_partial_unmaps_split_and_trim(void)
{
	struct hs_mmapdom *d = hs_mmapdom_new();
	struct hs_counters c;
	struct hs_raw raw;

	ev(d, HS_MAP_MMAP, 0, 0x10000, 0, 0x100000, 1, 1);
	ev(d, HS_MAP_MUNMAP, 0x104000, 0x4000, 0, 0, 0, 2); /* middle */
	ev(d, HS_MAP_MUNMAP, 0x100000, 0x1000, 0, 0, 0, 3); /* head */
	ev(d, HS_MAP_MUNMAP, 0x10f000, 0x2000, 0, 0, 0, 4); /* tail, past it */
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 2, "two pieces");
	ASSERT_EQ(raw.traces[0].addr, 0x101000, "head trimmed");
	ASSERT_EQ(raw.traces[0].size, 0x3000, "head piece");
	ASSERT_EQ(raw.traces[1].addr, 0x108000, "after the hole");
	ASSERT_EQ(raw.traces[1].size, 0x7000, "tail trimmed");
	ASSERT_EQ(raw.traces[1].stack, 1, "pieces keep their stack");
	ASSERT_EQ(raw.traces[1].domain, HS_DOMAIN_MMAP, "domain");
	hs_mmapdom_counters(d, 7, &c);
	ASSERT_EQ(c.current, 0xa000, "current");
	ASSERT_EQ(c.count, 2, "count");
	ASSERT_EQ(c.peak, 0x10000, "peak");
	free(raw.traces);

	/* one munmap across both pieces and unknown space */
	ev(d, HS_MAP_MUNMAP, 0, 0x200000, 0, 0, 0, 5);
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 0, "all gone");
	hs_mmapdom_counters(d, 7, &c);
	ASSERT_EQ(c.current, 0, "current after");
	ASSERT_EQ(c.count, 0, "count after");
	free(raw.traces);
	hs_mmapdom_free(d);
}

static void test_mremap_moves_and_fixed_replaces(void)
{
	struct hs_mmapdom *d = hs_mmapdom_new();
	struct hs_raw raw;

	ev(d, HS_MAP_MMAP, 0, 0xa000, 0, 0x200000, 1, 1);
	ev(d, HS_MAP_MREMAP, 0x200000, 0xa000, 0x64000, 0x300000, 2, 2);
	/* an mremap of memory we never saw (the allocator's) is ignored */
	ev(d, HS_MAP_MREMAP, 0x900000, 0x1000, 0x2000, 0x900000, 3, 3);
	/* MAP_FIXED over the middle of the moved region */
	ev(d, HS_MAP_MMAP, 0x310000, 0x1000, 0, 0x310000, 4, 4);
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 3, "split by the fixed map");
	ASSERT_EQ(raw.traces[0].addr, 0x300000, "moved");
	ASSERT_EQ(raw.traces[0].size, 0x10000, "before the fixed map");
	ASSERT_EQ(raw.traces[0].stack, 2, "the mremap's call site");
	ASSERT_EQ(raw.traces[1].stack, 4, "the fixed map");
	ASSERT_EQ(raw.traces[2].size, 0x64000 - 0x11000, "after it");
	free(raw.traces);
	hs_mmapdom_free(d);
}

static void test_brk_and_exec(void)
{
	struct hs_mmapdom *d = hs_mmapdom_new();
	struct hs_counters c;
	struct hs_raw raw;

	ev(d, HS_MAP_BRK, 0x5000000, 0, 0, 0x5002000, 1, 10);
	ev(d, HS_MAP_BRK, 0x5002000, 0, 0, 0x5001000, 0, 11);
	ev(d, HS_MAP_MMAP, 0, 0x1000, 0, 0x700000, 2, 20);
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 2, "brk region and a map");
	ASSERT_EQ(raw.traces[0].size, 0x1000, "brk grew then shrank");
	free(raw.traces);
	hs_mmapdom_exec(d, 7, 15);
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 1, "the old image's region is gone");
	ASSERT_EQ(raw.traces[0].addr, 0x700000, "the new one stays");
	hs_mmapdom_counters(d, 7, &c);
	ASSERT_EQ(c.current, 0x1000, "counters restart");
	free(raw.traces);
	hs_mmapdom_forget(d, 7);
	raw = regions(d);
	ASSERT_EQ(raw.ntraces, 0, "forgotten");
	hs_mmapdom_free(d);
}

int main(void)
{
	RUN_TEST(test_partial_unmaps_split_and_trim);
	RUN_TEST(test_mremap_moves_and_fixed_replaces);
	RUN_TEST(test_brk_and_exec);
	return TEST_EXIT();
}
