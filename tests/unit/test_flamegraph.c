// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Flame graphs: the frames drawn, their sizes, tooltips and layout; the
 * diff's merge by name across snapshots and its colours; escaping; the
 * HTML page; an empty snapshot.
 */
#include <stdlib.h>

#include "test.h"
#include "snap_fixture.h"
#include "flamegraph.h"

static char *render(const struct hs_snapshot *old,
		    const struct hs_snapshot *new, const struct hs_query *q,
		    const struct hs_flame_opts *o, struct hs_flame_summary *sum)
{
	struct hs_flame *f = hs_flame_build(old, new, q);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (!ASSERT_TRUE(f != NULL, "build"))
		return NULL;
	out = open_memstream(&buf, &len);
	if (!out)
		abort();
	hs_flame_render(out, f, o, sum);
	fclose(out);
	hs_flame_free(f);
	return buf;
}

/* The <g> element of the frame labelled label, as a new string. */
static char *frame(const char *svg, const char *label)
{
	char needle[512];
	const char *p, *start, *end;

	snprintf(needle, sizeof(needle), "data-n=\"%s\"", label);
	p = svg ? strstr(svg, needle) : NULL;
	if (!p)
		return NULL;
	for (start = p; start > svg && strncmp(start, "<g class=\"f\"", 12);
	     start--)
		;
	end = strstr(p, "</g>");
	if (!end)
		return NULL;
	return strndup(start, (size_t)(end - start + 4));
}

static bool has_frame(const char *svg, const char *label)
{
	char *e = frame(svg, label);
	bool found = e != NULL;

	free(e);
	return found;
}

/* The value of attribute name in elem (the first one), in buf. */
static const char *attr(const char *elem, const char *name, char *buf,
			size_t len)
{
	char needle[64];
	const char *p, *q;

	snprintf(needle, sizeof(needle), " %s=\"", name);
	p = elem ? strstr(elem, needle) : NULL;
	if (!p)
		return NULL;
	p += strlen(needle);
	q = strchr(p, '"');
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return buf;
}

static const char *title(const char *elem, char *buf, size_t len)
{
	const char *p = elem ? strstr(elem, "<title>") : NULL, *q;

	if (!p)
		return NULL;
	p += 7;
	q = strstr(p, "</title>");
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return buf;
}

/* Asserts frame label's attribute name equals want. */
#define ASSERT_ATTR(svg, label, name, want)                                  \
	({                                                                   \
		char *e_ = frame(svg, label), b_[256];                       \
		int ok_ = ASSERT_STREQ(attr(e_, name, b_, sizeof(b_)), want, \
				       label " " name);                      \
		free(e_);                                                    \
		ok_;                                                         \
	})

#define ASSERT_TITLE(svg, label, want)                                  \
	({                                                              \
		char *e_ = frame(svg, label), b_[512];                  \
		int ok_ = ASSERT_STREQ(title(e_, b_, sizeof(b_)), want, \
				       label " title");                 \
		free(e_);                                               \
		ok_;                                                    \
	})

/*
 * Stacks: [make src.c:5, other src.c:3, main main.c:10] 100 x 128,
 * [other, main] 4 x 1024, [main] 5000, [big b.c:2, main] 8000,
 * [tiny t.c:1, main] 1 byte. Total 29897 bytes in 107 blocks.
 */
static struct hs_snapshot *fixture(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	uint32_t mk, oth, mn, big, tiny;

	mk = fx_frame(s, "make", "/src/src.c", 5, "/bin/app", 0x1234);
	oth = fx_frame(s, "other", "/src/src.c", 3, "/bin/app", 0x2000);
	mn = fx_frame(s, "main", "/src/main.c", 10, "/bin/app", 0x3000);
	big = fx_frame(s, "big", "/src/b.c", 2, "/bin/app", 0x4000);
	tiny = fx_frame(s, "tiny", "/src/t.c", 1, "/bin/app", 0x5000);
	fx_traces(s, fx_stack(s, 3, mk, oth, mn), 100, 128, 0);
	fx_traces(s, fx_stack(s, 2, oth, mn), 4, 1024, 0);
	fx_traces(s, fx_stack(s, 1, mn), 1, 5000, 0);
	fx_traces(s, fx_stack(s, 2, big, mn), 1, 8000, 0);
	fx_traces(s, fx_stack(s, 2, tiny, mn), 1, 1, 0);
	s->command = hs_snapshot_intern(s, "./app --serve");
	return s;
}

