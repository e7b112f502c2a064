// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The layer under the commands: the small parsers, and the option parser
 * driven by a command's description (shared groups, the command's own
 * options, refused groups, the live view's rules and operand counts).
 */
#include <stdbool.h>

#include "test.h"
#include "cli.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_pids(void)
{
	uint32_t pids[3];
	const char *bad = NULL;
	size_t n = 0;

	ASSERT_EQ(hs_cli_parse_pids("1,22,2147483647", pids, 3, &n, &bad), 0,
		  "three pids");
	ASSERT_EQ(n, 3, "count");
	ASSERT_EQ(pids[1], 22, "second");
	ASSERT_EQ(pids[2], 2147483647, "INT_MAX");
	ASSERT_EQ(hs_cli_parse_pids("5", pids, 3, &n, &bad), -2, "too many");
	n = 0;
	ASSERT_EQ(hs_cli_parse_pids("7,x8,9", pids, 3, &n, &bad), -1, "bad");
	ASSERT_STREQ(bad, "x8,9", "where");
	for (size_t i = 0; i < 6; i++) {
		static const char *const wrong[] = { "",   "0",	 "-1",
						     "1,", ",1", "2147483648" };

		n = 0;
		ASSERT_EQ(hs_cli_parse_pids(wrong[i], pids, 3, &n, &bad), -1,
			  wrong[i]);
	}
}

static void test_parse_numbers(void)
{
	uint64_t v = 0;
	double s = 0;

	ASSERT_EQ(hs_cli_parse_count("0", 0, 10, &v), 0, "zero");
	ASSERT_EQ(hs_cli_parse_count("10", 0, 10, &v), 0, "max");
	ASSERT_EQ(v, 10, "value");
	ASSERT_EQ(hs_cli_parse_count("11", 0, 10, &v), -1, "above");
	ASSERT_EQ(hs_cli_parse_count("199", 200, 300, &v), -1, "below");
	ASSERT_EQ(hs_cli_parse_count("-1", 0, 10, &v), -1, "sign");
	ASSERT_EQ(hs_cli_parse_count(" 1", 0, 10, &v), -1, "space");
	ASSERT_EQ(hs_cli_parse_count("1x", 0, 10, &v), -1, "tail");
	ASSERT_EQ(hs_cli_parse_count("99999999999999999999", 0, UINT64_MAX, &v),
		  -1, "overflow");
	ASSERT_EQ(hs_cli_parse_seconds("0.25", &s), 0, "seconds");
	ASSERT_TRUE(s == 0.25, "seconds value");
	ASSERT_EQ(hs_cli_parse_seconds("0", &s), -1, "zero seconds");
	ASSERT_EQ(hs_cli_parse_seconds("-1", &s), -1, "negative");
	ASSERT_EQ(hs_cli_parse_seconds("nan", &s), -1, "nan");
	ASSERT_EQ(hs_cli_parse_seconds("1s", &s), -1, "unit");
}

static void test_parse_choice(void)
{
	static const struct hs_cli_choice c[] = { { "a", 1 },
						  { "b", -1 },
						  { NULL } };
	int v = 0;

	ASSERT_EQ(hs_cli_parse_choice("b", c, &v), 0, "known");
	ASSERT_EQ(v, -1, "value");
	ASSERT_EQ(hs_cli_parse_choice("c", c, &v), -1, "unknown");
	ASSERT_EQ(hs_cli_parse_choice("", c, &v), -1, "empty");
}

struct own {
	const char *out;
	int calls;
};

static int apply_own(void *ctx, int key, char *arg, bool json)
{
	struct own *o = ctx;

	(void)json;
	o->calls++;
	if (key == 'o')
		o->out = arg;
	return 0;
}

static const struct hs_cli_option filter_options[] = {
	{ "output", 'o', "OUT", "write to OUT" },
	{ "json", HS_CLI_JSON, NULL, "JSON output" },
	{ .key = HS_CLI_SHARED, .groups = HS_CLI_FILTERS },
	{},
};

static const struct hs_cli_command filter_command = {
	.usage = "Usage: t FILE\n\n",
	.options = filter_options,
	.operands = { 1, 2, "one or two files" },
	.apply = apply_own,
};

/* Runs the parser on a NULL-terminated argv; the exit status, or -1. */
static int parse(const struct hs_cli_command *c, const char **argv,
		 struct hs_cli_args *a, void *ctx)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return hs_cli_parse(c, argc, (char **)argv, a, ctx);
}

