// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The chart of traced memory over time that info --plot draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "plot.h"
#include "render.h"

#define LABEL_LEN 40

struct glyphs {
	unsigned int sub; /* levels in a row */
	const char *const *fill; /* [k]: a cell with k levels of current */
	const char *const *mark; /* [k]: the interval peak at level k */
	const char *axis, *axis_label, *corner, *rule, *tick;
};

static const char *const unicode_fill[] = { NULL, "▁", "▂", "▃", "▄",
					    "▅",  "▆", "▇", "█" };
static const char *const unicode_mark[] = { NULL, "⣀", "⣀", "⠤", "⠤",
					    "⠒",  "⠒", "⠉", "⠉" };
static const char *const ascii_fill[] = { NULL, ".", "#" };
static const char *const ascii_mark[] = { NULL, "_", "-" };

static const struct glyphs unicode_glyphs = {
	8, unicode_fill, unicode_mark, "│", "┤", "└", "─", "┴",
};
static const struct glyphs ascii_glyphs = {
	2, ascii_fill, ascii_mark, "|", "+", "+", "-", "+",
};

/* What one column of the plot area shows. */
struct column {
	bool has;
	bool tick; /* a snapshot was taken here */
	double current, interval_peak;
};

struct layout {
	const struct glyphs *g;
	unsigned int width, height; /* of the plot area */
	int label_width;
	double top; /* the value at the top of the plot area */
	char top_label[LABEL_LEN], mid_label[LABEL_LEN];
};

void hs_plot_format_time(char *buf, size_t len, double seconds)
{
	if (seconds == 0)
		snprintf(buf, len, "0 s");
	else if (seconds < 100)
		snprintf(buf, len, "%.1f s", seconds);
	else if (seconds < 3600)
		snprintf(buf, len, "%.1f min", seconds / 60);
	else
		snprintf(buf, len, "%.1f h", seconds / 3600);
}

static unsigned int column_of(const struct hs_plot_point *pts, size_t n,
			      size_t i, unsigned int width)
{
	double span = pts[n - 1].time - pts[0].time, x;

	if (!(span > 0))
		return 0;
	x = round((pts[i].time - pts[0].time) / span * (width - 1));
	if (!(x > 0))
		return 0;
	return x >= width - 1 ? width - 1 : (unsigned int)x;
}

static void fill_columns(const struct hs_plot_point *pts, size_t n,
			 struct column *cols, unsigned int width)
{
	for (size_t i = 0; i < n; i++) {
		struct column *c = &cols[column_of(pts, n, i, width)];

		/* snapshots closer than a column share it: its largest values */
		if (!c->has || pts[i].current > c->current)
			c->current = (double)pts[i].current;
		if (!c->has || pts[i].interval_peak > c->interval_peak)
			c->interval_peak = (double)pts[i].interval_peak;
		c->has = c->tick = true;
	}
	/*
	 * Between two snapshots current is drawn as a straight line; the
	 * interval peak is the most that was traced at some moment of the
	 * interval, so it covers all of it.
	 */
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned int a = column_of(pts, n, i, width);
		unsigned int b = column_of(pts, n, i + 1, width);
		double from = (double)pts[i].current;
		double to = (double)pts[i + 1].current;

		for (unsigned int x = a + 1; x < b; x++) {
			cols[x].current =
				from + (to - from) * (x - a) / (b - a);
			cols[x].interval_peak =
				(double)pts[i + 1].interval_peak;
			cols[x].has = true;
		}
	}
}

/* How many levels of the plot area's height v reaches; at least 1 if v > 0. */
static unsigned int level(double v, const struct layout *l)
{
	unsigned int levels = l->height * l->g->sub;
	double x;

	if (!(v > 0) || !(l->top > 0))
		return 0;
	x = round(v / l->top * levels);
	if (x < 1)
		return 1;
	return x > levels ? levels : (unsigned int)x;
}

static const char *cell(const struct layout *l, const struct column *c,
			unsigned int row_from_bottom)
{
	unsigned int lo = row_from_bottom * l->g->sub, hi = lo + l->g->sub;
	unsigned int cur, ipk;

	if (!c->has)
		return " ";
	cur = level(c->current, l);
	ipk = level(c->interval_peak, l);
	if (cur >= hi)
		return l->g->fill[l->g->sub];
	if (cur > lo)
		return l->g->fill[cur - lo];
	if (ipk > lo && ipk <= hi)
		return l->g->mark[ipk - lo];
	return " ";
}

/* Ends the line being written to f and stores it, right-trimmed. */
static int end_line(FILE *f, char **text, struct hs_plot *out)
{
	size_t len;

	if (fclose(f))
		return -1;
	len = strlen(*text);
	while (len && (*text)[len - 1] == ' ')
		(*text)[--len] = '\0';
	if (hs_grow(&out->lines, &out->lines_cap, out->nlines + 1,
		    sizeof(*out->lines))) {
		free(*text);
		return -1;
	}
	out->lines[out->nlines++] = *text;
	return 0;
}

static FILE *new_line(char **text, size_t *size)
{
	*text = NULL;
	return open_memstream(text, size);
}