static void test_svg_frames_and_sizes(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { 0 };
	struct hs_flame_summary sum;
	char *svg = render(NULL, s, &q, &o, &sum);

	if (!svg)
		goto out;
	ASSERT_TRUE(!strncmp(svg, "<?xml", 5), "an SVG document");
	ASSERT_TRUE(strstr(svg, "<svg ") && strstr(svg, "</svg>\n"),
		    "svg element");
	ASSERT_TRUE(strstr(svg, ">Live memory of ./app --serve</text>") != NULL,
		    "title");
	ASSERT_TRUE(strstr(svg, "29.2 KiB (29897 B) in 107 blocks") != NULL,
		    "subtitle with units");
	ASSERT_TITLE(svg, "all",
		     "all\n29.2 KiB (29897 B), 100.00% in 107 blocks");
	ASSERT_TITLE(
		svg, "make (src.c:5)",
		"make\n/src/src.c:5\n12.5 KiB (12800 B), 42.81% in 100 blocks");
	ASSERT_TITLE(
		svg, "other (src.c:3)",
		"other\n/src/src.c:3\n16.5 KiB (16896 B), 56.51% in 104 blocks");
	ASSERT_ATTR(svg, "all", "data-v", "29897");
	ASSERT_ATTR(svg, "main (main.c:10)", "data-v", "29897");
	ASSERT_ATTR(svg, "main (main.c:10)", "data-d", "1");
	ASSERT_ATTR(svg, "make (src.c:5)", "data-d", "3");
	ASSERT_ATTR(svg, "make (src.c:5)", "data-w", "12800");
	/* biggest child first: other, then big, then tiny */
	ASSERT_ATTR(svg, "other (src.c:3)", "data-x", "0");
	ASSERT_ATTR(svg, "big (b.c:2)", "data-x", "16896");
	/* 8000 of 29897 bytes on 1180 pixels, starting at 16896 */
	ASSERT_ATTR(svg, "big (b.c:2)", "x", "676.87");
	ASSERT_ATTR(svg, "big (b.c:2)", "width", "314.75");
	ASSERT_ATTR(svg, "all", "width", "1179.00");
	/* 1 byte is 0.04 pixels: not drawn */
	ASSERT_TRUE(!has_frame(svg, "tiny (t.c:1)"), "tiny not drawn");
	ASSERT_EQ(sum.nodes, 6, "nodes");
	ASSERT_EQ(sum.drawn, 5, "drawn");
	ASSERT_EQ(sum.depth, 3, "depth");
	ASSERT_EQ(sum.bytes[1], 29897, "total");
	ASSERT_EQ(sum.count[1], 107, "count");
	ASSERT_TRUE(strstr(svg, "<script") && strstr(svg, "function zoom("),
		    "the script");
	free(svg);
out:
	hs_snapshot_free(s);
}

static void test_labels_fit_their_box(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { .width = 300, .title = "T <&>" };
	struct hs_flame_summary sum;
	char *svg = render(NULL, s, &q, &o, &sum), *e;

	if (!svg)
		goto out;
	ASSERT_TRUE(strstr(svg, ">T &lt;&amp;&gt;</text>") != NULL,
		    "title option, escaped");
	/* 280 px * 12800/29897 = 119.9 px: 16 characters at 7.08 px */
	e = frame(svg, "make (src.c:5)");
	ASSERT_TRUE(e && strstr(e, ">make (src.c:5)</text>"), "fits");
	free(e);
	e = frame(svg, "big (b.c:2)");
	/* 74.9 px: 9 characters */
	ASSERT_TRUE(e && strstr(e, ">big (b...</text>"), "cut with ..");
	free(e);
	free(svg);
out:
	hs_snapshot_free(s);
}

