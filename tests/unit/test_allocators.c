// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Allocator families, their names, and the code reading behind aliases. */
#include <linux/types.h>

#include "allocators.h"
#include "heapsnap.h"
#include "test.h"

static int kind(enum hs_alloc_family fam, const char *name)
{
	return hs_classify(fam, name).fn;
}

static void test_families_by_marker(void)
{
	ASSERT_EQ(hs_family_marker("mallocx"), HS_FAM_JEMALLOC, "mallocx");
	ASSERT_EQ(hs_family_marker("je_malloc"), HS_FAM_JEMALLOC, "je_malloc");
	ASSERT_EQ(hs_family_marker("tc_malloc"), HS_FAM_TCMALLOC, "tc_malloc");
	ASSERT_EQ(hs_family_marker("mi_malloc"), HS_FAM_MIMALLOC, "mi_malloc");
	ASSERT_EQ(hs_family_marker("malloc"), HS_FAM_LIBC, "malloc");
	ASSERT_STREQ(hs_family_name(HS_FAM_TCMALLOC), "tcmalloc", "name");
}

static void test_standard_names_everywhere(void)
{
	for (int f = 0; f < HS_FAM_COUNT; f++) {
		enum hs_alloc_family fam = (enum hs_alloc_family)f;

		ASSERT_EQ(kind(fam, "malloc"), HS_FN_MALLOC, "malloc");
		ASSERT_EQ(kind(fam, "calloc"), HS_FN_CALLOC, "calloc");
		ASSERT_EQ(kind(fam, "realloc"), HS_FN_REALLOC, "realloc");
		ASSERT_EQ(kind(fam, "free"), HS_FN_FREE, "free");
		ASSERT_EQ(kind(fam, "posix_memalign"), HS_FN_POSIX_MEMALIGN,
			  "posix_memalign");
		ASSERT_EQ(kind(fam, "aligned_alloc"), HS_FN_MEMALIGN,
			  "aligned_alloc");
		ASSERT_TRUE(hs_classify(fam, "_Znwm").or_wrapper, "new");
	}
}

/* Sizes and their queries are no allocations. */
static void test_queries_are_not_probed(void)
{
	ASSERT_EQ(kind(HS_FAM_LIBC, "malloc_usable_size"), -1, "usable");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "sallocx"), -1, "sallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "nallocx"), -1, "nallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "xallocx"), -1, "xallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "malloc_usable_size"), -1, "je usable");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_nallocx"), -1, "tc_nallocx");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_malloc_size"), -1, "tc size");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_usable_size"), -1, "mi usable");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_good_size"), -1, "mi good");
}

static void test_jemalloc_names(void)
{
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "mallocx"), HS_FN_MALLOC, "mallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "rallocx"), HS_FN_REALLOC, "rallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "dallocx"), HS_FN_FREE, "dallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "sdallocx"), HS_FN_FREE, "sdallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "je_sdallocx"), HS_FN_FREE,
		  "je_sdallocx");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "je_malloc"), HS_FN_MALLOC,
		  "je_malloc");
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "_ZdlPvm"), HS_FN_FREE, "sized delete");
	/* they jump to sdallocx, which is probed */
	ASSERT_EQ(kind(HS_FAM_JEMALLOC, "_ZdlPvmSt11align_val_t"), -1,
		  "aligned sized delete");
	/* the prefix is jemalloc's only */
	ASSERT_EQ(kind(HS_FAM_LIBC, "je_malloc"), -1, "je_ in glibc");
	ASSERT_EQ(kind(HS_FAM_LIBC, "mallocx"), -1, "mallocx in glibc");
	ASSERT_EQ(kind(HS_FAM_LIBC, "_ZdlPv"), -1, "libstdc++ delete");
}

static void test_tcmalloc_names(void)
{
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_malloc"), HS_FN_MALLOC,
		  "tc_malloc");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_posix_memalign"),
		  HS_FN_POSIX_MEMALIGN, "tc_posix_memalign");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_pvalloc"), HS_FN_PVALLOC,
		  "tc_pvalloc");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "tc_free_sized"), HS_FN_FREE,
		  "tc_free_sized");
	ASSERT_EQ(kind(HS_FAM_TCMALLOC, "_ZdlPvm"), HS_FN_FREE, "delete");
	ASSERT_TRUE(hs_classify(HS_FAM_TCMALLOC, "tc_new").or_wrapper,
		    "tc_new");
}

