// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The floor's BPF object: its programs for an attach mode, and its load. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "floorbpf.h"

struct floor_bpf *hs_floor_load(const struct hs_floor_config *c, char *err,
				size_t errlen)
{
	struct floor_bpf *skel = floor_bpf__open();
	int e;

	if (!skel) {
		snprintf(err, errlen, "cannot open the floor object: %s",
			 strerror(errno));
		return NULL;
	}
	skel->rodata->entry_only = c->entry_only;
	hs_links_prepare(skel->progs.hs_floor, c->mode);
	e = floor_bpf__load(skel);
	if (e) {
		snprintf(err, errlen, "cannot load the floor programs: %s",
			 strerror(-e));
		floor_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct hs_probe_progs hs_floor_probe_progs(struct floor_bpf *skel,
					   const struct hs_floor_config *c)
{
	struct hs_probe_progs pp = { c->mode, skel->progs.hs_floor,
				     skel->progs.hs_floor };

	if (c->mode == HS_ATTACH_SESSION || c->entry_only)
		pp.ret = NULL;
	return pp;
}
