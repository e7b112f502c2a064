// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The live status line and the summaries record prints on stderr. */
#include <inttypes.h>
#include <stdio.h>

#include "clock.h"
#include "status.h"

static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", d, units[u]);
	return buf;
}

void hs_status_init(struct hs_status *st, bool tty)
{
	st->tty = tty;
	st->shown = false;
	st->last = 0;
}

void hs_status_update(struct hs_status *st, uint64_t current, uint64_t count,
		      uint64_t peak, uint64_t lost)
{
	char cur[32], pk[32];
	double t = hs_now_s();

	if (!st->tty || t - st->last < 1.0)
		return;
	st->last = t;
	fprintf(stderr, "\r\033[Kheapsnap: live %s in %" PRIu64
			" blocks, peak %s, lost %" PRIu64 "  (Ctrl-C to stop)",
		human(current, cur, sizeof(cur)), count,
		human(peak, pk, sizeof(pk)), lost);
	st->shown = true;
}

void hs_status_clear(struct hs_status *st)
{
	if (st->shown)
		fprintf(stderr, "\r\033[K");
	st->shown = false;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void warn_losses(const struct hs_lost *l)
{
	const struct {
		uint64_t n;
		const char *one, *many, *what;
	} w[] = {
		{ l->map_full, "block was", "blocks were",
		  "not recorded: the live map was full (raise --max-live)" },
		{ l->stack_failures, "traceback could", "tracebacks could",
		  "not be captured (raise --max-stacks if the stack map is full)" },
		{ l->stack_collisions, "traceback collided",
		  "tracebacks collided",
		  "with another in the stack map and may be wrong" },
		{ l->events, "kernel event was", "kernel events were",
		  "lost; some frames may not symbolize" },
		{ l->unknown_frees, "free was of a block",
		  "frees were of blocks",
		  "never seen allocated: allocations were missed" },
		{ l->in_flight, "block was freed", "blocks were freed",
		  "while the snapshot was read, and left out of it" },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (w[i].n)
			fprintf(stderr,
				"heapsnap: warning: %" PRIu64 " %s %s\n",
				w[i].n, plural(w[i].n, w[i].one, w[i].many),
				w[i].what);
}

void hs_status_wrote(struct hs_status *st, const struct hs_snapshot *s,
		     const char *path)
{
	char cur[32], pk[32];
	struct hs_counters c;
	struct hs_lost lost;

	(void)st;
	hs_snapshot_totals(s, &c);
	hs_snapshot_lost(s, &lost);
	fprintf(stderr,
		"heapsnap: wrote %s: %s live in %llu %s, peak %s, %llu %s, %llu %s\n",
		path, human(c.current, cur, sizeof(cur)), c.count,
		plural(c.count, "block", "blocks"),
		human(c.peak, pk, sizeof(pk)), c.allocs,
		plural(c.allocs, "allocation", "allocations"), c.frees,
		plural(c.frees, "free", "frees"));
	/* after an attach, no loss: the blocks came before the probes */
	if (lost.early_frees && !s->seq)
		fprintf(stderr,
			"heapsnap: %" PRIu64
			" %s allocated before tracing began (expected: tracing began after the process did)\n",
			lost.early_frees,
			plural(lost.early_frees, "free was of a block",
			       "frees were of blocks"));
	warn_losses(&lost);
	if (s->global.mmap_calls_unseen)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" mmap-domain calls were made outside the probed libc and not seen (--mmap-tracepoints sees them)\n",
			(uint64_t)s->global.mmap_calls_unseen);
}