static int draw_rows(const struct layout *l, const struct column *cols,
		     struct hs_plot *out)
{
	for (unsigned int r = 0; r < l->height; r++) {
		const char *label = "";
		size_t size;
		char *text;
		FILE *f = new_line(&text, &size);

		if (!f)
			return -1;
		if (l->top > 0 && r == 0)
			label = l->top_label;
		else if (l->top > 0 && l->height > 1 && r == l->height / 2)
			label = l->mid_label;
		fprintf(f, "%*s %s", l->label_width, label,
			*label ? l->g->axis_label : l->g->axis);
		for (unsigned int x = 0; x < l->width; x++)
			fputs(cell(l, &cols[x], l->height - 1 - r), f);
		if (end_line(f, &text, out))
			return -1;
	}
	return 0;
}

static int draw_axis(const struct layout *l, const struct column *cols,
		     double span, struct hs_plot *out)
{
	char first[LABEL_LEN], last[LABEL_LEN], *text;
	size_t size;
	int gap;
	FILE *f = new_line(&text, &size);

	if (!f)
		return -1;
	fprintf(f, "%*s %s", l->label_width, "0 B", l->g->corner);
	for (unsigned int x = 0; x < l->width; x++)
		fputs(cols[x].tick ? l->g->tick : l->g->rule, f);
	if (end_line(f, &text, out))
		return -1;
	f = new_line(&text, &size);
	if (!f)
		return -1;
	hs_plot_format_time(first, sizeof(first), 0);
	hs_plot_format_time(last, sizeof(last), span);
	fprintf(f, "%*s%s", l->label_width + 2, "", first);
	gap = (int)l->width - (int)strlen(first) - (int)strlen(last);
	if (span > 0 && gap > 0)
		fprintf(f, "%*s%s", gap, "", last);
	return end_line(f, &text, out);
}

static int draw_legend(const struct layout *l, const struct hs_plot_point *pts,
		       size_t n, uint64_t peak, struct hs_plot *out)
{
	char b[LABEL_LEN * 2], lo[LABEL_LEN * 2], hi[LABEL_LEN * 2];
	char first[LABEL_LEN], last[LABEL_LEN], *text;
	uint64_t min = pts[0].current, max = pts[0].current;
	size_t size;
	FILE *f = new_line(&text, &size);

	if (!f)
		return -1;
	hs_format_bytes(b, sizeof(b), peak);
	fprintf(f, "%*s%s current  %s interval peak  peak %s",
		l->label_width + 2, "", l->g->fill[l->g->sub],
		l->g->mark[l->g->sub], b);
	if (end_line(f, &text, out))
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (pts[i].current < min)
			min = pts[i].current;
		if (pts[i].current > max)
			max = pts[i].current;
	}
	hs_format_bytes(lo, sizeof(lo), min);
	hs_format_bytes(hi, sizeof(hi), max);
	hs_plot_format_time(first, sizeof(first), 0);
	hs_plot_format_time(last, sizeof(last), pts[n - 1].time - pts[0].time);
	f = new_line(&text, &size);
	if (!f)
		return -1;
	fprintf(f, "%zu snapshot%s, %s to %s; current min %s, max %s", n,
		n == 1 ? "" : "s", first, last, lo, hi);
	return end_line(f, &text, out);
}

static void set_layout(struct layout *l, const struct hs_plot_point *pts,
		       size_t n, uint64_t peak, const struct hs_plot_opts *o)
{
	unsigned int mid;
	int w;

	l->g = o->unicode ? &unicode_glyphs : &ascii_glyphs;
	l->height = o->height ? o->height : 1;
	l->top = (double)peak;
	for (size_t i = 0; i < n; i++) {
		if ((double)pts[i].current > l->top)
			l->top = (double)pts[i].current;
		if ((double)pts[i].interval_peak > l->top)
			l->top = (double)pts[i].interval_peak;
	}
	/* each labelled row is labelled with the value at its top */
	mid = l->height / 2;
	hs_format_size(l->top_label, sizeof(l->top_label), l->top, false);
	hs_format_size(l->mid_label, sizeof(l->mid_label),
		       l->top * (l->height - mid) / l->height, false);
	l->label_width = (int)strlen("0 B");
	if (l->top > 0) {
		if ((int)strlen(l->top_label) > l->label_width)
			l->label_width = (int)strlen(l->top_label);
		if ((int)strlen(l->mid_label) > l->label_width)
			l->label_width = (int)strlen(l->mid_label);
	}
	w = (int)o->width - l->label_width - 2;
	l->width =
		w < HS_PLOT_MIN_COLUMNS ? HS_PLOT_MIN_COLUMNS : (unsigned int)w;
}

int hs_plot_draw(const struct hs_plot_point *pts, size_t n, uint64_t peak,
		 const struct hs_plot_opts *o, struct hs_plot *out)
{
	struct column *cols;
	struct layout l;
	int err;

	memset(out, 0, sizeof(*out));
	if (!n)
		return -1;
	memset(&l, 0, sizeof(l));
	set_layout(&l, pts, n, peak, o);
	cols = calloc(l.width, sizeof(*cols));
	if (!cols)
		return -1;
	fill_columns(pts, n, cols, l.width);
	err = draw_rows(&l, cols, out);
	if (!err)
		err = draw_axis(&l, cols, pts[n - 1].time - pts[0].time, out);
	if (!err)
		err = draw_legend(&l, pts, n, peak, out);
	free(cols);
	if (err)
		hs_plot_free(out);
	return err;
}

void hs_plot_free(struct hs_plot *p)
{
	for (size_t i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	free(p->lines);
	p->lines = NULL;
	p->nlines = 0;
	p->lines_cap = 0;
}
