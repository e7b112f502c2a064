// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The tree of a flame graph of live memory: frames outermost first, merged
 * by name, file and line, so that snapshots of two runs compare. Children
 * are sorted biggest first, as flamegraph.pl draws them; in a diff, a frame
 * weighs the larger of its old and new bytes, so what shrank to nothing
 * stays visible.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "aggregate.h"
#include "flamegraph.h"
#include "flamegraph_tree.h"
#include "grow.h"
#include "htab.h"

struct fdesc_ix {
	UT_hash_handle hh;
	uint32_t desc;
	char key[];
};

struct node_ix {
	UT_hash_handle hh;
	uint64_t key; /* parent << 32 | desc */
	uint32_t node;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "name (file.c:12)", with the file's base name; "name" without a file. */
static char *make_label(const char *name, const char *file, uint32_t line)
{
	char *out;

	if (!file)
		return strdup(name);
	if (line && asprintf(&out, "%s (%s:%" PRIu32 ")", name,
			     hs_base_name(file), line) >= 0)
		return out;
	if (!line && asprintf(&out, "%s (%s)", name, hs_base_name(file)) >= 0)
		return out;
	return NULL;
}

/* The desc of name/file/line, added if new; NO_DESC on no memory. */
static uint32_t desc_intern(struct hs_flame *f, const char *name,
			    const char *file, uint32_t line, const char *module,
			    bool inlined)
{
	struct fdesc_ix *e, *found;
	struct fdesc *d;
	size_t klen;

	klen = (size_t)snprintf(NULL, 0, "%s\x1f%s\x1f%" PRIu32, name,
				file ? file : "", line);
	e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return NO_DESC;
	snprintf(e->key, klen + 1, "%s\x1f%s\x1f%" PRIu32, name,
		 file ? file : "", line);
	HASH_FIND(hh, f->desc_index, e->key, klen, found);
	if (found) {
		free(e);
		return found->desc;
	}
	if (hs_grow(&f->descs, &f->cap_descs, f->ndescs + 1,
		    sizeof(*f->descs))) {
		free(e);
		return NO_DESC;
	}
	d = &f->descs[f->ndescs];
	d->name = strdup(name);
	d->label = make_label(name, file, line);
	d->file = dup_or_null(file);
	d->module = dup_or_null(module);
	d->line = line;
	d->inlined = inlined;
	if (!d->name || !d->label || (file && !d->file) ||
	    (module && !d->module)) {
		free(d->name);
		free(d->label);
		free(d->file);
		free(d->module);
		free(e);
		return NO_DESC;
	}
	e->desc = (uint32_t)f->ndescs++;
	HASH_ADD(hh, f->desc_index, key[0], klen, e);
	return e->desc;
}

static uint32_t desc_of_frame(struct hs_flame *f, const struct hs_snapshot *s,
			      uint32_t idx)
{
	struct hs_frame_view v;
	char name[FLAME_NAME_LEN];

	hs_frame_view(s, idx, &v);
	hs_frame_name(s, idx, name, sizeof(name));
	return desc_intern(f, name, v.file, v.line, v.module, v.inlined);
}

/* The child of parent for desc, added if new; UINT32_MAX on no memory. */
static uint32_t child_of(struct hs_flame *f, uint32_t parent, uint32_t desc)
{
	uint64_t key = (uint64_t)parent << 32 | desc;
	struct node_ix *e;
	struct node *n;

	HASH_FIND(hh, f->node_index, &key, sizeof(key), e);
	if (e)
		return e->node;
	e = calloc(1, sizeof(*e));
	if (!e || f->nnodes >= UINT32_MAX ||
	    hs_grow(&f->nodes, &f->cap_nodes, f->nnodes + 1,
		    sizeof(*f->nodes))) {
		free(e);
		return UINT32_MAX;
	}
	n = &f->nodes[f->nnodes];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->desc = desc;
	n->depth = f->nodes[parent].depth + 1;
	e->key = key;
	e->node = (uint32_t)f->nnodes++;
	HASH_ADD(hh, f->node_index, key, sizeof(e->key), e);
	return e->node;
}

static void node_add(struct node *n, int side, const struct hs_sum *v)
{
	n->bytes[side] += v->bytes;
	n->count[side] += v->count;
}

/* Adds one stack's sums along its path, outermost frame first. */
static int add_stack(struct hs_flame *f, const struct hs_snapshot *s,
		     uint32_t *desc_cache, const uint32_t *frames, uint32_t n,
		     int side, const struct hs_sum *v)
{
	uint32_t node = 0, d, i;

	node_add(&f->nodes[0], side, v);
	if (!n) {
		d = desc_intern(f, "<unknown>", NULL, 0, NULL, false);
		node = d == NO_DESC ? UINT32_MAX : child_of(f, 0, d);
		if (node == UINT32_MAX)
			return -1;
		node_add(&f->nodes[node], side, v);
		return 0;
	}
	for (i = n; i-- > 0;) {
		d = desc_cache[frames[i]];
		if (d == NO_DESC) {
			d = desc_cache[frames[i]] =
				desc_of_frame(f, s, frames[i]);
			if (d == NO_DESC)
				return -1;
		}
		node = child_of(f, node, d);
		if (node == UINT32_MAX)
			return -1;
		node_add(&f->nodes[node], side, v);
	}
	return 0;
}

static int add_snapshot(struct hs_flame *f, const struct hs_snapshot *s,
			const struct hs_query *q, int side)
{
	uint32_t *desc_cache = malloc((s->nframes + 1) * sizeof(uint32_t));
	const char *cmd = hs_snapshot_str(s, s->command);
	struct hs_sums sums = { 0 };
	const uint32_t *frames;
	uint32_t n;
	size_t i;
	int err = !desc_cache || hs_stack_sums(s, q, &sums);

	for (i = 0; !err && i < s->nframes; i++)
		desc_cache[i] = NO_DESC;
	for (i = 0; !err && i < sums.nslots; i++) {
		if (!sums.slots[i].bytes && !sums.slots[i].count)
			continue;
		frames = hs_stack_frames(s, i, &n);
		err = add_stack(f, s, desc_cache, frames, n, side,
				&sums.slots[i]);
	}
	if (!err && cmd) {
		f->command[side] = strdup(cmd);
		err = !f->command[side];
	}
	hs_sums_free(&sums);
	free(desc_cache);
	return err ? -1 : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int cmp_children(const void *a, const void *b, void *arg)
{
	const struct hs_flame *f = arg;
	const struct node *x = &f->nodes[*(const uint32_t *)a];
	const struct node *y = &f->nodes[*(const uint32_t *)b];
	const struct fdesc *dx = &f->descs[x->desc], *dy = &f->descs[y->desc];
	int c;

	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	c = strcmp(dx->name, dy->name);
	if (c)
		return c;
	return dx->line < dy->line ? -1 : dx->line > dy->line;
}

/*
 * Children lists, layout weights and offsets. Children always have larger
 * indices than their parents, so one pass backwards sums the tree up and
 * one pass forwards lays it out.
 */
static int layout(struct hs_flame *f)
{
	uint64_t(*child_bytes)[2];
	uint32_t *fill;
	struct node *n, *p;
	uint64_t self[2], x;
	size_t i, j;

	child_bytes = calloc(f->nnodes, sizeof(*child_bytes));
	fill = calloc(f->nnodes, sizeof(*fill));
	f->children = malloc(f->nnodes * sizeof(*f->children));
	if (!child_bytes || !fill || !f->children) {
		free(child_bytes);
		free(fill);
		return -1;
	}
	for (i = f->nnodes; i-- > 1;) {
		p = &f->nodes[f->nodes[i].parent];
		child_bytes[f->nodes[i].parent][0] += f->nodes[i].bytes[0];
		child_bytes[f->nodes[i].parent][1] += f->nodes[i].bytes[1];
		p->nchildren++;
	}
	for (i = 0; i < f->nnodes; i++) {
		n = &f->nodes[i];
		self[0] = n->bytes[0] - child_bytes[i][0];
		self[1] = n->bytes[1] - child_bytes[i][1];
		n->w = f->diff ? max_u64(self[0], self[1]) : self[1];
	}
	for (i = f->nnodes; i-- > 1;)
		f->nodes[f->nodes[i].parent].w += f->nodes[i].w;
	for (i = 0, x = 0; i < f->nnodes; i++) {
		f->nodes[i].first_child = (uint32_t)x;
		x += f->nodes[i].nchildren;
	}
	for (i = 1; i < f->nnodes; i++) {
		p = &f->nodes[f->nodes[i].parent];
		f->children[p->first_child + fill[f->nodes[i].parent]++] =
			(uint32_t)i;
	}
	for (i = 0; i < f->nnodes; i++) {
		n = &f->nodes[i];
		qsort_r(f->children + n->first_child, n->nchildren,
			sizeof(uint32_t), cmp_children, f);
		x = n->x;
		for (j = 0; j < n->nchildren; j++) {
			f->nodes[f->children[n->first_child + j]].x = x;
			x += f->nodes[f->children[n->first_child + j]].w;
		}
	}
	free(child_bytes);
	free(fill);
	return 0;
}

struct hs_flame *hs_flame_build(const struct hs_snapshot *old,
				const struct hs_snapshot *new,
				const struct hs_query *q)
{
	struct hs_flame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->diff = old != NULL;
	if (hs_grow(&f->nodes, &f->cap_nodes, 1, sizeof(*f->nodes)))
		goto fail;
	memset(&f->nodes[0], 0, sizeof(f->nodes[0]));
	f->nodes[0].desc = NO_DESC;
	f->nnodes = 1;
	if ((old && add_snapshot(f, old, q, 0)) || add_snapshot(f, new, q, 1) ||
	    layout(f))
		goto fail;
	return f;
fail:
	hs_flame_free(f);
	return NULL;
}

void hs_flame_free(struct hs_flame *f)
{
	size_t i;

	if (!f)
		return;
	HS_HASH_FREE(f->desc_index);
	HS_HASH_FREE(f->node_index);
	for (i = 0; i < f->ndescs; i++) {
		free(f->descs[i].name);
		free(f->descs[i].label);
		free(f->descs[i].file);
		free(f->descs[i].module);
	}
	free(f->descs);
	free(f->nodes);
	free(f->children);
	free(f->command[0]);
	free(f->command[1]);
	free(f);
}