static void test_mimalloc_names(void)
{
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_zalloc"), HS_FN_MALLOC, "zalloc");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_mallocn"), HS_FN_CALLOC, "mallocn");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_reallocn"), HS_FN_REALLOCARRAY,
		  "reallocn");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_malloc_aligned"), HS_FN_MALLOC,
		  "malloc_aligned: size first");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_memalign"), HS_FN_MEMALIGN,
		  "memalign: alignment first");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_free_size"), HS_FN_FREE,
		  "free_size");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_heap_malloc"), -1, "heap");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_strdup"), -1, "strdup");
	ASSERT_EQ(kind(HS_FAM_MIMALLOC, "mi_new_n"), HS_FN_CALLOC, "new_n");
}

/* mimalloc's cfree at 0x10f90: jmp mi_free@plt (rel32 to 0x6340) */
static void test_jump_is_a_thunk(void)
{
	static const uint8_t cfree[] = { 0xe9, 0xab, 0x53, 0xff, 0xff, 0x66 };
	uint64_t t = 0;

	ASSERT_TRUE(hs_code_thunk(cfree, sizeof(cfree), 0x10f90, &t), "thunk");
	ASSERT_EQ(t, 0x6340, "target");
}

/* libstdc++'s _Znam: endbr64; jmp _Znwm@plt */
static void test_endbr64_then_jump_is_a_thunk(void)
{
	static const uint8_t znam[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9,
					0x10, 0x00, 0x00, 0x00 };
	uint64_t t = 0;

	ASSERT_TRUE(hs_code_thunk(znam, sizeof(znam), 0x1000, &t), "thunk");
	ASSERT_EQ(t, 0x1000 + 9 + 0x10, "target");
}

/* glibc's malloc starts with push %r12 */
static void test_push_is_no_thunk(void)
{
	static const uint8_t m[] = { 0x41, 0x54, 0x55, 0x53, 0xe9, 0, 0, 0, 0 };
	uint64_t t = 0;

	ASSERT_TRUE(!hs_code_thunk(m, sizeof(m), 0x1000, &t), "no thunk");
}

/* push %rbx; call 0x94b0; test %rax,%rax; je 0x100d; pop %rbx; ret; jmp 0x9000 */
static void test_branch_targets(void)
{
	static const uint8_t code[] = { 0x53, 0xe8, 0xaa, 0x84, 0x00, 0x00,
					0x48, 0x85, 0xc0, 0x74, 0x02, 0x5b,
					0xc3, 0xe9, 0xee, 0x7f, 0x00, 0x00 };
	uint64_t t[4] = { 0 };

	ASSERT_EQ(hs_code_branches(code, sizeof(code), 0x1000, t, 4), 3,
		  "branches");
	ASSERT_EQ(t[0], 0x94b0, "call");
	ASSERT_EQ(t[1], 0x100d, "je");
	ASSERT_EQ(t[2], 0x9000, "jmp");
}

/* .plt.sec: endbr64; bnd jmp *0x2fe2(%rip) */
static void test_plt_slot(void)
{
	static const uint8_t stub[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff,
					0x25, 0xe2, 0x2f, 0x00, 0x00, 0x0f,
					0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t lazy[] = { 0xff, 0x25, 0x02, 0x30, 0x00, 0x00,
					0x68, 0x00, 0x00, 0x00, 0x00 };
	uint64_t slot = 0;

	ASSERT_TRUE(hs_code_plt_slot(stub, sizeof(stub), 0x1050, &slot),
		    "plt.sec");
	ASSERT_EQ(slot, 0x1050 + 11 + 0x2fe2, "plt.sec slot");
	ASSERT_TRUE(hs_code_plt_slot(lazy, sizeof(lazy), 0x1030, &slot), "plt");
	ASSERT_EQ(slot, 0x1030 + 6 + 0x3002, "plt slot");
}

int main(void)
{
	RUN_TEST(test_families_by_marker);
	RUN_TEST(test_standard_names_everywhere);
	RUN_TEST(test_queries_are_not_probed);
	RUN_TEST(test_jemalloc_names);
	RUN_TEST(test_tcmalloc_names);
	RUN_TEST(test_mimalloc_names);
	RUN_TEST(test_jump_is_a_thunk);
	RUN_TEST(test_endbr64_then_jump_is_a_thunk);
	RUN_TEST(test_push_is_no_thunk);
	RUN_TEST(test_branch_targets);
	RUN_TEST(test_plt_slot);
	return TEST_EXIT();
}
