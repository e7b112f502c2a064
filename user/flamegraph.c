// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Flame graphs of live memory, drawn as flamegraph.pl draws them: the root
 * at the bottom, each frame as wide as its bytes, children sorted biggest
 * first. In a diff, a frame is as wide as the larger of its old and new
 * bytes, so what shrank to nothing stays visible, and its colour says how
 * much it grew (red) or shrank (blue).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "aggregate.h"
#include "flamegraph.h"
#include "grow.h"
#include "htab.h"
#include "render.h"

#define DEFAULT_WIDTH 1200
#define MIN_WIDTH 200
#define XPAD 10
#define FRAME_H 16
#define FONT_SIZE 12
#define TOP_PAD (FONT_SIZE * 5)
#define BOTTOM_PAD (FONT_SIZE * 2 + 10)
#define MIN_PX 0.1 /* narrower frames are not drawn */
#define CHAR_W (FONT_SIZE * 0.59) /* average glyph width of the font */

#define FLAME_NAME_LEN 4096
#define NO_DESC UINT32_MAX

/* A frame, symbolically: what nodes of two snapshots are merged by. */
struct fdesc {
	char *name;
	char *label; /* drawn in the box and searched: "name (file.c:12)" */
	char *file; /* NULL when unknown */
	char *module; /* NULL when unknown */
	uint32_t line;
	bool inlined;
};

struct node {
	uint32_t parent;
	uint32_t desc; /* NO_DESC for the root */
	uint32_t depth;
	uint32_t first_child; /* in hs_flame.children */
	uint32_t nchildren;
	uint64_t bytes[2]; /* old, new */
	uint64_t count[2];
	uint64_t w; /* layout weight: the bytes its width stands for */
	uint64_t x; /* layout offset, in weight units */
};

/* Node 0 is the root; children have larger indices than their parents. */
struct hs_flame {
	bool diff;
	char *command[2];
	struct fdesc *descs;
	size_t ndescs, cap_descs;
	struct fdesc_ix *desc_index;
	struct node *nodes;
	size_t nnodes, cap_nodes;
	struct node_ix *node_index;
	uint32_t *children;
};

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

/* ---- drawing ---- */

/* Text for XML content and attributes; control characters become '?'. */
static void xml_puts(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s,
			      out);
		}
	}
}

