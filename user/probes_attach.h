/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Attaching a probe set: its points, file by file, to the programs given. */
#ifndef HEAPSNAP_PROBES_ATTACH_H
#define HEAPSNAP_PROBES_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

#include "links.h"
#include "probes.h"

struct bpf_program;

/* The programs that run at the points, loaded for mode. */
struct hs_probe_progs {
	enum hs_attach_mode mode;
	struct bpf_program *entry; /* sessions: at the entry and the return */
	struct bpf_program *ret; /* classic: at the returns; NULL: none */
};

/*
 * Attaches every point of set for pid (0: every process); NULL and err on
 * failure. hs_links_free() detaches.
 */
struct hs_links *hs_probes_attach(const struct hs_probe_progs *pp,
				  const struct hs_probe_set *set, pid_t pid,
				  char *err, size_t errlen);
/* The points of one file of set only. */
struct hs_links *hs_probes_attach_file(const struct hs_probe_progs *pp,
				       const struct hs_probe_set *set,
				       dev_t dev, ino_t ino, pid_t pid,
				       char *err, size_t errlen);

#endif
