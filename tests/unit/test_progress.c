// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Progress lines: the text, grouped digits and percentages; nothing in the
 * first tenth of a second, at most one redraw a tenth of a second for one
 * step, a new step at once; erased when done; nothing at all off a terminal.
 */
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "progress.h"

static void test_format(void)
{
	char b[128];

	hs_progress_format(b, sizeof(b), "symbolizing", "stacks", 12345, 65536);
	ASSERT_STREQ(b, "symbolizing 12,345/65,536 stacks (18%)", "counted");
	hs_progress_format(b, sizeof(b), "collecting", "blocks", 1000000, 0);
	ASSERT_STREQ(b, "collecting 1,000,000 blocks", "no total");
	hs_progress_format(b, sizeof(b), "writing", "s.hsnap", 0, 0);
	ASSERT_STREQ(b, "writing s.hsnap", "not counted");
	hs_progress_format(b, sizeof(b), "reading", "stacks", 0, 999);
	ASSERT_STREQ(b, "reading 0/999 stacks (0%)", "start");
	hs_progress_format(b, sizeof(b), "reading", "stacks", 7, 5);
	ASSERT_STREQ(b, "reading 7/5 stacks (100%)", "past the end");
	hs_progress_format(b, sizeof(b), "reading", "blocks",
			   (size_t)18446744073709551615ull, 0);
	ASSERT_STREQ(b, "reading 18,446,744,073,709,551,615 blocks", "max");
	hs_progress_format(b, 12, "symbolizing", "stacks", 1, 2);
	ASSERT_STREQ(b, "symbolizing", "truncated, terminated");
}

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

static void test_line_throttled(void)
{
	struct hs_progress_line pl;
	struct capture c;

	capture_open(&c);
	if (!ASSERT_TRUE(c.f, "memstream"))
		return;
	hs_progress_line_init(&pl, c.f, true);
	pl.start = 100.0;
	hs_progress_line_update(&pl, 100.0625, "reading", "snapshots", 1, 10);
	fflush(c.f);
	ASSERT_EQ(c.len, 0, "nothing in the first tenth of a second");
	hs_progress_line_update(&pl, 100.125, "reading", "snapshots", 2, 10);
	hs_progress_line_update(&pl, 100.1875, "reading", "snapshots", 3, 10);
	fflush(c.f);
	ASSERT_STREQ(c.text, "\r\033[Kheapsnap: reading 2/10 snapshots (20%)",
		     "one draw a tenth of a second");
	hs_progress_line_update(&pl, 100.25, "symbolizing", "stacks", 0, 4);
	hs_progress_line_update(&pl, 100.5, "symbolizing", "stacks", 3, 4);
	hs_progress_line_clear(&pl);
	hs_progress_line_clear(&pl);
	fflush(c.f);
	ASSERT_STREQ(c.text,
		     "\r\033[Kheapsnap: reading 2/10 snapshots (20%)"
		     "\r\033[Kheapsnap: symbolizing 0/4 stacks (0%)"
		     "\r\033[Kheapsnap: symbolizing 3/4 stacks (75%)"
		     "\r\033[K",
		     "a new step at once, erased once");
	capture_close(&c);
}

static void test_line_off_a_terminal(void)
{
	struct hs_progress_line pl;
	struct hs_progress p;
	struct capture c;

	capture_open(&c);
	if (!ASSERT_TRUE(c.f, "memstream"))
		return;
	hs_progress_line_init(&pl, c.f, false);
	pl.start -= 10;
	p = hs_progress_line_ops(&pl);
	hs_progress_report(&p, "collecting", "blocks", 4096, 0);
	hs_progress_line_update(&pl, pl.start + 5, "reading", "stacks", 1, 2);
	hs_progress_line_clear(&pl);
	fflush(c.f);
	ASSERT_EQ(c.len, 0, "nothing written");
	capture_close(&c);
}

/* Through struct hs_progress, on the real clock; NULL is nobody. */
static void test_ops(void)
{
	struct hs_progress_line pl;
	struct hs_progress p;
	struct capture c;

	capture_open(&c);
	if (!ASSERT_TRUE(c.f, "memstream"))
		return;
	hs_progress_line_init(&pl, c.f, true);
	p = hs_progress_line_ops(&pl);
	hs_progress_report(&p, "collecting", "blocks", 4096, 0);
	fflush(c.f);
	ASSERT_EQ(c.len, 0, "too early");
	pl.start -= 1;
	hs_progress_report(&p, "collecting", "blocks", 8192, 0);
	hs_progress_report(NULL, "collecting", "blocks", 9000, 0);
	fflush(c.f);
	ASSERT_STREQ(c.text, "\r\033[Kheapsnap: collecting 8,192 blocks",
		     "drawn");
	capture_close(&c);
}

int main(void)
{
	RUN_TEST(test_format);
	RUN_TEST(test_line_throttled);
	RUN_TEST(test_line_off_a_terminal);
	RUN_TEST(test_ops);
	return TEST_EXIT();
}