/* At most max characters of s, ".." marking a cut; "" when too narrow. */
static void fit_label(char *buf, size_t len, const char *s, double px)
{
	size_t max = px > 6 ? (size_t)((px - 6) / CHAR_W) : 0;
	size_t n = strlen(s);

	if (max < 3) {
		buf[0] = '\0';
		return;
	}
	if (max >= len)
		max = len - 1;
	if (n <= max) {
		snprintf(buf, len, "%s", s);
		return;
	}
	snprintf(buf, len, "%.*s..", (int)(max - 2), s);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Greens for memory, as flamegraph.pl's "mem" palette; stable per name. */
static void name_colour(char *buf, size_t len, const char *name)
{
	uint32_t h = fnv1a(name);

	snprintf(buf, len, "rgb(%u,%u,%u)", (h & 0xff) * 60 / 255,
		 170 + ((h >> 8) & 0xff) * 60 / 255,
		 40 + ((h >> 16) & 0xff) * 110 / 255);
}

/* Red for growth, blue for shrinkage, paler the smaller the change. */
static void delta_colour(char *buf, size_t len, int64_t delta,
			 uint64_t max_delta)
{
	double ratio = max_delta ? (double)(delta < 0 ? -delta : delta) /
					   (double)max_delta :
				   0;
	unsigned int c;

	if (ratio > 1)
		ratio = 1;
	c = 230 - (unsigned int)(200 * ratio + 0.5);
	if (delta > 0)
		snprintf(buf, len, "rgb(255,%u,%u)", c, c);
	else if (delta < 0)
		snprintf(buf, len, "rgb(%u,%u,255)", c, c);
	else
		snprintf(buf, len, "rgb(230,230,230)");
}

static int64_t node_delta(const struct node *n)
{
	return (int64_t)(n->bytes[1] - n->bytes[0]);
}

static const char *node_name(const struct hs_flame *f, const struct node *n)
{
	return n->desc == NO_DESC ? "all" : f->descs[n->desc].name;
}

static const char *node_label(const struct hs_flame *f, const struct node *n)
{
	return n->desc == NO_DESC ? "all" : f->descs[n->desc].label;
}

static void print_bytes(FILE *out, uint64_t bytes)
{
	char b[64];

	hs_format_bytes(b, sizeof(b), bytes);
	fputs(b, out);
}

static void print_delta(FILE *out, int64_t delta)
{
	char b[64];

	hs_format_size(b, sizeof(b), (double)delta, true);
	fputs(b, out);
	if (delta <= -10 * 1024 || delta >= 10 * 1024)
		fprintf(out, " (%+" PRId64 " B)", delta);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The tooltip: name, where, then the numbers, one per line. */
static void print_tooltip(FILE *out, const struct hs_flame *f,
			  const struct node *n)
{
	const struct fdesc *d = n->desc == NO_DESC ? NULL : &f->descs[n->desc];
	const struct node *root = &f->nodes[0];
	int64_t delta = node_delta(n);

	xml_puts(out, node_name(f, n));
	if (d && d->file) {
		fputs("\n", out);
		xml_puts(out, d->file);
		if (d->line)
			fprintf(out, ":%" PRIu32, d->line);
	} else if (d && d->module) {
		fputs("\n", out);
		xml_puts(out, d->module);
	}
	if (d && d->inlined)
		fputs(" (inlined)", out);
	fputs("\n", out);
	if (!f->diff) {
		print_bytes(out, n->bytes[1]);
		fprintf(out, ", %.2f%% in %" PRIu64 " %s",
			root->bytes[1] ? 100.0 * n->bytes[1] / root->bytes[1] :
					 0,
			n->count[1], plural(n->count[1], "block", "blocks"));
		return;
	}
	print_bytes(out, n->bytes[0]);
	fputs(" \xe2\x86\x92 ", out);
	print_bytes(out, n->bytes[1]);
	fputs(": ", out);
	print_delta(out, delta);
	if (n->bytes[0])
		fprintf(out, " (%+.1f%%)", 100.0 * delta / n->bytes[0]);
	else if (delta)
		fputs(" (new)", out);
	fprintf(out,
		"\n%" PRIu64 " \xe2\x86\x92 %" PRIu64 " blocks (%+" PRId64 ")",
		n->count[0], n->count[1], (int64_t)(n->count[1] - n->count[0]));
}

struct canvas {
	unsigned int width, height;
	double plot_w; /* pixels for the root's weight */
	uint64_t root_w;
	uint32_t depth; /* deepest drawn frame */
	uint64_t max_delta; /* biggest |change| below the root */
};

static double px(const struct canvas *c, uint64_t w)
{
	return c->root_w ? (double)w * c->plot_w / (double)c->root_w : 0;
}

/* Drawn width: a pixel less, so neighbours of one colour stay apart. */
static double gap(double w)
{
	return w >= 2 ? w - 1 : w;
}

static bool drawn(const struct canvas *c, const struct node *n)
{
	return px(c, n->w) >= MIN_PX;
}

static void print_frame(FILE *out, const struct hs_flame *f,
			const struct canvas *c, uint32_t i)
{
	const struct node *n = &f->nodes[i];
	const char *name = node_name(f, n), *text = node_label(f, n);
	double x = XPAD + px(c, n->x), w = px(c, n->w);
	double y = c->height - BOTTOM_PAD - (n->depth + 1.0) * FRAME_H;
	char colour[32], label[FLAME_NAME_LEN];

	if (f->diff)
		delta_colour(colour, sizeof(colour), node_delta(n),
			     c->max_delta);
	else
		name_colour(colour, sizeof(colour), name);
	fit_label(label, sizeof(label), text, w);
	fprintf(out,
		"<g class=\"f\" id=\"f%" PRIu32 "\" data-d=\"%" PRIu32
		"\" data-x=\"%" PRIu64 "\" data-w=\"%" PRIu64
		"\" data-v=\"%" PRIu64 "\" data-n=\"",
		i, n->depth, n->x, n->w, n->bytes[1]);
	xml_puts(out, text);
	fputs("\"><title>", out);
	print_tooltip(out, f, n);
	fprintf(out,
		"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
		"height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\"/>"
		"<text x=\"%.2f\" y=\"%.1f\">",
		x, y, gap(w), FRAME_H - 1, colour, x + 3, y + 10.5);
	xml_puts(out, label);
	fputs("</text></g>\n", out);
}

static const char flame_style[] =
	"<style>\n"
	"text { font-family: Verdana, \"DejaVu Sans\", sans-serif; "
	"font-size: 12px; fill: #000; }\n"
	"#title { font-size: 17px; text-anchor: middle; }\n"
	"#subtitle { fill: #555; text-anchor: middle; }\n"
	"#details, #matched { fill: #333; }\n"
	"#unzoom, #search { cursor: pointer; fill: #1a55a0; }\n"
	".f text { pointer-events: none; }\n"
	".f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }\n"
	".hide { display: none; }\n"
	".parent { opacity: 0.5; }\n"
	"</style>\n";

/*
 * The interactive part, for the SVG alone or inside the HTML page (whose
 * #hs-search box it then uses): hover fills the details line, a click
 * zooms to a frame, Ctrl+F or / searches by regular expression, Escape
 * clears. "#s=REGEX&z=fN" in the address searches and zooms on load.
 */
static const char flame_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"\"use strict\";\n"
	"(function () {\n"
	"  var svg = document.getElementById(\"hs-flame\");\n"
	"  var W = +svg.getAttribute(\"width\"), PAD = 10, CW = 12 * 0.59;\n"
	"  var diff = svg.getAttribute(\"data-diff\") === \"1\";\n"
	"  var details = document.getElementById(\"details\");\n"
	"  var matched = document.getElementById(\"matched\");\n"
	"  var unzoom = document.getElementById(\"unzoom\");\n"
	"  var box = document.getElementById(\"hs-search\");\n"
	"  var frames = [], root = null, term = \"\";\n"
	"  Array.prototype.forEach.call(svg.querySelectorAll(\"g.f\"), function (g) {\n"
	"    var f = { g: g, r: g.querySelector(\"rect\"), t: g.querySelector(\"text\"),\n"
	"      d: +g.getAttribute(\"data-d\"), x: +g.getAttribute(\"data-x\"),\n"
	"      w: +g.getAttribute(\"data-w\"), v: +g.getAttribute(\"data-v\"),\n"
	"      n: g.getAttribute(\"data-n\"),\n"
	"      tip: g.querySelector(\"title\").textContent };\n"
	"    f.fill = f.r.getAttribute(\"fill\");\n"
	"    g.hsFrame = f;\n"
	"    frames.push(f);\n"
	"    if (f.d === 0) root = f;\n"
	"  });\n"
	"  if (!root) return;\n"
	"  function size(b) {\n"
	"    var u = [\"B\", \"KiB\", \"MiB\", \"GiB\", \"TiB\"], i = 0;\n"
	"    while (Math.abs(b) >= 10240 && i < u.length - 1) { b /= 1024; i++; }\n"
	"    return (i && Math.abs(b) < 100 ? b.toFixed(1) : b.toFixed(0)) + \" \" + u[i];\n"
	"  }\n"
	"  function label(f, w) {\n"
	"    var max = Math.floor((w - 6) / CW);\n"
	"    if (max < 3) return \"\";\n"
	"    return f.n.length <= max ? f.n : f.n.substring(0, max - 2) + \"..\";\n"
	"  }\n"
	"  function place(f, x, w) {\n"
	"    f.r.setAttribute(\"x\", x.toFixed(2));\n"
	"    f.r.setAttribute(\"width\", (w >= 2 ? w - 1 : w).toFixed(2));\n"
	"    f.t.setAttribute(\"x\", (x + 3).toFixed(2));\n"
	"    f.t.textContent = label(f, w);\n"
	"  }\n"
	"  function zoom(z) {\n"
	"    var scale = (W - 2 * PAD) / z.w;\n"
	"    frames.forEach(function (f) {\n"
	"      var show, above = f.d < z.d;\n"
	"      if (above)\n"
	"        show = f.x <= z.x && f.x + f.w >= z.x + z.w;\n"
	"      else\n"
	"        show = f.x >= z.x && f.x + f.w <= z.x + z.w;\n"
	"      f.g.classList.toggle(\"hide\", !show);\n"
	"      f.g.classList.toggle(\"parent\", show && above);\n"
	"      if (!show) return;\n"
	"      if (above) place(f, PAD, W - 2 * PAD);\n"
	"      else place(f, PAD + (f.x - z.x) * scale, f.w * scale);\n"
	"    });\n"
	"    unzoom.classList.toggle(\"hide\", z === root);\n"
	"    svg.setAttribute(\"data-zoom\", z.g.id);\n"
	"  }\n"
	"  function search(t) {\n"
	"    var re = null, spans = [], end = -1, w = 0, v = 0;\n"
	"    term = t || \"\";\n"
	"    if (term) {\n"
	"      try { re = new RegExp(term, \"i\"); }\n"
	"      catch (e) { re = new RegExp(term.replace(/[.*+?^${}()|[\\]\\\\]/g, \"\\\\$&\"), \"i\"); }\n"
	"    }\n"
	"    frames.forEach(function (f) {\n"
	"      var hit = re !== null && f !== root && re.test(f.n);\n"
	"      f.g.classList.toggle(\"match\", hit);\n"
	"      f.r.setAttribute(\"fill\", hit ? \"rgb(230,0,230)\" : f.fill);\n"
	"      if (hit) spans.push(f);\n"
	"    });\n"
	"    spans.sort(function (a, b) { return a.x - b.x || b.w - a.w; });\n"
	"    spans.forEach(function (f) {\n"
	"      if (f.x < end) return;\n"
	"      end = f.x + f.w; w += f.w; v += f.v;\n"
	"    });\n"
	"    if (!re) matched.textContent = \"\";\n"
	"    else matched.textContent = \"Matched: \" + (diff ? \"\" : size(v) + \", \") +\n"
	"      (root.w ? (100 * w / root.w).toFixed(1) : \"0.0\") + \"%\";\n"
	"    if (box && box.value !== term) box.value = term;\n"
	"  }\n"
	"  function ask() {\n"
	"    if (box) { box.focus(); box.select(); return; }\n"
	"    var t = window.prompt(\"Search frames (regular expression)\", term);\n"
	"    if (t !== null) search(t);\n"
	"  }\n"
	"  function frameOf(e) {\n"
	"    var g = e.target.closest ? e.target.closest(\"g.f\") : null;\n"
	"    return g ? g.hsFrame : null;\n"
	"  }\n"
	"  svg.addEventListener(\"mouseover\", function (e) {\n"
	"    var f = frameOf(e);\n"
	"    if (f) details.textContent = f.tip.replace(/\\n/g, \"  |  \");\n"
	"  });\n"
	"  svg.addEventListener(\"mouseout\", function (e) {\n"
	"    if (frameOf(e)) details.textContent = \" \";\n"
	"  });\n"
	"  svg.addEventListener(\"click\", function (e) {\n"
	"    var f = frameOf(e);\n"
	"    if (f) zoom(f);\n"
	"  });\n"
	"  unzoom.addEventListener(\"click\", function () { zoom(root); });\n"
	"  document.getElementById(\"search\").addEventListener(\"click\", ask);\n"
	"  if (box) box.addEventListener(\"input\", function () { search(box.value); });\n"
	"  var reset = document.getElementById(\"hs-reset\");\n"
	"  if (reset) reset.addEventListener(\"click\", function () { zoom(root); search(\"\"); });\n"
	"  document.addEventListener(\"keydown\", function (e) {\n"
	"    var typing = e.target === box;\n"
	"    if ((e.ctrlKey || e.metaKey) && e.key === \"f\" || e.key === \"/\" && !typing) {\n"
	"      e.preventDefault();\n"
	"      ask();\n"
	"    } else if (e.key === \"Escape\") {\n"
	"      search(\"\");\n"
	"      if (typing) box.blur();\n"
	"    }\n"
	"  });\n"
	"  var params = {};\n"
	"  location.hash.replace(/^#/, \"\").split(\"&\").forEach(function (kv) {\n"
	"    var i = kv.indexOf(\"=\");\n"
	"    if (i > 0) params[kv.substring(0, i)] = decodeURIComponent(kv.substring(i + 1));\n"
	"  });\n"
	"  var z = params.z && document.getElementById(params.z);\n"
	"  zoom(z && z.hsFrame ? z.hsFrame : root);\n"
	"  if (params.s) search(params.s);\n"
	"  svg.setAttribute(\"data-ready\", \"1\");\n"
	"})();\n"
	"]]></script>\n";

static void print_title(FILE *out, const struct hs_flame *f,
			const struct hs_flame_opts *o)
{
	const char *cmd = f->command[1] ? f->command[1] : "?";

	if (o->title) {
		xml_puts(out, o->title);
	} else if (f->diff) {
		fputs("Memory change of ", out);
		xml_puts(out, cmd);
	} else {
		fputs("Live memory of ", out);
		xml_puts(out, cmd);
	}
}

static void print_subtitle(FILE *out, const struct hs_flame *f)
{
	const struct node *root = &f->nodes[0];

	if (!f->diff) {
		print_bytes(out, root->bytes[1]);
		fprintf(out, " in %" PRIu64 " %s", root->count[1],
			plural(root->count[1], "block", "blocks"));
		fputs(" \xc2\xb7 width: bytes \xc2\xb7 click to zoom, "
		      "Ctrl+F or / to search",
		      out);
		return;
	}
	print_bytes(out, root->bytes[0]);
	fputs(" \xe2\x86\x92 ", out);
	print_bytes(out, root->bytes[1]);
	fputs(": ", out);
	print_delta(out, node_delta(root));
	fputs(" \xc2\xb7 red grew, blue shrank \xc2\xb7 width: the larger of "
	      "old and new",
	      out);
}

static void canvas_init(struct canvas *c, const struct hs_flame *f,
			const struct hs_flame_opts *o)
{
	const struct node *n;
	uint64_t mag;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->width = o->width ? o->width : DEFAULT_WIDTH;
	if (c->width < MIN_WIDTH)
		c->width = MIN_WIDTH;
	c->plot_w = c->width - 2.0 * XPAD;
	c->root_w = f->nodes[0].w;
	for (i = 0; i < f->nnodes; i++) {
		n = &f->nodes[i];
		if (!drawn(c, n))
			continue;
		if (n->depth > c->depth)
			c->depth = n->depth;
		mag = (uint64_t)(node_delta(n) < 0 ? -node_delta(n) :
						     node_delta(n));
		if (i && mag > c->max_delta)
			c->max_delta = mag;
	}
	c->height = TOP_PAD + (c->depth + 1) * FRAME_H + BOTTOM_PAD;
}

static void print_svg(FILE *out, const struct hs_flame *f,
		      const struct hs_flame_opts *o, const struct canvas *c,
		      struct hs_flame_summary *sum)
{
	size_t i;

	fprintf(out,
		"<svg version=\"1.1\" id=\"hs-flame\" width=\"%u\" "
		"height=\"%u\" viewBox=\"0 0 %u %u\" data-diff=\"%d\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		c->width, c->height, c->width, c->height, f->diff);
	fputs(flame_style, out);
	fprintf(out,
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" "
		"fill=\"#f8f8f6\"/>\n<text id=\"title\" x=\"%u\" y=\"%d\">",
		c->width / 2, FONT_SIZE * 2);
	print_title(out, f, o);
	fprintf(out, "</text>\n<text id=\"subtitle\" x=\"%u\" y=\"%d\">",
		c->width / 2, FONT_SIZE * 2 + 18);
	print_subtitle(out, f);
	fprintf(out,
		"</text>\n<text id=\"unzoom\" class=\"hide\" x=\"%d\" "
		"y=\"%d\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%u\" y=\"%d\" "
		"text-anchor=\"end\">Search</text>\n"
		"<text id=\"matched\" x=\"%u\" y=\"%u\" "
		"text-anchor=\"end\"> </text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n",
		XPAD, FONT_SIZE * 4, c->width - XPAD, FONT_SIZE * 4,
		c->width - XPAD, c->height - 10, XPAD, c->height - 10);
	if (!c->root_w)
		fprintf(out,
			"<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">"
			"no live memory</text>\n",
			c->width / 2, c->height - BOTTOM_PAD - FRAME_H);
	fputs("<g id=\"frames\">\n", out);
	for (i = 0; c->root_w && i < f->nnodes; i++) {
		if (!drawn(c, &f->nodes[i]))
			continue;
		print_frame(out, f, c, (uint32_t)i);
		sum->drawn++;
	}
	fputs("</g>\n", out);
	fputs(flame_script, out);
	fputs("</svg>\n", out);
}

static void print_html_head(FILE *out, const struct hs_flame *f,
			    const struct hs_flame_opts *o)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n<title>",
	      out);
	print_title(out, f, o);
	fputs("</title>\n<style>\n"
	      "body { margin: 8px; background: #fff; "
	      "font-family: Verdana, \"DejaVu Sans\", sans-serif; "
	      "font-size: 13px; }\n"
	      "#hs-bar { margin: 0 0 6px 10px; }\n"
	      "#hs-search { width: 24em; }\n"
	      "</style>\n</head>\n<body>\n"
	      "<div id=\"hs-bar\"><label>Search <input id=\"hs-search\" "
	      "type=\"search\" placeholder=\"function (regular expression)\">"
	      "</label> <button id=\"hs-reset\" type=\"button\">Reset"
	      "</button></div>\n",
	      out);
}

void hs_flame_render(FILE *out, const struct hs_flame *f,
		     const struct hs_flame_opts *o,
		     struct hs_flame_summary *sum)
{
	struct canvas c;

	memset(sum, 0, sizeof(*sum));
	canvas_init(&c, f, o);
	if (o->html)
		print_html_head(out, f, o);
	else
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" "
		      "standalone=\"no\"?>\n",
		      out);
	print_svg(out, f, o, &c, sum);
	if (o->html)
		fputs("</body>\n</html>\n", out);
	sum->nodes = f->nnodes;
	sum->depth = c.depth;
	sum->bytes[0] = f->nodes[0].bytes[0];
	sum->bytes[1] = f->nodes[0].bytes[1];
	sum->count[0] = f->nodes[0].count[0];
	sum->count[1] = f->nodes[0].count[1];
}
