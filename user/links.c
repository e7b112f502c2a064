// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Uprobe links: libbpf's where it has an API, a raw BPF_LINK_CREATE where not. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "grow.h"
#include "links.h"

/* Newer than the UAPI headers Debian 12 ships. */
#define HS_BPF_TRACE_UPROBE_MULTI 48
#define HS_BPF_TRACE_UPROBE_SESSION 57

/* A link libbpf made, or the fd of a raw one. */
struct hs_link {
	struct bpf_link *lib;
	int fd;
};

struct hs_links {
	struct hs_link *v;
	size_t n, cap;
};

enum hs_attach_mode hs_links_mode(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return HS_ATTACH_CLASSIC;
	id = btf__find_by_name_kind(btf, "bpf_session_is_return",
				    BTF_KIND_FUNC);
	btf__free(btf);
	return id > 0 ? HS_ATTACH_SESSION : HS_ATTACH_CLASSIC;
}

const char *hs_attach_mode_name(enum hs_attach_mode mode)
{
	return mode == HS_ATTACH_SESSION ? "uprobe sessions (uprobe_multi)" :
					   "classic uprobes and uretprobes";
}

void hs_links_prepare(struct bpf_program *prog, enum hs_attach_mode mode)
{
	if (mode == HS_ATTACH_SESSION)
		bpf_program__set_expected_attach_type(
			prog,
			(enum bpf_attach_type)HS_BPF_TRACE_UPROBE_SESSION);
}

void hs_links_refuse_sessions(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(
		prog, (enum bpf_attach_type)HS_BPF_TRACE_UPROBE_MULTI);
}

struct hs_links *hs_links_new(void)
{
	return calloc(1, sizeof(struct hs_links));
}

static void destroy(const struct hs_link *k)
{
	if (k->lib)
		bpf_link__destroy(k->lib);
	else
		close(k->fd);
}

static int keep(struct hs_links *l, struct hs_link k)
{
	if (hs_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v))) {
		destroy(&k);
		return -ENOMEM;
	}
	l->v[l->n++] = k;
	return 0;
}

int hs_links_uprobe(struct hs_links *l, const struct bpf_program *prog,
		    bool ret, pid_t pid, const struct hs_link_points *pts)
{
	for (size_t i = 0; i < pts->n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret,
			    .bpf_cookie = pts->cookies[i]);
		struct hs_link k = { .fd = -1 };
		int err;

		k.lib = bpf_program__attach_uprobe_opts(
			(struct bpf_program *)prog, pid > 0 ? pid : -1,
			pts->path, (size_t)pts->offsets[i], &opts);
		if (!k.lib)
			return -errno;
		err = keep(l, k);
		if (err)
			return err;
	}
	return 0;
}

/* BPF_LINK_CREATE's uprobe_multi attributes, as in the kernel's UAPI. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

int hs_links_session(struct hs_links *l, const struct bpf_program *prog,
		     pid_t pid, const struct hs_link_points *pts)
{
	struct uprobe_multi_attr attr;
	struct hs_link k = { NULL, -1 };

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)bpf_program__fd(prog);
	attr.attach_type = HS_BPF_TRACE_UPROBE_SESSION;
	attr.path = (__u64)(unsigned long)pts->path;
	attr.offsets = (__u64)(unsigned long)pts->offsets;
	attr.cookies = (__u64)(unsigned long)pts->cookies;
	attr.cnt = (__u32)pts->n;
	attr.pid = pid > 0 ? (__u32)pid : 0; /* 0: every process */
	k.fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (k.fd < 0)
		return -errno;
	return keep(l, k);
}

void hs_links_free(struct hs_links *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		destroy(&l->v[i]);
	free(l->v);
	free(l);
}
