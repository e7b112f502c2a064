// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The names record --push files profiles under: Pyroscope's rules for
 * application names and label names, the values its "APP{K=V,...}" syntax
 * can carry, and the application name taken from a command line.
 */
#include <stdlib.h>

#include "test.h"
#include "pushname.h"

static int app_ok(const char *app)
{
	char err[256];

	return hs_push_check_app(app, err, sizeof(err)) == 0;
}

static int label_ok(const char *label)
{
	char err[256];

	err[0] = '\0';
	if (hs_push_check_label(label, err, sizeof(err)) == 0)
		return 1;
	/* every refusal says which option and value it refuses */
	ASSERT_TRUE(strstr(err, "--label '") == err, err);
	return 0;
}

static void test_app_names(void)
{
	char big[HS_PUSH_MAX_VALUE + 2];

	ASSERT_TRUE(app_ok("gt_basic"), "plain");
	ASSERT_TRUE(app_ok("my.app-01/api_v2"), "every allowed punctuation");
	ASSERT_TRUE(!app_ok(""), "empty");
	ASSERT_TRUE(!app_ok("my app"), "space");
	ASSERT_TRUE(!app_ok("app{x=1}"), "braces would start the labels");
	ASSERT_TRUE(!app_ok("app,x"), "comma");
	ASSERT_TRUE(!app_ok("caf\xc3\xa9"), "non-ASCII");
	memset(big, 'a', sizeof(big));
	big[HS_PUSH_MAX_VALUE] = '\0';
	ASSERT_TRUE(app_ok(big), "longest");
	big[HS_PUSH_MAX_VALUE] = 'a';
	big[HS_PUSH_MAX_VALUE + 1] = '\0';
	ASSERT_TRUE(!app_ok(big), "one too long");
}

static void test_label_names(void)
{
	char big[HS_PUSH_MAX_KEY + 8];

	ASSERT_TRUE(label_ok("env=prod"), "plain");
	ASSERT_TRUE(label_ok("_x9=1"), "underscore first, digits after");
	ASSERT_TRUE(label_ok("Region_2=eu-west-1"), "upper case");
	ASSERT_TRUE(!label_ok("9x=1"), "digit first");
	ASSERT_TRUE(!label_ok("a-b=1"), "dash");
	ASSERT_TRUE(!label_ok("a.b=1"), "dot: not a Prometheus label name");
	ASSERT_TRUE(!label_ok("=1"), "empty name");
	ASSERT_TRUE(!label_ok("env"), "no =");
	ASSERT_TRUE(!label_ok("__name__=x"), "reserved");
	ASSERT_TRUE(!label_ok("__anything=x"), "reserved prefix");
	ASSERT_TRUE(label_ok("_a=x"), "one underscore is not reserved");
	ASSERT_TRUE(!label_ok("service_name=x"), "set from the app name");
	ASSERT_TRUE(label_ok("service_names=x"), "only the exact name");
	memset(big, 'k', HS_PUSH_MAX_KEY);
	strcpy(big + HS_PUSH_MAX_KEY, "=v");
	ASSERT_TRUE(label_ok(big), "longest name");
	memset(big, 'k', HS_PUSH_MAX_KEY + 1);
	strcpy(big + HS_PUSH_MAX_KEY + 1, "=v");
	ASSERT_TRUE(!label_ok(big), "name one too long");
}