static void test_escaping(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { 0 };
	struct hs_flame_summary sum;
	uint32_t a = fx_frame(s, "operator<< <A&B>", "/x\"y.c", 4, "/bin/a", 1);
	char *svg;

	fx_traces(s, fx_stack(s, 1, a), 1, 100, 0);
	svg = render(NULL, s, &q, &o, &sum);
	if (svg) {
		ASSERT_TRUE(strstr(svg, "<A&B>") == NULL, "no raw markup");
		ASSERT_TRUE(strstr(svg,
				   "data-n=\"operator&lt;&lt; "
				   "&lt;A&amp;B&gt; (x&quot;y.c:4)\"") != NULL,
			    "escaped attribute");
		ASSERT_TRUE(strstr(svg,
				   "<title>operator&lt;&lt; &lt;A&amp;B&gt;"
				   "\n/x&quot;y.c:4\n") != NULL,
			    "escaped title");
	}
	free(svg);
	hs_snapshot_free(s);
}

static void test_filters_apply(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { 0 };
	struct hs_flame_summary sum;
	struct hs_filter filt;
	char *svg;

	hs_filter_parse("*/b.c", true, &filt);
	q.filters = &filt;
	q.nfilters = 1;
	svg = render(NULL, s, &q, &o, &sum);
	ASSERT_EQ(sum.bytes[1], 8000, "only big");
	ASSERT_TRUE(has_frame(svg, "big (b.c:2)"), "big drawn");
	ASSERT_TRUE(!has_frame(svg, "other (src.c:3)"), "other filtered");
	free(svg);
	hs_snapshot_free(s);
}

/*
 * old: [make, main] 10 x 100, [gone, main] 500, [same, main] 300
 * new: [make, main] 30 x 100, [same, main] 300, [fresh, main] 200
 * Built as two snapshots, so frames merge by name, not by index.
 */
static void diff_fixture(struct hs_snapshot **old, struct hs_snapshot **new)
{
	struct hs_snapshot *o = hs_snapshot_new(), *n = hs_snapshot_new();
	uint32_t mn;

	/* interned in another order in each snapshot */
	mn = fx_frame(o, "main", "/m.c", 1, "/bin/a", 1);
	fx_traces(
		o,
		fx_stack(o, 2, fx_frame(o, "make", "/m.c", 5, "/bin/a", 5), mn),
		10, 100, 0);
	fx_traces(
		o,
		fx_stack(o, 2, fx_frame(o, "gone", "/m.c", 6, "/bin/a", 6), mn),
		1, 500, 0);
	fx_traces(
		o,
		fx_stack(o, 2, fx_frame(o, "same", "/m.c", 7, "/bin/a", 7), mn),
		1, 300, 0);
	fx_traces(n,
		  fx_stack(n, 2, fx_frame(n, "fresh", "/m.c", 8, "/bin/a", 8),
			   fx_frame(n, "main", "/m.c", 1, "/bin/a", 1)),
		  1, 200, 0);
	mn = fx_frame(n, "main", "/m.c", 1, "/bin/a", 1);
	fx_traces(
		n,
		fx_stack(n, 2, fx_frame(n, "same", "/m.c", 7, "/bin/a", 7), mn),
		1, 300, 0);
	fx_traces(
		n,
		fx_stack(n, 2, fx_frame(n, "make", "/m.c", 5, "/bin/a", 5), mn),
		30, 100, 0);
	*old = o;
	*new = n;
}

