// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The info --plot chart: known points give exact rows, labels, ticks and
 * summary, in ASCII and Unicode; one snapshot, all values equal, zero,
 * huge values, snapshots sharing a column and a narrow terminal.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "plot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void check_lines(const struct hs_plot *p, const char *const *want,
			size_t n, const char *name)
{
	char what[96];

	if (!ASSERT_EQ(p->nlines, n, name))
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%s line %zu", name, i);
		ASSERT_STREQ(p->lines[i], want[i], what);
	}
}

/* Display columns of a UTF-8 line (every character used is one column). */
static size_t columns(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * 100 B at 0 s, 400 B at 1 s (peak 800 B in between), 200 B at 2 s (400 B
 * in between): 13 columns, 8 levels of 100 B. Current rises from column 0
 * to 6 and falls to 12; the interval peaks cover columns 1-6 and 7-12.
 */
static void test_ascii_chart(void)
{
	const struct hs_plot_point pts[] = {
		{ 0, 100, 100 },
		{ 1, 400, 800 },
		{ 2, 200, 400 },
	};
	const struct hs_plot_opts o = { .width = 20, .height = 4 };
	const char *const want[] = {
		"800 B + ------",
		"      |",
		"400 B +   ..###...--",
		"      |.############",
		"  0 B ++-----+-----+",
		"       0 s     2.0 s",
		"       # current  - interval peak  peak 800 B",
		"3 snapshots, 0 s to 2.0 s; current min 100 B, max 400 B",
	};
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, ARRAY_SIZE(pts), 800, &o, &p), 0,
		       "draw"))
		return;
	check_lines(&p, want, ARRAY_SIZE(want), "ascii");
	hs_plot_free(&p);
}

/*
 * One snapshot: current 1000 B fills the bottom row of three (24 levels
 * of 125 B), its interval peak of 2000 B marks the top of the middle row;
 * the legend's peak is 3000 B, the top of the axis.
 */
static void test_unicode_one_snapshot(void)
{
	const struct hs_plot_point pts[] = { { 0, 1000, 2000 } };
	const struct hs_plot_opts o = { .width = 30,
					.height = 3,
					.unicode = true };
	const char *const want[] = {
		"3000 B ┤",
		"2000 B ┤⠉",
		"       │█",
		"   0 B └┴─────────────────────",
		"        0 s",
		"        █ current  ⠉ interval peak  peak 3000 B",
		"1 snapshot, 0 s to 0 s; current min 1000 B, max 1000 B",
	};
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, 1, 3000, &o, &p), 0, "draw"))
		return;
	check_lines(&p, want, ARRAY_SIZE(want), "unicode");
	ASSERT_EQ(columns(p.lines[3]), 30, "axis as wide as the terminal");
	hs_plot_free(&p);
}

/* Eighth blocks and braille marks at each level of one row. */
static void test_unicode_levels(void)
{
	const struct hs_plot_point pts[] = {
		{ 0, 1, 1 }, { 1, 2, 2 }, { 2, 3, 3 },	{ 3, 4, 8 },
		{ 4, 5, 7 }, { 5, 6, 6 }, { 6, 7, 7 },	{ 7, 8, 8 },
		{ 8, 0, 1 }, { 9, 0, 3 }, { 10, 0, 5 }, { 11, 0, 7 },
	};
	const struct hs_plot_opts o = { .width = 17,
					.height = 1,
					.unicode = true };
	struct hs_plot p;

	/* 12 columns, one row of 8 levels of 1 B: a column per snapshot */
	if (!ASSERT_EQ(hs_plot_draw(pts, ARRAY_SIZE(pts), 8, &o, &p), 0,
		       "draw"))
		return;
	ASSERT_STREQ(p.lines[0], "8 B ┤▁▂▃▄▅▆▇█⣀⠤⠒⠉", "levels");
	ASSERT_STREQ(p.lines[1], "0 B └┴┴┴┴┴┴┴┴┴┴┴┴", "a tick each");
	hs_plot_free(&p);
}

/* Every value equal: full columns, the peak hidden under current. */
static void test_all_equal(void)
{
	const struct hs_plot_point pts[] = {
		{ 0, 1024, 1024 },
		{ 1, 1024, 1024 },
		{ 2, 1024, 1024 },
	};
	const struct hs_plot_opts o = { .width = 16, .height = 2 };
	const char *const want[] = {
		"1024 B +########",
		" 512 B +########",
		"   0 B ++---+--+",
		"        0 s",
		"        # current  - interval peak  peak 1024 B",
		"3 snapshots, 0 s to 2.0 s; current min 1024 B, max 1024 B",
	};
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, ARRAY_SIZE(pts), 1024, &o, &p), 0,
		       "draw"))
		return;
	check_lines(&p, want, ARRAY_SIZE(want), "equal");
	hs_plot_free(&p);
}

