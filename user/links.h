/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Uprobe links, and the kernel's interface behind them: its attach types,
 * whether it has uprobe sessions, and the uprobe_multi attributes of a raw
 * BPF_LINK_CREATE where libbpf 1.1 has no API. Links that libbpf makes and
 * raw ones are held in one set and destroyed together.
 */
#ifndef HEAPSNAP_LINKS_H
#define HEAPSNAP_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;

/* How a program attaches to functions: decided once, before it loads. */
enum hs_attach_mode {
	HS_ATTACH_SESSION, /* uprobe_multi sessions: entry decides on return */
	HS_ATTACH_CLASSIC, /* one uprobe and one uretprobe per point */
};

/* Sessions where the kernel has their kfuncs. */
enum hs_attach_mode hs_links_mode(void);
const char *hs_attach_mode_name(enum hs_attach_mode mode);

/* Before load: prog is to attach in mode. */
void hs_links_prepare(struct bpf_program *prog, enum hs_attach_mode mode);
/*
 * Before load, instead: prog loads as a plain uprobe_multi program, which
 * the kernel does not let call the session kfuncs; its load then fails as
 * on a kernel that refuses them.
 */
void hs_links_refuse_sessions(struct bpf_program *prog);

/* Points of one file: file offsets, and the cookie each hit passes. */
struct hs_link_points {
	const char *path;
	const uint64_t *offsets;
	const uint64_t *cookies;
	size_t n;
};

struct hs_links;

struct hs_links *hs_links_new(void);
/* One session link for every point; pid 0 attaches for every process. */
int hs_links_session(struct hs_links *l, const struct bpf_program *prog,
		     pid_t pid, const struct hs_link_points *pts);
/* A uprobe, or with ret a uretprobe, at each point; pid 0: every process. */
int hs_links_uprobe(struct hs_links *l, const struct bpf_program *prog,
		    bool ret, pid_t pid, const struct hs_link_points *pts);
void hs_links_free(struct hs_links *l);

#endif
