// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The screen of the live top: a header of counters and rates, then the top
 * sites with their size, count and change since the previous refresh, like
 * top(1). Every line is cut to the terminal's width.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "live_render.h"
#include "render.h"

#define SIZE_BUF 32
#define LINE_MAX_BYTES 4096

struct screen {
	FILE *out;
	const struct hs_live_view *v;
	unsigned int lines;
};

/* Prints one line cut to the screen's width; nothing past its height. */
static void put_line(struct screen *sc, const char *text, bool highlight)
{
	const struct hs_live_view *v = sc->v;
	size_t len = strlen(text);

	if (v->height && sc->lines >= v->height)
		return;
	if (v->width && len > v->width)
		len = v->width;
	if (v->ansi && highlight)
		fputs("\033[7m", sc->out);
	fwrite(text, 1, len, sc->out);
	if (v->ansi)
		fputs(highlight ? "\033[K\033[0m" : "\033[K", sc->out);
	/* the last line of the screen must not scroll it */
	if (!v->height || sc->lines + 1 < v->height)
		fputc('\n', sc->out);
	sc->lines++;
}

static void put_fmt(struct screen *sc, bool highlight, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_fmt(struct screen *sc, bool highlight, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put_line(sc, line, highlight);
}

static void fmt_uptime(char *buf, size_t len, double secs)
{
	unsigned long s = secs > 0 ? (unsigned long)secs : 0;

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

static void put_header(struct screen *sc)
{
	const struct hs_live_view *v = sc->v;
	char up[32], cur[SIZE_BUF], peak[SIZE_BUF], rate[SIZE_BUF],
		since[64] = "";

	fmt_uptime(up, sizeof(up), v->uptime);
	put_fmt(sc, false, "heapsnap top - %s  up %s  every %.1fs%s", v->target,
		up, v->delay, v->exited ? "  [exited]" : "");
	hs_format_size(cur, sizeof(cur), (double)v->current, false);
	hs_format_size(peak, sizeof(peak), (double)v->peak, false);
	if (v->peak_since >= 0) {
		char at[32];

		fmt_uptime(at, sizeof(at), v->peak_since);
		snprintf(since, sizeof(since), " (since %s)", at);
	}
	put_fmt(sc, false, "Live: %s in %" PRIu64 " %s   peak: %s%s", cur,
		v->count, v->count == 1 ? "block" : "blocks", peak, since);
	hs_format_size(rate, sizeof(rate), v->bytes_per_s, false);
	if (v->lost)
		put_fmt(sc, false,
			"Allocs: %.0f/s (%s/s)   frees: %.0f/s   lost: %" PRIu64,
			v->allocs_per_s, rate, v->frees_per_s, v->lost);
	else
		put_fmt(sc, false,
			"Allocs: %.0f/s (%s/s)   frees: %.0f/s   lost: none",
			v->allocs_per_s, rate, v->frees_per_s);
	if (v->st->sample_bytes)
		put_fmt(sc, false,
			"By %s%s   estimates: one block sampled per %" PRIu64
			" bytes",
			hs_key_name(v->st->key),
			v->st->cumulative ? ", cumulative" : "",
			v->st->sample_bytes);
	else
		put_fmt(sc, false, "By %s%s", hs_key_name(v->st->key),
			v->st->cumulative ? ", cumulative" : "");
	put_line(sc, "", false);
	put_fmt(sc, true, "%10s %9s %11s  %s", "SIZE", "COUNT", "CHANGE",
		"SITE");
}

/* The row's key, and for a traceback the functions that called it. */
static void format_site(char *buf, size_t len, const struct hs_stats *st,
			const struct hs_stat *row)
{
	FILE *f = fmemopen(buf, len, "w");
	uint32_t i;

	if (!f) {
		snprintf(buf, len, "?");
		return;
	}
	hs_render_label(f, st->key, row);
	for (i = 1; st->key == HS_KEY_TRACEBACK && i < row->nframes; i++) {
		const char *fn = NULL;

		if (row->frames[i] < row->snap->nframes)
			fn = hs_snapshot_str(
				row->snap,
				row->snap->frames[row->frames[i]].function);
		fprintf(f, " < %s", fn ? fn : "?");
	}
	fclose(f);
}

static void put_row(struct screen *sc, const struct hs_stat *row)
{
	char size[SIZE_BUF], change[SIZE_BUF] = "", site[LINE_MAX_BYTES / 2];

	hs_format_size(size, sizeof(size), (double)row->size, false);
	if (row->size_diff)
		hs_format_size(change, sizeof(change), (double)row->size_diff,
			       true);
	format_site(site, sizeof(site), sc->v->st, row);
	put_fmt(sc, false, "%10s %9" PRIu64 " %11s  %s", size, row->count,
		change, site);
}

static size_t rows_that_fit(const struct hs_live_view *v)
{
	size_t n = v->st->nrows;

	if (v->height)
		n = v->height > HS_LIVE_CHROME ? v->height - HS_LIVE_CHROME : 0;
	if (v->limit && v->limit < n)
		n = v->limit;
	return n < v->st->nrows ? n : v->st->nrows;
}

void hs_live_render(FILE *out, const struct hs_live_view *v)
{
	struct screen sc = { .out = out, .v = v };
	const struct hs_stats *st = v->st;
	size_t i, shown = rows_that_fit(v);
	char total[SIZE_BUF], change[SIZE_BUF] = "", more[64] = "";

	put_header(&sc);
	for (i = 0; i < shown; i++)
		put_row(&sc, &st->rows[i]);
	hs_format_size(total, sizeof(total), (double)st->total_size, false);
	if (st->total_size_diff)
		hs_format_size(change, sizeof(change),
			       (double)st->total_size_diff, true);
	if (shown < st->nrows)
		snprintf(more, sizeof(more), "  (%zu more %s)",
			 st->nrows - shown,
			 st->nrows - shown == 1 ? "row" : "rows");
	put_fmt(&sc, false, "%10s %9" PRIu64 " %11s  Total%s", total,
		st->total_count, change, more);
	while (v->height && sc.lines + 1 < v->height)
		put_line(&sc, "", false);
	put_fmt(&sc, false,
		"q quit  s snapshot  c cumulative  k key  r reset peak%s%s",
		v->message ? "   " : "", v->message ? v->message : "");
	if (v->ansi)
		fputs("\033[J", out);
}
