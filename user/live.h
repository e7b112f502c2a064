/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* top -p PID: the live view of running processes. */
#ifndef HEAPSNAP_LIVE_H
#define HEAPSNAP_LIVE_H

#include "cli.h"

/*
 * Runs until q, SIGINT or SIGTERM, or the targets exit, with top's options
 * (-p, -d, -o, the view and the filters); returns the exit status.
 */
int hs_live_top(const struct hs_cli_args *a);

#endif
