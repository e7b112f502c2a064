/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The output helpers render.c shares with render_stats.c. */
#ifndef HEAPSNAP_RENDER_PRIV_H
#define HEAPSNAP_RENDER_PRIV_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "aggregate.h"
#include "render.h"

#define SIZE_BUF 32

/* "file:line", "file:?", "module+0xOFF" or "<unknown>". */
void print_loc(FILE *out, const struct hs_frame_view *v);
/* "12.5 KiB (12800 B) in 100 blocks" */
void print_size_count(FILE *out, uint64_t size, uint64_t count);
/* "warning: ..." lines. */
void print_warnings(FILE *out, const struct hs_render_opts *o);

json_object *json_str_or_null(const char *s);
/* The fields of a frame that json_frame_of() gives; the others are null. */
#define HS_JF_FUNCTION 1
#define HS_JF_FILE 2
#define HS_JF_LINE 4
#define HS_JF_OFFSET 8 /* and whether it was inlined */
#define HS_JF_ALL 15
/* A frame as a JSON object; its module is always given. */
json_object *json_frame_of(const struct hs_snapshot *s, uint32_t idx,
			   unsigned int fields);
/* The frames as a JSON array of objects, most recent call first. */
json_object *json_frames(const struct hs_snapshot *s, const uint32_t *frames,
			 uint32_t n);
void json_add_u64(json_object *o, const char *k, uint64_t v);
json_object *json_warnings(const struct hs_render_opts *o);
/* Prints o on one line and puts it. */
void json_print(FILE *out, json_object *o);

#endif
