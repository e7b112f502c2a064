// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A progress line on a terminal, redrawn in place and erased when done. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "progress.h"

/* 1234567 -> "1,234,567" */
static void group_digits(char *buf, size_t len, size_t v)
{
	char digits[32], grouped[48];
	int n = snprintf(digits, sizeof(digits), "%zu", v);
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			grouped[o++] = ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = '\0';
	snprintf(buf, len, "%s", grouped);
}

void hs_progress_format(char *buf, size_t len, const char *verb,
			const char *noun, size_t done, size_t total)
{
	char d[48], t[48];
	unsigned int pct;

	group_digits(d, sizeof(d), done);
	group_digits(t, sizeof(t), total);
	if (total) {
		pct = done >= total ? 100 :
				      (unsigned int)(100.0 * done / total);
		snprintf(buf, len, "%s %s/%s %s (%u%%)", verb, d, t, noun, pct);
	} else if (done) {
		snprintf(buf, len, "%s %s %s", verb, d, noun);
	} else {
		snprintf(buf, len, "%s %s", verb, noun);
	}
}

void hs_progress_line_init(struct hs_progress_line *pl, FILE *out, bool on)
{
	memset(pl, 0, sizeof(*pl));
	pl->out = out;
	pl->on = on;
	pl->start = hs_now_s();
}

void hs_progress_line_update(struct hs_progress_line *pl, double now,
			     const char *verb, const char *noun, size_t done,
			     size_t total)
{
	bool same = !strncmp(pl->verb, verb, sizeof(pl->verb) - 1);
	char text[160];

	if (!pl->on || now - pl->start < HS_PROGRESS_REDRAW)
		return;
	if (pl->shown && same && now - pl->last < HS_PROGRESS_REDRAW)
		return;
	hs_progress_format(text, sizeof(text), verb, noun, done, total);
	fprintf(pl->out, "\r\033[Kheapsnap: %s", text);
	fflush(pl->out);
	pl->shown = true;
	pl->last = now;
	snprintf(pl->verb, sizeof(pl->verb), "%s", verb);
}

static void line_report(void *ctx, const char *verb, const char *noun,
			size_t done, size_t total)
{
	hs_progress_line_update(ctx, hs_now_s(), verb, noun, done, total);
}

struct hs_progress hs_progress_line_ops(struct hs_progress_line *pl)
{
	struct hs_progress p = { .report = line_report, .ctx = pl };

	return p;
}

void hs_progress_line_clear(struct hs_progress_line *pl)
{
	if (!pl->shown)
		return;
	fputs("\r\033[K", pl->out);
	fflush(pl->out);
	pl->shown = false;
	pl->verb[0] = '\0';
}
