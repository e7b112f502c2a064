/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* info's unwinding lines, in text and JSON (render.c calls them). */
#ifndef HEAPSNAP_RENDER_UNWIND_H
#define HEAPSNAP_RENDER_UNWIND_H

#include <json-c/json.h>
#include <stdio.h>

#include "snapshot.h"

/* "unwinding: 99.95% of live blocks reach the bottom ..." and details. */
void hs_render_unwind_text(FILE *out, const struct hs_snapshot *s);
/* The same as info --json's "unwind" object. */
json_object *hs_render_unwind_json(const struct hs_snapshot *s);

#endif
