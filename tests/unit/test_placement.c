// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Probe placement on the prologues of glibc 2.36 and libstdc++ functions. */
#include "placement.h"
#include "test.h"

#define ARGS1 (HS_NEED_ARG0 | HS_NEED_STACK)
#define ARGS3 (HS_NEED_ARG0 | HS_NEED_ARG1 | HS_NEED_ARG2 | HS_NEED_STACK)

static uint64_t place(const uint8_t *code, size_t len, unsigned int needs)
{
	struct hs_placement pl;

	hs_place_probe(code, len, needs, &pl);
	printf("# %s\n", pl.why);
	return pl.delta;
}

/* test %rdi,%rdi; je ...; push %rbp: the je is emulated, %rdi unchanged */
static void test_free_moves_to_the_je(void)
{
	static const uint8_t free_[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf,
					 0x00, 0x00, 0x00, 0x55, 0x48, 0x8d };

	ASSERT_EQ(place(free_, sizeof(free_), HS_NEED_ARG0), 3, "free");
}

/* cmpb $0,__malloc_initialized(%rip); push %r12 */
static void test_posix_memalign_moves_to_the_push(void)
{
	static const uint8_t pm[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00,
				      0x00, 0x41, 0x54, 0x49, 0x89, 0xd4 };

	ASSERT_EQ(place(pm, sizeof(pm), ARGS3), 7, "posix_memalign");
}

/* mov %rsi,%rax; mul %rdx: the mul changes an argument: stay at +0 */
static void test_reallocarray_stays_at_entry(void)
{
	static const uint8_t ra[] = { 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2,
				      0x48, 0x89, 0xc6, 0x70, 0x05 };

	ASSERT_EQ(place(ra, sizeof(ra), ARGS3), 0, "reallocarray");
}

/* push %r12 at +0 is emulated already */
static void test_malloc_stays_at_its_push(void)
{
	static const uint8_t m[] = { 0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb };

	ASSERT_EQ(place(m, sizeof(m), ARGS1), 0, "malloc");
}

/* endbr64; test; mov $1,%eax; push %rbx: %eax is no argument */
static void test_operator_new_skips_endbr64(void)
{
	static const uint8_t nw[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85,
				      0xff, 0xb8, 0x01, 0x00, 0x00, 0x00,
				      0x53, 0x48, 0x0f, 0x45 };

	ASSERT_EQ(place(nw, sizeof(nw), ARGS1), 12, "operator new");
}

/* endbr64; sub $8,%rsp: the stack moves before any emulated instruction */
static void test_stack_change_stays_at_entry(void)
{
	static const uint8_t nt[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83,
				      0xec, 0x08, 0xe8, 0x13, 0x03, 0xff, 0xff };

	ASSERT_EQ(place(nt, sizeof(nt), ARGS1), 0, "nothrow new");
	/* free needs no stack: the same code moves to the call */
	ASSERT_EQ(place(nt, sizeof(nt), HS_NEED_ARG0), 8, "without stack");
}

/* an indirect jump is a branch the kernel steps: no further */
static void test_indirect_branch_stops(void)
{
	static const uint8_t ij[] = { 0x48, 0x85, 0xff, 0xff, 0xe0, 0x55 };

	ASSERT_EQ(place(ij, sizeof(ij), HS_NEED_ARG0), 0, "jmp *%rax");
}

static void test_five_byte_nop_is_optimized(void)
{
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55 };
	struct hs_placement pl;

	hs_place_probe(nop5, sizeof(nop5), ARGS1, &pl);
	ASSERT_EQ(pl.delta, 0, "nop5");
	ASSERT_TRUE(strstr(pl.why, "optimized") != NULL, "nop5 reason");
}

static void test_truncated_code_falls_back(void)
{
	static const uint8_t half[] = { 0x48, 0x85 };

	ASSERT_EQ(place(half, sizeof(half), HS_NEED_ARG0), 0, "truncated");
	ASSERT_EQ(place(half, 0, HS_NEED_ARG0), 0, "empty");
}

int main(void)
{
	RUN_TEST(test_free_moves_to_the_je);
	RUN_TEST(test_posix_memalign_moves_to_the_push);
	RUN_TEST(test_reallocarray_stays_at_entry);
	RUN_TEST(test_malloc_stays_at_its_push);
	RUN_TEST(test_operator_new_skips_endbr64);
	RUN_TEST(test_stack_change_stays_at_entry);
	RUN_TEST(test_indirect_branch_stops);
	RUN_TEST(test_five_byte_nop_is_optimized);
	RUN_TEST(test_truncated_code_falls_back);
	return TEST_EXIT();
}