static void test_shared_and_own_options(void)
{
	const char *argv[] = { "t",	   "--include", "*/a.c",	"-o",
			       "out",	   "--exclude", "b.c:12",	"f1",
			       "--domain", "mmap",	"--all-frames", NULL };
	struct hs_cli_args a;
	struct own own = { NULL, 0 };

	ASSERT_EQ(parse(&filter_command, argv, &a, &own), -1, "parsed");
	ASSERT_EQ(a.q.nfilters, 2, "filters");
	ASSERT_TRUE(a.q.filters[0].inclusive, "include");
	ASSERT_TRUE(!a.q.filters[1].inclusive, "exclude");
	ASSERT_EQ(a.q.filters[1].line, 12, "line");
	ASSERT_EQ(a.q.domain, HS_DOMAIN_MMAP, "domain");
	ASSERT_TRUE(a.q.all_frames, "all frames");
	ASSERT_TRUE(!a.json, "not json");
	ASSERT_EQ(own.calls, 1, "own option");
	ASSERT_STREQ(own.out, "out", "-o is the command's");
	ASSERT_EQ(a.noperands, 1, "operands");
	ASSERT_STREQ(a.operands[0], "f1", "operand");
	hs_cli_args_free(&a);
}

static void test_usage_errors(void)
{
	static const char *const bad[][5] = {
		{ "t", NULL }, /* too few operands */
		{ "t", "a", "b", "c", NULL }, /* too many */
		{ "t", "f", "--pid", "1", NULL }, /* not taken here */
		{ "t", "f", "--domain", "x", NULL },
		{ "t", "f", "--include", NULL },
		{ "t", "f", "-p", "1", NULL },
	};
	struct hs_cli_args a;
	struct own own = { NULL, 0 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(
			parse(&filter_command, (const char **)bad[i], &a, &own),
			HS_CLI_EXIT_USAGE, bad[i][2] ? bad[i][2] : "count");
		hs_cli_args_free(&a);
	}
}

static const struct hs_cli_option top_options[] = {
	{ .key = HS_CLI_SHARED,
	  .groups = HS_CLI_LIVE | HS_CLI_VIEW | HS_CLI_FILTERS |
		    HS_CLI_PROCESSES },
	{ "json", HS_CLI_JSON, NULL, "JSON output" },
	{},
};

static const struct hs_cli_command top_command = {
	.usage = "Usage: t FILE\n\n",
	.options = top_options,
	.operands = { 1, 1, "1 argument" },
};

static const struct hs_cli_option diff_options[] = {
	{ .key = HS_CLI_SHARED, .groups = HS_CLI_VIEW },
	{ .key = HS_CLI_REFUSED, .groups = HS_CLI_LIVE },
	{},
};

static const struct hs_cli_command diff_command = {
	.usage = "Usage: t OLD NEW\n\n",
	.options = diff_options,
	.operands = { 2, 2, "2 arguments" },
};

static void test_view_and_live(void)
{
	const char *live[] = { "t",    "-p",	   "3,4", "-n", "5", "--json",
			       "--by", "function", "-d",  "2",	NULL };
	const char *view[] = { "t",	      "f",     "--cumulative",
			       "--no-source", "--pid", "9",
			       "--comm",      "a*",    NULL };
	const char *refused[] = { "t", "-p", "1", "a", "b", NULL };
	const char *alone[] = { "t", "-o", "x", NULL };
	const char *file[] = { "t", "-p", "1", "f", NULL };
	struct hs_cli_args a;

	ASSERT_EQ(parse(&top_command, live, &a, NULL), -1, "live");
	ASSERT_EQ(a.nlive, 2, "live pids");
	ASSERT_EQ(a.live_pids[1], 4, "live pid");
	ASSERT_EQ(a.limit, 5, "-n");
	ASSERT_TRUE(a.limit_given, "-n given");
	ASSERT_TRUE(a.json, "json");
	ASSERT_EQ(a.q.key, HS_KEY_FUNCTION, "key");
	ASSERT_TRUE(a.delay == 2, "delay");
	ASSERT_EQ(a.noperands, 0, "no file");
	hs_cli_args_free(&a);

	ASSERT_EQ(parse(&top_command, view, &a, NULL), -1, "view");
	ASSERT_EQ(a.limit, 10, "default rows");
	ASSERT_TRUE(!a.limit_given && !a.source && a.q.cumulative, "flags");
	ASSERT_EQ(a.q.npids, 1, "--pid");
	ASSERT_EQ(a.q.ncomms, 1, "--comm");
	ASSERT_EQ(a.q.key, HS_KEY_LINENO, "default key");
	hs_cli_args_free(&a);

	ASSERT_EQ(parse(&diff_command, refused, &a, NULL), HS_CLI_EXIT_USAGE,
		  "refused");
	hs_cli_args_free(&a);
	ASSERT_EQ(parse(&top_command, alone, &a, NULL), HS_CLI_EXIT_USAGE,
		  "-o without -p");
	hs_cli_args_free(&a);
	ASSERT_EQ(parse(&top_command, file, &a, NULL), HS_CLI_EXIT_USAGE,
		  "-p with a file");
	hs_cli_args_free(&a);
}

int main(void)
{
	RUN_TEST(test_parse_pids);
	RUN_TEST(test_parse_numbers);
	RUN_TEST(test_parse_choice);
	RUN_TEST(test_shared_and_own_options);
	RUN_TEST(test_usage_errors);
	RUN_TEST(test_view_and_live);
	return TEST_EXIT();
}