static void test_label_values(void)
{
	char big[HS_PUSH_MAX_VALUE + 8];

	ASSERT_TRUE(label_ok("host=web-01.example.com"), "host name");
	ASSERT_TRUE(label_ok("path=/srv/app:8080"), "slash and colon");
	ASSERT_TRUE(label_ok("expr=a=b"), "= in a value");
	ASSERT_TRUE(label_ok("zone=us west"), "inner space");
	ASSERT_TRUE(!label_ok("env="), "empty value");
	ASSERT_TRUE(!label_ok("env= prod"), "leading space");
	ASSERT_TRUE(!label_ok("env=prod "), "trailing space");
	ASSERT_TRUE(!label_ok("env=a,b"), "comma ends a value");
	ASSERT_TRUE(!label_ok("env=a}"), "brace ends the labels");
	ASSERT_TRUE(!label_ok("env={a"), "opening brace");
	ASSERT_TRUE(!label_ok("env=a\tb"), "control character");
	ASSERT_TRUE(!label_ok("env=caf\xc3\xa9"), "non-ASCII");
	strcpy(big, "k=");
	memset(big + 2, 'v', HS_PUSH_MAX_VALUE);
	big[2 + HS_PUSH_MAX_VALUE] = '\0';
	ASSERT_TRUE(label_ok(big), "longest value");
	big[2 + HS_PUSH_MAX_VALUE] = 'v';
	big[3 + HS_PUSH_MAX_VALUE] = '\0';
	ASSERT_TRUE(!label_ok(big), "value one too long");
}

static void test_name(void)
{
	char *labels[] = { "env=prod", "region=eu-1", "env=dev" };
	char err[256], *name;

	name = hs_push_name("api", labels, 2, err, sizeof(err));
	ASSERT_STREQ(name, "api{env=prod,region=eu-1}", "labels in order");
	free(name);
	name = hs_push_name("api", NULL, 0, err, sizeof(err));
	ASSERT_STREQ(name, "api{}", "no labels");
	free(name);

	name = hs_push_name("api", labels, 3, err, sizeof(err));
	ASSERT_TRUE(!name, "a name given twice");
	ASSERT_STREQ(err, "--label 'env=dev': that name is given twice",
		     "says which");
	free(name);
	labels[2] = "environment=dev";
	name = hs_push_name("api", labels, 3, err, sizeof(err));
	ASSERT_STREQ(name, "api{env=prod,region=eu-1,environment=dev}",
		     "a prefix of another name is another name");
	free(name);
	name = hs_push_name("a b", labels, 1, err, sizeof(err));
	ASSERT_TRUE(!name && strstr(err, "--app 'a b'"), "a bad app");
	labels[0] = "bad-key=1";
	name = hs_push_name("api", labels, 1, err, sizeof(err));
	ASSERT_TRUE(!name && strstr(err, "'bad-key'"), "a bad label");
}

static void test_app_from_command(void)
{
	char buf[32];

	hs_push_app_from_command("/usr/bin/python3 -m http.server", buf,
				 sizeof(buf));
	ASSERT_STREQ(buf, "python3", "first word's base name");
	hs_push_app_from_command("./gt_basic wait", buf, sizeof(buf));
	ASSERT_STREQ(buf, "gt_basic", "relative path");
	hs_push_app_from_command("nginx: worker process", buf, sizeof(buf));
	ASSERT_STREQ(buf, "nginx_", "a character names cannot hold");
	hs_push_app_from_command("my+app", buf, sizeof(buf));
	ASSERT_STREQ(buf, "my_app", "replaced, not dropped");
	hs_push_app_from_command("/opt/x/", buf, sizeof(buf));
	ASSERT_STREQ(buf, "heapsnap", "nothing after the last slash");
	hs_push_app_from_command("", buf, sizeof(buf));
	ASSERT_STREQ(buf, "heapsnap", "empty");
	hs_push_app_from_command(NULL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "heapsnap", "unreadable command line");
	hs_push_app_from_command("(((", buf, sizeof(buf));
	ASSERT_STREQ(buf, "heapsnap", "only replaced characters");
	hs_push_app_from_command("a_very_long_program_name_indeed_yes", buf,
				 sizeof(buf));
	ASSERT_STREQ(buf, "a_very_long_program_name_indeed", "cut to buf");
	ASSERT_TRUE(app_ok(buf), "always a valid name");
}

int main(void)
{
	RUN_TEST(test_app_names);
	RUN_TEST(test_label_names);
	RUN_TEST(test_label_values);
	RUN_TEST(test_name);
	RUN_TEST(test_app_from_command);
	return TEST_EXIT();
}