/* Nothing traced: an empty chart with only the zero label, no division. */
static void test_all_zero(void)
{
	const struct hs_plot_point pts[] = { { 0, 0, 0 }, { 5, 0, 0 } };
	const struct hs_plot_opts o = { .width = 20, .height = 2 };
	const char *const want[] = {
		"    |",
		"    |",
		"0 B ++-------------+",
		"     0 s       5.0 s",
		"     # current  - interval peak  peak 0 B",
		"2 snapshots, 0 s to 5.0 s; current min 0 B, max 0 B",
	};
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, ARRAY_SIZE(pts), 0, &o, &p), 0,
		       "draw"))
		return;
	check_lines(&p, want, ARRAY_SIZE(want), "zero");
	hs_plot_free(&p);
}

/*
 * 16 EiB an hour after 1 B: the labels are exact, the 1 B snapshot still
 * shows (the lowest level), and nothing overflows. 26 columns, 16 levels:
 * current climbs 0.64 levels a column, under the interval peak's marks.
 */
static void test_huge_values(void)
{
	const struct hs_plot_point pts[] = {
		{ 0, 1, 1 },
		{ 3600, UINT64_MAX, UINT64_MAX },
	};
	const struct hs_plot_opts o = { .width = 40,
					.height = 2,
					.unicode = true };
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, 2, UINT64_MAX, &o, &p), 0, "draw"))
		return;
	ASSERT_STREQ(p.lines[0], "16777216 TiB ┤ ⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉▁▂▂▃▄▄▅▅▆▇▇█",
		     "top");
	ASSERT_STREQ(p.lines[1], " 8388608 TiB ┤▁▁▁▂▃▃▄▄▅▆▆▇██████████████",
		     "bottom");
	ASSERT_STREQ(p.lines[3], "              0 s                  1.0 h",
		     "hours");
	ASSERT_STREQ(
		p.lines[5],
		"2 snapshots, 0 s to 1.0 h; current min 1 B, max 16777216 TiB (18446744073709551615 B)",
		"summary");
	hs_plot_free(&p);
}

/* Snapshots closer than a column share it, with their largest values. */
static void test_shared_column(void)
{
	const struct hs_plot_point pts[] = {
		{ 0, 300, 300 },
		{ 0.01, 100, 400 },
		{ 10, 400, 400 },
	};
	const struct hs_plot_opts o = { .width = 20, .height = 1 };
	struct hs_plot p;

	/*
	 * 13 columns, 2 levels of 200 B: column 0 has the larger current
	 * (300 B, full); the line leaves from the later snapshot's 100 B.
	 */
	if (!ASSERT_EQ(hs_plot_draw(pts, 3, 400, &o, &p), 0, "draw"))
		return;
	ASSERT_STREQ(p.lines[0], "400 B +#.......#####", "row");
	ASSERT_STREQ(p.lines[1], "  0 B ++-----------+", "two ticks");
	hs_plot_free(&p);
}

/* A terminal narrower than the labels still gets the minimum plot area. */
static void test_narrow(void)
{
	const struct hs_plot_point pts[] = { { 0, 10, 10 }, { 1, 20, 20 } };
	const struct hs_plot_opts o = { .width = 5, .height = 2 };
	struct hs_plot p;

	if (!ASSERT_EQ(hs_plot_draw(pts, 2, 20, &o, &p), 0, "draw"))
		return;
	ASSERT_STREQ(p.lines[2], " 0 B ++------+", "minimum columns");
	ASSERT_EQ(strlen(p.lines[2]), 6 + HS_PLOT_MIN_COLUMNS, "width");
	ASSERT_STREQ(p.lines[3], "      0 s", "no room for the last time");
	hs_plot_free(&p);
}

static void test_no_points(void)
{
	const struct hs_plot_opts o = { .width = 80, .height = 10 };
	struct hs_plot p;

	ASSERT_EQ(hs_plot_draw(NULL, 0, 0, &o, &p), -1, "no points");
	ASSERT_EQ(p.nlines, 0, "no lines");
}

static void test_format_time(void)
{
	char b[32];

	hs_plot_format_time(b, sizeof(b), 0);
	ASSERT_STREQ(b, "0 s", "zero");
	hs_plot_format_time(b, sizeof(b), 12.34);
	ASSERT_STREQ(b, "12.3 s", "seconds");
	hs_plot_format_time(b, sizeof(b), 150);
	ASSERT_STREQ(b, "2.5 min", "minutes");
	hs_plot_format_time(b, sizeof(b), 7200);
	ASSERT_STREQ(b, "2.0 h", "hours");
}

int main(void)
{
	RUN_TEST(test_ascii_chart);
	RUN_TEST(test_unicode_one_snapshot);
	RUN_TEST(test_unicode_levels);
	RUN_TEST(test_all_equal);
	RUN_TEST(test_all_zero);
	RUN_TEST(test_huge_values);
	RUN_TEST(test_shared_column);
	RUN_TEST(test_narrow);
	RUN_TEST(test_no_points);
	RUN_TEST(test_format_time);
	return TEST_EXIT();
}