static void test_diff_colours_and_deltas(void)
{
	struct hs_snapshot *old, *new;
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { 0 };
	struct hs_flame_summary sum;
	char *svg;

	diff_fixture(&old, &new);
	svg = render(old, new, &q, &o, &sum);
	if (!svg)
		goto out;
	ASSERT_TRUE(strstr(svg, "data-diff=\"1\"") != NULL, "diff mode");
	ASSERT_TRUE(strstr(svg, "1800 B \xe2\x86\x92 3500 B: +1700 B") != NULL,
		    "subtitle");
	/* growth is red, the most growth the deepest; shrinkage is blue */
	ASSERT_ATTR(svg, "make (m.c:5)", "fill", "rgb(255,30,30)");
	ASSERT_ATTR(svg, "main (m.c:1)", "fill", "rgb(255,60,60)");
	ASSERT_ATTR(svg, "fresh (m.c:8)", "fill", "rgb(255,210,210)");
	ASSERT_ATTR(svg, "gone (m.c:6)", "fill", "rgb(180,180,255)");
	ASSERT_ATTR(svg, "same (m.c:7)", "fill", "rgb(230,230,230)");
	ASSERT_TITLE(svg, "make (m.c:5)",
		     "make\n/m.c:5\n1000 B \xe2\x86\x92 3000 B: +2000 B "
		     "(+200.0%)\n10 \xe2\x86\x92 30 blocks (+20)");
	ASSERT_TITLE(svg, "gone (m.c:6)",
		     "gone\n/m.c:6\n500 B \xe2\x86\x92 0 B: -500 B "
		     "(-100.0%)\n1 \xe2\x86\x92 0 blocks (-1)");
	ASSERT_TITLE(svg, "fresh (m.c:8)",
		     "fresh\n/m.c:8\n0 B \xe2\x86\x92 200 B: +200 B "
		     "(new)\n0 \xe2\x86\x92 1 blocks (+1)");
	/* what vanished keeps its old width; widths are the larger side */
	ASSERT_ATTR(svg, "gone (m.c:6)", "data-w", "500");
	ASSERT_ATTR(svg, "make (m.c:5)", "data-w", "3000");
	ASSERT_ATTR(svg, "main (m.c:1)", "data-w", "4000");
	ASSERT_ATTR(svg, "all", "data-w", "4000");
	ASSERT_EQ(sum.nodes, 6, "one node per name");
	ASSERT_EQ(sum.bytes[0], 1800, "old total");
	ASSERT_EQ(sum.bytes[1], 3500, "new total");
	free(svg);
out:
	hs_snapshot_free(old);
	hs_snapshot_free(new);
}

static void test_html_page(void)
{
	struct hs_snapshot *s = fixture();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { .html = true };
	struct hs_flame_summary sum;
	char *html = render(NULL, s, &q, &o, &sum);

	if (html) {
		ASSERT_TRUE(!strncmp(html, "<!DOCTYPE html>", 15), "doctype");
		ASSERT_TRUE(strstr(html, "<?xml") == NULL,
			    "no XML declaration");
		ASSERT_TRUE(strstr(html, "<input id=\"hs-search\"") != NULL,
			    "search box");
		ASSERT_TRUE(strstr(html, "<title>Live memory of ./app --serve"
					 "</title>") != NULL,
			    "page title");
		ASSERT_TRUE(strstr(html, "<svg ") && strstr(html, "<script"),
			    "the svg and its script");
		ASSERT_TRUE(strstr(html, "</body>\n</html>\n") != NULL, "end");
	}
	free(html);
	hs_snapshot_free(s);
}

static void test_empty_snapshot(void)
{
	struct hs_snapshot *s = hs_snapshot_new();
	struct hs_query q = fx_query(HS_KEY_TRACEBACK, false);
	struct hs_flame_opts o = { 0 };
	struct hs_flame_summary sum;
	char *svg = render(NULL, s, &q, &o, &sum);

	ASSERT_TRUE(svg && strstr(svg, "no live memory"), "says so");
	ASSERT_EQ(sum.drawn, 0, "nothing drawn");
	ASSERT_TRUE(svg && !strstr(svg, "<g class=\"f\""), "no frames");
	free(svg);
	hs_snapshot_free(s);
}

int main(void)
{
	RUN_TEST(test_svg_frames_and_sizes);
	RUN_TEST(test_labels_fit_their_box);
	RUN_TEST(test_escaping);
	RUN_TEST(test_filters_apply);
	RUN_TEST(test_diff_colours_and_deltas);
	RUN_TEST(test_html_page);
	RUN_TEST(test_empty_snapshot);
	return TEST_EXIT();
}
