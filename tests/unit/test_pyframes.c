// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The code object registry and the order of mixed native/Python stacks. */
#include "pyframes.h"
#include "test.h"

/* CPython 3.12's str layout (PyASCIIObject is 40 bytes). */
static const struct hs_py_offsets off312 = {
	.str_length = 16,
	.str_state = 32,
	.str_ascii_size = 40,
	.str_compact_size = 56,
};

static uint16_t ascii_str(uint8_t *obj, const char *s)
{
	int64_t len = (int64_t)strlen(s);
	uint32_t state = 1 << 2 | 1 << 5 | 1 << 6; /* kind 1, compact, ascii */

	memset(obj, 0, HS_PY_STR_BYTES);
	memcpy(obj + 16, &len, sizeof(len));
	memcpy(obj + 32, &state, sizeof(state));
	memcpy(obj + 40, s, (size_t)len);
	return (uint16_t)(40 + len + 1);
}

static void make_event(struct hs_py_code_event *ev, uint32_t id,
		       const char *file, const char *name)
{
	/* firstlineno 10; 2 units on line 10, then 3 on line 12 */
	const uint8_t table[] = { 0x80 | 10 << 3 | 1, 0, 0,
				  0x80 | 12 << 3 | 2, 0, 0 };

	memset(ev, 0, sizeof(*ev));
	ev->tgid = 42;
	ev->id = id;
	ev->firstlineno = 10;
	ev->filename_copied = ascii_str(ev->filename, file);
	ev->qualname_copied = ascii_str(ev->qualname, name);
	memcpy(ev->linetable, table, sizeof(table));
	ev->linetable_len = sizeof(table);
	ev->linetable_copied = sizeof(table);
}

static void test_registry(void)
{
	static struct hs_py_code_event ev;
	struct hs_pycodes *c = hs_pycodes_new();
	const struct hs_pycode *pc;

	ASSERT_TRUE(c != NULL, "new");
	make_event(&ev, 7, "/app/main.py", "Server.handle");
	ASSERT_EQ(hs_pycodes_add(c, &ev, &off312), 0, "add 7");
	make_event(&ev, 3, "/app/util.py", "<module>");
	ASSERT_EQ(hs_pycodes_add(c, &ev, &off312), 0, "add 3");
	make_event(&ev, 7, "/other.py", "other");
	ASSERT_EQ(hs_pycodes_add(c, &ev, &off312), 0, "add 7 again");
	pc = hs_pycodes_find(c, 7);
	if (ASSERT_TRUE(pc != NULL, "find 7")) {
		ASSERT_STREQ(pc->file, "/app/main.py", "first report kept");
		ASSERT_STREQ(pc->name, "Server.handle", "qualname");
		ASSERT_EQ(hs_pycode_line_at(pc, 0), 10, "line of unit 0");
		ASSERT_EQ(hs_pycode_line_at(pc, 1), 10, "line of unit 1");
		ASSERT_EQ(hs_pycode_line_at(pc, 4), 12, "line of unit 4");
		ASSERT_EQ(hs_pycode_line_at(pc, 5), 0, "past the table");
		ASSERT_TRUE(!pc->cut, "whole table");
	}
	pc = hs_pycodes_find(c, 3);
	ASSERT_TRUE(pc && !strcmp(pc->file, "/app/util.py"), "find 3");
	ASSERT_TRUE(hs_pycodes_find(c, 5) == NULL, "unknown id");
	/* a garbled str is named, not trusted */
	make_event(&ev, 9, "x.py", "f");
	ev.filename[32] = 0;
	ev.linetable_len = 100000;
	ASSERT_EQ(hs_pycodes_add(c, &ev, &off312), 0, "add 9");
	pc = hs_pycodes_find(c, 9);
	if (ASSERT_TRUE(pc != NULL, "find 9")) {
		ASSERT_STREQ(pc->file, "<unknown>", "garbled file");
		ASSERT_TRUE(pc->cut, "table cut");
	}
	hs_pycodes_free(c);
}

#define N HS_PYFRAME_ENTRY

static void check_order(const uint64_t *ip, size_t n, const bool *is_eval,
			const uint32_t *want, size_t nwant, size_t max,
			const char *name)
{
	uint32_t got[32];
	size_t k = hs_pyframes_order(ip, n, is_eval, got, max);

	if (!ASSERT_EQ(k, nwant, name))
		return;
	for (size_t i = 0; i < k; i++)
		ASSERT_EQ(got[i], want[i], name);
}

static void test_order(void)
{
	const uint64_t P = HS_PYFRAME;
	/* native A, eval, B, eval, C; Python p1 p2* | p3 p4* */
	const uint64_t ip1[] = { 0x10,	0x20,	   0x30,  0x20,	    0x40,
				 P | 1, P | N | 2, P | 3, P | N | 4 };
	const bool ev1[] = { 0, 1, 0, 1, 0 };
	const uint32_t want1[] = { 0, 5, 6, 2, 7, 8, 4 };
	/* fewer eval frames than runs: the rest of Python goes last */
	const uint64_t ip2[] = { 0x10, 0x20, P | N | 1, P | N | 2 };
	const bool ev2[] = { 0, 1 };
	const uint32_t want2[] = { 0, 2, 3 };
	/* an eval frame with no Python frame left stays native */
	const uint64_t ip3[] = { 0x10, 0x20, 0x30 };
	const bool ev3[] = { 0, 1, 0 };
	const uint32_t want3[] = { 0, 1, 2 };
	/* Python frames only */
	const uint64_t ip4[] = { P | 1, P | N | 2 };
	const uint32_t want4[] = { 0, 1 };

	check_order(ip1, 9, ev1, want1, 7, 32, "two runs");
	check_order(ip1, 9, ev1, want1, 3, 3, "cut at max");
	check_order(ip2, 4, ev2, want2, 3, 32, "runs left over");
	check_order(ip3, 3, ev3, want3, 3, 32, "no Python frames");
	check_order(ip4, 2, NULL, want4, 2, 32, "no native frames");
}

int main(void)
{
	RUN_TEST(test_registry);
	RUN_TEST(test_order);
	return TEST_EXIT();
}
