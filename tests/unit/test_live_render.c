// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The live top's screen: its header, rows sorted by size with the change
 * since the previous refresh, totals, and how it fits a terminal.
 */
#include <stdlib.h>

#include "test.h"
#include "snap_fixture.h"
#include "live_render.h"

struct pair {
	struct hs_snapshot *old, *new;
	struct hs_stats st;
};

/*
 * a.c:1 <- main: 2 x 100 then 3 x 100; b.c:2: 1 x 5000 in both;
 * c.c:3: 1 x 20000, new.
 */
static void pair_init(struct pair *p, enum hs_key key)
{
	struct hs_query q = fx_query(key, false);
	struct hs_snapshot *s[2];
	uint32_t a, b, c, m;
	int i;

	for (i = 0; i < 2; i++) {
		s[i] = hs_snapshot_new();
		a = fx_frame(s[i], "fa", "a.c", 1, "/bin/app", 0x10);
		m = fx_frame(s[i], "main", "m.c", 9, "/bin/app", 0x90);
		b = fx_frame(s[i], "fb", "b.c", 2, "/bin/app", 0x20);
		c = fx_frame(s[i], "fc", "c.c", 3, "/bin/app", 0x30);
		fx_traces(s[i], fx_stack(s[i], 2, a, m), 2 + i, 100, 0);
		fx_traces(s[i], fx_stack(s[i], 1, b), 1, 5000, 0);
		if (i)
			fx_traces(s[i], fx_stack(s[i], 1, c), 1, 20000, 0);
		hs_snapshot_seal(s[i]);
	}
	p->old = s[0];
	p->new = s[1];
	if (hs_stats_diff(p->old, p->new, &q, &p->st))
		abort();
	hs_stats_sort_by_size(&p->st);
}

static void pair_fini(struct pair *p)
{
	hs_stats_free(&p->st);
	hs_snapshot_free(p->old);
	hs_snapshot_free(p->new);
}

static struct hs_live_view view(const struct hs_stats *st)
{
	struct hs_live_view v = {
		.target = "pid 42 (app)",
		.uptime = 65.5,
		.delay = 1,
		.current = 25300,
		.count = 5,
		.peak = 30720,
		.peak_since = -1,
		.allocs_per_s = 12,
		.bytes_per_s = 1536,
		.frees_per_s = 3,
		.st = st,
	};

	return v;
}

static char *render(const struct hs_live_view *v)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	hs_live_render(f, v);
	fclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_screen(void)
{
	struct pair p;
	struct hs_live_view v;
	char *got;

	pair_init(&p, HS_KEY_LINENO);
	v = view(&p.st);
	got = render(&v);
	ASSERT_STREQ(got,
		     "heapsnap top - pid 42 (app)  up 1:05  every 1.0s\n"
		     "Live: 24.7 KiB in 5 blocks   peak: 30.0 KiB\n"
		     "Allocs: 12/s (1536 B/s)   frees: 3/s   lost: none\n"
		     "By lineno\n"
		     "\n"
		     "      SIZE     COUNT      CHANGE  SITE\n"
		     "  19.5 KiB         1   +19.5 KiB  c.c:3\n"
		     "    5000 B         1              b.c:2\n"
		     "     300 B         3      +100 B  a.c:1\n"
		     "  24.7 KiB         5   +19.6 KiB  Total\n"
		     "q quit  s snapshot  c cumulative  k key  r reset peak\n",
		     "screen");
	free(got);
	pair_fini(&p);
}

static void test_traceback_names_the_callers(void)
{
	struct pair p;
	struct hs_live_view v;
	char *got;

	pair_init(&p, HS_KEY_TRACEBACK);
	v = view(&p.st);
	got = render(&v);
	ASSERT_TRUE(
		strstr(got, "     300 B         3      +100 B  a.c:1 < main\n"),
		"caller");
	ASSERT_TRUE(strstr(got, "By traceback\n"), "key");
	free(got);
	pair_fini(&p);
}

static void test_status_lines(void)
{
	struct pair p;
	struct hs_live_view v;
	char *got;

	pair_init(&p, HS_KEY_FILENAME);
	p.st.cumulative = true;
	v = view(&p.st);
	v.peak_since = 8.2;
	v.lost = 7;
	v.exited = true;
	v.message = "wrote x.hsnap.1";
	got = render(&v);
	ASSERT_TRUE(strstr(got, "every 1.0s  [exited]\n"), "exited");
	ASSERT_TRUE(strstr(got, "peak: 30.0 KiB (since 0:08)\n"), "reset");
	ASSERT_TRUE(strstr(got, "lost: 7\n"), "lost");
	ASSERT_TRUE(strstr(got, "By filename, cumulative\n"), "key");
	ASSERT_TRUE(strstr(got, "r reset peak   wrote x.hsnap.1\n"), "message");
	free(got);
	pair_fini(&p);
}

static void test_fits_the_terminal(void)
{
	struct pair p;
	struct hs_live_view v;
	char *got, *line;

	pair_init(&p, HS_KEY_LINENO);
	v = view(&p.st);
	v.width = 30;
	v.height = 10;
	got = render(&v);
	/* the last line ends without a newline, so the screen never scrolls */
	ASSERT_EQ(count_lines(got), 9, "lines");
	for (line = strtok(got, "\n"); line; line = strtok(NULL, "\n"))
		ASSERT_TRUE(strlen(line) <= 30, line);
	free(got);
	got = render(&v);
	ASSERT_TRUE(strstr(got, "  19.5 KiB         1   +19.5 K\n"), "row cut");
	ASSERT_TRUE(strstr(got, "    5000 B         1          \n"), "row 2");
	ASSERT_TRUE(!strstr(got, "a.c"), "third row left out");
	ASSERT_TRUE(strstr(got, "  24.7 KiB         5   +19.6 K\n"), "total");
	free(got);
	v.width = 0;
	got = render(&v);
	ASSERT_TRUE(strstr(got, "+19.6 KiB  Total  (1 more row)\n"), "more");
	free(got);

	v.width = 0;
	v.height = 30;
	v.limit = 1;
	got = render(&v);
	ASSERT_EQ(count_lines(got), 29, "padded to the height");
	ASSERT_TRUE(strstr(got, "Total  (2 more rows)"), "limit");
	free(got);
	pair_fini(&p);
}

static void test_ansi(void)
{
	struct pair p;
	struct hs_live_view v;
	char *got;

	pair_init(&p, HS_KEY_LINENO);
	v = view(&p.st);
	v.ansi = true;
	got = render(&v);
	ASSERT_TRUE(strstr(got, "\033[7m      SIZE"), "titles highlighted");
	ASSERT_TRUE(strstr(got, "SITE\033[K\033[0m\n"), "highlight ends");
	ASSERT_TRUE(strstr(got, "every 1.0s\033[K\n"), "line end cleared");
	ASSERT_TRUE(strlen(got) > 3 && !strcmp(got + strlen(got) - 3, "\033[J"),
		    "rest cleared");
	free(got);
	pair_fini(&p);
}

int main(void)
{
	RUN_TEST(test_screen);
	RUN_TEST(test_traceback_names_the_callers);
	RUN_TEST(test_status_lines);
	RUN_TEST(test_fits_the_terminal);
	RUN_TEST(test_ansi);
	return tests_failed ? 1 : 0;
}
