// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * info --plot: loads a recording's snapshots and prints their traced memory
 * over time, as a chart sized to the terminal or as JSON.
 */
#include <json-c/json.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_plot.h"
#include "plot.h"
#include "progress.h"
#include "series.h"

#define CHART_ROWS 10
#define DEFAULT_WIDTH 80
#define MAX_WIDTH 1000

static unsigned int terminal_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long v;

	if (env && *env) {
		v = strtol(env, &end, 10);
		if (!*end && v > 0)
			return v > MAX_WIDTH ? MAX_WIDTH : (unsigned int)v;
	}
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col > MAX_WIDTH ? MAX_WIDTH : ws.ws_col;
	return DEFAULT_WIDTH;
}

static bool utf8_locale(void)
{
	const char *codeset;

	if (!setlocale(LC_CTYPE, ""))
		return false;
	codeset = nl_langinfo(CODESET);
	return codeset && !strcmp(codeset, "UTF-8");
}

static void iso_time(char *buf, size_t len, uint64_t time_ns)
{
	time_t secs = (time_t)(time_ns / 1000000000u);
	struct tm tm;

	if (!time_ns || !gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "unknown");
}

static double seconds_since_first(const struct hs_series *s, size_t i)
{
	return (double)(s->entries[i].time_ns - s->entries[0].time_ns) / 1e9;
}

static uint64_t overall_peak(const struct hs_series *s)
{
	uint64_t peak = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].totals.peak > peak)
			peak = s->entries[i].totals.peak;
	return peak;
}

static bool estimated(const struct hs_series *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].estimated)
			return true;
	return false;
}

static void warn_skipped(const struct hs_series *s)
{
	char first[PATH_MAX], last[PATH_MAX];

	for (size_t i = 0; i < s->nskipped; i++) {
		const struct hs_series_skip *k = &s->skipped[i];

		hs_series_path(s, k->first_seq, first, sizeof(first));
		hs_series_path(s, k->last_seq, last, sizeof(last));
		if (k->first_seq == k->last_seq)
			fprintf(stderr,
				"heapsnap: warning: %s: %s; left out of the plot\n",
				first, k->reason);
		else
			fprintf(stderr,
				"heapsnap: warning: %s to %s: %s; left out of the plot\n",
				first, last, k->reason);
	}
}

static json_object *entry_json(const struct hs_series *s, size_t i)
{
	const struct hs_series_entry *e = &s->entries[i];
	json_object *o = json_object_new_object();
	char t[32], when[64];

	snprintf(t, sizeof(t), "%.3f", seconds_since_first(s, i));
	iso_time(when, sizeof(when), e->time_ns);
	json_object_object_add(o, "file", json_object_new_string(e->path));
	json_object_object_add(o, "seq", json_object_new_int64(e->seq));
	json_object_object_add(o, "time", json_object_new_double_s(atof(t), t));
	json_object_object_add(o, "timestamp", json_object_new_string(when));
	json_object_object_add(o, "current",
			       json_object_new_uint64(e->totals.current));
	json_object_object_add(o, "peak",
			       json_object_new_uint64(e->totals.peak));
	json_object_object_add(o, "interval_peak",
			       json_object_new_uint64(e->totals.interval_peak));
	json_object_object_add(o, "count",
			       json_object_new_uint64(e->totals.count));
	return o;
}

static json_object *skip_json(const struct hs_series *s,
			      const struct hs_series_skip *k)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX];

	hs_series_path(s, k->first_seq, path, sizeof(path));
	json_object_object_add(o, "file", json_object_new_string(path));
	if (k->last_seq != k->first_seq) {
		hs_series_path(s, k->last_seq, path, sizeof(path));
		json_object_object_add(o, "last", json_object_new_string(path));
	}
	json_object_object_add(o, "reason", json_object_new_string(k->reason));
	return o;
}

static void print_json(const struct hs_series *s)
{
	json_object *o = json_object_new_object();
	json_object *snaps = json_object_new_array();
	json_object *skipped = json_object_new_array();

	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(snaps, entry_json(s, i));
	for (size_t i = 0; i < s->nskipped; i++)
		json_object_array_add(skipped, skip_json(s, &s->skipped[i]));
	json_object_object_add(o, "file", json_object_new_string(s->base));
	json_object_object_add(o, "peak",
			       json_object_new_uint64(overall_peak(s)));
	json_object_object_add(o, "estimated",
			       json_object_new_boolean(estimated(s)));
	json_object_object_add(o, "snapshots", snaps);
	json_object_object_add(o, "skipped", skipped);
	hs_cli_print_json(o);
}

static int print_chart(const struct hs_series *s)
{
	struct hs_plot_opts o = {
		.width = terminal_width(),
		.height = CHART_ROWS,
		.unicode = utf8_locale(),
	};
	struct hs_plot_point *pts = calloc(s->n, sizeof(*pts));
	struct hs_plot plot;
	char when[64];

	if (!pts)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		pts[i].time = seconds_since_first(s, i);
		pts[i].current = s->entries[i].totals.current;
		pts[i].interval_peak = s->entries[i].totals.interval_peak;
	}
	if (hs_plot_draw(pts, s->n, overall_peak(s), &o, &plot)) {
		free(pts);
		return -1;
	}
	iso_time(when, sizeof(when), s->entries[0].time_ns);
	printf("Traced memory of %s from %s%s\n", s->base, when,
	       estimated(s) ? " (sampled: estimates)" : "");
	for (size_t i = 0; i < plot.nlines; i++)
		printf("%s\n", plot.lines[i]);
	hs_plot_free(&plot);
	free(pts);
	return 0;
}

int hs_info_plot(const char *path, bool json)
{
	struct hs_progress_line line;
	struct hs_progress progress;
	struct hs_series s;
	char err[1024];
	int rc;

	hs_progress_line_init(&line, stderr, isatty(STDERR_FILENO));
	progress = hs_progress_line_ops(&line);
	rc = hs_series_load(path, &s, &progress, err, sizeof(err));
	hs_progress_line_clear(&line);
	if (rc) {
		hs_cli_error(json, "%s", err);
		return 1;
	}
	if (json) {
		print_json(&s);
	} else {
		warn_skipped(&s);
		if (print_chart(&s)) {
			hs_series_free(&s);
			hs_cli_error(json, "out of memory");
			return 1;
		}
	}
	hs_series_free(&s);
	return hs_cli_finish_output(json);
}
