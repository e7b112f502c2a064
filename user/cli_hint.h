/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Why a query kept nothing of snapshots that hold traces: the filter that
 * matched nothing, said in one line ("no process matched --comm 'x*'").
 */
#ifndef HEAPSNAP_CLI_HINT_H
#define HEAPSNAP_CLI_HINT_H

#include <stdbool.h>
#include <stddef.h>

#include "query.h"
#include "snapshot.h"

/*
 * Writes the hint for query q over the n snapshots s into buf; false when
 * there is none: some trace was kept, the snapshots hold none, or only
 * the filters together leave nothing.
 */
bool hs_cli_empty_hint(const struct hs_query *q,
		       const struct hs_snapshot *const *s, size_t n, char *buf,
		       size_t len);

#endif
