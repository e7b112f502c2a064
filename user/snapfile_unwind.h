/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The unwind sections of a snapshot's payload (snapfile_payload.c), from
 * version 2 on:
 *
 *  10 unwind        a table (u32 count, u32 record size, records): a
 *                   module as the unwinder saw it: u32 path (a string, or
 *                   0xffffffff: code in no file), u32 note (a string or
 *                   0xffffffff), u8 table (enum hs_unwind_table), u64 rows,
 *                   u64 bytes, then for each reason enum hs_unwind_stop
 *                   from 1 on, in order: u64 stacks, u64 blocks. Later
 *                   reasons lengthen the record; readers take the reasons
 *                   it holds.
 *  11 unwind_stats  the u64s of struct hs_unwind_stats in their order:
 *                   modules, rows, max_rows, rules, bytes, events_lost,
 *                   mode.
 */
#ifndef HEAPSNAP_SNAPFILE_UNWIND_H
#define HEAPSNAP_SNAPFILE_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define HS_SEC_UNWIND 10
#define HS_SEC_UNWIND_STATS 11

/* Bytes of both sections, with their section headers. */
uint64_t hs_unwind_sections_len(const struct hs_snapshot *s);
/* Writes both sections at p; returns where they end. */
uint8_t *hs_unwind_sections_put(uint8_t *p, const struct hs_snapshot *s);
/* Reads section tag's body into s: 0, or -1 with the reason in msg. */
int hs_unwind_section_parse(struct hs_snapshot *s, uint32_t tag,
			    const uint8_t *p, uint64_t len, char *msg,
			    size_t msglen);
/* Are the entries' strings and tables in range? 0, or -1 with msg. */
int hs_unwind_check(const struct hs_snapshot *s, char *msg, size_t msglen);

#endif
