/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* What record tells the user while it runs and when it ends. */
#ifndef HEAPSNAP_STATUS_H
#define HEAPSNAP_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

struct hs_status {
	bool tty; /* a live status line is shown only on a terminal */
	bool shown;
	double last;
};

void hs_status_init(struct hs_status *st, bool tty);
/* Redraws the status line, at most once a second. */
void hs_status_update(struct hs_status *st, uint64_t current, uint64_t count,
		      uint64_t peak, uint64_t lost);
void hs_status_clear(struct hs_status *st);
/* Reports a snapshot written to path, with its losses. */
void hs_status_wrote(struct hs_status *st, const struct hs_snapshot *s,
		     const char *path);

#endif
