// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Flame graphs drawn as flamegraph.pl draws them: the root at the bottom,
 * each frame as wide as its bytes. In a diff, a frame's colour says how
 * much it grew (red) or shrank (blue). A self-contained SVG, or an HTML page
 * around it, with a small script: hover for details, click to zoom, search.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"
#include "flamegraph_tree.h"
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
			n->count[1], hs_plural(n->count[1], "block", "blocks"));
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
			hs_plural(root->count[1], "block", "blocks"));
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
