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

static void warn_losses(const struct hs_lost *l)
{
	if (l->map_full)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" blocks were not recorded: the live map was full (raise --max-live)\n",
			l->map_full);
	if (l->stack_failures)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" tracebacks could not be captured (raise --max-stacks if the stack map is full)\n",
			l->stack_failures);
	if (l->stack_collisions)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" tracebacks collided with another in the stack map and may be wrong\n",
			l->stack_collisions);
	if (l->events)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" kernel events were lost; some frames may not symbolize\n",
			l->events);
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
		"heapsnap: wrote %s: %s live in %llu blocks, peak %s, %llu allocations, %llu frees\n",
		path, human(c.current, cur, sizeof(cur)), c.count,
		human(c.peak, pk, sizeof(pk)), c.allocs, c.frees);
	if (lost.unknown_frees && !s->seq)
		fprintf(stderr,
			"heapsnap: %" PRIu64
			" frees were of blocks allocated before tracing began (unknown_frees)\n",
			lost.unknown_frees);
	warn_losses(&lost);
	if (s->global.mmap_calls_unseen)
		fprintf(stderr,
			"heapsnap: warning: %" PRIu64
			" mmap-domain calls were made outside the probed libc and not seen (--mmap-tracepoints sees them)\n",
			(uint64_t)s->global.mmap_calls_unseen);
}
