// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * CPython location tables and str objects, against what CPython itself
 * says: tests/unit/fixtures/pycode-3.X.txt hold real code objects' tables
 * with co_lines() and str objects' bytes with their text, written by
 * pycode_gen.py under 3.11, 3.12 and 3.13.
 */
#include <libgen.h>

#include "pycode.h"
#include "test.h"

struct version {
	const char *name;
	struct hs_pystr_layout str;
};

static const struct version versions[] = {
	{ "3.11",
	  { .length = 16, .state = 32, .ascii_size = 48, .compact_size = 72 } },
	{ "3.12",
	  { .length = 16, .state = 32, .ascii_size = 40, .compact_size = 56 } },
	{ "3.13",
	  { .length = 16, .state = 32, .ascii_size = 40, .compact_size = 56 } },
};

static char fixdir[PATH_MAX];

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	if (!strcmp(hex, "-"))
		return 0;
	while (n < max && sscanf(hex + 2 * n, "%2x", &b) == 1)
		out[n++] = (uint8_t)b;
	return n;
}

struct counts {
	long codes, addrs, strs;
};

/* Checks every range of one "code FIRSTLINE TABLE RANGES..." line. */
static void check_code(char *rest, uint8_t *buf, size_t bufsz, struct counts *c,
		       const char *ver)
{
	char *save = NULL, *tok = strtok_r(rest, " \n", &save);
	int first = atoi(tok);
	size_t len;
	char name[64];

	tok = strtok_r(NULL, " \n", &save);
	len = unhex(tok, buf, bufsz);
	c->codes++;
	while ((tok = strtok_r(NULL, " \n", &save))) {
		unsigned int lo, hi;
		int line;

		if (sscanf(tok, "%u-%u:%d", &lo, &hi, &line) != 3)
			continue;
		for (unsigned int a = lo; a < hi; a++) {
			c->addrs++;
			snprintf(name, sizeof(name), "%s line of %u", ver, a);
			if (!ASSERT_EQ(hs_pycode_line(buf, len, first, a), line,
				       name))
				return;
		}
	}
}

static void check_str(char *rest, uint8_t *buf, size_t bufsz,
		      const struct version *v, struct counts *c)
{
	char *save = NULL, *raw = strtok_r(rest, " \n", &save);
	char *text = strtok_r(NULL, " \n", &save);
	uint8_t want[1024];
	char out[1024];
	size_t n = unhex(raw, buf, bufsz), wn = unhex(text, want, 1023);

	want[wn] = '\0';
	c->strs++;
	ASSERT_EQ(hs_pystr_decode(buf, n, &v->str, out, sizeof(out)),
		  (long long)wn, "decoded bytes");
	ASSERT_STREQ(out, (char *)want, "decoded text");
	/* cut short: a prefix of whole characters, still valid */
	if (n > v->str.compact_size + 8 &&
	    ASSERT_TRUE(
		    hs_pystr_decode(buf, n - 4, &v->str, out, sizeof(out)) >= 0,
		    "a cut object decodes"))
		ASSERT_TRUE(!strncmp(out, (char *)want, strlen(out)),
			    "a cut object gives a prefix");
}

static void test_fixtures(void)
{
	static uint8_t buf[1 << 16];
	char line[1 << 18];

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		const struct version *v = &versions[i];
		struct counts c = { 0 };
		char path[PATH_MAX + 32];
		FILE *f;

		snprintf(path, sizeof(path), "%s/pycode-%s.txt", fixdir,
			 v->name);
		f = fopen(path, "r");
		if (!ASSERT_TRUE(f != NULL, path))
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "code ", 5))
				check_code(line + 5, buf, sizeof(buf), &c,
					   v->name);
			else if (!strncmp(line, "str ", 4))
				check_str(line + 4, buf, sizeof(buf), v, &c);
		}
		fclose(f);
		printf("# %s: %ld code objects, %ld instructions, %ld strs\n",
		       v->name, c.codes, c.addrs, c.strs);
		ASSERT_TRUE(c.codes > 100 && c.strs >= 7, "fixture read");
	}
}

static void test_damaged_tables(void)
{
	/* one entry, one unit, line + 1 (one-line form 11), then columns */
	const uint8_t good[] = { 0x80 | 11 << 3, 1, 2 };
	const uint8_t none[] = { 0x80 | 15 << 3 };
	const uint8_t cont[] = { 0x01, 0x02 };
	/* a long form whose varint never ends */
	const uint8_t endless[] = { 0x80 | 14 << 3, 0x7f, 0x7f, 0x7f };

	ASSERT_EQ(hs_pycode_line(good, sizeof(good), 10, 0), 11, "one line");
	ASSERT_EQ(hs_pycode_line(good, sizeof(good), 10, 1), 0, "past end");
	ASSERT_EQ(hs_pycode_line(none, sizeof(none), 10, 0), 0, "no line");
	ASSERT_EQ(hs_pycode_line(cont, sizeof(cont), 10, 0), 0, "damaged");
	ASSERT_EQ(hs_pycode_line(NULL, 0, 10, 0), 0, "empty");
	hs_pycode_line(endless, sizeof(endless), 10, 0);
}

static void test_bad_strings(void)
{
	const struct hs_pystr_layout *l = &versions[1].str;
	uint8_t obj[64] = { 0 };
	char out[16];
	int64_t len = 5;
	uint32_t ascii = 1 << 2 | 1 << 5 | 1 << 6, legacy = 1 << 2;

	memcpy(obj + l->length, &len, sizeof(len));
	memcpy(obj + l->ascii_size, "hello", 5);
	memcpy(obj + l->state, &ascii, sizeof(ascii));
	ASSERT_EQ(hs_pystr_decode(obj, sizeof(obj), l, out, sizeof(out)), 5,
		  "ascii");
	ASSERT_STREQ(out, "hello", "ascii text");
	ASSERT_EQ(hs_pystr_decode(obj, sizeof(obj), l, out, 4), 3,
		  "out too small");
	ASSERT_EQ(hs_pystr_decode(obj, 20, l, out, sizeof(out)), -1,
		  "object cut before its state");
	memcpy(obj + l->state, &legacy, sizeof(legacy));
	ASSERT_EQ(hs_pystr_decode(obj, sizeof(obj), l, out, sizeof(out)), -1,
		  "not compact");
	len = -1;
	memcpy(obj + l->length, &len, sizeof(len));
	memcpy(obj + l->state, &ascii, sizeof(ascii));
	ASSERT_EQ(hs_pystr_decode(obj, sizeof(obj), l, out, sizeof(out)), -1,
		  "negative length");
}

int main(int argc, char **argv)
{
	char src[] = __FILE__;

	(void)argc;
	(void)argv;
	snprintf(fixdir, sizeof(fixdir), "%s/fixtures", dirname(src));
	RUN_TEST(test_fixtures);
	RUN_TEST(test_damaged_tables);
	RUN_TEST(test_bad_strings);
	return TEST_EXIT();
}
