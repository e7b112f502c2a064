// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The code objects of traced Python processes, and the mixed stack order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "pycode.h"
#include "pyframes.h"

struct hs_pycodes {
	struct hs_pycode *codes; /* sorted by id: ids only grow */
	size_t n, cap;
};

struct hs_pycodes *hs_pycodes_new(void)
{
	return calloc(1, sizeof(struct hs_pycodes));
}

static void code_free(struct hs_pycode *pc)
{
	free(pc->file);
	free(pc->name);
	free(pc->linetable);
}

void hs_pycodes_free(struct hs_pycodes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		code_free(&c->codes[i]);
	free(c->codes);
	free(c);
}

static char *decode(const uint8_t *obj, size_t len,
		    const struct hs_py_offsets *off)
{
	const struct hs_pystr_layout l = {
		.length = off->str_length,
		.state = off->str_state,
		.ascii_size = off->str_ascii_size,
		.compact_size = off->str_compact_size,
	};
	char buf[4 * HS_PY_STR_BYTES];

	if (len > HS_PY_STR_BYTES ||
	    hs_pystr_decode(obj, len, &l, buf, sizeof(buf)) < 0)
		return strdup("<unknown>");
	return strdup(buf);
}

static size_t find_slot(const struct hs_pycodes *c, uint32_t id)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->codes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int hs_pycodes_add(struct hs_pycodes *c, const struct hs_py_code_event *ev,
		   const struct hs_py_offsets *off)
{
	size_t at = find_slot(c, ev->id), len = ev->linetable_copied;
	struct hs_pycode pc = {
		.id = ev->id,
		.firstlineno = ev->firstlineno,
		.linetable_len = len < HS_PY_LINETABLE_BYTES ?
					 len :
					 HS_PY_LINETABLE_BYTES,
		.cut = ev->linetable_copied < ev->linetable_len,
	};

	if (at < c->n && c->codes[at].id == ev->id)
		return 0;
	pc.file = decode(ev->filename, ev->filename_copied, off);
	pc.name = decode(ev->qualname, ev->qualname_copied, off);
	pc.linetable = malloc(pc.linetable_len ? pc.linetable_len : 1);
	if (!pc.file || !pc.name || !pc.linetable ||
	    hs_grow(&c->codes, &c->cap, c->n + 1, sizeof(*c->codes))) {
		code_free(&pc);
		return -ENOMEM;
	}
	memcpy(pc.linetable, ev->linetable, pc.linetable_len);
	memmove(&c->codes[at + 1], &c->codes[at],
		(c->n - at) * sizeof(*c->codes));
	c->codes[at] = pc;
	c->n++;
	return 0;
}

const struct hs_pycode *hs_pycodes_find(const struct hs_pycodes *c, uint32_t id)
{
	size_t at = find_slot(c, id);

	return at < c->n && c->codes[at].id == id ? &c->codes[at] : NULL;
}

int hs_pycode_line_at(const struct hs_pycode *pc, uint32_t instr)
{
	return hs_pycode_line(pc->linetable, pc->linetable_len, pc->firstlineno,
			      instr);
}

size_t hs_pyframes_order(const uint64_t *ip, size_t n, const bool *is_eval,
			 uint32_t *order, size_t max)
{
	size_t nat = 0, py, out = 0;

	while (nat < n && !(ip[nat] & HS_PYFRAME))
		nat++;
	py = nat;
	for (size_t i = 0; i < nat && out < max; i++) {
		if (!is_eval[i] || py == n) {
			order[out++] = (uint32_t)i;
			continue;
		}
		while (py < n && out < max) {
			bool entry = ip[py] & HS_PYFRAME_ENTRY;

			order[out++] = (uint32_t)py++;
			if (entry)
				break;
		}
	}
	while (py < n && out < max)
		order[out++] = (uint32_t)py++;
	return out;
}
