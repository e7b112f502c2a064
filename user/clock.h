/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The clocks: monotonic for intervals, real time for what is shown. */
#ifndef HEAPSNAP_CLOCK_H
#define HEAPSNAP_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC, in seconds. */
double hs_now_s(void);

/* CLOCK_REALTIME, in whole seconds since the epoch. */
uint64_t hs_wall_s(void);

/* The CLOCK_REALTIME time of a CLOCK_MONOTONIC time in nanoseconds. */
uint64_t hs_mono_to_wall_ns(uint64_t mono_ns);

#endif
