/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The floor's BPF object, loaded to sit where heapsnap's programs would. */
#ifndef HEAPSNAP_FLOORBPF_H
#define HEAPSNAP_FLOORBPF_H

#include <stdbool.h>
#include <stddef.h>

#include "links.h"
#include "probes_attach.h"

struct floor_bpf;

struct hs_floor_config {
	enum hs_attach_mode mode;
	bool entry_only; /* no return probe anywhere */
	bool mmap; /* the mmap domain's probes in libc too */
};

/* NULL with err on failure. */
struct floor_bpf *hs_floor_load(const struct hs_floor_config *c, char *err,
				size_t errlen);
/* The programs at the probe points of a loaded floor. */
struct hs_probe_progs hs_floor_probe_progs(struct floor_bpf *skel,
					   const struct hs_floor_config *c);

#endif
